"""The analysis as one call: verdicts, overlaps, the fallback, then every finding."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from modec.compiler.analysis.context import Context, build_context
from modec.compiler.analysis.emitters import bound_note, reachability, row_diagnostics
from modec.compiler.analysis.keywords import keyword_diagnostics
from modec.compiler.analysis.locate import KeywordLocator
from modec.compiler.analysis.report import AnalysisOptions, AnalysisReport, Overlap
from modec.compiler.analysis.tasks import WitnessTask
from modec.compiler.analysis.verdicts import (
    fallback_reachable,
    first_verdicts,
    overlaps,
    self_verdicts,
)
from modec.compiler.ir import FALLBACK_TYPE, ModeFile

__all__ = ["analyse", "decided_by"]


def analyse(
    mode: ModeFile, sources: Mapping[str, str] | None = None, options: AnalysisOptions | None = None
) -> AnalysisReport:
    """Analyse a resolved mode's rows; ``sources`` (path → text) make keyword spans exact.

    Never raises for a valid IR: what a bound cut is reported, not thrown.
    """
    options = options or AnalysisOptions()
    started = options.clock()
    ctx = build_context(mode, options)
    policy = mode.configuration.hit_policy
    skipped = list(ctx.theory.skipped)
    found: list[Overlap] = []
    undecided: list[tuple[str, str]] = []
    try:
        verdicts, cut = first_verdicts(ctx) if policy == "first" else self_verdicts(ctx)
        skipped += cut
        if policy == "unique":
            found, undecided, cut = overlaps(ctx, verdicts)
            skipped += cut
        fallback = fallback_reachable(ctx)
    finally:
        ctx.solver.close()
    diagnostics = row_diagnostics(ctx, verdicts, found, undecided, fallback)
    diagnostics += keyword_diagnostics(ctx, verdicts, KeywordLocator(sources or {}))
    diagnostics += reachability(ctx, verdicts, fallback)
    if skipped:
        diagnostics.append(bound_note(mode, len(ctx.rows), skipped))
    return AnalysisReport(
        diagnostics, verdicts, fallback, found, skipped, _stats(ctx, options.clock() - started)
    )


def _stats(ctx: Context, seconds: float) -> dict[str, float]:
    theory, budget = ctx.theory, ctx.budget
    return {
        "rows": float(len(ctx.rows)),
        "atoms": float(len(theory.strs) + len(theory.free)),
        "variables": float(theory.top),
        "clauses": float(len(theory.clauses)),
        "lemmas": float(theory.lemmas),
        "queries": float(budget.queries),
        "undecided": float(budget.undecided),
        "conflicts": float(budget.conflicts),
        "propagations": float(budget.propagations),
        "seconds": seconds,
    }


def decided_by(
    mode: ModeFile, name: str, options: AnalysisOptions | None = None
) -> WitnessTask | None:
    """A task that row ``name`` decides under hit policy ``first`` (no earlier row fires;
    ``general_tasks``: no row fires), checked against the semantics; None when there is
    none or the analysis could not build one.

    On conditions made of text atoms, complexity and metadata comparisons, there is a task
    exactly when :func:`analyse` says the row fires.
    """
    ctx = build_context(mode, options or AnalysisOptions())
    try:
        lits = ctx.theory.rows
        if name == FALLBACK_TYPE and all(r.name != name for r in ctx.rows):
            return ctx.witness([-lit for lit in lits], ctx.no_row)
        i = next(i for i, r in enumerate(ctx.rows) if r.name == name)
        return ctx.witness(
            [lits[i], *(-lits[j] for j in range(i))], functools.partial(ctx.fires, i, alone=False)
        )
    finally:
        ctx.solver.close()
