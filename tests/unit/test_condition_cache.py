"""The condition cache (modec.grammar.parser.ConditionCache): a cached parse is the uncached
parse, located where each call says, at any place; the cache is bounded by counts and safe to
share between threads; a recompile of an unchanged file parses nothing again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks.compile import mode_text
from modec.compiler.ir import ModeFile
from modec.compiler.pipeline import compile_path, compile_text
from modec.diagnostics import Diagnostic, Span
from modec.grammar.ast import And, Expr, LiteralNode, Not, Or
from modec.grammar.parser import (
    ConditionCache,
    _parse,
    _Parsed,
    condition_cache,
    parse_condition,
)
from tests.conftest import CASES

Locate = Callable[[int, int], Span]

#: Valid conditions, warnings (MC407) and errors of every stage (syntax, types, escapes,
#: regex flags, nesting), so each shape of result goes through the cache.
CONDITIONS = (
    'tags contains "hotfix" or (title matches /^fix(\\(.+\\))?:/ and complexity <= simple)',
    'tags contains "parser" and complexity >= complex',
    'not (title mentions any("a", "b", "c") or description startswith "x")',
    'metadata.team in ["core", 3, true] and complexity in [1, moderate]',
    'title contains "a" or true',
    "not not false",
    "true",
    "title contains 5",
    'title contains "unterminated',
    'title contains "bad \\q escape" and tags contains "\\u12"',
    "title matches /x/qz",
    'owner == "me"',
    'complexity > "high"',
    "",
    "   ",
    "(" * 70 + "true" + ")" * 70,
    "not " * 70 + "true",
    'title contains "\ud800"',
    'Title CONTAINS "x"',
    'title = "x"',
)


def shifted(line: int, column: int) -> Locate:
    """A locate for a condition written at ``line:column`` of file ``m.yaml``."""

    def locate(start: int, end: int) -> Span:
        return Span(
            file="m.yaml", line=line, column=column + start, end_line=line, end_column=column + end
        )

    return locate


def folded_lines(start: int, end: int) -> Span:
    """A locate of a condition folded over lines of 10 characters (not a linear map)."""
    return Span(
        file="n.yaml",
        line=3 + start // 10,
        column=5 + start % 10,
        end_line=3 + end // 10,
        end_column=5 + end % 10,
    )


def nodes(expr: Expr | None) -> Iterator[Expr]:
    if expr is None:
        return
    yield expr
    if isinstance(expr, And | Or):
        for operand in expr.operands:
            yield from nodes(operand)
    elif isinstance(expr, Not):
        yield from nodes(expr.operand)


def located(expr: Expr | None) -> list[tuple[Span, tuple[Span, ...]]]:
    """Every node's span with its literal spans (which node equality leaves out)."""
    return [(n.span, n.value_spans if isinstance(n, LiteralNode) else ()) for n in nodes(expr)]


def full(diagnostics: list[Diagnostic]) -> list[dict[str, object]]:
    return [d.model_dump() for d in diagnostics]


@pytest.fixture
def cache() -> Iterator[ConditionCache]:
    shared = condition_cache()
    shared.clear()
    yield shared
    shared.clear()


@pytest.mark.parametrize("text", CONDITIONS)
def test_cached_parse_is_the_uncached_parse_at_every_place(
    text: str, cache: ConditionCache
) -> None:
    for locate in (shifted(7, 11), shifted(1, 1), shifted(300, 42), folded_lines):
        direct_expr, direct_diags = _parse(text, locate)
        for _ in range(2):  # a miss, then a hit
            expr, diags = parse_condition(text, locate)
            assert expr == direct_expr
            assert located(expr) == located(direct_expr)
            assert full(diags) == full(direct_diags)
    info = cache.info()
    assert (info.misses, info.hits) == (1, 7)


def test_a_place_keeps_the_located_result_and_another_place_relocates(
    cache: ConditionCache,
) -> None:
    text = CONDITIONS[0]
    first, _ = parse_condition(text, shifted(7, 11), place=("m.yaml", 7, 11))
    again, _ = parse_condition(text, shifted(7, 11), place=("m.yaml", 7, 11))
    assert again is first  # kept, located once
    moved, _ = parse_condition(text, shifted(9, 3), place=("m.yaml", 9, 3))
    assert located(moved) == located(_parse(text, shifted(9, 3))[0])
    assert located(moved) != located(first)
    info = cache.info()
    assert (info.misses, info.hits, info.located_hits, info.located_size) == (1, 1, 1, 2)


def test_the_cache_is_bounded_by_counts() -> None:
    small = ConditionCache(maxsize=4, max_text=40)
    for i in range(10):
        text = f'complexity >= {i % 5 + 1} and title contains "{i}"'
        assert small.get(text) is None
        small.put(text, _Parsed(None, (), {}, ()))
        small.keep(text, i, (None, ()))
    long = "title contains " + '"' + "x" * 40 + '"'
    small.put(long, _Parsed(None, (), {}, ()))  # too long to keep
    assert small.get(long) is None
    info = small.info()
    assert (info.size, info.maxsize, info.misses, info.located_size) == (4, 4, 11, 4)


def test_a_locate_that_ignores_the_offsets_is_not_cached(cache: ConditionCache) -> None:
    one = Span(file="m.yaml", line=4, column=9, end_line=4, end_column=30)
    for _ in range(2):
        expr, _ = parse_condition(CONDITIONS[0], lambda start, end: one)
        assert expr is not None and expr.span is one
    assert cache.info().size == 0


def test_threads_share_the_cache_and_agree(cache: ConditionCache) -> None:
    texts = CONDITIONS[:8]
    expected = {t: located(_parse(t, shifted(2, 3))[0]) for t in texts}
    wrong: list[str] = []

    def work() -> None:
        for _ in range(20):
            for t in texts:
                if located(parse_condition(t, shifted(2, 3))[0]) != expected[t]:
                    wrong.append(t)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    info = cache.info()
    assert info.hits + info.misses == 4 * 20 * len(texts)
    assert len(texts) <= info.misses <= 4 * len(texts)


def literal_spans(mode: ModeFile) -> list[object]:
    return [located(r.condition) for r in mode.rules]


def test_recompiling_a_file_parses_no_condition_again(cache: ConditionCache) -> None:
    data = mode_text().encode()
    cold = compile_text(data, "bench.yaml", until="check")
    parsed = cache.info().misses
    assert parsed == 11  # the benchmark mode's `when:` conditions
    warm = compile_text(data, "bench.yaml", until="check")
    assert cache.info().misses == parsed
    assert cache.info().located_hits == parsed
    assert warm.mode == cold.mode
    assert warm.mode is not None and cold.mode is not None
    assert literal_spans(warm.mode) == literal_spans(cold.mode)
    assert full(warm.sorted_diagnostics()) == full(cold.sorted_diagnostics())


def test_an_edit_above_a_condition_moves_its_spans_exactly(cache: ConditionCache) -> None:
    text = mode_text()
    compile_text(text, "bench.yaml", until="check")  # every condition cached at its place
    edited = "# a comment line\n# and another\n" + text.replace("    when: '", "    when:   '")
    warm = compile_text(edited, "bench.yaml", until="check")
    cache.clear()
    cold = compile_text(edited, "bench.yaml", until="check")
    assert warm.mode is not None and cold.mode is not None
    assert warm.mode == cold.mode
    assert literal_spans(warm.mode) == literal_spans(cold.mode)
    assert full(warm.sorted_diagnostics()) == full(cold.sorted_diagnostics())


CASE_FILES = sorted(p for p in CASES.iterdir() if p.name != "expected.yaml")


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_golden_cases_compile_alike_cold_and_warm(path: Path, cache: ConditionCache) -> None:
    cold = compile_path(path, display=path.name, until="check")
    warm = compile_path(path, display=path.name, until="check")
    assert full(warm.sorted_diagnostics()) == full(cold.sorted_diagnostics())
    assert warm.mode == cold.mode
    if warm.mode is not None and cold.mode is not None:
        assert literal_spans(warm.mode) == literal_spans(cold.mode)
