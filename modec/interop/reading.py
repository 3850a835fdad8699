"""Reading other tools' files: bounded bytes, UTF-8 text, YAML with positions, frontmatter.

Foreign files are not mode files, so the compiler's 1 MiB bound does not apply to them (real
Roo Code ``.roomodes`` files reach 1.4 MB). Their own bound is :data:`MAX_FOREIGN_BYTES` per
file; YAML is composed by the compiler's loader (:mod:`modec.compiler.source`), so nesting
depth, aliases and the node count stay bounded and every node keeps its line and column.
A folder import reads at most :data:`MAX_FOLDER_FILES` files and :data:`MAX_FOLDER_BYTES` bytes.

Nothing here raises on bad input: every problem is a :class:`~modec.diagnostics.Diagnostic`.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from typing import Any, Final

from modec.compiler import source
from modec.compiler.compose import compose
from modec.compiler.positions import LineIndex
from modec.compiler.source import YNode
from modec.diagnostics import Diagnostic, Span

__all__ = [
    "MAX_FOLDER_BYTES",
    "MAX_FOLDER_FILES",
    "MAX_FOREIGN_BYTES",
    "Frontmatter",
    "Text",
    "describe",
    "is_string",
    "load_yaml",
    "plain",
    "read_bytes",
    "read_text",
    "split_frontmatter",
    "text_of",
]

#: Largest foreign file read (MC701 past it): eight times the largest real Roo file seen.
MAX_FOREIGN_BYTES: Final = 12 << 20
#: Most files one folder import reads (files past it are MC701, named by count).
MAX_FOLDER_FILES: Final = 2_000
#: Most bytes one folder import reads in total.
MAX_FOLDER_BYTES: Final = 64 << 20

_FENCE: Final = re.compile(r"---[ \t]*(?:\r\n|\n|\r|$)")


@dataclass(frozen=True, slots=True)
class Text:
    """A decoded foreign file: ``path`` is the display path used in every span."""

    path: str
    text: str
    sha256: str


def read_bytes(
    path: str | os.PathLike[str], display: str
) -> tuple[bytes | None, Diagnostic | None]:
    """The bytes of one file, or the diagnostic that says why not (MC001, MC701)."""
    whole = Span.point(display, 1, 1)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return None, Diagnostic.make(
                "MC001",
                whole,
                f"{display} is not a regular file",
                "pass a file or a folder of agent files",
            )
        if info.st_size > MAX_FOREIGN_BYTES:
            return None, _too_large(display, info.st_size)
        with open(path, "rb") as handle:
            data = handle.read(MAX_FOREIGN_BYTES + 1)
    except FileNotFoundError:
        return None, Diagnostic.make(
            "MC001", whole, f"{display} does not exist", "check the path and the working directory"
        )
    except OSError as error:
        return None, Diagnostic.make(
            "MC001",
            whole,
            f"cannot read {display}: {error.strerror or error}",
            "check that the file exists and is readable",
        )
    if len(data) > MAX_FOREIGN_BYTES:
        return None, _too_large(display, len(data))
    return data, None


def _too_large(display: str, size: int) -> Diagnostic:
    return Diagnostic.make(
        "MC701",
        Span.point(display, 1, 1),
        f"{display} is larger than the {MAX_FOREIGN_BYTES:,}-byte import bound ({size:,} bytes)",
        "split the file; no real agent file comes near this size",
    )


def read_text(data: bytes, display: str) -> tuple[Text, Diagnostic | None]:
    """Decode UTF-8 (a BOM is stripped); invalid text is MC003 at the first bad character."""
    text, problem = source._decode(data, display)
    return Text(display, text, hashlib.sha256(data).hexdigest()), problem


def load_yaml(text: str, display: str) -> tuple[YNode | None, list[Diagnostic]]:
    """Compose YAML with positions; the root must be a mapping (MC006 otherwise)."""
    return compose(text, LineIndex(display, text))


@dataclass(frozen=True, slots=True)
class Frontmatter:
    """A Markdown file split at its ``---`` fences.

    ``yaml_text`` has the fence lines blanked and the body removed, so YAML positions are file
    positions; ``body`` is the text after the closing fence; ``body_line`` its first line.
    ``closed`` is False when the opening fence has no closing one.
    """

    present: bool
    closed: bool
    yaml_text: str
    body: str
    body_line: int


def split_frontmatter(text: str) -> Frontmatter:
    """Split ``---`` frontmatter the way gray-matter does: first line ``---``, up to the next."""
    first = _FENCE.match(text)
    if first is None:
        return Frontmatter(False, False, "", text, 1)
    pos = first.end()
    while pos <= len(text):
        close = _FENCE.match(text, pos)
        if close is not None:
            head = "\n" + text[first.end() : pos]
            body = text[close.end() :]
            return Frontmatter(True, True, head, body, len(text[: close.end()].splitlines()) + 1)
        nl = _next_line(text, pos)
        if nl < 0:
            break
        pos = nl
    return Frontmatter(True, False, "\n" + text[first.end() :], "", len(text.splitlines()) + 1)


def _next_line(text: str, pos: int) -> int:
    for i in range(pos, len(text)):
        ch = text[i]
        if ch == "\n":
            return i + 1
        if ch == "\r":
            return i + 2 if text.startswith("\r\n", i) else i + 1
    return -1


def plain(node: YNode | None, budget: list[int] | None = None) -> Any:
    """A node as plain Python data (dicts keep file order); bounded by the node budget."""
    if node is None:
        return None
    budget = budget if budget is not None else [source.MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if node.kind == "scalar":
        return node.value
    if node.kind == "seq":
        return [plain(child, budget) for child in node.children]
    out: dict[str, Any] = {}
    for key, value in node.items:
        out.setdefault(str(key.raw), plain(value, budget))
    return out


def text_of(node: YNode | None) -> str | None:
    """The string value of a scalar node (numbers and bools as YAML wrote them), else None."""
    if node is None or node.kind != "scalar" or node.value is None:
        return None
    if isinstance(node.value, str):
        return node.value
    return node.raw


def is_string(node: YNode | None) -> bool:
    return node is not None and node.kind == "scalar" and isinstance(node.value, str)


def describe(node: YNode) -> str:
    """What a node is, for messages: 'a list', 'a mapping', 'the number 3', 'null'."""
    if node.kind == "seq":
        return "a list"
    if node.kind == "map":
        return "a mapping"
    if node.value is None:
        return "null"
    if isinstance(node.value, bool):
        return f"the boolean {node.raw}"
    if isinstance(node.value, int | float):
        return f"the number {node.raw}"
    return "a string"
