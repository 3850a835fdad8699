"""A short string a regular expression finds, for witness tasks (checked with RE2)."""

from __future__ import annotations

import importlib
from typing import Any

from modec.grammar import compile_regex

__all__ = ["regex_sample"]


class _Sampler:
    """Walks a ``re`` parse tree, appending one string the pattern matches."""

    def __init__(self) -> None:
        self.c: Any = importlib.import_module("re._constants")
        self.out: list[str] = []

    def category(self, arg: Any, default: str) -> str:
        c = self.c
        return {c.CATEGORY_DIGIT: "0", c.CATEGORY_SPACE: " ", c.CATEGORY_WORD: "a"}.get(
            arg, default
        )

    def pick_in(self, items: Any) -> str | None:
        c = self.c
        negate = any(op is c.NEGATE for op, _ in items)
        allowed: list[str] = []
        for op, arg in items:
            if op is c.LITERAL:
                allowed.append(chr(arg))
            elif op is c.RANGE:
                allowed.append(chr(arg[0]))
            elif op is c.CATEGORY:
                allowed.append(self.category(arg, "-"))
        if not negate:
            return allowed[0] if allowed else None
        return next((ch for ch in "a0 _-x.Z" if ch not in allowed), None)

    def one(self, op: Any, arg: Any) -> bool:
        c = self.c
        if op is c.LITERAL:
            self.out.append(chr(arg))
        elif op is c.NOT_LITERAL:
            self.out.append("a" if chr(arg) != "a" else "b")
        elif op is c.ANY:
            self.out.append("a")
        elif op is c.IN:
            ch = self.pick_in(arg)
            if ch is None:
                return False
            self.out.append(ch)
        elif op is c.BRANCH:
            return self.walk(arg[1][0])
        elif op is c.SUBPATTERN:
            return self.walk(arg[3])
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            return all(self.walk(arg[2]) for _ in range(arg[0]))
        elif op is c.CATEGORY:
            self.out.append(self.category(arg, "a"))
        elif op is not c.AT:
            return False
        return True

    def walk(self, items: Any) -> bool:
        return all(self.one(op, arg) for op, arg in items)


def regex_sample(pattern: str, flags: str) -> str | None:
    """A short string the pattern finds (checked with RE2), or None."""
    try:
        parser: Any = importlib.import_module("re._parser")
        tree = parser.parse(pattern)
    except Exception:  # any parse failure just means "no sample"
        return None
    sampler = _Sampler()
    if not sampler.walk(tree.data):
        return None
    sample = "".join(sampler.out)
    try:
        if compile_regex(pattern, flags).search(sample) is None:
            return None
    except Exception:  # RE2 refusing the sample: no sample
        return None
    return sample
