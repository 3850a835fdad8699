"""Long texts: the chunked scan with early exit decides exactly as a whole-text scan would."""

from __future__ import annotations

import pytest

from modec.compiler.table import build_table
from modec.runtime.router import Router
from modec.runtime.scanner import CHUNK_CHARS, LiteralSet
from modec.testing import classic_classify, make_mode, make_rule, reference_route

FILLER = "the quick brown fox jumps over the lazy dog; "


def _text(length: int, inserts: dict[int, str]) -> str:
    base = list((FILLER * (length // len(FILLER) + 1))[:length])
    for position, word in sorted(inserts.items(), reverse=True):
        base[position:position] = list(word)
    return "".join(base)


@pytest.mark.parametrize("offset", [-9, -5, -1, 0, 1, 3, 4096, 8192 - 4, 3 * CHUNK_CHARS - 2])
@pytest.mark.parametrize("word", ["security", "QA", "Documentation", "bottleneck"])
def test_a_keyword_straddling_a_chunk_boundary_is_found(offset: int, word: str) -> None:
    router = Router(build_table(make_mode()))
    for length in (20_000, 70_000):
        position = CHUNK_CHARS + offset
        text = _text(length, {position: word})
        assert router.route(text).task_type == classic_classify(text)
        # the same keyword late in the text, after a lower row's keyword early on
        later = _text(length, {100: "guide", length - 50: word})
        assert router.route(later).task_type == classic_classify(later)


def test_early_exit_never_hides_a_lower_row() -> None:
    router = Router(build_table(make_mode()))
    # testing first, security at the very end: the scan must not stop at the testing hit.
    text = _text(300_000, {10: "test", 299_990: "audit"})
    assert router.route(text).task_type == "security_tasks"
    assert router.route(_text(300_000, {})).task_type == "general_tasks"


def test_non_ascii_long_texts_and_capital_sigma() -> None:
    mode = make_mode([make_rule("greek_tasks", ["ας", "kelvin"])], builtin_task_types=False)
    router = Router(build_table(mode))
    for text in (
        _text(50_000, {CHUNK_CHARS - 1: "ΑΣ"}),  # final sigma: lowers to 'ας'
        _text(50_000, {CHUNK_CHARS - 3: "\u212aELVIN"}),  # Kelvin sign lowers to 'k'
        "é" + _text(50_000, {40_000: "ΑΣ b"}),
        "é" + _text(50_000, {}),
    ):
        assert router.route(text).task_type == reference_route(mode, text)[0]


def test_best_row_is_the_least_row_of_the_whole_text() -> None:
    literals = LiteralSet(("alpha", "beta", "gamma"))
    rows = [2, 1, 0]
    for text in (
        _text(40_000, {30_000: "gamma", 5: "alpha"}),
        _text(40_000, {9000: "beta"}),
        _text(40_000, {}),
    ):
        found = literals.find(text)
        want = min((rows[i] for i in found), default=3)
        assert literals.best_row(text, rows, 0, 3) == want
