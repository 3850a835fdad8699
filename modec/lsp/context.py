"""Where the cursor is in a mode file, read from the text alone.

Completion runs while the author types, when the buffer is often not valid YAML, so the
cursor's place is found from indentation, the way a person reads a block-style YAML file:
the keys above the cursor with less indentation are its parents. ``-`` stands for a sequence
item in a path.

>>> text = "task_routing_rules:\\n  bug_tasks:\\n    required_specialist: imp"
>>> c = cursor_context(text, 3, len("    required_specialist: imp") + 1)
>>> c.path, c.key, c.partial, c.in_value
(('task_routing_rules', 'bug_tasks'), 'required_specialist', 'imp', True)
>>> c = cursor_context("tests:\\n  - task: x\\n    exp", 3, 8)
>>> c.path, c.partial, c.in_value
(('tests', '-'), 'exp', False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from modec.lsp.positions import LineIndex

__all__ = ["CursorContext", "cursor_context"]

_KEY_LINE: Final = re.compile(
    r"^(?P<indent>\s*)(?P<dash>(?:-\s+)*)(?P<key>[^\s:#\-\[\]{}'\"][^:#]*?)\s*:(?:\s+|$)(?P<rest>.*)$"
)
_DASH_ONLY: Final = re.compile(r"^(?P<indent>\s*)(?P<dash>(?:-\s*)+)(?P<rest>.*)$")
_PARTIAL_KEY: Final = re.compile(r"^(?P<indent>\s*)(?P<dash>(?:-\s+)*)(?P<word>[\w.\-]*)$")


@dataclass(frozen=True)
class CursorContext:
    """The cursor's place: ``path`` of parent keys, and what is being typed.

    ``in_value`` is False when a key is being typed (``partial`` is its beginning), True when
    the value of ``key`` is (``partial`` is the value's text before the cursor, for flow
    lists the current element). ``block_key`` names the key of a block scalar (``when: >``)
    the cursor is inside, with ``partial`` its text on this line before the cursor.
    """

    path: tuple[str, ...]
    key: str | None
    partial: str
    in_value: bool
    block_key: str | None = None

    @property
    def full_path(self) -> tuple[str, ...]:
        return (*self.path, self.key) if self.key is not None else self.path


def _indent_of(line: str) -> tuple[int, bool, str | None, str]:
    """(indentation of the line's content, is a key line, key, rest) — dashes count as indent."""
    m = _KEY_LINE.match(line)
    if m:
        indent = len(m["indent"]) + len(m["dash"])
        return indent, True, m["key"].strip(), m["rest"]
    m2 = _DASH_ONLY.match(line)
    if m2:
        return len(m2["indent"]) + len(m2["dash"]), False, None, m2["rest"]
    return len(line) - len(line.lstrip()), False, None, line.strip()


def _parents(index: LineIndex, line: int, indent: int) -> list[str]:
    """Parent keys of a line whose content starts at ``indent``, nearest last."""
    path: list[str] = []
    current = indent
    for above in range(line - 1, 0, -1):
        text = index.line_text(above)
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        own, is_key, key, _ = _indent_of(text)
        m = _KEY_LINE.match(text) or _DASH_ONLY.match(text)
        dash = m["dash"] if m else ""
        dash_at = len(m["indent"]) if m and dash else None
        if is_key and own < current and key is not None:
            path.append(key)
            current = own
        if dash and dash_at is not None and dash_at < current:
            path.append("-")
            current = dash_at
        if current == 0:
            break
    path.reverse()
    return path


def cursor_context(text: str, line: int, column: int) -> CursorContext:
    """The context of the 1-based ``line``/``column`` (code points) in ``text``."""
    index = LineIndex(text)
    prefix = index.line_text(line)[: max(column - 1, 0)]
    m = _KEY_LINE.match(prefix)
    if m:
        indent = len(m["indent"]) + len(m["dash"])
        path = _parents(index, line, indent)
        if m["dash"]:
            path.append("-")
        rest = m["rest"]
        flow = max(rest.rfind("["), rest.rfind(","))
        partial = rest[flow + 1 :].strip() if flow >= 0 else rest
        return CursorContext(tuple(path), m["key"].strip(), partial, True)
    m3 = _PARTIAL_KEY.match(prefix)
    if m3:
        indent = len(m3["indent"]) + len(m3["dash"])
        path = _parents(index, line, indent)
        block = _block_scalar_key(index, line, indent)
        if block is not None:
            return CursorContext(tuple(path[:-1]), None, prefix.lstrip(), True, block_key=block)
        if m3["dash"]:
            # `- name` under a key: a list element (a value) of the parent key.
            key = path[-1] if path else None
            return CursorContext(tuple(path[:-1]), key, m3["word"], True)
        return CursorContext(tuple(path), None, m3["word"], False)
    indent = len(prefix) - len(prefix.lstrip())
    block = _block_scalar_key(index, line, indent)
    path = _parents(index, line, indent)
    if block is not None:
        return CursorContext(tuple(path[:-1]), None, prefix.lstrip(), True, block_key=block)
    m4 = _DASH_ONLY.match(prefix)
    if m4:
        key = path[-1] if path else None
        return CursorContext(tuple(path[:-1]), key, m4["rest"], True)
    return CursorContext(tuple(path), None, prefix.strip(), False)


def _block_scalar_key(index: LineIndex, line: int, indent: int) -> str | None:
    """The key of a block or multi-line scalar (``when: >``) that contains this line."""
    for above in range(line - 1, 0, -1):
        text = index.line_text(above)
        if not text.strip():
            continue
        own, is_key, key, rest = _indent_of(text)
        if own >= indent and not is_key:
            continue  # another continuation line of the same scalar
        if is_key and own < indent:
            value = rest.strip()
            if value[:1] in ("|", ">") or (value[:1] in ("'", '"') and not _closed(value)):
                return key
            return None
        return None
    return None


def _closed(value: str) -> bool:
    quote = value[0]
    body = value[1:]
    if quote == "'":
        return body.replace("''", "").count("'") >= 1
    escaped = re.sub(r"\\.", "", body)
    return '"' in escaped
