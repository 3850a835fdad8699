"""The surface model: one description of the format, its JSON Schema, key rules and fixes.

The schema is checked with a real JSON Schema validator (``jsonschema``) against the bundled
modes, the golden cases and the corpus; fixes are applied with a small local edit applier and
the fixed text must compile without the diagnostic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from modec.compiler.extends import bundled_mode_names, bundled_mode_path, resolve_extends
from modec.compiler.pipeline import compile_path, compile_text
from modec.compiler.schema import mode_file_schema
from modec.compiler.source import load_bytes
from modec.compiler.surface import near_misses, to_plain
from modec.diagnostics import CODES, Diagnostic, Severity
from modec.runtime.router import load_router
from tests.conftest import CASES, CORPUS

VALIDATOR = jsonschema.Draft202012Validator(mode_file_schema())
DEFAULT_ROLES = "EchoingVesper__mcp-task-orchestrator@d939f96__config__default_roles.yaml"
EXPECTED: dict[str, list[str]] = yaml.safe_load((CASES / "expected.yaml").read_text())


def instance(text: str | bytes, name: str = "m.yaml") -> Any:
    """The JSON instance an editor's YAML server sees: the document as plain data."""
    data = text.encode() if isinstance(text, str) else text
    loaded = load_bytes(data, name)
    assert loaded.root is not None, loaded.diagnostics
    return to_plain(loaded.root)


def schema_accepts(doc: Any) -> bool:
    return VALIDATOR.is_valid(doc)


def apply_edits(text: str, diagnostics: list[Diagnostic]) -> str:
    """Apply every diagnostic's fix (1-based line/column, end exclusive), last edit first."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    edits = [e for d in diagnostics if d.fix is not None for e in d.fix.edits]
    for edit in sorted(edits, key=lambda e: (e.span.line, e.span.column), reverse=True):
        a = offset(edit.span.line, edit.span.column)
        b = offset(edit.span.end_line, edit.span.end_column)
        text = text[:a] + edit.new_text + text[b:]
    return text


# --------------------------------------------------------------------------- schema


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(mode_file_schema())


@pytest.mark.parametrize("name", bundled_mode_names())
def test_schema_accepts_every_bundled_mode(name: str) -> None:
    path = bundled_mode_path(name)
    assert path is not None
    errors = [e.message for e in VALIDATOR.iter_errors(instance(path.read_bytes(), name))]
    assert errors == []


def _error_codes(name: str) -> set[str]:
    return {e.split()[0] for e in EXPECTED[name] if CODES[e.split()[0]].severity is Severity.ERROR}


def _loadable(path: Path) -> bool:
    try:
        return load_bytes(path.read_bytes(), path.name).root is not None
    except OSError:
        return False


VALID_CASES = sorted(n for n in EXPECTED if not _error_codes(n))
SCHEMA_ERROR_CASES = sorted(
    n
    for n in EXPECTED
    if _error_codes(n) & {"MC101", "MC103", "MC104", "MC105"} and _loadable(CASES / n)
)


@pytest.mark.parametrize("name", VALID_CASES)
def test_schema_accepts_every_valid_golden_case(name: str) -> None:
    assert schema_accepts(instance((CASES / name).read_bytes(), name))


@pytest.mark.parametrize("name", SCHEMA_ERROR_CASES)
def test_schema_rejects_golden_cases_with_schema_errors(name: str) -> None:
    assert not schema_accepts(instance((CASES / name).read_bytes(), name))


def test_there_are_cases_on_both_sides() -> None:
    assert len(VALID_CASES) >= 10 and len(SCHEMA_ERROR_CASES) >= 15


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.yaml")), ids=lambda p: p.name[-40:])
def test_schema_verdict_on_the_corpus_matches_its_readme(path: Path) -> None:
    # SOURCE.md: the role packs (example-roles, specialists.yaml) are invalid (no
    # task_orchestrator and no extends); every other file is valid.
    pack = "example-roles" in path.name or path.name.endswith("config__specialists.yaml")
    doc = instance(path.read_bytes(), path.name)
    assert schema_accepts(doc) is not pack
    if pack:
        assert schema_accepts({"mode_metadata": {"extends": "default_roles.yaml"}, **doc})


def test_schema_is_extends_aware() -> None:
    pack = {"architect": {"role_definition": "designs"}}
    assert not schema_accepts(pack)
    assert schema_accepts({"mode_metadata": {"extends": "default_roles.yaml"}, **pack})
    assert not schema_accepts({"mode_metadata": {"extends": []}, **pack})


@pytest.mark.parametrize(
    ("doc", "ok"),
    [
        ({"mode_configuration": {"hit_polcy": "unique"}}, False),
        ({"mode_configuration": {"team_size": 4, "x_hit_polcy": 1}}, True),
        ({"mode_configuration": {"hit_policy": "sometimes"}}, False),
        (
            {"task_routing_rules": {"a_tasks": {"keywords": ["a"], "required_specilist": "x"}}},
            False,
        ),
        ({"task_routing_rules": {"a_tasks": {"keywords": ["a"], "x_source": "roo"}}}, True),
        ({"task_routing_rules": {"a_tasks": {"keywords": "a, b"}}}, False),
        ({"validation_rules": {"minimum_count": 1}}, False),
        ({"tests": [{"task": "t", "expect_type": "a_tasks", "note": "n"}]}, False),
        ({"tests": [{"task": {"title": "t", "owner": "me"}, "expect_type": "a"}]}, False),
        ({"tests": [{"task": {"title": "t", "complexity": "huge"}, "expect_type": "a"}]}, False),
        ({"reviewer": {"role_defintion": "r"}}, False),
        ({"task_orchestrater": {"role_definition": "r"}}, False),
        ({"tester": {"role_definition": "r"}}, True),
        ({"reviewer": {"role_definition": "r", "temperature": 0.2}}, True),
    ],
)
def test_schema_key_rules(doc: dict[str, Any], ok: bool) -> None:
    base = {"task_orchestrator": {"role_definition": "o"}}
    assert schema_accepts({**base, **doc}) is ok


# --------------------------------------------------------------------------- key rules


def test_near_misses_are_one_edit() -> None:
    known = ["hit_policy", "default_specialist"]
    assert near_misses("hit_polcy", known) == ["hit_policy"]  # deletion
    assert near_misses("hti_policy", known) == ["hit_policy"]  # transposition
    assert near_misses("hit_policyy", known) == ["hit_policy"]  # insertion
    assert near_misses("hit_pilicy", known) == ["hit_policy"]  # substitution
    assert near_misses("hit_plcy", known) == []
    assert near_misses("hit_policy", known) == []
    assert near_misses("x_hit_polcy", known) == []


HEAD = """\
task_orchestrator:
  role_definition: "Orchestrates the work"
  specialist_roles:
    implementer: "Writes code"
    sre: "Keeps production running"
implementer:
  role_definition: "Writes code"
sre:
  role_definition: "Keeps production running"
"""


def test_free_keys_stay_free() -> None:
    text = (
        "mode_configuration:\n  team_size: 4\n  x_hit_polcy: 1\n"
        + HEAD
        + "  temperature: 0.2\nx_roo:\n  slug: code\n"
        "task_routing_rules:\n  a_tasks:\n    keywords: [alpha]\n    x_source: roo\n"
    )
    c = compile_text(text, "m.yaml", until="check")
    assert c.ok, c.diagnostics
    assert c.mode is not None
    assert c.mode.configuration.settings == {"team_size": 4, "x_hit_polcy": 1}
    assert c.mode.roles["sre"].extras == {"temperature": 0.2}
    assert c.mode.rules[0].extras == {"x_source": "roo"}


def test_x_keys_of_a_test_tasks_metadata_are_its_data() -> None:
    # x_ keys are free beside the task's own keys, but metadata is the task's data: a
    # `when:` row may test metadata.x_team, so the example must keep it.
    text = HEAD + (
        'task_routing_rules:\n  platform_tasks:\n    when: metadata.x_team == "platform"\n'
        "    required_specialist: sre\n"
        "tests:\n  - task:\n      description: deploy\n      x_note: free\n"
        "      metadata: {x_team: platform}\n    expect_type: platform_tasks\n"
    )
    c = compile_text(text, "m.yaml")
    assert c.ok, c.diagnostics
    assert c.mode is not None and c.artifact is not None
    task = c.mode.tests[0].task
    assert task.metadata == {"x_team": "platform"}
    from modec.runtime.examples import run_examples

    [result] = run_examples(c.mode, load_router(c.artifact))
    assert result.decision is not None and result.decision.task_type == "platform_tasks"


@pytest.mark.parametrize("value", ["null", "[1]", "{a: 1}"])
def test_a_metadata_value_names_every_type_it_may_be(value: str) -> None:
    text = HEAD + f"tests:\n  - task:\n      description: d\n      metadata: {{x_y: {value}}}\n"
    text += "    expect_type: general_tasks\n"
    c = compile_text(text, "m.yaml", until="check")
    [d] = [d for d in c.diagnostics if d.is_error]
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "metadata:" in line)
    assert d.code == "MC101" and d.span is not None
    assert (d.span.line, d.span.column) == (at + 1, lines[at].index(value) + 1)
    assert "metadata.x_y must be text, a number or true/false, found" in d.message
    assert not schema_accepts(instance(text))


# --------------------------------------------------------------------------- fixes

#: The misspelt-key cases, one per level (mc103_unknown_top_level's value is wrong as well).
FIXABLE = sorted(n for n in EXPECTED if n.startswith("mc103_") and ("typo" in n or "scratch" in n))


def test_a_misspelt_key_case_at_every_level() -> None:
    levels = {
        "rule",
        "configuration",
        "validation",
        "tests",
        "test_task",
        "metadata",
        "role",
        "orchestrator",
        "orchestrator_name",
        "top_level_section",
    }
    assert {
        n.removeprefix("mc103_").removesuffix("_key_typo.yaml").removesuffix("_typo.yaml")
        for n in FIXABLE
        if "typo" in n
    } == levels


@pytest.mark.parametrize("name", FIXABLE)
def test_every_misspelt_key_is_one_error_with_a_fix_that_works(name: str, tmp_path: Path) -> None:
    path = CASES / name
    c = compile_path(path, display=name, until="check")
    errors = [d for d in c.diagnostics if d.is_error]
    assert errors and all(d.code == "MC103" for d in errors)
    for d in errors:
        assert d.fix is not None, d
        assert d.hint is not None and "did you mean" in d.hint  # the renderer names --fix
        (edit,) = d.fix.edits
        assert d.span == edit.span  # the fix renames the key the error points at
    fixed = tmp_path / name
    fixed.write_text(apply_edits(path.read_text(), errors))
    after = compile_path(fixed, display=name, until="check")
    assert after.ok, after.diagnostics
    assert not [d for d in after.diagnostics if d.code == "MC103"]


def test_the_from_scratch_file_routes_the_outage_to_sre_once_fixed(tmp_path: Path) -> None:
    """Issue 9: hit_polcy and required_specilist, and no classic rows the author never wrote."""
    path = CASES / "mc103_from_scratch.yaml"
    c = compile_path(path, until="check")
    codes = sorted((d.code, d.span.line) for d in c.diagnostics if d.span is not None)
    assert codes == [("MC103", 3), ("MC103", 20)]
    hints = " ".join(d.hint or "" for d in c.diagnostics)
    assert "'hit_policy'" in hints and "'required_specialist'" in hints
    fixed = tmp_path / "scratch.yaml"
    fixed.write_text(apply_edits(path.read_text(), c.diagnostics))
    assert "hit_policy: unique" in fixed.read_text()
    assert "required_specialist: sre" in fixed.read_text()
    from modec import compile_mode

    router = load_router(compile_mode(fixed))
    decision = router.route("Upgrade to the latest SDK during the outage")
    assert (decision.task_type, decision.specialist) == ("incident_tasks", "sre")
    # 'test' inside 'latest' no longer reaches a testing_tasks row the author never wrote.
    assert router.route("Pick the latest release").task_type == "general_tasks"


# --------------------------------------------------------------------------- extends


def test_resolve_extends_is_the_one_lookup_rule(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("x: 1\n")
    assert resolve_extends("mine.yaml", tmp_path).path == tmp_path / "mine.yaml"
    bundled = resolve_extends("default_roles.yaml", tmp_path)
    assert bundled.bundled and bundled.path == bundled_mode_path("default_roles.yaml")
    assert resolve_extends("nothing.yaml", tmp_path).problem == "not_found"
    for name in ("../mine.yaml", "a/b.yaml", "", "a\0b.yaml", "x" * 300 + ".yaml"):
        assert resolve_extends(name, tmp_path).problem == "not_a_name"
    outside = tmp_path / "outside.yaml"
    outside.write_text("x: 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "link.yaml").symlink_to(outside)
    assert resolve_extends("link.yaml", tmp_path / "sub").problem == "outside_folder"


@pytest.mark.parametrize("name", ["x" * 300 + ".yaml", "a\\u0000b.yaml", "é" * 200])
def test_unopenable_extends_names_are_located_diagnostics(name: str, tmp_path: Path) -> None:
    text = f'mode_metadata:\n  extends: "{name}"\n' + HEAD
    c = compile_text(text, "m.yaml", until="check", base_dir=tmp_path)
    errors = [d for d in c.diagnostics if d.is_error]
    assert [(d.code, d.span.line, d.span.column) for d in errors if d.span] == [("MC104", 2, 12)]


# --------------------------------------------------------------------------- role names


ROLES = HEAD + "debugger:\n  role_definition: d\n"


@pytest.mark.parametrize(
    ("tail", "code"),
    [
        (
            "task_routing_rules:\n  hotfix_tasks:\n    keywords: [hotfix]\n"
            "    required_specialist: debuger\n",
            "MC206",
        ),
        (
            "task_routing_rules:\n  hotfix_tasks:\n    keywords: [hotfix]\n"
            "    secondary_review: [sre, debuger]\n",
            "MC207",
        ),
        ("mode_configuration:\n  default_specialist: implementr\n", "MC208"),
        ("validation_rules:\n  required_roles: [implementer, debuger]\n", "MC202"),
    ],
)
def test_misspelt_role_names_get_a_fix(tail: str, code: str, tmp_path: Path) -> None:
    text = ROLES + tail
    c = compile_text(text, "m.yaml", until="check")
    (d,) = [d for d in c.diagnostics if d.is_error]
    assert d.code == code and d.fix is not None and d.hint is not None and "did you mean" in d.hint
    fixed = apply_edits(text, [d])
    after = compile_text(fixed, "m.yaml", until="check")
    assert after.ok, after.diagnostics
    assert not [x for x in after.diagnostics if x.code == code]


def test_mc207_never_suggests_the_name_that_was_written() -> None:
    text = HEAD.replace(
        '    sre: "Keeps production running"\n',
        '    sre: "Keeps production running"\n    reviewer: "Reviews"\n',
    ) + (
        "task_routing_rules:\n  hotfix_tasks:\n    keywords: [hotfix]\n"
        "    secondary_review: reviewer\n"
    )
    c = compile_text(text, "m.yaml", until="check")
    (d,) = [d for d in c.diagnostics if d.code == "MC207"]
    assert d.hint is not None and "did you mean 'reviewer'" not in d.hint
    assert "no role definition" in d.hint and d.fix is None


def test_keywords_written_as_a_string_get_a_fix() -> None:
    text = ROLES + "task_routing_rules:\n  hotfix_tasks:\n    keywords: hotfix, urgent fix\n"
    c = compile_text(text, "m.yaml", until="check")
    (d,) = [d for d in c.diagnostics if d.is_error]
    assert d.code == "MC101" and d.fix is not None
    fixed = apply_edits(text, [d])
    assert "keywords: [hotfix, urgent fix]" in fixed
    after = compile_text(fixed, "m.yaml", until="check")
    assert after.ok and after.mode is not None
    assert after.mode.rules[0].condition.values == ("hotfix", "urgent fix")  # type: ignore[union-attr]


PACK = 'architect:\n  role_definition: "Designs"\nimplementer:\n  role_definition: "Builds"\n'


@pytest.mark.parametrize(
    "text",
    [
        PACK,
        "# a pack\n\n" + PACK,
        "mode_metadata:\n  name: pack\n" + PACK,
        "mode_metadata: {name: pack}\n" + PACK,
        "mode_metadata: {}\n" + PACK,
    ],
)
def test_a_role_pack_gets_a_fix_that_makes_it_a_mode(text: str, tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(text)
    c = compile_path(path, until="check")
    (d,) = [d for d in c.diagnostics if d.is_error]
    assert d.code == "MC105" and d.fix is not None
    path.write_text(apply_edits(text, [d]))
    after = compile_path(path, until="check")
    assert after.ok, (path.read_text(), after.diagnostics)
    assert after.mode is not None and after.mode.metadata.extends == ("default_roles.yaml",)


@pytest.mark.parametrize(
    "name",
    sorted(
        p.name
        for p in CORPUS.glob("*.yaml")
        if "example-roles" in p.name or p.name.endswith("specialists.yaml")
    ),
)
def test_every_corpus_pack_is_fixed_by_its_fix(name: str, tmp_path: Path) -> None:
    text = (CORPUS / name).read_bytes().decode("utf-8")
    path = tmp_path / "pack.yaml"
    path.write_bytes((CORPUS / name).read_bytes())
    (d,) = [d for d in compile_path(path, until="check").diagnostics if d.is_error]
    assert d.fix is not None
    path.write_text(apply_edits(text, [d]), newline="")
    assert compile_path(path, until="check").ok


def test_warnings_of_a_successful_compile_are_public() -> None:
    from modec import compile_mode

    path = CORPUS / DEFAULT_ROLES  # lists `tester` without defining it
    found: list[Diagnostic] = []
    compile_mode(path, warnings=found)
    assert [d.code for d in found] == ["MC201"]
    assert compile_path(path).warnings == found
    assert found[0].severity is Severity.WARNING


def test_a_bad_test_complexity_says_which_values_are_valid() -> None:
    text = (
        ROLES + "tests:\n  - task: {title: t, complexity: huge}\n    expect_type: general_tasks\n"
    )
    c = compile_text(text, "m.yaml", until="check")
    (d,) = [d for d in c.diagnostics if d.is_error]
    assert d.code == "MC104" and d.span is not None and (d.span.line, d.span.column) == (13, 34)
    assert d.hint is not None
    for value in ("1–5", "trivial", "simple", "moderate", "complex", "very_complex"):
        assert value in d.hint


# --------------------------------------------------------------------------- README

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
#: The codes whose diagnostics carry a fix (when the correction is unambiguous).
FIX_CODES = {"MC101", "MC103", "MC105", "MC202", "MC206", "MC207", "MC208"}


def test_readme_code_table_lists_every_code_with_its_fix_marker() -> None:
    import re

    rows = re.findall(r"^\| `(MC\d{3})` \| (\w+) \| (fix)? \| (.+) \|$", README, flags=re.M)
    assert [code for code, *_ in rows] == list(CODES)
    assert {code for code, _, fix, _ in rows if fix} == FIX_CODES
    for code, severity, _, title in rows:
        assert (severity, title) == (CODES[code].severity.value, CODES[code].title)


def test_every_fix_marked_code_really_gets_fixes() -> None:
    seen: set[str] = set()
    for path in sorted(CASES.glob("*.yaml")):
        if _loadable(path):
            seen |= {d.code for d in compile_path(path, until="check").diagnostics if d.fix}
    seen |= {"MC202", "MC207", "MC208"}  # test_misspelt_role_names_get_a_fix
    assert seen == FIX_CODES


def test_readme_documents_the_key_rules_and_builtin_task_types() -> None:
    section = README.split("## Mode files")[1].split("\n## ")[0]
    for words in (
        "builtin_task_types: true",
        "x_",
        "did you mean",
        "MC308",
        "one edit away",
        "`modec lint --fix`",
    ):
        assert words in section


def test_text_given_as_a_number_keeps_its_spelling() -> None:
    text = (
        "mode_metadata:\n  version: 1.10\n  compatible_versions: [1.0, 2]\n"
        "task_orchestrator:\n  role_definition: 0x1F\n  expertise: [1.50, yes]\n"
        "  specialist_roles: {implementer: 007}\nimplementer: {role_definition: i}\n"
        "tests:\n  - task: {title: 1.20, tags: [3.0]}\n    expect_type: general_tasks\n"
    )
    c = compile_text(text, "m.yaml", until="check")
    assert c.ok, c.diagnostics
    assert c.mode is not None
    assert c.mode.metadata.version == "1.10"
    assert c.mode.metadata.compatible_versions == ("1.0", "2")
    orch = c.mode.roles["task_orchestrator"]
    assert (orch.role_definition, orch.expertise) == ("0x1F", ("1.50", "yes"))
    assert orch.specialist_roles == {"implementer": "007"}
    assert (c.mode.tests[0].task.title, c.mode.tests[0].task.tags) == ("1.20", ("3.0",))
