"""The hazard index (MC606's evidence) answers as a plain scan of the word list does."""

from __future__ import annotations

import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from modec.compiler.analysis import hazards
from modec.compiler.analysis.hazards import english_words, hazard_lookup


def reference(keyword: str) -> tuple[str, ...]:
    """Every listed word holding ``keyword``, but its own forms, and common enough for its
    length; commonest first, then shortest, then alphabetical."""
    forms = hazards._forms(keyword)
    limit = 50 if len(keyword) <= hazards._SHORT_KEYWORD else hazards._COMMON_SIZE
    sizes = english_words()
    found = [w for w, size in sizes.items() if keyword in w and w not in forms and size <= limit]
    return tuple(sorted(found, key=lambda w: (sizes[w], len(w), w)))


@functools.cache
def words() -> list[str]:
    return list(english_words())


@st.composite
def pieces(draw: st.DrawFn) -> str:
    """A piece of a listed word (most keywords that have hazards are such pieces)."""
    word = draw(st.sampled_from(words()))
    start = draw(st.integers(0, len(word) - 1))
    return word[start : draw(st.integers(start + 1, len(word)))]


@settings(max_examples=60, deadline=None)
@given(st.sets(pieces() | st.text("abcdeiostq", min_size=1, max_size=4), min_size=1, max_size=8))
def test_the_index_finds_what_a_scan_of_the_list_finds(keywords: set[str]) -> None:
    found = hazard_lookup(keywords)
    assert found == {k: reference(k) for k in keywords if reference(k)}


def test_every_section_of_the_list_is_read() -> None:
    sizes = english_words()
    assert sorted(set(sizes.values())) == [10, 20, 35, 40, 50]
    assert len(sizes) == 63_532  # the count data/README.md states
    blob, starts, section_sizes = hazards._word_blob()
    assert blob.count("\n") == len(sizes) and blob.endswith("\n")
    assert section_sizes == (10, 20, 35, 40, 50) and starts[0] == 0
    assert blob.split("\n")[:-1] == list(sizes)  # one word a line, in the list's order


def line_by_line(text: str) -> list[tuple[int, list[str]]]:
    """The word list read one line at a time: what the sections must hold."""
    out: list[tuple[int, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        if line.startswith("@"):
            out.append((int(line[1:]), []))
            continue
        if out:
            out[-1][1].append(line)
    return [(size, words) for size, words in out if words]


_LINES = st.sampled_from(["# note", "", "@10", "@20", "@35", "alpha", "beta", "gamma", "#x"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=20), st.booleans())
def test_sections_hold_every_word_line_in_order(lines: list[str], final_newline: bool) -> None:
    text = "# SCOWL\n@10\n" + "\n".join(lines) + ("\n" if final_newline else "")
    sections = hazards._parse_sections(text)
    assert [(size, words.split("\n")[:-1]) for size, words in sections] == line_by_line(text)
    assert all(words.endswith("\n") for _, words in sections)
