"""Batch and fast paths decide exactly as ``route``: ``route_many`` through the segmented
batch scanner, dicts that give only a description, and the regex prefilter of generated rows."""

from __future__ import annotations

import random
from typing import Any

import pytest

from modec.compiler.table import build_table
from modec.compiler.task import Task, TaskView, description_only, read_task
from modec.runtime.decision import Decision
from modec.runtime.router import Router
from modec.runtime.scanner import BATCH_SEGMENTS, BatchScanner, LiteralSet, required_literal
from modec.testing import classic_classify, make_mode, make_rule, reference_route

WORDS = ("fix", "the", "login", "flow", "and", "cache", "é", "—", "SECURITY", "Audit", "qa")
KEYWORDS = ("test", "guide", "speed", "encryption", "readme", "profiling", "manual")


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(0, 30))]
        if rng.random() < 0.5:
            words.insert(rng.randint(0, len(words)), rng.choice(KEYWORDS).upper())
        out.append(" ".join(words))
    return out


def _classic() -> Router:
    return Router(build_table(make_mode()))


def _rows(decisions: list[Decision]) -> list[str]:
    return [d.task_type for d in decisions]


@pytest.mark.parametrize(
    "count", [0, 1, BATCH_SEGMENTS - 1, BATCH_SEGMENTS, 5 * BATCH_SEGMENTS + 3]
)
def test_route_many_is_a_loop_of_route_for_every_batch_size(
    count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned: list[int] = []
    rows = BatchScanner.rows

    def counted(self: BatchScanner, texts: list[str], none: int, limit: int) -> Any:
        scanned.append(len(texts))
        return rows(self, texts, none, limit)

    monkeypatch.setattr(BatchScanner, "rows", counted)
    router = _classic()
    texts = _texts(count, count)
    assert router.route_many(texts) == [router.route(t) for t in texts]
    assert scanned == ([len(set(texts))] if count else [])  # it scanned each text once
    assert _rows(router.route_many(texts)) == [classic_classify(t) for t in texts]
    tasks = [Task(description=t) for t in texts]
    assert router.route_many(tasks) == [router.route(t) for t in tasks]
    dicts: list[Any] = [{"description": t} for t in texts]
    assert router.route_many(dicts) == [router.route(t) for t in dicts]


def test_the_batch_scanner_gives_each_text_its_least_row() -> None:
    literals = LiteralSet(("alpha", "beta", "gamma", "delta"))
    rows = [3, 1, 0, 1]  # not monotone in literal order
    scanner = BatchScanner.build(literals, rows)
    assert scanner is not None
    texts = ["", "ALPHA", "alphabeta", "x gamma y beta", "nothing", "Delta", "alph a"] * 5
    want = [min((rows[i] for i in literals.find(t)), default=9) for t in texts]
    assert scanner.rows(texts, 9, 10**6) == want


@pytest.mark.parametrize(
    "odd",
    [
        "a NUL \x00 inside test",  # would shift the segments
        "İ guide",  # İ lowers to i + combining dot: raw bytes are not enough
        "\u212aelvin test",  # the Kelvin sign lowers to k
        "x" * 5000 + " speed",  # long: route scans it in chunks
    ],
)
def test_texts_the_batch_scanner_refuses_still_route_as_route(odd: str) -> None:
    router = _classic()
    texts = [*_texts(40, 1), odd, *_texts(40, 2)]
    assert router.route_many(texts) == [router.route(t) for t in texts]


def test_a_lone_surrogate_in_a_batch_raises_as_the_loop_does() -> None:
    router = _classic()
    texts = [*_texts(20, 3), "audit \ud800", *_texts(20, 4)]
    with pytest.raises(ValueError, match="surrogate"):
        router.route_many(texts)


def test_a_literal_with_a_nul_or_non_ascii_gets_no_batch_scanner() -> None:
    assert BatchScanner.build(LiteralSet(("a\x00b", "c")), [0, 1]) is None
    assert BatchScanner.build(LiteralSet(("é", "c")), [0, 1]) is None
    mode = make_mode([make_rule("accent_tasks", ["café", "thé"])], builtin_task_types=False)
    router = Router(build_table(mode))
    texts = ["un CAFÉ", "du thé", "rien", "CAFE"] * 10
    assert router.route_many(texts) == [router.route(t) for t in texts]


def test_mixed_and_unusual_batches_route_task_by_task() -> None:
    router = _classic()
    batch: list[Any] = [
        "audit",
        Task(description="qa"),
        {"title": "t", "description": "guide"},
        TaskView("", "speed", (), 4, {}),
    ]
    assert router.route_many(batch) == [router.route(t) for t in batch]
    assert router.route_many(iter(["readme", "x"])) == [router.route("readme"), router.route("x")]


def test_a_dict_with_only_a_description_routes_as_the_string() -> None:
    for given in (
        {"description": "audit it"},
        {"description": "audit it", "title": "", "tags": [], "metadata": {}, "owner": "ana"},
        {"description": "audit it", "title": None, "complexity": None},
    ):
        assert description_only(given) == "audit it"
    assert description_only({}) == ""
    for more in (
        {"description": "x", "title": "t"},
        {"description": "x", "tags": ["a"]},
        {"description": "x", "complexity": 2},
        {"description": "x", "metadata": '{"a": 1}'},
        {"description": 3},
        {"title": "t"},
    ):
        assert description_only(more) is None
    router = _classic()
    d = router.route({"description": "Audit it", "owner": "ana"})
    assert (d.task_type, d._task) == ("security_tasks", "Audit it")
    assert d == router.route(read_task({"description": "Audit it"}))


def test_a_dict_is_read_as_the_strict_task_reads_it() -> None:
    given = {
        "title": "T",
        "description": "d",
        "tags": ["a", "b"],
        "complexity": "complex",
        "metadata": '{"team": "core"}',
        "other": 1,
    }
    view = read_task(given)
    assert isinstance(view, TaskView)
    assert view.task() == Task(
        title="T", description="d", tags=("a", "b"), complexity=4, metadata={"team": "core"}
    )
    with pytest.raises(ValueError, match="metadata"):
        read_task({"metadata": "not json"})
    with pytest.raises(ValueError):
        read_task({"title": 3})


def test_a_regex_required_literal_is_a_necessary_condition() -> None:
    assert required_literal("^fix([(].+[)])?:", "i") == ("fix", True)
    assert required_literal("^Fix", "m") == ("Fix", False)
    assert required_literal("colou?r") == ("colo", False)
    assert required_literal("a|b") is None
    assert required_literal("(?i)fix") is None
    assert required_literal(r"\d+") is None


@pytest.mark.parametrize(
    "condition",
    [
        "title matches /^fix([(].+[)])?:/i",
        "text matches /^release/i",
        "text matches /hotfix/",
        "description matches /deploy(ed)?/i",
        "title matches /ask/im",
    ],
)
def test_generated_regex_rows_route_like_the_reference(condition: str) -> None:
    mode = make_mode([make_rule("r_tasks", condition)], builtin_task_types=False)
    router = Router(build_table(mode), generated=True)
    pattern, flags = condition.split("/")[1:]
    found = required_literal(pattern, flags)
    assert found is not None
    assert repr(found[0]) in (router.route.__doc__ or "")  # the prefilter is in the code
    titles = ("fix(ui): x", "FIX: y", "fİx: z", "ſix", "\u212aask", "a\nASK", "release 2", "")
    bodies = ("", "hotfix now", "Deployed", "RELEASE notes", "té \u017fk deploy")
    for title in titles:
        for body in bodies:
            task = Task(title=title, description=body)
            assert router.route(task).task_type == reference_route(mode, task)[0], (title, body)
