"""Opt-in keyword rules derived from descriptions (``modec import --derive-keywords``).

These are heuristics, not signals the author gave: each is marked (``x_heuristic: true`` and a
comment), sits at the lowest priority (:data:`HEURISTIC_PRIORITY`) below every explicit rule,
and is measured. For each role, the words of its description that no other role's
description uses (stop words and words under four letters left out) become
``text mentions any(...)``; the role's *other* text — the sentences of its prompt, never used
for deriving — is held apart, and ``modec import`` routes each held-apart sentence through the
compiled mode and prints how many reach the role.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Final

from modec.diagnostics import Diagnostic
from modec.grammar.printer import format_string
from modec.interop.document import Document
from modec.interop.model import ForeignRule, Harvest

__all__ = ["HEURISTIC_PRIORITY", "MAX_KEYWORDS", "derive_rules", "held_apart_sentences"]

HEURISTIC_PRIORITY: Final = -100
MAX_KEYWORDS: Final = 6
MAX_HELD_APART: Final = 20
_WORD: Final = re.compile(r"[a-z][a-z0-9]+(?:-[a-z0-9]+)*")
_STOP: Final = frozenset(
    re.findall(
        r"\w+",
        """
additional already applying begin begins behind check complex context create creation
details file files fixed fixes implement implemented implementing initial issue issues manage
necessary preparing provided request requests simply start step steps specific support
about above across after again against agent agents all also always among and another any are
around assist assistant based because been before being below best between both build can code
could does doing done during each either else ensure every expert expertise few first focus
focused following for from full get gets give given good great has have help helps here high
how ideal including into its just keep like make makes making many may mode modes more most
must need needs new not now only other others over own part perfect perform project provide
provides rather really role same should since skilled some specialist specialized specializing
such task tasks than that the their them then there these they thing things this those through
under until upon use used uses using very want well were what when where which while who whole
why will with within without work works would write you your yours
""",
    )
)
_SENTENCE: Final = re.compile(r"(?<=[.!?])\s+|\n+")


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if len(w) >= 4 and w not in _STOP]


def held_apart_sentences(prompt: str) -> list[str]:
    """Sentences of a role's prompt with at least five words (the held-apart text)."""
    out = []
    for part in _SENTENCE.split(prompt):
        clean = " ".join(part.strip(" #*-`>").split())
        if len(clean.split()) >= 5:
            out.append(clean)
        if len(out) >= MAX_HELD_APART:
            break
    return out


def derive_rules(
    harvest: Harvest, doc: Document
) -> tuple[list[ForeignRule], dict[str, list[str]], list[Diagnostic]]:
    """Heuristic rules for every specialist, the held-apart texts (by modec name), notes."""
    roles = [(name, role) for name, role in doc.roles if name != doc.default_specialist]
    counts = {name: Counter(_words(role.description)) for name, role in roles}
    seen_in = Counter(w for c in counts.values() for w in c)
    rules: list[ForeignRule] = []
    held: dict[str, list[str]] = {}
    notes: list[Diagnostic] = []
    for name, role in roles:
        own = [
            w
            for w, _ in sorted(counts[name].items(), key=lambda kv: (-kv[1], kv[0]))
            if seen_in[w] == 1
        ][:MAX_KEYWORDS]
        if not own:
            notes.append(
                Diagnostic.make(
                    "MC712",
                    role.span,
                    f"no keyword could be derived for {name!r}: its "
                    "description shares every word with another role's",
                )
            )
            continue
        atoms = ", ".join(format_string(w) for w in own)
        rules.append(
            ForeignRule(
                f"{name}_derived",
                role.name,
                f"text mentions any({atoms})",
                role.span,
                f"derived from the description of {role.name!r}, not written by its author",
                priority=HEURISTIC_PRIORITY,
                heuristic=True,
            )
        )
        held[name] = held_apart_sentences(role.prompt)
    return rules, held, notes
