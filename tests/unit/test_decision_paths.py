"""A decision from the router's hot paths (the description route, the generated rows) is the
Decision its constructor builds: same type, attributes, equality, repr, dict, lazy task and
copy, for every kind of task given."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from modec.compiler.table import build_table
from modec.compiler.task import Task, TaskView
from modec.runtime.decision import Decision
from modec.runtime.router import Router
from modec.testing import make_mode, make_rule, reference_route

TEXTS = (
    "",
    "nothing here",
    "Audit the login",  # one literal
    "write a test guide for the audit",  # several literals, several rows
    "QA qa Qa",  # one literal, several times
    "é — profiling",  # wide text, raw scan
    "\u212aELVIN security",  # the Kelvin sign: lowered
)


def _kinds(text: str) -> list[Any]:
    return [text, Task(description=text), TaskView("", text, (), None, {}), {"description": text}]


def _routers() -> list[Router]:
    shared = make_mode(
        [
            make_rule("a_tasks", ["alpha", "shared"]),
            make_rule("b_tasks", ["beta", "shared", "audit"]),
        ],
        builtin_task_types=False,
    )
    return [Router(build_table(make_mode())), Router(build_table(shared))]


@pytest.mark.parametrize("text", TEXTS)
def test_a_routed_decision_is_the_constructed_one(text: str) -> None:
    for router in _routers():
        assert router.route.__name__ == "route_description"  # the hot path is under test
        for given in _kinds(text):
            d = router.route(given)
            built = Decision(d._o, d._task)
            assert type(d) is Decision
            assert d == built
            assert repr(d) == repr(built)
            assert d.to_dict() == built.to_dict()
            assert (d.task_type, d.specialist, d.complexity, d.matches, d.source) == (
                built.task_type,
                built.specialist,
                built.complexity,
                built.matches,
                built.source,
            )
            assert d.task == Task(description=text)
            assert copy.copy(d) == d
            assert router.route_many([given, given]) == [d, d]


@pytest.mark.parametrize("text", TEXTS)
def test_the_routed_row_is_the_reference_row(text: str) -> None:
    mode = make_mode(
        [make_rule("a_tasks", ["alpha", "shared"]), make_rule("b_tasks", ["beta", "audit"])]
    )
    router = Router(build_table(mode))
    for given in _kinds(text):
        assert router.route(given).task_type == reference_route(mode, text)[0]


def test_a_decision_of_the_generated_rows_is_the_constructed_one() -> None:
    mode = make_mode(
        [
            make_rule("tagged_tasks", 'tags contains "ops" or title matches /^fix:/'),
            make_rule("audit_tasks", ["audit"]),
        ],
        builtin_task_types=False,
    )
    router = Router(build_table(mode))
    assert router.route.__name__ == "decide"  # the generated rows are under test
    for text in TEXTS:
        for given in (*_kinds(text), Task(title="fix: it", description=text, tags=["ops"])):
            d = router.route(given)
            built = Decision(d._o, d._task)
            assert type(d) is Decision and d == built and repr(d) == repr(built)
            assert d.to_dict() == built.to_dict() and copy.copy(d) == d
            expected = Task(description=text) if not isinstance(given, Task) else given
            assert d.task == expected
            assert d.task_type == reference_route(mode, expected)[0]
