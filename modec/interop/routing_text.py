"""Routing rules as the sentence an LLM router reads, and back.

``modec export`` appends one line per rule to the text each tool's own router reads (Roo's
``whenToUse``, Claude's ``description``)::

    modec routes here when: text mentions any("threat model", "stride")

so the tool's LLM and modec's router are told the same rule. ``modec import`` reads such lines
back as explicit rules (they are the author's, written by modec) and removes them from the
prose description.

>>> text = with_rules("Reviews code.", ['text mentions "review"'])
>>> print(text)
Reviews code.
<BLANKLINE>
modec routes here when: text mentions "review"
>>> split_rules(text)
('Reviews code.', ['text mentions "review"'])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

__all__ = ["MARKER", "split_rules", "with_rules"]

MARKER: Final = "modec routes here when: "
_LINE: Final = re.compile(r"^[ \t]*modec routes here when: (?P<when>.+?)[ \t]*$", re.MULTILINE)


def with_rules(description: str, conditions: Sequence[str]) -> str:
    """``description`` followed by one marker line per condition (none: unchanged)."""
    if not conditions:
        return description
    lines = "\n".join(MARKER + c for c in conditions)
    return f"{description.rstrip()}\n\n{lines}" if description.strip() else lines


def split_rules(text: str) -> tuple[str, list[str]]:
    """The description without marker lines, and the conditions they carry, in order."""
    conditions = [m.group("when") for m in _LINE.finditer(text)]
    if not conditions:
        return text, []
    return _LINE.sub("", text).strip(), conditions
