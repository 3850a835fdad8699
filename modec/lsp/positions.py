"""Positions between modec's spans and the Language Server Protocol's ranges.

modec spans are 1-based lines and columns counted in code points, end exclusive; LSP ranges
are 0-based lines and characters counted in UTF-16 code units (the protocol's default
encoding, which every client supports). :class:`LineIndex` converts both ways for one text.

>>> index = LineIndex("a: 1\\nb: 'x😀y'\\n")
>>> index.utf16_column(2, 7)        # the 'y' after the emoji: column 7, UTF-16 character 7
7
>>> index.utf16_column(2, 6)        # the emoji itself: column 6, UTF-16 character 5
5
>>> index.codepoint_column(2, 7)
7
>>> index.offset(2, 1), index.position(5)
(5, (2, 1))
"""

from __future__ import annotations

import bisect
import re
from typing import Final

from lsprotocol import types as lsp

from modec.diagnostics import Span

__all__ = ["LineIndex", "span_to_range"]

# YAML's line breaks (the same set modec's loader counts).
_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")


class LineIndex:
    """Line starts of one text, for offset ↔ (line, column) ↔ LSP position conversions."""

    __slots__ = ("starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its line break ('' past the end)."""
        if line < 1 or line > len(self.starts):
            return ""
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def offset(self, line: int, column: int) -> int:
        """The character offset of 1-based ``line``/``column`` (clamped to the text)."""
        line = min(max(line, 1), len(self.starts))
        start = self.starts[line - 1]
        return min(start + max(column, 1) - 1, len(self.text))

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset."""
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def utf16_column(self, line: int, column: int) -> int:
        """The 0-based UTF-16 character of 1-based code-point ``column`` on ``line``."""
        prefix = self.line_text(line)[: max(column - 1, 0)]
        return len(prefix) + sum(1 for ch in prefix if ord(ch) > 0xFFFF)

    def codepoint_column(self, line: int, character: int) -> int:
        """The 1-based code-point column of the 0-based UTF-16 ``character`` on ``line``."""
        units = 0
        for i, ch in enumerate(self.line_text(line)):
            if units >= character:
                return i + 1
            units += 2 if ord(ch) > 0xFFFF else 1
        return len(self.line_text(line)) + 1

    def to_offset(self, position: lsp.Position) -> int:
        """The character offset of an LSP position."""
        line = position.line + 1
        return self.offset(line, self.codepoint_column(line, position.character))

    def lsp_position(self, line: int, column: int) -> lsp.Position:
        return lsp.Position(line=max(line - 1, 0), character=self.utf16_column(line, column))

    def range(self, span: Span) -> lsp.Range:
        """The LSP range of a span of this text."""
        return lsp.Range(
            start=self.lsp_position(span.line, span.column),
            end=self.lsp_position(span.end_line, span.end_column),
        )

    def range_of_offsets(self, start: int, end: int) -> lsp.Range:
        a, b = self.position(start), self.position(end)
        return lsp.Range(start=self.lsp_position(*a), end=self.lsp_position(*b))


def span_to_range(span: Span, text: str | None) -> lsp.Range:
    """The LSP range of ``span``; without the text, columns are taken as UTF-16 already."""
    if text is not None:
        return LineIndex(text).range(span)
    return lsp.Range(
        start=lsp.Position(line=max(span.line - 1, 0), character=max(span.column - 1, 0)),
        end=lsp.Position(line=max(span.end_line - 1, 0), character=max(span.end_column - 1, 0)),
    )
