"""The compiler never raises on hostile input: only diagnostics, all located inside the file."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from modec.compiler.pipeline import compile_text
from modec.diagnostics import Diagnostic

KEYS = st.sampled_from(
    [
        "task_orchestrator",
        "role_definition",
        "specialist_roles",
        "expertise",
        "approach",
        "task_routing_rules",
        "security_tasks",
        "general_tasks",
        "hotfix_tasks",
        "keywords",
        "when",
        "match",
        "field",
        "priority",
        "required_specialist",
        "secondary_review",
        "mode_metadata",
        "extends",
        "mode_configuration",
        "hit_policy",
        "default_complexity",
        "validation_rules",
        "required_roles",
        "tests",
        "task",
        "expect_type",
        "implementer",
        "complexity_boost",
        # near misses and extension keys: MC103 with fixes, and keys that stay free
        "hit_polcy",
        "required_specilist",
        "role_defintion",
        "x_source",
        "extnds",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            'title contains "x"',
            'tags contains any("a")',
            "complexity >= 9",
            "implementer",
            "first",
            "word",
            "default_roles.yaml",
            "(",
            "/(a)\\1/",
        ]
    ),
)


def documents() -> st.SearchStrategy[Any]:
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(KEYS, st.text(max_size=8)), inner, max_size=5),
        ),
        max_leaves=30,
    )


def assert_located(text_lines: int, diags: list[Diagnostic]) -> None:
    for d in diags:
        assert d.span is not None
        assert 1 <= d.span.line <= text_lines + 1
        assert d.span.column >= 1
        assert (d.span.end_line, d.span.end_column) >= (d.span.line, d.span.column)
        if d.fix is not None:  # a fix edits this file, inside it, without overlapping edits
            spans = sorted((e.span for e in d.fix.edits), key=lambda s: s.sort_key())
            for span in spans:
                assert span.file == d.span.file and 1 <= span.line <= text_lines + 1
                assert (span.end_line, span.end_column) >= (span.line, span.column)
            for a, b in pairwise(spans):
                assert (a.end_line, a.end_column) <= (b.line, b.column)


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    c = compile_text(data, "fuzz.yaml", until="check")
    assert c.mode is not None or not c.ok
    assert_located(
        data.count(b"\n") + 1, [d for d in c.diagnostics if d.span and d.span.file == "fuzz.yaml"]
    )


@given(documents(), st.sampled_from([None, False, True]))
def test_arbitrary_yaml_documents_never_raise(doc: Any, flow: bool | None) -> None:
    text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=True)
    c = compile_text(text, "doc.yaml", until="check")
    assert c.mode is not None or not c.ok
    assert_located(
        text.count("\n") + 1, [d for d in c.diagnostics if d.span and d.span.file == "doc.yaml"]
    )


@given(
    st.dictionaries(
        st.sampled_from(["bugfix_tasks", "security_tasks", "x"]),
        st.dictionaries(KEYS, SCALARS, max_size=4),
        max_size=3,
    )
)
def test_arbitrary_rules_never_raise(rules: dict[str, Any]) -> None:
    doc = {
        "task_orchestrator": {"role_definition": "o", "specialist_roles": {"implementer": "i"}},
        "implementer": {"role_definition": "i"},
        "task_routing_rules": rules,
    }
    text = yaml.safe_dump(doc)
    c = compile_text(text, "rules.yaml", until="check")
    assert c.mode is not None or not c.ok
    assert_located(text.count("\n") + 1, c.diagnostics)
