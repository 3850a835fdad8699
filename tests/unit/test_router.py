"""The router: operator semantics (incl. Unicode), hit policies, evidence, explain, API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from modec.compiler.artifact import build_artifact
from modec.compiler.ir import TextMatch
from modec.compiler.pipeline import compile_text
from modec.compiler.table import build_table
from modec.diagnostics import ModecError, Span
from modec.runtime.router import (
    AmbiguousRouteError,
    Decision,
    Router,
    Task,
    load_router,
)
from modec.testing import make_mode, make_rule, reference_route

TaskInput = Task | str | dict[str, Any]


def fires(condition: str, task: TaskInput) -> bool:
    """Whether a one-row mode with ``condition`` takes its row; every implementation agrees."""
    mode = make_mode([make_rule("x_tasks", condition)], builtin_task_types=False)
    expected = reference_route(mode, task)[0] == "x_tasks"
    table = build_table(mode)
    for scanner in ("re2", "aho"):
        router = Router(table, scanner=scanner)
        assert (router.route(task).task_type == "x_tasks") == expected, scanner
        assert router.explain(task).rows[0].fired == expected, scanner
    return expected


# --------------------------------------------------------------------------- contains


@pytest.mark.parametrize(
    ("condition", "description", "expected"),
    [
        ('description contains "security"', "Fix the SECURITY hole", True),
        ('description contains "Security"', "security", True),
        ('description contains "secure"', "security", False),
        # str.lower(), not case folding: long s stays long s, Kelvin sign becomes k.
        ('description contains "security"', "ſecurity review", False),
        ('description contains "ſecurity"', "ſECURITY", True),
        ('description contains "kelvin"', "\u212aelvin scale", True),
        ('description contains "\u212aelvin"', "KELVIN", True),
        # 'İ'.lower() is 'i' + U+0307: two code points.
        ('description contains "istanbul"', "İstanbul", False),
        ('description contains "i\u0307stanbul"', "İSTANBUL", True),
        ('description contains "İstanbul"', "i\u0307stanbul", True),
        ('description contains "ß"', "STRASSE", False),
        # No normalisation: precomposed and decomposed é differ.
        ('description contains "café"', "cafe\u0301", False),
        ('description contains "cafe\u0301"', "CAFE\u0301", True),
        ('description contains "σ"', "ΟΔΟΣ", False),  # final sigma lowers to ς
        ('description contains "ς"', "ΟΔΟΣ", True),
        ('description contains "😀"', "ship it 😀", True),
    ],
)
def test_contains_lowers_with_str_lower(condition: str, description: str, expected: bool) -> None:
    assert fires(condition, description) is expected


def test_contains_quantifiers() -> None:
    assert fires('description contains any("x", "audit")', "An audit")
    assert not fires('description contains all("x", "audit")', "An audit")
    assert fires('description contains all("an", "audit")', "An audit")


def test_contains_on_title_and_text() -> None:
    task = Task(title="Release 2.0", description="changelog")
    assert fires('title contains "release"', task)
    assert not fires('description contains "release"', task)
    assert fires('text contains "2.0\\nchange"', task)  # text is title + "\n" + description
    assert fires('text contains all("release", "changelog")', task)


def test_tags_contains_is_element_equality() -> None:
    task = Task(tags=("HotFix", "ui"))
    assert fires('tags contains "hotfix"', task)
    assert not fires('tags contains "hot"', task)
    assert fires('tags contains any("nope", "UI")', task)
    assert not fires('tags contains all("hotfix", "backend")', task)
    assert not fires('tags contains "hotfix"', Task())


# --------------------------------------------------------------------------- mentions


@pytest.mark.parametrize(
    ("word", "text", "expected"),
    [
        ("test", "add a unit test", True),
        ("test", "testing only", False),
        ("test", "latest news", False),
        ("test", "unit-test", True),
        ("test", "test_case", False),  # '_' is a word character
        ("test", "testing, then a TEST.", True),  # any qualifying occurrence
        ("test", "testé", False),  # é is alphanumeric
        ("test", "test\u0301", True),  # a combining mark is not alphanumeric
        ("c++", "use c++x now", True),  # a non-word edge needs no boundary
        ("c++", "usec++ now", False),
        ("api", "the API.", True),
        ("kelvin", "\u212aELVIN", True),
        ("version bump", "a Version Bump!", True),
        ("2.0", "v2.0", False),
    ],
)
def test_mentions_whole_words(word: str, text: str, expected: bool) -> None:
    assert fires(f'description mentions "{word}"', text) is expected


def test_mentions_quantifiers_and_negation() -> None:
    assert fires('description mentions any("test", "qa")', "run QA")
    assert not fires('description mentions all("test", "qa")', "run QA, testing")
    assert fires('not description mentions "test"', "testing")


# --------------------------------------------------------------------------- other text ops


def test_startswith_endswith_on_lowered_text() -> None:
    assert fires('title startswith "wip"', Task(title="WIP: draft"))
    assert not fires('title startswith "draft"', Task(title="WIP: draft"))
    assert fires('title endswith "draft"', Task(title="WIP: DRAFT"))
    assert fires('text startswith "a\\nb"', Task(title="A", description="B"))


def test_matches_runs_re2_on_the_original_text() -> None:
    assert not fires("title matches /^Fix/", Task(title="fix: crash"))
    assert fires("title matches /^fix/", Task(title="fix: crash"))
    assert fires("title matches /^Fix/i", Task(title="fix: crash"))
    assert fires("title matches /s/i", Task(title="ſ"))  # RE2 case folding, not str.lower
    assert fires("text matches /^b/m", Task(title="a", description="b"))
    assert not fires("text matches /^b/", Task(title="a", description="b"))
    assert fires("text matches /a.b/s", Task(title="a", description="b"))
    assert not fires("text matches /a.b/", Task(title="a", description="b"))


# --------------------------------------------------------------------------- comparisons


def test_text_comparisons_lower_both_sides() -> None:
    assert fires('title == "Hello"', Task(title="HELLO"))
    assert fires('title != "x"', Task(title="HELLO"))
    assert fires('title < "b"', Task(title="A"))
    assert fires('title in ["x", "HeLLo"]', Task(title="hello"))


def test_complexity_uses_the_default_when_the_task_gives_none() -> None:
    mode = make_mode(
        [make_rule("x_tasks", "complexity >= complex")],
        builtin_task_types=False,
        default_complexity=4,
    )
    router = Router(build_table(mode))
    assert router.route(Task()).task_type == "x_tasks"
    assert router.route(Task(complexity=3)).task_type == "general_tasks"
    assert router.route(Task(complexity="very_complex")).task_type == "x_tasks"
    assert fires("complexity in [1, 3]", Task())  # make_mode's default complexity is 3


@pytest.mark.parametrize(
    ("condition", "metadata", "expected"),
    [
        ('metadata.team == "Core"', {"team": "core"}, True),
        ('metadata.team != "core"', {"team": "web"}, True),
        ('metadata.team != "core"', {}, False),  # missing: every comparison is false
        ("metadata.n != 3", {"n": "x"}, False),  # mismatched type: false, also for !=
        ("metadata.n > 2", {"n": 3}, True),
        ("metadata.n > 2", {"n": 2.5}, True),
        ("metadata.n > 2", {"n": "3"}, False),
        ("metadata.n == 1", {"n": True}, False),  # bool is not a number
        ("metadata.flag == true", {"flag": True}, True),
        ("metadata.flag == true", {"flag": 1}, False),
        ("metadata.flag != true", {"flag": False}, True),
        ("metadata.n in [1, 2.0]", {"n": 2}, True),
        ('metadata.n in ["2"]', {"n": 2}, False),
        ('metadata.path contains "readme"', {"path": "docs/README.md"}, True),
        ('metadata.path contains "1"', {"path": 1}, False),  # text op on a number
        ('metadata.path mentions "md"', {"path": "README.md"}, True),
        ("metadata.path matches /\\.MD$/i", {"path": "README.md"}, True),
        ("metadata.path matches /1/", {"path": 1}, False),
        ('not metadata.team == "core"', {}, True),
    ],
)
def test_metadata_semantics(condition: str, metadata: dict[str, Any], expected: bool) -> None:
    assert fires(condition, Task(metadata=metadata)) is expected


# --------------------------------------------------------------------------- hit policies


def policy_mode(policy: str) -> Router:
    mode = make_mode(
        [
            make_rule(
                "a_tasks", ["alpha"], line=2, required_specialist="architect", complexity_boost=2
            ),
            make_rule(
                "b_tasks",
                'description contains "beta" or tags contains "both"',
                line=3,
                complexity_boost=-3,
            ),
            make_rule("c_tasks", 'description contains "alpha" and complexity >= 4', line=4),
            make_rule("general_tasks", required_specialist="reviewer", line=5),
        ],
        specialists=("implementer", "architect", "reviewer"),
        builtin_task_types=False,
        hit_policy=policy,
    )
    return Router(build_table(mode), "sha256:test")


def test_first_takes_the_first_matching_row() -> None:
    router = policy_mode("first")
    d = router.route({"description": "alpha beta", "complexity": 5})
    assert (d.task_type, d.rule, d.specialist, d.matches) == (
        "a_tasks",
        "a_tasks",
        "architect",
        ("a_tasks",),
    )
    assert d.complexity == 5  # clamp(5 + 2)
    fallback = router.route("nothing here")
    assert (fallback.task_type, fallback.specialist, fallback.matches) == (
        "general_tasks",
        "reviewer",
        (),
    )


def test_unique_refuses_a_task_matching_two_rows() -> None:
    router = policy_mode("unique")
    assert router.route("only beta").task_type == "b_tasks"
    assert router.route("none").task_type == "general_tasks"
    with pytest.raises(AmbiguousRouteError) as info:
        router.route("alpha and beta")
    assert isinstance(info.value, ModecError)
    assert info.value.rows == ("a_tasks", "b_tasks")
    assert "a_tasks" in str(info.value) and "b_tasks" in str(info.value)
    assert "mode.yaml:2" in str(info.value) and "mode.yaml:3" in str(info.value)


def test_collect_returns_every_matching_row_in_order() -> None:
    router = policy_mode("collect")
    d = router.route(Task(description="beta alpha", complexity=4))
    assert d.matches == ("a_tasks", "b_tasks", "c_tasks")
    assert (d.task_type, d.specialist, d.complexity) == ("a_tasks", "architect", 5)
    d = router.route(Task(description="beta", complexity=2))
    assert (d.matches, d.complexity) == (("b_tasks",), 1)  # clamp(2 - 3)


# --------------------------------------------------------------------------- evidence


def classic_router() -> Router:
    return Router(build_table(make_mode()))


def test_evidence_offsets_point_into_the_original_text() -> None:
    d = classic_router().route("Fix SECURITY bug")
    assert [(e.field, e.op, e.value, e.start, e.end, e.text) for e in d.evidence] == [
        ("description", "contains", "security", 4, 12, "SECURITY")
    ]


def test_evidence_offsets_survive_lowering_that_changes_length() -> None:
    text = "İİ: audit the audit"
    d = classic_router().route(text)
    spans = [(e.start, e.end) for e in d.evidence]
    assert spans == [(4, 9), (14, 19)]
    assert all(text[e.start : e.end] == e.text == "audit" for e in d.evidence)


def test_evidence_for_mentions_regex_tags_and_text() -> None:
    mode = make_mode(
        [
            make_rule(
                "x_tasks",
                'description mentions "test" and title matches /v[0-9]+/ and tags contains "UI" '
                'and text contains "1\\nre"',
            )
        ],
        builtin_task_types=False,
    )
    router = Router(build_table(mode))
    d = router.route(Task(title="ship v21", description="retesting, a test", tags=("x", "ui")))
    got = {(e.field, e.op, e.start, e.end, e.text) for e in d.evidence}
    assert got == {
        ("description", "mentions", 13, 17, "test"),
        ("title", "matches", 5, 8, "v21"),
        ("tags[1]", "contains", 0, 2, "ui"),
        ("text", "contains", 7, 11, "1\nre"),
    }


def test_evidence_ignores_atoms_under_not() -> None:
    mode = make_mode(
        [make_rule("x_tasks", 'description contains "a" and not description contains "zzz"')],
        builtin_task_types=False,
    )
    d = Router(build_table(mode)).route("a")
    assert [e.value for e in d.evidence] == ["a"]


def test_fallback_has_no_evidence() -> None:
    assert classic_router().route("nothing").evidence == ()


# --------------------------------------------------------------------------- explain


def test_explain_reports_every_row_and_each_atom() -> None:
    router = policy_mode("first")
    e = router.explain(Task(description="beta", complexity=2, metadata={"x": 1}))
    assert [r.name for r in e.rows] == ["a_tasks", "b_tasks", "c_tasks"]
    assert [r.fired for r in e.rows] == [False, True, False]
    assert [r.taken for r in e.rows] == [False, True, False]
    b = e.rows[1]
    assert [(a.atom, a.result) for a in b.atoms] == [
        ('description contains "beta"', True),
        ('tags contains "both"', False),
    ]
    assert b.atoms[0].evidence[0].text == "beta"
    c = e.rows[2]
    assert [a.result for a in c.atoms] == [False, False]
    assert c.atoms[1].note == "complexity is 2"
    assert e.decision.task_type == "b_tasks" and not e.fallback
    text = e.render()
    assert "b_tasks" in text and "taken" in text
    json.dumps(e.to_dict())


def test_explain_fallback_and_unique_ambiguity() -> None:
    e = policy_mode("first").explain("nothing")
    assert e.fallback and not any(r.fired for r in e.rows)
    assert "fallback" in e.render()
    e = policy_mode("unique").explain("alpha beta")
    assert [r.name for r in e.rows if r.fired] == ["a_tasks", "b_tasks"]
    assert e.decision.matches == ("a_tasks", "b_tasks")


def test_explain_notes_missing_metadata() -> None:
    mode = make_mode([make_rule("x_tasks", 'metadata.team == "core"')], builtin_task_types=False)
    (atom,) = Router(build_table(mode)).explain("x").rows[0].atoms
    assert (atom.result, atom.note) == (False, "metadata.team is missing")


# --------------------------------------------------------------------------- API


def test_route_accepts_tasks_strings_and_mappings() -> None:
    router = classic_router()
    as_task = router.route(Task(description="audit"))
    assert router.route("audit") == as_task
    assert router.route({"description": "audit"}) == as_task
    assert router.route_many(["audit", Task(description="qa"), {"title": "t"}]) == [
        as_task,
        router.route("qa"),
        router.route(Task(title="t")),
    ]
    with pytest.raises(TypeError):
        router.route(42)  # type: ignore[arg-type]


def test_decision_surface() -> None:
    router = policy_mode("first")
    d = router.route(Task(description="alpha"))
    assert isinstance(d, Decision)
    assert d.mode_hash == "sha256:test"
    assert d.secondary_review == ()
    assert d.parallel_execution is None
    assert d.source == "mode.yaml:2"
    out = d.to_dict(evidence=True)
    assert out["task_type"] == "a_tasks" and out["evidence"][0]["text"] == "alpha"
    json.dumps(out)
    assert "a_tasks" in repr(d)


def test_router_attributes() -> None:
    router = policy_mode("collect")
    assert router.hit_policy == "collect"
    assert router.default_specialist == "reviewer"
    assert [r.name for r in router.rows] == ["a_tasks", "b_tasks", "c_tasks"]
    assert "collect" in repr(router)


def test_task_validation() -> None:
    assert Task(complexity="Very Complex").complexity == 5
    assert Task(complexity="trivial").complexity == 1
    for bad in (0, 6, True, "huge"):
        with pytest.raises(ValidationError):
            Task(complexity=bad)
    with pytest.raises(ValidationError):
        Task(description="\ud800")
    with pytest.raises(ValidationError):
        Task(tags=("\udfff",))
    with pytest.raises(ValidationError):
        Task(owner="x")  # type: ignore[call-arg]


def test_load_router_from_artifact_bytes_path_and_table(tmp_path: Path) -> None:
    c = compile_text(
        "task_orchestrator:\n  role_definition: o\n"
        "  specialist_roles: {implementer: i}\nimplementer:\n"
        "  role_definition: i\n",
        "m.yaml",
    )
    assert c.artifact is not None and c.mode is not None and c.table is not None
    path = c.artifact.write(tmp_path / "m.modec")
    for source in (
        c.artifact,
        c.artifact.to_bytes(),
        path,
        str(path),
        build_artifact(c.mode, c.table),
    ):
        router = load_router(source)
        assert router.mode_hash == c.artifact.mode_hash
        d = router.route("audit it")
        assert (d.task_type, d.specialist, d.mode_hash) == (
            "security_tasks",
            "implementer",
            c.artifact.mode_hash,
        )
    assert load_router(c.table).route("qa").task_type == "testing_tasks"


def test_scanner_backends_agree_on_unicode_text() -> None:
    mode = make_mode(
        [make_rule("u_tasks", ["İ", "ſ", "\u212a", "é", "e\u0301", "ς", "😀x"], priority=1)]
    )
    table = build_table(mode)
    re2_router, aho_router = Router(table), Router(table, scanner="aho")
    for text in (
        "İ",
        "i\u0307",
        "S",
        "ſ",
        "k",
        "K",
        "É",
        "E\u0301",
        "Σ",
        "ΑΣ",
        "😀X",
        "plain",
        "security",
        "",
        "İSTANBUL testing",
    ):
        assert re2_router.route(text) == aho_router.route(text), text
        assert re2_router.route(text).task_type == reference_route(mode, text)[0], text


def test_empty_table_routes_everything_to_the_fallback() -> None:
    router = Router(build_table(make_mode(builtin_task_types=False)))
    d = router.route("security")
    assert (d.task_type, d.specialist, d.matches) == ("general_tasks", "implementer", ())


# --------------------------------------------------------------------------- edge cases


def _hand_mode(*conditions: TextMatch) -> Any:
    rules = [make_rule(f"r{i}_tasks", c, line=i + 2) for i, c in enumerate(conditions)]
    return make_mode(rules, builtin_task_types=False, hit_policy="collect")


def test_empty_literals_match_everywhere_in_every_backend() -> None:
    span = Span.point("m.yaml", 1, 1)
    mode = _hand_mode(
        TextMatch(span=span, field="description", op="contains", quantifier="one", values=("",)),
        TextMatch(span=span, field="title", op="mentions", quantifier="any", values=("",)),
        TextMatch(span=span, field="text", op="contains", quantifier="all", values=()),
        TextMatch(span=span, field="text", op="contains", quantifier="any", values=()),
    )
    table = build_table(mode)
    for task in ("", "x", Task(title="a b")):
        want = reference_route(mode, task)
        assert want[2] == ("r0_tasks", "r1_tasks", "r2_tasks")
        for scanner in ("re2", "aho"):
            d = Router(table, scanner=scanner).route(task)
            assert (d.task_type, d.specialist, d.matches) == want


def test_scanner_falls_back_to_pyahocorasick_when_re2_cannot_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import modec.runtime.scanner as scanner_module

    monkeypatch.setattr(scanner_module, "_re2_set", lambda literals, fold_ascii: None)
    router = Router(build_table(make_mode()))
    assert router._literals is not None and router._literals.backend == "aho"
    assert router.route("An AUDIT").task_type == "security_tasks"
    assert router.route("\u212a QA").task_type == "testing_tasks"


def test_rows_route_right_whatever_the_literal_order_of_the_plan() -> None:
    table = build_table(make_mode())
    (plan,) = table.scanners
    shuffled = table.model_copy(
        update={"scanners": (plan.model_copy(update={"literals": tuple(reversed(plan.literals))}),)}
    )
    reordered = Router(shuffled)
    for text in ("audit and test", "a guide to speed", "qa", "nothing", "DOCUMENT security"):
        assert reordered.route(text).task_type == classic_router().route(text).task_type
