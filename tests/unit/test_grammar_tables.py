"""The shipped LALR tables of the condition language are the grammar's (modec.grammar.tables).

If one of these fails after an edit of ``condition.lark`` or an upgrade of lark, rewrite the
tables with ``python -m modec.grammar.tables`` and commit ``modec/grammar/condition.lalr``.
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import importlib.resources
import io
import json
import os
import pickle
from collections import deque
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark, Tree
from lark.exceptions import UnexpectedInput

from modec.diagnostics import Span
from modec.grammar import parser as grammar_parser
from modec.grammar import tables
from modec.grammar.printer import format_expr
from modec.testing import conditions

REGENERATE = "stale tables: run `python -m modec.grammar.tables` and commit condition.lalr"


def shipped_bytes() -> bytes:
    return importlib.resources.files("modec.grammar").joinpath(tables.TABLES_FILE).read_bytes()


def shipped_header() -> dict[str, Any]:
    header: dict[str, Any] = json.loads(shipped_bytes().partition(b"\n")[0])
    return header


def current_header() -> dict[str, Any]:
    header: dict[str, Any] = json.loads(tables.tables_key(tables.grammar_text()))
    return header


def written_here() -> bool:
    """Whether this run has the lark and Python the shipped tables were written under."""
    shipped, current = shipped_header(), current_header()
    return all(shipped[k] == current[k] for k in ("lark", "python"))


@functools.cache
def shipped() -> Lark:
    """The parser read from tables: the shipped ones, or, under another lark or Python
    (where the shipped ones are not used), tables serialized here by the same code, so the
    load path is tested under every lark this project installs."""
    key = tables.tables_key(tables.grammar_text())
    data = shipped_bytes() if written_here() else tables.serialize(built(), key)
    loaded = tables.read_tables(data, key)
    assert loaded is not None, REGENERATE
    return loaded


@functools.cache
def built() -> Lark:
    return tables.build_parser(tables.grammar_text())


# --------------------------------------------------------------------------- the key


def test_the_shipped_tables_are_keyed_by_the_packaged_grammar() -> None:
    shipped, current = shipped_header(), current_header()
    grammar = tables.grammar_text().encode("utf-8")
    assert shipped["grammar"] == hashlib.sha256(grammar).hexdigest(), REGENERATE
    assert shipped["options"] == tables.OPTIONS == current["options"], REGENERATE
    assert shipped["format"] == current["format"], REGENERATE


def test_tables_are_used_exactly_under_their_key() -> None:
    loaded = tables.load_parser()
    if written_here():
        assert (
            tables.tables_key(tables.grammar_text()) == shipped_bytes().partition(b"\n")[0].decode()
        )
        assert loaded.source_path == "<deserialized>"
    else:
        assert loaded.source_path != "<deserialized>"  # another lark or Python: built
    assert canonical(loaded) == canonical(built())


def test_the_key_covers_the_grammar_text() -> None:
    grammar = tables.grammar_text()
    assert tables.tables_key(grammar) == tables.tables_key(grammar)
    assert tables.tables_key(grammar + "\n") != tables.tables_key(grammar)
    edited = grammar.replace('EQ: "=="', 'EQ: "="')
    assert edited != grammar and tables.tables_key(edited) != tables.tables_key(grammar)


def test_tables_under_another_key_are_not_used() -> None:
    data = shipped_bytes()
    other = tables.tables_key(tables.grammar_text() + "// edited\n")
    assert tables.read_tables(data, other) is None
    key = json.loads(tables.tables_key(tables.grammar_text()))
    for field, value in (("lark", "0.0.1"), ("python", "3.0"), ("format", 0)):
        stale = json.dumps({**key, field: value}, sort_keys=True, separators=(",", ":"))
        body = data.partition(b"\n")[2]
        assert (
            tables.read_tables(
                stale.encode() + b"\n" + body, tables.tables_key(tables.grammar_text())
            )
            is None
        )
        assert tables.read_tables(data, stale) is None


def test_the_process_parser_is_the_shipped_one() -> None:
    parser = grammar_parser._lark()
    if written_here():
        assert parser.source_path == "<deserialized>"  # loaded, not built
    assert canonical(parser) == canonical(built())


# --------------------------------------------------------------------------- same automaton


def canonical(parser: Lark) -> dict[str, Any]:
    """Everything the parser decides with, with LALR states renumbered in the order a walk
    from the start state meets them (lark numbers them in set order, which varies between
    processes)."""
    table = parser.parser.parser.parser.parse_table
    start = table.start_states["start"]
    number: dict[int, int] = {start: 0}
    queue = deque([start])
    states: list[list[tuple[str, str, Any]]] = []
    while queue:
        state = queue.popleft()
        row: list[tuple[str, str, Any]] = []
        for token, (action, arg) in sorted(table.states[state].items()):
            if action.name == "Shift":
                if arg not in number:
                    number[arg] = len(number)
                    queue.append(arg)
                row.append((token, "shift", number[arg]))
            else:
                row.append((token, "reduce", rule(arg)))
        states.append(row)
    lexer_conf = parser.lexer_conf
    return {
        "states": states,
        "end": sorted(number[s] for s in table.end_states.values()),
        "rules": sorted(rule(r) for r in parser.rules),
        "terminals": sorted(
            (
                t.name,
                t.pattern.type,
                t.pattern.value,
                sorted(t.pattern.flags),
                t.priority,
                t.pattern.min_width,
                t.pattern.max_width,
            )
            for t in parser.terminals
        ),
        "ignore": sorted(lexer_conf.ignore),
        "options": {k: getattr(parser.options, k) for k in tables.OPTIONS},
    }


def rule(r: Any) -> tuple[Any, ...]:
    """A grammar rule as plain data (a built rule's names are lark tokens, a loaded one's
    strings)."""
    o = r.options
    return (
        str(r.origin.name),
        tuple((type(s).__name__, str(s.name), getattr(s, "filter_out", None)) for s in r.expansion),
        r.order,
        None if r.alias is None else str(r.alias),
        (o.keep_all_tokens, o.expand1, o.priority, o.template_source, tuple(o.empty_indices)),
    )


def test_the_shipped_tables_are_the_automaton_of_the_grammar() -> None:
    assert canonical(shipped()) == canonical(built()), REGENERATE


# --------------------------------------------------------------------------- same answers


def outcome(parser: Lark, text: str) -> tuple[Any, ...]:
    """A parse tree with every node's positions, or an error with all that the diagnostics
    read from it (its class, position, token, expectations and what the parser accepts)."""
    try:
        tree = parser.parse(text)
    except UnexpectedInput as error:
        interactive = getattr(error, "interactive_parser", None)
        token = getattr(error, "token", None)
        return (
            "error",
            type(error).__name__,
            error.pos_in_stream,
            getattr(error, "line", None),
            getattr(error, "column", None),
            None if token is None else (token.type, str(token), token.start_pos, token.end_pos),
            sorted(getattr(error, "expected", None) or ()),
            sorted(getattr(error, "allowed", None) or ()),
            None if interactive is None else sorted(interactive.accepts()),
        )
    return ("tree", shape(tree))


def shape(node: Any) -> Any:
    if isinstance(node, Tree):
        meta = node.meta
        where = (
            None
            if meta.empty
            else (meta.start_pos, meta.end_pos, meta.line, meta.column, meta.end_line)
        )
        return (node.data, where, [shape(c) for c in node.children])
    return (node.type, str(node), node.start_pos, node.end_pos, node.line, node.column)


_SPAN = Span(file="m.yaml", line=1, column=1, end_line=1, end_column=2)
_PIECES = (
    "title", "tags", "complexity", "metadata.team", "contains", "mentions", "matches",
    "startswith", "in", "any(", "all(", "and", "or", "not", "(", ")", "[", "]", ",",
    "==", "!=", "<=", ">", "=", '"a"', "'b'", '"open', "/x/i", "/open", "5", "-1.5e3",
    "true", "false", "TRUE", "And", "&", "|", "!", "\t", "\n", "é", "\x00", "nothing", "",
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(conditions(_SPAN))
def test_loaded_and_built_parsers_agree_on_valid_conditions(expr: Any) -> None:
    text = format_expr(expr)
    assert outcome(shipped(), text) == outcome(built(), text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12).map(" ".join) | st.text(max_size=40))
def test_loaded_and_built_parsers_agree_on_any_text(text: str) -> None:
    assert outcome(shipped(), text) == outcome(built(), text)


def test_diagnostics_are_the_same_with_either_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def locate(start: int, end: int) -> Span:
        return Span(file="m.yaml", line=3, column=7 + start, end_line=3, end_column=7 + end)

    texts = [
        'tags contains "hotfix" or (title matches /^fix/i and complexity <= simple)',
        "title contains 5",
        "title = 'a'",
        'title contains "open',
        "Title CONTAINS 'x'",
        "(title contains 'a'",
        "title contians 'a'",
        "metadata.team in ['a', 1, true]",
        "not not false and",
        "",
    ]

    def results() -> list[Any]:
        grammar_parser.condition_cache().clear()
        return [grammar_parser._parse(t, locate) for t in texts]

    with_shipped = results()
    monkeypatch.setattr(grammar_parser, "_lark", built)
    assert results() == with_shipped
    grammar_parser.condition_cache().clear()


# --------------------------------------------------------------------------- misses


def test_damaged_tables_are_a_miss() -> None:
    grammar = tables.grammar_text()
    key = tables.tables_key(grammar)
    data = tables.serialize(built(), key)
    assert tables.read_tables(data, key) is not None
    assert tables.read_tables(b"", key) is None
    assert tables.read_tables(data.partition(b"\n")[0], key) is None  # the key line alone
    assert tables.read_tables(data[: len(data) // 2], key) is None  # truncated
    assert tables.read_tables(key.encode() + b"\n" + b"\x80\x05junk", key) is None
    assert tables.read_tables(key.encode() + b"\n" + pickle.dumps([1, 2]), key) is None
    assert tables.read_tables(key.encode() + b"\n" + pickle.dumps({"data": {}}), key) is None


class Planted:
    """A class a pickle could name; reading the tables must never construct it."""

    made = 0

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (Planted._make, ())

    @staticmethod
    def _make() -> Planted:
        Planted.made += 1
        return Planted()


def test_tables_naming_a_class_or_function_are_refused() -> None:
    key = tables.tables_key(tables.grammar_text())
    saved = pickle.loads(tables.serialize(built(), key).partition(b"\n")[2])
    saved["data"]["options"]["tree_class"] = Planted()
    data = key.encode() + b"\n" + pickle.dumps(saved)
    assert tables.read_tables(data, key) is None
    assert Planted.made == 0


def test_a_missing_or_unreadable_tables_file_builds_the_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tables, "TABLES_FILE", "no-such-file.lalr")
    parser = tables.load_parser()
    assert parser.source_path != "<deserialized>"  # built from the grammar
    assert canonical(parser) == canonical(built())

    real = importlib.resources.files

    class Unreadable:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def joinpath(self, name: str) -> Any:
            if name.endswith(".lalr"):
                return self

            return self.inner.joinpath(name)

        def read_bytes(self) -> bytes:
            raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tables, "TABLES_FILE", "condition.lalr")
    monkeypatch.setattr(importlib.resources, "files", lambda pkg: Unreadable(real(pkg)))
    assert canonical(tables.load_parser()) == canonical(built())


def test_making_the_parser_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only install and an unwritable temporary folder: both ways of making the parser
    open no file for writing."""
    real_open = builtins.open
    real_os_open = os.open
    writes: list[str] = []

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+"):
            writes.append(str(file))
            raise PermissionError(13, "read-only", str(file))
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            writes.append(str(path))
            raise PermissionError(13, "read-only", str(path))
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    assert (tables.load_parser().source_path == "<deserialized>") is written_here()
    monkeypatch.setattr(tables, "TABLES_FILE", "no-such-file.lalr")
    assert tables.load_parser().source_path != "<deserialized>"
    assert writes == []


# --------------------------------------------------------------------------- the editor's lexer


@functools.cache
def basic_lexer() -> Lark:
    """The lexer the editor's highlighting was built on: its own LALR parser, basic lexer."""
    return Lark(tables.grammar_text(), parser="lalr", lexer="basic")


def lexed(parser: Lark, text: str) -> list[Any]:
    out: list[Any] = []
    try:
        for token in parser.lex(text):
            out.append((token.type, str(token), token.start_pos, token.end_pos))
    except UnexpectedInput as error:
        out.append(("error", type(error).__name__, error.pos_in_stream))
    return out


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12).map(" ".join) | st.text(max_size=40))
def test_the_shared_parser_lexes_as_the_basic_lexer_did(text: str) -> None:
    assert lexed(tables.condition_parser(), text) == lexed(basic_lexer(), text)


def test_highlighting_builds_no_parser_of_its_own() -> None:
    from modec.grammar.tokens import condition_tokens

    assert [t.kind for t in condition_tokens('title mentions any("fix")')] == [
        "field",
        "operator",
        "keyword",
        "string",
    ]
    assert tables.condition_parser.cache_info().currsize == 1
