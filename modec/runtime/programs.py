"""Row programs: each row's condition turned, at load, into a gate and a closure.

A row whose condition needs a literal to fire (``contains any(...)``, an ``and`` with one, an
``or`` of such) is *gated*: :meth:`RowCompiler.gate` names the literals one of which must
occur. A gated row that is nothing but a disjunction of literals is *exact*
(:meth:`RowCompiler.exact`): being a candidate means firing. Every row also gets a
:data:`Program`, a closure over a per-route :class:`Context` that reads the scanners' hits and
evaluates the rest with the shared value semantics (:mod:`modec.compiler.semantics`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import reduce
from typing import Final, TypeAlias

from modec.compiler.ir import And, Compare, Const, Expr, InList, Not, Or, RegexMatch, TextMatch
from modec.compiler.semantics import compare, field_text, in_list, text_test
from modec.compiler.table import SCANNED_FIELDS
from modec.compiler.task import Task, TaskView, compose_text
from modec.runtime.scanner import regex_tester

__all__ = ["MISSING", "Context", "Gate", "Program", "RowCompiler"]

MISSING: Final = object()


class Context:
    """Per-route view of a task for row programs: built only when a program must run, and
    reading (lowering, encoding) a field only when an atom asks for it.

    ``hits[f]`` holds the ids of the universe literals that occur in field ``f`` (it may hold
    ids of other fields' literals too); ``words[f]`` those of ``f``'s ``mentions`` literals
    that occur on word boundaries.
    """

    __slots__ = (
        "_bytes",
        "_low",
        "_raw",
        "_tags_low",
        "complexity",
        "hits",
        "metadata",
        "tags",
        "task",
        "words",
    )

    def __init__(
        self,
        task: Task | TaskView,
        low: dict[str, str],
        hits: dict[str, set[int]],
        words: dict[str, set[int]],
        complexity: int,
    ) -> None:
        self.task = task
        self._low = low
        self._raw: dict[str, str] = {}
        self._bytes: dict[str, bytes] = {}
        self._tags_low: frozenset[str] | None = None
        self.hits = hits
        self.words = words
        self.tags = task.tags
        self.complexity = complexity
        self.metadata = task.metadata

    def raw(self, name: str) -> str:
        found = self._raw.get(name)
        if found is None:
            found = field_text(self.task.title, self.task.description, name)
            self._raw[name] = found
        return found

    def low(self, name: str) -> str:
        found = self._low.get(name)
        if found is None:
            if name == "text":
                # str.lower() acts per character here: a newline stops the final-sigma rule.
                found = compose_text(self.low("title"), self.low("description"))
            else:
                found = self.raw(name).lower()
            self._low[name] = found
        return found

    def utf8(self, name: str) -> bytes:
        found = self._bytes.get(name)
        if found is None:
            found = self._bytes[name] = self.raw(name).encode("utf-8", "surrogatepass")
        return found

    @property
    def tags_low(self) -> frozenset[str]:
        if self._tags_low is None:
            self._tags_low = frozenset(t.lower() for t in self.tags)
        return self._tags_low


Program: TypeAlias = Callable[[Context], bool]
Gate: TypeAlias = "frozenset[tuple[str, bool, int]] | None"  # (field, is_word, literal id)


class RowCompiler:
    """Turns row conditions into gates and programs; ``ids`` gives each lowered literal's id
    in the scanners' universe."""

    def __init__(self, ids: Mapping[str, int]) -> None:
        self.ids = ids

    def _literal_ids(self, atom: TextMatch) -> tuple[int, ...]:
        return tuple(self.ids[v.lower()] for v in atom.values)

    @staticmethod
    def scanned(atom: Expr) -> bool:
        return (
            isinstance(atom, TextMatch)
            and atom.field in SCANNED_FIELDS
            and atom.op in ("contains", "mentions")
        )

    def gate(self, expr: Expr) -> Gate:
        """Literals one of which must occur for ``expr`` to hold, or None (no such set)."""
        if isinstance(expr, TextMatch) and self.scanned(expr):
            ids = self._literal_ids(expr)
            word = expr.op == "mentions"
            if expr.quantifier == "all":
                if not ids:
                    return None
                longest = max(range(len(ids)), key=lambda k: len(expr.values[k]))
                return frozenset({(expr.field, word, ids[longest])})
            return frozenset((expr.field, word, i) for i in ids)
        if isinstance(expr, Const):
            return None if expr.value else frozenset()
        if isinstance(expr, And):
            gates = [g for g in map(self.gate, expr.operands) if g is not None]
            return min(gates, key=len) if gates else None
        if isinstance(expr, Or):
            union: set[tuple[str, bool, int]] = set()
            for operand in expr.operands:
                g = self.gate(operand)
                if g is None:
                    return None
                union |= g
            return frozenset(union)
        return None

    def exact(self, expr: Expr) -> bool:
        """``expr`` holds exactly when one of its gate literals occurs."""
        if isinstance(expr, TextMatch):
            return self.scanned(expr) and expr.quantifier != "all" and bool(expr.values)
        if isinstance(expr, Or):
            return all(self.exact(o) for o in expr.operands)
        return False

    def program(self, expr: Expr) -> Program:
        if isinstance(expr, Const):
            constant = expr.value
            return lambda c: constant
        if isinstance(expr, Not):
            inner = self.program(expr.operand)
            return lambda c: not inner(c)
        if isinstance(expr, And):
            return reduce(_both, [self.program(o) for o in expr.operands])
        if isinstance(expr, Or):
            return reduce(_either, [self.program(o) for o in expr.operands])
        if isinstance(expr, TextMatch):
            return self._text_program(expr)
        if isinstance(expr, RegexMatch):
            return self._regex_program(expr)
        if isinstance(expr, Compare):
            name, op, value = expr.field, expr.op, expr.value
            get = _getter(name)
            return lambda c: compare(get(c), op, value)
        if isinstance(expr, InList):
            get = _getter(expr.field)
            values = expr.values
            return lambda c: in_list(get(c), values)
        raise TypeError(f"unknown expression node {type(expr).__name__}")

    def _text_program(self, atom: TextMatch) -> Program:
        name, op = atom.field, atom.op
        every = atom.quantifier == "all"
        values = tuple(v.lower() for v in atom.values)
        if self.scanned(atom):
            return self._scanned_program(atom)
        if name in SCANNED_FIELDS:
            quantify = all if every else any
            return lambda c: quantify(text_test(op, c.low(name), v) for v in values)
        if name == "tags":
            return _tags_program(op, every, values)
        if name.startswith("metadata."):
            key = name[len("metadata.") :]
            quantify = all if every else any

            def meta_text(c: Context) -> bool:
                found = c.metadata.get(key)
                if not isinstance(found, str):
                    return False
                low = found.lower()
                return quantify(text_test(op, low, v) for v in values)

            return meta_text
        return lambda c: False

    def _scanned_program(self, atom: TextMatch) -> Program:
        name = atom.field
        ids = frozenset(self._literal_ids(atom))
        if atom.op == "contains":
            if atom.quantifier == "all":
                return lambda c: ids <= c.hits[name]
            return lambda c: not ids.isdisjoint(c.hits[name])
        if atom.quantifier == "all":
            return lambda c: ids <= c.words[name]
        return lambda c: not ids.isdisjoint(c.words[name])

    def _regex_program(self, atom: RegexMatch) -> Program:
        name = atom.field
        test = regex_tester(atom.pattern, atom.flags)
        if name in SCANNED_FIELDS:
            return lambda c: bool(test(c.utf8(name)))
        if name == "tags":
            return lambda c: any(test(t.encode("utf-8", "surrogatepass")) for t in c.tags)
        if name.startswith("metadata."):
            key = name[len("metadata.") :]

            def meta_regex(c: Context) -> bool:
                found = c.metadata.get(key)
                return isinstance(found, str) and bool(test(found.encode("utf-8", "surrogatepass")))

            return meta_regex
        return lambda c: False


def _tags_program(op: str, every: bool, values: tuple[str, ...]) -> Program:
    if op == "contains":
        wanted = frozenset(values)
        if every:
            return lambda c: wanted <= c.tags_low
        return lambda c: not wanted.isdisjoint(c.tags_low)
    quantify = all if every else any
    return lambda c: quantify(any(text_test(op, t, v) for t in c.tags_low) for v in values)


def _both(first: Program, second: Program) -> Program:
    return lambda c: first(c) and second(c)


def _either(first: Program, second: Program) -> Program:
    return lambda c: first(c) or second(c)


def _getter(name: str) -> Callable[[Context], object]:
    if name in SCANNED_FIELDS:
        return lambda c: c.low(name)
    if name == "complexity":
        return lambda c: c.complexity
    if name.startswith("metadata."):
        key = name[len("metadata.") :]
        return lambda c: c.metadata.get(key, MISSING)
    return lambda c: MISSING  # tags and unknown fields compare false
