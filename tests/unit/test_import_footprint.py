"""Issue 4: what importing the key-fetch stack does, and the deferred model dataclasses.

Importing ``agent.sync``, ``agent.tape`` and ``agent.sed`` (everything a key fetch needs) must
not do work a key fetch does not need: no model dataclass is processed at import (see
agent/model/_deferred.py), a fetch processes only the classes it uses, and modules only other
tools use are not imported. Checked in fresh interpreters; counts, never times
(benchmarks/agent.py measures the time).
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from agent import model
from agent.model import _deferred
from agent.spec import ObjectType, Operation

REPO = Path(__file__).resolve().parents[2]

#: imported only by tools that are not on the key-fetch path (text encodings, CLI, config files)
NOT_FOR_A_KEY_FETCH = (
    "agent.encodings",
    "agent.encodings.xml",
    "agent.encodings.json",
    "agent.cli",
    "xml.etree.ElementTree",
    "argparse",
    "profiles",
)

PROBE = r"""
import json, sys
from datetime import UTC, datetime
import agent.sync, agent.tape, agent.sed
from agent import model
from agent.model import _deferred
from agent.spec import ObjectType, Operation

def built():
    return sorted(c.__name__ for c in vars(model).values()
                  if isinstance(c, type) and "__dataclass_fields__" in c.__dict__
                  and c not in _deferred.pending())

out = {"modules": sorted(sys.modules), "built_at_import": built(), "pending": len(_deferred.pending())}
# what a tape key fetch does with the model: Locate + Get request out, Get response in
request = model.RequestMessage(
    request_header=model.RequestHeader(protocol_version=model.ProtocolVersion(1, 4), batch_count=2),
    batch_items=(
        model.RequestBatchItem(operation=Operation.LOCATE, request_payload=model.LocateRequest(
            attributes=(model.Attribute("Object Type", ObjectType.SYMMETRIC_KEY),))),
        model.RequestBatchItem(operation=Operation.GET, request_payload=model.GetRequest()),
    ),
)
model.encode_message(request)
response = model.ResponseMessage(
    response_header=model.ResponseHeader(
        protocol_version=model.ProtocolVersion(1, 4), time_stamp=datetime(2026, 1, 1, tzinfo=UTC),
        batch_count=1),
    batch_items=(model.ResponseBatchItem(
        operation=Operation.GET, result_status=0, response_payload=model.GetResponse(
            object_type=ObjectType.SYMMETRIC_KEY, unique_identifier="k",
            managed_object=model.SymmetricKey(key_block=model.KeyBlock(
                key_format_type=1, key_value=model.KeyValue(key_material=bytes(32)))))),),
)
decoded = model.decode_response(model.encode_message(response))
assert decoded == response, (decoded, response)
out["built_by_fetch"] = built()
print(json.dumps(out))
"""


def _probe() -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=REPO, timeout=120
    )
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def test_key_fetch_stack_import_does_no_model_work() -> None:
    data = _probe()
    assert data["built_at_import"] == []
    assert data["pending"] > 150  # every model class, still only recorded
    loaded = set(data["modules"])
    assert not loaded & set(NOT_FOR_A_KEY_FETCH)
    # a fetch builds what it uses and nothing of the operations it does not use
    built = set(data["built_by_fetch"])
    assert {"LocateRequest", "GetRequest", "GetResponse", "SymmetricKey", "Attribute"} <= built
    for unused in (
        "EncryptRequest",
        "SignRequest",
        "PKCS11Request",
        "CertifyRequest",
        "CreateSplitKeyRequest",
    ):
        assert unused not in built
    # of ~200; a union's members are processed when met (no other managed-object classes)
    assert not built & {"PublicKey", "PrivateKey", "SecretData", "TransparentRSAPrivateKey"}
    assert len(built) < 25


# --- the deferred dataclass itself (classes defined here start pending) ---------------------


def _make() -> tuple[type, type]:
    @_deferred.dataclass(frozen=True)
    class Base:
        a: int

    @_deferred.dataclass(frozen=True, kw_only=True)
    class Child(Base):
        """Docstring kept."""

        b: str = "x"
        c: tuple[int, ...] = dataclasses.field(default=(), metadata={"k": 1})

    return Base, Child


def test_deferred_class_is_processed_on_first_construction() -> None:
    base, child = _make()
    assert base in _deferred.pending() and child in _deferred.pending()
    obj = child(1, b="y")
    assert base not in _deferred.pending() and child not in _deferred.pending()
    assert obj == child(1, b="y") and obj != child(2) and hash(obj) == hash(child(1, b="y"))
    assert repr(obj).endswith("Child(a=1, b='y', c=())")
    try:
        obj.a = 2
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("not frozen")
    assert child.__doc__ == "Docstring kept."
    assert child.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert dataclasses.replace(obj, b="z") == child(1, b="z")


def test_deferred_class_is_processed_on_introspection() -> None:
    _, child = _make()
    assert dataclasses.is_dataclass(child)
    assert [f.name for f in dataclasses.fields(child)] == ["a", "b", "c"]
    assert dataclasses.fields(child)[2].metadata["k"] == 1
    assert child.__match_args__ == ("a",)  # type: ignore[attr-defined]
    base2, child2 = _make()
    assert (
        str(inspect.signature(child2)) == "(a: 'int', *, b: 'str' = 'x', c: 'tuple[int, ...]' = ()) -> None"
    )
    assert str(inspect.signature(base2)) == "(a: 'int') -> None"
    assert base2.__doc__ == "Base(a: 'int')"  # as dataclasses writes it


def test_deferred_class_survives_pickle() -> None:
    _, child = _make()
    obj = child(3)
    assert pickle.loads(pickle.dumps(model.GetRequest(unique_identifier="u"))) == model.GetRequest(
        unique_identifier="u"
    )
    assert obj.a == 3


def _construct_all_at_once(cls: Any, threads: int) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(threads)
    results: list[object] = []
    errors: list[BaseException] = []

    def construct() -> None:
        barrier.wait()
        try:
            results.append(cls(1, b="t"))
            results.append(dataclasses.fields(cls)[0].name)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=construct) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return results, errors


def test_concurrent_first_construction() -> None:
    """Threads constructing a class another thread is processing wait for the finished class."""
    for _ in range(20):
        _, child = _make()
        results, errors = _construct_all_at_once(child, 8)
        assert errors == []
        assert results.count(child(1, b="t")) == 8 and results.count("a") == 8


def test_every_model_class_processes() -> None:
    """All exported model classes process cleanly (as they did eagerly before)."""
    for name in model.__all__:
        cls = getattr(model, name)
        if isinstance(cls, type) and "__dataclass_fields__" in cls.__dict__:
            assert dataclasses.is_dataclass(cls), name
            assert "__dataclass_params__" in cls.__dict__, name
    assert not any(c.__module__.startswith("agent.model") for c in _deferred.pending())
    req, resp = model.payload_classes(Operation.CREATE)
    assert req is model.CreateRequest and resp is model.CreateResponse
    assert model.CreateRequest(object_type=ObjectType.SYMMETRIC_KEY).object_type == ObjectType.SYMMETRIC_KEY
