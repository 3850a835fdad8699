"""Row verdicts (fires, never, unknown), overlaps under ``unique``, the fallback's reach."""

from __future__ import annotations

import functools
from typing import Final

from modec.compiler.analysis.context import Context
from modec.compiler.analysis.report import Overlap, RowVerdict
from modec.compiler.analysis.solver import Solver

__all__ = ["UNEXPLAINED", "fallback_reachable", "first_verdicts", "overlaps", "self_verdicts"]

UNEXPLAINED: Final = "earlier rows take its tasks (which ones was not computed: bound)"


def _unchecked(ctx: Context, i: int, reason: str, what: str) -> tuple[list[RowVerdict], str]:
    rest = ctx.rows[i:]
    return (
        [RowVerdict(j, r.name, "unknown", reason=reason) for j, r in enumerate(rest, start=i)],
        f"{len(rest)} row(s) from {rest[0].name!r} on were not checked{what}: {reason}",
    )


def first_verdicts(ctx: Context) -> tuple[list[RowVerdict], list[str]]:
    """Under ``first``: row i fires iff r_i ∧ ¬r_1 ∧ … ∧ ¬r_{i-1} is satisfiable.

    One incremental solver carries the prefix as unit clauses (¬r_j is added once row j is
    decided), so each query assumes only r_i; cores for the explanation use a second one.
    """
    lits = ctx.theory.rows
    out: list[RowVerdict] = []
    skipped: list[str] = []
    prefix = Solver(ctx.theory, ctx.budget)
    explained = 0
    try:
        for i, rule in enumerate(ctx.rows):
            reason = ctx.budget.exhausted()
            if reason is not None:
                rest, note = _unchecked(ctx, i, reason, " for shadowing")
                out.extend(rest)
                skipped.append(note)
                break
            result = prefix.solve([lits[i]])
            if result is None:
                why = ctx.budget.gave_up()
                skipped.append(f"row {rule.name!r}: {why}")
                out.append(RowVerdict(i, rule.name, "unknown", reason=why))
            elif result:
                out.append(RowVerdict(i, rule.name, "fires"))
            else:
                explain = explained < ctx.options.limits.max_explanations
                explained += explain
                out.append(_never(ctx, i, explain))
            prefix.add([-lits[i]])
    finally:
        prefix.close()
    return out, skipped


def _never(ctx: Context, i: int, explain: bool) -> RowVerdict:
    name = ctx.rows[i].name
    covered = _covering(ctx, i) if explain else None
    return RowVerdict(
        i,
        name,
        "never",
        covered_by=covered or (),
        reason=None if covered is not None else UNEXPLAINED,
    )


def _covering(ctx: Context, i: int) -> tuple[str, ...] | None:
    """The earlier rows an unsat core names as taking every task of row ``i`` (empty when
    the row's own condition is unsatisfiable; None when the query was cut)."""
    lits = ctx.theory.rows
    assumptions = [lits[i], *(-lits[j] for j in range(i))]
    if ctx.solver.solve(assumptions) is not False:
        return None
    core = ctx.solver.core()
    return tuple(ctx.rows[j].name for j in range(i) if -lits[j] in core)


def self_verdicts(ctx: Context) -> tuple[list[RowVerdict], list[str]]:
    """Under ``unique`` and ``collect``: a row fires iff its own condition is satisfiable."""
    out: list[RowVerdict] = []
    skipped: list[str] = []
    for i, rule in enumerate(ctx.rows):
        reason = ctx.budget.exhausted()
        if reason is not None:
            rest, note = _unchecked(ctx, i, reason, "")
            out.extend(rest)
            skipped.append(note)
            break
        result = ctx.solver.solve([ctx.theory.rows[i]])
        if result is None:
            why = ctx.budget.gave_up()
            skipped.append(f"row {rule.name!r}: {why}")
            out.append(RowVerdict(i, rule.name, "unknown", reason=why))
        else:
            out.append(RowVerdict(i, rule.name, "fires" if result else "never"))
    return out, skipped


class _OverlapSearch:
    """Pairs of rows with a checked witness both match, one solver query per candidate."""

    def __init__(self, ctx: Context, verdicts: list[RowVerdict]) -> None:
        self.ctx = ctx
        self.verdicts = verdicts
        self.found: list[Overlap] = []
        self.undecided: list[tuple[str, str]] = []
        self.skipped: list[str] = []

    def stop_reason(self) -> str | None:
        reason = self.ctx.budget.exhausted()
        limit = self.ctx.options.limits.max_overlaps
        if reason is None and len(self.found) >= limit:
            reason = f"{limit} overlapping pairs were reported"
        return reason

    def run(self) -> None:
        ctx, n = self.ctx, len(self.ctx.rows)
        for i in range(n):
            if self.verdicts[i].status == "never":
                continue
            later = [j for j in range(i + 1, n) if self.verdicts[j].status != "never"]
            while later:
                reason = self.stop_reason()
                if reason is not None:
                    self.skipped.append(
                        f"the overlap search stopped at row {ctx.rows[i].name!r} ({n - i} "
                        f"row(s) not compared with the rows after them): {reason}"
                    )
                    return
                if not self.step(i, later):
                    break

    def step(self, i: int, later: list[int]) -> bool:
        """One query: does row ``i`` overlap any of ``later``? False: stop comparing ``i``."""
        ctx, lits = self.ctx, self.ctx.theory.rows
        guard = ctx.theory.new()
        ctx.solver.add([-guard, *(lits[j] for j in later)])
        result = ctx.solver.solve([lits[i], guard])
        model = ctx.solver.model() if result else set()
        ctx.solver.add([-guard])
        if result is None:
            if ctx.budget.exhausted() is not None:
                return True  # the caller reports the spent budget
            self.skipped.append(
                f"whether row {ctx.rows[i].name!r} overlaps any of the "
                f"{len(later)} row(s) after it was not decided: "
                f"{ctx.budget.gave_up()}"
            )
            return False
        if not result:
            return False
        j = next(j for j in later if lits[j] in model)
        later.remove(j)
        witness = ctx.witness([lits[i], lits[j]], functools.partial(ctx.both, i, j))
        first, second = ctx.rows[i].name, ctx.rows[j].name
        if witness is None:
            self.undecided.append((first, second))
        else:
            self.found.append(Overlap(first, second, witness))
        return True


def overlaps(
    ctx: Context, verdicts: list[RowVerdict]
) -> tuple[list[Overlap], list[tuple[str, str]], list[str]]:
    """Under ``unique``: pairs of rows with a checked witness both match; undecided pairs."""
    search = _OverlapSearch(ctx, verdicts)
    search.run()
    return search.found, search.undecided, search.skipped


def fallback_reachable(ctx: Context) -> bool | None:
    """Some task matches no row (None: a bound cut the query)."""
    return ctx.solver.solve([-lit for lit in ctx.theory.rows])
