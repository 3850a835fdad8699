"""The seeded workload: rules at 20, 1,000 and 10,000 keywords, and a corpus of task texts.

Every engine gets the same rows in the same order (hit policy first): the four classic builtin
rows, then generated rows of :data:`ROW_WIDTH` keywords each. The corpus is one list of texts
per length, shared by every table size: a text carries a classic keyword, a generated keyword
(of the 10,000, so smaller tables may not know it), both, or none, amid ordinary task words
with ordinary capitalisation and, now and then, non-ASCII punctuation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from modec.compiler.ir import BUILTIN_KEYWORDS

SEED: Final = 20240611
ROW_WIDTH: Final = 50
KEYWORD_COUNTS: Final = (20, 1_000, 10_000)
TEXT_LENGTHS: Final = (50, 300, 2_000)

_FILLER: Final = (
    "add",
    "the",
    "a",
    "to",
    "for",
    "of",
    "in",
    "on",
    "with",
    "and",
    "update",
    "fix",
    "refactor",
    "implement",
    "module",
    "service",
    "endpoint",
    "user",
    "data",
    "cache",
    "database",
    "query",
    "handler",
    "error",
    "logging",
    "config",
    "deploy",
    "build",
    "pipeline",
    "feature",
    "request",
    "response",
    "client",
    "server",
    "component",
    "interface",
    "migration",
    "schema",
    "button",
    "page",
    "form",
    "login",
    "session",
    "token",
    "queue",
    "worker",
    "job",
    "retry",
    "timeout",
    "API",
    "UI",
    "CLI",
    "Python",
    "React",
    "Postgres",
    "Redis",
    "JSON",
    "YAML",
    "the",
    "so",
    "that",
    "when",
    "after",
    "before",
    "new",
    "old",
    "flow",
    "list",
    "view",
    "model",
    "field",
)
_NON_ASCII: Final = ("—", "“", "”", "é", "ü", "→", "…", "ß")
_SYLLABLES: Final = tuple(
    c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")
)


@dataclass(frozen=True)
class RuleRow:
    """One row: a task type, its keywords (lowercase), its specialist."""

    name: str
    keywords: tuple[str, ...]
    specialist: str


def generated_keywords(count: int, seed: int = SEED) -> list[str]:
    """``count`` distinct pseudo-words (8–14 letters) that no classic keyword is part of."""
    rng = random.Random(seed)
    classic = [k for words in BUILTIN_KEYWORDS.values() for k in words]
    out: dict[str, None] = {}
    while len(out) < count:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(4, 6)))
        if not any(k in word for k in classic):
            out.setdefault(word, None)
    return list(out)


def rule_rows(keyword_count: int) -> list[RuleRow]:
    """The rows of the table with ``keyword_count`` keywords (the classic 20 first)."""
    rows = [
        RuleRow(name, words, f"{name.removesuffix('_tasks')}_specialist")
        for name, words in BUILTIN_KEYWORDS.items()
    ]
    extra = generated_keywords(max(KEYWORD_COUNTS) - 20)[: keyword_count - 20]
    for start in range(0, len(extra), ROW_WIDTH):
        index = start // ROW_WIDTH
        rows.append(
            RuleRow(
                f"area{index:03d}_tasks",
                tuple(extra[start : start + ROW_WIDTH]),
                f"area{index % 7}_specialist",
            )
        )
    return rows


def corpus(length: int, count: int, seed: int = SEED) -> list[str]:
    """``count`` task texts of exactly ``length`` characters (seeded)."""
    rng = random.Random(seed * 31 + length)
    classic = [k for words in BUILTIN_KEYWORDS.values() for k in words]
    universe = generated_keywords(max(KEYWORD_COUNTS) - 20)
    texts = []
    for _ in range(count):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < length + 20:
            words.append(rng.choice(_FILLER))
        if rng.random() < 0.5:
            words[0] = words[0].capitalize()
        inserts = []
        roll = rng.random()
        if roll < 0.30:
            inserts.append(rng.choice(classic))
        elif roll < 0.60:
            inserts.append(rng.choice(universe))
        elif roll < 0.70:
            inserts += [rng.choice(classic), rng.choice(universe)]
        for word in inserts:
            if rng.random() < 0.3:
                word = word.upper() if rng.random() < 0.5 else word.capitalize()
            # Place it where it survives the cut to `length`.
            position = rng.randrange(0, max(1, len(words) // 2))
            words.insert(position, word)
        if rng.random() < 0.1:
            words.insert(rng.randrange(len(words)), rng.choice(_NON_ASCII))
        text = " ".join(words)
        texts.append(text[:length])
    return texts
