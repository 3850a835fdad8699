"""Routing rules as the sentences an LLM router reads, and back.

``modec export`` appends one line per rule to the text each tool's own router reads (Roo's
``whenToUse``, Claude's ``description``), and one line to the default specialist's::

    modec routes here (priority 2) when: text mentions any("threat model", "stride")
    modec routes here when no other rule matches.

so the tool's LLM and modec's router are told the same rules, in the same order (the
priority keeps modec's row order). ``modec import`` reads such lines back as explicit rules
(they are the author's, written by modec) and removes them from the prose description.

>>> text = with_rules("Reviews code.", [('text mentions "review"', 0)], default=True)
>>> print(text)
Reviews code.
<BLANKLINE>
modec routes here when: text mentions "review"
modec routes here when no other rule matches.
>>> split_rules(text)
('Reviews code.', Routing(conditions=[('text mentions "review"', 0)], default=True))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

__all__ = ["DEFAULT_LINE", "Routing", "rule_line", "split_rules", "with_rules"]

DEFAULT_LINE: Final = "modec routes here when no other rule matches."
_LINE: Final = re.compile(
    r"^[ \t]*modec routes here(?: \(priority (?P<priority>-?\d{1,9})\))? when: "
    r"(?P<when>.+?)[ \t]*$",
    re.MULTILINE,
)
_DEFAULT: Final = re.compile(r"^[ \t]*" + re.escape(DEFAULT_LINE) + r"[ \t]*$", re.MULTILINE)


@dataclass
class Routing:
    """What the marker lines of one text say: conditions (with priority), and whether the
    role is the default specialist."""

    conditions: list[tuple[str, int]] = field(default_factory=list)
    default: bool = False


def rule_line(condition: str, priority: int = 0) -> str:
    """The sentence for one rule."""
    at = f" (priority {priority})" if priority else ""
    return f"modec routes here{at} when: {condition}"


def with_rules(
    description: str, conditions: Sequence[tuple[str, int]], default: bool = False
) -> str:
    """``description`` followed by one marker line per condition (none: unchanged)."""
    lines = [rule_line(c, p) for c, p in conditions]
    if default:
        lines.append(DEFAULT_LINE)
    if not lines:
        return description
    block = "\n".join(lines)
    return f"{description.rstrip()}\n\n{block}" if description.strip() else block


def split_rules(text: str) -> tuple[str, Routing]:
    """The description without marker lines, and what they carry, in order."""
    routing = Routing(
        [(m.group("when"), int(m.group("priority") or 0)) for m in _LINE.finditer(text)],
        _DEFAULT.search(text) is not None,
    )
    if not routing.conditions and not routing.default:
        return text, routing
    return _DEFAULT.sub("", _LINE.sub("", text)).strip(), routing
