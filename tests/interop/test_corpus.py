"""Every real agent file of the corpus imports into a mode that compiles without errors.

The corpus (tests/interop/corpus/, copied byte for byte from shared/corpus/agents/) holds real
files of every format; one file (or folder) per format has a golden expected mode under
tests/interop/expected/. Regenerate the goldens with ``MODEC_UPDATE_GOLDEN=1`` and review the
diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modec.compiler.pipeline import compile_text
from modec.diagnostics import has_errors
from modec.interop import import_paths, is_foreign
from modec.runtime.router import Task, load_router

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
EXPECTED = HERE / "expected"

FILES = sorted(
    str(p.relative_to(CORPUS))
    for p in CORPUS.rglob("*")
    if p.is_file() and p.name not in ("README.md", ".gitattributes")
)

GOLDEN = {
    "roo": "roomodes/RooCodeInc__Roo-Code__.roomodes",
    "kilo": "kilocode/AllynYonge__RooCode-Mode__.kilocodemodes",
    "claude": "claude_agents",
    "copilot": "copilot_chatmodes/eyaltoledano__claude-task-master__.github__chatmodes__"
    "architect.chatmode.md",
    "opencode": "opencode_agents/poolifier__poolifier__.opencode__agent__review.md",
    "crewai": "crewai/crewAIInc__crewAI-examples__flows__write_a_book_with_flows__src__"
    "write_a_book_with_flows__crews__write_book_chapter_crew__config__agents.yaml",
    "bmad": "bmad_agents/CSmithy89__agent-orchestrator__bmad__bmb__reference__agents__"
    "module-examples__security-engineer.agent.yaml",
}


@pytest.fixture(autouse=True)
def _in_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)  # relative display paths: goldens name files as a user would


def test_corpus_is_the_shared_corpus_byte_for_byte() -> None:
    assert len(FILES) == 15
    for parent in HERE.parents:  # in the project's workspace: the copy has not drifted
        shared = parent / "shared" / "corpus" / "agents"
        if not shared.is_dir():
            continue
        for rel in FILES:
            assert (CORPUS / rel).read_bytes() == (shared / rel).read_bytes(), rel


@pytest.mark.parametrize("rel", FILES)
def test_every_corpus_file_imports_and_compiles(rel: str) -> None:
    result = import_paths([rel])
    assert result.text, [d.message for d in result.diagnostics]
    assert not has_errors(result.compile_diagnostics), [
        (d.code, d.message) for d in result.compile_diagnostics
    ]
    assert result.roles
    assert all(r.line >= 1 and r.file for r in result.roles)
    # every role's source file and line is named in a comment above it
    for role in result.roles:
        if not role.synthetic:
            assert f"# {role.file}:{role.line}:" in result.text
    assert is_foreign(rel)


@pytest.mark.parametrize("rel", FILES)
def test_import_is_deterministic(rel: str) -> None:
    first = import_paths([rel], derive_keywords=True)
    second = import_paths([rel], derive_keywords=True)
    assert first.text.encode() == second.text.encode()
    assert first.diagnostics == second.diagnostics


def test_whole_corpus_folder_is_one_mode() -> None:
    result = import_paths(["."])
    assert result.ok
    assert set(result.formats) == {"roo", "kilo", "claude", "copilot", "opencode", "crewai", "bmad"}
    names = [r.name for r in result.roles]
    assert len(names) == len(set(names))  # collisions (two `code` slugs, …) got unique names
    assert result.text.count("\ntask_orchestrator:") == 1


@pytest.mark.parametrize("fmt", sorted(GOLDEN))
def test_golden_expected_mode(fmt: str) -> None:
    result = import_paths([GOLDEN[fmt]])
    golden = EXPECTED / f"{fmt}.mode.yaml"
    if os.environ.get("MODEC_UPDATE_GOLDEN"):
        golden.write_text(result.text, encoding="utf-8")
    assert result.text == golden.read_text(encoding="utf-8")
    assert not has_errors(compile_text(golden.read_bytes(), golden.name).diagnostics)


def test_crewai_tasks_route_to_their_agents() -> None:
    result = import_paths([GOLDEN["crewai"]])
    c = compile_text(result.text, "crew.yaml")
    assert c.artifact is not None
    router = load_router(c.artifact)
    assert (
        router.route(
            Task(description="anything", metadata={"crew_task": "write_chapter"})
        ).specialist
        == "writer"
    )
    assert (
        router.route(
            Task(description="anything", metadata={"crew_task": "research_chapter"})
        ).specialist
        == "researcher"
    )
    assert "expect_specialist: writer" in result.text


def test_bmad_menu_triggers_route_to_the_agent() -> None:
    result = import_paths([GOLDEN["bmad"]])
    c = compile_text(result.text, "bmad.yaml")
    assert c.artifact is not None
    router = load_router(c.artifact)
    decision = router.route("run *threat-model on the payment service")
    assert decision.specialist == "security_engineer"
    assert decision.task_type == "security_engineer_threat_model"
