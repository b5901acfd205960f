"""agent.config: TOML file, environment, precedence; Client.from_config."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.client import Client
from agent.config import AgentConfig, ConfigError
from agent.tape import LTO_GENERATIONS
from tests.unit.test_client_pki import make_pki

FILE = """
[server]
addresses = ["kms1.example:5696", "kms2.example:5697"]
ca = "ca.crt"
cert = "/abs/agent.crt"
key = "agent.key"
server_name = "kms.example"
pins = ["ab"]
kmip_version = "1.4"

[timeouts]
connect = 2.5
deadline = 9
retries = 5
idle = 30
max_connections = 4

[tape]
namespace = "ACME-LIBRARY-LTO"
[tape.generations.lto10]
a_kad = 60
u_kad = 32

[sed]
group = "array-7"
namespace = "SED-DRIVE"
"""


def test_defaults() -> None:
    config = AgentConfig.load(None, env={})
    assert config.servers == () and config.deadline == 15.0 and config.check_hostname
    assert config.tape_generations is LTO_GENERATIONS


def test_file(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(FILE)
    config = AgentConfig.load(path, env={})
    assert config.servers == ("kms1.example:5696", "kms2.example:5697")
    assert config.ca == str(tmp_path / "ca.crt")  # relative to the file
    assert config.cert == "/abs/agent.crt"
    assert (config.connect_timeout, config.deadline, config.retries, config.max_connections) == (
        2.5,
        9.0,
        5,
        4,
    )
    assert config.kmip_version == "1.4" and config.pins == ("ab",)
    assert config.tape_namespace == "ACME-LIBRARY-LTO"
    assert config.tape_generations["lto10"].namespace == "LIBRARY-LTO10"
    assert config.tape_generations["lto10"].k_kad == 92
    assert "lto4" in config.tape_generations
    assert config.sed_group == "array-7"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(FILE)
    env = {
        "KEYSHELF_AGENT_CONFIG": str(path),
        "KEYSHELF_SERVERS": "a:1, b:2",
        "KEYSHELF_DEADLINE": "3.5",
        "KEYSHELF_RETRIES": "1",
        "KEYSHELF_KMIP_VERSION": "2.1",
        "KEYSHELF_SED_GROUP": "array-9",
    }
    config = AgentConfig.load(None, env=env)
    assert config.servers == ("a:1", "b:2")
    assert (config.deadline, config.retries, config.kmip_version, config.sed_group) == (
        3.5,
        1,
        "2.1",
        "array-9",
    )
    assert config.server_name == "kms.example"  # from the file


@pytest.mark.parametrize(
    "text",
    [
        "[nope]\n",
        "[server]\nport = 1\n",
        "[server]\naddresses = 'x'\n",
        "[timeouts]\ndeadline = -1\n",
        "[timeouts]\nretries = 1.5\n",
        "[server]\ncheck_hostname = 'yes'\n",
        "[tape.generations.lto10]\na_kad = 60\n",
        "not toml [",
    ],
)
def test_bad_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        AgentConfig.load(path, env={})


def test_bad_environment_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        AgentConfig.load(None, env={"KEYSHELF_DEADLINE": "soon"})
    with pytest.raises(ConfigError):
        AgentConfig.load(None, env={"KEYSHELF_RETRIES": "-1"})
    with pytest.raises(ConfigError):
        AgentConfig.load(tmp_path / "absent.toml", env={})


def test_client_from_config(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    config = AgentConfig(
        servers=("127.0.0.1:1", "[::1]:2"),
        ca=str(pki.ca),
        cert=str(pki.client_cert),
        key=str(pki.client_key),
        kmip_version="2.0",
        deadline=4.0,
    )
    client = Client.from_config(config)
    assert [str(s) for s in client.servers] == ["127.0.0.1:1", "[::1]:2"]
    assert client.default_deadline == 4.0
    assert Client.from_config(config, deadline=1.0).default_deadline == 1.0
