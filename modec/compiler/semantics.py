"""The value semantics of the condition language, defined once.

The router (at route time) and the row analysis (checking the witness tasks it builds) both
decide atoms with these functions. ``modec.testing``'s reference interpreter deliberately keeps
an independent plain implementation, so that agreement between the two means something.

>>> mentions("run the tests", "test"), mentions("latest", "test"), mentions("a test.", "test")
(False, False, True)
>>> compare("Alpha", "<", "beta"), compare(2, "==", 2.0), compare(True, "<", False)
(True, True, False)
"""

from __future__ import annotations

from typing import Any

__all__ = ["compare", "in_list", "is_number", "isword", "mentions", "text_test"]


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
