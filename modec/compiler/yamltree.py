"""The loaded tree: :class:`YNode` (one YAML node with its place in the file), the
:class:`SourceFile` it came from, and :class:`LoadResult` (what loading produced), plus the
YAML 1.1 tags nodes resolve to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from modec.compiler.positions import ScalarSource
from modec.diagnostics import Diagnostic, Span, has_errors

if TYPE_CHECKING:
    from modec.compiler.positions import LineIndex

__all__ = [
    "TAG_BOOL",
    "TAG_FLOAT",
    "TAG_INT",
    "TAG_MAP",
    "TAG_MERGE",
    "TAG_NULL",
    "TAG_SEQ",
    "TAG_STR",
    "TAG_TIMESTAMP",
    "TAG_VALUE",
    "YAML_TAG_PREFIX",
    "LoadResult",
    "SourceFile",
    "YNode",
]

YAML_TAG_PREFIX: Final = "tag:yaml.org,2002:"
TAG_STR: Final = YAML_TAG_PREFIX + "str"
TAG_INT: Final = YAML_TAG_PREFIX + "int"
TAG_FLOAT: Final = YAML_TAG_PREFIX + "float"
TAG_BOOL: Final = YAML_TAG_PREFIX + "bool"
TAG_NULL: Final = YAML_TAG_PREFIX + "null"
TAG_TIMESTAMP: Final = YAML_TAG_PREFIX + "timestamp"
TAG_MAP: Final = YAML_TAG_PREFIX + "map"
TAG_SEQ: Final = YAML_TAG_PREFIX + "seq"
TAG_MERGE: Final = YAML_TAG_PREFIX + "merge"
TAG_VALUE: Final = YAML_TAG_PREFIX + "value"


@dataclass(frozen=True, slots=True)
class SourceFile:
    """The text a tree was loaded from.

    ``path`` is the display path used in every span; ``text`` is the decoded text without a
    leading byte order mark (for undecodable files, a lossy decoding with U+FFFD, so that
    diagnostics can still show a snippet); ``sha256`` is the hex digest of the raw bytes.
    """

    path: str
    text: str
    sha256: str


class YNode:
    """One YAML node with its place in the file.

    ``kind`` is ``"map"``, ``"seq"`` or ``"scalar"``; ``span`` covers the whole node, from its
    anchor or tag if it has one (for block collections, up to the end of their last entry; for
    block scalars, up to their last non-blank character). ``tag`` is the resolved tag, e.g.
    ``tag:yaml.org,2002:str``. For scalars, ``value`` is the constructed Python value (``str``,
    ``int``, ``float``, ``bool`` or ``None``; timestamps stay strings), ``raw`` the decoded
    string and ``style`` one of ``None`` (plain), ``"'"``, ``'"'``, ``"|"``, ``">"``. Maps keep
    their ``items`` in file order, with merge keys (``<<``) expanded in place; seqs keep their
    ``children``. A node reached through an alias is the anchored node itself, with its span.

    Nodes are read-only (the attributes are ``Final`` to the type checker) and compare and hash
    by ``kind``, ``span``, ``tag``, ``value``, ``raw``, ``style``, ``items`` and ``children``.
    The loader builds each ``span`` from the node's character offsets on first use (most spans
    of a file are never read), so a node it built holds the file's
    :class:`~modec.compiler.positions.LineIndex`; a node built by hand takes its ``span``.
    """

    __slots__ = (
        "_end",
        "_lines",
        "_source",
        "_span",
        "_start",
        "children",
        "items",
        "kind",
        "raw",
        "style",
        "tag",
        "value",
    )
    __match_args__ = ("kind", "span", "tag", "value", "raw", "style", "items", "children")

    kind: Final[Literal["map", "seq", "scalar"]]
    tag: Final[str]
    value: Final[object]
    raw: Final[str | None]
    style: Final[str | None]
    items: Final[tuple[tuple[YNode, YNode], ...]]
    children: Final[tuple[YNode, ...]]
    _source: ScalarSource | None
    _lines: Final[LineIndex | None]
    _start: Final[int]
    _end: Final[int]
    _span: Span | None

    def __init__(
        self,
        kind: Literal["map", "seq", "scalar"],
        span: Span | None,
        tag: str,
        value: object,
        raw: str | None,
        style: str | None,
        items: tuple[tuple[YNode, YNode], ...] = (),
        children: tuple[YNode, ...] = (),
        _where: ScalarSource | None = None,
        _lines: LineIndex | None = None,
        _start: int = 0,
        _end: int = 0,
    ) -> None:
        if span is None and _lines is None:
            raise ValueError("a YNode needs a span, or the LineIndex and offsets to build it")
        self.kind = kind
        self._span = span
        self.tag = tag
        self.value = value
        self.raw = raw
        self.style = style
        self.items = items
        self.children = children
        self._source = _where
        self._lines = _lines
        self._start = _start
        self._end = _end

    @property
    def span(self) -> Span:
        """Where the node is in the file (built from its offsets on first use, then kept)."""
        span = self._span
        if span is None:
            assert self._lines is not None
            span = self._span = self._lines.span(self._start, self._end)
        return span

    @property
    def _where(self) -> ScalarSource | None:
        """Where a scalar's text sits in the file, for :meth:`locate`; None for collections and
        nodes built by hand. The loader passes it for scalars with an anchor, a tag or a block
        style; for the others (their content starts at the node and ends with its span) it is
        made on first use."""
        source = self._source
        if source is None and self.kind == "scalar" and self._lines is not None:
            source = self._source = ScalarSource(
                self._lines, self._start, self._end, self.style, has_properties=False
            )
        return source

    def _key(self) -> tuple[object, ...]:
        return (
            self.kind,
            self.span,
            self.tag,
            self.value,
            self.raw,
            self.style,
            self.items,
            self.children,
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__ or not isinstance(other, YNode):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"YNode(kind={self.kind!r}, span={self.span!r}, tag={self.tag!r}, "
            f"value={self.value!r}, raw={self.raw!r}, style={self.style!r}, "
            f"items={self.items!r}, children={self.children!r})"
        )

    def get(self, key: str) -> YNode | None:
        """The value under the scalar key whose decoded text (``raw``) is ``key``, else None.

        Keys compare by their text, whatever tag YAML 1.1 resolves them to, so ``on:`` is the
        key ``"on"``, not ``True``. Always None on scalars and sequences.
        """
        for k, v in self.items:
            if k.raw == key:
                return v
        return None

    def locate_key(self) -> tuple[object, ...] | None:
        """A key equal for two scalars only if :meth:`locate` answers alike on both, or None.

        The key is the file's display path, the line and column where the scalar starts, its
        style, its text and its source text (with the character after it): that is all
        :meth:`locate` reads for a plain or quoted scalar without anchor or tag. Block
        scalars, scalars with properties and nodes built by hand have no key.
        """
        lines = self._lines
        if self.kind != "scalar" or self.raw is None or lines is None or self.style in ("|", ">"):
            return None
        source = self._source
        if source is not None and source.has_properties:
            return None
        line, column = lines.position(self._start)
        return (
            lines.path,
            line,
            column,
            self.style,
            self.raw,
            lines.text[self._start : self._end + 1],
        )

    def locate(self, start: int, end: int) -> Span:
        """The file span of the half-open range ``raw[start:end]`` of a scalar.

        Exact for every scalar style: plain (multi-line, folded), single-quoted (``''``),
        double-quoted (every escape, ``\\`` line continuations, folded breaks), literal and
        folded block scalars with indentation indicators and chomping, CRLF files, tabs and
        non-ASCII text; columns count code points. A character produced by an escape spans
        the whole escape; a space produced by folding a line break points at that break.
        Offsets at or past ``len(raw)`` give an empty span just after the content (at the
        closing quote of a quoted scalar). On maps, sequences and nodes built by hand, the
        node's own span.
        """
        where = self._where
        if where is None or self.raw is None:
            return self.span
        return where.locate(self.raw, start, end)


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What loading produced.

    ``source`` is None when nothing could be read (MC001, MC002). ``root`` is the document's
    mapping, or None when no mapping could be built (syntax errors, MC006, MC007); it may be
    present alongside errors such as duplicate keys (the first occurrence is kept) so that
    later checks can still run. ``diagnostics`` are sorted by position.
    """

    source: SourceFile | None
    root: YNode | None
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        """True when there is a root mapping and no error diagnostics."""
        return self.root is not None and not has_errors(self.diagnostics)
