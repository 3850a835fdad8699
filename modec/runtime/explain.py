"""The explain interpreter: every atom of a row evaluated directly, with evidence and notes.

:func:`trace_rows` backs ``Router.explain`` (every row, every leaf, no short circuit) and
:func:`positive_evidence` backs ``Decision.evidence`` (the atoms that made a taken row fire).
Neither uses the scanners: they read each field once per call (:class:`Subjects` keeps the
lowered text and its offset map) and stop collecting occurrences at the bounds of
:mod:`modec.runtime.decision`, so a megabyte task gives a small answer quickly.
"""

from __future__ import annotations

from typing import Final

from modec.compiler.ir import And, Compare, Const, Expr, InList, Not, Or, RegexMatch, TextMatch
from modec.compiler.semantics import compare, field_text, in_list
from modec.compiler.table import SCANNED_FIELDS, Row
from modec.compiler.task import Task, TaskView
from modec.compiler.values import lower_map, occurrences, original_span
from modec.grammar import compile_regex, format_expr
from modec.runtime.decision import (
    MAX_ATOM_EVIDENCE,
    MAX_EVIDENCE,
    MAX_EXPLAIN_EVIDENCE,
    AtomTrace,
    Evidence,
    excerpt,
)

__all__ = ["Subjects", "positive_evidence", "trace_rows"]

_MISSING: Final = object()


class Subjects:
    """One task's fields for the interpreter: raw text, lowered text and offset maps, each
    computed once per call; and the evidence budget left."""

    __slots__ = ("_lowered", "_maps", "_raw", "budget", "complexity", "task", "truncated")

    def __init__(self, task: Task | TaskView, complexity: int, budget: int) -> None:
        self.task = task
        self.complexity = complexity
        self.budget = budget
        self.truncated = False
        self._raw: dict[str, str] = {}
        self._lowered: dict[str, str] = {}
        self._maps: dict[str, list[int] | None] = {}

    def raw(self, name: str) -> str:
        found = self._raw.get(name)
        if found is None:
            found = field_text(self.task.title, self.task.description, name)
            self._raw[name] = found
        return found

    def lowered(self, label: str, original: str) -> str:
        found = self._lowered.get(label)
        if found is None:
            found = self._lowered[label] = original.lower()
        return found

    def lower_map(self, label: str, original: str) -> list[int] | None:
        if label not in self._maps:
            self._maps[label] = lower_map(original)
        return self._maps[label]

    def take(self, found: list[Evidence]) -> list[Evidence]:
        """``found`` within the budget left (marking the cut)."""
        if len(found) > self.budget:
            found = found[: self.budget]
            self.truncated = True
        self.budget -= len(found)
        return found


def _text_evidence(s: Subjects, label: str, op: str, value: str, original: str) -> list[Evidence]:
    spans = occurrences(op, s.lowered(label, original), value.lower(), MAX_ATOM_EVIDENCE)
    if not spans:
        return []
    mapping = s.lower_map(label, original)
    out = []
    for i, j in spans:
        start, end = original_span(mapping, len(original), i, j)
        out.append(Evidence(label, op, value, start, end, excerpt(original[start:end])))
    return out


def _atom_subjects(atom: TextMatch | RegexMatch, s: Subjects) -> list[tuple[str, str]]:
    """(field label, original text) pairs an atom reads; empty when the field has no text."""
    name = atom.field
    if name in SCANNED_FIELDS:
        return [(name, s.raw(name))]
    if name == "tags":
        return [(f"tags[{i}]", tag) for i, tag in enumerate(s.task.tags)]
    if name.startswith("metadata."):
        found = s.task.metadata.get(name[len("metadata.") :])
        return [(name, found)] if isinstance(found, str) else []
    return []


def _value_evidence(atom: TextMatch | RegexMatch, s: Subjects, value: str) -> list[Evidence]:
    out: list[Evidence] = []
    for label, text in _atom_subjects(atom, s):
        if isinstance(atom, RegexMatch):
            m = compile_regex(atom.pattern, atom.flags).search(text)
            if m is not None:
                out.append(
                    Evidence(label, "matches", value, m.start(), m.end(), excerpt(m.group(0)))
                )
        elif atom.field == "tags" and atom.op == "contains":
            if text.lower() == value.lower():
                out.append(Evidence(label, "contains", value, 0, len(text), excerpt(text)))
        else:
            out.extend(_text_evidence(s, label, atom.op, value, text))
        if len(out) >= MAX_ATOM_EVIDENCE:
            return out[:MAX_ATOM_EVIDENCE]
    return out


def _task_value(name: str, s: Subjects) -> object:
    if name in SCANNED_FIELDS:
        return s.raw(name)
    if name == "complexity":
        return s.complexity
    if name.startswith("metadata."):
        return s.task.metadata.get(name[len("metadata.") :], _MISSING)
    return _MISSING


def _text_atom(atom: TextMatch, s: Subjects) -> tuple[bool, list[Evidence], str | None]:
    per_value = [_value_evidence(atom, s, v) for v in atom.values]
    result = all(per_value) if atom.quantifier == "all" else any(per_value)
    note: str | None = None
    if not _atom_subjects(atom, s):
        note = (
            f"{atom.field} is missing or not text"
            if atom.field.startswith("metadata.")
            else f"{atom.field} has no text"
        )
    evidence = sorted(
        (e for found in per_value for e in found), key=lambda e: (e.field, e.start, e.end)
    )
    return result, evidence, note


def _compare_atom(atom: Compare | InList, s: Subjects) -> tuple[bool, str | None]:
    value = _task_value(atom.field, s)
    note: str | None = None
    if value is _MISSING:
        note = (
            f"{atom.field} is missing"
            if atom.field.startswith("metadata.")
            else f"{atom.field} is not comparable"
        )
    if isinstance(atom, Compare):
        result = compare(value, atom.op, atom.value)
    else:
        result = in_list(value, atom.values)
    if note is None and not result:
        shown = excerpt(value) if isinstance(value, str) else value
        note = f"{atom.field} is {shown!r}"
    return result, note


def atom_result(atom: Expr, s: Subjects) -> tuple[bool, list[Evidence], str | None]:
    """Evaluate one leaf directly (no scanners): result, evidence, note."""
    if isinstance(atom, Const):
        return atom.value, [], None
    if isinstance(atom, TextMatch):
        return _text_atom(atom, s)
    if isinstance(atom, RegexMatch):
        if not _atom_subjects(atom, s):
            return False, [], f"{atom.field} has no text"
        found = _value_evidence(atom, s, atom.pattern)
        return bool(found), found, None
    if isinstance(atom, Compare | InList):
        result, note = _compare_atom(atom, s)
        return result, [], note
    raise TypeError(f"not a leaf: {type(atom).__name__}")


def _trace(expr: Expr, s: Subjects, atoms: list[AtomTrace]) -> bool:
    """Evaluate ``expr`` fully (no short circuit), recording every leaf in ``atoms``."""
    if isinstance(expr, Not):
        return not _trace(expr.operand, s, atoms)
    if isinstance(expr, And):
        return all([_trace(o, s, atoms) for o in expr.operands])
    if isinstance(expr, Or):
        return any([_trace(o, s, atoms) for o in expr.operands])
    result, evidence, note = atom_result(expr, s)
    atoms.append(AtomTrace(format_expr(expr), result, tuple(s.take(evidence)), note))
    return result


def trace_rows(
    rows: tuple[Row, ...], task: Task | TaskView, complexity: int
) -> tuple[list[tuple[Row, bool, list[AtomTrace]]], bool]:
    """Each row with whether it fires and its atoms' traces; and whether evidence was cut."""
    s = Subjects(task, complexity, MAX_EXPLAIN_EVIDENCE)
    out: list[tuple[Row, bool, list[AtomTrace]]] = []
    for row in rows:
        atoms: list[AtomTrace] = []
        fired = _trace(row.condition, s, atoms)
        out.append((row, fired, atoms))
    return out, s.truncated


def _positive(expr: Expr, s: Subjects, out: list[Evidence]) -> bool:
    """Evaluate ``expr``; when true, append the evidence of the atoms that made it true."""
    if isinstance(expr, Not):
        return not _positive(expr.operand, s, [])
    if isinstance(expr, And):
        collected: list[Evidence] = []
        for operand in expr.operands:
            if not _positive(operand, s, collected):
                return False
        out.extend(collected)
        return True
    if isinstance(expr, Or):
        any_true = False
        for operand in expr.operands:
            any_true |= _positive(operand, s, out)
        return any_true
    result, evidence, _ = atom_result(expr, s)
    if result:
        out.extend(evidence)
    return result


def positive_evidence(
    rows: tuple[Row, ...], matches: tuple[str, ...], task: Task | TaskView, complexity: int
) -> tuple[Evidence, ...]:
    """The evidence of the taken rows (``matches``), at most :data:`MAX_EVIDENCE` items."""
    s = Subjects(task, complexity, MAX_EVIDENCE)
    out: list[Evidence] = []
    for row in rows:
        if row.name in matches:
            _positive(row.condition, s, out)
            if len(out) >= MAX_EVIDENCE:
                break
    return tuple(out[:MAX_EVIDENCE])
