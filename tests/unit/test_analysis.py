"""Row analysis: exact on keyword atoms, sound elsewhere, bounded, with exact keyword spans."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from modec.compiler.analysis import (
    AnalysisLimits,
    AnalysisOptions,
    AnalysisReport,
    WitnessTask,
    analyse,
    changed_rows,
    coverage,
    decided_by,
    english_words,
    holds,
    keyword_hazards,
    synthesize_tasks,
)
from modec.compiler.build import bundled_mode_path
from modec.compiler.ir import ModeFile
from modec.compiler.pipeline import Compilation, compile_path, compile_text
from modec.diagnostics import Severity
from modec.runtime.router import AmbiguousRouteError, Router, Task
from modec.testing import reference_route

HEAD = """task_orchestrator:
  role_definition: "o"
  specialist_roles:
    implementer: "builds"
    tester: "tests"
implementer:
  role_definition: "i"
tester:
  role_definition: "t"
"""


def mode_text(rules: str, policy: str = "first", builtins: bool = False) -> str:
    config = f"mode_configuration:\n  hit_policy: {policy}\n"
    config += f"  builtin_task_types: {'true' if builtins else 'false'}\n"
    return HEAD + config + "task_routing_rules:\n" + rules


def compiled(rules: str, policy: str = "first", builtins: bool = False) -> Compilation:
    c = compile_text(mode_text(rules, policy, builtins), "m.yaml", until="build")
    assert c.mode is not None, c.diagnostics
    return c


def report(
    rules: str,
    policy: str = "first",
    builtins: bool = False,
    options: AnalysisOptions | None = None,
) -> AnalysisReport:
    c = compiled(rules, policy, builtins)
    assert c.mode is not None
    return analyse(c.mode, c.sources, options)


def status(rules: str, name: str, policy: str = "first") -> str:
    return report(rules, policy).verdict(name).status


def codes(r: AnalysisReport) -> list[str]:
    return sorted(d.code for d in r.diagnostics)


# --------------------------------------------------------------------------- exactness


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [
        # substring implication: 'testing' contains 'test'
        ("keywords: [test]", "keywords: [testing, unit testing]", "never"),
        ("keywords: [testing]", "keywords: [test]", "fires"),
        # whole words: "latest" has 'test' but not the word
        ("when: 'description mentions \"test\"'", "keywords: [test]", "fires"),
        ("keywords: [test]", "when: 'description mentions \"test\"'", "never"),
        (
            "when: 'description mentions \"started\"'",
            "when: 'description mentions \"getting started\"'",
            "never",
        ),
        (
            "when: 'description mentions \"getting\"'",
            "when: 'description contains \"getting started\"'",
            "fires",
        ),  # "forgetting started"
        # fields: text is title + newline + description
        (
            'when: \'title contains "bug" or description contains "bug"\'',
            "when: 'text contains \"bug\"'",
            "never",
        ),
        ("when: 'title contains \"bug\"'", "when: 'text contains \"bug\"'", "fires"),
        ("when: 'text contains \"bug\"'", "when: 'description contains \"debug\"'", "never"),
        ("when: 'title startswith \"fix\"'", "when: 'text startswith \"fix:\"'", "never"),
        ("when: 'description startswith \"fix\"'", "when: 'text startswith \"fix:\"'", "fires"),
        ("when: 'description endswith \"done\"'", "when: 'text endswith \"well done\"'", "never"),
        # tags are compared whole (case-insensitively)
        ("when: 'tags contains \"hotfix\"'", "when: 'tags contains \"HotFix\"'", "never"),
        ('when: \'tags contains any("hotfix", "ui")\'', "when: 'tags contains \"UI\"'", "never"),
        ("when: 'tags contains \"hotfix\"'", "when: 'tags contains \"hot\"'", "fires"),
        # complexity is one of 1..5
        (
            "when: 'complexity >= moderate'",
            "when: 'complexity == 4 and title contains \"x\"'",
            "never",
        ),
        ("when: 'complexity >= moderate'", "when: 'complexity in [1, 2, 5]'", "fires"),
        ("when: 'complexity < 3 or complexity > 3'", "when: 'complexity != moderate'", "never"),
        # metadata: text equality is case-insensitive, numbers are ordered, absent is neither
        (
            'when: \'metadata.team in ["core", "web"]\'',
            "when: 'metadata.team == \"Core\"'",
            "never",
        ),
        ("when: 'metadata.team == \"core\"'", "when: 'metadata.team != \"core\"'", "fires"),
        ("when: 'metadata.priority > 2'", "when: 'metadata.priority >= 2.5'", "never"),
        ("when: 'metadata.priority > 2'", "when: 'metadata.priority >= 2'", "fires"),
        (
            "when: 'metadata.urgent == true or metadata.urgent != true'",
            "when: 'metadata.urgent == false'",
            "never",
        ),
        (
            "when: 'metadata.urgent == true or metadata.urgent != true'",
            "when: 'not metadata.urgent == true'",
            "fires",
        ),  # the key may be missing
        # regular expressions are not modelled: never claimed dead because of one
        ("when: 'description matches /test/'", "keywords: [test]", "fires"),
        (
            "keywords: [test]",
            "when: 'description matches /test/ and description contains \"x\"'",
            "fires",
        ),
    ],
)
def test_shadowing(earlier: str, later: str, expected: str) -> None:
    rules = f"  a_tasks:\n    {earlier}\n  b_tasks:\n    {later}\n"
    assert status(rules, "b_tasks") == expected


def test_unsatisfiable_condition_is_dead_under_every_policy() -> None:
    rules = (
        '  a_tasks:\n    when: \'title startswith "fix" and title startswith "feat"\'\n'
        "  b_tasks:\n    keywords: [x]\n"
    )
    for policy in ("first", "unique", "collect"):
        r = report(rules, policy)
        assert r.verdict("a_tasks").status == "never"
        assert r.verdict("a_tasks").covered_by == ()
        assert [d.message for d in r.diagnostics if d.code == "MC601"] == [
            "rule 'a_tasks' can never fire: its condition is never true"
        ]


def test_dead_row_names_the_rows_that_take_its_tasks() -> None:
    rules = (
        "  a_tasks:\n    keywords: [login]\n  b_tasks:\n    keywords: [crash]\n"
        "  c_tasks:\n    keywords: [other]\n"
        "  d_tasks:\n"
        '    when: \'description contains "login" and description mentions "crash"\'\n'
    )
    covered = report(rules).verdict("d_tasks").covered_by
    assert "c_tasks" not in covered and set(covered) <= {"a_tasks", "b_tasks"} and covered
    rules = rules.replace('contains "login" and', 'contains "login" or')
    assert set(report(rules).verdict("d_tasks").covered_by) == {"a_tasks", "b_tasks"}
    # text is title or description: a crash in the title escapes b_tasks
    rules = rules.replace('description mentions "crash"', 'text mentions "crash"')
    assert report(rules).verdict("d_tasks").status == "fires"


def test_every_row_that_fires_has_a_witness_the_reference_routes_to_it() -> None:
    rules = (
        "  a_tasks:\n    keywords: [test]\n    match: word\n"
        "  b_tasks:\n    when: 'description contains \"test\" and complexity >= 4'\n"
        '  c_tasks:\n    when: \'tags contains "qa" or metadata.team == "qa"\'\n'
    )
    c = compiled(rules)
    assert c.mode is not None
    for name in ("a_tasks", "b_tasks", "c_tasks", "general_tasks"):
        w = decided_by(c.mode, name)
        assert w is not None
        assert reference_route(c.mode, Task.model_validate(w.to_dict()))[0] == name
    w = decided_by(c.mode, "b_tasks")
    assert w is not None and w.description == "latest" and w.complexity == 4


# --------------------------------------------------------------------------- overlaps


def test_unique_overlap_is_an_error_with_a_witness_the_router_refuses() -> None:
    rules = (
        "  a_tasks:\n    keywords: [login, password]\n    match: word\n"
        '  b_tasks:\n    when: \'description mentions any("form", "login")\'\n'
        '  c_tasks:\n    when: \'tags contains "db" and not description mentions '
        'any("login", "password", "form")\'\n'
    )
    c = compiled(rules, "unique")
    assert c.mode is not None
    r = analyse(c.mode, c.sources)
    assert [(o.first, o.second, o.witness.description) for o in r.overlaps] == [
        ("a_tasks", "b_tasks", "login")
    ]
    (d,) = [d for d in r.diagnostics if d.code == "MC602"]
    assert d.severity is Severity.ERROR and '{"description": "login"}' in d.message
    assert d.span is not None and (d.span.line, d.span.column) == (17, 3)
    c = compile_text(mode_text(rules, "unique"), "m.yaml")
    assert not c.ok
    c2 = compile_text(mode_text(rules, "first"), "m.yaml")
    assert c2.ok and c2.artifact is not None
    router = Router(c2.artifact.table.model_copy(update={"hit_policy": "unique"}))
    with pytest.raises(AmbiguousRouteError):
        router.route("login")


def test_overlap_between_classic_lists_only_is_left_to_builtins() -> None:
    rules = "  security_tasks: {}\n  performance_tasks: {}\n"
    r = report(rules, "unique", builtins=True)
    assert r.overlaps and "MC602" not in codes(r)
    r = report(rules, "unique", builtins=True, options=AnalysisOptions(builtins=True))
    assert "MC602" in codes(r)


# --------------------------------------------------------------------------- keyword lints


def test_classic_file_gets_no_analysis_findings_by_default() -> None:
    path = bundled_mode_path("default_roles.yaml")
    assert path is not None
    c = compile_path(path, display="default_roles.yaml", until="check")
    assert not [d for d in c.diagnostics if d.code.startswith("MC6")]


def test_builtins_option_shows_the_classic_tables_traps() -> None:
    path = bundled_mode_path("default_roles.yaml")
    assert path is not None
    c = compile_path(path, display="default_roles.yaml", until="build")
    assert c.mode is not None
    r = analyse(c.mode, c.sources, AnalysisOptions(builtins=True))
    redundant = [d.message for d in r.diagnostics if d.code == "MC604"]
    assert sorted(m.split("'")[1] for m in redundant) == ["documentation", "testing"]
    assert any("'test' in the same rule" in m for m in redundant)
    hazards = {d.message.split("'")[1]: d for d in r.diagnostics if d.code == "MC606"}
    assert "'latest'" in hazards["test"].message
    assert "'burqa'" in hazards["qa"].message
    assert "'audition'" in hazards["audit"].message
    assert hazards["test"].hint is not None and "match: word" in hazards["test"].hint
    assert "MC601" not in codes(r)


def test_keyword_captured_by_an_earlier_classic_keyword_is_the_authors_problem() -> None:
    rules = "  review_tasks:\n    keywords: [qa review, code review]\n    match: word\n"
    r = report(rules, builtins=True)
    (d,) = [d for d in r.diagnostics if d.code == "MC605"]
    assert "'qa review'" in d.message and "testing_tasks" in d.message
    assert d.span is not None and (d.span.line, d.span.column) == (15, 16)


def test_redundant_keywords_under_whole_word_matching() -> None:
    rules = "  docs_tasks:\n    keywords: [getting started, started, api]\n    match: word\n"
    (d,) = [d for d in report(rules).diagnostics if d.code == "MC604"]
    assert "'getting started'" in d.message and "'started'" in d.message


def test_hazards_skip_inflections_and_the_rules_own_keywords() -> None:
    found = keyword_hazards(["test", "audit", "guide"])
    assert "tests" not in found["test"] and "testing" not in found["test"]
    assert "auditor" not in found["audit"] and "audition" in found["audit"]
    assert "latest" in found["test"] and found["test"][0] == "latest"
    assert (
        keyword_hazards(["guide"], exclude=["guideline", "guidelines", "guidebook", "guidebooks"])
        == {}
    )
    assert keyword_hazards(["readme", "c++", ""]) == {}


def test_hazards_are_not_reported_for_whole_word_keywords() -> None:
    rules = "  t_tasks:\n    keywords: [test, audit]\n    match: word\n"
    assert "MC606" not in codes(report(rules))


def test_word_list_is_shipped_with_its_licence() -> None:
    from importlib import resources

    words = english_words()
    assert 60_000 < len(words) < 70_000
    assert set(words.values()) == {10, 20, 35, 40, 50}
    data = resources.files("modec.compiler") / "data"
    assert "Kevin Atkinson" in (data / "SCOWL-LICENSE.txt").read_text(encoding="utf-8")
    assert (data / "english-words.txt.gz").read_bytes()[:2] == b"\x1f\x8b"


# --------------------------------------------------------------------------- spans


def spans(text: str, code: str) -> list[tuple[int, int, int]]:
    c = compile_text(text, "m.yaml", until="check")
    return [
        (d.span.line, d.span.column, d.span.end_column)
        for d in c.diagnostics
        if d.code == code and d.span is not None
    ]


def test_keyword_spans_in_block_lists_quotes_and_crlf() -> None:
    rules = (
        "  t_tasks:\n    keywords:\n      - \"test\"\n      - 'testing'\n"
        "  u_tasks:\n    keywords: [audit]\n"
    )
    text = mode_text(rules)
    assert spans(text, "MC604") == [(17, 9, 18)]
    assert spans(text, "MC606") == [(16, 9, 15), (19, 16, 21)]
    assert spans(text.replace("\n", "\r\n"), "MC604") == [(17, 9, 18)]


def test_keyword_spans_inside_when_conditions() -> None:
    rules = (
        "  t_tasks:\n"
        '    when: "title mentions \\"x\\" or description contains any(\'tes\\u0074\', '
        '\\"qa\\")"\n'
    )
    text = mode_text(rules)
    line = text.splitlines()[14]
    assert spans(text, "MC606") == [
        (15, line.index("'tes") + 1, line.index("'tes") + 12),
        (15, line.index('\\"qa') + 1, line.index('\\"qa') + 7),
    ]


def test_keyword_spans_in_an_extended_file(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        mode_text("  t_tasks:\n    keywords: [audit]\n"), encoding="utf-8"
    )
    child = tmp_path / "child.yaml"
    child.write_text("mode_metadata:\n  extends: base.yaml\n", encoding="utf-8")
    c = compile_path(child, until="check")
    (d,) = [d for d in c.diagnostics if d.code == "MC606"]
    assert d.span is not None and d.span.file.endswith("base.yaml")
    assert (d.span.line, d.span.column) == (15, 16)


# --------------------------------------------------------------------------- reachability


def test_specialists_inherited_from_a_file_without_rules_are_not_flagged() -> None:
    for name in ("development_mode.yaml", "research_mode.yaml", "security_review_mode.yaml"):
        path = bundled_mode_path(name)
        assert path is not None
        c = compile_path(path, until="check")
        assert not [d for d in c.diagnostics if d.code == "MC607"], name


def test_a_specialist_only_a_dead_rule_names_is_unreachable() -> None:
    rules = (
        "  a_tasks:\n    keywords: [bug]\n    match: word\n"
        "  b_tasks:\n    keywords: [bug report]\n    match: word\n"
        "    required_specialist: tester\n"
    )
    (d,) = [d for d in report(rules).diagnostics if d.code == "MC607"]
    assert "'tester'" in d.message and "'b_tasks'" in d.message


# --------------------------------------------------------------------------- bounds


def thousand_rule_mode(n: int = 1000, policy: str = "first", seed: int = 7) -> str:
    """A generated mode: keyword rules (some whole-word), `when` rules on titles, tags,
    metadata, complexity and regexes, on common English words."""
    rng = random.Random(seed)
    words = sorted(w for w, size in english_words().items() if size <= 20 and len(w) >= 4)
    lines = [
        HEAD.rstrip("\n"),
        "mode_configuration:",
        f"  hit_policy: {policy}",
        "task_routing_rules:",
    ]
    for i in range(n):
        kind = i % 10
        a, b, c = rng.sample(words, 3)
        lines.append(f"  rule_{i:04d}_tasks:")
        if kind < 6:
            lines.append(f"    keywords: [{', '.join(rng.sample(words, rng.randint(2, 6)))}]")
            if kind == 5:
                lines.append("    match: word")
        elif kind == 6:
            lines.append(
                f"    when: 'title mentions \"{a}\" and complexity >= {rng.randint(1, 5)}'"
            )
        elif kind == 7:
            lines.append(f'    when: \'tags contains "{a}" or metadata.team == "{b}"\'')
        elif kind == 8:
            lines.append(
                f"    when: 'description matches /\\\\b{a}[0-9]+/ and not text contains \"{b}\"'"
            )
        else:
            lines.append(
                f'    when: \'text contains any("{a}", "{c}") and '
                f"metadata.priority > {rng.randint(0, 5)}'"
            )
        lines.append(f"    required_specialist: {'tester' if i % 2 else 'implementer'}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def thousand() -> ModeFile:
    c = compile_text(thousand_rule_mode(), "big.yaml", until="build")
    assert c.mode is not None
    return c.mode


class SimulatedClock:
    """A monotonic clock that advances ``step`` seconds at every read (a loaded machine)."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def outcome(r: AnalysisReport) -> tuple[object, ...]:
    """Everything a report says except how long it took."""
    stats = {k: v for k, v in r.stats.items() if k != "seconds"}
    return (
        [d.to_dict() for d in r.diagnostics],
        r.rows,
        r.fallback_reachable,
        r.overlaps,
        r.skipped,
        stats,
    )


def test_a_thousand_rule_mode_is_analysed_within_the_counts(thousand: ModeFile) -> None:
    limits = AnalysisLimits()
    r = analyse(thousand)
    assert len(r.rows) == 1000 and r.skipped == []  # no hidden classic rows
    assert all(v.status != "unknown" for v in r.rows)
    assert r.stats["queries"] < limits.max_queries
    assert r.stats["conflicts"] < limits.max_conflicts
    assert r.stats["propagations"] < limits.max_propagations
    assert r.stats["lemmas"] < limits.max_lemmas
    # every verdict 'never' is backed by a core naming earlier rows
    assert all(v.covered_by for v in r.rows if v.status == "never")


def test_a_thousand_rule_unique_mode_reports_the_same_overlaps_under_any_load() -> None:
    """Regression: under load the 10 s deadline cut the overlap search at 15 pairs of 50.

    The verdicts are bounded by counts only: an idle machine (a clock that never moves) and
    a loaded one (every clock read costs 10 ms, so the run "takes" far longer than the old
    deadline) give the same report, with all 50 overlaps.
    """
    c = compile_text(thousand_rule_mode(policy="unique"), "big.yaml", until="build")
    assert c.mode is not None
    idle, loaded = SimulatedClock(0.0), SimulatedClock(0.01)
    r = analyse(c.mode, c.sources, AnalysisOptions(clock=idle))
    r2 = analyse(c.mode, c.sources, AnalysisOptions(clock=loaded))
    assert loaded.now > 10.0  # the old deadline would have fired
    assert outcome(r) == outcome(r2)
    assert len(r.overlaps) == AnalysisLimits().max_overlaps == 50
    # pairs of two classic rows are left to --builtins
    authored = [o for o in r.overlaps if "rule_" in o.first + o.second]
    assert len([d for d in r.diagnostics if d.code == "MC602"]) == len(authored) > 40
    assert r.skipped and r.skipped[0].startswith("the overlap search stopped at row")
    (note,) = [d for d in r.diagnostics if d.code == "MC603"]
    assert note.severity is Severity.NOTE and "50 overlapping pairs" in note.message


def test_the_safety_net_deadline_is_a_note_and_never_adds_a_finding(thousand: ModeFile) -> None:
    full = analyse(thousand, options=AnalysisOptions(clock=SimulatedClock(0.0)))
    # every clock read takes 1 s: the 60 s safety net fires after a few dozen queries
    cut = analyse(thousand, options=AnalysisOptions(clock=SimulatedClock(1.0)))
    assert [v.status for v in cut.rows].count("unknown") > 900
    assert any("safety-net deadline" in s for s in cut.skipped)
    notes = [d for d in cut.diagnostics if d.code == "MC603"]
    assert notes and all(d.severity is Severity.NOTE for d in notes)
    assert "safety-net deadline" in notes[0].message
    # what was decided before it fired agrees with the full run, and nothing new is reported
    decided = [(a, b) for a, b in zip(cut.rows, full.rows, strict=True) if a.status != "unknown"]
    assert decided and all(a == b for a, b in decided)
    full_findings = {(d.code, d.message) for d in full.diagnostics}
    assert {(d.code, d.message) for d in cut.diagnostics if d.code != "MC603"} <= full_findings


def test_tight_limits_leave_rows_undecided_and_say_so(thousand: ModeFile) -> None:
    r = analyse(thousand, options=AnalysisOptions(limits=AnalysisLimits(max_queries=100)))
    unknown = [v for v in r.rows if v.status == "unknown"]
    assert len(unknown) > 800
    assert "not checked for shadowing" in r.skipped[0]
    assert "100 SAT queries" in r.skipped[0]
    assert any(d.code == "MC603" for d in r.diagnostics)
    r = analyse(thousand, options=AnalysisOptions(limits=AnalysisLimits(max_conflicts=0)))
    assert all(v.status == "unknown" for v in r.rows)
    assert "SAT conflicts is spent" in r.skipped[0]
    r = analyse(
        thousand,
        options=AnalysisOptions(
            limits=AnalysisLimits(deadline_seconds=0), clock=SimulatedClock(1.0)
        ),
    )
    assert all(v.status == "unknown" for v in r.rows)
    # an unknown row is never reported dead, and its specialist still counts as reachable
    assert not [d for d in r.diagnostics if d.code in ("MC601", "MC607")]


# --------------------------------------------------------------------------- coverage, diff


def test_coverage_by_the_semantics_matches_the_router() -> None:
    path = bundled_mode_path("development_mode.yaml")
    assert path is not None
    c = compile_path(path, until="build")
    assert c.mode is not None
    cov = coverage(c.mode)
    assert [r.name for r in cov.uncovered] == ["documentation_tasks"]
    assert cov.percent == pytest.approx(87.5)
    assert cov.fallback is not None and cov.fallback.covered


def test_changed_rows_and_synthesized_tasks(tmp_path: Path) -> None:
    old = compiled("  a_tasks:\n    keywords: [deploy]\n  b_tasks:\n    keywords: [rollback]\n")
    new = compiled(
        "  a_tasks:\n    keywords: [deploy]\n    match: word\n"
        "  b_tasks:\n    keywords: [rollback]\n    required_specialist: tester\n"
        "  c_tasks:\n    keywords: [canary]\n"
    )
    assert old.mode is not None and new.mode is not None
    changes = {r.name: r.changes for r in changed_rows(old.mode, new.mode)}
    assert changes == {"a_tasks": ("condition",), "b_tasks": ("specialist",), "c_tasks": ("added",)}
    tasks = synthesize_tasks(old.mode, new.mode)
    whys = {why.split(", through")[0] for _, why in tasks}
    # b_tasks also gains the tasks a_tasks no longer takes ("redeploy the rollback")
    assert whys == {
        "a_tasks in old only",
        "b_tasks in new only",
        "b_tasks in both, new specialist",
        "c_tasks in new only",
    }
    for task, _ in tasks:
        a = reference_route(old.mode, Task.model_validate(task.to_dict()))[:2]
        b = reference_route(new.mode, Task.model_validate(task.to_dict()))[:2]
        assert a != b
    # 'deploy' inside a word: the substring rule takes it, the whole-word one does not
    assert ("deploys", "a_tasks in old only") in [(t.description, w) for t, w in tasks]


def test_holds_is_the_router_semantics() -> None:
    c = compiled('  a_tasks:\n    when: \'text mentions "fix" and tags contains "UI"\'\n')
    assert c.mode is not None
    cond = c.mode.rules[0].condition
    assert cond is not None
    assert holds(cond, WitnessTask(title="Fix", tags=("ui",)))
    assert not holds(cond, WitnessTask(description="prefix", tags=("ui",)))
