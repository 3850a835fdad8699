"""Compose the located tree from PyYAML's event stream, without recursion, so that nesting
depth, alias expansion and duplicate keys are bounded and reported (MC004–MC009) instead of
exhausting the stack or memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Literal, cast

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


def compose(text: str, lines: LineIndex) -> tuple[YNode | None, list[Diagnostic]]:
    """The root node of ``text`` (None when no tree could be built) and the diagnostics."""
    return _Composer(text, lines).compose()


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

    def __init__(self, text: str, lines: LineIndex) -> None:
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
            raise _Abort(
                Diagnostic.make(
                    "MC004",
                    self.point(self.parsed_to),
                    f"YAML syntax error: {error}",
                    "the text after this point is not valid YAML (an out-of-range escape?)",
                ),
            ) from error
        if event is None:  # pragma: no cover - get_event after the stream ended
            raise _Abort(
                Diagnostic.make(
                    "MC004",
                    self.point(self.parsed_to),
                    "YAML syntax error: unexpected end of the stream",
                )
            )
        return event

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
                    raise _Abort(
                        Diagnostic.make(
                            "MC004",
                            self.point(_start(event)),
                            f"collections nest deeper than {MAX_DEPTH} levels",
                            "flatten the structure; mode files need only a few levels",
                        )
                    )
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
            self.report(
                "MC004",
                self.point(start),
                f"anchor &{anchor} is defined twice",
                f"first defined on line {line}; give each anchor its own name",
            )

    def scalar(self, event: events.ScalarEvent, is_key: bool) -> _Built:
        start, end = _start(event), _end(event)
        self.count(1, start, end)
        self.define(event.anchor, start)
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
        if tag is None or tag == "!":
            resolve = cast(_Resolve, self.parser.resolve)
            tag = resolve(yaml.ScalarNode, raw, event.implicit)
        if tag in (TAG_VALUE, TAG_MERGE) and not (is_key and tag == TAG_MERGE):
            tag = TAG_STR
        where = ScalarSource(
            self.lines,
            start,
            end,
            style,
            has_properties=event.anchor is not None or event.tag is not None,
        )
        span_end = where.trimmed_end() if style in ("|", ">") else end
        span = self.span(start, span_end)
        value: object = raw
        if tag in _SCALAR_TAGS:
            try:
                value = construct_scalar(tag, raw)
            except ScalarRangeError:
                value = None
                self.report(
                    "MC104",
                    span,
                    f"the number {_quoted(raw)} is out of range",
                    f"integers must fit in 64 bits ({-INT_LIMIT:,} to {INT_LIMIT - 1:,}) and "
                    "decimals must be finite; quote the value to keep it as text",
                )
            except ValueError:
                self.report(
                    "MC009",
                    span,
                    f"{_quoted(raw)} cannot be read as {_short_tag(tag)}",
                    "remove the tag or fix the value"
                    if event.tag
                    else "quote the value to keep it as text",
                )
        elif tag != TAG_MERGE:
            self.report(
                "MC009",
                span,
                f"unsupported YAML tag {_short_tag(tag)}",
                "mode files use plain strings, numbers, booleans, lists and mappings",
            )
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

    def alias(self, event: events.AliasEvent, depth: int) -> _Built:
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
        self.count(anchored.built.size, start, end, via_alias=True)
        if self.aliases > MAX_ALIASES:
            raise _Abort(
                Diagnostic.make(
                    "MC007",
                    self.span(start, end),
                    f"more than {MAX_ALIASES:,} aliases in one file",
                    "write the values out, or share them with `extends`",
                )
            )
        if depth + anchored.built.height > MAX_DEPTH:
            raise _Abort(
                Diagnostic.make(
                    "MC004",
                    self.span(start, end),
                    f"alias *{name} makes collections nest deeper than {MAX_DEPTH} levels",
                )
            )
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
            self.report(
                "MC009",
                span,
                f"unsupported YAML tag {_short_tag(frame.tag)}",
                "mode files use plain strings, numbers, booleans, lists and mappings",
            )
        size = 1 + sum(part.size for part in frame.parts)
        height = 1 + max((part.height for part in frame.parts), default=0)
        if frame.kind == "seq":
            node = YNode(
                "seq",
                span,
                frame.tag,
                None,
                None,
                None,
                children=tuple(part.node for part in frame.parts),
            )
        else:
            pairs = [
                (frame.parts[i].node, frame.parts[i + 1].node)
                for i in range(0, len(frame.parts) - 1, 2)
            ]
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
                continue
            first = seen.get(key.raw)
            if first is not None:
                self.report(
                    "MC005",
                    key.span,
                    f"duplicate key {_quoted(key.raw)}",
                    f"first defined on line {first.span.line}; remove one of them",
                )
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
