"""Positions between modec's spans and the Language Server Protocol's ranges.

Two line systems meet here. modec spans count YAML's line breaks (``\\n``, ``\\r\\n``, ``\\r``,
NEL, LS, PS: the loader's :class:`modec.compiler.positions.LineIndex`) with 1-based columns in
code points; LSP positions count only ``\\n``, ``\\r\\n`` and ``\\r``, 0-based, in UTF-16 code
units (the protocol's default encoding, which every client supports). Every conversion goes
through a character offset, so a span after a U+2028 still lands where the client shows it.

>>> index = LineIndex("a: 1\\nb: 'x😀y'\\n")
>>> p = index.lsp_position(2, 7)    # the 'y' after the emoji: column 7, UTF-16 character 7
>>> p.line, p.character, index.position(index.to_offset(p))
(1, 7, (2, 7))
>>> p = LineIndex("a\\u2028b: 1").lsp_position(2, 1)   # YAML line 2 is on LSP line 0
>>> p.line, p.character
(0, 2)
"""

from __future__ import annotations

import bisect
import re
from typing import Final

from lsprotocol import types as lsp

from modec.compiler.positions import LineIndex as YamlLines
from modec.diagnostics import Span

__all__ = ["LineIndex", "span_to_range"]

#: The protocol's line breaks (LSP 3.17, "Text Documents": ``\n``, ``\r\n`` and ``\r``).
_LSP_BREAK: Final = re.compile(r"\r\n|\r|\n")


def _utf16(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


class LineIndex:
    """One text's YAML lines (modec's spans) and LSP lines (the client's positions)."""

    __slots__ = ("lsp_starts", "text", "yaml")

    def __init__(self, text: str) -> None:
        self.text = text
        self.yaml = YamlLines("", text)
        self.lsp_starts = [0, *(m.end() for m in _LSP_BREAK.finditer(text))]

    def line_text(self, line: int) -> str:
        """The text of 1-based YAML ``line`` without its line break ('' past the end)."""
        starts = self.yaml.starts
        if line < 1 or line > len(starts):
            return ""
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end].rstrip("\r\n\x85\u2028\u2029")

    def offset(self, line: int, column: int) -> int:
        """The character offset of 1-based YAML ``line``/``column`` (clamped to the text)."""
        starts = self.yaml.starts
        line = min(max(line, 1), len(starts))
        return min(starts[line - 1] + max(column, 1) - 1, len(self.text))

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based YAML (line, column) of a character offset."""
        return self.yaml.position(offset)

    def lsp_at(self, offset: int) -> lsp.Position:
        """The LSP position of a character offset."""
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self.lsp_starts, offset) - 1
        start = self.lsp_starts[line]
        return lsp.Position(line=line, character=_utf16(self.text[start:offset]))

    def to_offset(self, position: lsp.Position) -> int:
        """The character offset of an LSP position (clamped to its line)."""
        line = min(max(position.line, 0), len(self.lsp_starts) - 1)
        start = self.lsp_starts[line]
        end = self.lsp_starts[line + 1] if line + 1 < len(self.lsp_starts) else len(self.text)
        units = 0
        for i in range(start, end):
            if units >= position.character or self.text[i] in "\r\n":
                return i
            units += 2 if ord(self.text[i]) > 0xFFFF else 1
        return end

    def lsp_position(self, line: int, column: int) -> lsp.Position:
        """The LSP position of 1-based YAML ``line``/``column``."""
        return self.lsp_at(self.offset(line, column))

    def range(self, span: Span) -> lsp.Range:
        """The LSP range of a span of this text."""
        return lsp.Range(
            start=self.lsp_position(span.line, span.column),
            end=self.lsp_position(span.end_line, span.end_column),
        )


def span_to_range(span: Span, text: str | None) -> lsp.Range:
    """The LSP range of ``span``; without the text, columns are taken as UTF-16 already."""
    if text is not None:
        return LineIndex(text).range(span)
    return lsp.Range(
        start=lsp.Position(line=max(span.line - 1, 0), character=max(span.column - 1, 0)),
        end=lsp.Position(line=max(span.end_line - 1, 0), character=max(span.end_column - 1, 0)),
    )
