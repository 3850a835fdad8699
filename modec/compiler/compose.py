"""Compose the located tree from PyYAML's event stream, without recursion, so that nesting
depth, alias expansion and duplicate keys are bounded and reported (MC004–MC009) instead of
exhausting the stack or memory.

The event loop is the loader's hot path (a 300-line mode is about 800 events): nodes keep
character offsets and build their :class:`~modec.diagnostics.Span` only when asked, plain
scalars resolve their tag once per distinct text, and scalars, the common event, take the
shortest branch. libyaml (``yaml.CSafeLoader``) parses when it is built in; its marks are the
pure-Python parser's, so every span is the same with either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, cast

import yaml
from yaml import events

from modec.compiler.positions import LineIndex, ScalarSource
from modec.compiler.scalars import INT_LIMIT, ScalarRangeError, construct_scalar
from modec.compiler.yaml_errors import describe_syntax_error
from modec.compiler.yamltree import (
    TAG_BOOL,
    TAG_FLOAT,
    TAG_INT,
    TAG_MAP,
    TAG_MERGE,
    TAG_NULL,
    TAG_SEQ,
    TAG_STR,
    TAG_TIMESTAMP,
    TAG_VALUE,
    YAML_TAG_PREFIX,
    YNode,
)
from modec.diagnostics import Diagnostic, Span

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_NODES", "compose"]

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

_SCALAR_TAGS: Final = frozenset({TAG_STR, TAG_INT, TAG_FLOAT, TAG_BOOL, TAG_NULL, TAG_TIMESTAMP})
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_BLOCK_STYLES: Final = frozenset({"|", ">"})


def compose(text: str, lines: LineIndex) -> tuple[YNode | None, list[Diagnostic]]:
    """The root node of ``text`` (None when no tree could be built) and the diagnostics."""
    return _Composer(text, lines).compose()


class _Abort(Exception):
    """Stops composing; carries the diagnostic that says why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class _Frame:
    """A collection being composed: its start event's facts and its children so far, with the
    size (nodes, aliases expanded), the height of the tallest child and the furthest end."""

    __slots__ = ("anchor", "end", "flow", "height", "is_map", "parts", "size", "start", "tag")

    def __init__(self, is_map: bool, tag: str, start: int, anchor: str | None, flow: bool) -> None:
        self.is_map = is_map
        self.tag = tag
        self.start = start
        self.anchor = anchor
        self.flow = flow
        self.parts: list[YNode] = []
        self.size = 1
        self.height = 0
        self.end = start

    def add(self, node: YNode, size: int, height: int, end: int) -> None:
        self.parts.append(node)
        self.size += size
        if height > self.height:
            self.height = height
        if end > self.end:
            self.end = end


@dataclass(slots=True)
class _Anchor:
    node: YNode
    size: int  # nodes in the subtree, aliases expanded
    height: int  # levels of collections, aliases expanded (a scalar is 0)
    start: int


class _Composer:
    """Builds the :class:`YNode` tree from the parser's events, without recursion."""

    def __init__(self, text: str, lines: LineIndex) -> None:
        self.text = text
        self.lines = lines
        self.diagnostics: list[Diagnostic] = []
        self.anchors: dict[str, _Anchor] = {}
        self.open_anchors: dict[str, int] = {}
        self.aliases = 0
        self.nodes = 0
        self.max_nodes: int = MAX_NODES
        self.parser = _LOADER(text)
        self.get_event = self.parser.get_event
        self.resolve = cast(_Resolve, self.parser.resolve)
        self.plain_tags: dict[str, str] = {}  # plain scalar text -> its resolved tag
        self.last: events.Event | None = None  # the last event read

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
                self.report(
                    "MC006",
                    self.point(0),
                    "file has no YAML content (empty or only comments)",
                    "a mode file needs at least a `task_orchestrator` role",
                )
                return None, self.diagnostics
            self.next_event()  # document start
            root = self.document()
            self.next_event()  # document end
            second = self.peek_event()
            if not isinstance(second, events.StreamEndEvent):
                self.report(
                    "MC008",
                    self.point(_start(second)),
                    "a mode file holds one YAML document; this starts another",
                    "remove the `---` line and what follows, or split the file",
                )
        except _Abort as stop:
            self.diagnostics.append(stop.diagnostic)
            return None, self.diagnostics
        except yaml.MarkedYAMLError as error:
            self.diagnostics.append(describe_syntax_error(error, self.lines))
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
            self.report(
                "MC006",
                root.span,
                f"document root is {what}, expected a mapping",
                "a mode file is a mapping of keys such as `task_orchestrator:`",
            )
            root = None
        return root, self.diagnostics

    def next_event(self) -> events.Event:
        try:
            event = self.get_event()
        except (ValueError, OverflowError) as error:
            raise self.bad_escape(error) from error
        if event is None:  # pragma: no cover - get_event after the stream ended
            raise self.stream_ended()
        self.last = event
        return event

    def peek_event(self) -> events.Event:
        try:
            event = self.parser.peek_event()
        except (ValueError, OverflowError) as error:
            raise self.bad_escape(error) from error
        if event is None:  # pragma: no cover - peek_event after the stream ended
            raise self.stream_ended()
        return event

    def parsed_to(self) -> int:
        """Where the last event read ends: how far the parser got."""
        return _end(self.last) if self.last is not None else 0

    def bad_escape(self, error: Exception) -> _Abort:
        # PyYAML's pure-Python scanner lets chr() fail on escapes such as "\UFFFFFFFF".
        return _Abort(
            Diagnostic.make(
                "MC004",
                self.point(self.parsed_to()),
                f"YAML syntax error: {error}",
                "the text after this point is not valid YAML (an out-of-range escape?)",
            ),
        )

    def stream_ended(self) -> _Abort:  # pragma: no cover - the parser ends documents first
        return _Abort(
            Diagnostic.make(
                "MC004",
                self.point(self.parsed_to()),
                "YAML syntax error: unexpected end of the stream",
            )
        )

    # ------------------------------------------------------------------ the event loop

    def document(self) -> YNode:
        # next_event() inlined: the parser's own get_event, and ``self.last`` set only where
        # it is read (a failing event, the end of the document).
        get_event, scalar = self.get_event, self.scalar
        scalar_event, alias_event = events.ScalarEvent, events.AliasEvent
        starts = (events.MappingStartEvent, events.SequenceStartEvent)
        ends = (events.MappingEndEvent, events.SequenceEndEvent)
        stack: list[_Frame] = []
        frame: _Frame | None = None
        # Any, not events.Event: the class test below is the type test, and cast() would be
        # a call per event on the loader's hottest path.
        event: Any = self.last
        while True:
            try:
                event = get_event()
            except (ValueError, OverflowError) as error:
                self.last = event  # the last event read before the failing one
                raise self.bad_escape(error) from error
            kind = event.__class__
            if kind is scalar_event:  # the common case, kept short: size 1, height 0
                if frame is None:
                    self.last = event
                    return scalar(event, False)
                parts = frame.parts
                node = scalar(event, frame.is_map and not len(parts) % 2)
                parts.append(node)
                frame.size += 1
                if node._end > frame.end:
                    frame.end = node._end
                continue
            if kind in starts:
                if len(stack) >= MAX_DEPTH:
                    raise self.too_deep(event)
                frame = self.open(event)
                stack.append(frame)
                continue
            if kind is alias_event:
                node, size, height = self.alias(event, len(stack))
                end = _end(event)
            elif kind in ends:
                node, size, height = self.close(stack.pop(), event)
                end = node._end
                frame = stack[-1] if stack else None
            elif event is None:  # pragma: no cover - the parser ends documents first
                raise self.stream_ended()
            else:  # pragma: no cover - the parser guarantees node events here
                raise AssertionError(f"unexpected YAML event {event!r}")
            if frame is None:
                self.last = event
                return node
            frame.add(node, size, height, end)

    def too_deep(self, event: events.Event) -> _Abort:
        return _Abort(
            Diagnostic.make(
                "MC004",
                self.point(_start(event)),
                f"collections nest deeper than {MAX_DEPTH} levels",
                "flatten the structure; mode files need only a few levels",
            )
        )

    def define(self, anchor: str, start: int) -> None:
        first = self.anchors.get(anchor)
        first_start = first.start if first is not None else self.open_anchors.get(anchor)
        if first_start is not None:
            line, _ = self.lines.position(first_start)
            self.report(
                "MC004",
                self.point(start),
                f"anchor &{anchor} is defined twice",
                f"first defined on line {line}; give each anchor its own name",
            )

    def scalar(self, event: events.ScalarEvent, is_key: bool) -> YNode:
        mark = event.start_mark
        start = mark.index if mark is not None else 0
        mark = event.end_mark
        end = mark.index if mark is not None else start
        self.nodes += 1
        if self.nodes > self.max_nodes:
            self.too_many(start, end, via_alias=False)
        anchor = event.anchor
        if anchor is not None:
            self.define(anchor, start)
        raw: str = event.value
        style = event.style or None
        if style == '"' and _SURROGATE.search(raw):  # libyaml rejects these; PyYAML does not
            raise _Abort(
                Diagnostic.make(
                    "MC004",
                    self.span(start, end),
                    "YAML syntax error: a \\u escape makes a lone UTF-16 surrogate",
                    "write the character itself, or its \\U00XXXXXX code point",
                )
            )
        tag = event.tag
        explicit = tag is not None
        if tag is None or tag == "!":
            if event.implicit[0]:  # plain: resolved from its text, once per distinct text
                tag = self.plain_tags.get(raw)
                if tag is None:
                    tag = self.plain_tags[raw] = self.resolve(yaml.ScalarNode, raw, event.implicit)
            else:  # quoted, or the non-specific tag "!"
                tag = TAG_STR
        where: ScalarSource | None = None  # made on first locate() (see YNode._where)
        span_end = end
        if style in _BLOCK_STYLES or anchor is not None or explicit:
            where = ScalarSource(self.lines, start, end, style, anchor is not None or explicit)
            if style in _BLOCK_STYLES:  # the token swallows the blank lines after it
                span_end = where.trimmed_end()
        value: object = raw
        if tag != TAG_STR:
            if tag in (TAG_VALUE, TAG_MERGE) and not (is_key and tag == TAG_MERGE):
                tag = TAG_STR  # `<<` is a merge only as a key; `=` is a string
            else:
                value = self.value_of(tag, raw, start, span_end, bool(event.tag))
        node = YNode(
            "scalar", None, tag, value, raw, style, (), (), where, self.lines, start, span_end
        )
        if anchor is not None:
            self.anchors[anchor] = _Anchor(node, 1, 0, start)
        return node

    def value_of(self, tag: str, raw: str, start: int, end: int, explicit: bool) -> object:
        """The scalar's value; a number out of range or a value its tag cannot read is
        reported (MC104, MC009) and read as None or as its text."""
        if tag in _SCALAR_TAGS:
            try:
                return construct_scalar(tag, raw)
            except ScalarRangeError:
                self.report(
                    "MC104",
                    self.span(start, end),
                    f"the number {_quoted(raw)} is out of range",
                    f"integers must fit in 64 bits ({-INT_LIMIT:,} to {INT_LIMIT - 1:,}) and "
                    "decimals must be finite; quote the value to keep it as text",
                )
                return None
            except ValueError:
                self.report(
                    "MC009",
                    self.span(start, end),
                    f"{_quoted(raw)} cannot be read as {_short_tag(tag)}",
                    "remove the tag or fix the value"
                    if explicit
                    else "quote the value to keep it as text",
                )
                return raw
        if tag != TAG_MERGE:
            self.report(
                "MC009",
                self.span(start, end),
                f"unsupported YAML tag {_short_tag(tag)}",
                "mode files use plain strings, numbers, booleans, lists and mappings",
            )
        return raw

    def too_many(self, start: int, end: int, via_alias: bool) -> None:
        span = self.span(start, end)
        if via_alias:
            raise _Abort(
                Diagnostic.make(
                    "MC007",
                    span,
                    f"aliases expand the document past {MAX_NODES:,} nodes",
                    'aliases of aliases grow exponentially (a "billion laughs" document)',
                )
            )
        raise _Abort(
            Diagnostic.make(
                "MC007",
                span,
                f"the document has more than {MAX_NODES:,} nodes",
                "a mode file needs a few thousand at most; split it or generate less",
            )
        )

    def alias(self, event: events.AliasEvent, depth: int) -> tuple[YNode, int, int]:
        name = event.anchor or ""
        start, end = _start(event), _end(event)
        anchored = self.anchors.get(name)
        if anchored is None:
            if name in self.open_anchors:
                raise _Abort(
                    Diagnostic.make(
                        "MC007",
                        self.span(start, end),
                        f"alias *{name} refers to the node that contains it (a recursive alias)",
                        "an alias may only refer to a node that is complete before it",
                    )
                )
            raise _Abort(
                Diagnostic.make(
                    "MC004",
                    self.span(start, end),
                    f"alias *{name} refers to no anchor &{name}",
                    "define the anchor (&name) before using the alias (*name)",
                )
            )
        self.aliases += 1
        self.nodes += anchored.size
        if self.nodes > self.max_nodes:
            self.too_many(start, end, via_alias=True)
        if self.aliases > MAX_ALIASES:
            raise _Abort(
                Diagnostic.make(
                    "MC007",
                    self.span(start, end),
                    f"more than {MAX_ALIASES:,} aliases in one file",
                    "write the values out, or share them with `extends`",
                )
            )
        if depth + anchored.height > MAX_DEPTH:
            raise _Abort(
                Diagnostic.make(
                    "MC004",
                    self.span(start, end),
                    f"alias *{name} makes collections nest deeper than {MAX_DEPTH} levels",
                )
            )
        return anchored.node, anchored.size, anchored.height

    def open(self, event: events.CollectionStartEvent) -> _Frame:
        start = _start(event)
        self.nodes += 1
        if self.nodes > self.max_nodes:
            self.too_many(start, start + 1, via_alias=False)
        anchor = event.anchor
        if anchor is not None:
            self.define(anchor, start)
            self.open_anchors.setdefault(anchor, start)
        is_map = event.__class__ is events.MappingStartEvent
        tag = event.tag
        if not tag or tag == "!":
            tag = TAG_MAP if is_map else TAG_SEQ
        return _Frame(is_map, tag, start, anchor, bool(event.flow_style))

    def close(self, frame: _Frame, event: events.Event) -> tuple[YNode, int, int]:
        parts = frame.parts
        end = _end(event) if frame.flow or not parts else frame.end
        if frame.tag != (TAG_MAP if frame.is_map else TAG_SEQ):
            self.report(
                "MC009",
                self.span(frame.start, end),
                f"unsupported YAML tag {_short_tag(frame.tag)}",
                "mode files use plain strings, numbers, booleans, lists and mappings",
            )
        if frame.is_map:
            items = self.entries(parts)
            node = YNode(
                "map",
                None,
                frame.tag,
                None,
                None,
                None,
                items,
                (),
                None,
                self.lines,
                frame.start,
                end,
            )
        else:
            node = YNode(
                "seq",
                None,
                frame.tag,
                None,
                None,
                None,
                (),
                tuple(parts),
                None,
                self.lines,
                frame.start,
                end,
            )
        height = frame.height + 1
        anchor = frame.anchor
        if anchor is not None:
            self.open_anchors.pop(anchor, None)
            self.anchors[anchor] = _Anchor(node, frame.size, height, frame.start)
        return node, frame.size, height

    def entries(self, parts: list[YNode]) -> tuple[tuple[YNode, YNode], ...]:
        """Map entries in file order: duplicates dropped (MC005), merge keys expanded."""
        seen: dict[str, YNode] = {}
        slots: list[tuple[YNode, YNode] | list[tuple[YNode, YNode]]] = []
        merges = False
        pairs = iter(parts)
        for key, value in zip(pairs, pairs, strict=False):
            raw = key.raw
            if raw is None or key.kind != "scalar":
                self.report(
                    "MC009",
                    key.span,
                    "mapping keys must be scalars, not a "
                    + ("mapping" if key.kind == "map" else "sequence"),
                    "use a plain string as the key",
                )
                continue
            if key.tag == TAG_MERGE:
                slots.append(self.merged(value))
                merges = True
                continue
            first = seen.get(raw)
            if first is not None:
                self.report(
                    "MC005",
                    key.span,
                    f"duplicate key {_quoted(raw)}",
                    f"first defined on line {first.span.line}; remove one of them",
                )
                continue
            seen[raw] = key
            slots.append((key, value))
        if not merges:
            return tuple(cast("list[tuple[YNode, YNode]]", slots))  # a string: no alias built
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
                    self.report(
                        "MC009", child.span, "a merge key (<<) list may hold only mappings", hint
                    )
            return out
        self.report(
            "MC009", value.span, "a merge key (<<) needs a mapping or a list of mappings", hint
        )
        return []


def _start(event: events.Event) -> int:
    return event.start_mark.index if event.start_mark is not None else 0


def _end(event: events.Event) -> int:
    return event.end_mark.index if event.end_mark is not None else _start(event)


def _quoted(raw: str, limit: int = 40) -> str:
    return repr(raw if len(raw) <= limit else raw[: limit - 1] + "…")


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(YAML_TAG_PREFIX) if tag.startswith(YAML_TAG_PREFIX) else tag
