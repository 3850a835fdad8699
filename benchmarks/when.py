"""The ``when:`` workload: rules over tags, complexity, a regex, metadata and ``not``.

One mode (hit policy first, six rules and the fallback) and a seeded list of tasks with a
title, a description, tags, a complexity and metadata. The peers encode the same rules:

* **python** — the function a Python programmer would write by hand (``re``, sets, ``in``);
* **rule-engine** — one ``Rule`` per row, tried in order;
* **zen-engine** — one JDM decision table, one expression cell per row.

Peers get the task as a dict; rule-engine and zen-engine get metadata flattened with a
default (they raise on a missing value), prepared outside the timing.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from typing import Any, Final

from benchmarks.engines import Engine
from benchmarks.workload import SEED, corpus

MODE: Final = """\
task_orchestrator:
  role_definition: routes work
  specialist_roles:
    implementer: builds
    debugger: fixes
    security_auditor: audits
    data_engineer: migrates
    architect: designs
    sre: operates
    frontend: draws
implementer: {role_definition: builds}
debugger: {role_definition: fixes}
security_auditor: {role_definition: audits}
data_engineer: {role_definition: migrates}
architect: {role_definition: designs}
sre: {role_definition: operates}
frontend: {role_definition: draws}
mode_configuration:
  hit_policy: first
  default_specialist: implementer
  builtin_task_types: false
task_routing_rules:
  hotfix_tasks:
    when: 'tags contains "hotfix" or (title matches /^fix([(].+[)])?:/i and complexity <= simple)'
    required_specialist: debugger
  vuln_tasks:
    when: 'text contains any("security", "vulnerability", "cve") and not tags contains "docs"'
    required_specialist: security_auditor
  data_tasks:
    when: 'metadata.team == "data" and description contains any("migration", "schema")'
    required_specialist: data_engineer
  refactor_tasks:
    when: 'complexity >= complex and title startswith "refactor"'
    required_specialist: architect
  urgent_tasks:
    when: 'metadata.priority >= 8 and not tags contains "wontfix"'
    required_specialist: sre
  ui_tasks:
    when: 'tags contains any("ui", "frontend") and complexity < 4'
    required_specialist: frontend
"""

FALLBACK: Final = ("general_tasks", "implementer")
_TITLES: Final = (
    "fix(parser): crash on empty input",
    "Fix: login loop after reset",
    "fix the flaky build",
    "Refactor the cache layer",
    "refactor: split the router",
    "Add dark mode to settings",
    "Update the onboarding docs",
    "Investigate slow queries",
    "Migrate users table",
    "Security review of the upload path",
    "Bump dependencies",
    "New CVE in the TLS library",
)
_TAGS: Final = ("hotfix", "docs", "ui", "frontend", "wontfix", "backend", "api")
_WORDS: Final = ("security", "vulnerability", "CVE", "migration", "schema", "Schema")


def tasks(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """``count`` seeded tasks as dicts (title, description, tags, complexity, metadata)."""
    rng = random.Random(seed * 7)
    descriptions = corpus(300, count, seed + 1)
    out = []
    for text in descriptions:
        if rng.random() < 0.3:
            cut = rng.randrange(len(text))
            text = f"{text[:cut]} {rng.choice(_WORDS)} {text[cut:]}"[:300]
        metadata: dict[str, Any] = {}
        if rng.random() < 0.6:
            metadata["team"] = rng.choice(("data", "web", "core"))
        if rng.random() < 0.5:
            metadata["priority"] = rng.randint(0, 10)
        out.append(
            {
                "title": rng.choice(_TITLES),
                "description": text,
                "tags": rng.sample(_TAGS, rng.choice((0, 0, 1, 1, 2))),
                "complexity": rng.choice((None, 1, 2, 3, 4, 5)),
                "metadata": metadata,
            }
        )
    return out


# --------------------------------------------------------------------------- python

_FIX: Final = re.compile(r"^fix([(].+[)])?:", re.IGNORECASE)


def route_by_hand(task: dict[str, Any]) -> tuple[str, str]:
    """The rules as hand-written Python."""
    tags = {t.lower() for t in task["tags"]}
    title = task["title"]
    complexity = task["complexity"] or 3
    meta = task["metadata"]
    if "hotfix" in tags or (_FIX.search(title) and complexity <= 2):
        return "hotfix_tasks", "debugger"
    text = (title + "\n" + task["description"]).lower()
    if "docs" not in tags and ("security" in text or "vulnerability" in text or "cve" in text):
        return "vuln_tasks", "security_auditor"
    if meta.get("team") == "data":
        description = task["description"].lower()
        if "migration" in description or "schema" in description:
            return "data_tasks", "data_engineer"
    if complexity >= 4 and title.lower().startswith("refactor"):
        return "refactor_tasks", "architect"
    priority = meta.get("priority")
    if priority is not None and priority >= 8 and "wontfix" not in tags:
        return "urgent_tasks", "sre"
    if ("ui" in tags or "frontend" in tags) and complexity < 4:
        return "ui_tasks", "frontend"
    return FALLBACK


def build_python() -> Engine:
    return Engine("python by hand", lambda t: t, route_by_hand, route_by_hand, 0.0)


# --------------------------------------------------------------------------- peers


def _flat(task: dict[str, Any]) -> dict[str, Any]:
    """Tags lowered, complexity defaulted, metadata flattened with defaults."""
    return {
        "title": task["title"],
        "title_lower": task["title"].lower(),
        "description": task["description"].lower(),
        "text": (task["title"] + "\n" + task["description"]).lower(),
        "tags": [t.lower() for t in task["tags"]],
        "complexity": task["complexity"] or 3,
        "team": task["metadata"].get("team", ""),
        "priority": task["metadata"].get("priority", -1),
    }


_RULE_ENGINE: Final = (
    (
        "hotfix_tasks",
        "debugger",
        '"hotfix" in tags or (title =~~ "(?i)^fix([(].+[)])?:" and complexity <= 2)',
    ),
    (
        "vuln_tasks",
        "security_auditor",
        '("security" in text or "vulnerability" in text or "cve" in text) and not "docs" in tags',
    ),
    (
        "data_tasks",
        "data_engineer",
        'team == "data" and ("migration" in description or "schema" in description)',
    ),
    ("refactor_tasks", "architect", 'complexity >= 4 and title_lower =~ "refactor"'),
    ("urgent_tasks", "sre", 'priority >= 8 and not "wontfix" in tags'),
    ("ui_tasks", "frontend", '("ui" in tags or "frontend" in tags) and complexity < 4'),
)


def build_rule_engine() -> Engine:
    import rule_engine

    start = time.perf_counter()
    rules = [(name, who, rule_engine.Rule(text)) for name, who, text in _RULE_ENGINE]

    def route(thing: dict[str, Any]) -> tuple[str, str]:
        for name, who, rule in rules:
            if rule.matches(thing):
                return name, who
        return FALLBACK

    return Engine(
        "rule-engine", _flat, route, route, time.perf_counter() - start, "input flattened for it"
    )


_ZEN: Final = (
    (
        "hotfix_tasks",
        "debugger",
        'some(tags, # == "hotfix") or (matches(title, "(?i)^fix([(].+[)])?:") and complexity <= 2)',
    ),
    (
        "vuln_tasks",
        "security_auditor",
        '(contains(text, "security") or contains(text, "vulnerability") or contains(text, "cve"))'
        ' and not some(tags, # == "docs")',
    ),
    (
        "data_tasks",
        "data_engineer",
        'team == "data" and (contains(description, "migration") '
        'or contains(description, "schema"))',
    ),
    ("refactor_tasks", "architect", 'complexity >= 4 and startsWith(title_lower, "refactor")'),
    ("urgent_tasks", "sre", 'priority >= 8 and not some(tags, # == "wontfix")'),
    (
        "ui_tasks",
        "frontend",
        '(some(tags, # == "ui") or some(tags, # == "frontend")) and complexity < 4',
    ),
)


def build_zen() -> Engine:
    import zen

    start = time.perf_counter()
    rules = [
        {"_id": f"r{i}", "in": cell, "type": json.dumps(name), "who": json.dumps(who)}
        for i, (name, who, cell) in enumerate(_ZEN)
    ]
    rules.append(
        {
            "_id": "fallback",
            "in": "",
            "type": json.dumps(FALLBACK[0]),
            "who": json.dumps(FALLBACK[1]),
        }
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
                    "inputs": [{"id": "in", "name": "condition"}],
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
    evaluate = zen.ZenEngine().create_decision(json.dumps(graph)).evaluate

    def route(request: dict[str, Any]) -> tuple[str, str]:
        result = evaluate(request)["result"]
        return result["task_type"], result["specialist"]

    return Engine(
        "zen-engine", _flat, route, route, time.perf_counter() - start, "input flattened for it"
    )


def build_modec() -> tuple[Callable[[Any], Any], Callable[[Any], tuple[str, str]]]:
    """modec's router for the mode: ``(route, decide)``."""
    from modec.compiler.pipeline import compile_text
    from modec.runtime.router import load_router

    compiled = compile_text(MODE, "when_mode.yaml")
    if not compiled.ok or compiled.artifact is None:
        raise RuntimeError(f"the when: workload does not compile: {compiled.diagnostics}")
    route = load_router(compiled.artifact.to_bytes()).route

    def decide(task: Any) -> tuple[str, str]:
        d = route(task)
        return d.task_type, d.specialist or ""

    return route, decide
