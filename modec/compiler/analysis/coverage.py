"""Which rows the mode's ``tests:`` examples exercise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from modec.compiler.analysis.report import RowVerdict
from modec.compiler.analysis.tasks import WitnessTask, holds
from modec.compiler.ir import FALLBACK_TYPE, ModeFile, Rule
from modec.compiler.table import fallback_rule, ordered_rules

__all__ = ["CoverageReport", "RowCoverage", "coverage"]


@dataclass(frozen=True)
class RowCoverage:
    """One row and the `tests:` examples (by line) that it decided."""

    name: str
    location: str
    implicit: bool
    examples: tuple[int, ...]
    never_fires: bool = False

    @property
    def covered(self) -> bool:
        """Some example exercised the row."""
        return bool(self.examples)


@dataclass(frozen=True)
class CoverageReport:
    """Which rows the `tests:` examples exercise. Implicit builtin rows are listed but not
    counted: the author did not write them."""

    rows: tuple[RowCoverage, ...]
    fallback: RowCoverage | None
    examples: int

    @property
    def counted(self) -> list[RowCoverage]:
        """The rows that count: the author's and the named fallback."""
        out = [r for r in self.rows if not r.implicit]
        if self.fallback is not None:
            out.append(self.fallback)
        return out

    @property
    def percent(self) -> float:
        """Counted rows exercised, in percent (100 when nothing counts)."""
        counted = self.counted
        if not counted:
            return 100.0
        return 100.0 * sum(r.covered for r in counted) / len(counted)

    @property
    def uncovered(self) -> list[RowCoverage]:
        """Counted rows no example exercised."""
        return [r for r in self.counted if not r.covered]


def _routed(mode: ModeFile, rows: Sequence[Rule]) -> list[tuple[str, ...]]:
    """The rows that decide each example, by the semantics."""
    dc = mode.configuration.default_complexity
    out = []
    for example in mode.tests:
        spec = example.task
        task = WitnessTask(
            title=spec.title,
            description=spec.description,
            tags=spec.tags,
            complexity=spec.complexity,
            metadata=tuple(sorted(spec.metadata.items())),
        )
        fired = tuple(
            r.name for r in rows if r.condition is not None and holds(r.condition, task, dc)
        )
        out.append(fired if mode.configuration.hit_policy == "collect" else fired[:1])
    return out


def coverage(
    mode: ModeFile,
    taken: Sequence[tuple[str, ...] | None] | None = None,
    verdicts: Sequence[RowVerdict] = (),
) -> CoverageReport:
    """Which rows the `tests:` examples exercise.

    ``taken`` gives, per example in order, the rows that decided it (a Decision's
    ``matches``: empty for the fallback, None for an example that failed to route); without
    it the examples are routed here by the router's semantics. Under ``collect`` every row
    taken counts. The fallback counts as a row when the mode names ``general_tasks``.
    ``verdicts`` (from :func:`analyse`) mark uncovered rows that can never fire.
    """
    rows = ordered_rules(mode.rules)
    decided = list(taken) if taken is not None else _routed(mode, rows)
    hits: dict[str, list[int]] = {r.name: [] for r in rows}
    fallback_hits: list[int] = []
    for example, fired in zip(mode.tests, decided, strict=False):
        if fired is None:
            continue
        for name in fired:
            hits.setdefault(name, []).append(example.span.line)
        if not fired:
            fallback_hits.append(example.span.line)
    never = {v.name for v in verdicts if v.status == "never"}
    out = tuple(
        RowCoverage(
            r.name,
            f"{r.name_span.file}:{r.name_span.line}:{r.name_span.column}",
            r.implicit,
            tuple(hits[r.name]),
            r.name in never,
        )
        for r in rows
    )
    general = fallback_rule(mode)
    fallback = None
    if general is not None:
        s = general.name_span
        fallback = RowCoverage(
            FALLBACK_TYPE, f"{s.file}:{s.line}:{s.column}", False, tuple(fallback_hits)
        )
    return CoverageReport(out, fallback, len(mode.tests))
