"""The tokens of a ``when:`` condition, for editors (semantic highlighting).

:func:`condition_tokens` never raises: text the condition lexer cannot read ends the list
(the parser reports it as a diagnostic), so a half-typed condition still highlights up to
the mistake.

>>> tokens = condition_tokens('title mentions any("fix") and not tags contains "x"')
>>> [t.kind for t in tokens][:5]
['field', 'operator', 'keyword', 'string', 'keyword']
>>> [t.text for t in tokens][5:]
['not', 'tags', 'contains', '"x"']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from lark.exceptions import LarkError

from modec.grammar.tables import condition_parser

__all__ = ["ConditionToken", "TokenKind", "condition_tokens"]

TokenKind = Literal["field", "operator", "keyword", "string", "number", "regex", "value"]

_KINDS: Final[dict[str, TokenKind]] = {
    "CONTAINS": "operator",
    "MENTIONS": "operator",
    "STARTSWITH": "operator",
    "ENDSWITH": "operator",
    "MATCHES": "operator",
    "IN": "operator",
    "EQ": "operator",
    "NE": "operator",
    "LE": "operator",
    "GE": "operator",
    "LT": "operator",
    "GT": "operator",
    "_OR": "keyword",
    "_AND": "keyword",
    "_NOT": "keyword",
    "_ANY": "keyword",
    "_ALL": "keyword",
    "TRUE": "keyword",
    "FALSE": "keyword",
    "STRING": "string",
    "NUMBER": "number",
    "REGEX": "regex",
    "NAME": "field",
}
_FIELDS: Final = frozenset({"title", "description", "text", "tags", "complexity"})


@dataclass(frozen=True)
class ConditionToken:
    """One token: its kind, its text, and its half-open offsets in the condition."""

    kind: TokenKind
    text: str
    start: int
    end: int


def condition_tokens(text: str) -> list[ConditionToken]:
    """The highlighted tokens of ``text`` (punctuation left out), in order."""
    out: list[ConditionToken] = []
    try:
        # the grammar's basic lexer (every terminal, whatever the parser state)
        for token in condition_parser().lex(text):
            kind = _KINDS.get(token.type)
            if kind is None or token.start_pos is None or token.end_pos is None:
                continue
            if kind == "field" and not (
                token.value in _FIELDS or token.value.startswith("metadata.")
            ):
                kind = "value"
            out.append(ConditionToken(kind, str(token.value), token.start_pos, token.end_pos))
    except LarkError:
        pass
    return out
