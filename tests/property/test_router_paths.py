"""The batch path and the chunked scan of long texts decide as ``route`` and the reference
whatever the texts' characters: ASCII and wide texts (Latin-1, BMP, astral), NULs, İ, the
Kelvin sign, the final sigma and lone surrogates, near chunk boundaries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modec.compiler.table import build_table
from modec.runtime.router import Router
from modec.runtime.scanner import BATCH_SEGMENTS, CHUNK_CHARS, BatchScanner, LiteralSet
from modec.testing import make_mode, make_rule, reference_route

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


# Where chunks of a long text start and end: the first chunk, then chunks that grow by a
# quarter (after hits) or fourfold (after none), less the overlap.
BOUNDARIES = (0, CHUNK_CHARS, 2 * CHUNK_CHARS, 2304, 3904, 4 * CHUNK_CHARS, 5 * CHUNK_CHARS, 5888)
WIDE_WORDS = (
    "\u212aELVIN",  # the Kelvin sign lowers to k: "kelvin"
    "K\u0130T",  # İ lowers to i + combining dot: not "kit"
    "kit",
    "AUDIT",
    "qa",
    "\u0130",
    "\u212a",
    "\u03a3",  # capital sigma: its lowering depends on what follows
    "😀",
    "é",
)
FILLERS = ("lorem ipsum ", "é — dolor ", "😀 x ", "σίγμα ")


def _long_text(length: int, filler: str, inserts: list[tuple[int, int, str]]) -> str:
    chars = list((filler * (length // len(filler) + 1))[:length])
    for boundary, shift, word in sorted(inserts, reverse=True):
        at = min(max(boundary + shift, 0), len(chars))
        chars[at:at] = list(word)
    return "".join(chars)


long_texts = st.builds(
    _long_text,
    st.sampled_from((2 * CHUNK_CHARS + 1, 5000, 20_000)),
    st.sampled_from(FILLERS),
    st.lists(
        st.tuples(st.sampled_from(BOUNDARIES), st.integers(-12, 12), st.sampled_from(WIDE_WORDS)),
        max_size=4,
    ),
)


@settings(max_examples=150, deadline=None)
@given(long_texts)
def test_long_wide_texts_route_like_the_reference(text: str) -> None:
    mode = make_mode(
        [
            make_rule("security_tasks", None),
            make_rule("kelvin_tasks", ["kelvin", "kit"]),
            make_rule("testing_tasks", None),
        ]
    )
    router = Router(build_table(mode))
    assert router.route(text).task_type == reference_route(mode, text)[0]
    assert router.route_many([text, text[:300]]) == [router.route(text), router.route(text[:300])]


@settings(max_examples=60, deadline=None)
@given(long_texts, st.floats(min_value=0, max_value=1))
def test_a_lone_surrogate_anywhere_in_a_long_text_is_refused(text: str, where: float) -> None:
    router = Router(build_table(make_mode()))
    at = int(where * len(text))
    for bad in (text[:at] + "\udc00" + text[at:], "audit " + text[:at] + "\udc00" + text[at:]):
        with pytest.raises(ValueError, match=f"lone surrogate at index {bad.index(chr(0xDC00))};"):
            router.route(bad)


@pytest.mark.parametrize("filler", FILLERS[1:])
def test_a_keyword_across_a_chunk_boundary_of_a_wide_text_is_found(filler: str) -> None:
    # The classic literals' longest is 13 characters: chunks [0, 1024), then (no hit)
    # [1012, 5108), then [5096, ...).
    mode = make_mode([make_rule("kelvin_tasks", ["kelvin"]), make_rule("security_tasks", None)])
    router = Router(build_table(mode))
    for end in (CHUNK_CHARS, 5108):
        for word in ("AUDIT", "\u212aELVIN"):
            for at in range(end - len(word), end + 1):
                text = _long_text(20_000, filler, [(at, 0, word)])
                assert router.route(text).task_type == reference_route(mode, text)[0]
