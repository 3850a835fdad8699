"""Keyword hazards: the common English words a substring keyword matches inside.

The word list is SCOWL (sizes 10–50), shipped as ``modec/compiler/data/english-words.txt.gz``
with its licence beside it.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import threading
from collections.abc import Iterable
from importlib import resources
from typing import Final

import ahocorasick
from cachetools import LRUCache

__all__ = ["english_words", "hazard_lookup", "keyword_hazards"]

_WORD_LIST: Final = "data/english-words.txt.gz"


@functools.cache
def _sections() -> tuple[tuple[int, str], ...]:
    """The shipped word list's sections (see :func:`_parse_sections`)."""
    data = gzip.decompress((resources.files("modec.compiler") / _WORD_LIST).read_bytes())
    return _parse_sections(data.decode("utf-8"))


def _parse_sections(text: str) -> tuple[tuple[int, str], ...]:
    """The sections of a word list (``#`` comment lines; ``@SIZE`` lines, each followed by
    its words, one a line) in file order: (size, its words one a line, each line ending in a
    newline); sections without words are left out."""
    out: list[tuple[int, str]] = []
    for section in ("\n" + text).split("\n@")[1:]:  # [0]: what comes before the first size
        size, _, body = section.partition("\n")
        body = body.removesuffix("\n")
        if body and ("\n\n" in body or "\n#" in body or body[0] in "\n#" or body[-1] == "\n"):
            # blank or comment lines inside the section: keep the words alone
            body = "\n".join(w for w in body.split("\n") if w and w[0] != "#")
        if body:
            out.append((int(size), body + "\n"))
    return tuple(out)


@functools.cache
def english_words() -> dict[str, int]:
    """Common English words (SCOWL sizes 10–50) mapped to their SCOWL size (10 = commonest).

    Shipped as ``modec/compiler/data/english-words.txt.gz``; see ``SCOWL-LICENSE.txt`` there.

    >>> words = english_words()
    >>> words["latest"], words["auditorium"], "qa" in words
    (10, 35, False)
    """
    words: dict[str, int] = {}
    for size, text in _sections():
        words.update(dict.fromkeys(text.split("\n")[:-1], size))
    return words


@functools.cache
def _word_blob() -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """Every word, one a line (the text the index searches), with the offset at which each
    section begins and its size: a word's size is its section's, found by its offset."""
    starts: list[int] = []
    at = 0
    for _, text in _sections():
        starts.append(at)
        at += len(text)
    return "".join(t for _, t in _sections()), tuple(starts), tuple(s for s, _ in _sections())


_SUFFIXES: Final = ("", "s", "es", "ed", "d", "ing", "ings", "er", "ers", "or", "ors", "ly", "ally")
_PREFIXES: Final = ("", "in", "un", "non", "mis", "re")


def _forms(keyword: str) -> set[str]:
    """The keyword's own inflections and negations: matching these is what the author meant."""
    stems = {keyword}
    if keyword.endswith("e"):
        stems.add(keyword[:-1])
    if keyword.endswith("y"):
        stems.add(keyword[:-1] + "i")
    out = {stem + s for stem in stems for s in _SUFFIXES}
    if keyword and keyword[-1].isalpha():
        out.update(keyword + keyword[-1] + s for s in ("ed", "ing", "er", "ers"))
    return {p + f for p in _PREFIXES for f in out}


#: Evidence words come from SCOWL sizes up to this one (the small-dictionary sizes)...
_COMMON_SIZE: Final = 35
#: ...except for keywords this short, where any listed word (sizes up to 50) is evidence:
#: two or three letters collide with rare words as easily as with common ones.
_SHORT_KEYWORD: Final = 3


def keyword_hazards(keywords: Iterable[str], exclude: Iterable[str] = ()) -> dict[str, list[str]]:
    """For each lowered keyword, the common English words it matches inside, commonest first.

    A word counts when it contains the keyword but is not the keyword itself, one of its
    inflections (``tests``, ``tested``, ``testing``) or negations (``untested``), nor in
    ``exclude`` (for example the other keywords of the same rule). Common means SCOWL size
    35 or less; for keywords of three characters or fewer, any size up to 50.

    >>> keyword_hazards(["test", "qa", "readme"])["test"][:3]
    ['latest', 'fastest', 'protest']
    >>> keyword_hazards(["qa", "audit"])["qa"], keyword_hazards(["audit"])["audit"][:2]
    (['burqa', 'burqas'], ['audition', 'auditory'])
    """
    wanted = {k.lower() for k in keywords if k.strip()}
    skip = {e.lower() for e in exclude}
    found = hazard_lookup(wanted)
    return {
        k: [w for w in words if w not in skip]
        for k, words in found.items()
        if any(w not in skip for w in words)
    }


def hazard_lookup(keywords: set[str]) -> dict[str, tuple[str, ...]]:
    """The hazard words of each lowered keyword that has some (the process-wide index)."""
    return _hazard_index().lookup(keywords)


class _HazardIndex:
    """Words containing each keyword, computed in one Aho-Corasick pass over the word list
    for all keywords not seen before, and remembered in a bounded LRU cache.

    The index is shared by every compilation of the process (a ``modec serve`` compiles
    from several threads), so the cache is guarded by a lock; an answer is built from the
    words computed for the call, never re-read from the cache (which may have evicted them).
    """

    #: Keywords remembered at most.
    MAXSIZE: Final = 50_000

    def __init__(self) -> None:
        self.blob, self.section_starts, self.section_sizes = _word_blob()
        self.cache: LRUCache[str, tuple[str, ...]] = LRUCache(maxsize=self.MAXSIZE)
        self.lock = threading.Lock()

    def lookup(self, keywords: set[str]) -> dict[str, tuple[str, ...]]:
        """The hazard words of each keyword that has some."""
        answer: dict[str, tuple[str, ...]] = {}
        new: list[str] = []
        with self.lock:
            for k in keywords:
                known = self.cache.get(k)
                if known is None:
                    new.append(k)
                else:
                    answer[k] = known
        if new:
            computed = self._compute(new)
            answer.update(computed)
            with self.lock:
                for k, words in computed.items():
                    self.cache[k] = words
        return {k: words for k, words in answer.items() if words}

    def _compute(self, keywords: list[str]) -> dict[str, tuple[str, ...]]:
        automaton = ahocorasick.Automaton()
        for k in keywords:
            automaton.add_word(k, k)
        automaton.make_automaton()
        found: dict[str, dict[str, int]] = {}
        blob, starts, sizes = self.blob, self.section_starts, self.section_sizes
        for end, k in automaton.iter(blob):
            # the word holding the match's last character, and its section's size
            first = blob.rfind("\n", 0, end) + 1
            word = blob[first : blob.find("\n", end)]
            found.setdefault(k, {})[word] = sizes[bisect.bisect_right(starts, first) - 1]
        return {k: self._hazards(k, found[k]) if k in found else () for k in keywords}

    def _hazards(self, keyword: str, words: dict[str, int]) -> tuple[str, ...]:
        forms = _forms(keyword)
        limit = 50 if len(keyword) <= _SHORT_KEYWORD else _COMMON_SIZE
        return tuple(
            sorted(
                (w for w, size in words.items() if w not in forms and size <= limit),
                key=lambda w: (words[w], len(w), w),
            )
        )


@functools.cache
def _hazard_index() -> _HazardIndex:
    return _HazardIndex()
