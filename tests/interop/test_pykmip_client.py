"""PyKMIP's client (``kmip.pie.client.ProxyKmipClient``) against keyshelf-server.

PyKMIP is an implementation nobody here wrote: its requests are encoded by its own codec,
so these tests prove keyshelf-server understands a third-party client at KMIP 1.2, 1.4 and
2.0 over mutual TLS. Modify/Delete Attribute are sent at 2.0 only: PyKMIP's client builds
those payloads in their 2.0 form (Current/New Attribute) whatever version it is set to.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conformance.live import LiveServer, live_server

pytestmark = pytest.mark.interop

kmip_enums = pytest.importorskip("kmip.core.enums", reason="PyKMIP (PyPI pykmip) is not installed")
from kmip.core import attributes as cattributes  # noqa: E402
from kmip.core import enums  # noqa: E402
from kmip.core import objects as cobjects  # noqa: E402
from kmip.core import primitives as cprimitives  # noqa: E402
from kmip.core.factories import attributes as attribute_factories  # noqa: E402
from kmip.pie import exceptions as pie_exceptions  # noqa: E402
from kmip.pie import objects  # noqa: E402
from kmip.pie.client import ProxyKmipClient  # noqa: E402

VERSIONS = {
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "1.4": enums.KMIPVersion.KMIP_1_4,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}
FACTORY = attribute_factories.AttributeFactory()


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


@pytest.fixture(params=sorted(VERSIONS))
def client(request: pytest.FixtureRequest, server: LiveServer) -> Iterator[ProxyKmipClient]:
    version = VERSIONS[request.param]
    pie = ProxyKmipClient(
        hostname="127.0.0.1",
        port=server.port,
        cert=str(server.datadir / "client-a.crt"),
        key=str(server.datadir / "client-a.key"),
        ca=str(server.datadir / "ca.crt"),
        config_file=os.devnull,
        kmip_version=version,
    )
    pie.open()
    try:
        yield pie
    finally:
        pie.close()


def _unique(label: str) -> str:
    return f"interop-{label}-{os.urandom(4).hex()}"


def test_create_get_and_attributes(client: ProxyKmipClient) -> None:
    name = _unique("create")
    uid = client.create(enums.CryptographicAlgorithm.AES, 256, name=name)
    assert isinstance(uid, str) and uid
    key = client.get(uid)
    assert isinstance(key, objects.SymmetricKey)
    assert key.cryptographic_algorithm == enums.CryptographicAlgorithm.AES
    assert key.cryptographic_length == 256
    assert len(key.value) == 32

    got_uid, attrs = client.get_attributes(uid, ["Cryptographic Algorithm", "Cryptographic Length", "State"])
    assert got_uid == uid
    values = {a.attribute_name.value: a.attribute_value.value for a in attrs}
    assert values["Cryptographic Algorithm"] == enums.CryptographicAlgorithm.AES
    assert values["Cryptographic Length"] == 256
    assert values["State"] == enums.State.PRE_ACTIVE

    names = client.get_attribute_list(uid)
    assert {"Cryptographic Algorithm", "Cryptographic Length", "State", "Name"} <= set(names)


def test_register_key_and_secret(client: ProxyKmipClient) -> None:
    material = os.urandom(16)
    key = objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 128, material, name=_unique("reg-key"))
    key_uid = client.register(key)
    fetched = client.get(key_uid)
    assert fetched.value == material

    secret_value = os.urandom(24)
    secret = objects.SecretData(secret_value, enums.SecretDataType.PASSWORD, name=_unique("reg-secret"))
    secret_uid = client.register(secret)
    assert secret_uid != key_uid
    fetched_secret = client.get(secret_uid)
    assert isinstance(fetched_secret, objects.SecretData)
    assert fetched_secret.value == secret_value
    assert fetched_secret.data_type == enums.SecretDataType.PASSWORD


def test_locate_by_name_type_and_asi(client: ProxyKmipClient) -> None:
    name = _unique("locate")
    uid = client.create(enums.CryptographicAlgorithm.AES, 256, name=name)
    by_name = client.locate(attributes=[FACTORY.create_attribute(enums.AttributeType.NAME, name)])
    assert by_name == [uid]

    by_type = client.locate(
        attributes=[FACTORY.create_attribute(enums.AttributeType.OBJECT_TYPE, enums.ObjectType.SYMMETRIC_KEY)]
    )
    assert uid in by_type

    data = os.urandom(44).hex().upper()
    asi = FACTORY.create_attribute(
        enums.AttributeType.APPLICATION_SPECIFIC_INFORMATION,
        {"application_namespace": "LIBRARY-LTO", "application_data": data},
    )
    asi_uid = _create_with(client, [asi, FACTORY.create_attribute(enums.AttributeType.NAME, _unique("asi"))])
    assert client.locate(attributes=[asi]) == [asi_uid]


def _create_with(client: ProxyKmipClient, extra: list[object]) -> str:
    """Create an AES-256 key with arbitrary attributes through PyKMIP's lower-level proxy."""
    template = cobjects.TemplateAttribute(
        attributes=[
            FACTORY.create_attribute(
                enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM, enums.CryptographicAlgorithm.AES
            ),
            FACTORY.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, 256),
            FACTORY.create_attribute(
                enums.AttributeType.CRYPTOGRAPHIC_USAGE_MASK,
                [enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT],
            ),
            *extra,
        ]
    )
    result = client.proxy.create(enums.ObjectType.SYMMETRIC_KEY, template)
    assert result.result_status.value == enums.ResultStatus.SUCCESS, result.result_message
    return str(result.uuid)


def test_modify_and_delete_attribute(client: ProxyKmipClient) -> None:
    old, new = _unique("old"), _unique("new")
    uid = client.create(enums.CryptographicAlgorithm.AES, 256, name=old)
    name_attr = FACTORY.create_attribute(enums.AttributeType.NAME, new)
    version = client.kmip_version
    if version < enums.KMIPVersion.KMIP_2_0:
        name_attr.attribute_index = cprimitives.Integer(0, enums.Tags.ATTRIBUTE_INDEX)
        client.modify_attribute(uid, attribute=name_attr)
    else:
        current = cobjects.CurrentAttribute(
            attribute=cattributes.Name.create(old, enums.NameType.UNINTERPRETED_TEXT_STRING)
        )
        updated = cobjects.NewAttribute(
            attribute=cattributes.Name.create(new, enums.NameType.UNINTERPRETED_TEXT_STRING)
        )
        client.modify_attribute(uid, current_attribute=current, new_attribute=updated)
    assert client.locate(attributes=[FACTORY.create_attribute(enums.AttributeType.NAME, new)]) == [uid]
    assert client.locate(attributes=[FACTORY.create_attribute(enums.AttributeType.NAME, old)]) == []

    if version < enums.KMIPVersion.KMIP_2_0:
        client.delete_attribute(uid, attribute_name="Name", attribute_index=0)
    else:
        reference = cobjects.AttributeReference(vendor_identification="", attribute_name="Name")
        client.delete_attribute(uid, attribute_reference=reference)
    assert client.locate(attributes=[FACTORY.create_attribute(enums.AttributeType.NAME, new)]) == []
    assert "Name" not in set(client.get_attribute_list(uid))


def test_lifecycle_activate_revoke_destroy(client: ProxyKmipClient) -> None:
    uid = client.create(enums.CryptographicAlgorithm.AES, 128, name=_unique("life"))
    client.activate(uid)
    _, attrs = client.get_attributes(uid, ["State"])
    assert attrs[0].attribute_value.value == enums.State.ACTIVE

    with pytest.raises(pie_exceptions.KmipOperationFailure) as refused:
        client.destroy(uid)  # an Active object cannot be destroyed (digest section 4.3)
    assert refused.value.reason in (
        enums.ResultReason.PERMISSION_DENIED,
        enums.ResultReason.WRONG_KEY_LIFECYCLE_STATE,
    )

    client.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
    _, attrs = client.get_attributes(uid, ["State"])
    assert attrs[0].attribute_value.value == enums.State.DEACTIVATED
    client.destroy(uid)
    _, attrs = client.get_attributes(uid, ["State"])
    assert attrs[0].attribute_value.value == enums.State.DESTROYED


def test_unknown_object_is_item_not_found(client: ProxyKmipClient) -> None:
    with pytest.raises(pie_exceptions.KmipOperationFailure) as missing:
        client.get("no-such-object")
    assert missing.value.reason in (enums.ResultReason.ITEM_NOT_FOUND, enums.ResultReason.OBJECT_NOT_FOUND)
