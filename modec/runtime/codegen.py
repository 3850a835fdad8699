"""Generated row code: a small table's conditions as one Python function (Jinja's model).

For a table that is not all literals (``when:`` rows over tags, complexity, regexes and
metadata), :func:`generate` writes the rows, in order, as one straight-line Python function
and ``exec``\\ s it once at load. Each field is read, lowered or encoded at most once per
route (a local assigned on first use), every comparison is specialised to its literal's type
(the value semantics of :mod:`modec.compiler.semantics`, decided at load instead of per
call), regexes run as RE2 sets on bytes, and ``text`` literals are tested on the lowered title
and description, never on a composed copy. Literals enter the source only through
``repr()``; everything else (regex testers, literal id sets, outcomes) is bound by name.

Tables with many rows keep the bitmask programs of :mod:`modec.runtime.programs`, whose
gates skip rows whose literals did not occur.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from modec.compiler.ir import And, Compare, Const, Expr, InList, Not, Or, RegexMatch, TextMatch
from modec.compiler.semantics import compare, in_list, mentions, text_test
from modec.compiler.table import SCANNED_FIELDS, Row
from modec.runtime.scanner import regex_tester, required_literal

__all__ = ["MAX_GENERATED_ROWS", "MAX_INLINE_LITERALS", "generate"]

#: Tables with at most this many rows get generated code (larger ones keep bitmask gates).
MAX_GENERATED_ROWS: Final = 32
#: With at most this many literals in the universe, literals are tested with ``in`` on the
#: lowered text; with more, through the scanner's hits.
MAX_INLINE_LITERALS: Final = 12

_LAZY: Final = {
    "_tl": "_title.lower()",
    "_dl": "_description.lower()",
    "_xr": '_title + "\\n" + _description',
    "_tb": "_title.encode()",
    "_db": "_description.encode()",
    "_ht": "frozenset(_find(_title))",
    "_hd": "frozenset(_find(_description))",
    "_tg": "(frozenset(map(_lower, _tags)) if _tags else _no_tags)",
}


def _lazy(name: str, init: str | None = None) -> str:
    return f"({name} if {name} is not None else ({name} := {init or _LAZY[name]}))"


_LOW: Final = {"title": _lazy("_tl"), "description": _lazy("_dl")}
_LOW["text"] = _lazy("_xl", f'{_LOW["title"]} + "\\n" + {_LOW["description"]}')
_RAW: Final = {"title": "_title", "description": "_description", "text": _lazy("_xr")}
_BYTES: Final = {
    "title": _lazy("_tb"),
    "description": _lazy("_db"),
    "text": _lazy("_xb", f"{_RAW['text']}.encode()"),
}
_HITS: Final = {
    "title": (_lazy("_ht"),),
    "description": (_lazy("_hd"),),
    "text": (_lazy("_ht"), _lazy("_hd")),
}
_PY_OPS: Final = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _Writer:
    """Writes condition expressions; ``names`` collects the objects they refer to."""

    def __init__(self, ids: dict[str, int], inline: bool) -> None:
        self.ids = ids
        self.inline = inline
        self.names: dict[str, Any] = {}
        self._count = 0

    def bind(self, value: Any) -> str:
        self._count += 1
        name = f"_k{self._count}"
        self.names[name] = value
        return name

    def local(self) -> str:
        self._count += 1
        return f"_v{self._count}"

    def expr(self, e: Expr) -> str:
        if isinstance(e, Const):
            return repr(bool(e.value))
        if isinstance(e, Not):
            return f"(not {self.expr(e.operand)})"
        if isinstance(e, And | Or):
            # Operands are pure, so the cheapest run first and short-circuit the rest.
            glue = " and " if isinstance(e, And) else " or "
            operands = sorted(e.operands, key=_cost)
            return "(" + glue.join(self.expr(o) for o in operands) + ")"
        if isinstance(e, TextMatch):
            return self._text(e)
        if isinstance(e, RegexMatch):
            return self._regex(e)
        if isinstance(e, Compare):
            return self._compare(e)
        if isinstance(e, InList):
            return f"_in_list({self._value(e.field)}, {self.bind(e.values)})"
        raise TypeError(f"unknown expression node {type(e).__name__}")

    def _quantify(self, parts: Sequence[str], every: bool) -> str:
        if not parts:
            return "True" if every else "False"
        return "(" + (" and " if every else " or ").join(parts) + ")"

    def _text(self, e: TextMatch) -> str:
        values = [v.lower() for v in e.values]
        every = e.quantifier == "all"
        if e.field in SCANNED_FIELDS:
            return self._quantify([self._scanned(e.field, e.op, v) for v in values], every)
        if e.field == "tags":
            if e.op == "contains":
                parts = [f"({v!r} in {_lazy('_tg')})" for v in values]
            else:
                parts = [f"_any_tag({e.op!r}, {_lazy('_tg')}, {v!r})" for v in values]
            return self._quantify(parts, every)
        if e.field.startswith("metadata."):
            key = e.field[len("metadata.") :]
            local = self.local()
            tests = [f"_text_test({e.op!r}, {local}.lower(), {v!r})" for v in values]
            return (
                f"(isinstance(({local} := _meta.get({key!r})), str) and "
                f"{self._quantify(tests, every)})"
            )
        return "False"

    def _scanned(self, name: str, op: str, value: str) -> str:
        if op in ("startswith", "endswith"):
            return f"{_LOW[name]}.{op}({value!r})"
        straddles = name == "text" and "\n" in value
        parts = ("text",) if straddles else ("title", "description") if name == "text" else (name,)
        tests = []
        for part in parts:
            low = _LOW[part]
            if op == "contains":
                if self.inline or straddles:
                    tests.append(f"({value!r} in {low})")
                else:
                    tests.append(f"({self.ids[value]} in {_HITS[part][0]})")
            elif self.inline or straddles:
                tests.append(f"_mentions({low}, {value!r})")
            else:
                tests.append(
                    f"({self.ids[value]} in {_HITS[part][0]} and _mentions({low}, {value!r}))"
                )
        return self._quantify(tests, every=False)

    def _regex(self, e: RegexMatch) -> str:
        test = self.bind(regex_tester(e.pattern, e.flags))
        if e.field in SCANNED_FIELDS:
            call = f"{test}({_BYTES[e.field]})"
            needed = _prefilter(e)
            return f"({needed} and {call})" if needed else call
        if e.field == "tags":
            return f'any({test}(_x.encode("utf-8", "surrogatepass")) for _x in _tags)'
        if e.field.startswith("metadata."):
            local = self.local()
            key = e.field[len("metadata.") :]
            return (
                f"(isinstance(({local} := _meta.get({key!r})), str) and "
                f'{test}({local}.encode("utf-8", "surrogatepass")))'
            )
        return "False"

    def _value(self, name: str) -> str:
        if name in SCANNED_FIELDS:
            return _LOW[name]
        if name == "complexity":
            return "_complexity"
        if name.startswith("metadata."):
            return f"_meta.get({name[len('metadata.') :]!r}, _missing)"
        return "_missing"

    def _compare(self, e: Compare) -> str:
        op, lit = _PY_OPS[e.op], e.value
        if e.field == "complexity":
            number = isinstance(lit, int | float) and not isinstance(lit, bool)
            return f"(_complexity {op} {lit!r})" if number else "False"
        if e.field in SCANNED_FIELDS:
            return f"({_LOW[e.field]} {op} {lit.lower()!r})" if isinstance(lit, str) else "False"
        if not e.field.startswith("metadata."):
            return "False"
        local = self.local()
        get = f"({local} := _meta.get({e.field[len('metadata.') :]!r}))"
        if isinstance(lit, bool):
            if op not in ("==", "!="):
                return "False"
            return f"(isinstance({get}, bool) and {local} {op} {lit!r})"
        if isinstance(lit, int | float):
            return (
                f"(isinstance({get}, _number) and not isinstance({local}, bool) "
                f"and {local} {op} {lit!r})"
            )
        return f"(isinstance({get}, str) and {local}.lower() {op} {lit.lower()!r})"


def _prefilter(e: RegexMatch) -> str | None:
    """A test that must hold for ``e`` to match (:func:`~.scanner.required_literal`): the
    regex's required literal in the field's text, which spares most RE2 calls. Under the
    ``i`` flag a non-ASCII part passes untested (RE2 decides)."""
    required = required_literal(e.pattern, e.flags)
    if required is None:
        return None
    literal, anchored = required
    fold = "i" in e.flags
    # A match of `text` (title + newline + description) lies within one part: the literal
    # holds no newline. Anchored, it starts the title.
    parts = ("title",) if e.field == "text" and anchored else _PARTS[e.field]
    tests = []
    for part in parts:
        subject = _LOW[part] if fold else _RAW[part]
        test = f"{subject}.startswith({literal!r})" if anchored else f"({literal!r} in {subject})"
        tests.append(f"(not {_RAW[part]}.isascii() or {test})" if fold else test)
    return "(" + " or ".join(tests) + ")"


_PARTS: Final = {
    "title": ("title",),
    "description": ("description",),
    "text": ("title", "description"),
}


def _cost(e: Expr) -> int:
    """A rough cost rank of evaluating ``e``: constants and numbers first, regexes last."""
    if isinstance(e, Const):
        return 0
    if isinstance(e, Compare | InList):
        return 1 if e.field == "complexity" else 2
    if isinstance(e, TextMatch):
        return 3 if e.field == "tags" or e.field.startswith("metadata.") else 4
    if isinstance(e, RegexMatch):
        return 6
    if isinstance(e, Not):
        return _cost(e.operand)
    assert isinstance(e, And | Or)
    return max(map(_cost, e.operands))


def _any_tag(op: str, tags: frozenset[str], value: str) -> bool:
    return any(text_test(op, tag, value) for tag in tags)


def generate(
    rows: Sequence[Row],
    ids: dict[str, int],
    find: Callable[[str], Any] | None,
    outcomes: Sequence[Any],
    fallback: Any,
    new: Callable[..., Any],
    finish: Callable[..., Any] | None,
    default_complexity: int,
    read: Callable[[Any], Any],
    kinds: tuple[type, ...],
    model: type | None = None,
) -> Callable[[Any], Any]:
    """The generated ``decide(task)`` for ``rows``.

    A task whose type is not one of ``kinds`` (the task records whose fields it reads) is
    first turned into one by ``read``; one of type ``model`` (a pydantic model, one of
    ``kinds``) is read through its ``__dict__``. Under hit policy ``first`` it returns
    ``new(outcome, task)`` for the first row that holds (``new(fallback, task)`` if none);
    otherwise (``finish`` given) it returns ``finish(task, taken)`` with the indexes of every
    row that holds, in order.
    """
    writer = _Writer(ids, inline=find is None or len(ids) <= MAX_INLINE_LITERALS)
    body = []
    if finish is not None:
        body.append("    _taken = []")
    for index, row in enumerate(rows):
        body.append(f"    if {writer.expr(row.condition)}:")
        body.append(
            f"        return _new(_o{index}, _t)"
            if finish is None
            else f"        _taken.append({index})"
        )
    body.append(
        "    return _new(_fallback, _t)" if finish is None else "    return _finish(_t, _taken)"
    )
    text = "\n".join(body)
    # Only the fields the rows use are read. A pydantic model's fields live in its
    # ``__dict__``: subscripts there are cheaper than its attribute lookups.
    fields = [
        (name, attr)
        for name, attr in (
            ("_title", "title"),
            ("_description", "description"),
            ("_meta", "metadata"),
            ("_tags", "tags"),
            ("_complexity", "complexity"),
        )
        if name in text
    ]

    def reads(indent: str, get: Callable[[str], str]) -> list[str]:
        return [
            f"{indent}{name} = {get(attr)}"
            + (f" or {default_complexity!r}" if name == "_complexity" else "")
            for name, attr in fields
        ]

    foreign = " and ".join(f"_kind is not _kind{i}" for i in range(len(kinds)))
    lines = ["def decide(_t):", "    _kind = type(_t)"]
    if fields and model is not None:
        lines += ["    if _kind is _model:", "        _f = _t.__dict__"]
        lines += reads("        ", lambda attr: f"_f[{attr!r}]")
        lines += ["    else:", f"        if {foreign}:", "            _t = _read(_t)"]
        lines += reads("        ", lambda attr: f"_t.{attr}")
    else:
        lines += [f"    if {foreign}:", "        _t = _read(_t)"]
        lines += reads("    ", lambda attr: f"_t.{attr}")
    lazy = [
        name
        for name in ("_tl", "_dl", "_xl", "_xr", "_tb", "_db", "_xb", "_ht", "_hd", "_tg")
        if f"({name} := " in text
    ]
    if lazy:
        lines.append("    " + " = ".join(lazy) + " = None")
    lines += body
    namespace: dict[str, Any] = {
        **writer.names,
        **{f"_o{i}": o for i, o in enumerate(outcomes)},
        **{f"_kind{i}": k for i, k in enumerate(kinds)},
        "_read": read,
        "_model": model,
        "_fallback": fallback,
        "_new": new,
        "_finish": finish,
        "_find": find,
        "_mentions": mentions,
        "_text_test": text_test,
        "_in_list": in_list,
        "_compare": compare,
        "_missing": object(),
        "_any_tag": _any_tag,
        "_number": (int, float),
        "_lower": str.lower,
        "_no_tags": frozenset(),
    }
    source = "\n".join(lines) + "\n"
    exec(compile(source, "<modec generated rows>", "exec"), namespace)
    decide: Callable[[Any], Any] = namespace["decide"]
    decide.__doc__ = source  # the generated code, for whoever debugs it
    return decide
