"""Real mode and role files written by other people get the verdicts of corpus/SOURCE.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modec.compiler.pipeline import compile_path
from tests.conftest import CORPUS

DEFAULT_ROLES = [
    "EchoingVesper__mcp-task-orchestrator__config__default_roles.yaml",
    "EchoingVesper__mcp-task-orchestrator@d939f96__config__default_roles.yaml",
    "EchoingVesper__vespera-atelier__archive__v1-database-archives__20250818-044220__"
    "monorepo-root-task_orchestrator__roles__project_roles.yaml",
]
SCRIPTORIUM = (
    "EchoingVesper__vespera-atelier__archive__v1-database-archives__20250818-044220__"
    "monorepo-root-vespera_scriptorium__roles__project_roles.yaml"
)
MCP_ROLES = "EchoingVesper__mcp-task-orchestrator__mcp_orchestrator_roles.yaml"
PACKS = sorted(
    p.name
    for p in CORPUS.glob("*.yaml")
    if "example-roles" in p.name or p.name.endswith("config__specialists.yaml")
)


def codes(name: str) -> list[tuple[str, str]]:
    c = compile_path(CORPUS / name, display=name, until="check")
    return [(d.code, d.message) for d in c.sorted_diagnostics()]


def test_corpus_is_complete() -> None:
    listed = {*DEFAULT_ROLES, SCRIPTORIUM, MCP_ROLES, *PACKS}
    assert listed == {p.name for p in CORPUS.glob("*.yaml")}
    assert len(PACKS) == 7


def test_crlf_file_is_really_crlf() -> None:
    assert b"\r\n" in (CORPUS / DEFAULT_ROLES[0]).read_bytes()


@pytest.mark.parametrize("name", DEFAULT_ROLES)
def test_default_roles_valid_with_tester_warning(name: str) -> None:
    found = codes(name)
    assert [code for code, _ in found] == ["MC201"]
    assert "'tester'" in found[0][1]


def test_scriptorium_three_listed_without_definition() -> None:
    found = codes(SCRIPTORIUM)
    assert [code for code, _ in found] == ["MC201"] * 3
    names = sorted(msg.split("'")[1] for _, msg in found)
    assert names == ["researcher", "reviewer", "tester"]


def test_mcp_orchestrator_roles_clean() -> None:
    c = compile_path(CORPUS / MCP_ROLES, until="check")
    assert c.diagnostics == []
    assert c.mode is not None
    assert sorted(c.mode.specialist_roles) == sorted(
        [
            "mcp_architect",
            "feature_implementer",
            "protocol_specialist",
            "client_integrator",
            "documentation_writer",
            "test_engineer",
        ]
    )
    assert all(name in c.mode.roles for name in c.mode.specialist_roles)


@pytest.mark.parametrize("name", PACKS)
def test_role_packs_invalid_with_extends_hint(name: str) -> None:
    c = compile_path(CORPUS / name, display=name, until="check")
    errors = [d for d in c.diagnostics if d.is_error]
    assert [d.code for d in errors] == ["MC105"]
    assert errors[0].hint is not None and "extends: default_roles.yaml" in errors[0].hint


@pytest.mark.parametrize("name", PACKS)
def test_role_pack_becomes_a_mode_by_extending_defaults(name: str, tmp_path: Path) -> None:
    text = (CORPUS / name).read_bytes()
    fixed = tmp_path / "pack.yaml"
    fixed.write_bytes(b"mode_metadata:\n  extends: default_roles.yaml\n" + text)
    c = compile_path(fixed, until="check")
    assert c.ok, c.diagnostics


def test_lint_cli_on_the_whole_corpus_never_tracebacks() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "modec", "lint", str(CORPUS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1  # the packs are invalid
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.count("error[MC105]") == 7
