"""The compiled router agrees with the reference interpreter, for every hit policy."""

from __future__ import annotations

import random
from typing import Any

import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from modec.compiler.artifact import build_artifact, mode_hash
from modec.compiler.ir import ModeFile
from modec.compiler.pipeline import compile_text
from modec.compiler.table import build_table
from modec.runtime.router import AmbiguousRouteError, Router, Task, load_router
from modec.testing import evaluate, mode_documents, modes, reference_route, tasks


def expected(mode: ModeFile, task: Task) -> tuple[str, str | None, tuple[str, ...]] | None:
    """The reference answer, or None when the reference finds the task ambiguous."""
    try:
        return reference_route(mode, task)
    except AmbiguousRouteError:
        return None


def check(mode: ModeFile, router: Router, task: Task) -> None:
    want = expected(mode, task)
    if want is None:
        event("ambiguous under unique")
        try:
            router.route(task)
        except AmbiguousRouteError:
            return
        raise AssertionError("the router missed an ambiguity the reference found")
    d = router.route(task)
    assert (d.task_type, d.specialist, d.matches) == want
    event("fallback" if not want[2] else f"{len(want[2])} row(s) taken")


@settings(max_examples=150)
@given(modes(), st.lists(tasks(), min_size=1, max_size=4))
def test_router_matches_reference_on_generated_ir(mode: ModeFile, batch: list[Task]) -> None:
    table = build_table(mode)
    for scanner in ("re2", "aho"):
        for generated in (True, False):  # rows as generated Python, and as bitmask programs
            router = Router(table, scanner=scanner, generated=generated)
            for task in batch:
                check(mode, router, task)


@settings(max_examples=100)
@given(modes(), tasks())
def test_explain_fires_exactly_the_rows_the_reference_fires(mode: ModeFile, task: Task) -> None:
    router = Router(build_table(mode))
    explanation = router.explain(task)
    complexity = task.complexity or mode.configuration.default_complexity
    fired = {
        r.name
        for r in mode.rules
        if r.condition is not None and evaluate(r.condition, task, complexity)
    }
    assert {r.name for r in explanation.rows if r.fired} == fired
    assert [r.name for r in explanation.rows] == [r.name for r in router.rows]
    assert all(not r.taken or r.fired for r in explanation.rows)


@settings(max_examples=100)
@given(mode_documents(), st.lists(tasks(), min_size=1, max_size=5))
def test_router_matches_reference_on_generated_documents(doc: str, batch: list[Task]) -> None:
    c = compile_text(doc, "generated.yaml")
    assert c.mode is not None
    policy = c.mode.configuration.hit_policy
    event(f"hit policy {policy}")
    if c.ok:
        assert c.artifact is not None
        router = load_router(c.artifact.to_bytes())
    else:
        # Overlapping rows under `unique` are a compile error (MC602, with a witness); the
        # router must still refuse such tasks at routing time, so route the checked IR.
        errors = {d.code for d in c.diagnostics if d.is_error}
        assert policy == "unique" and errors == {"MC602"}, c.diagnostics
        event("unique overlap refused at compile time (MC602)")
        router = Router(build_table(c.mode))
    for task in batch:
        check(c.mode, router, task)


@settings(max_examples=60)
@given(modes(hit_policies=("first", "collect")), st.lists(tasks(), max_size=6))
def test_route_many_is_route(mode: ModeFile, batch: list[Task]) -> None:
    router = Router(build_table(mode))
    assert router.route_many(batch) == [router.route(t) for t in batch]
    as_dicts: list[Any] = [t.model_dump() for t in batch]
    assert router.route_many(as_dicts) == router.route_many(batch)
    descriptions: list[Any] = [t.description for t in batch]
    assert router.route_many(descriptions) == [router.route(t) for t in descriptions]


@settings(max_examples=80)
@given(
    modes(hit_policies=("first",)),
    st.lists(tasks(), min_size=1, max_size=3),
    st.integers(min_value=0, max_value=3),
)
def test_long_texts_route_like_the_reference(mode: ModeFile, batch: list[Task], k: int) -> None:
    """Texts long enough to be scanned in chunks (with early exit) decide as the reference."""
    router = Router(build_table(mode))
    filler = ("lorem ipsum dolor " * 700)[: 9000 + 997 * k]
    for task in batch:
        for description in (
            filler + task.description,
            task.description + filler,
            filler + task.description + filler,
        ):
            long_task = task.model_copy(update={"description": description})
            check(mode, router, long_task)


@settings(max_examples=60)
@given(modes(), tasks())
def test_router_from_artifact_bytes_is_the_same_router(mode: ModeFile, task: Task) -> None:
    table = build_table(mode)
    direct = Router(table, mode_hash(mode))
    loaded = load_router(build_artifact(mode, table).to_bytes())
    try:
        want = direct.route(task)
    except AmbiguousRouteError:
        return
    assert loaded.route(task) == want


def _shuffled(value: Any, rng: random.Random, keep_order: bool = False) -> Any:
    """The same YAML data with mapping keys reordered wherever order carries no meaning."""
    if isinstance(value, dict):
        items = list(value.items())
        if not keep_order:
            rng.shuffle(items)
        # Rule order and the order of listed specialists are meaningful: keep them.
        return {
            k: _shuffled(v, rng, keep_order=k in ("task_routing_rules", "specialist_roles"))
            for k, v in items
        }
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


@settings(max_examples=60)
@given(mode_documents(), st.randoms(use_true_random=False), st.booleans(), st.integers(2, 6))
def test_hash_is_invariant_under_reformatting(
    doc: str, rng: random.Random, flow: bool, indent: int
) -> None:
    original = compile_text(doc, "generated.yaml", until="check")
    assert original.mode is not None
    data = _shuffled(yaml.safe_load(doc), rng)
    text = yaml.safe_dump(
        data,
        sort_keys=False,
        default_flow_style=flow,
        indent=indent,
        allow_unicode=rng.random() < 0.5,
        width=rng.choice((40, 80, 10_000)),
    )
    text = "# regenerated\n" + text
    again = compile_text(text, "other.yaml", until="check")
    assert again.mode is not None, [d.message for d in again.diagnostics]
    assert mode_hash(again.mode) == mode_hash(original.mode)
