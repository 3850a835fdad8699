"""A maximal task gets a bounded answer: evidence and explain output are capped by counts
(issue 15: a 1,000,000-character task on a 207-row mode answered 49 MB before)."""

from __future__ import annotations

import json
from typing import Any

from modec.compiler.table import build_table
from modec.runtime.decision import (
    MAX_ATOM_EVIDENCE,
    MAX_EVIDENCE,
    MAX_EVIDENCE_TEXT,
    MAX_EXPLAIN_EVIDENCE,
)
from modec.runtime.router import Router
from modec.testing import make_mode, make_rule

WORDS = ("security", "test", "audit", "qa", "guide", "speed", "latency", "deploy")


def big_mode() -> Any:
    """207 rows: 200 keyword rows and 7 `when:` rows (regexes, mentions, tags, metadata)."""
    rules = [
        make_rule(f"k{i:03d}_tasks", [WORDS[i % len(WORDS)], f"word{i}"], line=i + 2)
        for i in range(200)
    ]
    whens = (
        "description matches /s.c/",
        'text mentions any("test", "qa")',
        "description matches /(?s).*/",
        'tags contains "x" or description contains all("audit", "guide")',
        'not description contains "zzz"',
        'metadata.team == "core" or description startswith "security"',
        'title mentions "test" or description mentions "speed"',
    )
    rules += [make_rule(f"w{i}_tasks", w, line=300 + i) for i, w in enumerate(whens)]
    return make_mode(rules, builtin_task_types=False, hit_policy="collect")


def maximal_task() -> dict[str, Any]:
    text = (" ".join(WORDS) + " ") * (1_000_000 // (len(" ".join(WORDS)) + 1))
    return {"title": "test " * 20, "description": text[:1_000_000], "tags": ["x"]}


def test_a_megabyte_task_gets_a_bounded_decision_and_explanation() -> None:
    router = Router(build_table(big_mode()))
    assert len(router.rows) == 207
    task = maximal_task()
    decision = router.route(task)
    assert len(decision.matches) > 100  # collect: most rows fire
    evidence = decision.evidence
    assert len(evidence) == MAX_EVIDENCE
    assert all(len(e.text) <= MAX_EVIDENCE_TEXT for e in evidence)
    decision_json = json.dumps(decision.to_dict())
    assert len(decision_json) < 40_000, len(decision_json)

    explanation = router.explain(task)
    assert explanation.truncated
    atoms = [a for row in explanation.rows for a in row.atoms]
    assert sum(len(a.evidence) for a in atoms) <= MAX_EXPLAIN_EVIDENCE
    assert all(len(a.evidence) <= MAX_ATOM_EVIDENCE * 2 for a in atoms)
    rendered = explanation.render()
    explained_json = json.dumps(explanation.to_dict())
    assert len(rendered) < 150_000, len(rendered)
    assert len(explained_json) < 250_000, len(explained_json)
    assert "evidence cut at" in rendered


def test_matched_text_is_cut_but_offsets_stay_exact() -> None:
    mode = make_mode(
        [make_rule("all_tasks", "description matches /(?s).*/")], builtin_task_types=False
    )
    router = Router(build_table(mode))
    (e,) = router.route(maximal_task()).evidence
    assert (e.start, e.end) == (0, 1_000_000)
    assert len(e.text) == MAX_EVIDENCE_TEXT and e.text.endswith("…")


def test_small_tasks_are_not_cut() -> None:
    router = Router(build_table(big_mode()))
    explanation = router.explain({"description": "a security audit guide"})
    assert not explanation.truncated
    assert "evidence cut" not in explanation.render()
