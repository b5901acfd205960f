"""``keyshelf-server init DIR`` and the configuration it writes."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from profiles.cli import INIT_FILES, main
from profiles.config import ConfigError, ServerConfig
from profiles.keyprotect import read_kek_file
from tests.integration.conftest import (
    EchoHandler,
    Pki,
    ServerThread,
    echo_identity,
    refused,
    request,
    roundtrip,
    tls_connect,
)

pytestmark = pytest.mark.timeout(120)

SECRET_FILES = {"server.key", "client-a.key", "client-b.key", "kek.key"}


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    d = tmp_path_factory.mktemp("init") / "data"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["init", str(d), "--key-type", "ec"]) == 0
    return d, out.getvalue()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_every_file_with_safe_modes(initialised: tuple[Path, str]) -> None:
    d, _ = initialised
    assert sorted(p.name for p in d.iterdir()) == sorted(INIT_FILES)
    for name in INIT_FILES:
        expected = 0o600 if name in SECRET_FILES else 0o644
        assert mode(d / name) == expected, name
    assert mode(d) == 0o700
    assert len(read_kek_file(d / "kek.key")) == 32
    for name in ("client-a", "client-b"):
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        cert = x509.load_pem_x509_certificate((d / f"{name}.crt").read_bytes())
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == name


def test_init_config_uses_the_files(initialised: tuple[Path, str]) -> None:
    d, _ = initialised
    cfg = ServerConfig.load(d / "keyshelf.toml")
    assert cfg.tls.certificate == (d / "server.crt").resolve()
    assert cfg.tls.private_key == (d / "server.key").resolve()
    assert cfg.tls.client_ca == (d / "ca.crt").resolve()
    assert cfg.kek_file == (d / "kek.key").resolve()
    assert cfg.store_url == f"sqlite:///{(d / 'keyshelf.db').resolve()}"
    assert (cfg.host, cfg.port) == ("127.0.0.1", 5696)


def test_init_prints_how_to_connect(initialised: tuple[Path, str]) -> None:
    d, text = initialised
    root = d.resolve()
    for needle in (f"{root}/ca.crt", f"{root}/client-a.crt", f"{root}/client-a.key", "127.0.0.1:5696"):
        assert needle in text
    assert f"keyshelf-server --config {root}/keyshelf.toml" in text


def test_init_refuses_to_overwrite(initialised: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    d, _ = initialised
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    assert main(["init", str(d)]) == 1
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err and "keyshelf.toml" in err
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before


def test_init_refuses_when_any_single_file_exists(tmp_path: Path) -> None:
    (tmp_path / "kek.key").write_text("precious")
    assert main(["init", str(tmp_path)]) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["kek.key"]
    assert (tmp_path / "kek.key").read_text() == "precious"


def test_server_from_init_config_accepts_client_a(initialised: tuple[Path, str]) -> None:
    d, _ = initialised
    cfg = ServerConfig.load(d / "keyshelf.toml").with_overrides(port=0)
    init_pki = Pki(d, {n: (d / f"{n}.crt", d / f"{n}.key") for n in ("client-a", "client-b")})
    with ServerThread(cfg, EchoHandler()) as server:
        for name in ("client-a", "client-b"):
            with tls_connect(server.port, init_pki.client_context(name)) as sock:
                assert echo_identity(roundtrip(sock, request())) == name
        assert refused(server.port, init_pki.client_context(None))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[server]\nprot = 1\n", "server.prot"),
        ("[bogus]\n", "[bogus]"),
        ('[server]\nport = "x"\n', "server.port"),
        ("[server]\nport = 70000\n", "server.port"),
        ('[tls]\nidentity = "email"\n', "tls.identity"),
        ('[tls]\nminimum_version = "1.1"\n', "tls.minimum_version"),
        ("[limits]\nread_timeout = 0\n", "limits.read_timeout"),
        ("[limits]\nworkers = true\n", "limits.workers"),
        ("[limits]\nprocesses = -1\n", "limits.processes"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_config_refused_with_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, fragment: str
) -> None:
    path = tmp_path / "k.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        ServerConfig.load(path)
    assert fragment in str(info.value)
    assert main(["--config", str(path)]) == 2
    assert fragment in capsys.readouterr().err


def test_config_defaults_and_numeric_coercion(tmp_path: Path) -> None:
    path = tmp_path / "k.toml"
    path.write_text("[limits]\nidle_timeout = 5\n[admin]\nidentities = ['ops']\n")
    cfg = ServerConfig.load(path)
    assert cfg.limits.idle_timeout == 5.0 and isinstance(cfg.limits.idle_timeout, float)
    assert cfg.admins == frozenset({"ops"})
    assert cfg.port == 5696 and cfg.host == "127.0.0.1"
    assert cfg.store_url == f"sqlite:///{(tmp_path / 'keyshelf.db').resolve()}"


@pytest.mark.usefixtures("restore_logging")
def test_missing_tls_files_is_a_clear_startup_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "k.toml"
    path.write_text('[storage]\nurl = "memory:"\n')
    assert main(["--config", str(path), "--port", "0"]) == 2
    assert "tls.certificate" in capsys.readouterr().err


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """main() configures the root logger for a real process; undo that after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def init_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["init", str(d), "--key-type", "ec"]) == 0
    return d


@pytest.mark.usefixtures("restore_logging")
def test_kek_file_readable_by_others_refused_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = init_dir(tmp_path)
    (d / "kek.key").chmod(0o644)
    assert main(["--config", str(d / "keyshelf.toml"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "chmod 600" in err
    assert (d / "kek.key").read_text().strip() not in err


@pytest.mark.usefixtures("restore_logging")
def test_wrong_kek_refused_at_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from profiles.keyprotect import KeyProtector, write_kek_file
    from profiles.store import open_store

    d = init_dir(tmp_path)
    cfg = ServerConfig.load(d / "keyshelf.toml")
    open_store(cfg.store_url, KeyProtector.from_file(d / "kek.key")).close()  # db written under KEK 1
    (d / "kek.key").unlink()
    write_kek_file(d / "kek.key")  # KEK 2
    assert main(["--config", str(d / "keyshelf.toml"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "different key-encryption key" in err
    assert (d / "kek.key").read_text().strip() not in err
