"""The analysis' public inputs and results: limits, options, verdicts, overlaps, the report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from modec.compiler.analysis.tasks import WitnessTask
from modec.diagnostics import Diagnostic

__all__ = ["AnalysisLimits", "AnalysisOptions", "AnalysisReport", "Overlap", "RowVerdict"]


@dataclass(frozen=True)
class AnalysisLimits:
    """How much work one analysis may do; whatever a limit cuts is reported (MC603).

    Every limit but ``deadline_seconds`` is a count, so a verdict never depends on the
    machine's speed or load. The defaults keep a lint of an ordinary mode in milliseconds and
    let a 1,000-rule mode finish within the counts.
    """

    #: Safety net only: wall-clock seconds after which the remaining queries are skipped
    #: (checked between queries). Reported as MC603 when it fires; never adds a finding.
    deadline_seconds: float = 60.0
    #: Conflicts one SAT query may spend before it is abandoned as undecided.
    conflicts_per_query: int = 20_000
    #: Unit propagations one SAT query may spend before it is abandoned as undecided.
    propagations_per_query: int = 10_000_000
    #: SAT queries in all (row verdicts, explanations, overlaps, witnesses).
    max_queries: int = 20_000
    #: Conflicts spent by all queries of one analysis.
    max_conflicts: int = 2_000_000
    #: Unit propagations spent by all queries of one analysis.
    max_propagations: int = 200_000_000
    #: Theory clauses (substring implications and prefix exclusions).
    max_lemmas: int = 1_000_000
    #: Occurrences of one literal inside another looked at for substring implications.
    max_occurrences: int = 1_000_000
    #: Rows named as the reason a row never fires get an unsat-core query each, up to this.
    max_explanations: int = 200
    #: Overlapping pairs reported under ``unique`` before the search stops.
    max_overlaps: int = 50
    #: Models tried per pair when the first one does not give a checkable witness task.
    witness_attempts: int = 4


@dataclass(frozen=True)
class AnalysisOptions:
    """``builtins``: also report findings about builtin keyword lists the author did not
    write (implicit builtin rows, and the classic keywords of builtin rules).

    ``clock`` (seconds, monotonic) is read only for the safety-net deadline and the
    ``seconds`` statistic; tests inject one to show that verdicts do not depend on it.
    """

    builtins: bool = False
    hazards: bool = True
    limits: AnalysisLimits = field(default_factory=AnalysisLimits)
    clock: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class RowVerdict:
    """What the analysis decided about one row (in row order).

    ``status``: ``fires`` (some task is decided by this row), ``never`` (no task is: see
    ``covered_by``, the earlier rows that take its tasks, empty when the condition itself is
    unsatisfiable), or ``unknown`` (a bound cut the check; see ``reason``).
    """

    index: int
    name: str
    status: Literal["fires", "never", "unknown"]
    covered_by: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class Overlap:
    """Two rows that both match ``witness`` (under ``unique`` this is an ambiguity error)."""

    first: str
    second: str
    witness: WitnessTask


@dataclass
class AnalysisReport:
    """Everything one analysis found. ``diagnostics`` are what ``modec lint`` shows."""

    diagnostics: list[Diagnostic]
    rows: list[RowVerdict]
    fallback_reachable: bool | None
    overlaps: list[Overlap]
    skipped: list[str]
    stats: dict[str, float]

    def verdict(self, name: str) -> RowVerdict:
        """The verdict of the row named ``name``."""
        return next(v for v in self.rows if v.name == name)
