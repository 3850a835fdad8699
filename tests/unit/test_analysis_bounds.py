"""Regressions of the adversarial trial (issue 15): the analysis' caches and work are bounded
by counts, and linear in the size of the mode."""

from __future__ import annotations

import random
import string

from modec.compiler.analysis import AnalysisLimits, AnalysisOptions, analyse, keyword_hazards
from modec.compiler.analysis.hazards import _hazard_index
from modec.compiler.analysis.lemmas import _Automaton, _pairwise, occurrences
from modec.compiler.analysis.locate import KeywordLocator
from modec.compiler.pipeline import compile_text

HEAD = """task_orchestrator:
  role_definition: "o"
  specialist_roles:
    implementer: "builds"
implementer:
  role_definition: "i"
mode_configuration:
  builtin_task_types: false
task_routing_rules:
"""


def test_keyword_cache_survives_more_than_fifty_thousand_distinct_keywords() -> None:
    """Regression: the process-wide keyword index raised KeyError after ~50,000 keywords."""
    rng = random.Random(15)
    seen: set[str] = set()
    while len(seen) < 60_000:
        seen.add("".join(rng.choices(string.ascii_lowercase, k=9)))
    keywords = sorted(seen)
    for start in range(0, len(keywords), 12_000):
        keyword_hazards(keywords[start : start + 12_000])
    index = _hazard_index()
    assert index.cache.currsize <= index.MAXSIZE
    # one call with more keywords than the cache holds still answers every one
    found = keyword_hazards([*keywords[:55_000], "test"])
    assert "latest" in found["test"]
    c = compile_text(HEAD + "  t_tasks:\n    keywords: [audit]\n", "m.yaml")
    assert c.ok and c.artifact is not None
    assert [d.code for d in c.diagnostics] == ["MC606"]


def scanned(literals: list[str]) -> tuple[dict[str, list[tuple[str, list[int]]]], int]:
    """The occurrences, and the transitions the automaton took to find them."""
    automaton = _Automaton(literals)
    steps = 0
    goto, fail = automaton.goto, automaton.fail
    for text in literals:  # the same walk as scan(), counting every transition
        state = 0
        for ch in text:
            while state and ch not in goto[state]:
                state = fail[state]
                steps += 1
            state = goto[state].get(ch, 0)
            steps += 1
    return occurrences(literals, 10**9)[0], steps


def test_one_huge_self_similar_keyword_is_scanned_in_linear_work() -> None:
    """Regression: one 100,000-character keyword took 16.6 s in the substring lemmas."""
    n = 100_000
    found, steps = scanned(["a" * n, "a"])
    assert steps <= 4 * (n + 1)
    assert found["a" * n][0] == ("a", list(range(n)))
    assert len(found["a" * n]) == 2
    mode = compile_text(
        HEAD + '  x_tasks:\n    keywords: ["' + "a" * n + '", b]\n', "m.yaml", until="build"
    )
    assert mode.mode is not None
    r = analyse(mode.mode, mode.sources)
    assert r.skipped == [] and [v.status for v in r.rows] == ["fires"]


def test_small_literal_sets_searched_pair_by_pair_answer_as_the_automaton() -> None:
    """The pairwise search of small sets gives the automaton's lists, order and cut."""
    rng = random.Random(11)
    for _ in range(3_000):
        alphabet = rng.choice(["a", "ab", "abc", "abcde"])
        literals = list(
            dict.fromkeys(
                "".join(rng.choices(alphabet, k=rng.randint(1, 8)))
                for _ in range(rng.randint(1, 12))
            )
        )
        limit = rng.choice([10**9, rng.randint(0, 30)])
        automaton = _Automaton(literals)
        budget = [limit]
        expected: dict[str, list[tuple[str, list[int]]]] = {}
        complete = True
        for y in literals:
            found = automaton.scan(y, budget)
            if found is None:
                complete = False
                break
            expected[y] = list(found.items())
        assert _pairwise(literals, limit) == (expected, complete), (literals, limit)


def test_occurrences_are_bounded_by_a_count_and_the_cut_is_reported() -> None:
    n = 5_000
    mode = compile_text(
        HEAD + '  x_tasks:\n    keywords: ["' + "a" * n + '"]\n  y_tasks:\n    keywords: [a]\n',
        "m.yaml",
        until="build",
    )
    assert mode.mode is not None
    limits = AnalysisLimits(max_occurrences=100)
    r = analyse(mode.mode, mode.sources, AnalysisOptions(limits=limits))
    assert any("100 occurrences" in s for s in r.skipped)
    assert any(d.code == "MC603" for d in r.diagnostics)
    # without the lemma the long row is not proved dead: sound, never a false MC601
    assert "MC601" not in {d.code for d in r.diagnostics}
    full = analyse(mode.mode, mode.sources)
    assert full.skipped == [] and full.verdict("y_tasks").status == "fires"


class CountingLocator(KeywordLocator):
    loads = 0

    def _rule_node(self, rule):  # type: ignore[no-untyped-def]
        CountingLocator.loads += 1
        return super()._rule_node(rule)


def test_twenty_thousand_keywords_in_one_rule_are_located_in_one_pass() -> None:
    """Regression: locating the keywords of a 20,000-keyword rule was quadratic (12.8 s)."""
    rng = random.Random(5)
    words = sorted({"".join(rng.choices(string.ascii_lowercase, k=8)) for _ in range(20_000)})
    text = HEAD + "  x_tasks:\n    keywords:\n" + "".join(f"      - {w}\n" for w in words)
    c = compile_text(text, "m.yaml", until="build")
    assert c.mode is not None
    (rule,) = [r for r in c.mode.rules if r.name == "x_tasks"]
    condition = rule.condition
    atoms = [condition] if condition is not None and hasattr(condition, "values") else []
    assert atoms
    locator = CountingLocator(c.sources)
    first_line = text.splitlines().index(f"      - {words[0]}") + 1
    for n, word in enumerate(words):
        span = locator.span(rule, atoms[0], word)  # type: ignore[arg-type]
        assert (span.line, span.column) == (first_line + n, 9)
    assert CountingLocator.loads == 1  # the rule's keywords were indexed once
