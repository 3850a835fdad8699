"""The loaded tree: :class:`YNode` (one YAML node with its place in the file), the
:class:`SourceFile` it came from, and :class:`LoadResult` (what loading produced), plus the
YAML 1.1 tags nodes resolve to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

from modec.diagnostics import Diagnostic, Span, has_errors

if TYPE_CHECKING:
    from modec.compiler.positions import ScalarSource

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


@dataclass(frozen=True, slots=True)
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
    """

    kind: Literal["map", "seq", "scalar"]
    span: Span
    tag: str
    value: object
    raw: str | None
    style: str | None
    items: tuple[tuple[YNode, YNode], ...] = ()
    children: tuple[YNode, ...] = ()
    _where: ScalarSource | None = field(default=None, repr=False, compare=False)

    def get(self, key: str) -> YNode | None:
        """The value under the scalar key whose decoded text (``raw``) is ``key``, else None.

        Keys compare by their text, whatever tag YAML 1.1 resolves them to, so ``on:`` is the
        key ``"on"``, not ``True``. Always None on scalars and sequences.
        """
        for k, v in self.items:
            if k.raw == key:
                return v
        return None

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
        if self._where is None or self.raw is None:
            return self.span
        return self._where.locate(self.raw, start, end)


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
