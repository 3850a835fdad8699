"""One analysis' state: the rows, their theory, the solver, and the checked witness search."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from modec.compiler.analysis.report import AnalysisOptions
from modec.compiler.analysis.solver import Budget, Solver
from modec.compiler.analysis.tasks import WitnessTask, first_match, holds
from modec.compiler.analysis.theory import Theory
from modec.compiler.analysis.witnesses import Witnesses
from modec.compiler.ir import ModeFile, Rule
from modec.compiler.table import ordered_rules

__all__ = ["Context", "build_context"]

#: Text atoms a witness model is made smaller over, at most (a query each).
_MINIMIZE: Final = 24


@dataclass
class Context:
    """The rows in order, encoded, with the solver and witness builder over them."""

    mode: ModeFile
    rows: list[Rule]
    theory: Theory
    solver: Solver
    budget: Budget
    witnesses: Witnesses
    options: AnalysisOptions
    default_complexity: int

    def fires(self, index: int, task: WitnessTask, alone: bool) -> bool:
        """Row ``index`` fires for ``task`` and, unless ``alone``, no earlier row does."""
        cond = self.rows[index].condition
        if cond is None or not holds(cond, task, self.default_complexity):
            return False
        return alone or first_match(self.rows[:index], task, self.default_complexity) is None

    def both(self, i: int, j: int, task: WitnessTask) -> bool:
        """Rows ``i`` and ``j`` both match ``task``."""
        return self.fires(i, task, alone=True) and self.fires(j, task, alone=True)

    def no_row(self, task: WitnessTask) -> bool:
        """No row matches ``task`` (the fallback decides it)."""
        return first_match(self.rows, task, self.default_complexity) is None

    def witness(
        self, assumptions: list[int], check: Callable[[WitnessTask], bool]
    ) -> WitnessTask | None:
        """A checked task satisfying ``assumptions``, trying a few models; None if none.

        Each model is first made small (as few true text atoms as the assumptions allow),
        so that witnesses read like tasks: "login", not "session token, form".
        """
        guard = self.theory.new()
        try:
            for _ in range(self.options.limits.witness_attempts):
                base = [*assumptions, guard]
                if not self.solver.solve(base):
                    return None
                model = self._smaller(base, self.solver.model())
                task = self._checked(model, check)
                if task is not None:
                    return task
                # Ask for a different assignment of the text and free atoms next time.
                atoms = [*self.theory.strs.values(), *(v for v, _ in self.theory.free.values())]
                self.solver.add([-guard, *(-a if a in model else a for a in atoms)])
            return None
        finally:
            self.solver.add([-guard])

    def _checked(self, model: set[int], check: Callable[[WitnessTask], bool]) -> WitnessTask | None:
        for task in self.witnesses.build(model):
            if check(task):
                if task.complexity is not None:  # leave it out when it can be
                    plain = dataclasses.replace(task, complexity=None)
                    return plain if check(plain) else task
                return task
        return None

    def _smaller(self, base: list[int], model: set[int]) -> set[int]:
        """A model whose true text atoms are a subset-minimal subset of ``model``'s."""
        atoms = list(self.theory.strs.values())
        if len(atoms) > _MINIMIZE * 8:
            return model
        best = self._drop_atoms(base, atoms, model)
        if sum(a in best for a in atoms) > 1 and len(atoms) <= _MINIMIZE * 2:
            single = self._single_atom(base, atoms)
            if single is not None:
                return single
        return best

    def _drop_atoms(self, base: list[int], atoms: Sequence[int], model: set[int]) -> set[int]:
        fixed = [*base, *(-a for a in atoms if -a in model)]
        best = model
        for atom in [a for a in atoms if a in model][:_MINIMIZE]:
            if atom in best and self.solver.solve([*fixed, -atom]):
                fixed.append(-atom)
                best = self.solver.model()
        return best

    def _single_atom(self, base: list[int], atoms: Sequence[int]) -> set[int] | None:
        """A model with one true text atom, if there is one."""
        for atom in atoms:
            if self.solver.solve([*base, *(-b for b in atoms if b != atom)]):
                return self.solver.model()
        return None


def build_context(mode: ModeFile, options: AnalysisOptions) -> Context:
    """The rows of ``mode`` in order, encoded under ``options``' limits."""
    rows = ordered_rules(mode.rules)
    budget = Budget(options.limits, options.clock)
    theory = Theory(rows, options.limits)
    return Context(
        mode,
        rows,
        theory,
        Solver(theory, budget),
        budget,
        Witnesses(theory),
        options,
        mode.configuration.default_complexity,
    )
