"""Lark parse tree → IR expression nodes, with literals decoded and every type rule checked.

The transformer never raises on a well-formed tree: each problem becomes a diagnostic
(collected in :attr:`ToIR.diagnostics`) and the node it spoils becomes ``None``, so one pass
reports every error in a condition. Callers must bound the tree's depth first (lark's
transformer recurses).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from lark import Token, Tree
from lark.tree import Meta

from modec.diagnostics import Diagnostic, Span
from modec.grammar.ast import (
    And,
    Compare,
    Const,
    Expr,
    FieldKind,
    InList,
    Not,
    Or,
    RegexMatch,
    TextMatch,
    with_value_spans,
)
from modec.grammar.checks import (
    Located,
    Value,
    Word,
    check_compare,
    check_in_list,
    check_regex_field,
    check_text_match,
    resolve_field,
)
from modec.grammar.regex import REGEX_FLAGS, regex_problem

__all__ = ["ToIR", "decode_regex", "decode_string"]

Locate = Callable[[int, int], Span]

_SIMPLE_ESCAPES: Final = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_ESCAPES_HINT: Final = (
    "the escapes are \\\\ \\\" \\' \\n \\t and \\uXXXX; write a backslash itself as \\\\"
)
_INT_LIMIT: Final = 2**63
_TEXT_OPS: Final = {"CONTAINS", "MENTIONS", "STARTSWITH", "ENDSWITH"}

TextOp = Literal["contains", "mentions", "startswith", "endswith"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]
Quantifier = Literal["one", "any", "all"]


def _hex4(text: str, at: int) -> int | None:
    digits = text[at : at + 4]
    if len(digits) == 4 and all(c in _HEX for c in digits):
        return int(digits, 16)
    return None


def decode_string(raw: str, start: int, locate: Locate) -> tuple[str | None, list[Diagnostic]]:
    """Decode a quoted string token ``raw`` found at offset ``start``.

    Escapes: ``\\\\ \\" \\' \\n \\t \\uXXXX`` (a UTF-16 surrogate pair of two ``\\u`` escapes
    makes one character). Any other escape, a short ``\\u`` or a lone surrogate is MC406 at
    the escape itself; the result is then None.
    """
    body, base = raw[1:-1], start + 1
    out: list[str] = []
    diags: list[Diagnostic] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1 : i + 2]  # the STRING terminal guarantees a character here
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
            continue
        if nxt != "u":
            diags.append(
                Diagnostic.make(
                    "MC406",
                    locate(base + i, base + i + 2),
                    f"invalid escape `\\{nxt}`" if nxt.isprintable() else "invalid escape",
                    _ESCAPES_HINT,
                )
            )
            i += 2
            continue
        code = _hex4(body, i + 2)
        if code is None:
            length = 2
            while length < 6 and i + length < len(body) and body[i + length] in _HEX:
                length += 1
            diags.append(
                Diagnostic.make(
                    "MC406",
                    locate(base + i, base + i + length),
                    "`\\u` needs exactly four hexadecimal digits",
                    "write e.g. `\\u00e9` for é",
                )
            )
            i += length
            continue
        if 0xD800 <= code <= 0xDBFF and body[i + 6 : i + 8] == "\\u":
            low = _hex4(body, i + 8)
            if low is not None and 0xDC00 <= low <= 0xDFFF:
                out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                i += 12
                continue
        if 0xD800 <= code <= 0xDFFF:
            diags.append(
                Diagnostic.make(
                    "MC406",
                    locate(base + i, base + i + 6),
                    f"`\\u{body[i + 2 : i + 6]}` is a lone UTF-16 surrogate, not a character",
                    "write a character outside the BMP as a surrogate pair, e.g. "
                    "`\\ud83d\\ude00`, or as the character itself",
                )
            )
        else:
            out.append(chr(code))
        i += 6
    return (None if diags else "".join(out)), diags


def decode_regex(raw: str) -> tuple[str, str]:
    """Split a ``/pattern/flags`` token into the pattern (``\\/`` becomes ``/``) and flags."""
    close = raw.rindex("/")
    body, flags = raw[1:close], raw[close + 1 :]
    out: list[str] = []
    i = 0
    while i < len(body):
        if body[i] == "\\" and body[i + 1 : i + 2] == "/":
            out.append("/")
            i += 2
        elif body[i] == "\\":
            out.append(body[i : i + 2])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out), flags


@dataclass(frozen=True)
class _Strings:
    """The argument ``any(...)`` or ``all(...)``: ``None`` marks a string that did not decode."""

    quantifier: Quantifier
    values: Sequence[Located[str] | None]
    span: Span


@dataclass(frozen=True)
class _ValueList:
    values: Sequence[Located[Value] | None]
    span: Span


class ToIR:
    """Transforms a condition's parse tree into an :data:`~modec.grammar.ast.Expr`, or None.

    Expressions are built unfolded; see :mod:`modec.grammar.fold`. Like lark's
    ``Transformer`` with ``v_args(meta=True)``, children first, left to right, then the rule's
    method with the node's meta and its transformed children; tokens are passed as they are.
    (A direct walk: lark's wrappers cost as much as the condition's own work.)
    """

    def __init__(self, locate: Locate) -> None:
        self.locate = locate
        self.diagnostics: list[Diagnostic] = []

    def transform(self, tree: Tree[Token]) -> Any:
        """The value of ``tree`` (recursive: bound its depth first)."""
        return self._node(tree)

    def _node(self, tree: Tree[Token]) -> Any:
        children = [self._node(c) if isinstance(c, Tree) else c for c in tree.children]
        rule: Callable[[Meta, list[Any]], Any] = getattr(self, tree.data)
        return rule(tree.meta, children)

    # ----------------------------------------------------------------- helpers

    def _span(self, meta: Meta) -> Span:
        return self.locate(meta.start_pos, meta.end_pos)

    def _token_span(self, token: Token) -> Span:
        start = token.start_pos if token.start_pos is not None else 0
        end = token.end_pos if token.end_pos is not None else start
        return self.locate(start, end)

    def _report(self, diagnostics: Sequence[Diagnostic]) -> bool:
        """Record ``diagnostics``; True if there were none."""
        self.diagnostics.extend(diagnostics)
        return not diagnostics

    def _field(self, token: Token) -> FieldKind | None:
        kind, diags = resolve_field(str(token), self._token_span(token))
        self._report(diags)
        return kind

    def _string(self, token: Token) -> Located[str] | None:
        start = token.start_pos if token.start_pos is not None else 0
        text, diags = decode_string(str(token), start, self.locate)
        self._report(diags)
        return None if text is None else Located(text, self._token_span(token))

    def _number(self, token: Token) -> int | float | None:
        raw = str(token)
        value: int | float
        if any(c in raw for c in ".eE"):
            value = float(raw)
            ok = math.isfinite(value)
        else:
            # Leading zeros go first: int() refuses strings of more than 4300 digits.
            digits = raw.lstrip("-").lstrip("0") or "0"
            ok = len(digits) <= 19
            if ok:
                value = -int(digits) if raw.startswith("-") else int(digits)
                ok = -_INT_LIMIT <= value < _INT_LIMIT
        if ok:
            return value
        self._report(
            [
                Diagnostic.make(
                    "MC402",
                    self._token_span(token),
                    f"the number `{raw[:40]}` is out of range",
                    "integers must fit in 64 bits and decimals must be finite",
                )
            ]
        )
        return None

    def _value(self, token: Token) -> Located[Value] | None:
        span = self._token_span(token)
        if token.type == "STRING":
            return self._string(token)
        if token.type == "NUMBER":
            number = self._number(token)
            return None if number is None else Located(number, span)
        if token.type in ("TRUE", "FALSE"):
            return Located(token.type == "TRUE", span)
        return Located(Word(str(token)), span)

    # ----------------------------------------------------------------- boolean structure

    def or_test(self, meta: Meta, children: list[Expr | None]) -> Expr | None:
        operands = [c for c in children if c is not None]
        if len(operands) < len(children):
            return None
        return Or(span=self._span(meta), operands=tuple(operands))

    def and_test(self, meta: Meta, children: list[Expr | None]) -> Expr | None:
        operands = [c for c in children if c is not None]
        if len(operands) < len(children):
            return None
        return And(span=self._span(meta), operands=tuple(operands))

    def negation(self, meta: Meta, children: list[Expr | None]) -> Expr | None:
        (operand,) = children
        return None if operand is None else Not(span=self._span(meta), operand=operand)

    def boolean(self, meta: Meta, children: list[Token]) -> Expr:
        return Const(span=self._span(meta), value=children[0].type == "TRUE")

    # ----------------------------------------------------------------- conditions

    def any_of(self, meta: Meta, children: list[Token]) -> _Strings:
        return _Strings("any", [self._string(t) for t in children], self._span(meta))

    def all_of(self, meta: Meta, children: list[Token]) -> _Strings:
        return _Strings("all", [self._string(t) for t in children], self._span(meta))

    def value_list(self, meta: Meta, children: list[Token]) -> _ValueList:
        return _ValueList([self._value(t) for t in children], self._span(meta))

    def text_match(self, meta: Meta, children: list[Any]) -> Expr | None:
        name, op, argument = children
        assert isinstance(name, Token) and isinstance(op, Token) and op.type in _TEXT_OPS
        kind = self._field(name)
        if isinstance(argument, Token):
            strings = _Strings("one", [self._string(argument)], self._token_span(argument))
        else:
            strings = argument
        decoded = [s for s in strings.values if s is not None]
        if kind is None:
            return None
        op_word: TextOp = op.value  # the terminal's text is one of the four words
        ok = self._report(
            check_text_match(
                str(name),
                kind,
                Located(op_word, self._token_span(op)),
                strings.quantifier,
                decoded,
                strings.span,
            )
        )
        if not ok or len(decoded) < len(strings.values):
            return None
        node = TextMatch(
            span=self._span(meta),
            field=str(name),
            op=op_word,
            quantifier=strings.quantifier,
            values=tuple(s.value for s in decoded),
        )
        return with_value_spans(node, [s.span for s in decoded])

    def regex_match(self, meta: Meta, children: list[Token]) -> Expr | None:
        name, op, regex = children
        kind = self._field(name)
        pattern, flags = decode_regex(str(regex))
        start = regex.start_pos if regex.start_pos is not None else 0
        flags_at = start + len(str(regex)) - len(flags)
        bad = [
            Diagnostic.make(
                "MC404",
                self.locate(flags_at + i, flags_at + i + 1),
                f"unknown regular expression flag `{flag}`",
                "the flags are i (ignore case), m (multi-line) and s (dot matches newline)",
            )
            for i, flag in enumerate(flags)
            if flag not in REGEX_FLAGS
        ]
        canonical = "".join(f for f in REGEX_FLAGS if f in flags)
        problem = regex_problem(pattern, canonical)
        if problem is not None:
            bad.append(
                Diagnostic.make(
                    problem.code, self._token_span(regex), problem.message, problem.hint
                )
            )
        ok = self._report(bad)
        if kind is None:
            return None
        ok = self._report(check_regex_field(str(name), kind, self._token_span(op))) and ok
        if not ok:
            return None
        node = RegexMatch(span=self._span(meta), field=str(name), pattern=pattern, flags=canonical)
        return with_value_spans(node, [self._token_span(regex)])

    def compare(self, meta: Meta, children: list[Token]) -> Expr | None:
        name, op, token = children
        kind = self._field(name)
        value = self._value(token)
        if kind is None or value is None:
            return None
        op_word: CompareOp = op.value  # the terminal's text is one of the six operators
        scalar, diags = check_compare(
            str(name), kind, Located(op_word, self._token_span(op)), value
        )
        if not self._report(diags) or scalar is None:
            return None
        node = Compare(span=self._span(meta), field=str(name), op=op_word, value=scalar)
        return with_value_spans(node, [value.span])

    def in_list(self, meta: Meta, children: list[Any]) -> Expr | None:
        name, op, value_list = children
        assert isinstance(name, Token) and isinstance(op, Token)
        assert isinstance(value_list, _ValueList)
        kind = self._field(name)
        values = [v for v in value_list.values if v is not None]
        if kind is None:
            return None
        scalars, diags = check_in_list(
            str(name), kind, self._token_span(op), values, value_list.span
        )
        if not self._report(diags) or scalars is None:
            return None
        if len(values) < len(value_list.values):
            return None
        node = InList(span=self._span(meta), field=str(name), values=scalars)
        return with_value_spans(node, [v.span for v in values])
