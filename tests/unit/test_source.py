"""The loader (compiler.source): located nodes, every diagnostic code it owns, locate()."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from modec.compiler import compose, positions, source
from modec.compiler.source import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    LoadResult,
    YNode,
    load_bytes,
    load_path,
)
from modec.diagnostics import Span

LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])


@pytest.fixture(params=LOADERS, ids=lambda c: c.__name__, autouse=True)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every test runs against libyaml and against the pure-Python parser."""
    monkeypatch.setattr(compose, "_LOADER", request.param)
    return request.param


def load(text: str | bytes, path: str = "m.yaml") -> LoadResult:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return load_bytes(data, path)


def found(result: LoadResult) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in result.diagnostics if d.span]


def root(text: str) -> YNode:
    result = load(text)
    assert result.ok, result.diagnostics
    assert result.root is not None
    return result.root


def at(text: str, span: Span) -> str:
    """The source character at a span's start."""
    return text.splitlines(keepends=True)[span.line - 1][span.column - 1]


def scalar(text: str, *path: str | int) -> tuple[YNode, str]:
    result = load(text)
    assert result.ok, result.diagnostics
    node = result.root
    for step in path:
        assert node is not None
        node = node.children[step] if isinstance(step, int) else node.get(step)
    assert node is not None and node.kind == "scalar" and result.source is not None
    return node, result.source.text


def located(node: YNode, text: str) -> str:
    """The source character under each decoded character, joined."""
    assert node.raw is not None
    return "".join(at(text, node.locate(i, i + 1)) for i in range(len(node.raw)))


def count_events(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Counts the YAML events the composer reads from now on (the loader's unit of work)."""
    calls = 0
    original = compose._Composer.next_event

    def next_event(self: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(self)

    monkeypatch.setattr(compose._Composer, "next_event", next_event)
    return lambda: calls


def nodes(node: YNode) -> Iterator[YNode]:
    yield node
    for k, v in node.items:
        yield from nodes(k)
        yield from nodes(v)
    for c in node.children:
        yield from nodes(c)


# --------------------------------------------------------------------------- the tree


def test_tree_has_kinds_tags_values_styles_and_spans() -> None:
    r = root(
        "name: modec\n"
        "count: 3\n"
        "ratio: 0.5\n"
        "on: yes\n"
        "none:\n"
        "when: 2001-12-14\n"
        "quoted: '3'\n"
        "list: [a, 'b']\n"
        "block:\n"
        "  - x\n"
        "  - y: 1\n"
    )
    assert r.kind == "map" and r.tag == "tag:yaml.org,2002:map"
    assert [k.raw for k, _ in r.items] == [
        "name",
        "count",
        "ratio",
        "on",
        "none",
        "when",
        "quoted",
        "list",
        "block",
    ]
    name = r.get("name")
    assert name is not None
    assert (name.kind, name.tag, name.value, name.raw, name.style) == (
        "scalar",
        "tag:yaml.org,2002:str",
        "modec",
        "modec",
        None,
    )
    assert name.span == Span(file="m.yaml", line=1, column=7, end_line=1, end_column=12)
    values = {k.raw: v for k, v in r.items}
    assert values["count"].value == 3 and values["count"].tag.endswith(":int")
    assert values["ratio"].value == 0.5 and values["ratio"].tag.endswith(":float")
    assert values["on"].value is True and values["on"].tag.endswith(":bool")
    assert values["none"].value is None and values["none"].tag.endswith(":null")
    assert values["when"].value == "2001-12-14" and values["when"].tag.endswith(":timestamp")
    assert values["quoted"].value == "3" and values["quoted"].style == "'"
    lst = values["list"]
    assert lst.kind == "seq" and [c.value for c in lst.children] == ["a", "b"]
    assert lst.span == Span(file="m.yaml", line=8, column=7, end_line=8, end_column=15)
    block = values["block"]
    assert block.kind == "seq"
    assert (block.span.line, block.span.column, block.span.end_line, block.span.end_column) == (
        10,
        3,
        11,
        9,
    )
    key = r.items[0][0]
    assert key.span == Span(file="m.yaml", line=1, column=1, end_line=1, end_column=5)


def test_keys_are_looked_up_by_their_text_whatever_their_tag() -> None:
    r = root("on: 1\n'off': 2\n3: three\nnull: n\n")
    assert r.get("on") is not None and r.get("on").value == 1  # type: ignore[union-attr]
    assert r.get("off") is not None
    assert r.get("3") is not None and r.get("null") is not None
    assert r.get("missing") is None
    assert r.items[0][0].value is True  # YAML 1.1, as PyYAML reads it


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0x1F", 31),
        ("0b101", 5),
        ("017", 15),
        ("1_000", 1000),
        ("-42", -42),
        ("+7", 7),
        ("1:30", 90),
        ("1.5e+3", 1500.0),
        ("-.inf", float("-inf")),
        ("1:30.5", 90.5),
        ("~", None),
        ("Null", None),
        ("off", False),
        ("TRUE", True),
        ("0", 0),
    ],
)
def test_scalars_construct_like_safe_load(text: str, value: object) -> None:
    node = root(f"v: {text}\n").get("v")
    assert node is not None
    assert node.value == value == yaml.safe_load(f"v: {text}")["v"]
    assert type(node.value) is type(value)


def test_nan_is_a_float() -> None:
    node = root("v: .NaN\n").get("v")
    assert node is not None and isinstance(node.value, float) and node.value != node.value


def test_explicit_standard_tags_are_accepted() -> None:
    r = root(
        "a: !!str 12\nb: !!int '12'\nc: !!float 1\nd: !!bool 'yes'\ne: !!null x\n"
        "f: ! 12\ng: !!map {x: 1}\nh: !!seq [1]\n"
    )
    assert [v.value for _, v in r.items][:6] == ["12", 12, 1.0, True, None, 12]
    assert r.get("a").tag.endswith(":str")  # type: ignore[union-attr]


def test_block_collection_span_stops_at_its_last_entry() -> None:
    r = root("a:\n  b: 1\n  c: [2]\n\n# trailing comment\nd: 3\n")
    a = r.get("a")
    assert a is not None
    assert (a.span.line, a.span.column, a.span.end_line, a.span.end_column) == (2, 3, 3, 9)
    assert (r.span.line, r.span.column, r.span.end_line, r.span.end_column) == (1, 1, 6, 5)


def test_block_scalar_span_stops_at_its_last_character() -> None:
    node, _ = scalar("a: |\n  one\n  two\n\n\nb: 1\n", "a")
    assert (node.span.line, node.span.column, node.span.end_line, node.span.end_column) == (
        1,
        4,
        3,
        6,
    )


def test_aliases_share_the_anchored_node() -> None:
    r = root("a: &x {k: v}\nb: *x\nc: &s text\nd: *s\n")
    assert r.get("b") is r.get("a")
    d = r.get("d")
    assert d is not None and d.value == "text" and d.span.line == 3


def test_bom_is_stripped_and_digest_is_of_the_raw_bytes() -> None:
    data = b"\xef\xbb\xbfa: 1\n"
    result = load(data)
    assert result.ok and result.source is not None
    assert result.source.text == "a: 1\n"
    assert result.source.sha256 == hashlib.sha256(data).hexdigest()
    a = result.root.get("a")  # type: ignore[union-attr]
    assert a is not None and (a.span.line, a.span.column) == (1, 4)


def test_ok_is_false_with_errors_and_true_without() -> None:
    assert load("a: 1\n").ok
    bad = load("a: 1\na: 2\n")
    assert bad.root is not None and not bad.ok


def test_diagnostics_are_sorted_by_position() -> None:
    result = load("b: !foo 1\na: 1\na: 2\nc: !bar 3\n")
    assert found(result) == [("MC009", 1, 4), ("MC005", 3, 1), ("MC009", 4, 4)]


# --------------------------------------------------------------------------- merge keys


def test_merge_keys_expand_with_explicit_keys_winning() -> None:
    r = root(
        "base: &base\n  x: 1\n  y: 2\n"
        "other: &other {y: 20, z: 30}\n"
        "role:\n  a: 0\n  <<: [*base, *other]\n  y: 3\n"
    )
    role = r.get("role")
    assert role is not None
    assert [(k.raw, v.value) for k, v in role.items] == [("a", 0), ("x", 1), ("z", 30), ("y", 3)]
    assert role.get("y").span.line == 8  # type: ignore[union-attr]
    assert role.get("x").span.line == 2  # type: ignore[union-attr]  # where it was written


def test_merge_of_inline_mapping_and_no_duplicate_for_merged_keys() -> None:
    result = load("a:\n  <<: {k: 1}\n  k: 2\n")
    assert result.ok
    assert result.root.get("a").get("k").value == 2  # type: ignore[union-attr]


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    r = root("'<<': 1\n")
    assert r.get("<<") is not None


# --------------------------------------------------------------------------- MC001 / MC002


def test_mc001_missing_file(tmp_path: Path) -> None:
    result = load_path(tmp_path / "nope.yaml", display="nope.yaml")
    assert found(result) == [("MC001", 1, 1)]
    assert result.source is None and result.root is None and not result.ok
    assert result.diagnostics[0].span.file == "nope.yaml"  # type: ignore[union-attr]


def test_mc001_directory(tmp_path: Path) -> None:
    assert found(load_path(tmp_path)) == [("MC001", 1, 1)]


def test_mc001_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert found(load_path(fifo)) == [("MC001", 1, 1)]  # and does not block


def test_mc001_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "m.yaml"
    target.write_text("a: 1\n")

    def denied(*args: object, **kwargs: object) -> io.BytesIO:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(source, "open", denied, raising=False)
    result = load_path(target)
    assert found(result) == [("MC001", 1, 1)]
    assert "permission" in result.diagnostics[0].message


def test_load_path_reads_a_file_and_uses_the_display_path(tmp_path: Path) -> None:
    target = tmp_path / "m.yaml"
    target.write_bytes(b"a: 1\r\nb: 2\r\n")
    result = load_path(target, display="roles/m.yaml")
    assert result.ok and result.source is not None
    assert result.source.path == "roles/m.yaml"
    assert result.root.get("b").span.file == "roles/m.yaml"  # type: ignore[union-attr]
    assert load_path(str(target)).source.path == str(target)  # type: ignore[union-attr]


def test_mc002_file_over_the_limit(tmp_path: Path) -> None:
    target = tmp_path / "big.yaml"
    target.write_bytes(b"a: " + b"x" * (2 << 20))
    assert found(load_path(target)) == [("MC002", 1, 1)]
    assert found(load(b"#" * (MAX_FILE_BYTES + 1))) == [("MC002", 1, 1)]


def test_a_file_of_exactly_the_limit_loads(tmp_path: Path) -> None:
    head = b"a: 1\n"
    data = head + b"#" * (MAX_FILE_BYTES - len(head) - 1) + b"\n"
    assert len(data) == MAX_FILE_BYTES
    target = tmp_path / "edge.yaml"
    target.write_bytes(data)
    assert load_path(target).ok


def test_mc002_never_reads_past_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "grows.yaml"
    target.write_bytes(b"a: 1\n")
    reads: list[int] = []

    class Growing(io.BytesIO):  # a file that grew after stat(): 3 MiB of content
        def read(self, size: int | None = -1) -> bytes:
            reads.append(-1 if size is None else size)
            return super().read(size)

    monkeypatch.setattr(source, "open", lambda *a, **k: Growing(b"#" * (3 << 20)), raising=False)
    assert found(load_path(target)) == [("MC002", 1, 1)]
    assert reads == [MAX_FILE_BYTES + 1]


# --------------------------------------------------------------------------- MC003


def test_mc003_invalid_utf8_points_at_the_first_bad_byte() -> None:
    assert found(load(b"a: 1\nb: caf\xe9\n")) == [("MC003", 2, 7)]
    # columns count code points: "é" and "😀" are one column each
    assert found(load("a: é😀x".encode() + b"\xff\n")) == [("MC003", 1, 7)]
    # after a BOM, which is not a column
    assert found(load(b"\xef\xbb\xbfab\xc3\n")) == [("MC003", 1, 3)]


def test_mc003_invalid_utf8_keeps_a_lossy_text_for_snippets() -> None:
    result = load(b"a: caf\xe9\n")
    assert result.source is not None and result.source.text == "a: caf\ufffd\n"
    assert result.root is None


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("utf-16", "UTF-16"),
        ("utf-16-be", None),
        ("utf-32", "UTF-32"),
    ],
)
def test_mc003_utf16_and_utf32(encoding: str, name: str | None) -> None:
    data = "a: 1\n".encode(encoding)
    if name is None:
        data = b"\xfe\xff" + data
        name = "UTF-16"
    result = load(data)
    assert found(result) == [("MC003", 1, 1)]
    assert name in result.diagnostics[0].message


def test_mc003_utf16_without_bom_and_nul_bytes() -> None:
    result = load("a: 1\n".encode("utf-16-le"))
    assert [d.code for d in result.diagnostics] == ["MC003"]
    assert "NUL" in result.diagnostics[0].message
    assert found(load(b"a: 1\nb: x\x00y\n")) == [("MC003", 2, 5)]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"a: 1\nb: \x01\n", (2, 4)),
        (b"a: '\x1b[0m'\n", (1, 5)),
        (b"a: \xc2\x9b\n", (1, 4)),  # C1 control U+009B
        (b"a: 1\n\xef\xbb\xbfb: 2\n", (2, 1)),  # a BOM that is not at the start
        (b"a: \x7f\n", (1, 4)),
    ],
)
def test_mc003_control_characters(data: bytes, where: tuple[int, int]) -> None:
    assert found(load(data)) == [("MC003", *where)]


def test_tabs_and_nel_are_allowed() -> None:
    assert load(b"a: 'x\ty'\n").ok
    assert load("a: 'x\x85y'\n".encode()).ok


# --------------------------------------------------------------------------- MC004


# Issue 9: the position of the real cause (the opening quote or bracket, the key without its
# colon, the tab), the same under libyaml and the pure-Python parser.
MC004_CASES = {
    "second colon in a plain value": ("a: b: c\n", (1, 5)),
    "unclosed bracket": ("a: [1, 2\nb: 3\n", (1, 4)),
    "unclosed quote": ("a: 'unterminated\n", (1, 4)),
    "unclosed double quote": ('a:\n  b: "never closed\n  c: []\n', (2, 6)),
    "bad indentation": ("a:\n  - 1\n b: 2\n", (3, 2)),
    "indented under a key with a value": ("a:\n  b: x\n    c: []\n", (3, 5)),
    "tab indentation": ("a:\n\tb: x\n", (2, 1)),
    "tab indentation after a tab separator": ("a:\n  b:\tx\n\tc: []\n", (3, 1)),
    "missing colon before the next key": ("a:\n  b x\n  c: []\n", (2, 3)),
    "missing colon on the last key": ("a:\n  c: []\n  b x\n", (3, 3)),
    "missing colon on a top-level key": ("m:\n  n: x\na\n  b: x\n", (3, 1)),
    "reserved first character": ("a: @x\n", (1, 4)),
}


@pytest.mark.parametrize(("text", "where"), MC004_CASES.values(), ids=list(MC004_CASES))
def test_mc004_syntax_errors(text: str, where: tuple[int, int]) -> None:
    result = load(text)
    assert found(result) == [("MC004", *where)]
    assert result.root is None and not result.ok


@pytest.mark.parametrize("text", [t for t, _ in MC004_CASES.values()], ids=list(MC004_CASES))
def test_mc004_speaks_plainly_with_a_hint(text: str) -> None:
    (diagnostic,) = load(text).diagnostics
    assert diagnostic.hint
    jargon = ("token", "<block", "simple key", "scanning", "not allowed here", "in this context")
    assert not [word for word in jargon if word in diagnostic.message + diagnostic.hint]


def test_vertical_tab_and_form_feed_are_not_line_breaks() -> None:
    # Both are refused (MC003), at their place on line 1: a two-line file never says line 3.
    assert found(load(b"a: 1\x0bb: 2\nc: 3")) == [("MC003", 1, 5)]
    assert found(load(b"a: 1\x0cb: 2\nc: 3")) == [("MC003", 1, 5)]
    # NEL, LS and PS are YAML 1.1 line breaks, as PyYAML reads them.
    result = load("a: 1\x85b: x\u2028c: @\n".encode())
    assert found(result) == [("MC004", 3, 4)]


def test_mc004_bad_escape_points_into_the_string() -> None:
    result = load('a: "bad \\q escape"\n')
    assert [(d.code, d.span.line) for d in result.diagnostics if d.span] == [("MC004", 1)]
    assert result.diagnostics[0].span.column in (9, 10)  # type: ignore[union-attr]


def test_mc004_message_carries_the_parser_problem_when_no_rule_knows_the_mistake() -> None:
    # A mistake no rule of compiler.yaml_errors recognises keeps the parser's own words.
    d = load("a: *\n").diagnostics[0]
    assert d.code == "MC004" and d.message.startswith("YAML syntax error: ")
    assert "alphabetic or numeric" in d.message


@pytest.mark.parametrize("escape", ["\\uD800", "\\uDFFF", "\\UFFFFFFFF", "\\U00110000"])
def test_mc004_out_of_range_escapes(escape: str) -> None:
    result = load(f'a: 1\nb: "x{escape}"\n')
    assert [(d.code, d.span.line) for d in result.diagnostics if d.span] == [("MC004", 2)]
    assert result.root is None


def test_mc004_undefined_alias_and_duplicate_anchor() -> None:
    assert found(load("a: *nope\n")) == [("MC004", 1, 4)]
    result = load("a: &x 1\nb: &x 2\nc: *x\n")
    assert found(result) == [("MC004", 2, 4)]
    assert "line 1" in (result.diagnostics[0].hint or "")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        "{a: " * 50_000,
        "- " * 100_000 + "x\n",
        "".join(" " * i + "k:\n" for i in range(1_200)),
    ],
)
def test_mc004_deep_nesting_is_a_diagnostic_not_a_crash(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = count_events(monkeypatch)
    result = load(text)
    assert [d.code for d in result.diagnostics] == ["MC004"]
    assert result.root is None
    assert steps() <= 2 * MAX_DEPTH + 10  # stops at the depth bound, not at the end of the text


def test_nesting_up_to_the_bound_is_fine_and_one_more_is_not() -> None:
    ok = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert load(ok).ok
    deep = "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"
    assert found(load(deep)) == [("MC004", 1, 3 + MAX_DEPTH)]


def test_mc004_nesting_through_an_alias() -> None:
    half = MAX_DEPTH // 2 + 1
    text = f"a: &a {'[' * half}{']' * half}\nb: {'[' * half}*a{']' * half}\n"
    result = load(text)
    assert found(result) == [("MC004", 2, 4 + half)]


# --------------------------------------------------------------------------- MC005


def test_mc005_duplicate_key_at_the_second_with_the_first_line_in_the_hint() -> None:
    result = load("a: 1\nb:\n  c: 1\n  'c': 2\na: 3\n")
    assert found(result) == [("MC005", 4, 3), ("MC005", 5, 1)]
    hints = [d.hint or "" for d in result.diagnostics]
    assert "line 3" in hints[0] and "line 1" in hints[1]
    assert result.root is not None and result.root.get("a").value == 1  # type: ignore[union-attr]


def test_mc005_in_flow_mappings() -> None:
    assert found(load("a: {x: 1, y: 2, x: 3}\n")) == [("MC005", 1, 17)]


# --------------------------------------------------------------------------- MC006


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", (1, 1)),
        ("# only\n# comments\n", (1, 1)),
        ("\n\n   \n", (1, 1)),
        ("just text\n", (1, 1)),
        ("- a\n- b\n", (1, 1)),
        ("\n\n42\n", (3, 1)),
        ("---\n", (2, 1)),
    ],
)
def test_mc006_root_is_not_a_mapping(text: str, where: tuple[int, int]) -> None:
    result = load(text)
    assert result.root is None and not result.ok
    assert found(result) == [("MC006", *where)]


# --------------------------------------------------------------------------- MC007


def test_mc007_billion_laughs(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    steps = count_events(monkeypatch)
    result = load("\n".join(lines) + "\n")
    assert [d.code for d in result.diagnostics] == ["MC007"]
    assert result.root is None
    assert steps() <= 120  # the events of the text (an alias is never re-walked), then the stop


def test_mc007_recursive_alias() -> None:
    assert found(load("a: &a [1, *a]\n")) == [("MC007", 1, 11)]
    assert found(load("a: &a {k: {j: *a}}\n")) == [("MC007", 1, 15)]


def test_mc007_too_many_aliases() -> None:
    text = "a: &s x\nb: [" + ", ".join(["*s"] * (MAX_ALIASES + 1)) + "]\n"
    result = load(text)
    assert [d.code for d in result.diagnostics] == ["MC007"]
    assert result.diagnostics[0].span.line == 2  # type: ignore[union-attr]


def test_mc007_node_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compose, "MAX_NODES", 50)
    assert load("a: [" + ", ".join(["1"] * 40) + "]\n").ok
    assert found(load("a: [" + ", ".join(["1"] * 60) + "]\n"))[0][0] == "MC007"
    aliased = load("a: &a [" + ", ".join(["1"] * 20) + "]\nb: *a\nc: *a\n")
    assert found(aliased) == [("MC007", 3, 4)]


def test_aliases_within_the_bounds_are_fine() -> None:
    text = "a: &s x\nb: [" + ", ".join(["*s"] * 100) + "]\n"
    assert load(text).ok


# --------------------------------------------------------------------------- MC008


def test_mc008_second_document() -> None:
    result = load("a: 1\n---\nb: 2\n")
    assert found(result) == [("MC008", 2, 1)]
    assert result.root is not None and result.root.get("a") is not None and not result.ok
    assert found(load("--- \na: 1\n...\n--- \nb: 2\n")) == [("MC008", 4, 1)]


def test_explicit_single_document_markers_are_fine() -> None:
    assert load("%YAML 1.1\n---\na: 1\n...\n").ok


# --------------------------------------------------------------------------- MC009


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: !!python/object:os.system x\n", (1, 4)),
        ("a: !!python/name:os.system\n", (1, 4)),
        ("a: !custom 1\n", (1, 4)),
        ("a: !!set {x}\n", (1, 4)),
        ("a: !!omap [x: 1]\n", (1, 4)),
        ("a: !!binary aGVsbG8=\n", (1, 4)),
        ("a:\n  - !<tag:example.com,2024:x> 1\n", (2, 5)),
        ("? [a, b]\n: 1\n", (1, 3)),
        ("{a: 1}: 2\n", (1, 1)),
        ("a: !!int abc\n", (1, 4)),
        ("a: !!float x\n", (1, 4)),
        ("a: !!bool maybe\n", (1, 4)),
        ("a: !!int ''\n", (1, 4)),
        ("a:\n  <<: 1\n", (2, 7)),
        ("a:\n  <<: [{x: 1}, 2]\n", (2, 16)),
    ],
)
def test_mc009_unsupported_tags_and_non_scalar_keys(text: str, where: tuple[int, int]) -> None:
    result = load(text)
    assert found(result) == [("MC009", *where)]
    assert not result.ok


def test_an_int_too_long_for_python_is_an_mc104_with_a_short_message() -> None:
    # Was MC009 ("cannot be read as !!int"); since issue 15 every out-of-range number is MC104.
    result = load("a: " + "9" * 5000 + "\n")
    assert found(result) == [("MC104", 1, 4)]
    assert len(result.diagnostics[0].message) < 80


# --------------------------------------------------------------------------- locate


def test_locate_plain_multiline() -> None:
    text = "a: first line\n   second   part\n\n   after blank  # comment\nb: 1\n"
    node, src = scalar(text, "a")
    assert node.raw == "first line second   part\nafter blank"
    assert located(node, src) == "first line\nsecond   part\nafter blank"
    span = node.locate(node.raw.index("after"), node.raw.index("after") + 5)
    assert (span.line, span.column, span.end_line, span.end_column) == (4, 4, 4, 9)


def test_locate_single_quoted() -> None:
    text = "k: 'it''s   \n    folded\n\n  twice ''q'''\n"
    node, src = scalar(text, "k")
    assert node.raw == "it's folded\ntwice 'q'"
    assert located(node, src) == "it's\nfolded\ntwice 'q'"
    q = node.raw.index("q")
    assert node.locate(q, q + 1) == Span(
        file="m.yaml", line=4, column=11, end_line=4, end_column=12
    )
    apostrophe = node.locate(2, 3)  # '' is two source columns for one character
    assert (apostrophe.column, apostrophe.end_column) == (7, 9)


def test_locate_double_quoted_with_every_kind_of_escape() -> None:
    text = (
        'k: "a\\tb \\x41\\u00e9\\U0001F600 \\"q\\" \\\\ \\/ \\N\\_\\0 tab\there\n'
        "     next line \\\n"
        "     joined\\\n"
        "\n"
        '     end"\n'
    )
    node, src = scalar(text, "k")
    assert node.raw == (
        'a\tb A\u00e9\U0001f600 "q" \\ / \x85\xa0\x00 tab\there next line joined\nend'
    )
    assert located(node, src) == ("a\\b \\\\\\ \\q\\ \\ \\ \\\\\\ tab\there\nnext line joined\nend")
    # each escape spans its whole source text
    i = node.raw.index("A")
    assert node.locate(i, i + 1) == Span(
        file="m.yaml", line=1, column=10, end_line=1, end_column=14
    )
    i = node.raw.index("\U0001f600")
    span = node.locate(i, i + 1)
    assert (span.column, span.end_column) == (20, 30)
    i = node.raw.index("joined")
    assert node.locate(i, i + 6) == Span(file="m.yaml", line=3, column=6, end_line=3, end_column=12)
    i = node.raw.index("end")
    assert (node.locate(i, i + 1).line, node.locate(i, i + 1).column) == (5, 6)


def test_locate_literal_block_with_indicator_and_keep() -> None:
    text = "root:\n  a: |2+\n      indented\n    x\n\n    y\n\n\n  b: 1\n"
    node, src = scalar(text, "root", "a")
    assert node.raw == "  indented\nx\n\ny\n\n\n"
    assert located(node, src) == "  indented\nx\n\ny\n\n\n"
    i = node.raw.index("indented")
    span = node.locate(i, i + 8)
    assert (span.line, span.column, span.end_line, span.end_column) == (3, 7, 3, 15)
    assert node.locate(0, 1).column == 5


def test_locate_literal_block_with_comment_header_and_strip() -> None:
    text = "a: |-  # a comment\n  one\n   two\n\nb: 2\n"
    node, src = scalar(text, "a")
    assert node.raw == "one\n two"
    assert located(node, src) == "one\n two"


def test_locate_folded_block() -> None:
    text = "a: >\n  folded\n  text\n\n  para\n    more\n  end\n"
    node, src = scalar(text, "a")
    assert node.raw == "folded text\npara\n  more\nend\n"
    assert located(node, src) == "folded\ntext\npara\n  more\nend\n"
    i = node.raw.index("text")
    assert (node.locate(i, i + 1).line, node.locate(i, i + 1).column) == (3, 3)
    i = node.raw.index("more")
    assert (node.locate(i, i + 1).line, node.locate(i, i + 1).column) == (6, 5)


def test_locate_top_level_block_scalar_in_a_sequence() -> None:
    node, src = scalar("a:\n- >1-\n  two spaces\n- x\n", "a", 0)
    assert node.raw == " two spaces"
    assert located(node, src) == " two spaces"


@pytest.mark.parametrize("style", ["plain", "single", "double", "literal", "folded"])
def test_locate_with_crlf_line_endings(style: str) -> None:
    body = {
        "plain": "a: one two\n  three\n\n  four\n",
        "single": "a: 'one two\n  three\n\n  four'\n",
        "double": 'a: "one two\n  three\\\n  \\x41\n\n  four"\n',
        "literal": "a: |\n  one two\n  three\n\n  four\n",
        "folded": "a: >\n  one two\n  three\n\n  four\n",
    }[style]
    text = body.replace("\n", "\r\n")
    node, src = scalar(text, "a")
    lf, _ = scalar(body, "a")
    assert node.raw is not None and node.raw == lf.raw
    assert src == text
    for i, char in enumerate(node.raw):
        span = node.locate(i, i + 1)
        assert (span.line, span.column) == (lf.locate(i, i + 1).line, lf.locate(i, i + 1).column)
        source_char = at(src, span)
        if char not in " \n":
            assert source_char == char or source_char == "\\"
        else:
            assert source_char in " \r"
    i = node.raw.index("four")
    line = 5 if style in ("literal", "folded", "double") else 4
    assert node.locate(i, i + 4) == Span(
        file="m.yaml", line=line, column=3, end_line=line, end_column=7
    )


def test_locate_counts_code_points_and_tabs_as_one_column() -> None:
    node, src = scalar("é: 'ü😀\tz'\n", "é")
    assert node.locate(3, 4) == Span(file="m.yaml", line=1, column=8, end_line=1, end_column=9)
    assert located(node, src) == "ü😀\tz"


def test_locate_skips_anchors_tags_and_comments_before_the_value() -> None:
    text = "a: &anchor !!str # comment\n  'quoted'\nb: !!str\n  &x plain\n"
    node, src = scalar(text, "a")
    assert located(node, src) == "quoted"
    assert (node.locate(0, 1).line, node.locate(0, 1).column) == (2, 4)
    assert node.span.line == 1 and node.span.column == 4  # the span starts at the properties
    node, src = scalar(text, "b")
    assert (node.locate(0, 1).line, node.locate(0, 1).column) == (4, 6)


def test_locate_in_flow_collections() -> None:
    text = "a: [ \"x\\ty\", 'p''q', multi\n   line, {k: v w} ]\n"
    r = root(text)
    src = text
    a = r.get("a")
    assert a is not None
    assert [located(c, src) for c in a.children[:3]] == ["x\\y", "p'q", "multi\nline"]
    v = a.children[3].get("k")
    assert v is not None and located(v, src) == "v w"


def test_locate_offsets_past_the_end_and_empty_ranges() -> None:
    node, _ = scalar('a: "abc"  # c\nb: plain\n', "a")
    assert node.locate(3, 3) == Span(file="m.yaml", line=1, column=8, end_line=1, end_column=8)
    assert node.locate(5, 99) == node.locate(3, 3)  # the closing quote
    assert node.locate(1, 1) == Span(file="m.yaml", line=1, column=6, end_line=1, end_column=6)
    assert node.locate(-5, 1) == Span(file="m.yaml", line=1, column=5, end_line=1, end_column=6)
    assert node.locate(0, 99) == Span(file="m.yaml", line=1, column=5, end_line=1, end_column=8)
    plain, _ = scalar("b: plain\n", "b")
    assert plain.locate(5, 9) == Span(file="m.yaml", line=1, column=9, end_line=1, end_column=9)
    empty, _ = scalar("c: ''\n", "c")
    assert empty.locate(0, 1) == Span(file="m.yaml", line=1, column=5, end_line=1, end_column=5)


def test_locate_on_collections_and_hand_built_nodes_gives_their_span() -> None:
    r = root("a: {b: 1}\n")
    assert r.get("a").locate(0, 1) == r.get("a").span  # type: ignore[union-attr]
    span = Span(file="x", line=1, column=1, end_line=1, end_column=2)
    hand = YNode("scalar", span, "tag:yaml.org,2002:str", "x", "x", None)
    assert hand.locate(0, 1) == span


def test_a_loaded_span_is_built_once_on_first_use() -> None:
    a = root("a: [1, 2]\nb: {c: x}\n").get("a")
    assert a is not None
    assert a.span == Span(file="m.yaml", line=1, column=4, end_line=1, end_column=10)
    assert a.span is a.span


def test_nodes_compare_and_hash_by_their_content_and_span() -> None:
    text = "a: [1, 2]\nb: {c: x}\n"
    first, second = root(text), root(text)
    assert first == second and hash(first) == hash(second)
    assert first.get("a") != first.get("b")
    moved = root("\n" + text)  # the same content one line lower
    assert moved != first
    assert "span=Span(file='m.yaml', line=1, column=4" in repr(first.get("a"))


def test_a_hand_built_node_needs_a_span() -> None:
    with pytest.raises(ValueError, match="needs a span"):
        YNode("scalar", None, "tag:yaml.org,2002:str", "x", "x", None)


def test_locate_falls_back_to_the_whole_scalar_if_the_rescan_disagrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    node, _ = scalar("a:   value here\n", "a")
    monkeypatch.setattr(positions, "_decode_plain", lambda *args: positions.OffsetMap())
    assert node.locate(6, 7) == Span(file="m.yaml", line=1, column=6, end_line=1, end_column=16)


def test_locate_is_lazy_and_cached() -> None:
    node, _ = scalar("a: 'x'\n", "a")
    where = node._where
    assert where is not None and where._map is None
    node.locate(0, 1)
    first = where._map
    assert first is not None
    node.locate(0, 1)
    assert where._map is first


def test_every_scalar_of_a_realistic_mode_file_locates_exactly() -> None:
    text = (
        "mode_metadata:\n"
        '  name: "Security first"\n'
        "  description: >\n"
        "    Routes security work to the auditor\n"
        "    before anything else.\n"
        "task_orchestrator:\n"
        "  role_definition: |\n"
        "    You coordinate.\n"
        "      Indented detail.\n"
        "  specialist_roles: {architect: 'Designs', implementer: Builds things}\n"
        "task_routing_rules:\n"
        "  hotfix_tasks:\n"
        '    when: \'tags contains "hotfix" or (title matches /^fix(\\(.+\\))?:/ and '
        "complexity <= 2)'\n"
        "    required_specialist: implementer\n"
        "    keywords: [\"caf\\u00e9\", 'naïve', plain words]\n"
    )
    result = load(text)
    assert result.ok and result.root is not None
    for node in nodes(result.root):
        if node.kind != "scalar" or node.raw is None:
            continue
        for i, char in enumerate(node.raw):
            source_char = at(text, node.locate(i, i + 1))
            assert (
                source_char == char
                or (char in " \n" and source_char == "\n")
                or (source_char == "\\")
            ), (node.raw, i)
    when = result.root.get("task_routing_rules").get("hotfix_tasks").get("when")  # type: ignore[union-attr]
    assert when is not None and when.raw is not None
    i = when.raw.index("matches")
    assert when.locate(i, i + 7) == Span(
        file="m.yaml", line=13, column=45, end_line=13, end_column=52
    )


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("binary junk", bytes(range(256)) * 64, "MC003"),
        ("random high bytes", bytes((i * 7919) % 128 + 128 for i in range(10_000)), "MC003"),
        ("UTF-16 file", "task_orchestrator:\n  role_definition: x\n".encode("utf-16"), "MC003"),
        ("NUL bytes", b"a: 1\n" + b"\x00" * 1000, "MC003"),
        ("2 MiB", b"a: " + b"x" * (2 << 20), "MC002"),
        ("huge single line", b"a: [" + b"[" * 500_000, "MC004"),
        ("huge unterminated string", b"a: '" + b"x" * (MAX_FILE_BYTES - 10), "MC004"),
        ("huge key", b"x" * (MAX_FILE_BYTES - 10) + b": 1\n---\n", None),
    ],
)
def test_hostile_inputs_give_a_diagnostic_with_bounded_work(
    name: str, data: bytes, code: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = count_events(monkeypatch)
    result = load(data)
    assert result.diagnostics, name
    if code is not None:
        assert result.diagnostics[0].code == code, (name, result.diagnostics)
    assert not result.ok
    assert steps() <= MAX_DEPTH + 10, name  # a bounded number of parser events, whatever the size


def test_a_huge_single_line_value_loads() -> None:
    result = load(b"a: " + b"x" * (MAX_FILE_BYTES - 10) + b"\n")
    assert result.ok
    node = result.root.get("a")  # type: ignore[union-attr]
    assert node is not None and node.locate(500_000, 500_001).column == 500_004


# --------------------------------------------------------------------------- issue 15: numbers


BIG_NUMBERS = {
    "hex": "0x" + "f" * 3_600,
    "decimal": "9" * 5_000,
    "octal": "0" + "7" * 3_000,
    "binary": "0b" + "1" * 20_000,
    "sexagesimal": ":".join(["1"] * 100_000),
    "float exponent": "1.0e+99999",
    "float sexagesimal": ":".join(["59"] * 1_000) + ".5",
    "just past 64 bits": str(2**63),
    "just below -64 bits": str(-(2**63) - 1),
}


@pytest.mark.parametrize("literal", BIG_NUMBERS.values(), ids=list(BIG_NUMBERS))
def test_regression_integer_beyond_the_str_int_limit_is_refused_at_load(literal: str) -> None:
    text = f"task_orchestrator:\n  role_definition: x\nrule:\n  priority: {literal}\n"
    result = load(text)
    assert found(result) == [("MC104", 4, 13)]
    assert "out of range" in result.diagnostics[0].message
    assert result.root is not None  # the rest of the file still loads: one error, no cascade
    node = result.root.get("rule").get("priority")  # type: ignore[union-attr]
    assert node is not None and node.value is None and node.raw == literal.replace("\n", "")


@pytest.mark.parametrize("literal", BIG_NUMBERS.values(), ids=list(BIG_NUMBERS))
def test_regression_a_huge_number_never_reaches_json(literal: str) -> None:
    from modec.compiler.pipeline import compile_text

    head = "task_orchestrator:\n  role_definition: x\n"
    for tail in (
        f"mode_configuration:\n  max_subtask_depth: {literal}\n",
        f"mode_configuration:\n  some_setting: {literal}\n",
        f"tests:\n  - task: {{description: x, metadata: {{n: {literal}}}}}\n",
    ):
        c = compile_text(head + tail, "m.yaml")
        assert [d.code for d in c.diagnostics if d.severity == "error"] == ["MC104"], tail


def test_the_largest_64_bit_integers_still_load() -> None:
    r = root(f"a: {2**63 - 1}\nb: {-(2**63)}\nc: 0x{'f' * 15}\nd: 0{'0' * 5000}1\n")
    assert [r.get(k).value for k in "abcd"] == [  # type: ignore[union-attr]
        2**63 - 1,
        -(2**63),
        16**15 - 1,
        1,
    ]


def test_regression_sexagesimal_with_100k_groups_is_linear(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modec.compiler import scalars

    calls = 0
    digits = scalars._digits

    def counted(text: str, base: int) -> int:
        nonlocal calls
        calls += 1
        return digits(text, base)

    monkeypatch.setattr(scalars, "_digits", counted)
    result = load("a: " + ":".join(["1"] * 100_000) + "\n")
    assert found(result) == [("MC104", 1, 4)]
    assert calls <= 12  # 60**11 > 2**63: refused after a dozen groups, not after 100,000


# --------------------------------------------------------------------------- locate_key

_KEYED = (
    'a:\n  when: tags contains "x" and\n    complexity >= 2\n',
    "a:\n  when: 'tags contains \"x\" and\n\n    complexity >= 2'\n",
    'a:\n  when: "tags contains \\"x\\" and\\n    complexity >= 2"\n',
    "a:\r\n  when: 'tags contains ''x'' and\r\n    complexity >= 2'\r\n",
)


@pytest.mark.parametrize("text", _KEYED)
def test_equal_locate_keys_locate_alike(text: str) -> None:
    """Two scalars with one locate_key answer every range alike, whatever else the files
    hold (here: other keys and lines after the scalar, another document size)."""
    first = root(text).get("a")
    other = root(text + "b:\n  - 1\n  - [2, 3]\nc: {d: e}\n").get("a")
    assert first is not None and other is not None
    node, twin = first.get("when"), other.get("when")
    assert node is not None and twin is not None and node.raw is not None
    assert node.locate_key() is not None and node.locate_key() == twin.locate_key()
    n = len(node.raw)
    for start in range(n + 2):
        for end in range(start, n + 2):
            assert node.locate(start, end) == twin.locate(start, end)


def test_locate_key_differs_where_positions_differ() -> None:
    base = root("a:\n  when: 'x contains \"y\"'\n").get("a")
    moved = root("# one more line\na:\n  when: 'x contains \"y\"'\n").get("a")
    shifted = root("a:\n  when:   'x contains \"y\"'\n").get("a")
    other_file = root("a:\n  when: 'x contains \"y\"'\n")
    assert base is not None and moved is not None and shifted is not None
    keys = {
        base.get("when").locate_key(),  # type: ignore[union-attr]
        moved.get("when").locate_key(),  # type: ignore[union-attr]
        shifted.get("when").locate_key(),  # type: ignore[union-attr]
    }
    assert len(keys) == 3
    renamed = load("a:\n  when: 'x contains \"y\"'\n", path="n.yaml").root
    assert renamed is not None and other_file is not None
    assert (
        renamed.get("a").get("when").locate_key()  # type: ignore[union-attr]
        != other_file.get("a").get("when").locate_key()  # type: ignore[union-attr]
    )


@pytest.mark.parametrize(
    "text",
    [
        'a: |\n  tags contains "x"\n',
        'a: >-\n  tags contains "x"\n',
        'a: &w tags contains "x"\n',
        'a: !!str tags contains "x"\n',
    ],
)
def test_block_scalars_and_scalars_with_properties_have_no_locate_key(text: str) -> None:
    node = root(text).get("a")
    assert node is not None and node.locate_key() is None
    assert root("a: [1]\n").locate_key() is None  # collections neither
