"""Load a mode file: YAML bytes → a tree of located nodes, plus diagnostics.

This is the first stage of the compiler. It never raises on bad input: every problem with the
file (unreadable, too large, not UTF-8 text, YAML syntax, duplicate keys, a non-mapping root,
alias bombs, several documents, unsupported tags) becomes a :class:`~modec.diagnostics.Diagnostic`
with codes MC001–MC009, pointing at the exact place, or at ``1:1`` for whole-file problems.

Positions are 1-based lines and columns; **columns count Unicode code points** (not bytes, not
display cells; a tab is one column), and lines are split the way :meth:`str.splitlines` splits
them (``\\r\\n`` is one break), so a span always indexes ``SourceFile.text.splitlines()``.

>>> result = load_bytes(b"mode_metadata:\\n  name: 'it''s mine'\\n", "m.yaml")
>>> result.ok
True
>>> name = result.root.get("mode_metadata").get("name")
>>> name.value, name.span.line, name.span.column
("it's mine", 2, 9)
>>> span = name.locate(3, 4)  # the "s" after the doubled quote
>>> span.line, span.column
(2, 14)

Parsing uses PyYAML's event stream: libyaml through ``yaml.CSafeLoader`` when it is built in,
else the pure-Python parser (which also rejects tabs inside plain scalars). The tree is
composed here, without recursion, so that nesting depth, alias expansion and duplicate keys
are bounded and reported instead of exhausting the stack or memory. Scalars are read with
YAML 1.1 rules, as ``yaml.safe_load`` reads them (``yes`` is true, ``0x1F`` is 31).
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal, cast

import yaml
from yaml import events

from modec.diagnostics import Diagnostic, Span, has_errors, sort_diagnostics

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "TAG_BOOL",
    "TAG_FLOAT",
    "TAG_INT",
    "TAG_MAP",
    "TAG_NULL",
    "TAG_SEQ",
    "TAG_STR",
    "TAG_TIMESTAMP",
    "LoadResult",
    "SourceFile",
    "YNode",
    "load_bytes",
    "load_path",
]

#: Files larger than this are rejected (MC002) without reading more than one byte past it.
MAX_FILE_BYTES: Final = 1 << 20
#: Deepest nesting of collections accepted (MC004), counting levels reached through aliases.
#: Mode files nest about six levels; the bound keeps every later recursive walk far from
#: Python's recursion limit.
MAX_DEPTH: Final = 100
#: Most alias references (``*name``) accepted in one file (MC007).
MAX_ALIASES: Final = 10_000
#: Most nodes in the tree, counting every alias expansion in full (MC007): a "billion laughs"
#: document stops here, and so does a flat 1 MiB list (mode files have a few thousand nodes).
MAX_NODES: Final = 100_000

_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)

_Resolve = Callable[[type[yaml.Node], str, tuple[bool, bool]], str]

_YAML: Final = "tag:yaml.org,2002:"
TAG_STR: Final = _YAML + "str"
TAG_INT: Final = _YAML + "int"
TAG_FLOAT: Final = _YAML + "float"
TAG_BOOL: Final = _YAML + "bool"
TAG_NULL: Final = _YAML + "null"
TAG_TIMESTAMP: Final = _YAML + "timestamp"
TAG_MAP: Final = _YAML + "map"
TAG_SEQ: Final = _YAML + "seq"
_TAG_MERGE: Final = _YAML + "merge"
_TAG_VALUE: Final = _YAML + "value"

_SCALAR_TAGS: Final = frozenset({TAG_STR, TAG_INT, TAG_FLOAT, TAG_BOOL, TAG_NULL, TAG_TIMESTAMP})

# Characters YAML accepts in a stream (YAML 1.1 §5.1), minus U+FEFF past the start, which
# libyaml rejects; NUL is reported separately as a sign of binary data.
_NOT_PRINTABLE: Final = re.compile(
    "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
# Line breaks exactly as str.splitlines() sees them.
_LINE_BREAK: Final = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_BREAKS: Final = "\r\n\x85\u2028\u2029"  # YAML line breaks
_FOREIGN_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


# --------------------------------------------------------------------------- public types


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


class _Lines:
    """Maps character offsets of one text to 1-based (line, column) positions."""

    __slots__ = ("path", "starts", "text")

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]

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
        line, column = self.position(start)
        end = min(max(start, end), len(self.text))
        if line == len(self.starts) or end < self.starts[line]:  # ends on the same line
            end_line, end_column = line, column + end - start
        else:
            end_line, end_column = self.position(end)
        return Span(file=self.path, line=line, column=column, end_line=end_line,
                    end_column=end_column)


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
    _where: _ScalarSource | None = field(default=None, repr=False, compare=False)

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


# --------------------------------------------------------------------------- entry points


def load_path(path: str | os.PathLike[str], display: str | None = None) -> LoadResult:
    """Read and load the file at ``path``; spans name it ``display`` (default: ``path``).

    Missing files, directories, other non-regular files and permission problems are MC001;
    files over :data:`MAX_FILE_BYTES` are MC002, found without reading past the limit.
    """
    shown = display if display is not None else os.fspath(path)
    whole = Span.point(shown, 1, 1)

    def unreadable(message: str, hint: str) -> LoadResult:
        return LoadResult(None, None, [Diagnostic.make("MC001", whole, message, hint)])

    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            return unreadable(f"{shown} is a directory, not a mode file",
                              "pass the path of a .yaml file")
        if not stat.S_ISREG(info.st_mode):
            return unreadable(f"{shown} is not a regular file", "pass the path of a .yaml file")
        if info.st_size > MAX_FILE_BYTES:
            return _too_large(shown, info.st_size)
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return unreadable(f"{shown} does not exist", "check the path and the working directory")
    except PermissionError:
        return unreadable(f"permission denied reading {shown}",
                          "check the file's permissions")
    except IsADirectoryError:
        return unreadable(f"{shown} is a directory, not a mode file",
                          "pass the path of a .yaml file")
    except OSError as error:
        return unreadable(f"cannot read {shown}: {error.strerror or error}",
                          "check that the file exists and is readable")
    return load_bytes(data, shown)


def load_bytes(data: bytes, path: str) -> LoadResult:
    """Load a mode file from its bytes; ``path`` is the display path used in spans.

    Never raises on any input: every problem is a diagnostic. A UTF-8 byte order mark is
    accepted and stripped; UTF-16/32, NUL bytes, invalid UTF-8 and control characters are
    MC003 at the first offending character.
    """
    if len(data) > MAX_FILE_BYTES:
        return _too_large(path, len(data))
    digest = hashlib.sha256(data).hexdigest()
    text, problem = _decode(data, path)
    source = SourceFile(path=path, text=text, sha256=digest)
    if problem is not None:
        return LoadResult(source, None, [problem])
    lines = _Lines(path, text)
    root, diagnostics = _Composer(text, lines).compose()
    return LoadResult(source, root, sort_diagnostics(diagnostics))


def _too_large(path: str, size: int) -> LoadResult:
    # Reading stops one byte past the limit, so then the true size is unknown.
    shown = f" ({size:,} bytes)" if size > MAX_FILE_BYTES + 1 else ""
    return LoadResult(None, None, [Diagnostic.make(
        "MC002", Span.point(path, 1, 1),
        f"file is larger than the 1 MiB ({MAX_FILE_BYTES:,}-byte) limit{shown}",
        "split the mode file, or use `extends` to share roles between smaller files",
    )])


def _decode(data: bytes, path: str) -> tuple[str, Diagnostic | None]:
    """Strict UTF-8 decoding, BOM stripped; on failure a lossy text and an MC003."""
    lossy = data.decode("utf-8", errors="replace").removeprefix("\ufeff")

    def at(char_index: int, message: str, hint: str) -> tuple[str, Diagnostic]:
        span = _Lines(path, lossy).point(char_index)
        return lossy, Diagnostic.make("MC003", span, message, hint)

    save_hint = "save the file as UTF-8 text"
    for bom, name in _FOREIGN_BOMS:
        if data.startswith(bom):
            return at(0, f"file is {name} encoded (it starts with a {name} byte order mark)",
                      save_hint)
    nul = data.find(b"\0")
    if nul >= 0:
        prefix = data[:nul].decode("utf-8", errors="replace").removeprefix("\ufeff")
        return at(len(prefix), "file contains a NUL byte: it looks like binary data, or "
                  "UTF-16/UTF-32 text without a byte order mark", save_hint)
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        prefix = data[: error.start].decode("utf-8").removeprefix("\ufeff")
        bad = data[error.start : error.start + 1].hex()
        return at(len(prefix), f"invalid UTF-8: byte 0x{bad} cannot start or continue a "
                  "character here", save_hint)
    found = _NOT_PRINTABLE.search(text)
    if found is not None:
        char = found.group()
        what = ("a byte order mark (U+FEFF) after the start of the file" if char == "\ufeff"
                else f"control character U+{ord(char):04X}")
        return at(found.start(), f"file contains {what}, which YAML does not allow",
                  "remove the character, or write it as an escape in a double-quoted string")
    return text, None


# --------------------------------------------------------------------------- composing


class _Abort(Exception):
    """Stops composing; carries the diagnostic that says why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@dataclass(slots=True)
class _Built:
    node: YNode
    size: int  # nodes in the subtree, aliases expanded
    height: int  # levels of collections, aliases expanded (a scalar is 0)
    end: int  # where this occurrence ends in the file (an alias: the alias itself)


@dataclass(slots=True)
class _Frame:
    event: events.CollectionStartEvent
    kind: Literal["map", "seq"]
    tag: str
    start: int
    parts: list[_Built] = field(default_factory=list)


@dataclass(slots=True)
class _Anchor:
    built: _Built
    start: int


class _Composer:
    """Builds the :class:`YNode` tree from the parser's events, without recursion."""

    def __init__(self, text: str, lines: _Lines) -> None:
        self.text = text
        self.lines = lines
        self.diagnostics: list[Diagnostic] = []
        self.anchors: dict[str, _Anchor] = {}
        self.open_anchors: dict[str, int] = {}
        self.aliases = 0
        self.nodes = 0
        self.parser = _LOADER(text)
        self.parsed_to = 0

    def span(self, start: int, end: int) -> Span:
        return self.lines.span(start, end)

    def point(self, index: int) -> Span:
        return self.lines.point(index)

    def report(self, code: str, span: Span, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic.make(code, span, message, hint))

    def compose(self) -> tuple[YNode | None, list[Diagnostic]]:
        root: YNode | None = None
        try:
            self.next_event()  # stream start
            if isinstance(self.peek_event(), events.StreamEndEvent):
                self.report("MC006", self.point(0),
                            "file has no YAML content (empty or only comments)",
                            "a mode file needs at least a `task_orchestrator` role")
                return None, self.diagnostics
            self.next_event()  # document start
            root = self.document()
            self.next_event()  # document end
            second = self.peek_event()
            if not isinstance(second, events.StreamEndEvent):
                self.report("MC008", self.point(_start(second)),
                            "a mode file holds one YAML document; this starts another",
                            "remove the `---` line and what follows, or split the file")
        except _Abort as stop:
            self.diagnostics.append(stop.diagnostic)
            return None, self.diagnostics
        except yaml.MarkedYAMLError as error:
            self.diagnostics.append(self.syntax_error(error))
            root = None
        except yaml.YAMLError as error:
            self.report("MC004", self.point(0), f"YAML error: {error}")
            root = None
        finally:
            self.parser.dispose()
        if root is not None and root.kind != "map":
            what = {"seq": "a sequence", "scalar": "a scalar"}[root.kind]
            if root.kind == "scalar" and root.value is None:
                what = "empty (null)"
            self.report("MC006", root.span, f"document root is {what}, expected a mapping",
                        "a mode file is a mapping of keys such as `task_orchestrator:`")
            root = None
        return root, self.diagnostics

    def next_event(self) -> events.Event:
        event = self._parse(self.parser.get_event)
        self.parsed_to = _end(event)
        return event

    def peek_event(self) -> events.Event:
        return self._parse(self.parser.peek_event)

    def _parse(self, step: Callable[[], events.Event | None]) -> events.Event:
        try:
            event = step()
        except (ValueError, OverflowError) as error:
            # PyYAML's pure-Python scanner lets chr() fail on escapes such as "\UFFFFFFFF".
            raise _Abort(Diagnostic.make(
                "MC004", self.point(self.parsed_to), f"YAML syntax error: {error}",
                "the text after this point is not valid YAML (an out-of-range escape?)"),
            ) from error
        if event is None:  # pragma: no cover - get_event after the stream ended
            raise _Abort(Diagnostic.make("MC004", self.point(self.parsed_to),
                                         "YAML syntax error: unexpected end of the stream"))
        return event

    def syntax_error(self, error: yaml.MarkedYAMLError) -> Diagnostic:
        mark = error.problem_mark or error.context_mark
        span = self.point(mark.index) if mark is not None else self.point(0)
        message = error.problem or error.context or "invalid YAML"
        hint = None
        if error.context and error.problem:
            hint = error.context
            if error.context_mark is not None:
                line, column = self.lines.position(error.context_mark.index)
                hint += f" (at {line}:{column})"
        return Diagnostic.make("MC004", span, f"YAML syntax error: {message}", hint)

    # ------------------------------------------------------------------ the event loop

    def document(self) -> YNode:
        stack: list[_Frame] = []
        while True:
            event = self.next_event()
            built: _Built
            if isinstance(event, events.ScalarEvent):
                is_key = bool(stack) and stack[-1].kind == "map" and len(stack[-1].parts) % 2 == 0
                built = self.scalar(event, is_key)
            elif isinstance(event, events.AliasEvent):
                built = self.alias(event, len(stack))
            elif isinstance(event, events.CollectionStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise _Abort(Diagnostic.make(
                        "MC004", self.point(_start(event)),
                        f"collections nest deeper than {MAX_DEPTH} levels",
                        "flatten the structure; mode files need only a few levels"))
                stack.append(self.open(event))
                continue
            elif isinstance(event, events.CollectionEndEvent):
                built = self.close(stack.pop(), event)
            else:  # pragma: no cover - the parser guarantees node events here
                raise AssertionError(f"unexpected YAML event {event!r}")
            if not stack:
                return built.node
            stack[-1].parts.append(built)

    def define(self, anchor: str | None, start: int) -> None:
        if anchor is None:
            return
        first = self.anchors.get(anchor)
        first_start = first.start if first is not None else self.open_anchors.get(anchor)
        if first_start is not None:
            line, _ = self.lines.position(first_start)
            self.report("MC004", self.point(start), f"anchor &{anchor} is defined twice",
                        f"first defined on line {line}; give each anchor its own name")

    def scalar(self, event: events.ScalarEvent, is_key: bool) -> _Built:
        start, end = _start(event), _end(event)
        self.count(1, start, end)
        self.define(event.anchor, start)
        raw: str = event.value
        style = event.style or None
        if style == '"' and _SURROGATE.search(raw):  # libyaml rejects these; PyYAML does not
            raise _Abort(Diagnostic.make(
                "MC004", self.span(start, end),
                "YAML syntax error: a \\u escape makes a lone UTF-16 surrogate",
                "write the character itself, or its \\U00XXXXXX code point"))
        tag = event.tag
        if tag is None or tag == "!":
            resolve = cast(_Resolve, self.parser.resolve)
            tag = resolve(yaml.ScalarNode, raw, event.implicit)
        if tag in (_TAG_VALUE, _TAG_MERGE) and not (is_key and tag == _TAG_MERGE):
            tag = TAG_STR
        where = _ScalarSource(self.lines, start, end, style,
                              has_properties=event.anchor is not None or event.tag is not None)
        span_end = where.trimmed_end() if style in ("|", ">") else end
        span = self.span(start, span_end)
        value: object = raw
        if tag in _SCALAR_TAGS:
            try:
                value = _construct(tag, raw)
            except ValueError:
                self.report("MC009", span,
                            f"{_quoted(raw)} cannot be read as !!{tag.removeprefix(_YAML)}",
                            "remove the tag or fix the value" if event.tag else
                            "quote the value to keep it as text")
        elif tag != _TAG_MERGE:
            self.report("MC009", span, f"unsupported YAML tag {_short_tag(tag)}",
                        "mode files use plain strings, numbers, booleans, lists and mappings")
        node = YNode("scalar", span, tag, value, raw, style, _where=where)
        built = _Built(node, 1, 0, span_end)
        if event.anchor is not None:
            self.anchors[event.anchor] = _Anchor(built, start)
        return built

    def count(self, nodes: int, start: int, end: int, via_alias: bool = False) -> None:
        self.nodes += nodes
        if self.nodes <= MAX_NODES:
            return
        span = self.span(start, end)
        if via_alias:
            raise _Abort(Diagnostic.make(
                "MC007", span, f"aliases expand the document past {MAX_NODES:,} nodes",
                "aliases of aliases grow exponentially (a \"billion laughs\" document)"))
        raise _Abort(Diagnostic.make(
            "MC007", span, f"the document has more than {MAX_NODES:,} nodes",
            "a mode file needs a few thousand at most; split it or generate less"))

    def alias(self, event: events.AliasEvent, depth: int) -> _Built:
        name = event.anchor or ""
        start, end = _start(event), _end(event)
        anchored = self.anchors.get(name)
        if anchored is None:
            if name in self.open_anchors:
                raise _Abort(Diagnostic.make(
                    "MC007", self.span(start, end),
                    f"alias *{name} refers to the node that contains it (a recursive alias)",
                    "an alias may only refer to a node that is complete before it"))
            raise _Abort(Diagnostic.make(
                "MC004", self.span(start, end), f"alias *{name} refers to no anchor &{name}",
                "define the anchor (&name) before using the alias (*name)"))
        self.aliases += 1
        self.count(anchored.built.size, start, end, via_alias=True)
        if self.aliases > MAX_ALIASES:
            raise _Abort(Diagnostic.make(
                "MC007", self.span(start, end),
                f"more than {MAX_ALIASES:,} aliases in one file",
                "write the values out, or share them with `extends`"))
        if depth + anchored.built.height > MAX_DEPTH:
            raise _Abort(Diagnostic.make(
                "MC004", self.span(start, end),
                f"alias *{name} makes collections nest deeper than {MAX_DEPTH} levels"))
        b = anchored.built
        return _Built(b.node, b.size, b.height, end)

    def open(self, event: events.CollectionStartEvent) -> _Frame:
        start = _start(event)
        self.count(1, start, start + 1)
        self.define(event.anchor, start)
        if event.anchor is not None:
            self.open_anchors.setdefault(event.anchor, start)
        kind: Literal["map", "seq"]
        if isinstance(event, events.MappingStartEvent):
            kind, default = "map", TAG_MAP
        else:
            kind, default = "seq", TAG_SEQ
        tag = event.tag if event.tag not in (None, "!") else default
        return _Frame(event, kind, tag or default, start)

    def close(self, frame: _Frame, event: events.CollectionEndEvent) -> _Built:
        start_event = frame.event
        if start_event.flow_style or not frame.parts:
            end = _end(event)
        else:
            end = max(part.end for part in frame.parts)
        span = self.span(frame.start, end)
        if frame.tag != (TAG_MAP if frame.kind == "map" else TAG_SEQ):
            self.report("MC009", span, f"unsupported YAML tag {_short_tag(frame.tag)}",
                        "mode files use plain strings, numbers, booleans, lists and mappings")
        size = 1 + sum(part.size for part in frame.parts)
        height = 1 + max((part.height for part in frame.parts), default=0)
        if frame.kind == "seq":
            node = YNode("seq", span, frame.tag, None, None, None,
                         children=tuple(part.node for part in frame.parts))
        else:
            pairs = [(frame.parts[i].node, frame.parts[i + 1].node)
                     for i in range(0, len(frame.parts) - 1, 2)]
            node = YNode("map", span, frame.tag, None, None, None, items=self.entries(pairs))
        built = _Built(node, size, height, end)
        anchor = start_event.anchor
        if anchor is not None:
            self.open_anchors.pop(anchor, None)
            self.anchors[anchor] = _Anchor(built, frame.start)
        return built

    def entries(self, pairs: list[tuple[YNode, YNode]]) -> tuple[tuple[YNode, YNode], ...]:
        """Map entries in file order: duplicates dropped (MC005), merge keys expanded."""
        seen: dict[str, YNode] = {}
        slots: list[tuple[YNode, YNode] | list[tuple[YNode, YNode]]] = []
        for key, value in pairs:
            if key.kind != "scalar" or key.raw is None:
                self.report("MC009", key.span, "mapping keys must be scalars, not a "
                            + ("mapping" if key.kind == "map" else "sequence"),
                            "use a plain string as the key")
                continue
            if key.tag == _TAG_MERGE:
                slots.append(self.merged(value))
                continue
            first = seen.get(key.raw)
            if first is not None:
                self.report("MC005", key.span, f"duplicate key {_quoted(key.raw)}",
                            f"first defined on line {first.span.line}; remove one of them")
                continue
            seen[key.raw] = key
            slots.append((key, value))
        result: list[tuple[YNode, YNode]] = []
        for slot in slots:
            if isinstance(slot, tuple):
                result.append(slot)
                continue
            for key, value in slot:
                assert key.raw is not None
                if key.raw not in seen:  # explicit keys and earlier merges win
                    seen[key.raw] = key
                    result.append((key, value))
        return tuple(result)

    def merged(self, value: YNode) -> list[tuple[YNode, YNode]]:
        hint = "write `<<: *anchor` or `<<: [*a, *b]` with anchored mappings"
        if value.kind == "map":
            return list(value.items)
        if value.kind == "seq":
            out: list[tuple[YNode, YNode]] = []
            for child in value.children:
                if child.kind == "map":
                    out.extend(child.items)
                else:
                    self.report("MC009", child.span, "a merge key (<<) list may hold only "
                                "mappings", hint)
            return out
        self.report("MC009", value.span, "a merge key (<<) needs a mapping or a list of "
                    "mappings", hint)
        return []


def _start(event: events.Event) -> int:
    return event.start_mark.index if event.start_mark is not None else 0


def _end(event: events.Event) -> int:
    return event.end_mark.index if event.end_mark is not None else _start(event)


def _quoted(raw: str, limit: int = 40) -> str:
    return repr(raw if len(raw) <= limit else raw[: limit - 1] + "…")


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_YAML) if tag.startswith(_YAML) else tag


_BOOLS: Final = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


def _construct(tag: str, raw: str) -> object:
    """The Python value of a scalar, as PyYAML's SafeConstructor reads it (YAML 1.1).

    Raises ValueError when an explicitly tagged value does not fit its tag.
    """
    if tag in (TAG_STR, TAG_TIMESTAMP):
        return raw
    if tag == TAG_NULL:
        return None
    if tag == TAG_BOOL:
        try:
            return _BOOLS[raw.lower()]
        except KeyError:
            raise ValueError(raw) from None
    text = raw.replace("_", "").lower()
    sign = -1 if text.startswith("-") else 1
    if text[:1] in "+-":
        text = text[1:]
    if not text:
        raise ValueError(raw)
    if tag == TAG_INT:
        if text == "0":
            return 0
        if text.startswith("0b"):
            return sign * int(text[2:], 2)
        if text.startswith("0x"):
            return sign * int(text[2:], 16)
        if text.startswith("0o"):
            return sign * int(text[2:], 8)
        if text[0] == "0":
            return sign * int(text, 8)
        if ":" in text:
            return sign * _sexagesimal(text, int)
        return sign * int(text)
    if text == ".inf":
        return sign * float("inf")
    if text == ".nan":
        return float("nan")
    if ":" in text:
        return sign * _sexagesimal(text, float)
    return sign * float(text)


def _sexagesimal(text: str, kind: type[int] | type[float]) -> int | float:
    total: int | float = 0
    for part in text.split(":"):
        total = total * 60 + kind(part)
    return total


# --------------------------------------------------------------------------- locating


class _OffsetMap:
    """Decoded characters of a scalar with the source range [start, end) of each."""

    __slots__ = ("chars", "ends", "starts")

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, chars: str, start: int, end: int) -> None:
        for char in chars:
            self.chars.append(char)
            self.starts.append(start)
            self.ends.append(end)

    def text(self) -> str:
        return "".join(self.chars)


class _ScalarSource:
    """Where a scalar sits in the file; builds its offset map on the first ``locate``."""

    __slots__ = ("_map", "_tail", "end", "has_properties", "lines", "start", "style")

    def __init__(self, lines: _Lines, start: int, end: int, style: str | None,
                 has_properties: bool) -> None:
        self.lines = lines
        self.start = start
        self.end = end
        self.style = style
        self.has_properties = has_properties
        self._map: _OffsetMap | None = None
        self._tail = end

    def content_start(self) -> int:
        """Skip the anchor and tag (and the blanks and comments after them)."""
        text, i = self.lines.text, self.start
        if not self.has_properties:
            return i
        while i < self.end:
            ch = text[i]
            if ch in " \t" or ch in _BREAKS:
                i += 1
            elif ch == "#":
                while i < self.end and text[i] not in _BREAKS:
                    i += 1
            elif ch == "&" or (ch == "!" and text[i + 1 : i + 2] != "<"):
                while i < self.end and text[i] not in " \t" and text[i] not in _BREAKS:
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
        while end > floor and (text[end - 1] in " \t" or text[end - 1] in _BREAKS):
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

    def _offsets(self, raw: str) -> _OffsetMap | None:
        if self._map is not None:
            return self._map
        text, begin = self.lines.text, self.content_start()
        found: _OffsetMap | None = None
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


def _fold(out: _OffsetMap, text: str, first: int, breaks: list[int]) -> None:
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
        elif ch in _BREAKS:
            breaks.append(i)
            i += _break_at(text, i)[1]
        else:
            break
    return i


def _decode_plain(text: str, i: int, end: int) -> _OffsetMap:
    out = _OffsetMap()
    while i < end:
        ch = text[i]
        if ch not in " \t" and ch not in _BREAKS:
            out.add(ch, i, i + 1)
            i += 1
            continue
        j = i
        while j < end and text[j] in " \t":
            j += 1
        if j >= end:
            break
        if text[j] not in _BREAKS:
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
    "0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "\t": "\t", "n": "\n", "v": "\x0b",
    "f": "\x0c", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\",
    "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029",
}
_HEX_ESCAPES: Final = {"x": 2, "u": 4, "U": 8}


def _decode_quoted(text: str, begin: int, end: int, double: bool) -> _OffsetMap:
    out = _OffsetMap()
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
            elif code in _BREAKS:  # an escaped line break joins the lines
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
        elif ch in " \t" or ch in _BREAKS:
            j = i
            while j < stop and text[j] in " \t":
                j += 1
            if j < stop and text[j] in _BREAKS:
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
        if ch in _BREAKS:
            norm, width = _break_at(self.text, start)
            self.forward(width)
            return norm, start, self.pos
        return "", start, start

    def breaks(self, indent: int) -> list[tuple[str, int, int]]:
        found = []
        while self.column < indent and self.peek() == " ":
            self.forward()
        while self.peek() in _BREAKS:
            found.append(self.line_break())
            while self.column < indent and self.peek() == " ":
                self.forward()
        return found


def _decode_block(text: str, begin: int, end: int, lines: _Lines, raw: str) -> _OffsetMap | None:
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


def _block_scalar(text: str, begin: int, end: int, column: int, indent: int | None) -> _OffsetMap:
    """PyYAML's ``scan_block_scalar`` over ``text[begin:end]``, recording source offsets.

    ``indent`` None means: the indentation detected from the content (or the indicator).
    """
    out = _OffsetMap()
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
        while r.peek() not in "\0" + _BREAKS:
            r.forward()
    r.line_break()
    if indent is None and increment is not None:
        indent = increment
    if indent is None:
        breaks: list[tuple[str, int, int]] = []
        max_indent = 0
        while r.peek() in " " + _BREAKS:
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
        while r.peek() not in "\0" + _BREAKS:
            out.add(r.peek(), r.pos, r.pos + 1)
            r.forward()
        line_break = r.line_break()
        breaks = r.breaks(indent)
        if r.column == indent and r.peek() != "\0":
            if (folded and line_break[0] == "\n" and leading_non_space
                    and r.peek() not in " \t"):
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
