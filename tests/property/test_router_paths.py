"""The batch path decides as ``route`` whatever the texts' characters: groups that mix ASCII
and wide texts (Latin-1, BMP, astral), NULs, İ, the Kelvin sign and lone surrogates."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from modec.compiler.table import build_table
from modec.runtime.router import Router
from modec.runtime.scanner import BATCH_SEGMENTS, BatchScanner, LiteralSet
from modec.testing import make_mode

LITERALS = ("audit", "test", "qa", "speed", "guide")
ROWS = (0, 2, 2, 1, 3)
# Pieces that put keywords next to characters of every width, and the characters the batch
# scanner refuses (NUL, İ, Kelvin sign, a lone surrogate).
PIECES = ("AUDIT", "tes", "t", "Q", "a", "guide", " ", "é", "—", "😀", "ß", "x")
REFUSED = ("\x00", "\u0130", "\u212a", "\ud800")

texts = st.lists(st.sampled_from(PIECES + REFUSED), max_size=12).map("".join)
clean = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


def _least_row(literals: LiteralSet, text: str) -> int:
    return min((ROWS[i] for i in literals.find(text)), default=len(ROWS))


@settings(max_examples=300, deadline=None)
@given(st.lists(clean, max_size=3 * BATCH_SEGMENTS + 1))
def test_batch_rows_are_each_texts_least_row(batch: list[str]) -> None:
    literals = LiteralSet(LITERALS)
    scanner = BatchScanner.build(literals, ROWS)
    assert scanner is not None
    want = [_least_row(literals, t) for t in batch]
    assert scanner.rows(batch, len(ROWS), 10**6) == want


@settings(max_examples=300, deadline=None)
@given(st.lists(texts, max_size=2 * BATCH_SEGMENTS + 1))
def test_batch_rows_refuse_what_they_cannot_scan(batch: list[str]) -> None:
    literals = LiteralSet(LITERALS)
    scanner = BatchScanner.build(literals, ROWS)
    assert scanner is not None
    got = scanner.rows(batch, len(ROWS), 10**6)
    if any(c in t for t in batch for c in REFUSED):
        assert got is None
    else:
        assert got == [_least_row(literals, t) for t in batch]


def _outcome(route: object, task: object) -> object:
    try:
        return route(task)  # type: ignore[operator]
    except ValueError as exc:
        return (type(exc), str(exc))


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, max_size=2 * BATCH_SEGMENTS + 1))
def test_route_many_is_a_loop_of_route_on_any_characters(batch: list[str]) -> None:
    router = Router(build_table(make_mode()))
    loop = [_outcome(router.route, t) for t in batch]
    errors = [o for o in loop if isinstance(o, tuple)]
    if errors:
        assert _outcome(router.route_many, batch) == errors[0]  # the loop's first error
    else:
        assert router.route_many(batch) == loop
