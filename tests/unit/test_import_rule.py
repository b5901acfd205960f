"""The import rule of ARCHITECTURE.md, checked on the source text.

- ``agent`` imports none of ``profiles``, ``simulators``, ``firmware_hooks``.
- ``profiles`` imports ``agent`` only (never ``simulators``/``firmware_hooks``).
- ``simulators`` and ``firmware_hooks`` import ``agent``, never ``profiles``.
- ``agent`` has no third-party runtime dependency beyond construct and cryptography,
  and only ``agent/ttlv.py`` imports construct.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROJECT = {"agent", "profiles", "simulators", "firmware_hooks"}
FORBIDDEN = {
    "agent": {"profiles", "simulators", "firmware_hooks"},
    "profiles": {"simulators", "firmware_hooks"},
    "simulators": {"profiles", "firmware_hooks"},
    "firmware_hooks": {"profiles"},
}
AGENT_THIRD_PARTY = {"construct", "cryptography"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _sources(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def test_every_package_has_sources() -> None:
    for package in PROJECT:
        assert (REPO / package / "__init__.py").is_file(), package


def test_layer_rule() -> None:
    violations = []
    for package, forbidden in FORBIDDEN.items():
        for path in _sources(package):
            for line, module in _imports(path):
                top = module.split(".")[0]
                if top in forbidden:
                    violations.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    assert violations == []


def test_agent_dependencies_are_light() -> None:
    stdlib = set(sys.stdlib_module_names)
    violations = []
    for path in _sources("agent"):
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top in stdlib or top == "agent":
                continue
            if top not in AGENT_THIRD_PARTY:
                violations.append(f"{path.relative_to(REPO)}:{line} imports {module}")
            if top == "construct" and path.name != "ttlv.py":
                violations.append(f"{path.relative_to(REPO)}:{line} imports construct outside ttlv.py")
    assert violations == []


def test_rule_detects_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import profiles.engine\nfrom simulators import drive\n", encoding="utf-8")
    assert [m for _, m in _imports(bad)] == ["profiles.engine", "simulators"]
