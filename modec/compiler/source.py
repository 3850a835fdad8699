"""Load a mode file: YAML bytes → a tree of located nodes, plus diagnostics.

This is the first stage of the compiler. It never raises on bad input: every problem with the
file (unreadable, too large, not UTF-8 text, YAML syntax, duplicate keys, a non-mapping root,
alias bombs, several documents, unsupported tags) becomes a :class:`~modec.diagnostics.Diagnostic`
with codes MC001–MC009, pointing at the exact place, or at ``1:1`` for whole-file problems.

Positions are 1-based lines and columns; **columns count Unicode code points** (not bytes, not
display cells; a tab is one column), and lines break only at YAML line breaks: ``\\n``,
``\\r\\n`` (one break), ``\\r``, and NEL, LS and PS, which YAML 1.1 counts as breaks (as
PyYAML does); vertical tab and form feed are not breaks. A span indexes
:func:`modec.compiler.positions.split_lines` of ``SourceFile.text``, not ``str.splitlines()``.
YAML syntax errors are described in a person's words (:mod:`modec.compiler.yaml_errors`).

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
else the pure-Python parser (which also rejects tabs inside plain scalars). The stages of
loading each have a module:

* this module — reading the bytes (MC001–MC003) and the entry points;
* :mod:`modec.compiler.compose` — the tree from the event stream, without recursion, so that
  nesting depth, alias expansion and duplicate keys are bounded and reported (MC004–MC009);
* :mod:`modec.compiler.scalars` — scalar values with YAML 1.1 rules, as ``yaml.safe_load``
  reads them (``yes`` is true, ``0x1F`` is 31);
* :mod:`modec.compiler.positions` — lines, columns and :meth:`YNode.locate`;
* :mod:`modec.compiler.yamltree` — the result types (:class:`YNode`, :class:`SourceFile`,
  :class:`LoadResult`).
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import os
import re
import stat
from typing import Final

from modec.compiler.compose import MAX_ALIASES, MAX_DEPTH, MAX_NODES, compose
from modec.compiler.positions import LineIndex
from modec.compiler.yamltree import (
    TAG_BOOL,
    TAG_FLOAT,
    TAG_INT,
    TAG_MAP,
    TAG_NULL,
    TAG_SEQ,
    TAG_STR,
    TAG_TIMESTAMP,
    LoadResult,
    SourceFile,
    YNode,
)
from modec.diagnostics import Diagnostic, Span, sort_diagnostics

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

# Characters YAML accepts in a stream (YAML 1.1 §5.1), minus U+FEFF past the start, which
# libyaml rejects; NUL is reported separately as a sign of binary data.
_NOT_PRINTABLE: Final = (
    "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
# The same class on ASCII text, where it reads alike (compiling the whole one costs a cold
# process milliseconds: it is compiled for the first file that is not ASCII).
_NOT_PRINTABLE_ASCII: Final = re.compile("[^\t\n\r\x20-\x7e]")


@functools.cache
def _not_printable() -> re.Pattern[str]:
    return re.compile(_NOT_PRINTABLE)


_FOREIGN_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


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
            return unreadable(
                f"{shown} is a directory, not a mode file", "pass the path of a .yaml file"
            )
        if not stat.S_ISREG(info.st_mode):
            return unreadable(f"{shown} is not a regular file", "pass the path of a .yaml file")
        if info.st_size > MAX_FILE_BYTES:
            return _too_large(shown, info.st_size)
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return unreadable(f"{shown} does not exist", "check the path and the working directory")
    except PermissionError:
        return unreadable(f"permission denied reading {shown}", "check the file's permissions")
    except IsADirectoryError:
        return unreadable(
            f"{shown} is a directory, not a mode file", "pass the path of a .yaml file"
        )
    except OSError as error:
        return unreadable(
            f"cannot read {shown}: {error.strerror or error}",
            "check that the file exists and is readable",
        )
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
    lines = LineIndex(path, text)
    root, diagnostics = compose(text, lines)
    return LoadResult(source, root, sort_diagnostics(diagnostics))


def _too_large(path: str, size: int) -> LoadResult:
    # Reading stops one byte past the limit, so then the true size is unknown.
    shown = f" ({size:,} bytes)" if size > MAX_FILE_BYTES + 1 else ""
    return LoadResult(
        None,
        None,
        [
            Diagnostic.make(
                "MC002",
                Span.point(path, 1, 1),
                f"file is larger than the 1 MiB ({MAX_FILE_BYTES:,}-byte) limit{shown}",
                "split the mode file, or use `extends` to share roles between smaller files",
            )
        ],
    )


def _decode(data: bytes, path: str) -> tuple[str, Diagnostic | None]:
    """Strict UTF-8 decoding, BOM stripped; on failure a lossy text and an MC003."""

    def at(char_index: int, message: str, hint: str) -> tuple[str, Diagnostic]:
        lossy = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
        span = LineIndex(path, lossy).point(char_index)
        return lossy, Diagnostic.make("MC003", span, message, hint)

    save_hint = "save the file as UTF-8 text"
    for bom, name in _FOREIGN_BOMS:
        if data.startswith(bom):
            return at(
                0, f"file is {name} encoded (it starts with a {name} byte order mark)", save_hint
            )
    nul = data.find(b"\0")
    if nul >= 0:
        prefix = data[:nul].decode("utf-8", errors="replace").removeprefix("\ufeff")
        return at(
            len(prefix),
            "file contains a NUL byte: it looks like binary data, or "
            "UTF-16/UTF-32 text without a byte order mark",
            save_hint,
        )
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        prefix = data[: error.start].decode("utf-8").removeprefix("\ufeff")
        bad = data[error.start : error.start + 1].hex()
        return at(
            len(prefix),
            f"invalid UTF-8: byte 0x{bad} cannot start or continue a character here",
            save_hint,
        )
    found = (_NOT_PRINTABLE_ASCII if text.isascii() else _not_printable()).search(text)
    if found is not None:
        char = found.group()
        what = (
            "a byte order mark (U+FEFF) after the start of the file"
            if char == "\ufeff"
            else f"control character U+{ord(char):04X}"
        )
        return at(
            found.start(),
            f"file contains {what}, which YAML does not allow",
            "remove the character, or write it as an escape in a double-quoted string",
        )
    return text, None
