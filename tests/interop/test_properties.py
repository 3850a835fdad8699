"""Hypothesis: importers never raise on any input, import is deterministic, and
``import(export(mode))`` keeps the roles, their descriptions and their routing rules."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from modec.compiler.pipeline import compile_path, compile_text
from modec.diagnostics import has_errors
from modec.grammar.printer import format_expr
from modec.interop import TARGETS, export_mode, import_paths
from modec.interop.document import one_line
from modec.runtime.router import Router, load_router

NAMES = {
    "roo": ".roomodes",
    "kilo": ".kilocodemodes",
    "claude": ".claude/agents/a.md",
    "copilot": "x.agent.md",
    "opencode_md": ".opencode/agent/a.md",
    "opencode_json": "opencode.json",
    "crewai": "config/agents.yaml",
    "crewai_tasks": "config/tasks.yaml",
    "bmad": "a.agent.yaml",
}


def _import_bytes(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rel, data in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        first = import_paths([root])
        second = import_paths([root])
        assert first.text == second.text  # deterministic
        assert first.diagnostics == second.diagnostics
        if first.text:
            assert not has_errors(first.compile_diagnostics), [
                (d.code, d.message) for d in first.compile_diagnostics
            ]


@settings(max_examples=60)
@given(st.sampled_from(sorted(NAMES)), st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(kind: str, data: bytes) -> None:
    _import_bytes({NAMES[kind]: data})


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_scalar = st.one_of(_text, st.integers(-5, 5), st.booleans(), st.none())
_value: st.SearchStrategy[Any] = st.recursive(
    _scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=6,
)


def _near(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Mappings using the format's own keys with arbitrary (often wrong) values."""
    return st.dictionaries(st.one_of(st.sampled_from(keys), _text), _value, max_size=len(keys))


_ROO_KEYS = [
    "slug",
    "name",
    "roleDefinition",
    "whenToUse",
    "description",
    "customInstructions",
    "groups",
    "source",
]
_FRONT_KEYS = [
    "name",
    "description",
    "tools",
    "model",
    "mode",
    "color",
    "permission",
    "temperature",
]
_CREW_KEYS = ["role", "goal", "backstory", "agent", "description", "expected_output"]


@st.composite
def _near_files(draw: st.DrawFn) -> dict[str, bytes]:
    kind = draw(st.sampled_from(["roo", "front", "crew", "bmad", "json"]))
    if kind == "roo":
        doc: Any = {"customModes": draw(st.lists(_near(_ROO_KEYS), max_size=3))}
        return {".roomodes": yaml.safe_dump(doc, allow_unicode=True).encode()}
    if kind == "front":
        front = yaml.safe_dump(draw(_near(_FRONT_KEYS)), allow_unicode=True)
        body = draw(_text)
        where = draw(
            st.sampled_from([".claude/agents/a.md", ".opencode/agent/b.md", "c.chatmode.md"])
        )
        return {where: f"---\n{front}---\n{body}\n".encode()}
    if kind == "crew":
        agents = draw(st.dictionaries(_text, _near(_CREW_KEYS), max_size=3))
        tasks = draw(st.dictionaries(_text, _near(_CREW_KEYS), max_size=3))
        return {
            "config/agents.yaml": yaml.safe_dump(agents, allow_unicode=True).encode(),
            "config/tasks.yaml": yaml.safe_dump(tasks, allow_unicode=True).encode(),
        }
    if kind == "bmad":
        menu = draw(st.lists(_near(["trigger", "workflow", "description"]), max_size=3))
        doc = {
            "agent": {
                "metadata": draw(_near(["id", "name", "title"])),
                "persona": draw(_near(["role", "identity", "principles"])),
                "menu": menu,
            }
        }
        return {"x.agent.yaml": yaml.safe_dump(doc, allow_unicode=True).encode()}
    agents = draw(st.dictionaries(_text, _near([*_FRONT_KEYS, "prompt"]), max_size=3))
    return {"opencode.json": json.dumps({"agent": agents}).encode()}


@settings(max_examples=80)
@given(_near_files())
def test_near_valid_files_never_raise_and_compile(files: dict[str, bytes]) -> None:
    _import_bytes(files)


# --------------------------------------------------------------------------- round trip

_BUILT_IN = {"main_thread", "agent", "build", "code", "orchestrator", "general_tasks", "tests"}
_role_names = st.from_regex(r"\A[a-z][a-z0-9]{1,6}(_[a-z0-9]{1,3})?\Z").filter(
    lambda n: n not in _BUILT_IN and not n.startswith(("x_", "r_"))
)
_words = st.from_regex(r"\A[a-z]{3,8}\Z")
_sentence = st.lists(st.from_regex(r"\A[A-Za-z][a-z]{0,7}[.,;]?\Z"), min_size=1, max_size=8).map(
    " ".join
)


@st.composite
def _modes(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(_role_names, min_size=1, max_size=4, unique=True))
    doc: dict[str, Any] = {
        "task_orchestrator": {
            "role_definition": draw(_sentence),
            "specialist_roles": {n: draw(_sentence) for n in names},
        },
    }
    for n in names:
        doc[n] = {"role_definition": draw(_sentence)}
    rules: dict[str, Any] = {}
    # distinct keyword sets: a rule that repeats an earlier rule's condition for another role
    # never fires, and the importer keeps one rule per signal (MC708)
    keyword_sets = draw(
        st.lists(
            st.lists(_words, min_size=1, max_size=3, unique=True),
            max_size=4,
            unique_by=lambda ws: frozenset(ws),
        )
    )
    for i, keywords in enumerate(keyword_sets):
        rule: dict[str, Any] = {
            "keywords": keywords,
            "required_specialist": draw(st.sampled_from(names)),
        }
        if draw(st.booleans()):
            rule["match"] = "word"
        rules[f"rule_{i}_tasks"] = rule
    rules["general_tasks"] = {"required_specialist": names[0]}
    doc["task_routing_rules"] = rules
    doc["mode_configuration"] = {"builtin_task_types": False}
    return doc


def _routing(mode_text: str) -> tuple[dict[str, str], set[tuple[str, str]]]:
    c = compile_text(mode_text, "m.yaml", until="check")
    assert c.mode is not None and c.ok, [(d.code, d.message) for d in c.diagnostics]
    specialists = {k: one_line(v) for k, v in c.mode.specialist_roles.items()}
    rules = {
        (format_expr(r.condition), str(r.required_specialist))
        for r in c.mode.rules
        if r.condition is not None and not r.implicit
    }
    return specialists, rules


def _router(text: str) -> Router:
    c = compile_text(text, "m.yaml")
    assert c.artifact is not None
    return load_router(c.artifact)


@settings(max_examples=30)
@given(_modes(), st.sampled_from(TARGETS), st.data())
def test_import_of_export_keeps_roles_descriptions_and_rules(
    doc: dict[str, Any], to: str, data: st.DataObject
) -> None:
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    before_specialists, before_rules = _routing(text)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "m.yaml").write_text(text, encoding="utf-8")
        exported = export_mode(root / "m.yaml", to, root / "out")  # type: ignore[arg-type]
        assert exported.ok and exported.written
        again = import_paths([root / "out"])
        assert again.ok, [(d.code, d.message) for d in again.compile_diagnostics]
        after_specialists, after_rules = _routing(again.text)
        for name, description in before_specialists.items():
            assert after_specialists.get(name) == description
        assert before_rules <= after_rules
        # the same rows in the same order, and the same default: every task routes alike
        words = sorted(
            {w for r in doc["task_routing_rules"].values() for w in r.get("keywords", [])}
        ) or ["none"]
        tasks = data.draw(
            st.lists(
                st.lists(st.sampled_from([*words, "other", "x"]), max_size=4).map(" ".join),
                min_size=1,
                max_size=10,
            )
        )
        before, after = _router(text), _router(again.text)
        for task in tasks:
            assert before.route(task).specialist == after.route(task).specialist, task
        # and the imported mode exports again
        (root / "m2.yaml").write_text(again.text, encoding="utf-8")
        assert compile_path(root / "m2.yaml", until="check").ok
        assert export_mode(root / "m2.yaml", to, root / "out2").ok  # type: ignore[arg-type]
