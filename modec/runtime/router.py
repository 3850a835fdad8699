"""The router: a decision table, loaded once, routing tasks fast and explaining every decision.

A :class:`Router` is built from a :class:`~modec.compiler.table.DecisionTable` (usually out
of a compiled artifact, :func:`load_router`); it never sees YAML or the IR. At load it turns
the table's scanner plan into one multi-pattern scanner per scanned text field, and each row
into a small program:

* **Scanning.** Every lowered literal a row uses on a field (``contains`` and ``mentions``
  alike) goes into one RE2 ``Set`` for that field: a DFA pass over the field's UTF-8 bytes,
  lowered once with ``str.lower()``, reports every literal that occurs, whatever the number of
  rules (byte-substring equals character-substring because UTF-8 is self-synchronising).
  ``mentions`` literals that occur are then checked for word boundaries. When RE2 cannot
  build a set (memory budget), a pyahocorasick automaton does the same job.
* **Rows.** A row whose condition needs a literal to fire (``contains any(...)``, an ``and``
  with one, an ``or`` of such) is *gated*: a bitmask over rows, built from the literals that
  occurred, says which rows can fire at all. A gated row that is nothing but a disjunction of
  literals is *exact*: being a candidate means firing. Other rows run a precompiled closure.

Semantics (the reference interpreter in :mod:`modec.testing` implements them plainly):
text comparisons lower both sides with ``str.lower()``; ``contains`` is substring search
(on ``tags``: equality with a tag); ``mentions`` is a whole-word occurrence; ``matches`` is
an RE2 search of the original text; a missing ``metadata`` key or a value of the wrong type
makes the comparison false (also for ``!=``); ``bool`` is not a number.

>>> from modec.compiler.ir import TextMatch
>>> from modec.compiler.table import DecisionTable, FallbackRow, Row, literal_plan
>>> from modec.diagnostics import Span
>>> s = Span.point("m.yaml", 3, 3)
>>> cond = TextMatch(span=s, field="description", op="contains", quantifier="any",
...                  values=("security", "audit"))
>>> row = Row(name="security_tasks", condition=cond, specialist="auditor", origin="builtin",
...           source="m.yaml:3")
>>> table = DecisionTable(hit_policy="first", default_specialist="implementer",
...                       default_complexity=3, rows=(row,), scanners=literal_plan([row]),
...                       fallback=FallbackRow(specialist="implementer"))
>>> router = Router(table)
>>> d = router.route("Audit the login flow")
>>> d.task_type, d.specialist, d.complexity
('security_tasks', 'auditor', 3)
>>> [(e.field, e.value, e.start, e.end, e.text) for e in d.evidence]
[('description', 'audit', 0, 5, 'Audit')]
>>> router.route({"title": "x", "description": "nothing"}).task_type
'general_tasks'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from itertools import pairwise
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias

import ahocorasick
import re2
from pydantic import BaseModel, ConfigDict, Field, field_validator

from modec.compiler.artifact import Artifact
from modec.compiler.ir import (
    COMPLEXITY_NAMES,
    And,
    Compare,
    Const,
    Expr,
    InList,
    Not,
    Or,
    RegexMatch,
    TextMatch,
)
from modec.compiler.semantics import compare, in_list, isword, mentions, text_test
from modec.compiler.table import SCANNED_FIELDS, DecisionTable, FallbackRow, Row
from modec.diagnostics import ModecError
from modec.grammar import CompiledRegex, compile_regex, format_expr

__all__ = [
    "AmbiguousRouteError",
    "AtomTrace",
    "Decision",
    "Evidence",
    "Explanation",
    "Router",
    "RowTrace",
    "Task",
    "TaskLike",
    "compile_pattern",
    "load_router",
]

# --------------------------------------------------------------------------- tasks


def _check_text(value: str) -> str:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"text contains a lone surrogate at index {exc.start}; it is not valid Unicode"
            ) from exc
    return value


class Task(BaseModel):
    """A task to route. ``complexity`` is 1–5 or a level name (``trivial`` … ``very_complex``).

    >>> Task(description="x", complexity="complex").complexity
    4
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    complexity: int | None = Field(default=None, ge=1, le=5)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("title", "description")
    @classmethod
    def _valid_text(cls, value: str) -> str:
        return _check_text(value)

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for tag in value:
            _check_text(tag)
        return value

    @field_validator("complexity", mode="before")
    @classmethod
    def _level_names(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("complexity must be 1–5 or a level name, not a boolean")
        if isinstance(value, str):
            key = value.strip().lower().replace("-", "_").replace(" ", "_")
            if key in COMPLEXITY_NAMES:
                return COMPLEXITY_NAMES[key]
        return value


TaskLike: TypeAlias = "Task | str | Mapping[str, Any]"


class AmbiguousRouteError(ModecError):
    """Under hit policy ``unique``, a task matched more than one row."""

    suggestion = (
        "make the rows' conditions exclusive, or use hit_policy: first (earlier rows win) "
        "or collect"
    )

    def __init__(self, first: str, second: str, first_source: str, second_source: str) -> None:
        super().__init__(
            f"task matches both {first!r} ({first_source}) and {second!r} ({second_source}) "
            "under hit policy 'unique'"
        )
        self.rows = (first, second)


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True, slots=True)
class Evidence:
    """One literal or pattern that matched: ``field`` (``tags[i]``, ``metadata.k`` too),
    the operator, the value as written, and ``[start, end)`` in the field's original text."""

    field: str
    op: str
    value: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a row decides, precomputed at load (shared by every Decision of that row)."""

    index: int  # row index, -1 for the fallback
    name: str
    specialist: str | None
    secondary_review: tuple[str, ...]
    parallel_execution: bool | None
    complexity_boost: int
    source: str | None
    matches: tuple[str, ...]
    clamped: tuple[int, ...]  # clamped[c] = clamp(c + boost, 1, 5) for c in 0..5


class Decision:
    """The outcome of routing one task. Cheap to build; ``evidence`` is computed on demand.

    ``task_type`` and ``rule`` name the row that decided (``general_tasks`` for the fallback);
    ``matches`` lists every row that fired and was taken: all of them under ``collect``, the
    one row otherwise, none when the fallback decided.
    """

    __slots__ = ("_matches", "_o", "_router", "_task")

    def __init__(
        self, outcome: _Outcome, task: Task, router: Router,
        matches: tuple[str, ...] | None = None,
    ) -> None:
        self._o = outcome
        self._task = task
        self._router = router
        self._matches = matches

    @property
    def matches(self) -> tuple[str, ...]:
        return self._o.matches if self._matches is None else self._matches

    @property
    def complexity(self) -> int:
        """The task's complexity (or the mode's default) plus the row's boost, within 1–5."""
        return self._o.clamped[self._task.complexity or self._router._default_complexity]

    @property
    def task_type(self) -> str:
        return self._o.name

    @property
    def rule(self) -> str:
        return self._o.name

    @property
    def specialist(self) -> str | None:
        return self._o.specialist

    @property
    def secondary_review(self) -> tuple[str, ...]:
        return self._o.secondary_review

    @property
    def parallel_execution(self) -> bool | None:
        return self._o.parallel_execution

    @property
    def mode_hash(self) -> str:
        return self._router.mode_hash

    @property
    def source(self) -> str | None:
        """``file:line`` of the deciding rule."""
        return self._o.source

    @property
    def task(self) -> Task:
        return self._task

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """The literals and patterns that made the taken rows fire, with offsets."""
        return self._router._evidence(self.task, self.matches)

    def to_dict(self, evidence: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task_type": self.task_type,
            "specialist": self.specialist,
            "secondary_review": list(self.secondary_review),
            "complexity": self.complexity,
            "parallel_execution": self.parallel_execution,
            "rule": self.rule,
            "matches": list(self.matches),
            "mode_hash": self.mode_hash,
        }
        if evidence:
            out["evidence"] = [
                {"field": e.field, "op": e.op, "value": e.value, "start": e.start,
                 "end": e.end, "text": e.text}
                for e in self.evidence
            ]
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Decision(task_type={self.task_type!r}, specialist={self.specialist!r}, "
            f"complexity={self.complexity}, matches={self.matches!r})"
        )


@dataclass(frozen=True, slots=True)
class AtomTrace:
    """One leaf of a row's condition: its text, its result, and what matched."""

    atom: str
    result: bool
    evidence: tuple[Evidence, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RowTrace:
    """One row under ``explain``: did it fire, was it taken, and each atom's result."""

    name: str
    condition: str
    source: str
    fired: bool
    taken: bool
    atoms: tuple[AtomTrace, ...]


@dataclass(frozen=True, slots=True)
class Explanation:
    """Every row, fired or not and why, and the decision."""

    decision: Decision
    rows: tuple[RowTrace, ...]
    hit_policy: str
    fallback: bool = field(default=False)

    def render(self) -> str:
        """Human-readable trace, one block per row."""
        d = self.decision
        lines = [
            f"task type: {d.task_type}   specialist: {d.specialist}   "
            f"complexity: {d.complexity}   (hit policy {self.hit_policy})"
        ]
        for row in self.rows:
            mark = "✔" if row.fired else "✘"
            taken = "  ← taken" if row.taken else ""
            lines.append(f"{mark} {row.name}  [{row.source}]{taken}")
            lines.append(f"    when {row.condition}")
            for atom in row.atoms:
                lines.append(f"    {'true ' if atom.result else 'false'}  {atom.atom}"
                             + (f"  ({atom.note})" if atom.note else ""))
                for e in atom.evidence:
                    lines.append(f"           {e.field}[{e.start}:{e.end}] = {e.text!r}")
        if self.fallback:
            lines.append(f"→ no row fired: fallback {d.task_type} → {d.specialist}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.to_dict(evidence=True),
            "hit_policy": self.hit_policy,
            "fallback": self.fallback,
            "rows": [
                {
                    "name": r.name, "condition": r.condition, "source": r.source,
                    "fired": r.fired, "taken": r.taken,
                    "atoms": [
                        {"atom": a.atom, "result": a.result, "note": a.note,
                         "evidence": [
                             {"field": e.field, "op": e.op, "value": e.value,
                              "start": e.start, "end": e.end, "text": e.text}
                             for e in a.evidence
                         ]}
                        for a in r.atoms
                    ],
                }
                for r in self.rows
            ],
        }


# --------------------------------------------------------------------------- semantics


def compile_pattern(pattern: str, flags: str = "") -> CompiledRegex:
    """The RE2 regexp for ``matches /pattern/flags`` (the grammar's cached compiler)."""
    return compile_regex(pattern, flags)


class _Context:
    """Per-route view of a task for row programs: built only when a program must run, and
    reading (and lowering) a field only when an atom asks for it."""

    __slots__ = ("_low", "_raw", "_tags_low", "complexity", "hits", "metadata", "tags",
                 "task", "words")

    def __init__(
        self, task: Task, low: dict[str, str], hits: dict[str, set[int]],
        words: dict[str, set[int]], complexity: int,
    ) -> None:
        self.task = task
        self._low = low
        self._raw: dict[str, str] = {}
        self._tags_low: frozenset[str] | None = None
        self.hits = hits
        self.words = words
        self.tags = task.tags
        self.complexity = complexity
        self.metadata = task.metadata

    def raw(self, name: str) -> str:
        found = self._raw.get(name)
        if found is None:
            found = self._raw[name] = _field_text(self.task, name)
        return found

    def low(self, name: str) -> str:
        found = self._low.get(name)
        if found is None:
            found = self._low[name] = self.raw(name).lower()
        return found

    @property
    def tags_low(self) -> frozenset[str]:
        if self._tags_low is None:
            self._tags_low = frozenset(t.lower() for t in self.tags)
        return self._tags_low


Program: TypeAlias = Callable[[_Context], bool]

# --------------------------------------------------------------------------- scanners


class _FieldScanner:
    """Every literal of every row on one text field: one pass reports which ones occur.

    ``find(text)`` returns the ids of the literals that occur in ``text.lower()``. With the
    RE2 backend an ASCII text is not lowered at all: a case-insensitive set over its bytes
    finds exactly what the case-sensitive set finds in the lowered bytes (on ASCII,
    ``str.lower()`` only maps A–Z, and a lowered literal with a non-ASCII character cannot
    occur in ASCII text either way).
    """

    __slots__ = ("backend", "find", "literals", "match_ascii", "match_lowered", "smask",
                 "wmask", "words")

    def __init__(self, literals: Sequence[str], backend: Literal["re2", "aho"] = "re2") -> None:
        self.literals = tuple(literals)
        self.smask: list[int] = [0] * len(literals)
        self.wmask: list[int] = [0] * len(literals)
        self.words: set[int] = set()
        lowered = _re2_set(self.literals, fold_ascii=False) if backend == "re2" else None
        folded = _re2_set(self.literals, fold_ascii=True) if lowered is not None else None
        self.match_lowered = lowered
        self.match_ascii = folded
        if lowered is not None and folded is not None:
            self.backend = "re2"

            def find(text: str) -> Iterable[int]:
                if text.isascii():
                    return folded(text.encode())
                return lowered(text.lower().encode("utf-8", "surrogatepass"))

            self.find: Callable[[str], Iterable[int]] = find
        else:
            self.backend = "aho"
            aho = _aho_set(self.literals)
            self.find = lambda text: aho(text.lower())


def _re2_set(literals: Sequence[str], fold_ascii: bool) -> Callable[[bytes], list[int]] | None:
    """RE2 ``Set`` over the literals' UTF-8 bytes (Latin-1 mode: bytes match as bytes)."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.case_sensitive = not fold_ascii
    options.log_errors = False
    # The DFA is built lazily; the budget only caps it. Sets never bail out for slowness.
    options.max_mem = max(64 << 20, 256 * sum(len(lit) for lit in literals))
    matcher = re2.Set.SearchSet(options)
    try:
        for index, literal in enumerate(literals):
            pattern = re2._re2.RE2.QuoteMeta(literal.encode("utf-8", "surrogatepass"))
            if matcher.Add(pattern) != index:
                return None
        matcher.Compile()
    except re2.error:
        return None
    # The wrapper's Match converts str and maps [] to None; we always pass bytes, so call
    # the compiled set directly and save a Python frame per field per route.
    raw = getattr(matcher, "_set", None)
    if raw is not None and callable(getattr(raw, "Match", None)):
        return raw.Match  # type: ignore[no-any-return]
    public = matcher.Match
    return lambda data: public(data) or []


def _aho_set(literals: Sequence[str]) -> Callable[[str], Iterable[int]]:
    """pyahocorasick automaton over the literals: the fallback when RE2 cannot build a set."""
    automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY)
    empty: list[int] = []
    for index, literal in enumerate(literals):
        if literal:
            automaton.add_word(literal, index)
        else:
            empty.append(index)
    if len(automaton) == 0:
        return lambda text: empty
    automaton.make_automaton()
    search = automaton.iter
    second = itemgetter(1)

    def match(text: str) -> Iterable[int]:
        found = set(map(second, search(text)))
        found.update(empty)
        return found

    return match


# --------------------------------------------------------------------------- compiling rows

_Gate: TypeAlias = "frozenset[tuple[str, bool, int]] | None"  # (field, is_word, literal id)


class _RowCompiler:
    """Turns row conditions into gates and programs over the field scanners."""

    def __init__(self, scanners: dict[str, _FieldScanner]) -> None:
        self.scanners = scanners
        self.ids = {f: {lit: i for i, lit in enumerate(s.literals)} for f, s in scanners.items()}

    def _literal_ids(self, atom: TextMatch) -> tuple[int, ...]:
        ids = self.ids[atom.field]
        return tuple(ids[v.lower()] for v in atom.values)

    def _scanned(self, atom: Expr) -> bool:
        return (
            isinstance(atom, TextMatch)
            and atom.field in SCANNED_FIELDS
            and atom.op in ("contains", "mentions")
        )

    def gate(self, expr: Expr) -> _Gate:
        """Literals one of which must occur for ``expr`` to hold, or None (no such set)."""
        if isinstance(expr, TextMatch) and self._scanned(expr):
            ids = self._literal_ids(expr)
            word = expr.op == "mentions"
            if expr.quantifier == "all":
                if not ids:
                    return None
                longest = max(range(len(ids)), key=lambda k: len(expr.values[k]))
                return frozenset({(expr.field, word, ids[longest])})
            return frozenset((expr.field, word, i) for i in ids)
        if isinstance(expr, Const):
            return None if expr.value else frozenset()
        if isinstance(expr, And):
            gates = [g for g in map(self.gate, expr.operands) if g is not None]
            return min(gates, key=len) if gates else None
        if isinstance(expr, Or):
            union: set[tuple[str, bool, int]] = set()
            for operand in expr.operands:
                g = self.gate(operand)
                if g is None:
                    return None
                union |= g
            return frozenset(union)
        return None

    def exact(self, expr: Expr) -> bool:
        """``expr`` holds exactly when one of its gate literals occurs."""
        if isinstance(expr, TextMatch):
            return self._scanned(expr) and expr.quantifier != "all" and bool(expr.values)
        if isinstance(expr, Or):
            return all(self.exact(o) for o in expr.operands)
        return False

    def program(self, expr: Expr) -> Program:
        if isinstance(expr, Const):
            constant = expr.value
            return lambda c: constant
        if isinstance(expr, Not):
            inner = self.program(expr.operand)
            return lambda c: not inner(c)
        if isinstance(expr, And):
            return reduce(_both, [self.program(o) for o in expr.operands])
        if isinstance(expr, Or):
            return reduce(_either, [self.program(o) for o in expr.operands])
        if isinstance(expr, TextMatch):
            return self._text_program(expr)
        if isinstance(expr, RegexMatch):
            return self._regex_program(expr)
        if isinstance(expr, Compare):
            name, op, value = expr.field, expr.op, expr.value
            get = _getter(name)
            return lambda c: compare(get(c), op, value)
        if isinstance(expr, InList):
            get = _getter(expr.field)
            values = expr.values
            return lambda c: in_list(get(c), values)
        raise TypeError(f"unknown expression node {type(expr).__name__}")

    def _text_program(self, atom: TextMatch) -> Program:
        name, op = atom.field, atom.op
        every = atom.quantifier == "all"
        values = tuple(v.lower() for v in atom.values)
        if self._scanned(atom):
            ids = frozenset(self._literal_ids(atom))
            if op == "contains":
                if every:
                    return lambda c: ids <= c.hits[name]
                return lambda c: not ids.isdisjoint(c.hits[name])
            if every:
                return lambda c: ids <= c.words[name]
            return lambda c: not ids.isdisjoint(c.words[name])
        if name in SCANNED_FIELDS:
            quantify = all if every else any
            return lambda c: quantify(text_test(op, c.low(name), v) for v in values)
        if name == "tags":
            quantify = all if every else any
            if op == "contains":
                wanted = frozenset(values)
                if every:
                    return lambda c: wanted <= c.tags_low
                return lambda c: not wanted.isdisjoint(c.tags_low)
            return lambda c: quantify(
                any(text_test(op, t, v) for t in c.tags_low) for v in values
            )
        if name.startswith("metadata."):
            key = name[len("metadata."):]
            quantify = all if every else any

            def meta_text(c: _Context) -> bool:
                found = c.metadata.get(key)
                if not isinstance(found, str):
                    return False
                low = found.lower()
                return quantify(text_test(op, low, v) for v in values)

            return meta_text
        return lambda c: False

    def _regex_program(self, atom: RegexMatch) -> Program:
        name = atom.field
        regex = compile_pattern(atom.pattern, atom.flags)
        search = regex.search
        if name in SCANNED_FIELDS:
            return lambda c: search(c.raw(name)) is not None
        if name == "tags":
            return lambda c: any(search(t) is not None for t in c.tags)
        if name.startswith("metadata."):
            key = name[len("metadata."):]

            def meta_regex(c: _Context) -> bool:
                found = c.metadata.get(key)
                return isinstance(found, str) and search(found) is not None

            return meta_regex
        return lambda c: False


_MISSING: Final = object()


def _both(first: Program, second: Program) -> Program:
    return lambda c: first(c) and second(c)


def _either(first: Program, second: Program) -> Program:
    return lambda c: first(c) or second(c)


def _getter(name: str) -> Callable[[_Context], object]:
    if name in SCANNED_FIELDS:
        return lambda c: c.low(name)
    if name == "complexity":
        return lambda c: c.complexity
    if name.startswith("metadata."):
        key = name[len("metadata."):]
        return lambda c: c.metadata.get(key, _MISSING)
    return lambda c: _MISSING  # tags and unknown fields compare false


# --------------------------------------------------------------------------- the router


def _as_task(task: object) -> Task:
    if isinstance(task, Task):
        return task
    if isinstance(task, str):
        return Task(description=task)
    if isinstance(task, Mapping):
        return Task.model_validate(dict(task))
    if isinstance(task, BaseModel):
        return Task.model_validate(task.model_dump())
    raise TypeError(
        f"cannot route a {type(task).__name__}: give a Task, a description string or a mapping"
    )


def _clamped(boost: int) -> tuple[int, ...]:
    return tuple(min(5, max(1, c + boost)) for c in range(6))


class Router:
    """Routes tasks through one decision table.

    ``route(task)`` takes a :class:`Task`, a plain string (the description) or a mapping with
    Task's fields. Attributes: ``mode_hash``, ``rows`` (the table's rows, in order),
    ``default_specialist``, ``hit_policy``, ``table``.
    """

    def __init__(
        self, table: DecisionTable, mode_hash: str = "", *,
        scanner: Literal["re2", "aho"] = "re2",
    ) -> None:
        self.table = table
        self.mode_hash = mode_hash
        self.rows: tuple[Row, ...] = table.rows
        self.default_specialist = table.default_specialist
        self.hit_policy = table.hit_policy
        default = table.default_complexity
        self._default_complexity = default if 1 <= default <= 5 else min(5, max(1, default))

        literals: dict[str, dict[str, None]] = {}
        for plan in table.scanners:
            literals.setdefault(plan.field, {}).update(dict.fromkeys(plan.literals))
        self._scanners = {f: _FieldScanner(tuple(lits), scanner) for f, lits in literals.items()}
        for plan in table.scanners:
            if plan.kind == "word":
                scan = self._scanners[plan.field]
                position = {lit: i for i, lit in enumerate(scan.literals)}
                scan.words.update(position[lit] for lit in plan.literals)

        self._outcomes = tuple(
            _Outcome(i, r.name, r.specialist, r.secondary_review, r.parallel_execution,
                     r.complexity_boost, r.source, (r.name,), _clamped(r.complexity_boost))
            for i, r in enumerate(table.rows)
        )
        fb: FallbackRow = table.fallback
        self._fallback = _Outcome(-1, fb.name, fb.specialist, fb.secondary_review,
                                  fb.parallel_execution, fb.complexity_boost, fb.source, (),
                                  _clamped(fb.complexity_boost))

        compiler = _RowCompiler(self._scanners)
        self._programs: list[Program] = []
        always = exact = 0
        for index, row in enumerate(table.rows):
            bit = 1 << index
            self._programs.append(compiler.program(row.condition))
            gate = compiler.gate(row.condition)
            if gate is None:
                always |= bit
                continue
            if compiler.exact(row.condition):
                exact |= bit
            for name, word, lit in gate:
                scan = self._scanners[name]
                if word:
                    scan.wmask[lit] |= bit
                else:
                    scan.smask[lit] |= bit
        self._always = always
        self._exact = exact
        self._fields = tuple(self._scanners.items())
        self._needs_words = any(s.words for s in self._scanners.values())

        # The common case (every row a disjunction of `contains` literals, hit policy first)
        # takes a path without masks: the first row is the least row any occurring literal
        # gates.
        all_rows = (1 << len(table.rows)) - 1
        if table.hit_policy == "first" and exact == all_rows and not self._needs_words:
            self.route = self._exact_route()  # type: ignore[method-assign, assignment]

    # ------------------------------------------------------------------ routing

    def route(self, task: TaskLike) -> Decision:
        """The decision for one task (hit policy ``unique`` may raise AmbiguousRouteError)."""
        if type(task) is not Task:
            task = _as_task(task)
        assert isinstance(task, Task)
        cand = self._always
        hits: dict[str, set[int]] = {}
        words: dict[str, set[int]] = {}
        low: dict[str, str] = {}
        for name, scan in self._fields:
            text = _field_text(task, name)
            found = set(scan.find(text))
            hits[name] = found
            smask, wmask, lits, word_ids = scan.smask, scan.wmask, scan.literals, scan.words
            verified: set[int] = set()
            for lit in found:
                cand |= smask[lit]
                if lit in word_ids:
                    lowered = low.get(name)
                    if lowered is None:
                        lowered = low[name] = text.lower()
                    if mentions(lowered, lits[lit]):
                        verified.add(lit)
                        cand |= wmask[lit]
            words[name] = verified
        complexity = task.complexity or self._default_complexity
        if not cand:
            return Decision(self._fallback, task, self)
        context: _Context | None = None
        exact, programs, outcomes = self._exact, self._programs, self._outcomes
        policy = self.hit_policy
        taken: list[int] = []
        while cand:
            low_bit = cand & -cand
            index = low_bit.bit_length() - 1
            cand ^= low_bit
            if not low_bit & exact:
                if context is None:
                    context = _Context(task, low, hits, words, complexity)
                if not programs[index](context):
                    continue
            if policy == "first":
                o = outcomes[index]
                return Decision(o, task, self)
            if policy == "unique" and taken:
                a, b = outcomes[taken[0]], outcomes[index]
                raise AmbiguousRouteError(a.name, b.name, a.source or "?", b.source or "?")
            taken.append(index)
        if not taken:
            return Decision(self._fallback, task, self)
        o = outcomes[taken[0]]
        matches = tuple(outcomes[i].name for i in taken)
        return Decision(o, task, self, matches)

    def _exact_route(self) -> Callable[[TaskLike], Decision]:
        """A specialised ``route`` for tables whose rows are all disjunctions of literals."""
        n = len(self._outcomes)
        # Index n stands for "no row": the fallback.
        outcomes = (*self._outcomes, self._fallback)
        router = self
        new_decision = Decision
        plain = Task
        as_task = _as_task
        scans = [(name, scan.find, [_lowest(m, n) for m in scan.smask])
                 for name, scan in self._fields]
        only = self._scanners.get("description")
        if (len(scans) == 1 and only is not None and only.match_ascii is not None
                and only.match_lowered is not None):
            folded, lowered = only.match_ascii, only.match_lowered
            first_row = scans[0][2]
            # Literal ids follow row order (the plan lists literals as rows first use them),
            # so the least id found names the first row; else take the least row per id.
            monotone = all(a <= b for a, b in pairwise(first_row))
            row_of = first_row.__getitem__

            def route_description(task: Any) -> Decision:
                if type(task) is not plain:
                    task = as_task(task)
                text = task.description
                found = (folded(text.encode()) if text.isascii()
                         else lowered(text.lower().encode("utf-8", "surrogatepass")))
                if not found:
                    o = outcomes[n]
                elif monotone:
                    o = outcomes[first_row[min(found)]]
                else:
                    o = outcomes[min(map(row_of, found))]
                return new_decision(o, task, router)

            return route_description

        def route_fields(task: Any) -> Decision:
            if type(task) is not plain:
                task = as_task(task)
            best = n
            for name, find, first_row in scans:
                found = find(_field_text(task, name))
                if found:
                    row = min(map(first_row.__getitem__, found))
                    if row < best:
                        best = row
            return new_decision(outcomes[best], task, router)

        return route_fields

    def route_many(self, tasks: Iterable[TaskLike]) -> list[Decision]:
        """``[route(t) for t in tasks]``."""
        route = self.route
        return [route(t) for t in tasks]

    # ------------------------------------------------------------------ explaining

    def explain(self, task: TaskLike) -> Explanation:
        """Every row, fired or not, with each atom's result and evidence; and the decision.

        The decision is :meth:`route`'s. Under ``unique`` an ambiguous task is explained
        (both rows show as fired) and the decision is the first of them.
        """
        t = _as_task(task)
        complexity = t.complexity or self._default_complexity
        traces: list[tuple[Row, bool, list[AtomTrace]]] = []
        for row in self.rows:
            atoms: list[AtomTrace] = []
            fired = _trace(row.condition, t, complexity, atoms)
            traces.append((row, fired, atoms))
        fired_rows = [i for i, (_, fired, _) in enumerate(traces) if fired]
        try:
            decision = self.route(t)
        except AmbiguousRouteError:
            o = self._outcomes[fired_rows[0]]
            decision = Decision(o, t, self, tuple(self._outcomes[i].name for i in fired_rows))
        taken = set(decision.matches)
        rows = tuple(
            RowTrace(row.name, format_expr(row.condition), row.source, fired,
                     fired and row.name in taken, tuple(atoms))
            for row, fired, atoms in traces
        )
        return Explanation(decision, rows, self.hit_policy, fallback=not decision.matches)

    def _evidence(self, task: Task, matches: tuple[str, ...]) -> tuple[Evidence, ...]:
        complexity = task.complexity or self._default_complexity
        out: list[Evidence] = []
        for row in self.rows:
            if row.name in matches:
                _positive_evidence(row.condition, task, complexity, out)
        return tuple(out)

    def __repr__(self) -> str:
        return (f"Router(mode_hash={self.mode_hash!r}, rows={len(self.rows)}, "
                f"hit_policy={self.hit_policy!r})")


def _lowest(mask: int, none: int) -> int:
    return (mask & -mask).bit_length() - 1 if mask else none


def _field_text(task: Task, name: str) -> str:
    if name == "description":
        return task.description
    if name == "title":
        return task.title
    return task.title + "\n" + task.description


# --------------------------------------------------------------------------- explain & evidence


def _lower_map(text: str) -> list[int] | None:
    """Original index of each character of ``text.lower()``, or None when lengths agree."""
    if text.isascii():
        return None
    starts: list[int] = []
    for index, ch in enumerate(text):
        starts.extend([index] * len(ch.lower()))
    return None if len(starts) == len(text) else starts


def _occurrences(op: str, subject: str, value: str) -> list[tuple[int, int]]:
    """``[start, end)`` in ``subject`` (lowered) of each qualifying occurrence of ``value``."""
    n = len(value)
    if op == "startswith":
        return [(0, n)] if subject.startswith(value) else []
    if op == "endswith":
        return [(len(subject) - n, len(subject))] if subject.endswith(value) else []
    out: list[tuple[int, int]] = []
    if n == 0:
        return [(0, 0)]
    need_left, need_right = isword(value[0]), isword(value[-1])
    i = subject.find(value)
    while i >= 0:
        j = i + n
        if op == "contains" or (
            (i == 0 or not need_left or not isword(subject[i - 1]))
            and (j == len(subject) or not need_right or not isword(subject[j]))
        ):
            out.append((i, j))
        i = subject.find(value, i + 1)
    return out


def _text_evidence(
    field_name: str, op: str, value: str, original: str
) -> list[Evidence]:
    lowered = original.lower()
    mapping = _lower_map(original)
    out = []
    for i, j in _occurrences(op, lowered, value.lower()):
        if mapping is not None:
            start = mapping[i] if i < len(mapping) else len(original)
            end = mapping[j - 1] + 1 if j > i else start
        else:
            start, end = i, j
        out.append(Evidence(field_name, op, value, start, end, original[start:end]))
    return out


def _atom_subjects(atom: TextMatch | RegexMatch, task: Task) -> list[tuple[str, str]]:
    """(field label, original text) pairs an atom reads; empty when the field has no text."""
    name = atom.field
    if name in SCANNED_FIELDS:
        return [(name, _field_text(task, name))]
    if name == "tags":
        return [(f"tags[{i}]", tag) for i, tag in enumerate(task.tags)]
    if name.startswith("metadata."):
        found = task.metadata.get(name[len("metadata."):])
        return [(name, found)] if isinstance(found, str) else []
    return []


def _value_evidence(atom: TextMatch | RegexMatch, task: Task, value: str) -> list[Evidence]:
    out: list[Evidence] = []
    for label, text in _atom_subjects(atom, task):
        if isinstance(atom, RegexMatch):
            m = compile_pattern(atom.pattern, atom.flags).search(text)
            if m is not None:
                out.append(Evidence(label, "matches", value, m.start(), m.end(), m.group(0)))
        elif atom.field == "tags" and atom.op == "contains":
            if text.lower() == value.lower():
                out.append(Evidence(label, "contains", value, 0, len(text), text))
        else:
            out.extend(_text_evidence(label, atom.op, value, text))
    return out


def _atom_result(
    atom: Expr, task: Task, complexity: int
) -> tuple[bool, list[Evidence], str | None]:
    """Evaluate one leaf directly (no scanners): result, evidence, note."""
    if isinstance(atom, Const):
        return atom.value, [], None
    if isinstance(atom, TextMatch):
        per_value = [_value_evidence(atom, task, v) for v in atom.values]
        result = all(per_value) if atom.quantifier == "all" else any(per_value)
        text_note: str | None = None
        if not _atom_subjects(atom, task):
            text_note = (f"{atom.field} is missing or not text"
                         if atom.field.startswith("metadata.") else f"{atom.field} has no text")
        evidence = sorted((e for found in per_value for e in found),
                          key=lambda e: (e.field, e.start, e.end))
        return result, evidence, text_note
    if isinstance(atom, RegexMatch):
        subjects = _atom_subjects(atom, task)
        if not subjects:
            return False, [], f"{atom.field} has no text"
        found = _value_evidence(atom, task, atom.pattern)
        return bool(found), found, None
    if isinstance(atom, Compare | InList):
        value = _task_value(atom.field, task, complexity)
        note: str | None = None
        if value is _MISSING:
            note = f"{atom.field} is missing" if atom.field.startswith("metadata.") else (
                f"{atom.field} is not comparable")
        if isinstance(atom, Compare):
            result = compare(value, atom.op, atom.value)
        else:
            result = in_list(value, atom.values)
        if note is None and not result:
            note = f"{atom.field} is {value!r}"
        return result, [], note
    raise TypeError(f"not a leaf: {type(atom).__name__}")


def _task_value(name: str, task: Task, complexity: int) -> object:
    if name in SCANNED_FIELDS:
        return _field_text(task, name)
    if name == "complexity":
        return complexity
    if name.startswith("metadata."):
        return task.metadata.get(name[len("metadata."):], _MISSING)
    return _MISSING


def _trace(expr: Expr, task: Task, complexity: int, atoms: list[AtomTrace]) -> bool:
    """Evaluate ``expr`` fully (no short circuit), recording every leaf in ``atoms``."""
    if isinstance(expr, Not):
        return not _trace(expr.operand, task, complexity, atoms)
    if isinstance(expr, And):
        results = [_trace(o, task, complexity, atoms) for o in expr.operands]
        return all(results)
    if isinstance(expr, Or):
        results = [_trace(o, task, complexity, atoms) for o in expr.operands]
        return any(results)
    result, evidence, note = _atom_result(expr, task, complexity)
    atoms.append(AtomTrace(format_expr(expr), result, tuple(evidence), note))
    return result


def _positive_evidence(expr: Expr, task: Task, complexity: int, out: list[Evidence]) -> bool:
    """Evaluate ``expr``; when true, append the evidence of the atoms that made it true."""
    if isinstance(expr, Not):
        return not _positive_evidence(expr.operand, task, complexity, [])
    if isinstance(expr, And):
        collected: list[Evidence] = []
        for operand in expr.operands:
            if not _positive_evidence(operand, task, complexity, collected):
                return False
        out.extend(collected)
        return True
    if isinstance(expr, Or):
        any_true = False
        for operand in expr.operands:
            any_true |= _positive_evidence(operand, task, complexity, out)
        return any_true
    result, evidence, _ = _atom_result(expr, task, complexity)
    if result:
        out.extend(evidence)
    return result


# --------------------------------------------------------------------------- loading


def load_router(
    source: Artifact | DecisionTable | bytes | str | os.PathLike[str],
    *, scanner: Literal["re2", "aho"] = "re2",
) -> Router:
    """A router from an :class:`Artifact`, its bytes, or the path of a compiled artifact file.

    Raises :class:`~modec.compiler.artifact.CorruptArtifactError` for bytes that are not an
    intact artifact of this format.
    """
    if isinstance(source, DecisionTable):
        return Router(source, scanner=scanner)
    if isinstance(source, str | os.PathLike):
        source = Path(source).read_bytes()
    if isinstance(source, bytes | bytearray | memoryview):
        source = Artifact.from_bytes(bytes(source))
    return Router(source.table, source.mode_hash, scanner=scanner)
