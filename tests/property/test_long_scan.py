"""Long texts over a large literal universe: the head-first scan (:meth:`LiteralSet.ranker`)
and the chunked scans (an ASCII text's bytes, a wide text's characters) give the
least row of the whole text, as a literal-by-literal reading of ``text.lower()`` does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modec.compiler.ir import ModeFile
from modec.compiler.table import build_table
from modec.runtime.router import Router
from modec.runtime.scanner import CHUNK_CHARS, HEAD_LITERALS, HEAD_MIN, LiteralSet
from modec.testing import make_mode, make_rule, reference_route

SYLLABLES = ("ka", "ro", "mi", "tu", "ven", "sal", "or", "ix", "pe", "lu")


def _word(i: int) -> str:
    out = []
    for _ in range(4):
        i, digit = divmod(i, len(SYLLABLES))
        out.append(SYLLABLES[digit])
    return "".join(out) + "q"


# A universe past HEAD_MIN: rows of 8 literals; the head is the first HEAD_LITERALS of them.
UNIVERSE = tuple(_word(i) for i in range(HEAD_MIN + 200))
MONOTONE = tuple(i // 8 for i in range(len(UNIVERSE)))
NONE = MONOTONE[-1] + 1
# The same literals gating rows out of order, some of them none on this source (``NONE``).
SHUFFLED = tuple(NONE if i % 97 == 5 else (i * 37) % (NONE - 1) for i in range(len(UNIVERSE)))
LITERALS = LiteralSet(UNIVERSE)
FILLERS = ("lorem ipsum ", "é — dolor ", "😀 x ", "σίγμα ", "KELVIN \u212a ", "İ dot ")


def _least_row(text: str, row_of: tuple[int, ...]) -> int:
    lowered = text.lower()
    return min((r for lit, r in zip(UNIVERSE, row_of, strict=True) if lit in lowered), default=NONE)


def _text(length: int, filler: str, inserts: list[tuple[float, int]]) -> str:
    chars = list((filler * (length // len(filler) + 1))[:length])
    for where, index in sorted(inserts, reverse=True):
        at = int(where * len(chars))
        word = UNIVERSE[index]
        chars[at:at] = list(word.upper() if index % 3 == 0 else word)
    return "".join(chars)


# Literals of the head (the first rows), of the rest, and of rows that are none here.
indexes = st.one_of(
    st.integers(0, HEAD_LITERALS - 1),
    st.integers(HEAD_LITERALS, len(UNIVERSE) - 1),
    st.sampled_from([i for i, r in enumerate(SHUFFLED) if r == NONE]),
)
long_texts = st.builds(
    _text,
    st.sampled_from((3 * CHUNK_CHARS, 10_000, 40_000)),
    st.sampled_from(FILLERS),
    st.lists(st.tuples(st.floats(0, 1), indexes), max_size=5),
)


@settings(max_examples=150, deadline=None)
@given(long_texts, st.sampled_from((MONOTONE, SHUFFLED)))
def test_the_ranker_gives_the_least_row_of_the_whole_text(
    text: str, row_of: tuple[int, ...]
) -> None:
    assert LITERALS.ranker(row_of, NONE)(text) == _least_row(text, row_of)


def test_a_small_universe_or_a_single_row_has_no_head() -> None:
    small = LiteralSet(UNIVERSE[: HEAD_MIN - 1])
    text = _text(10_000, "lorem ipsum ", [(0.9, 200)])
    # Without a head the ranker is the plain chunked scan of the whole set.
    for literals, rows in ((small, MONOTONE[: HEAD_MIN - 1]), (LITERALS, (0,) * len(UNIVERSE))):
        assert literals.ranker(rows, NONE)(text) == literals.best_row(text, rows, min(rows), NONE)


def test_a_head_literal_anywhere_decides_over_every_other() -> None:
    rank = LITERALS.ranker(MONOTONE, NONE)
    tail = UNIVERSE[-1]
    for where in (0.0, 0.5, 1.0):
        text = _text(30_000, "é — dolor ", [(0.0, len(UNIVERSE) - 1), (where, 9)])
        assert tail in text
        assert rank(text) == MONOTONE[9]


@pytest.mark.parametrize("filler", ["é — dolor ", "😀 x ", "σίγμα ", "İ dot "])
@pytest.mark.parametrize("boundary", [CHUNK_CHARS, CHUNK_CHARS - 9 + 4 * CHUNK_CHARS])
def test_a_literal_across_a_chunk_boundary_of_a_wide_text_is_found(
    filler: str, boundary: int
) -> None:
    # A wide text is encoded chunk by chunk, as far as the scan reads it: with a longest
    # literal of 10 characters, chunks [0, 1024), then (no hit) [1015, 5111), where the
    # scan stops. Put the literal across each cut, at every character offset; a lone surrogate
    # after the cut the scan stops at is still refused.
    small = LiteralSet(("xyzzyplugh", "audit"))
    rows = (0, 1)
    base = (filler * (30_000 // len(filler) + 1))[:30_000]
    word = "XYZZYplugh"
    for at in range(boundary - len(word) + 1, boundary):
        text = base[:at] + word + base[at:]
        assert small.best_row(text, rows, 0, 2) == 0
        bad = text + "\udc80"
        with pytest.raises(UnicodeEncodeError) as raised:
            small.best_row(bad, rows, 0, 2)
        assert raised.value.start == len(text)


def _large_mode() -> ModeFile:
    rules = [
        make_rule(f"area{row:03d}_tasks", list(UNIVERSE[8 * row : 8 * row + 8]), line=row + 2)
        for row in range(len(UNIVERSE) // 8)
    ]
    return make_mode(rules)


MODE = _large_mode()
ROUTER = Router(build_table(MODE))


@settings(max_examples=60, deadline=None)
@given(long_texts)
def test_a_large_table_routes_long_texts_like_the_reference(text: str) -> None:
    assert ROUTER.route(text).task_type == reference_route(MODE, text)[0]


@settings(max_examples=30, deadline=None)
@given(long_texts, st.floats(0, 1))
def test_a_lone_surrogate_in_a_long_text_of_a_large_table_is_refused(
    text: str, where: float
) -> None:
    at = int(where * len(text))
    bad = text[:at] + "\ud9ab" + text[at:]
    with pytest.raises(ValueError, match=f"lone surrogate at index {bad.index(chr(0xD9AB))};"):
        ROUTER.route(bad)
