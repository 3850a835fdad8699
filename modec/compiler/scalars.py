"""Scalar values, read with YAML 1.1 rules as ``yaml.safe_load`` reads them (``yes`` is
true, ``0x1F`` is 31, ``1:30`` is 90)."""

from __future__ import annotations

import math
from typing import Final

from modec.compiler.yamltree import (
    TAG_BOOL,
    TAG_INT,
    TAG_NULL,
    TAG_STR,
    TAG_TIMESTAMP,
)

__all__ = ["INT_LIMIT", "ScalarRangeError", "construct_scalar"]

#: Integers must lie in ``[-INT_LIMIT, INT_LIMIT)`` (64-bit, as in conditions): larger ones
#: are refused at load, where their position is known, instead of breaking later stages
#: (Python refuses to print integers of more than 4,300 digits, JSON readers lose them).
INT_LIMIT: Final = 2**63
# Most digits a number in range can have in each base (leading zeros aside): longer literals
# are refused before any conversion, so a 1 MiB literal costs one scan, not a big-int parse.
_MAX_DIGITS: Final = {2: 64, 8: 22, 10: 19, 16: 16}


class ScalarRangeError(ValueError):
    """A number that YAML reads but modec refuses: an integer outside 64 bits, or a decimal
    that overflows to infinity (``1.0e+999``)."""


_BOOLS: Final = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


def construct_scalar(tag: str, raw: str) -> object:
    """The Python value of a scalar, as PyYAML's SafeConstructor reads it (YAML 1.1).

    Raises :class:`ScalarRangeError` for a number out of range (:data:`INT_LIMIT`, or a float
    literal that overflows), ValueError when an explicitly tagged value does not fit its tag.
    Linear in the length of ``raw`` whatever its form (sexagesimal ``1:2:3…`` included).

    >>> construct_scalar("tag:yaml.org,2002:int", "0x_1F"), construct_scalar(
    ...     "tag:yaml.org,2002:int", "-1:30")
    (31, -90)
    >>> construct_scalar("tag:yaml.org,2002:int", "0x" + "f" * 3600)
    Traceback (most recent call last):
    ...
    modec.compiler.scalars.ScalarRangeError: integer out of range
    """
    if tag in (TAG_STR, TAG_TIMESTAMP):
        return raw
    if tag == TAG_NULL:
        return None
    if tag == TAG_BOOL:
        try:
            return _BOOLS[raw.lower()]
        except KeyError:
            raise ValueError(raw) from None
    text = raw.replace("_", "").lower()
    sign = -1 if text.startswith("-") else 1
    if text[:1] in "+-":
        text = text[1:]
    if not text:
        raise ValueError(raw)
    if tag == TAG_INT:
        return _bounded(sign * _integer(text))
    if text == ".inf":
        return sign * float("inf")
    if text == ".nan":
        return float("nan")
    value = _sexagesimal_float(text) if ":" in text else float(text)
    if math.isinf(value):
        raise ScalarRangeError("number out of range")
    return sign * value


def _integer(text: str) -> int:
    if text == "0":
        return 0
    if text.startswith(("0b", "0x", "0o")):
        base = {"b": 2, "x": 16, "o": 8}[text[1]]
        return _digits(text[2:], base)
    if text[0] == "0":
        return _digits(text, 8)
    if ":" in text:
        return _sexagesimal_int(text)
    return _digits(text, 10)


def _digits(digits: str, base: int) -> int:
    significant = digits.lstrip("0")
    if len(significant) > _MAX_DIGITS[base]:
        int(significant[:1] or "0", base)  # a bad digit stays a ValueError, not a range error
        raise ScalarRangeError("integer out of range")
    return int(significant or "0", base)


def _bounded(value: int) -> int:
    if not -INT_LIMIT <= value < INT_LIMIT:
        raise ScalarRangeError("integer out of range")
    return value


def _sexagesimal_int(text: str) -> int:
    total = 0
    for part in text.split(":"):
        total = total * 60 + _digits(part, 10)
        if total >= INT_LIMIT:  # stop at once: growing further would be quadratic
            raise ScalarRangeError("integer out of range")
    return total


def _sexagesimal_float(text: str) -> float:
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
        if math.isinf(total):
            raise ScalarRangeError("number out of range")
    return total
