"""Positions in a mode file: character offsets → 1-based lines and columns, and the exact
file span of any range of a scalar's decoded text (:meth:`YNode.locate
<modec.compiler.yamltree.YNode.locate>`).

Columns count Unicode code points (not bytes, not display cells; a tab is one column). Lines
break where YAML breaks them (YAML 1.1 §5.4, as PyYAML reads it): ``\\n``, ``\\r\\n`` (one
break), ``\\r``, and also NEL (U+0085), LS (U+2028) and PS (U+2029), which YAML 1.1 counts as
line breaks. Vertical tab, form feed and the other characters :meth:`str.splitlines` breaks at
are not line breaks (the loader refuses them as control characters), so use
:func:`split_lines`, never ``str.splitlines()``, to find the text of a span's line.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Final

from modec.diagnostics import Span

__all__ = ["BREAKS", "LineIndex", "OffsetMap", "ScalarSource", "split_lines"]

#: YAML line breaks, as one character each (``\\r\\n`` is ``\\r`` then ``\\n``).
BREAKS: Final = "\r\n\x85\u2028\u2029"
_LINE_BREAK: Final = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_NOT_LF_BREAK: Final = re.compile("[\r\x85\u2028\u2029]")
# What makes a scalar's decoded text differ from its source slice, by style.
_PLAIN_SPECIAL: Final = re.compile("[\r\n\x85\u2028\u2029]|[ \t]$")
_SINGLE_SPECIAL: Final = re.compile("['\r\n\x85\u2028\u2029]")
_DOUBLE_SPECIAL: Final = re.compile("[\\\\\r\n\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """``text`` split at YAML line breaks (breaks dropped): line ``n`` of a span is
    ``split_lines(text)[n - 1]``.

    >>> split_lines("a: 1\\r\\nb: '\\x0c'\\rc")
    ['a: 1', "b: '\\x0c'", 'c']
    """
    return _LINE_BREAK.split(text)


class LineIndex:
    """Maps character offsets of one text to 1-based (line, column) positions."""

    __slots__ = ("path", "starts", "text")

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.starts = _line_starts(text)

    def position(self, index: int) -> tuple[int, int]:
        index = min(max(index, 0), len(self.text))
        line = bisect.bisect_right(self.starts, index)
        return line, index - self.starts[line - 1] + 1

    def point(self, index: int) -> Span:
        """The character at ``index`` (a whole CRLF), or an empty span at the end of text."""
        index = min(max(index, 0), len(self.text))
        width = 2 if self.text.startswith("\r\n", index) else 1
        return self.span(index, min(index + width, len(self.text)))

    def span(self, start: int, end: int) -> Span:
        # The loader and the build make a span for most nodes: clamping by comparisons, not
        # min() and max() calls.
        starts, size = self.starts, len(self.text)
        index = 0 if start < 0 else size if start > size else start
        line = _bisect_right(starts, index)
        column = index - starts[line - 1] + 1
        if end < start:
            end = start
        if end > size:
            end = size
        if line == len(starts) or end < starts[line]:  # ends on the same line
            end_line, end_column = line, column + end - start
        else:
            end_line, end_column = self.position(end)
        # The model's validator on the fields (what ``Span(...)`` runs, without __init__'s
        # overhead: the loader and the build make a span for most nodes).
        return _make_span(
            {
                "file": self.path,
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
            }
        )


_make_span: Final[Callable[[dict[str, object]], Span]] = Span.__pydantic_validator__.validate_python
_bisect_right: Final = bisect.bisect_right


def _line_starts(text: str) -> list[int]:
    """The offset where each line starts; ``\\n``-only texts (the usual case) without a regex."""
    if _NOT_LF_BREAK.search(text) is None:
        return list(accumulate([len(line) + 1 for line in text.split("\n")], initial=0))[:-1]
    return [0, *(m.end() for m in _LINE_BREAK.finditer(text))]


class OffsetMap:
    """Decoded characters of a scalar with the source range [start, end) of each."""

    __slots__ = ("chars", "ends", "starts")

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []

    @classmethod
    def identity(cls, text: str, start: int) -> OffsetMap:
        """The map of ``text`` copied unchanged from the file at ``start``."""
        found = cls()
        found.chars = list(text)
        found.starts = list(range(start, start + len(text)))
        found.ends = list(range(start + 1, start + len(text) + 1))
        return found

    def add(self, chars: str, start: int, end: int) -> None:
        for char in chars:
            self.chars.append(char)
            self.starts.append(start)
            self.ends.append(end)

    def text(self) -> str:
        return "".join(self.chars)


class ScalarSource:
    """Where a scalar sits in the file; builds its offset map on the first ``locate``."""

    __slots__ = ("_map", "_tail", "end", "has_properties", "lines", "start", "style")

    def __init__(
        self, lines: LineIndex, start: int, end: int, style: str | None, has_properties: bool
    ) -> None:
        self.lines = lines
        self.start = start
        self.end = end
        self.style = style
        self.has_properties = has_properties
        self._map: OffsetMap | None = None
        self._tail = end

    def content_start(self) -> int:
        """Skip the anchor and tag (and the blanks and comments after them)."""
        text, i = self.lines.text, self.start
        if not self.has_properties:
            return i
        while i < self.end:
            ch = text[i]
            if ch in " \t" or ch in BREAKS:
                i += 1
            elif ch == "#":
                while i < self.end and text[i] not in BREAKS:
                    i += 1
            elif ch == "&" or (ch == "!" and text[i + 1 : i + 2] != "<"):
                while i < self.end and text[i] not in " \t" and text[i] not in BREAKS:
                    i += 1
            elif ch == "!":
                close = text.find(">", i, self.end)
                i = close + 1 if close >= 0 else self.end
            else:
                break
        return i

    def trimmed_end(self) -> int:
        """The end without the trailing blank lines a block scalar's token swallows."""
        text, end = self.lines.text, self.end
        floor = self.content_start() + 1
        while end > floor and (text[end - 1] in " \t" or text[end - 1] in BREAKS):
            end -= 1
        return end

    def locate(self, raw: str, start: int, end: int) -> Span:
        offsets = self._offsets(raw)
        if offsets is None:  # the re-scan disagreed with the parser: the whole content
            return self.lines.span(self.content_start(), self._tail)
        n = len(raw)
        start = min(max(start, 0), n)
        end = min(max(end, start), n)
        if start == n:
            return self.lines.span(self._tail, self._tail)
        if end == start:
            return self.lines.span(offsets.starts[start], offsets.starts[start])
        return self.lines.span(offsets.starts[start], offsets.ends[end - 1])

    def _offsets(self, raw: str) -> OffsetMap | None:
        if self._map is not None:
            return self._map
        text, begin = self.lines.text, self.content_start()
        found: OffsetMap | None = None
        try:
            if self.style in ("|", ">"):
                found = _decode_block(text, begin, self.end, self.lines, raw)
            elif self.style in ("'", '"'):
                found = _decode_quoted(text, begin, self.end, double=self.style == '"')
                self._tail = self.end - 1
            else:
                found = _decode_plain(text, begin, self.end)
        except (IndexError, ValueError, OverflowError):  # a malformed slice: the whole content
            found = None
        if found is not None and found.text() != raw:
            found = None
        if found is None:
            self._tail = self.trimmed_end() if self.style in ("|", ">") else self.end
            return None
        if self.style in ("|", ">"):
            self._tail = found.ends[-1] if found.ends else self.trimmed_end()
        self._map = found
        return found


def _break_at(text: str, i: int) -> tuple[str, int]:
    """The normalised line break at ``i`` and its length in the source."""
    if text.startswith("\r\n", i):
        return "\n", 2
    ch = text[i]
    return (ch if ch in "\u2028\u2029" else "\n"), 1


def _fold(out: OffsetMap, text: str, first: int, breaks: list[int]) -> None:
    """YAML line folding: one break is a space, n breaks are n-1 newlines."""
    norm, width = _break_at(text, first)
    if norm != "\n":
        out.add(norm, first, first + width)
    elif not breaks:
        out.add(" ", first, first + width)
    for b in breaks:
        norm_b, width_b = _break_at(text, b)
        out.add(norm_b, b, b + width_b)


def _skip_breaks(text: str, i: int, end: int, breaks: list[int]) -> int:
    """Skip blanks and line breaks from ``i``, recording each break's offset."""
    while i < end:
        ch = text[i]
        if ch in " \t":
            i += 1
        elif ch in BREAKS:
            breaks.append(i)
            i += _break_at(text, i)[1]
        else:
            break
    return i


def _decode_plain(text: str, i: int, end: int) -> OffsetMap:
    """A plain scalar's map: the slice itself when it is one line without trailing blanks."""
    if _PLAIN_SPECIAL.search(text, i, end) is None:
        return OffsetMap.identity(text[i:end], i)
    return _scan_plain(text, i, end)


def _scan_plain(text: str, i: int, end: int) -> OffsetMap:
    out = OffsetMap()
    while i < end:
        ch = text[i]
        if ch not in " \t" and ch not in BREAKS:
            out.add(ch, i, i + 1)
            i += 1
            continue
        j = i
        while j < end and text[j] in " \t":
            j += 1
        if j >= end:
            break
        if text[j] not in BREAKS:
            for k in range(i, j):
                out.add(text[k], k, k + 1)
            i = j
            continue
        first = j
        breaks: list[int] = []
        i = _skip_breaks(text, j + _break_at(text, j)[1], end, breaks)
        _fold(out, text, first, breaks)
    return out


_ESCAPES: Final = {
    "0": "\0",
    "a": "\x07",
    "b": "\x08",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES: Final = {"x": 2, "u": 4, "U": 8}


def _decode_quoted(text: str, begin: int, end: int, double: bool) -> OffsetMap:
    """A quoted scalar's map: the text inside the quotes itself when it is one line without
    escapes (``\\`` in double quotes, ``''`` in single quotes)."""
    special = _DOUBLE_SPECIAL if double else _SINGLE_SPECIAL
    if special.search(text, begin + 1, end - 1) is None:
        return OffsetMap.identity(text[begin + 1 : end - 1], begin + 1)
    return _scan_quoted(text, begin, end, double)


def _scan_quoted(text: str, begin: int, end: int, double: bool) -> OffsetMap:
    out = OffsetMap()
    i, stop = begin + 1, end - 1  # inside the quotes
    while i < stop:
        ch = text[i]
        if double and ch == "\\":
            code = text[i + 1]
            if code in _ESCAPES:
                out.add(_ESCAPES[code], i, i + 2)
                i += 2
            elif code in _HEX_ESCAPES:
                width = _HEX_ESCAPES[code]
                out.add(chr(int(text[i + 2 : i + 2 + width], 16)), i, i + 2 + width)
                i += 2 + width
            elif code in BREAKS:  # an escaped line break joins the lines
                breaks: list[int] = []
                i = _skip_breaks(text, i + 1 + _break_at(text, i + 1)[1], stop, breaks)
                for b in breaks:
                    norm, width = _break_at(text, b)
                    out.add(norm, b, b + width)
            else:
                raise ValueError(f"unknown escape \\{code}")
        elif not double and ch == "'":
            out.add("'", i, i + 2)  # '' inside single quotes
            i += 2
        elif ch in " \t" or ch in BREAKS:
            j = i
            while j < stop and text[j] in " \t":
                j += 1
            if j < stop and text[j] in BREAKS:
                first = j
                found: list[int] = []
                i = _skip_breaks(text, j + _break_at(text, j)[1], stop, found)
                _fold(out, text, first, found)
            else:
                for k in range(i, j):
                    out.add(text[k], k, k + 1)
                i = j
        else:
            out.add(ch, i, i + 1)
            i += 1
    return out


class _BlockReader:
    """A cursor with PyYAML's column rules, bounded by the scalar's end."""

    __slots__ = ("column", "end", "pos", "text")

    def __init__(self, text: str, pos: int, end: int, column: int) -> None:
        self.text, self.pos, self.end, self.column = text, pos, end, column

    def peek(self, k: int = 0) -> str:
        i = self.pos + k
        return self.text[i] if i < self.end else "\0"

    def forward(self, n: int = 1) -> None:
        for _ in range(n):
            ch = self.text[self.pos]
            self.pos += 1
            if ch in "\n\x85\u2028\u2029" or (ch == "\r" and self.peek() != "\n"):
                self.column = 0
            else:
                self.column += 1

    def line_break(self) -> tuple[str, int, int]:
        """Consume a line break: (normalised break, start, end); ('', pos, pos) if none."""
        ch, start = self.peek(), self.pos
        if ch in BREAKS:
            norm, width = _break_at(self.text, start)
            self.forward(width)
            return norm, start, self.pos
        return "", start, start

    def breaks(self, indent: int) -> list[tuple[str, int, int]]:
        found = []
        while self.column < indent and self.peek() == " ":
            self.forward()
        while self.peek() in BREAKS:
            found.append(self.line_break())
            while self.column < indent and self.peek() == " ":
                self.forward()
        return found


def _decode_block(text: str, begin: int, end: int, lines: LineIndex, raw: str) -> OffsetMap | None:
    """Re-scan a block scalar, trying the indentation PyYAML would have chosen.

    The content indentation depends on the enclosing collection, which the slice does not
    show, so candidates are tried (the natural one first) until the decoding equals ``raw``.
    """
    column = lines.position(begin)[1] - 1
    natural = _block_scalar(text, begin, end, column, None)
    if natural.text() == raw:
        return natural
    budget = 4_000_000 // max(end - begin, 1)
    for indent in range(1, min(budget, 200)):
        candidate = _block_scalar(text, begin, end, column, indent)
        if candidate.text() == raw:
            return candidate
    return None


def _block_scalar(text: str, begin: int, end: int, column: int, indent: int | None) -> OffsetMap:
    """PyYAML's ``scan_block_scalar`` over ``text[begin:end]``, recording source offsets.

    ``indent`` None means: the indentation detected from the content (or the indicator).
    """
    out = OffsetMap()
    r = _BlockReader(text, begin, end, column)
    folded = r.peek() == ">"
    r.forward()
    chomping: bool | None = None
    increment: int | None = None
    for _ in range(2):
        ch = r.peek()
        if ch in "+-" and chomping is None:
            chomping = ch == "+"
            r.forward()
        elif ch in "123456789" and increment is None:
            increment = int(ch)
            r.forward()
    while r.peek() in " \t":
        r.forward()
    if r.peek() == "#":
        while r.peek() not in "\0" + BREAKS:
            r.forward()
    r.line_break()
    if indent is None and increment is not None:
        indent = increment
    if indent is None:
        breaks: list[tuple[str, int, int]] = []
        max_indent = 0
        while r.peek() in " " + BREAKS:
            if r.peek() != " ":
                breaks.append(r.line_break())
            else:
                r.forward()
                max_indent = max(max_indent, r.column)
        indent = max(1, max_indent)
    else:
        breaks = r.breaks(indent)
    line_break: tuple[str, int, int] = ("", r.pos, r.pos)
    while r.column == indent and r.peek() != "\0":
        for b in breaks:
            out.add(*b)
        leading_non_space = r.peek() not in " \t"
        while r.peek() not in "\0" + BREAKS:
            out.add(r.peek(), r.pos, r.pos + 1)
            r.forward()
        line_break = r.line_break()
        breaks = r.breaks(indent)
        if r.column == indent and r.peek() != "\0":
            if folded and line_break[0] == "\n" and leading_non_space and r.peek() not in " \t":
                if not breaks:
                    out.add(" ", line_break[1], line_break[2])
            else:
                out.add(*line_break)
        else:
            break
    if chomping is not False and line_break[0]:
        out.add(*line_break)
    if chomping is True:
        for b in breaks:
            out.add(*b)
    return out
