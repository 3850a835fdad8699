"""The same rows, as modec and as each peer: build once, then route one prepared task.

Every engine answers ``(task_type, specialist)`` for the first row whose keywords occur in the
lowered description, else ``general_tasks`` and the default specialist. Peers that lack
``str.lower()`` semantics are handed the description already lowered (outside the timing),
which only favours them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from benchmarks.workload import RuleRow

DEFAULT_SPECIALIST: Final = "implementer"
FALLBACK: Final = "general_tasks"

Route = Callable[[Any], tuple[str, str]]


@dataclass
class Engine:
    """A built engine: ``timed(prepare(text))`` is one decision (what is measured);
    ``decide`` gives the same decision as ``(task_type, specialist)`` for the agreement
    check."""

    name: str
    prepare: Callable[[str], Any]
    timed: Callable[[Any], object]
    decide: Route
    build_seconds: float
    note: str = ""


def _routing(rows: Sequence[RuleRow]) -> dict[str, str]:
    return {row.name: row.specialist for row in rows}


# --------------------------------------------------------------------------- modec


def build_modec(rows: Sequence[RuleRow]) -> tuple[Engine, float, int]:
    """modec's router, through the real table and artifact stages; also load time and size."""
    from modec.compiler.artifact import build_artifact
    from modec.compiler.ir import BUILTIN_KEYWORDS
    from modec.compiler.table import build_table
    from modec.runtime.router import Task, load_router
    from modec.testing import make_mode, make_rule

    start = time.perf_counter()
    rules = [
        make_rule(
            row.name,
            None if row.name in BUILTIN_KEYWORDS else list(row.keywords),
            line=i + 2,
            required_specialist=row.specialist,
        )
        for i, row in enumerate(rows)
    ]
    specialists = sorted({DEFAULT_SPECIALIST, *(row.specialist for row in rows)})
    mode = make_mode(rules, specialists=specialists, default_specialist=DEFAULT_SPECIALIST)
    data = build_artifact(mode, build_table(mode)).to_bytes()
    build = time.perf_counter() - start
    start = time.perf_counter()
    router = load_router(data)
    load = time.perf_counter() - start
    route = router.route

    def decide(task: Any) -> tuple[str, str]:
        d = route(task)
        return d.task_type, d.specialist or ""

    engine = Engine(
        "modec route()", lambda text: Task(description=text), route, decide, build + load
    )
    return engine, load, len(data)


# --------------------------------------------------------------------------- plain Python


def _chain_source(rows: Sequence[RuleRow]) -> str:
    lines = ["def classify_task_type(task):", "    t = task.description.lower()"]
    for row in rows:
        lines.append(f"    if any(k in t for k in {list(row.keywords)!r}):")
        lines.append(f"        return {row.name!r}")
    lines.append(f"    return {FALLBACK!r}")
    return "\n".join(lines)


def build_chain(rows: Sequence[RuleRow]) -> Engine:
    """The classic classifier (DESIGN §2, verbatim at 20 keywords) plus its specialist lookup."""
    from modec.runtime.router import Task

    start = time.perf_counter()
    namespace: dict[str, Any] = {}
    exec(compile(_chain_source(rows), "<classic chain>", "exec"), namespace)
    classify = namespace["classify_task_type"]
    routing = _routing(rows)

    def route(task: Any) -> tuple[str, str]:
        task_type = classify(task)
        return task_type, routing.get(task_type, DEFAULT_SPECIALIST)

    return Engine(
        "classic any() chain",
        lambda text: Task(description=text),
        route,
        route,
        time.perf_counter() - start,
    )


def build_dict_table(rows: Sequence[RuleRow]) -> Engine:
    """A hand-written Python table: task type -> keywords, scanned in order."""
    from modec.runtime.router import Task

    start = time.perf_counter()
    table = {row.name: (row.keywords, row.specialist) for row in rows}

    def route(task: Any) -> tuple[str, str]:
        t = task.description.lower()
        for name, (keywords, specialist) in table.items():
            for k in keywords:
                if k in t:
                    return name, specialist
        return FALLBACK, DEFAULT_SPECIALIST

    return Engine(
        "python dict table",
        lambda text: Task(description=text),
        route,
        route,
        time.perf_counter() - start,
    )


# --------------------------------------------------------------------------- peers


def _quoted(word: str) -> str:
    return json.dumps(word)


def build_zen(rows: Sequence[RuleRow]) -> Engine:
    """zen-engine: one JDM decision table (hit policy first), one rule per row."""
    import zen

    start = time.perf_counter()
    rules = [
        {
            "_id": f"r{i}",
            "in": " or ".join(f"contains($, {_quoted(k)})" for k in row.keywords),
            "type": _quoted(row.name),
            "who": _quoted(row.specialist),
        }
        for i, row in enumerate(rows)
    ]
    rules.append(
        {"_id": "fallback", "in": "", "type": _quoted(FALLBACK), "who": _quoted(DEFAULT_SPECIALIST)}
    )
    graph = {
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}},
            {
                "id": "table",
                "type": "decisionTableNode",
                "name": "routing",
                "position": {"x": 1, "y": 0},
                "content": {
                    "hitPolicy": "first",
                    "inputs": [{"id": "in", "name": "description", "field": "description"}],
                    "outputs": [
                        {"id": "type", "name": "type", "field": "task_type"},
                        {"id": "who", "name": "who", "field": "specialist"},
                    ],
                    "rules": rules,
                },
            },
            {
                "id": "response",
                "type": "outputNode",
                "name": "response",
                "position": {"x": 2, "y": 0},
            },
        ],
        "edges": [
            {"id": "e1", "sourceId": "request", "targetId": "table", "type": "edge"},
            {"id": "e2", "sourceId": "table", "targetId": "response", "type": "edge"},
        ],
    }
    decision = zen.ZenEngine().create_decision(json.dumps(graph))
    evaluate = decision.evaluate

    def route(request: dict[str, str]) -> tuple[str, str]:
        result = evaluate(request)["result"]
        return result["task_type"], result["specialist"]

    engine = Engine(
        "zen-engine",
        lambda text: {"description": text.lower()},
        route,
        route,
        time.perf_counter() - start,
        "input lowered for it",
    )
    route({"description": "warm-up"})
    return engine


def build_rule_engine(rows: Sequence[RuleRow]) -> Engine:
    """rule-engine: one Rule per row, tried in order."""
    import rule_engine

    start = time.perf_counter()
    compiled = [
        (
            row.name,
            row.specialist,
            rule_engine.Rule(" or ".join(f"{_quoted(k)} in description" for k in row.keywords)),
        )
        for row in rows
    ]

    def route(thing: dict[str, str]) -> tuple[str, str]:
        for name, specialist, rule in compiled:
            if rule.matches(thing):
                return name, specialist
        return FALLBACK, DEFAULT_SPECIALIST

    return Engine(
        "rule-engine",
        lambda text: {"description": text.lower()},
        route,
        route,
        time.perf_counter() - start,
        "input lowered for it",
    )


def build_cel(rows: Sequence[RuleRow]) -> Engine:
    """cel-python: one CEL program per row, tried in order."""
    import celpy
    from celpy import celtypes

    start = time.perf_counter()
    env = celpy.Environment()
    programs = [
        (
            row.name,
            row.specialist,
            env.program(
                env.compile(
                    " || ".join(f"description.contains({_quoted(k)})" for k in row.keywords)
                )
            ),
        )
        for row in rows
    ]

    def route(activation: dict[str, Any]) -> tuple[str, str]:
        for name, specialist, program in programs:
            if program.evaluate(activation):
                return name, specialist
        return FALLBACK, DEFAULT_SPECIALIST

    return Engine(
        "cel-python",
        lambda text: {"description": celtypes.StringType(text.lower())},
        route,
        route,
        time.perf_counter() - start,
        "input lowered for it",
    )


PEERS: Final = (build_chain, build_dict_table, build_zen, build_rule_engine, build_cel)
