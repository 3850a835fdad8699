"""The condition parser, loaded from LALR tables serialized next to the grammar, else built.

Building the LALR(1) parser from ``condition.lark`` (grammar analysis and table
construction) is most of a cold compile's grammar cost; loading the same parser from the
form lark itself serializes (:meth:`lark.Lark.save`, read back by :meth:`lark.Lark.load`)
is a small fraction of it. ``condition.lalr`` ships that form, under a key line:

* the **key** names the SHA-256 of the grammar text, the parser options, lark's version and
  Python's ``major.minor`` (the tables hold regex widths computed by Python's ``re``), and
  the file format: exactly what the serialized parser is a function of;
* a file whose key is not the key of the running grammar, lark and Python, that cannot be
  read (a missing file, an unreadable install), or that holds anything but plain data (the
  pickle is read with no class allowed), is a miss: the parser is built from the grammar,
  as it always could be. Nothing is written at run time, so a read-only install or an
  unwritable temporary folder changes nothing but the speed.

``python -m modec.grammar.tables`` rewrites ``condition.lalr`` after a change of the grammar
or of lark; a unit test fails while the shipped tables are not those of the grammar (and,
under the lark and Python they were written with, while they are not its automaton).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import io
import json
import pickle
import sys
from typing import Any, Final

import lark
from lark import Lark

__all__ = [
    "OPTIONS",
    "TABLES_FILE",
    "build_parser",
    "condition_parser",
    "grammar_text",
    "load_parser",
    "read_tables",
    "serialize",
    "tables_key",
]

#: The options of the condition parser (positions on every tree node; no placeholders).
OPTIONS: Final[dict[str, Any]] = {
    "parser": "lalr",
    "lexer": "contextual",
    "propagate_positions": True,
    "maybe_placeholders": False,
}
#: The serialized tables, beside ``condition.lark`` in the package.
TABLES_FILE: Final = "condition.lalr"
#: The layout of :data:`TABLES_FILE` (a key line, then :meth:`lark.Lark.save`'s bytes).
_FORMAT: Final = 1


def grammar_text() -> str:
    """The packaged ``condition.lark``."""
    grammar = importlib.resources.files("modec.grammar").joinpath("condition.lark")
    return grammar.read_text(encoding="utf-8")


def tables_key(grammar: str) -> str:
    """The key of the tables of ``grammar`` under the running lark and Python: canonical JSON
    of the grammar's SHA-256, the options, the versions and the file format (one line)."""
    described = {
        "format": _FORMAT,
        "grammar": hashlib.sha256(grammar.encode("utf-8")).hexdigest(),
        "options": OPTIONS,
        "lark": lark.__version__,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }
    return json.dumps(described, sort_keys=True, separators=(",", ":"))


def build_parser(grammar: str) -> Lark:
    """The condition parser built from ``grammar`` (the slow path, always available)."""
    return Lark(grammar, **OPTIONS)


def serialize(parser: Lark, key: str) -> bytes:
    """``parser`` as :data:`TABLES_FILE` holds it: the key line, then lark's own bytes."""
    out = io.BytesIO()
    out.write(key.encode("ascii") + b"\n")
    parser.save(out)
    return out.getvalue()


class _DataOnly(pickle.Unpickler):
    """Reads plain data (dicts, lists, tuples, strings, numbers), never a class or callable."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"the parser tables may hold no object ({module}.{name})")


#: What a stale, truncated or foreign tables file can raise while it is read or loaded.
_UNREADABLE: Final = (
    OSError,
    EOFError,
    pickle.UnpicklingError,
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
    lark.exceptions.LarkError,
)


def read_tables(data: bytes, key: str) -> Lark | None:
    """The parser held by ``data`` (a :data:`TABLES_FILE`'s bytes) if its key line is ``key``
    and the rest is lark's serialized parser; else None."""
    line, newline, body = data.partition(b"\n")
    if not newline or line != key.encode("ascii"):
        return None
    try:
        saved = _DataOnly(io.BytesIO(body)).load()
        if not isinstance(saved, dict):
            return None
        return Lark.load(saved)
    except _UNREADABLE:
        return None


def load_parser() -> Lark:
    """The condition parser: from the shipped tables when they are the grammar's, else built.

    Either way it is the parser of ``condition.lark`` with :data:`OPTIONS`: the tables are used
    only under the key of the running grammar, lark and Python.
    """
    grammar = grammar_text()
    try:
        data = importlib.resources.files("modec.grammar").joinpath(TABLES_FILE).read_bytes()
    except OSError:
        data = b""
    loaded = read_tables(data, tables_key(grammar)) if data else None
    return loaded if loaded is not None else build_parser(grammar)


@functools.cache
def condition_parser() -> Lark:
    """The process' condition parser (:func:`load_parser`, once). Its :meth:`~lark.Lark.lex`
    is the grammar's basic lexer, which editors highlight with."""
    return load_parser()


def _write_tables() -> str:
    """Rewrite the package's :data:`TABLES_FILE` from the grammar; its path."""
    from pathlib import Path

    from modec.fs import write_atomic

    grammar = grammar_text()
    target = Path(str(importlib.resources.files("modec.grammar").joinpath(TABLES_FILE)))
    write_atomic(target, serialize(build_parser(grammar), tables_key(grammar)))
    target.chmod(0o644)  # a package file, readable by every user of the install
    return str(target)


if __name__ == "__main__":
    print(f"wrote {_write_tables()}")
