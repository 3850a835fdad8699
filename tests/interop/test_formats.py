"""Each importer follows its tool's loader: what it accepts, drops or rejects."""

from __future__ import annotations

from pathlib import Path

import pytest

from modec.compiler.pipeline import compile_path, compile_text
from modec.diagnostics import has_errors
from modec.interop import ImportResult, import_paths, is_foreign, lint_foreign
from modec.interop.detect import detect_content
from modec.interop.reading import MAX_FOREIGN_BYTES
from modec.runtime.router import Task, load_router

CLAUDE_OK = """---
name: code-reviewer
description: "Use PROACTIVELY after writing code. <example>Context: a change landed\\n
  user: \\"Review my last commit\\"\\nassistant: \\"I'll use the code-reviewer agent\\"</example>"
tools: Read, Grep, Glob
model: sonnet
---

You review code.
"""


def _write(tmp: Path, rel: str, text: str) -> Path:
    p = tmp / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def _codes(result: ImportResult) -> list[str]:
    return [d.code for d in result.diagnostics]


def _router(result: ImportResult):  # type: ignore[no-untyped-def]
    c = compile_text(result.text, "m.yaml")
    assert c.artifact is not None, [d.message for d in c.diagnostics]
    return load_router(c.artifact)


def _compiles(result: ImportResult) -> None:
    assert result.text
    assert not has_errors(result.compile_diagnostics), [
        (d.code, d.message) for d in result.compile_diagnostics
    ]


# --------------------------------------------------------------------------- Roo / Kilo


def test_roo_one_invalid_mode_rejects_the_file_but_modec_recovers_both(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        ".roomodes",
        """customModes:
  - slug: docs
    name: Docs
    roleDefinition: You write docs.
    groups: [read]
  - slug: bad slug!
    name: Bad
    roleDefinition: You break things.
    groups: [read, teleport]
""",
    )
    result = import_paths([p])
    codes = _codes(result)
    assert "MC703" in codes and codes.count("MC705") == 2
    rejected = [d for d in result.diagnostics if d.code == "MC705"]
    assert {d.span.line for d in rejected if d.span} == {6, 9}
    _compiles(result)
    names = {r.original for r in result.roles}
    assert {"docs", "bad slug!"} <= names
    assert "x_roo:" in result.text and "slug: bad slug!" in result.text


def test_roo_unknown_keys_are_kept_and_warned(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        ".roomodes",
        """customModes:
  - slug: docs
    name: Docs
    roleDefinition: You write docs.
    whenToUse: Use for documentation work.
    groups: [read, browser]
    color: blue
""",
    )
    result = import_paths([p])
    assert _codes(result) == ["MC706"]
    assert "color: blue" in result.text  # kept under x_roo
    _compiles(result)


def test_roo_orchestrator_and_code_are_built_in_unless_defined(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "custom_modes.yaml",
        """customModes:
  - slug: docs
    name: Docs
    roleDefinition: You write docs.
    whenToUse: Use for documentation work.
    groups: [read]
""",
    )
    result = import_paths([p])
    by_name = {r.name: r for r in result.roles}
    assert by_name["code"].synthetic and result.default_specialist == "code"
    assert "built into Roo Code (in no file): orchestrator 'orchestrator'" in result.text
    router = _router(result)
    assert router.route(Task(description="x", metadata={"mode": "docs"})).specialist == "docs"
    assert router.route("write the docs").specialist == "code"  # no invented keywords


def test_roo_json_variant_and_kilo(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        ".kilocodemodes",
        '{"customModes": [{"slug": "a", "name": "A", '
        '"roleDefinition": "r", "groups": ["read", ["edit", {"fileRegex": "(\\\\.md$"}]]'
        "}]}",
    )
    result = import_paths([p])
    assert result.formats == ["kilo"]
    assert "MC705" in _codes(result)  # the fileRegex is not a valid regex
    _compiles(result)


def test_roo_duplicate_slugs(tmp_path: Path) -> None:
    mode = "  - slug: a\n    name: A\n    roleDefinition: r\n    groups: []\n"
    p = _write(tmp_path, ".roomodes", "customModes:\n" + mode + mode)
    result = import_paths([p])
    assert "MC703" in _codes(result)
    _compiles(result)


def test_large_roo_file_beyond_the_compiler_bound_imports(tmp_path: Path) -> None:
    body = "x" * 20_000
    modes = "".join(
        f"  - slug: m{i}\n    name: M{i}\n    roleDefinition: {body}\n"
        f"    whenToUse: Use for job {i}.\n    groups: [read]\n"
        for i in range(75)
    )
    p = _write(tmp_path, ".roomodes", "customModes:\n" + modes)
    assert p.stat().st_size > 1_400_000
    result = import_paths([p], out_name="big.mode.yaml")
    assert len([r for r in result.roles if not r.synthetic]) == 75
    assert result.diagnostics == []
    # the compiler reads at most 1 MiB per file: the roles go to part files the mode extends
    assert sorted(result.parts) == ["big.roles-1.yaml", "big.roles-2.yaml"]
    assert all(len(t.encode()) < 1 << 20 for t in [result.text, *result.parts.values()])
    assert result.ok
    (tmp_path / "out").mkdir()
    for name, text in {"big.mode.yaml": result.text, **result.parts}.items():
        (tmp_path / "out" / name).write_text(text, encoding="utf-8")
    c = compile_path(tmp_path / "out" / "big.mode.yaml", until="check")
    assert c.ok and c.mode is not None and len(c.mode.roles) == 77  # 75, code, task_orchestrator
    part = compile_path(tmp_path / "out" / "big.roles-1.yaml", until="check")
    assert part.ok  # a part lints on its own too (warnings only)


def test_past_the_import_bound_is_mc701(tmp_path: Path) -> None:
    p = tmp_path / ".roomodes"
    with open(p, "wb") as f:
        f.truncate(MAX_FOREIGN_BYTES + 1)
    result = import_paths([p])
    assert "MC701" in _codes(result) and result.text == ""


# --------------------------------------------------------------------------- Claude Code


def test_claude_agent_examples_mentions_and_delegation(tmp_path: Path) -> None:
    p = _write(tmp_path, ".claude/agents/code-reviewer.md", CLAUDE_OK)
    result = import_paths([p])
    assert result.diagnostics == []
    _compiles(result)
    assert "tests:" in result.text and "task: Review my last commit" in result.text
    router = _router(result)
    assert router.route("please @code-reviewer look at this").specialist == "code_reviewer"
    assert router.route("ask @agent-code-reviewer").specialist == "code_reviewer"
    assert router.route("please @code-reviewers").specialist == "main_thread"
    assert (
        router.route(Task(description="x", metadata={"subagent_type": "code-reviewer"})).specialist
        == "code_reviewer"
    )


def test_claude_drops_invalid_frontmatter_modec_recovers(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        ".claude/agents/helper.md",
        """---
name: helper
description: Use when: the user asks: anything
tools: Read
---
Body.
""",
    )
    result = import_paths([p])
    codes = _codes(result)
    assert "MC004" in codes and "MC704" in codes
    drop = next(d for d in result.diagnostics if d.code == "MC704")
    assert drop.span is not None and drop.span.line == 2
    assert result.roles[0].original == "helper"
    assert "Use when: the user asks: anything" in result.text
    _compiles(result)


def test_claude_missing_name_and_unknown_tool_and_model(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        ".claude/agents/x.md",
        "---\ndescription: Writes things.\ntools: Read, Teleport\nmodel: gpt-5\n---\nB\n",
    )
    result = import_paths([p])
    codes = _codes(result)
    assert {"MC704", "MC709", "MC713", "MC710"} <= set(codes)
    assert result.roles[0].original == "x"
    _compiles(result)


def test_claude_name_collision_and_reserved_name(tmp_path: Path) -> None:
    a = _write(tmp_path, ".claude/agents/a.md", "---\nname: tests\ndescription: Use for A.\n---\n")
    b = _write(
        tmp_path, ".claude/agents/b/a.md", "---\nname: Tests\ndescription: Use for B.\n---\n"
    )
    result = import_paths([a.parent])
    names = sorted(r.name for r in result.roles if not r.synthetic)
    assert names == ["tests_role", "tests_role_2"]
    assert "MC708" in _codes(result)
    _compiles(result)
    del b


def test_lint_foreign_names_modec_import(tmp_path: Path) -> None:
    _write(tmp_path, ".claude/agents/a.md", "---\nname: a\n---\n")
    folder = tmp_path / ".claude" / "agents"
    assert is_foreign(folder)
    diags = lint_foreign([folder])
    codes = [d.code for d in diags]
    assert "MC704" in codes and "MC716" in codes
    note = next(d for d in diags if d.code == "MC716")
    assert note.hint is not None and "modec import" in note.hint


def test_mode_files_are_not_foreign() -> None:
    assert not is_foreign(Path(__file__).resolve().parents[2] / "modec" / "modes")
    assert detect_content("task_orchestrator:\n  role_definition: x\n") is None


# --------------------------------------------------------------------------- others


def test_copilot_chatmode(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "plan.chatmode.md",
        "---\ndescription: 'Plans work.'\ntools: ['codebase']\n---\nYou plan.\n",
    )
    result = import_paths([p])
    _compiles(result)
    assert [r.name for r in result.roles] == ["plan", "agent"]


def test_opencode_json_with_task_permission_is_the_orchestrator(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "opencode.json",
        """{
  // comments are allowed
  "agent": {
    "lead": {"description": "Plans", "mode": "primary",
             "permission": {"task": {"review": "allow", "ghost": "allow"}}},
    "review": {"description": "Reviews code", "mode": "subagent", "tools": {"telepathy": true}}
  }
}""",
    )
    result = import_paths([p])
    codes = _codes(result)
    assert "MC711" in codes and "MC709" in codes  # ghost is undefined; telepathy no tool
    assert "opencode orchestrator 'lead'" in result.text
    _compiles(result)
    assert _router(result).route("ask @review").specialist == "review"


def test_crewai_task_with_unknown_agent(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "config/agents.yaml",
        "writer:\n  role: Writer\n  goal: Write.\n  backstory: You write.\n",
    )
    _write(
        tmp_path,
        "config/tasks.yaml",
        "draft:\n  description: Draft it.\n"
        "  expected_output: A draft.\n  agent: writer\nedit:\n  description: Edit it.\n"
        "  expected_output: Edited.\n  agent: editor\n",
    )
    result = import_paths([tmp_path / "config" / "tasks.yaml"])  # finds agents.yaml beside it
    assert "MC711" in _codes(result)
    _compiles(result)
    router = _router(result)
    assert (
        router.route(Task(description="x", metadata={"crew_task": "draft"})).specialist == "writer"
    )


def test_bmad_shared_trigger_goes_to_the_first_agent(tmp_path: Path) -> None:
    agent = (
        "agent:\n  metadata:\n    id: a/{0}.md\n    title: {0}\n  persona:\n    role: R\n"
        "  menu:\n    - trigger: party-mode\n      description: Party\n"
    )
    _write(tmp_path, "a.agent.yaml", agent.format("alpha"))
    _write(tmp_path, "b.agent.yaml", agent.format("beta"))
    result = import_paths([tmp_path])
    assert "MC708" in _codes(result)
    _compiles(result)
    assert _router(result).route("start party-mode").specialist == "alpha"


def test_unknown_file_is_mc702(tmp_path: Path) -> None:
    p = _write(tmp_path, "notes.txt", "hello")
    result = import_paths([p])
    assert _codes(result) == ["MC702", "MC714"]


def test_derived_keywords_are_marked_and_lowest_priority(tmp_path: Path) -> None:
    _write(
        tmp_path,
        ".claude/agents/sec.md",
        "---\nname: sec\ndescription: Use for "
        "vulnerability audits and threat modeling.\n---\nYou audit vulnerability reports "
        "for every service we ship today.\n",
    )
    _write(
        tmp_path,
        ".claude/agents/docs.md",
        "---\nname: docs\ndescription: Use for "
        "writing manuals and tutorials.\n---\nYou write tutorials for the users of the "
        "product.\n",
    )
    result = import_paths([tmp_path / ".claude"], derive_keywords=True)
    assert "x_heuristic: true" in result.text and "priority: -100" in result.text
    assert "HEURISTIC (--derive-keywords)" in result.text
    _compiles(result)
    router = _router(result)
    assert router.route("a vulnerability in login").specialist == "sec"
    assert router.route("@docs vulnerability").specialist == "docs"  # explicit rule wins
    assert set(result.held_apart) == {"sec", "docs"}


@pytest.mark.parametrize("bad", ["", "---\n", "---\nname: [\n", "\x00\x01", "customModes: 3"])
def test_degenerate_inputs_are_diagnostics(tmp_path: Path, bad: str) -> None:
    p = tmp_path / ".claude" / "agents" / "x.md"
    p.parent.mkdir(parents=True)
    p.write_text(bad, encoding="utf-8")
    result = import_paths([p])
    assert result.text == "" or not has_errors(result.compile_diagnostics)


def test_kilo_delegation_table_describes_modes_without_a_description(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        ".kilocodemodes",
        """customModes:
  - slug: ask
    name: Ask
    roleDefinition: You guide the user.
    customInstructions: |-
      Delegate:
      • 🪲 `debug` - isolate runtime problems
      • 🧪 `tdd` - test-first development
    groups: [read]
  - slug: debug
    name: Debug
    roleDefinition: You debug.
    groups: [read]
  - slug: tdd
    name: TDD
    roleDefinition: You test first.
    whenToUse: Use for tests.
    groups: [read]
""",
    )
    result = import_paths([p])
    assert "debug: isolate runtime problems" in result.text  # from the table
    assert "tdd: Use for tests." in result.text  # its own whenToUse wins
    mc710 = [d for d in result.diagnostics if d.code == "MC710"]
    assert [d.span.line for d in mc710 if d.span] == [2]  # only 'ask' has no text at all


def test_a_readme_beside_claude_agents_is_skipped_not_an_agent(tmp_path: Path) -> None:
    _write(tmp_path, ".claude/agents/README.md", "# Our agents\n\nSee below.\n")
    _write(tmp_path, ".claude/agents/code-reviewer.md", CLAUDE_OK)
    result = import_paths([tmp_path / ".claude" / "agents"])
    assert [r.original for r in result.roles if not r.synthetic] == ["code-reviewer"]
    skipped = [d for d in result.diagnostics if d.code == "MC704"]
    assert len(skipped) == 1 and skipped[0].severity == "warning"
    assert not has_errors(result.diagnostics)
