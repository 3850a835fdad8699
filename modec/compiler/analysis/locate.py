"""Exact spans of single keywords: all locating of the analysis' findings lives here.

Every span comes from the YAML nodes' own position mapping (:meth:`YNode.span` of a
``keywords:`` item, :meth:`YNode.locate` inside a ``when:`` string); the file is loaded once
by the one loader (:func:`~modec.compiler.source.load_bytes`) and each rule's keywords are
indexed once, so locating every keyword of a mode is linear in its size.

The ``when:`` case is isolated in :func:`when_literal_span`: once the expression's literal
nodes carry their own spans, that one function becomes ``atom``'s literal span.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from modec.compiler.ir import Rule, TextMatch
from modec.compiler.source import YNode, load_bytes
from modec.diagnostics import Span

__all__ = ["KeywordLocator", "when_literal_span"]

_TOKEN: Final = re.compile(
    r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|/(?:[^/\\\n]|\\.)*/[A-Za-z]*"
)
_ESCAPES: Final = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}
_UNICODE: Final = re.compile(r"\\u([0-9A-Fa-f]{4})|\\(.)", re.DOTALL)

#: Per ``when:`` node: each string literal's decoded value → its ranges in the raw text.
_Literals = dict[str, list[tuple[int, int]]]


def _decode(token: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return chr(int(m.group(1), 16))
        return _ESCAPES.get(m.group(2), m.group(2))

    return _UNICODE.sub(one, token[1:-1])


def _within(inner: Span, outer: Span) -> bool:
    return (outer.line, outer.column) <= (inner.line, inner.column) and (
        inner.end_line,
        inner.end_column,
    ) <= (outer.end_line, outer.end_column)


def _string_literals(raw: str) -> _Literals:
    out: _Literals = {}
    for m in _TOKEN.finditer(raw):
        token = m.group()
        if token[0] != "/":
            out.setdefault(_decode(token), []).append((m.start(), m.end()))
    return out


def when_literal_span(when: YNode, literals: _Literals, atom: TextMatch, value: str) -> Span | None:
    """The span of the string literal ``value`` of ``atom`` inside the ``when:`` scalar
    ``when`` (whose literals :func:`_string_literals` indexed), or None.

    The one place that maps a ``when:`` literal to the file; with spans on literal nodes it
    is ``atom``'s literal span.
    """
    for start, end in literals.get(value, ()):
        where = when.locate(start, end)
        if _within(where, atom.span):
            return where
    return None


class KeywordLocator:
    """Exact spans of single keywords, found in the YAML node the rule came from."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.sources = sources
        self.roots: dict[str, YNode | None] = {}
        self.keywords: dict[tuple[str, str], dict[str, Span]] = {}
        self.whens: dict[tuple[str, str], tuple[YNode, _Literals] | None] = {}

    def _rule_node(self, rule: Rule) -> YNode | None:
        path = rule.name_span.file
        if path not in self.roots:
            text = self.sources.get(path)
            loaded = load_bytes(text.encode("utf-8", "surrogatepass"), path) if text else None
            self.roots[path] = loaded.root if loaded is not None else None
        root = self.roots[path]
        rules = root.get("task_routing_rules") if root is not None else None
        return rules.get(rule.name) if rules is not None else None

    def _keyword_spans(self, rule: Rule) -> dict[str, Span]:
        key = (rule.name_span.file, rule.name)
        found = self.keywords.get(key)
        if found is None:
            found = self.keywords[key] = {}
            node = self._rule_node(rule)
            keywords = node.get("keywords") if node is not None else None
            for child in keywords.children if keywords is not None else ():
                for spelling in {str(child.raw), child.raw}:
                    if isinstance(spelling, str):
                        found.setdefault(spelling, child.span)
        return found

    def _when(self, rule: Rule) -> tuple[YNode, _Literals] | None:
        key = (rule.name_span.file, rule.name)
        if key not in self.whens:
            node = self._rule_node(rule)
            when = node.get("when") if node is not None else None
            raw = when.raw if when is not None else None
            self.whens[key] = (when, _string_literals(raw)) if when is not None and raw else None
        return self.whens[key]

    def span(self, rule: Rule, atom: TextMatch, value: str) -> Span:
        """Where ``value`` of ``atom`` is written in ``rule`` (else the atom's or the rule's
        span)."""
        fallback = atom.span if rule.source == "when" else rule.name_span
        try:
            if rule.source == "keywords":
                return self._keyword_spans(rule).get(value, fallback)
            if rule.source == "when":
                found = self._when(rule)
                where = when_literal_span(*found, atom, value) if found else None
                return where or fallback
        except (ValueError, AttributeError):
            return fallback
        return fallback
