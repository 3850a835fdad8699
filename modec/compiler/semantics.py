"""The value semantics of the condition language, defined once.

The router (at route time) and the row analysis (checking the witness tasks it builds) both
decide atoms with these functions, and the analysis evaluates whole conditions with
:func:`holds`. The value functions live in :mod:`modec.compiler.values` (re-exported here),
which imports nothing, for a routing process that never loads the IR. The ``text`` field is
composed by :func:`compose_text` only. ``modec.testing``'s reference interpreter deliberately
keeps an independent plain implementation, so that agreement between the two means something.

>>> mentions("run the tests", "test"), mentions("latest", "test"), mentions("a test.", "test")
(False, False, True)
>>> compare("Alpha", "<", "beta"), compare(2, "==", 2.0), compare(True, "<", False)
(True, True, False)
>>> compose_text("Fix login", "it crashes")
'Fix login\\nit crashes'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from modec.compiler.ir import And, Compare, Const, Expr, InList, Not, Or, RegexMatch, TextMatch
from modec.compiler.values import (
    MISSING,
    FieldLookup,
    compare,
    compose_text,
    field_text,
    in_list,
    is_number,
    isword,
    mentions,
    text_test,
)
from modec.grammar import compile_regex

__all__ = [
    "MISSING",
    "FieldLookup",
    "compare",
    "compose_text",
    "field_text",
    "holds",
    "in_list",
    "is_number",
    "isword",
    "mentions",
    "text_test",
]


def holds(expr: Expr, value: FieldLookup) -> bool:
    """The truth of a condition for the task whose field values ``value`` gives.

    >>> from modec.diagnostics import Span
    >>> from modec.grammar import parse_condition
    >>> cond, _ = parse_condition('text mentions "fix" and tags contains "UI"',
    ...                           lambda start, end: Span.point("m.yaml", 1, 1 + start))
    >>> fields = {"text": compose_text("Fix", ""), "tags": ("ui",)}
    >>> holds(cond, lambda name: fields.get(name, MISSING))
    True
    """
    return _EVALUATORS[type(expr)](expr, value)


def _const(expr: Any, value: FieldLookup) -> bool:
    return bool(expr.value)


def _not(expr: Any, value: FieldLookup) -> bool:
    return not holds(expr.operand, value)


def _and(expr: Any, value: FieldLookup) -> bool:
    return all(holds(o, value) for o in expr.operands)


def _or(expr: Any, value: FieldLookup) -> bool:
    return any(holds(o, value) for o in expr.operands)


def _text_match(expr: Any, value: FieldLookup) -> bool:
    subject = value(expr.field)
    op = expr.op
    results: list[bool]
    if isinstance(subject, tuple):  # tags: ``contains`` is equality with some element
        tags = [t.lower() for t in subject]
        if op == "contains":
            results = [v.lower() in tags for v in expr.values]
        else:
            results = [any(text_test(op, t, v.lower()) for t in tags) for v in expr.values]
    elif isinstance(subject, str):
        lowered = subject.lower()
        results = [text_test(op, lowered, v.lower()) for v in expr.values]
    else:
        return False
    return all(results) if expr.quantifier == "all" else any(results)


def _regex_match(expr: Any, value: FieldLookup) -> bool:
    regex = compile_regex(expr.pattern, expr.flags)
    subject = value(expr.field)
    if isinstance(subject, tuple):
        return any(regex.search(tag) is not None for tag in subject)
    return isinstance(subject, str) and regex.search(subject) is not None


def _compare(expr: Any, value: FieldLookup) -> bool:
    return compare(value(expr.field), expr.op, expr.value)


def _in_list(expr: Any, value: FieldLookup) -> bool:
    return in_list(value(expr.field), expr.values)


_EVALUATORS: Final[dict[type, Callable[[Any, FieldLookup], bool]]] = {
    Const: _const,
    Not: _not,
    And: _and,
    Or: _or,
    TextMatch: _text_match,
    RegexMatch: _regex_match,
    Compare: _compare,
    InList: _in_list,
}
