"""What routing answers: :class:`Decision`, its :class:`Evidence`, and the explain trace.

A :class:`Decision` is cheap to build: it holds the row's precomputed :class:`Outcome` and the
task as it was given (a string, a checked :class:`~modec.compiler.task.TaskView` or a
:class:`~modec.compiler.task.Task`). The strict ``Task`` (``Decision.task``) and the evidence
are computed only when asked for.

Output stays bounded whatever the task's size: at most :data:`MAX_EVIDENCE` evidence items
per decision, :data:`MAX_ATOM_EVIDENCE` per atom and value under ``explain``,
:data:`MAX_EXPLAIN_EVIDENCE` per explanation, and each matched text cut to
:data:`MAX_EVIDENCE_TEXT` characters (``…`` marks the cut; ``start``/``end`` stay exact).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from modec.compiler.task import Task, TaskView

if TYPE_CHECKING:
    from modec.runtime.router import Router

__all__ = [
    "MAX_ATOM_EVIDENCE",
    "MAX_EVIDENCE",
    "MAX_EVIDENCE_TEXT",
    "MAX_EXPLAIN_EVIDENCE",
    "AtomTrace",
    "CollectedDecision",
    "Decision",
    "Evidence",
    "Explanation",
    "Outcome",
    "RowTrace",
    "decision_of",
]

#: Evidence items a decision reports at most.
MAX_EVIDENCE: Final = 100
#: Occurrences reported per atom value and field (the first ones, in text order).
MAX_ATOM_EVIDENCE: Final = 8
#: Evidence items an explanation reports at most, over all rows.
MAX_EXPLAIN_EVIDENCE: Final = 400
#: Characters of matched text kept in one evidence item.
MAX_EVIDENCE_TEXT: Final = 120


def excerpt(text: str) -> str:
    """``text``, cut to :data:`MAX_EVIDENCE_TEXT` characters with a trailing ``…``."""
    return text if len(text) <= MAX_EVIDENCE_TEXT else text[: MAX_EVIDENCE_TEXT - 1] + "…"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One literal or pattern that matched: ``field`` (``tags[i]``, ``metadata.k`` too),
    the operator, the value as written, ``[start, end)`` in the field's original text, and
    the matched text (cut to :data:`MAX_EVIDENCE_TEXT` characters)."""

    field: str
    op: str
    value: str
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "op": self.op,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a row decides, precomputed at load (shared by every Decision of that row)."""

    index: int  # row index, -1 for the fallback
    name: str
    specialist: str | None
    secondary_review: tuple[str, ...]
    parallel_execution: bool | None
    complexity_boost: int
    source: str | None
    matches: tuple[str, ...]
    clamped: tuple[int, ...]  # clamped[c] = clamp(c + boost, 1, 5) for c in 0..5
    router: Router


def as_strict_task(task: Task | TaskView | str) -> Task:
    """The strict :class:`Task` for what a route was given."""
    if type(task) is Task:
        return task
    if type(task) is str:
        return Task(description=task)
    assert isinstance(task, TaskView)
    return task.task()


class Decision:
    """The outcome of routing one task. Cheap to build; ``evidence`` is computed on demand.

    ``task_type`` and ``rule`` name the row that decided (``general_tasks`` for the fallback);
    ``matches`` lists every row that fired and was taken: all of them under ``collect``, the
    one row otherwise, none when the fallback decided.
    """

    # The router's hot paths (its description route, and the generated rows, which are
    # given these slots) build a Decision as this __init__ would, without its frame:
    # ``object.__new__(Decision)``, then both slots. Keep them in step.
    __slots__ = ("_o", "_task")

    def __init__(self, outcome: Outcome, task: Task | TaskView | str) -> None:
        self._o = outcome
        self._task = task

    @property
    def matches(self) -> tuple[str, ...]:
        return self._o.matches

    @property
    def complexity(self) -> int:
        """The task's complexity (or the mode's default) plus the row's boost, within 1–5."""
        o, task = self._o, self._task
        given = None if isinstance(task, str) else task.complexity
        return o.clamped[given or o.router.default_complexity]

    @property
    def task_type(self) -> str:
        return self._o.name

    @property
    def rule(self) -> str:
        return self._o.name

    @property
    def specialist(self) -> str | None:
        return self._o.specialist

    @property
    def secondary_review(self) -> tuple[str, ...]:
        return self._o.secondary_review

    @property
    def parallel_execution(self) -> bool | None:
        return self._o.parallel_execution

    @property
    def mode_hash(self) -> str:
        return self._o.router.mode_hash

    @property
    def source(self) -> str | None:
        """``file:line`` of the deciding rule."""
        return self._o.source

    @property
    def task(self) -> Task:
        """The routed task as a strict :class:`Task` (built on first access)."""
        task = self._task
        if not isinstance(task, Task):
            task = self._task = as_strict_task(task)
        return task

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """The literals and patterns that made the taken rows fire, with offsets (at most
        :data:`MAX_EVIDENCE`)."""
        return self._o.router.evidence_of(self._task, self.matches)

    def to_dict(self, evidence: bool = True) -> dict[str, Any]:
        """The decision as JSON-ready data, with the evidence the CLI prints (``evidence=False``
        leaves it out)."""
        out: dict[str, Any] = {
            "task_type": self.task_type,
            "specialist": self.specialist,
            "secondary_review": list(self.secondary_review),
            "complexity": self.complexity,
            "parallel_execution": self.parallel_execution,
            "rule": self.rule,
            "source": self.source,
            "matches": list(self.matches),
            "mode_hash": self.mode_hash,
        }
        if evidence:
            out["evidence"] = [e.to_dict() for e in self.evidence]
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return self.to_dict(evidence=False) == other.to_dict(evidence=False)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Decision(task_type={self.task_type!r}, specialist={self.specialist!r}, "
            f"complexity={self.complexity}, matches={self.matches!r})"
        )


class CollectedDecision(Decision):
    """A decision taken by several rows (hit policy ``collect``): ``matches`` names them all."""

    __slots__ = ("_matches",)

    def __init__(
        self, outcome: Outcome, task: Task | TaskView | str, matches: tuple[str, ...]
    ) -> None:
        self._o = outcome
        self._task = task
        self._matches = matches

    @property
    def matches(self) -> tuple[str, ...]:
        return self._matches


def decision_of(
    outcome: Outcome, task: Task | TaskView | str, matches: tuple[str, ...]
) -> Decision:
    """The decision of the taken rows ``matches``, the first of which is ``outcome``'s."""
    if matches == outcome.matches:
        return Decision(outcome, task)
    return CollectedDecision(outcome, task, matches)


@dataclass(frozen=True, slots=True)
class AtomTrace:
    """One leaf of a row's condition: its text, its result, and what matched."""

    atom: str
    result: bool
    evidence: tuple[Evidence, ...] = ()
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "atom": self.atom,
            "result": self.result,
            "note": self.note,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class RowTrace:
    """One row under ``explain``: did it fire, was it taken, and each atom's result."""

    name: str
    condition: str
    source: str
    fired: bool
    taken: bool
    atoms: tuple[AtomTrace, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "condition": self.condition,
            "source": self.source,
            "fired": self.fired,
            "taken": self.taken,
            "atoms": [a.to_dict() for a in self.atoms],
        }


def _render_row(row: RowTrace, add: Callable[[str], None]) -> None:
    mark = "✔" if row.fired else "✘"
    taken = "  ← taken" if row.taken else ""
    add(f"{mark} {row.name}  [{row.source}]{taken}")
    add(f"    when {row.condition}")
    for atom in row.atoms:
        add(
            f"    {'true ' if atom.result else 'false'}  {atom.atom}"
            + (f"  ({atom.note})" if atom.note else "")
        )
        for e in atom.evidence:
            add(f"           {e.field}[{e.start}:{e.end}] = {e.text!r}")


@dataclass(frozen=True, slots=True)
class Explanation:
    """Every row, fired or not and why, and the decision. ``truncated`` says that evidence
    was left out to keep the output bounded (:data:`MAX_EXPLAIN_EVIDENCE`)."""

    decision: Decision
    rows: tuple[RowTrace, ...]
    hit_policy: str
    fallback: bool = field(default=False)
    truncated: bool = field(default=False)

    def render(self) -> str:
        """Human-readable trace, one block per row."""
        d = self.decision
        lines = [
            f"task type: {d.task_type}   specialist: {d.specialist}   "
            f"complexity: {d.complexity}   (hit policy {self.hit_policy})"
        ]
        for row in self.rows:
            _render_row(row, lines.append)
        if self.fallback:
            lines.append(f"→ no row fired: fallback {d.task_type} → {d.specialist}")
        if self.truncated:
            lines.append(
                f"… evidence cut at {MAX_EXPLAIN_EVIDENCE} items "
                f"({MAX_ATOM_EVIDENCE} per atom value)"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.to_dict(evidence=True),
            "hit_policy": self.hit_policy,
            "fallback": self.fallback,
            "truncated": self.truncated,
            "rows": [r.to_dict() for r in self.rows],
        }
