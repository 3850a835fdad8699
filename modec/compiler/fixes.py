"""Applying the machine-applicable fixes that diagnostics carry (``modec lint --fix``).

A :class:`~modec.diagnostics.Fix` is a set of :class:`~modec.diagnostics.Edit`\\ s: replace the
text of a span (1-based line and column, end exclusive; an empty span inserts) with new text.
:func:`apply_fixes` applies the fixes of one file's diagnostics, ruff's way: in source order,
a fix whose edits overlap an already chosen edit is skipped (the next lint pass offers it
again, against the new text), and the chosen edits are applied right to left so that no edit
moves another.

Lines are counted as YAML counts them: LF, CRLF and CR end a line; a vertical tab or form
feed does not. Columns count code points.

>>> from modec.diagnostics import Diagnostic, Edit, Fix, Span
>>> fix = Fix(description="rename", edits=(Edit(span=Span(file="m.yaml", line=2, column=3,
...       end_line=2, end_column=12), new_text="priority"),))
>>> d = Diagnostic.make("MC103", fix.edits[0].span, "unknown key 'priorrity'", fix=fix)
>>> result = apply_fixes("rule:\\n  priorrity: 3\\n", [d])
>>> print(result.text, end="")
rule:
  priority: 3
>>> [a.code for a in result.applied]
['MC103']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from modec.diagnostics import Diagnostic, Fix, sort_diagnostics

__all__ = ["MAX_FIX_PASSES", "FixResult", "apply_fixes", "fixable"]

#: How many lint-and-fix passes ``modec lint --fix`` makes at most: a fix can uncover another
#: (a renamed key reveals a misspelt value below it), and a fix skipped for an overlap is
#: offered again on the next pass.
MAX_FIX_PASSES: Final = 5

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class FixResult:
    """The text with the chosen fixes applied, and the diagnostics whose fix was applied."""

    text: str
    applied: list[Diagnostic] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.applied)


class _Offsets:
    """Maps 1-based (line, column) to an index into the text, YAML line breaks only."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]
        self.ends = [m.start() for m in _LINE_BREAK.finditer(text)] + [len(text)]

    def index(self, line: int, column: int) -> int | None:
        if not 1 <= line <= len(self.starts) or column < 1:
            return None
        at = self.starts[line - 1] + column - 1
        return at if at <= self.ends[line - 1] else None


def _ranges(fix: Fix, offsets: _Offsets) -> list[tuple[int, int, str]] | None:
    out = []
    for edit in fix.edits:
        s = edit.span
        start, end = offsets.index(s.line, s.column), offsets.index(s.end_line, s.end_column)
        if start is None or end is None or end < start:
            return None  # the span does not lie in this text: never guess where it meant
        out.append((start, end, edit.new_text))
    return out


def _overlaps(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    # Two edits at the same point are ambiguous (which text comes first?), and an insertion
    # strictly inside a replaced range would be lost.
    return a[0] == b[0] or (a[0] < b[1] and b[0] < a[1])


def fixable(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics that carry a fix, in source order."""
    return [d for d in sort_diagnostics(diagnostics) if d.fix is not None and d.fix.edits]


def apply_fixes(text: str, diagnostics: Sequence[Diagnostic]) -> FixResult:
    """Apply the fixes of ``diagnostics`` (all of one file, whose content is ``text``).

    Fixes are taken in source order; one whose edits overlap an edit already chosen, or whose
    spans do not lie within ``text``, is skipped and not listed in ``applied``.
    """
    offsets = _Offsets(text)
    chosen: list[tuple[int, int, str]] = []
    applied: list[Diagnostic] = []
    for d in fixable(diagnostics):
        assert d.fix is not None
        ranges = _ranges(d.fix, offsets)
        if ranges is None:
            continue
        if any(_overlaps(r, c) for r in ranges for c in chosen):
            continue
        if any(_overlaps(r, q) for i, r in enumerate(ranges) for q in ranges[i + 1 :]):
            continue  # a fix that contradicts itself is not machine-applicable
        chosen.extend(ranges)
        applied.append(d)
    out = text
    for start, end, new_text in sorted(chosen, key=lambda r: (r[0], r[1]), reverse=True):
        out = out[:start] + new_text + out[end:]
    return FixResult(out, applied)
