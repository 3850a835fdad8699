"""Properties of the loader: it never raises, every span lies inside the file, the tree agrees
with ``yaml.safe_load``, and ``locate`` points at the source character of every decoded one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from modec.compiler import compose, positions
from modec.compiler.positions import split_lines
from modec.compiler.source import LoadResult, YNode, load_bytes
from modec.diagnostics import Span

LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])

# Integers are 64-bit in mode files (issue 15: larger ones are refused at load, see below).
INT64 = st.integers(-(2**63), 2**63 - 1)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    INT64,
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.text(alphabet=" \t\n\\\"'#:-&*!|>{}[],é😀\u2028x", max_size=40),
    st.sampled_from(
        [
            "yes",
            "No",
            "on",
            "~",
            "null",
            "0x1F",
            "1_000",
            "1:30",
            ".inf",
            "2001-12-14",
            "<<",
            "=",
            "- a",
            "a: b",
            "#c",
            "  lead",
            "trail  ",
            "a\n\nb",
            "\r\n",
        ]
    ),
)
KEYS = st.one_of(st.text(max_size=12), st.sampled_from(["a", "on", "1", "null", "<<", "k: v"]))


def documents() -> st.SearchStrategy[dict[str, Any]]:
    values = st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)
        ),
        max_leaves=25,
    )
    return st.dictionaries(KEYS, values, min_size=1, max_size=5)


DUMP_OPTIONS = st.fixed_dictionaries(
    {
        "default_flow_style": st.sampled_from([None, False, True]),
        "default_style": st.sampled_from([None, None, "'", '"', "|", ">"]),
        "width": st.sampled_from([12, 40, 80]),
        "indent": st.sampled_from([2, 4, 7]),
        "line_break": st.sampled_from(["\n", "\r\n", "\r"]),
        "allow_unicode": st.booleans(),
        "explicit_start": st.booleans(),
    }
)


@contextmanager
def parsing_with(loader: type[yaml.SafeLoader]) -> Iterator[None]:
    saved = compose._LOADER
    compose._LOADER = loader
    try:
        yield
    finally:
        compose._LOADER = saved


def walk(node: YNode) -> Iterator[YNode]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        for k, v in n.items:
            stack += [k, v]
        stack.extend(n.children)


def to_python(node: YNode) -> Any:
    if node.kind == "map":
        return {k.value: to_python(v) for k, v in node.items}
    if node.kind == "seq":
        return [to_python(c) for c in node.children]
    return node.value


def assert_inside(span: Span, lines: list[str], path: str) -> None:
    assert span.file == path
    assert 1 <= span.line <= len(lines) + 1
    assert (span.end_line, span.end_column) >= (span.line, span.column)
    assert span.end_line <= len(lines) + 1
    for line, column in ((span.line, span.column), (span.end_line, span.end_column)):
        width = len(lines[line - 1]) if line <= len(lines) else 0
        assert 1 <= column <= width + 1


def assert_all_inside(result: LoadResult, path: str) -> None:
    text = result.source.text if result.source else ""
    lines = split_lines(text)  # spans index YAML lines (not str.splitlines: \v, \f, \x1c…)
    for d in result.diagnostics:
        assert d.span is not None
        assert_inside(d.span, lines, path)
    if result.root is not None:
        for node in walk(result.root):
            assert_inside(node.span, lines, path)


def assert_locates(node: YNode, text: str) -> None:
    """Each decoded character maps to itself, an escape, a folded line break or a quote."""
    assert node.raw is not None
    lines = text.splitlines(keepends=True)
    previous = (0, 0)
    for i, char in enumerate(node.raw):
        span = node.locate(i, i + 1)
        at = lines[span.line - 1][span.column - 1]
        if at != char:
            assert (at == "\\" and node.style == '"') or (
                char in " \n\u2028\u2029" and at in "\r\n\x85\u2028\u2029"
            ), (i, char, at, node.style, node.raw)
        assert (span.line, span.column) >= previous
        previous = (span.line, span.column)


@settings(max_examples=300)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    result = load_bytes(data, "fuzz.yaml")
    assert result.ok or result.diagnostics
    assert_all_inside(result, "fuzz.yaml")


@pytest.mark.parametrize("loader", LOADERS, ids=lambda c: c.__name__)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_arbitrary_text_never_raises(loader: type[yaml.SafeLoader], text: str) -> None:
    with parsing_with(loader):
        result = load_bytes(text.encode("utf-8"), "t.yaml")
    assert_all_inside(result, "t.yaml")


@pytest.mark.parametrize("loader", LOADERS, ids=lambda c: c.__name__)
@given(doc=documents(), options=DUMP_OPTIONS)
def test_dumped_documents_load_like_safe_load_and_locate_exactly(
    loader: type[yaml.SafeLoader], doc: dict[str, Any], options: dict[str, Any]
) -> None:
    text = yaml.safe_dump(doc, **options)
    with parsing_with(loader):
        result = load_bytes(text.encode("utf-8"), "doc.yaml")
    assert result.ok, (text, result.diagnostics)
    assert result.root is not None and result.source is not None
    assert to_python(result.root) == yaml.load(text, Loader=loader)
    assert_all_inside(result, "doc.yaml")
    for node in walk(result.root):
        if node.kind == "scalar":
            assert_locates(node, result.source.text)


@pytest.mark.parametrize("loader", LOADERS, ids=lambda c: c.__name__)
@given(
    doc=documents(),
    options=DUMP_OPTIONS,
    cuts=st.lists(st.tuples(st.integers(0, 10_000), st.text(max_size=3)), max_size=4),
)
def test_mutated_documents_never_raise(
    loader: type[yaml.SafeLoader],
    doc: dict[str, Any],
    options: dict[str, Any],
    cuts: list[tuple[int, str]],
) -> None:
    text = yaml.safe_dump(doc, **options)
    for at, insert in cuts:
        at %= len(text) + 1
        text = text[:at] + insert + text[at + 1 :]
    with parsing_with(loader):
        result = load_bytes(text.encode("utf-8", "surrogatepass"), "m.yaml")
    assert_all_inside(result, "m.yaml")
    if result.root is not None and result.source is not None:
        for node in walk(result.root):
            if node.kind == "scalar":
                assert_locates(node, result.source.text)


@settings(max_examples=100, deadline=None)
@given(
    value=st.one_of(st.integers(min_value=2**63), st.integers(max_value=-(2**63) - 1)),
    form=st.sampled_from(["{}", "{:#x}", "{:#b}", "0{:o}"]),
)
def test_integers_beyond_64_bits_are_one_located_mc104(value: int, form: str) -> None:
    literal = ("-" if value < 0 else "") + form.format(abs(value))
    result = load_bytes(f"key:\n  n: {literal}\n".encode(), "doc.yaml")
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [("MC104", 2, 6)]


# The one-line alphabet mixes what the fast path must refuse (breaks, escapes, quotes,
# trailing blanks) with what it copies unchanged.
ONE_LINE = st.text(alphabet=" \t\r\n\x85\u2028\\'\"#:-ab\u00e9\U0001f600", max_size=24)


@given(prefix=ONE_LINE, body=ONE_LINE)
def test_the_fast_path_of_plain_scalars_maps_like_the_full_scan(prefix: str, body: str) -> None:
    text, start = prefix + body, len(prefix)
    fast = positions._decode_plain(text, start, len(text))
    full = positions._scan_plain(text, start, len(text))
    assert (fast.chars, fast.starts, fast.ends) == (full.chars, full.starts, full.ends)


@pytest.mark.parametrize("quote", ["'", '"'])
@given(prefix=ONE_LINE, body=ONE_LINE)
def test_the_fast_path_of_quoted_scalars_maps_like_the_full_scan(
    quote: str, prefix: str, body: str
) -> None:
    text, start = f"{prefix}{quote}{body}{quote}", len(prefix)
    try:
        full = positions._scan_quoted(text, start, len(text), double=quote == '"')
    except (IndexError, ValueError):  # not a scalar the parser would accept
        return
    fast = positions._decode_quoted(text, start, len(text), double=quote == '"')
    assert (fast.chars, fast.starts, fast.ends) == (full.chars, full.starts, full.ends)
