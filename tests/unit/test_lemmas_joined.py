"""The joined search of small literal sets answers as the search pair by pair.

:func:`modec.compiler.analysis.lemmas._pairwise` looks for each literal once in all of them
joined by a NUL; a literal may hold NUL itself (a ``"\\0"`` escape in YAML), so matches that
run over a literal's end must be dropped, and the cut under a small ``limit`` must be the one
of the search pair by pair (:func:`_pairs`).
"""

from __future__ import annotations

import random

from modec.compiler.analysis.lemmas import _pairs, _pairwise


def test_joined_search_answers_as_pairs_with_separators_inside_literals() -> None:
    rng = random.Random(7)
    for _ in range(4_000):
        alphabet = rng.choice(["a\0", "ab\0", "\0", "abc", "a\0b"])
        literals = list(
            dict.fromkeys(
                "".join(rng.choices(alphabet, k=rng.randint(1, 9)))
                for _ in range(rng.randint(1, 12))
            )
        )
        limit = rng.choice([10**9, rng.randint(0, 40)])
        assert _pairwise(literals, limit) == _pairs(literals, limit), (literals, limit)


def test_repeated_and_empty_literals_take_the_pairwise_path() -> None:
    for literals in (["a", "a", "aa"], ["", "a", "ba"], ["ab", "", "b", "ab"]):
        assert _pairwise(literals, 10**9) == _pairs(literals, 10**9)


def test_a_match_across_the_separator_is_no_occurrence() -> None:
    found, complete = _pairwise(["ab", "a\0b", "b\0a"], 10**9)
    assert complete
    assert found["ab"] == [("ab", [0])]  # not the "b\0a" that starts inside "ab" joined
    assert found["a\0b"] == [("a\0b", [0])]
    assert found["b\0a"] == [("b\0a", [0])]
