"""Scalar values, read with YAML 1.1 rules as ``yaml.safe_load`` reads them (``yes`` is
true, ``0x1F`` is 31, ``1:30`` is 90)."""

from __future__ import annotations

from typing import Final

from modec.compiler.yamltree import (
    TAG_BOOL,
    TAG_INT,
    TAG_NULL,
    TAG_STR,
    TAG_TIMESTAMP,
)

__all__ = ["construct_scalar"]


_BOOLS: Final = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


def construct_scalar(tag: str, raw: str) -> object:
    """The Python value of a scalar, as PyYAML's SafeConstructor reads it (YAML 1.1).

    Raises ValueError when an explicitly tagged value does not fit its tag.
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
        if text == "0":
            return 0
        if text.startswith("0b"):
            return sign * int(text[2:], 2)
        if text.startswith("0x"):
            return sign * int(text[2:], 16)
        if text.startswith("0o"):
            return sign * int(text[2:], 8)
        if text[0] == "0":
            return sign * int(text, 8)
        if ":" in text:
            return sign * _sexagesimal(text, int)
        return sign * int(text)
    if text == ".inf":
        return sign * float("inf")
    if text == ".nan":
        return float("nan")
    if ":" in text:
        return sign * _sexagesimal(text, float)
    return sign * float(text)


def _sexagesimal(text: str, kind: type[int] | type[float]) -> int | float:
    total: int | float = 0
    for part in text.split(":"):
        total = total * 60 + kind(part)
    return total
