"""Shortcuts of the cold compile path decide as the general path does."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from modec.compiler import source


@given(st.text(st.characters(max_codepoint=0x7F)))
def test_the_ascii_class_finds_what_the_whole_class_finds_on_ascii_text(text: str) -> None:
    whole = re.compile(source._NOT_PRINTABLE).search(text)
    ascii_only = source._NOT_PRINTABLE_ASCII.search(text)
    assert (whole and (whole.start(), whole.group())) == (
        ascii_only and (ascii_only.start(), ascii_only.group())
    )


def test_every_ascii_character_is_judged_alike() -> None:
    whole = re.compile(source._NOT_PRINTABLE)
    for code in range(0x80):
        char = chr(code)
        assert bool(whole.match(char)) == bool(source._NOT_PRINTABLE_ASCII.match(char)), code


_VALID = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")


@given(st.text(_VALID, min_size=1).filter(lambda t: not t.isascii()))
def test_texts_that_are_not_ascii_are_checked_by_the_whole_class(text: str) -> None:
    _, problem = source._decode(text.encode("utf-8"), "m.yaml")
    refused = problem is not None and "which YAML does not allow" in problem.message
    found = re.compile(source._NOT_PRINTABLE).search(text.removeprefix("\ufeff"))
    assert refused == (found is not None)


def test_control_characters_after_non_ascii_text_are_still_reported() -> None:
    for text, shown in [("caf\u00e9 \x7f", "U+007F"), ("\u00e9\x1b", "U+001B")]:
        _, problem = source._decode(text.encode(), "m.yaml")
        assert problem is not None and shown in problem.message
    _, problem = source._decode("caf\u00e9 \ufeff".encode(), "m.yaml")
    assert problem is not None and "byte order mark" in problem.message
    assert source._decode("caf\u00e9 \u2028 \U0001f600".encode(), "m.yaml")[1] is None
