"""What changes between two versions of a mode: changed rows, tasks that route differently,
and the impact of a change over a set of tasks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from modec.compiler.analysis.context import Context
from modec.compiler.analysis.lemmas import str_key
from modec.compiler.analysis.report import AnalysisOptions
from modec.compiler.analysis.solver import Budget, Solver
from modec.compiler.analysis.tasks import WitnessTask, first_match
from modec.compiler.analysis.theory import Theory
from modec.compiler.analysis.witnesses import Witnesses
from modec.compiler.ir import FALLBACK_TYPE, ModeFile, Rule, TextMatch
from modec.compiler.table import default_specialist, fallback_rule, iter_atoms, ordered_rules
from modec.grammar import format_expr

__all__ = ["ImpactReport", "RowChange", "changed_rows", "impact", "synthesize_tasks"]


@dataclass(frozen=True)
class RowChange:
    """A row that differs between two versions of a mode (by task type name)."""

    name: str
    changes: tuple[str, ...]


def _row_shape(mode: ModeFile) -> dict[str, dict[str, Any]]:
    default = default_specialist(mode)
    out = {}
    for i, r in enumerate(ordered_rules(mode.rules)):
        assert r.condition is not None
        out[r.name] = {
            "position": i,
            "condition": format_expr(r.condition),
            "specialist": r.required_specialist or default,
            "priority": r.priority,
            "secondary_review": r.secondary_review,
        }
    general = fallback_rule(mode)
    out[FALLBACK_TYPE] = {
        "specialist": (general.required_specialist if general else None) or default
    }
    return out


def changed_rows(old: ModeFile, new: ModeFile) -> list[RowChange]:
    """Rows added, removed, or changed in condition, specialist, priority or position."""
    a, b = _row_shape(old), _row_shape(new)
    out = []
    for name in [*a, *(n for n in b if n not in a)]:
        if name not in b:
            out.append(RowChange(name, ("removed",)))
        elif name not in a:
            out.append(RowChange(name, ("added",)))
        else:
            diffs = tuple(k for k in a[name] if a[name][k] != b[name].get(k))
            if diffs:
                out.append(RowChange(name, diffs))
    return out


class _Version:
    """One version's rows, and how it routes a task (hit policy ``first``)."""

    def __init__(self, mode: ModeFile) -> None:
        self.rows = ordered_rules(mode.rules)
        general = fallback_rule(mode)
        self.fallback = general.required_specialist if general else None
        self.default = default_specialist(mode)
        self.dc = mode.configuration.default_complexity

    def route(self, task: WitnessTask) -> tuple[str, str | None]:
        i = first_match(self.rows, task, self.dc)
        if i is None:
            return FALLBACK_TYPE, self.fallback or self.default
        r = self.rows[i]
        return r.name, r.required_specialist or self.default

    def decided(self, theory: Theory, lits: Sequence[int]) -> dict[str, int]:
        """Per row (and the fallback): the literal "this row decides the task"."""
        out = {
            r.name: theory.gate("and", [lits[i], *(-lits[j] for j in range(i))])
            for i, r in enumerate(self.rows)
        }
        out[FALLBACK_TYPE] = theory.gate("and", [-lit for lit in lits])
        return out


def _keyword_atoms(theory: Theory, rows: Iterable[Rule]) -> dict[str, list[tuple[str, int]]]:
    """Per row name: its keywords (as written) with their text atom variables."""
    keywords: dict[str, list[tuple[str, int]]] = {}
    for rule in rows:
        mine = keywords.setdefault(rule.name, [])
        for atom in iter_atoms(rule.condition) if rule.condition is not None else ():
            if not isinstance(atom, TextMatch):
                continue
            for value in atom.values:
                key = str_key(atom, value)
                if key is not None and (value, theory.strs[key]) not in mine:
                    mine.append((value, theory.strs[key]))
    return keywords


def _asks(
    name: str, what: tuple[str, ...], a: int | None, b: int | None
) -> list[tuple[list[int], str]]:
    asks: list[tuple[list[int], str]] = []
    if a is not None:
        asks.append(([a] + ([-b] if b is not None else []), f"{name} in old only"))
    if b is not None:
        asks.append(([b] + ([-a] if a is not None else []), f"{name} in new only"))
    if a is not None and b is not None and "specialist" in what:
        asks.append(([a, b], f"{name} in both, new specialist"))
    return asks


def synthesize_tasks(
    old: ModeFile, new: ModeFile, options: AnalysisOptions | None = None
) -> list[tuple[WitnessTask, str]]:
    """Tasks whose routing changes between ``old`` and ``new``, for every changed row.

    Both versions' rows are encoded over shared atoms; for each changed row R the solver is
    asked for a task that R decides in one version and not in the other (and, when R's
    specialist changed, one it decides in both), once as such and once through each of R's
    keywords. Every task returned was checked to route differently (hit policy ``first``
    semantics, the fallback included), with the reason it was asked for; no duplicates.
    """
    options = options or AnalysisOptions()
    changes = {c.name: c.changes for c in changed_rows(old, new)}
    if not changes:
        return []
    va, vb = _Version(old), _Version(new)
    theory = Theory([*va.rows, *vb.rows], options.limits)
    dec_a = va.decided(theory, theory.rows[: len(va.rows)])
    dec_b = vb.decided(theory, theory.rows[len(va.rows) :])
    budget = Budget(options.limits, options.clock)
    ctx = Context(
        old, va.rows, theory, Solver(theory, budget), budget, Witnesses(theory), options, va.dc
    )

    def differs(task: WitnessTask) -> bool:
        return va.route(task) != vb.route(task)

    keywords = _keyword_atoms(theory, (*va.rows, *vb.rows))
    found: dict[WitnessTask, str] = {}
    try:
        for name, what in changes.items():
            for base, why in _asks(name, what, dec_a.get(name), dec_b.get(name)):
                if budget.exhausted() is not None:
                    break
                task = ctx.witness(base, differs)
                if task is not None:
                    found.setdefault(task, why)
                for value, var in keywords.get(name, ()):
                    task = ctx.witness([*base, var], differs)
                    if task is not None:
                        found.setdefault(task, f"{why}, through keyword {value!r}")
    finally:
        ctx.solver.close()
    return list(found.items())


@dataclass
class ImpactReport:
    """How routing changes from one version of a mode to another over a set of tasks."""

    total: int
    changed: int
    pairs: dict[tuple[str, str, str, str], list[dict[str, Any]]]

    def to_dict(self, examples: int = 3) -> dict[str, Any]:
        """JSON-ready: counts, and each old→new pair with its count and a few examples."""
        return {
            "tasks": self.total,
            "changed": self.changed,
            "pairs": [
                {
                    "from": {"task_type": k[0], "specialist": k[1]},
                    "to": {"task_type": k[2], "specialist": k[3]},
                    "count": len(v),
                    "examples": v[:examples],
                }
                for k, v in sorted(self.pairs.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            ],
        }


Decide = Callable[[Any], tuple[str, str]]


def impact(tasks: Iterable[tuple[Any, dict[str, Any]]], old: Decide, new: Decide) -> ImpactReport:
    """Route each ``(task, shown)`` through ``old`` and ``new`` (each returning
    ``(task_type, specialist)``) and group the tasks whose outcome changes by old→new pair."""
    total = changed = 0
    pairs: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for task, shown in tasks:
        total += 1
        a, b = old(task), new(task)
        if a != b:
            changed += 1
            pairs.setdefault((*a, *b), []).append(shown)
    return ImpactReport(total, changed, pairs)
