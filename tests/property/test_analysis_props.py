"""Properties of the row analysis, checked against the reference interpreter.

* Sound: a row the analysis calls dead is never taken by any generated task (and the
  fallback, when called unreachable, never decides one).
* Witnesses are real: every overlap witness fires both rows in the reference interpreter,
  and the compiled router refuses it under ``unique``.
* Exact on the keyword fragment: every row the analysis says fires has a witness task that
  the reference interpreter routes to it.

The modes are drawn from a small pool of literals that contain one another ("test" inside
"testing" and "latest", "qa" inside "aqua"), so that shadowing and overlaps are common and the
tasks, built from the same pool, actually exercise the rows.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from modec.compiler.analysis import WitnessTask, analyse, decided_by, holds
from modec.compiler.ir import (
    FALLBACK_TYPE,
    And,
    Compare,
    Expr,
    InList,
    ModeConfiguration,
    ModeFile,
    ModeMetadata,
    Not,
    Or,
    RegexMatch,
    Role,
    Rule,
    TextMatch,
)
from modec.compiler.table import build_table
from modec.diagnostics import Span
from modec.runtime.router import AmbiguousRouteError, Router, Task
from modec.testing import evaluate, modes, reference_route, tasks

SPAN = Span.point("props.yaml", 1, 1)
POOL = (
    "test",
    "testing",
    "latest",
    "unit test",
    "qa",
    "aqua",
    "fix",
    "fix bug",
    "bug",
    "debug",
    "login",
    "log",
    "a",
    "ab",
    "ſ",
    "s",
    "K",
    "İ",
    "é",
    "c++",
    "_x",
    "e",
)
TEXT_FIELDS = ("title", "description", "text")
TAGS = ("hotfix", "backend", "ui", "HotFix", "qa")
TEAMS = ("core", "web", "Core")
REGEXES = (r"^fix", r"\btest\b", r"[0-9]+", r"bug$")

SETTINGS = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def text_match(fields: Sequence[str], ops: Sequence[str]) -> st.SearchStrategy[Expr]:
    def build(f: str, op: str, q: str, values: list[str]) -> Expr:
        if op in ("startswith", "endswith"):
            q, values = "one", values[:1]
        elif q == "one":
            values = values[:1]
        return TextMatch(span=SPAN, field=f, op=op, quantifier=q, values=tuple(values))

    return st.builds(
        build,
        st.sampled_from(fields),
        st.sampled_from(ops),
        st.sampled_from(("one", "any", "any", "all")),
        st.lists(st.sampled_from(POOL), min_size=1, max_size=3),
    )


def atoms(exact: bool) -> st.SearchStrategy[Expr]:
    ops = ("contains", "contains", "mentions", "startswith", "endswith")
    parts: list[st.SearchStrategy[Expr]] = [
        text_match(TEXT_FIELDS, ops),
        text_match(TEXT_FIELDS, ops),
        st.builds(
            lambda t: TextMatch(
                span=SPAN, field="tags", op="contains", quantifier="one", values=(t,)
            ),
            st.sampled_from(TAGS),
        ),
        st.builds(
            lambda op, v: Compare(span=SPAN, field="complexity", op=op, value=v),
            st.sampled_from(("==", "!=", "<", "<=", ">", ">=")),
            st.integers(min_value=0, max_value=6),
        ),
        st.builds(
            lambda op, v: Compare(span=SPAN, field="metadata.team", op=op, value=v),
            st.sampled_from(("==", "!=")),
            st.sampled_from(TEAMS),
        ),
        st.builds(
            lambda op, v: Compare(span=SPAN, field="metadata.priority", op=op, value=v),
            st.sampled_from(("==", "!=", "<", ">=")),
            st.sampled_from((1, 2, 2.5, True)),
        ),
        st.builds(
            lambda vs: InList(span=SPAN, field="metadata.team", values=tuple(vs)),
            st.lists(st.sampled_from((*TEAMS, 3)), min_size=1, max_size=2),
        ),
    ]
    if not exact:
        parts += [
            st.builds(
                lambda f, p: RegexMatch(span=SPAN, field=f, pattern=p, flags="i"),
                st.sampled_from(TEXT_FIELDS),
                st.sampled_from(REGEXES),
            ),
            text_match(("tags", "metadata.team"), ("contains", "mentions", "startswith")),
            st.builds(
                lambda v: Compare(span=SPAN, field="title", op="==", value=v), st.sampled_from(POOL)
            ),
        ]
    return st.one_of(*parts)


def conditions(exact: bool) -> st.SearchStrategy[Expr]:
    """Atoms, negations, and and/or of two or three of them, nested at most twice."""

    def flat(kind: type[And] | type[Or], items: list[Expr]) -> Expr:
        out: list[Expr] = []
        for item in items:
            out.extend(item.operands if isinstance(item, kind) else (item,))
        return kind(span=SPAN, operands=tuple(out))

    leaf = atoms(exact)
    literal = st.one_of(leaf, leaf, st.builds(lambda o: Not(span=SPAN, operand=o), leaf))
    junction = st.one_of(
        st.builds(lambda os: flat(And, os), st.lists(literal, min_size=2, max_size=3)),
        st.builds(lambda os: flat(Or, os), st.lists(literal, min_size=2, max_size=3)),
    )
    nested = st.one_of(
        st.builds(lambda os: flat(And, os), st.lists(junction | literal, min_size=2, max_size=2)),
        st.builds(lambda os: flat(Or, os), st.lists(junction | literal, min_size=2, max_size=2)),
        st.builds(lambda o: Not(span=SPAN, operand=o), junction),
    )
    return st.one_of(literal, literal, junction, junction, nested)


CONDITIONS = {exact: conditions(exact) for exact in (False, True)}


@st.composite
def pool_modes(
    draw: st.DrawFn,
    policies: Sequence[str] = ("first", "first", "collect", "unique"),
    exact: bool = False,
) -> ModeFile:
    """Modes of 2–7 rows over the literal pool, with priorities and a fallback rule."""
    orch = Role(
        span=SPAN,
        name="task_orchestrator",
        name_span=SPAN,
        role_definition="o",
        specialist_roles={"implementer": "i", "tester": "t"},
    )
    roles = {
        "task_orchestrator": orch,
        "implementer": Role(span=SPAN, name="implementer", name_span=SPAN, role_definition="i"),
    }
    rules = []
    for i in range(draw(st.integers(min_value=2, max_value=7))):
        s = Span.point("props.yaml", i + 2, 3)
        rules.append(
            Rule(
                span=s,
                name=f"r{i}_tasks",
                name_span=s,
                source="when",
                condition=draw(CONDITIONS[exact]),
                priority=draw(st.sampled_from((0, 0, 0, 1, -1))),
            )
        )
    if draw(st.booleans()):
        rules.append(
            Rule(
                span=SPAN,
                name=FALLBACK_TYPE,
                name_span=SPAN,
                condition=None,
                source="fallback",
                required_specialist="implementer",
            )
        )
    configuration = ModeConfiguration(
        span=SPAN,
        hit_policy=draw(st.sampled_from(policies)),
        default_complexity=draw(st.integers(1, 5)),
        builtin_task_types=False,
    )
    return ModeFile(
        span=SPAN,
        path="props.yaml",
        sources=(),
        metadata=ModeMetadata(span=SPAN),
        configuration=configuration,
        roles=roles,
        rules=tuple(rules),
    )


_SEPARATORS = (" ", "", "_", "-", "\n", ". ", "x", "1")


def _piece(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        word = rng.choice(POOL)
        return rng.choice((word, word, word.upper(), word.title()))
    if roll < 0.9:
        return rng.choice(_SEPARATORS)
    return "".join(rng.choice(string.ascii_letters + "ſKİ ") for _ in range(rng.randint(0, 3)))


def random_task(rng: random.Random) -> Task:
    """A task whose text is made of the pool's literals (in several cases) and separators."""
    meta: dict[str, Any] = {}
    if rng.random() < 0.5:
        meta["team"] = rng.choice((*TEAMS, 3, ""))
    if rng.random() < 0.5:
        meta["priority"] = rng.choice((1, 2, 2.5, 3, 0, True, "2"))
    return Task(
        title="".join(_piece(rng) for _ in range(rng.randint(0, 4))),
        description="".join(_piece(rng) for _ in range(rng.randint(0, 8))),
        tags=tuple(rng.choice((*TAGS, *POOL)) for _ in range(rng.randint(0, 3))),
        complexity=rng.choice((None, 1, 2, 3, 4, 5)),
        metadata=meta,
    )


def pool_tasks(n: int) -> st.SearchStrategy[list[Task]]:
    """``n`` pool tasks from a Hypothesis-drawn seed (cheap to draw; replayable)."""

    def batch(seed: int) -> list[Task]:
        rng = random.Random(seed)
        return [random_task(rng) for _ in range(n)]

    return st.integers(min_value=0, max_value=2**32).map(batch)


def _task(w: WitnessTask) -> Task:
    return Task.model_validate(w.to_dict())


def _check_dead_rows(mode: ModeFile, batch: list[Task]) -> None:
    report = analyse(mode)
    dead = {v.name for v in report.rows if v.status == "never"}
    event(f"{len(dead)} dead row(s)")
    policy = mode.configuration.hit_policy
    by_name = {r.name: r for r in mode.rules}
    for task in batch:
        complexity = task.complexity or mode.configuration.default_complexity
        fired = {
            name
            for name, r in by_name.items()
            if r.condition is not None and evaluate(r.condition, task, complexity)
        }
        if policy == "first":
            decided = next((r.name for r in build_order(mode) if r.name in fired), None)
            assert decided not in dead, (decided, task)
        else:
            assert not fired & dead, (fired & dead, task)
        if report.fallback_reachable is False:
            assert fired, task


def build_order(mode: ModeFile) -> list[Rule]:
    from modec.compiler.table import ordered_rules

    return ordered_rules(mode.rules)


@SETTINGS
@given(pool_modes(), pool_tasks(80))
def test_a_dead_row_never_decides_a_pool_task(mode: ModeFile, batch: list[Task]) -> None:
    _check_dead_rows(mode, batch)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modes(), st.lists(tasks(), min_size=20, max_size=20))
def test_a_dead_row_never_decides_a_generated_task(mode: ModeFile, batch: list[Task]) -> None:
    """The same on modec.testing's own generators (builtin rows, regexes, every operator)."""
    _check_dead_rows(mode, batch)


@SETTINGS
@given(pool_modes(policies=("unique",)))
def test_every_overlap_witness_fires_both_rows(mode: ModeFile) -> None:
    report = analyse(mode)
    event(f"{len(report.overlaps)} overlap(s)")
    router = Router(build_table(mode))
    by_name = {r.name: r for r in mode.rules}
    for overlap in report.overlaps:
        task = _task(overlap.witness)
        complexity = task.complexity or mode.configuration.default_complexity
        for name in (overlap.first, overlap.second):
            condition = by_name[name].condition
            assert condition is not None and evaluate(condition, task, complexity), (name, task)
        with pytest.raises(AmbiguousRouteError):
            router.route(task)


@SETTINGS
@given(pool_modes(policies=("first",), exact=True))
def test_every_row_that_fires_has_a_witness_on_the_exact_fragment(mode: ModeFile) -> None:
    report = analyse(mode)
    for verdict in report.rows:
        if verdict.status != "fires":
            continue
        witness = decided_by(mode, verdict.name)
        assert witness is not None, verdict.name
        assert reference_route(mode, _task(witness))[0] == verdict.name
    if report.fallback_reachable:
        witness = decided_by(mode, FALLBACK_TYPE)
        assert witness is not None
        assert reference_route(mode, _task(witness))[0] == FALLBACK_TYPE


@SETTINGS
@given(pool_modes(policies=("unique",), exact=True), pool_tasks(80))
def test_unique_without_reported_overlaps_routes_every_pool_task(
    mode: ModeFile, batch: list[Task]
) -> None:
    """Exactness the other way: when the overlap search reports nothing (and gave up on
    nothing), no generated task matches two rows."""
    report = analyse(mode)
    if report.overlaps or report.skipped or any(d.code == "MC603" for d in report.diagnostics):
        return
    router = Router(build_table(mode))
    for task in batch:
        router.route(task)  # must not raise AmbiguousRouteError


@SETTINGS
@given(conditions(exact=False), tasks(), st.integers(min_value=1, max_value=5))
def test_the_shared_semantics_agree_with_the_reference_interpreter(
    condition: Expr, task: Task, default_complexity: int
) -> None:
    """The analysis evaluates through ``compiler.semantics.holds``; the reference interpreter
    is independent on purpose, so agreement over generated conditions and tasks checks it."""
    witness = WitnessTask(
        title=task.title,
        description=task.description,
        tags=task.tags,
        complexity=task.complexity,
        metadata=tuple(sorted(task.metadata.items())),
    )
    expected = evaluate(condition, task, task.complexity or default_complexity)
    assert holds(condition, witness, default_complexity) == expected
