"""Generated row code: a small table's conditions as one Python function (Jinja's model).

For a table that is not all literals (``when:`` rows over tags, complexity, regexes and
metadata), :func:`generate` writes the rows, in order, as one straight-line Python function
and ``exec``\\ s it once at load. Each field is read, lowered or encoded at most once per
route (a local assigned on first use), every comparison is specialised to its literal's type
(the value semantics of :mod:`modec.compiler.semantics`, decided at load instead of per
call), regexes run as RE2 sets on bytes behind a test of their required literal, and
``text`` literals are tested on the lowered title, then on the lowered description (often
never lowered when the title decides), never on a composed copy; only a value holding a line
break reads the composed text. The writer knows, at each point of the code, which derived
locals are certainly assigned: those are read bare, and only a local that may or may not be
assigned there is tested. Literals enter the source only through ``repr()``; everything else
(regex testers, literal id sets, outcomes) is bound by name.

Tables with many rows keep the bitmask programs of :mod:`modec.runtime.programs`, whose
gates skip rows whose literals did not occur.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import partial
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

_PY_OPS: Final = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
#: The lazy locals, in the order their ``= None`` line names them.
_LAZY_NAMES: Final = ("_tl", "_dl", "_xl", "_xr", "_tb", "_db", "_xb", "_ht", "_hd", "_tg")
_LOWERED: Final = {"title": "_tl", "description": "_dl", "text": "_xl"}
_ENCODED: Final = {"title": "_tb", "description": "_db", "text": "_xb"}
_HITS: Final = {"title": "_ht", "description": "_hd"}
_RANK: Final = {"title": 0, "description": 1, "text": 2}
_PARTS: Final = {
    "title": ("title",),
    "description": ("description",),
    "text": ("title", "description"),
}

Part = Callable[[], str]


class _Writer:
    """Writes condition expressions; ``names`` collects the objects they refer to.

    A value derived from the task (a lowered or encoded field, the lowered tags) is a local
    computed on first use. The writer emits code in evaluation order and tracks which of
    these locals are certainly assigned at the current point (``known``): there a use is the
    bare name; where one was never assigned before, the use assigns it without a test; only
    elsewhere does a use test for ``None`` (those locals, ``checked``, start as ``None``).
    """

    def __init__(self, ids: dict[str, int], inline: bool) -> None:
        self.ids = ids
        self.inline = inline
        self.names: dict[str, Any] = {}
        self.known: set[str] = set()
        self.seen: set[str] = set()
        self.checked: set[str] = set()
        self._count = 0

    def bind(self, value: Any) -> str:
        self._count += 1
        name = f"_k{self._count}"
        self.names[name] = value
        return name

    def local(self) -> str:
        self._count += 1
        return f"_v{self._count}"

    # ------------------------------------------------------------ lazy locals

    def use(self, name: str) -> str:
        """The value of lazy local ``name`` at the current point of the code."""
        if name in self.known:
            return name
        if name not in self.seen:
            self.seen.add(name)
            init = self._init(name)
            self.known.add(name)
            return f"({name} := {init})"
        self.checked.add(name)
        init = self.conditional(lambda: self._init(name))
        self.known.add(name)
        return f"({name} if {name} is not None else ({name} := {init}))"

    def _init(self, name: str) -> str:
        if name == "_tl":
            return "_title.lower()"
        if name == "_dl":
            if "_xl" in self.known:
                # An ASCII title lowers to as many characters: the description's lowered
                # text follows the title's and the line break in the lowered `text`.
                return "(_xl[len(_title) + 1 :] if _title.isascii() else _description.lower())"
            return "_description.lower()"
        if name == "_xl":
            if "_tl" in self.known and "_dl" in self.known:
                return '_tl + "\\n" + _dl'
            return '(_title + "\\n" + _description).lower()'
        if name == "_xr":
            return '_title + "\\n" + _description'
        if name == "_tb":
            return "_title.encode()"
        if name == "_db":
            return "_description.encode()"
        if name == "_xb":
            return f"{self.use('_xr')}.encode()"
        if name == "_ht":
            return "frozenset(_find(_title))"
        if name == "_hd":
            return "frozenset(_find(_description))"
        assert name == "_tg"
        # The lowered tags, as a tuple while there are few (cheaper to build than a set and
        # as quick to search), else as a set.
        return (
            "(_no_tags if not _tags else (_tags[0].lower(),) if len(_tags) == 1 "
            "else (_tags[0].lower(), _tags[1].lower()) if len(_tags) == 2 "
            "else frozenset(map(_lower, _tags)))"
        )

    def conditional(self, part: Part) -> str:
        """``part``, written where it may not run: what it assigns is not known after it."""
        before = set(self.known)
        text = part()
        self.known = before
        return text

    def chain(self, parts: Sequence[Part], every: bool) -> str:
        """``parts`` joined by ``and`` (``every``) or ``or``, in order; only the first runs
        for certain."""
        if not parts:
            return "True" if every else "False"
        first = parts[0]()
        after_first = set(self.known)
        rest = [part() for part in parts[1:]]
        self.known = after_first
        return "(" + (" and " if every else " or ").join([first, *rest]) + ")"

    # ------------------------------------------------------------ expressions

    def expr(self, e: Expr) -> str:
        if isinstance(e, Const):
            return repr(bool(e.value))
        if isinstance(e, Not):
            return f"(not {self.expr(e.operand)})"
        if isinstance(e, And | Or):
            # Operands are pure, so the cheapest run first and short-circuit the rest.
            operands = sorted(e.operands, key=_cost)
            return self.chain([partial(self.expr, o) for o in operands], isinstance(e, And))
        if isinstance(e, TextMatch):
            return self._text(e)
        if isinstance(e, RegexMatch):
            return self._regex(e)
        if isinstance(e, Compare):
            return self._compare(e)
        if isinstance(e, InList):
            return f"_in_list({self._value(e.field)}, {self.bind(e.values)})"
        raise TypeError(f"unknown expression node {type(e).__name__}")

    def _text(self, e: TextMatch) -> str:
        values = [v.lower() for v in e.values]
        every = e.quantifier == "all"
        if e.field in SCANNED_FIELDS:
            tests = [self._scanned(e.field, e.op, v) for v in values]
            if every:
                ors = [partial(self.chain, [part for _, part in t], False) for t in tests]
                return self.chain(ors, every=True)
            # Any one test decides: the title's (a short text) run before the description's,
            # which then is often never lowered.
            ordered = sorted((pair for t in tests for pair in t), key=lambda pair: pair[0])
            return self.chain([part for _, part in ordered], every=False)
        if e.field == "tags":
            if e.op == "contains":
                parts = [partial(self._tag_test, v) for v in values]
            else:
                parts = [partial(self._tag_test, v, e.op) for v in values]
            return self.chain(parts, every)
        if e.field.startswith("metadata."):
            key = e.field[len("metadata.") :]
            local = self.local()
            joined = (" and " if every else " or ").join(
                f"_text_test({e.op!r}, {local}.lower(), {v!r})" for v in values
            )
            return f"(isinstance(({local} := _meta.get({key!r})), str) and ({joined or every}))"
        return "False"

    def _scanned(self, name: str, op: str, value: str) -> list[tuple[int, Part]]:
        """The tests, any of which makes text atom ``name op value`` true, each with its
        part's rank (title, description, the whole text)."""
        if name == "text" and "\n" in value:
            # Only a value with a line break can straddle the title and the description.
            return [(2, lambda: self._lowered_test("text", op, value))]
        if name == "text" and op in ("startswith", "endswith"):
            part = "title" if op == "startswith" else "description"
            return [(_RANK[part], lambda: self._lowered_test(part, op, value))]
        parts = _PARTS[name]
        if self.inline or op in ("startswith", "endswith"):
            return [(_RANK[p], partial(self._lowered_test, p, op, value)) for p in parts]
        # Through the scanner's hits: a literal of `text` occurs in the title or in the
        # description.
        literal = self.ids[value]

        def hit(part: str) -> Part:
            hits = _HITS[part]
            if op == "contains":
                return lambda: f"({literal} in {self.use(hits)})"
            return lambda: (
                f"({literal} in {self.use(hits)} and "
                f"{self.conditional(lambda: self._lowered_test(part, op, value))})"
            )

        return [(_RANK[p], hit(p)) for p in parts]

    def _tag_test(self, value: str, op: str = "contains") -> str:
        if op == "contains":
            return f"({value!r} in {self.use('_tg')})"
        return f"_any_tag({op!r}, {self.use('_tg')}, {value!r})"

    def _call(self, test: str, data: str) -> str:
        return f"{test}({self.use(data)})"

    def _lowered_test(self, name: str, op: str, value: str) -> str:
        low = self.use(_LOWERED[name])
        if op == "contains":
            return f"({value!r} in {low})"
        if op == "mentions":
            return f"_mentions({low}, {value!r})"
        return f"{low}.{op}({value!r})"

    def _regex(self, e: RegexMatch) -> str:
        test = self.bind(regex_tester(e.pattern, e.flags))
        if e.field in SCANNED_FIELDS:
            needed = _prefilter(e)
            if needed is None:
                return f"{test}({self.use(_ENCODED[e.field])})"
            call = partial(self._call, test, _ENCODED[e.field])
            return self.chain([partial(self._prefilter, *needed), call], every=True)
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

    def _prefilter(self, literal: str, anchored: bool, fold: bool, parts: tuple[str, ...]) -> str:
        def part(part: str) -> Part:
            raw = f"_{part}"

            def test() -> str:
                subject = self.use(_LOWERED[part]) if fold else raw
                if anchored:
                    return f"{subject}.startswith({literal!r})"
                return f"({literal!r} in {subject})"

            if fold:
                # Under the `i` flag a non-ASCII part passes untested (RE2 decides).
                return lambda: f"(not {raw}.isascii() or {self.conditional(test)})"
            return test

        return self.chain([part(p) for p in parts], every=False)

    def _value(self, name: str) -> str:
        if name in SCANNED_FIELDS:
            return self.use(_LOWERED[name])
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
            if not isinstance(lit, str):
                return "False"
            return f"({self.use(_LOWERED[e.field])} {op} {lit.lower()!r})"
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


def _prefilter(e: RegexMatch) -> tuple[str, bool, bool, tuple[str, ...]] | None:
    """A test that must hold for ``e`` to match (:func:`~.scanner.required_literal`), as
    ``(literal, anchored, fold, parts)``: the regex's required literal in the field's text,
    which spares most RE2 calls."""
    required = required_literal(e.pattern, e.flags)
    if required is None:
        return None
    literal, anchored = required
    # A match of `text` (title + newline + description) lies within one part: the literal
    # holds no newline. Anchored, it starts the title.
    parts = ("title",) if e.field == "text" and anchored else _PARTS[e.field]
    return literal, anchored, "i" in e.flags, parts


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


def _any_tag(op: str, tags: Collection[str], value: str) -> bool:
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
    slots: tuple[str, str] | None = None,
) -> Callable[[Any], Any]:
    """The generated ``decide(task)`` for ``rows``.

    A task whose type is not one of ``kinds`` (the task records whose fields it reads) is
    first turned into one by ``read``; one of type ``model`` (a pydantic model, one of
    ``kinds``) is read through its ``__dict__``. Under hit policy ``first`` it returns
    ``new(outcome, task)`` for the first row that holds (``new(fallback, task)`` if none);
    otherwise (``finish`` given) it returns ``finish(task, taken)`` with the indexes of every
    row that holds, in order. ``slots`` names the two attributes ``new``'s ``__init__`` sets
    (outcome, task), if that is all it does: the code then builds the object itself with
    ``object.__new__``, without the frame of a constructor call.
    """
    writer = _Writer(ids, inline=find is None or len(ids) <= MAX_INLINE_LITERALS)
    body = []
    if finish is not None:
        body.append("    _taken = []")

    def made(outcome: str) -> str:
        if slots is None:
            return f"return _new({outcome}, _t)"
        return f"_d = _alloc(_new); _d.{slots[0]} = {outcome}; _d.{slots[1]} = _t; return _d"

    for index, row in enumerate(rows):
        body.append(f"    if {writer.expr(row.condition)}:")
        body.append(
            f"        {made(f'_o{index}')}" if finish is None else f"        _taken.append({index})"
        )
    body.append(f"    {made('_fallback')}" if finish is None else "    return _finish(_t, _taken)")
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

    foreign = "(_kind := type(_t)) is not _kind0" + "".join(
        f" and _kind is not _kind{i}" for i in range(1, len(kinds))
    )
    lines = ["def decide(_t):"]
    if fields and model is not None:
        lines += ["    if type(_t) is _model:", "        _f = _t.__dict__"]
        lines += reads("        ", lambda attr: f"_f[{attr!r}]")
        lines += ["    else:", f"        if {foreign}:", "            _t = _read(_t)"]
        lines += reads("        ", lambda attr: f"_t.{attr}")
    else:
        lines += [f"    if {foreign}:", "        _t = _read(_t)"]
        lines += reads("    ", lambda attr: f"_t.{attr}")
    lazy = [name for name in _LAZY_NAMES if name in writer.checked]
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
        "_alloc": object.__new__,
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
