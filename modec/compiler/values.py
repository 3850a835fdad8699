"""The values of the condition language: text, numbers and words, compared once for everyone.

The pure half of :mod:`modec.compiler.semantics` (which re-exports every name here and adds
the evaluation of whole conditions, :func:`~modec.compiler.semantics.holds`): how two values
compare, how a text atom tests a lowered subject, what a word boundary is, how ``text`` is
composed. It imports nothing, so a process that only routes a compiled artifact
(:mod:`modec.runtime.light`) decides with these same functions without loading the IR.

>>> mentions("run the tests", "test"), mentions("latest", "test"), mentions("a test.", "test")
(False, False, True)
>>> compare("Alpha", "<", "beta"), compare(2, "==", 2.0), compare(True, "<", False)
(True, True, False)
>>> compose_text("Fix login", "it crashes")
'Fix login\\nit crashes'
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: a cold `modec route` pays for it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final, TypeAlias

__all__ = [
    "MISSING",
    "FieldLookup",
    "compare",
    "compose_text",
    "field_text",
    "in_list",
    "is_number",
    "isword",
    "lower_map",
    "mentions",
    "occurrences",
    "original_span",
    "text_test",
]

#: The value of a ``metadata`` key the task does not have: every comparison on it is false.
MISSING: Final = object()

#: A task's field values by field name: ``str`` for ``title``, ``description`` and ``text``,
#: a tuple of ``str`` for ``tags``, an ``int`` for ``complexity`` (the default applied), the
#: scalar of a ``metadata.KEY`` or :data:`MISSING`.
FieldLookup: TypeAlias = "Callable[[str], object]"


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


def occurrences(op: str, subject: str, value: str, limit: int) -> list[tuple[int, int]]:
    """``[start, end)`` in ``subject`` of the first ``limit`` occurrences of ``value`` that
    make the text atom ``op`` true (both lowered): where :func:`text_test` looks, for the
    evidence of a decision."""
    n = len(value)
    if op == "startswith":
        return [(0, n)] if subject.startswith(value) else []
    if op == "endswith":
        return [(len(subject) - n, len(subject))] if subject.endswith(value) else []
    if n == 0:
        return [(0, 0)]
    out: list[tuple[int, int]] = []
    need_left, need_right = isword(value[0]), isword(value[-1])
    i = subject.find(value)
    while i >= 0 and len(out) < limit:
        j = i + n
        if op == "contains" or (
            (i == 0 or not need_left or not isword(subject[i - 1]))
            and (j == len(subject) or not need_right or not isword(subject[j]))
        ):
            out.append((i, j))
        i = subject.find(value, i + 1)
    return out


def lower_map(text: str) -> list[int] | None:
    """Original index of each character of ``text.lower()``, or None when lengths agree
    (offsets found in the lowered text, mapped back to the text as written)."""
    if text.isascii():
        return None
    starts: list[int] = []
    for index, ch in enumerate(text):
        low = ch.lower()
        if len(low) == 1:
            starts.append(index)
        else:
            starts.extend([index] * len(low))
    return None if len(starts) == len(text) else starts


def original_span(mapping: list[int] | None, length: int, start: int, end: int) -> tuple[int, int]:
    """The span of the text as written (``length`` characters) behind ``start:end`` of its
    lowered form, through its :func:`lower_map` (None: the offsets are the same)."""
    if mapping is None:
        return start, end
    first = mapping[start] if start < len(mapping) else length
    return first, (mapping[end - 1] + 1 if end > start else first)
