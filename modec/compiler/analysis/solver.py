"""The SAT solver (MiniSat 2.2 through ``python-sat``) under the analysis' counted budgets."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pysat.solvers import Solver as _PySat

from modec.compiler.analysis.report import AnalysisLimits
from modec.compiler.analysis.theory import Theory

__all__ = ["Budget", "Solver"]


class Budget:
    """The counts one analysis has spent, and the safety-net deadline."""

    def __init__(self, limits: AnalysisLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self.deadline = clock() + limits.deadline_seconds
        self.queries = 0
        self.undecided = 0
        self.conflicts = 0
        self.propagations = 0
        self.deadline_passed = False

    def exhausted(self) -> str | None:
        """Why no further query may run, or None."""
        limits = self.limits
        if self.queries >= limits.max_queries:
            return f"the budget of {limits.max_queries:,} SAT queries is spent"
        if self.conflicts >= limits.max_conflicts:
            return f"the budget of {limits.max_conflicts:,} SAT conflicts is spent"
        if self.propagations >= limits.max_propagations:
            return f"the budget of {limits.max_propagations:,} SAT propagations is spent"
        if self.deadline_passed or self.clock() > self.deadline:
            self.deadline_passed = True
            return (
                f"the {limits.deadline_seconds:g} s safety-net deadline passed (this "
                "machine was too slow for the counted budgets: the result depends on it)"
            )
        return None

    def gave_up(self) -> str:
        """Why the last query was abandoned."""
        limits = self.limits
        return self.exhausted() or (
            f"the check gave up after {limits.conflicts_per_query:,} conflicts or "
            f"{limits.propagations_per_query:,} propagations"
        )

    def query_budgets(self) -> tuple[int, int]:
        """Conflicts and propagations the next query may spend."""
        limits = self.limits
        return (
            min(limits.conflicts_per_query, limits.max_conflicts - self.conflicts),
            min(limits.propagations_per_query, limits.max_propagations - self.propagations),
        )


class Solver:
    """A SAT solver over the theory with a per-query budget and the analysis' budget."""

    def __init__(self, theory: Theory, budget: Budget) -> None:
        self.theory = theory
        self.budget = budget
        self.sat = _PySat(name="m22", bootstrap_with=theory.clauses)
        self.spent = (0, 0)

    def solve(self, assumptions: Sequence[int]) -> bool | None:
        """Satisfiable under ``assumptions``; None when a budget cut the query."""
        budget = self.budget
        if budget.exhausted() is not None:
            return None
        budget.queries += 1
        conflicts, propagations = budget.query_budgets()
        self.sat.conf_budget(conflicts)
        self.sat.prop_budget(propagations)
        result: bool | None = self.sat.solve_limited(assumptions=list(assumptions))
        stats = self.sat.accum_stats()
        spent = (int(stats.get("conflicts", 0)), int(stats.get("propagations", 0)))
        budget.conflicts += spent[0] - self.spent[0]
        budget.propagations += spent[1] - self.spent[1]
        self.spent = spent
        if result is None:
            budget.undecided += 1
        return result

    def model(self) -> set[int]:
        """The last model as the set of true literals (``v`` or ``-v`` for every variable)."""
        return set(self.sat.get_model() or ())

    def core(self) -> set[int]:
        """The assumptions of the last unsatisfiable query that an unsat core needs."""
        return set(self.sat.get_core() or ())

    def add(self, clause: list[int]) -> None:
        """Add a clause for every later query."""
        self.sat.add_clause(clause)

    def close(self) -> None:
        """Free the solver."""
        self.sat.delete()
