"""Generated row code (:mod:`modec.runtime.codegen`) decides as the reference interpreter.

The rows are drawn to reach every path the code generator writes: lazy locals first assigned
inside a short-circuited operand and read again later, text atoms split over the title and
the description (values with and without a line break), the description's lowered text
sliced from the lowered ``text``, tags as a small tuple or a set, metadata of every type
(bool against int, floats, text, lists, missing keys), regexes behind their required
literal, ``not`` around each atom kind, and the three hit policies. Each task is routed as a
:class:`Task` and as a plain dict, by the generated code (literals tested inline and through
the scanner's hits) and by the bitmask programs.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

from hypothesis import event, given, settings
from hypothesis import strategies as st

from modec.compiler.ir import (
    And,
    Compare,
    Const,
    Expr,
    InList,
    ModeFile,
    Not,
    Or,
    RegexMatch,
    TextMatch,
)
from modec.compiler.table import build_table
from modec.diagnostics import Span
from modec.runtime import codegen
from modec.runtime.router import AmbiguousRouteError, Router, Task
from modec.testing import make_mode, make_rule, reference_route

_SPAN = Span.point("codegen.yaml", 1, 1)
_KELVIN = "\u212a"
_DOTTED = "\u0130"

_TEXT_FIELDS = ("title", "description", "text")
_META_KEYS = ("team", "priority", "flag")
_WORDS = (
    "fix",
    "security",
    "cve",
    "k",
    "i\u0307",
    "σ",
    "ς",
    "a\nb",
    "\n",
    "x",
    "ſ",
    "data",
    "é",
    "_x",
)
_PATTERNS = (r"^fix([(].+[)])?:", r"se.urity", r"ask", r"^release", r"k", r"x$", r"(?:a|b)c")
_SCALARS = st.one_of(
    st.booleans(),
    st.sampled_from((0, 1, 2, 8, -1, 8.0, 7.5, 1.0)),
    st.sampled_from(("data", "DATA", "Data", _KELVIN, "k", _DOTTED, "i\u0307", "", "8")),
)
_PIECES = (
    "fix(ui): ",
    "FIX: ",
    "fix ",
    "Security",
    "CVE",
    "ΑΣ",
    "Σ",
    _DOTTED,
    _KELVIN,
    "ſ",
    "a\nb",
    "\n",
    "x",
    "release",
    "ASK",
    " ",
    "Data",
    "é",
)


def _texts(max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(st.sampled_from(_PIECES), max_size=max_size).map("".join),
        st.text(st.sampled_from("aXkK\u212a\u0130Σσς \n:()fé"), max_size=8),
    )


@st.composite
def atoms(draw: st.DrawFn) -> Expr:
    kind = draw(st.sampled_from(("text", "tags", "meta_text", "regex", "cmp", "in")))
    meta = f"metadata.{draw(st.sampled_from(_META_KEYS))}"
    if kind in ("text", "tags", "meta_text"):
        field = {
            "text": draw(st.sampled_from(_TEXT_FIELDS)),
            "tags": "tags",
            "meta_text": meta,
        }[kind]
        op = draw(st.sampled_from(("contains", "mentions", "startswith", "endswith")))
        if field == "tags":
            op = "contains" if draw(st.booleans()) else op
        quantifier = (
            "one"
            if op in ("startswith", "endswith")
            else draw(st.sampled_from(("one", "any", "all")))
        )
        count = 1 if quantifier == "one" else draw(st.integers(1, 4))
        values = tuple(draw(st.sampled_from(_WORDS)) for _ in range(count))
        return TextMatch(span=_SPAN, field=field, op=op, quantifier=quantifier, values=values)
    if kind == "regex":
        field = draw(st.sampled_from((*_TEXT_FIELDS, "tags", meta)))
        flags = draw(st.sampled_from(("", "i", "im", "s")))
        return RegexMatch(
            span=_SPAN, field=field, pattern=draw(st.sampled_from(_PATTERNS)), flags=flags
        )
    field = draw(st.sampled_from(("complexity", meta, meta, *_TEXT_FIELDS)))
    if field == "complexity":
        value: Any = draw(st.one_of(st.integers(1, 5), st.booleans()))
    elif field.startswith("metadata."):
        value = draw(_SCALARS)
    else:
        value = draw(st.sampled_from(("x", "fix", "", "a\nb", _KELVIN)))
    if kind == "in":
        others = draw(st.lists(_SCALARS, max_size=2))
        return InList(span=_SPAN, field=field, values=(value, *others))
    op = draw(st.sampled_from(("==", "!=", "<", "<=", ">", ">=")))
    return Compare(span=_SPAN, field=field, op=op, value=value)


def _not(e: Expr) -> Expr:
    return Not(span=_SPAN, operand=e)


def conditions() -> st.SearchStrategy[Expr]:
    return st.recursive(
        atoms(),
        lambda children: st.one_of(
            children.map(_not),
            st.lists(children, min_size=2, max_size=4).map(
                lambda ops: And(span=_SPAN, operands=tuple(ops))
            ),
            st.lists(children, min_size=2, max_size=4).map(
                lambda ops: Or(span=_SPAN, operands=tuple(ops))
            ),
        ),
        max_leaves=8,
    ) | st.builds(Const, span=st.just(_SPAN), value=st.booleans())


@st.composite
def tables(draw: st.DrawFn) -> ModeFile:
    rows = draw(st.lists(conditions(), min_size=1, max_size=6))
    return make_mode(
        [make_rule(f"r{i}_tasks", c, line=i + 2) for i, c in enumerate(rows)],
        builtin_task_types=False,
        hit_policy=draw(st.sampled_from(("first", "unique", "collect"))),
        default_complexity=draw(st.integers(1, 5)),
    )


@st.composite
def task_fields(draw: st.DrawFn) -> dict[str, Any]:
    tags = st.sampled_from(("hotfix", "HotFix", "ui", "UI", _DOTTED, "i\u0307", _KELVIN, "k", ""))
    values = st.one_of(_SCALARS, st.just([1]), st.just({"a": 1}))
    return {
        "title": draw(_texts(4)),
        "description": draw(_texts(8)),
        "tags": draw(st.lists(tags, max_size=5)),
        "complexity": draw(st.none() | st.integers(1, 5)),
        "metadata": draw(st.dictionaries(st.sampled_from(_META_KEYS), values, max_size=3)),
    }


def _answer(router: Router, task: Any) -> tuple[str, str | None, tuple[str, ...]] | None:
    try:
        d = router.route(task)
    except AmbiguousRouteError:
        return None
    return d.task_type, d.specialist, d.matches


def _expected(mode: ModeFile, task: Task) -> tuple[str, str | None, tuple[str, ...]] | None:
    try:
        return reference_route(mode, task)
    except AmbiguousRouteError:
        return None


def _routers(mode: ModeFile) -> list[Router]:
    table = build_table(mode)
    routers = [Router(table, generated=True), Router(table, generated=False)]
    # Literals tested through the scanner's hits, as in a table with many literals.
    with mock.patch.object(codegen, "MAX_INLINE_LITERALS", 0):
        routers.append(Router(table, generated=True))
    return routers


@settings(max_examples=300, deadline=None)
@given(tables(), st.lists(task_fields(), min_size=1, max_size=6))
def test_generated_rows_decide_as_the_reference(
    mode: ModeFile, batch: list[dict[str, Any]]
) -> None:
    routers = _routers(mode)
    for fields in batch:
        task = Task(**fields)
        want = _expected(mode, task)
        event("ambiguous" if want is None else "fallback" if not want[2] else "row taken")
        for router in routers:
            assert _answer(router, task) == want, router.route.__doc__
            assert _answer(router, fields) == want, router.route.__doc__


def _router_of(*conditions: Expr | str) -> tuple[ModeFile, Router]:
    mode = make_mode(
        [make_rule(f"r{i}_tasks", c, line=i + 2) for i, c in enumerate(conditions)],
        builtin_task_types=False,
    )
    return mode, Router(build_table(mode), generated=True)


def _agrees(mode: ModeFile, router: Router, **fields: Any) -> None:
    task = Task(**fields)
    assert _answer(router, task) == reference_route(mode, task), fields


def test_the_description_sliced_from_the_lowered_text_only_after_an_ascii_title() -> None:
    # `text != "q"` runs first (cheaper) and lowers `text`; the description's test then
    # slices its lowered text from it, which is right only when the title lowers to as many
    # characters (an ASCII title); `İ` lowers to two.
    condition = And(
        span=_SPAN,
        operands=(
            TextMatch(
                span=_SPAN, field="description", op="startswith", quantifier="one", values=("x",)
            ),
            Compare(span=_SPAN, field="text", op="!=", value="q"),
        ),
    )
    mode, router = _router_of(condition)
    assert "_xl[len(_title) + 1 :]" in (router.route.__doc__ or "")
    for title in ("ABC", _DOTTED, f"a{_DOTTED}b", "", "ΑΣ", _KELVIN):
        for description in ("Xy", "yX", "", "Σx", "x"):
            _agrees(mode, router, title=title, description=description)


def test_text_atoms_over_the_title_and_the_description_keep_the_lowering_of_text() -> None:
    # Final sigma: `Σ` lowers to `ς` at the end of a word; the title's last letter and the
    # description's first one sit beside the line break in `text`.
    mode, router = _router_of(
        'text contains any("ς", "σ") or text endswith "ς"',
        'text startswith "σ" or text mentions "ας"',
        r'text contains "ς\nσ"',
    )
    for title in ("ΑΣ", "Σ", "ΑΣΑ", "", "a"):
        for description in ("Σ", "ΣΑ", "αΣ", "", "x"):
            _agrees(mode, router, title=title, description=description)


def test_tags_are_lowered_whatever_their_count() -> None:
    mode, router = _router_of(
        'tags contains "k"', 'not tags contains "i̇"', 'tags contains any("x", "K")'
    )
    tags: tuple[str, ...]
    for tags in ((), (_KELVIN,), ("a", _DOTTED), ("a", "b", "K"), ("a", "b", "c", "X"), ("İ",)):
        _agrees(mode, router, tags=tags)


def test_metadata_comparisons_keep_types_apart() -> None:
    mode, router = _router_of(
        "metadata.flag == true",
        "metadata.priority >= 8",
        'metadata.team == "DATA"',
        "metadata.priority in [1, 2]",
    )
    for value in (True, False, 1, 1.0, 8, 8.5, "8", "data", "Data", None, [8], {"a": 8}):
        for key in _META_KEYS:
            _agrees(mode, router, metadata={key: value})
    _agrees(mode, router, metadata={})


def test_a_lazy_local_assigned_where_it_may_not_run_is_tested_later() -> None:
    # The title is lowered only when the complexity test passes; the second row reads it
    # again and must lower it itself otherwise.
    mode, router = _router_of(
        'complexity <= 2 and title contains "x"', 'title startswith "a"', 'title endswith "b"'
    )
    source = router.route.__doc__ or ""
    assert "_tl = None" in source and "_tl if _tl is not None" in source
    for complexity in (None, 1, 4):
        for title in ("ax", "Ab", "x", "AB"):
            _agrees(mode, router, title=title, complexity=complexity)


def test_a_lazy_local_certainly_assigned_is_read_bare() -> None:
    # The first row's first test runs for every task: the lowered tags it builds are read
    # without a test by every later row.
    mode, router = _router_of(
        'tags contains "hotfix"', 'not tags contains "docs" and title contains "x"'
    )
    source = router.route.__doc__ or ""
    assert "_tg is not None" not in source and "_tg = " not in source
    for tags in ((), ("HotFix",), ("docs",), ("DOCS", "a", "b")):
        _agrees(mode, router, tags=tags, title="x")
