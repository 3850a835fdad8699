"""Running a mode's ``tests:`` examples through its router, and which rows they exercise.

``modec test`` is a shell over :func:`run_examples` and :func:`example_coverage`; an editor, a
CI step or a notebook gets the same results as data (``to_dict()``).

>>> from modec.compiler.pipeline import compile_text
>>> from modec.runtime.router import load_router
>>> c = compile_text('''
... task_orchestrator: {role_definition: o, specialist_roles: {implementer: i}}
... implementer: {role_definition: i}
... tests:
...   - {task: Add a unit test, expect_type: testing_tasks}
... ''', "m.yaml")
>>> [r.passed for r in run_examples(c.mode, load_router(c.artifact))]
[True]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modec.compiler.analysis import CoverageReport, analyse, coverage
from modec.compiler.ir import ModeFile, TaskSpec, TestExample
from modec.runtime.router import AmbiguousRouteError, Decision, Router, Task

__all__ = [
    "ExampleCoverage",
    "ExampleResult",
    "example_coverage",
    "run_examples",
    "task_of",
]


def task_of(spec: TaskSpec) -> Task:
    """The runtime task an example's ``task:`` describes."""
    return Task(
        title=spec.title,
        description=spec.description,
        tags=spec.tags,
        complexity=spec.complexity,
        metadata=dict(spec.metadata),
    )


@dataclass(frozen=True)
class ExampleResult:
    """One ``tests:`` example routed through its mode's router.

    ``decision`` is None when routing refused the task (``error`` says why, e.g. two rows
    under hit policy ``unique``).
    """

    example: TestExample
    decision: Decision | None
    error: str | None = None

    @property
    def passed(self) -> bool:
        d, e = self.decision, self.example
        return (
            d is not None
            and (e.expect_type is None or d.task_type == e.expect_type)
            and (e.expect_specialist is None or d.specialist == e.expect_specialist)
        )

    @property
    def location(self) -> str:
        return f"{self.example.span.file}:{self.example.span.line}"

    def to_dict(self) -> dict[str, Any]:
        """``{"location", "passed", "expected": {...}, "got": {...} | null, "error"}``."""
        d = self.decision
        return {
            "location": self.location,
            "passed": self.passed,
            "expected": {
                "task_type": self.example.expect_type,
                "specialist": self.example.expect_specialist,
            },
            "got": None if d is None else {"task_type": d.task_type, "specialist": d.specialist},
            "error": self.error,
        }


def run_examples(mode: ModeFile, router: Router) -> list[ExampleResult]:
    """Route every ``tests:`` example of ``mode`` through ``router`` (its compiled table)."""
    results = []
    for example in mode.tests:
        try:
            results.append(ExampleResult(example, router.route(task_of(example.task))))
        except AmbiguousRouteError as exc:
            results.append(ExampleResult(example, None, exc.message))
    return results


@dataclass(frozen=True)
class ExampleCoverage:
    """Which rows of a mode its examples exercise, against an optional minimum percentage."""

    path: str
    report: CoverageReport
    minimum: float | None = None

    @property
    def percent(self) -> float:
        return self.report.percent

    @property
    def below_minimum(self) -> bool:
        return self.minimum is not None and self.report.percent < self.minimum

    def to_dict(self) -> dict[str, Any]:
        counted = self.report.counted
        return {
            "file": self.path,
            "rows": len(counted),
            "covered": sum(r.covered for r in counted),
            "percent": round(self.report.percent, 3),
            "examples": self.report.examples,
            "minimum": self.minimum,
            "below_minimum": self.below_minimum,
            "uncovered": [
                {"name": r.name, "location": r.location, "never_fires": r.never_fires}
                for r in self.report.uncovered
            ],
            "implicit": [r.name for r in self.report.rows if r.implicit],
        }


def example_coverage(
    mode: ModeFile,
    results: Sequence[ExampleResult],
    sources: Mapping[str, str] | None = None,
    minimum: float | None = None,
) -> ExampleCoverage:
    """The rows the routed ``results`` exercised; the analysis marks rows that never fire."""
    taken = [tuple(r.decision.matches) if r.decision is not None else None for r in results]
    report = coverage(mode, taken, analyse(mode, sources).rows)
    return ExampleCoverage(mode.path, report, minimum)
