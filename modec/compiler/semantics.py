"""The value semantics of the condition language, defined once.

The router (at route time) and the row analysis (checking the witness tasks it builds) both
decide atoms with these functions, and the analysis evaluates whole conditions with
:func:`holds`. The ``text`` field is composed by :func:`compose_text` only. ``modec.testing``'s
reference interpreter deliberately keeps an independent plain implementation, so that
agreement between the two means something.

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

#: The value of a ``metadata`` key the task does not have: every comparison on it is false.
MISSING: Final = object()

#: A task's field values by field name: ``str`` for ``title``, ``description`` and ``text``,
#: a tuple of ``str`` for ``tags``, an ``int`` for ``complexity`` (the default applied), the
#: scalar of a ``metadata.KEY`` or :data:`MISSING`.
FieldLookup = Callable[[str], object]


def compose_text(title: str, description: str) -> str:
    """The ``text`` field of a task: its title, a line break, its description."""
    return title + "\n" + description


def field_text(title: str, description: str, name: str) -> str:
    """The value of text field ``name`` (``title``, ``description`` or ``text``)."""
    if name == "title":
        return title
    if name == "description":
        return description
    return compose_text(title, description)


def isword(ch: str) -> bool:
    """A word character for ``mentions``: alphanumeric (Unicode) or ``_``."""
    return ch.isalnum() or ch == "_"


def mentions(text: str, word: str) -> bool:
    """Some occurrence of ``word`` in ``text`` sits on word boundaries (both already lowered).

    A boundary is only needed on a side where ``word`` itself ends in a word character.
    """
    n = len(word)
    if n == 0:
        return True
    need_left, need_right = isword(word[0]), isword(word[-1])
    end = len(text)
    i = text.find(word)
    while i >= 0:
        j = i + n
        if (i == 0 or not need_left or not isword(text[i - 1])) and (
            j == end or not need_right or not isword(text[j])
        ):
            return True
        i = text.find(word, i + 1)
    return False


def is_number(value: object) -> bool:
    """An int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare(left: object, op: str, right: object) -> bool:
    """``left op right``: text lowered on both sides, numbers, bools (only ``==``/``!=``).

    Mismatched types (including a missing metadata value) are False for every operator.
    """
    a: Any
    b: Any
    if isinstance(left, str) and isinstance(right, str):
        a, b = left.lower(), right.lower()
    elif is_number(left) and is_number(right):
        a, b = left, right
    elif isinstance(left, bool) and isinstance(right, bool):
        if op not in ("==", "!="):
            return False
        a, b = left, right
    else:
        return False
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    if op == ">=":
        return bool(a >= b)
    raise ValueError(f"unknown comparison operator {op!r}")


def in_list(value: object, values: tuple[Any, ...]) -> bool:
    """``value in [values]``: equal (by :func:`compare`) to one of them."""
    return any(compare(value, "==", v) for v in values)


def text_test(op: str, subject: str, value: str) -> bool:
    """One text atom on one lowered subject (``tags contains`` is equality, not this)."""
    if op == "contains":
        return value in subject
    if op == "mentions":
        return mentions(subject, value)
    if op == "startswith":
        return subject.startswith(value)
    if op == "endswith":
        return subject.endswith(value)
    raise ValueError(f"unknown text operator {op!r}")


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
