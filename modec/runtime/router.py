"""The router: a decision table, loaded once, routing tasks fast and explaining every decision.

A :class:`Router` is built from a :class:`~modec.compiler.table.DecisionTable` (usually out
of a compiled artifact, :func:`load_router`); it never sees YAML or the IR. At load it turns
the table's scanner plan into one multi-pattern scanner over every literal of every text
field (:mod:`modec.runtime.scanner`), and each row into a gate and a program
(:mod:`modec.runtime.programs`):

* **Scanning.** ``title`` and ``description`` are each scanned once; the hits of ``text``
  (title + newline + description) are derived from theirs, since a literal without a newline
  occurs in the composed text exactly when it occurs in one of the parts. ``mentions``
  literals that occur are then checked for word boundaries.
* **Rows.** A bitmask over rows, built from the literals that occurred, says which gated rows
  can fire at all; exact rows fire by being candidates; other rows run their program. A table
  of exact rows under hit policy ``first`` takes a specialised path that scans long texts in
  chunks and stops once no lower row can win; its ``route_many`` scans a batch of texts
  many per RE2 call.
* **Tasks in.** ``route`` takes a :class:`Task`, a string (the description), a mapping or any
  object with task-like attributes (:func:`~modec.compiler.task.read_task`); strings and
  well-typed mappings build no pydantic model, and ``Decision.task`` is built on demand.

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
>>> router.route({"title": "x", "description": "nothing", "owner": "ignored"}).task_type
'general_tasks'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from itertools import compress, pairwise
from operator import attrgetter, not_
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from modec.compiler.artifact import Artifact
from modec.compiler.semantics import mentions
from modec.compiler.table import DecisionTable, FallbackRow, Row
from modec.compiler.task import (
    MAX_TASK_CHARS,
    AmbiguousRouteError,
    Task,
    TaskLike,
    TaskTooLargeError,
    TaskView,
    compose_text,
    description_only,
    read_task,
)
from modec.runtime.codegen import MAX_GENERATED_ROWS, generate
from modec.runtime.decision import (
    AtomTrace,
    Decision,
    Evidence,
    Explanation,
    Outcome,
    RowTrace,
    decision_of,
)
from modec.runtime.programs import Context, Program, RowCompiler
from modec.runtime.scanner import CHUNK_CHARS, BatchScanner, LiteralSet, raw_scan_ok

if TYPE_CHECKING:
    from modec.grammar import CompiledRegex

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
    "TaskView",
    "compile_pattern",
    "load_router",
    "read_task",
]


def compile_pattern(pattern: str, flags: str = "") -> CompiledRegex:
    """The RE2 regexp for ``matches /pattern/flags`` (the grammar's cached compiler)."""
    from modec.grammar import compile_regex

    return compile_regex(pattern, flags)


def _clamped(boost: int) -> tuple[int, ...]:
    return tuple(min(5, max(1, c + boost)) for c in range(6))


def _lowest(mask: int, none: int) -> int:
    return (mask & -mask).bit_length() - 1 if mask else none


def _scan_sources(
    by_field: dict[str, dict[str, None]],
) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], bool]:
    """The texts to scan, each with the fields whose hits it gives; whether ``text`` is
    derived. Title and description are scanned once each and feed ``text`` too, unless a
    ``text`` literal holds a newline (it could straddle the join): then ``text`` is scanned
    itself."""
    derive = not any("\n" in lit for lit in by_field.get("text", ()))
    sources: list[tuple[str, tuple[str, ...]]] = []
    for part in ("title", "description"):
        feeds = tuple(f for f in (part, "text") if f in by_field and (f == part or derive))
        if feeds:
            sources.append((part, feeds))
    if "text" in by_field and not derive:
        sources.append(("text", ("text",)))
    return tuple(sources), derive


def _field_text(task: Task | TaskView, name: str) -> str:
    if name == "description":
        return task.description
    if name == "title":
        return task.title
    return compose_text(task.title, task.description)


def _too_large(text: str) -> TaskTooLargeError:
    return TaskTooLargeError(f"task has {len(text):,} characters; the limit is {MAX_TASK_CHARS:,}")


def _not_unicode(exc: UnicodeEncodeError) -> ValueError:
    return ValueError(
        f"text contains a lone surrogate at index {exc.start}; it is not valid Unicode"
    )


class Router:
    """Routes tasks through one decision table.

    ``route(task)`` takes a :class:`Task`, a plain string (the description), a mapping, or
    any object with task-like attributes (unknown fields are ignored; see
    :func:`~modec.compiler.task.read_task` for a field map). ``generated`` picks the row
    code of a table that is not all literals: Python written for the table
    (:mod:`modec.runtime.codegen`, the default up to
    :data:`~modec.runtime.codegen.MAX_GENERATED_ROWS` rows) or the bitmask programs.
    Attributes: ``mode_hash``,
    ``rows`` (the table's rows, in order), ``default_specialist``, ``default_complexity``,
    ``hit_policy``, ``table``.
    """

    def __init__(
        self,
        table: DecisionTable,
        mode_hash: str = "",
        *,
        scanner: Literal["re2", "aho"] = "re2",
        generated: bool | None = None,
    ) -> None:
        self.table = table
        self.mode_hash = mode_hash
        self.rows: tuple[Row, ...] = table.rows
        self.default_specialist = table.default_specialist
        self.hit_policy = table.hit_policy
        self.default_complexity = min(5, max(1, table.default_complexity))
        ids = self._build_scanner(table, scanner)
        self._outcomes = tuple(
            Outcome(
                i,
                r.name,
                r.specialist,
                r.secondary_review,
                r.parallel_execution,
                r.complexity_boost,
                r.source,
                (r.name,),
                _clamped(r.complexity_boost),
                self,
            )
            for i, r in enumerate(table.rows)
        )
        fb: FallbackRow = table.fallback
        self._fallback = Outcome(
            -1,
            fb.name,
            fb.specialist,
            fb.secondary_review,
            fb.parallel_execution,
            fb.complexity_boost,
            fb.source,
            (),
            _clamped(fb.complexity_boost),
            self,
        )
        self._build_rows(table, ids)
        # The common case (every row a disjunction of `contains` literals, hit policy first)
        # takes a path without masks: the first row is the least row any occurring literal
        # gates.
        all_rows = (1 << len(table.rows)) - 1
        if table.hit_policy == "first" and self._exact == all_rows and not self._needs_words:
            self.route = self._exact_route()  # type: ignore[method-assign, assignment]
        elif generated or (generated is None and len(table.rows) <= MAX_GENERATED_ROWS):
            self.route = self._generated_route(ids)  # type: ignore[method-assign, assignment]

    def _build_scanner(
        self, table: DecisionTable, scanner: Literal["re2", "aho"]
    ) -> dict[str, int]:
        """The literal universe's scanner, per-field masks and scan sources; literal ids."""
        universe: dict[str, None] = {}
        by_field: dict[str, dict[str, None]] = {}
        word_literals: dict[str, set[str]] = {}
        for plan in table.scanners:
            universe.update(dict.fromkeys(plan.literals))
            by_field.setdefault(plan.field, {}).update(dict.fromkeys(plan.literals))
            if plan.kind == "word":
                word_literals.setdefault(plan.field, set()).update(plan.literals)
        ids = {lit: i for i, lit in enumerate(universe)}
        self._literals = LiteralSet(tuple(universe), scanner) if universe else None
        self._fields = tuple(by_field)
        size = len(universe)
        self._smask = {f: [0] * size for f in by_field}
        self._wmask = {f: [0] * size for f in by_field}
        self._words = {f: frozenset(ids[w] for w in word_literals.get(f, ())) for f in by_field}
        self._needs_words = any(self._words.values())
        self._sources, derive = _scan_sources(by_field)
        self._text_parts = ("title", "description") if derive else ("text",)
        return ids

    def _build_rows(self, table: DecisionTable, ids: dict[str, int]) -> None:
        compiler = RowCompiler(ids)
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
                (self._wmask if word else self._smask)[name][lit] |= bit
        self._always = always
        self._exact = exact

    # ------------------------------------------------------------------ routing

    def route(self, task: TaskLike) -> Decision:
        """The decision for one task (hit policy ``unique`` may raise AmbiguousRouteError)."""
        kind = type(task)
        t: Task | TaskView = (
            task
            if kind is Task or kind is TaskView  # type: ignore[assignment]
            else read_task(task)
        )
        cand, hits, words, low = self._candidates(t)
        if not cand:
            return Decision(self._fallback, t)
        return self._decide(t, cand, hits, words, low)

    def _candidates(
        self, t: Task | TaskView
    ) -> tuple[int, dict[str, set[int]], dict[str, set[int]], dict[str, str]]:
        cand = self._always
        hits: dict[str, set[int]] = {}
        words: dict[str, set[int]] = {}
        low: dict[str, str] = {}
        literals = self._literals
        if literals is None:
            return cand, hits, words, low
        find = literals.find
        for source, feeds in self._sources:
            found = set(find(_field_text(t, source)))
            for name in feeds:
                before = hits.get(name)
                hits[name] = found if before is None else before | found
        for name in self._fields:
            found = hits[name]
            smask = self._smask[name]
            for lit in found:
                cand |= smask[lit]
            word_ids = self._words[name]
            verified: set[int] = set()
            if word_ids:
                wmask = self._wmask[name]
                for lit in found & word_ids:
                    if self._mentioned(t, name, literals.literals[lit], low):
                        verified.add(lit)
                        cand |= wmask[lit]
            words[name] = verified
        return cand, hits, words, low

    def _mentioned(self, t: Task | TaskView, name: str, word: str, low: dict[str, str]) -> bool:
        for part in self._text_parts if name == "text" else (name,):
            lowered = low.get(part)
            if lowered is None:
                lowered = low[part] = _field_text(t, part).lower()
            if mentions(lowered, word):
                return True
        return False

    def _decide(
        self,
        t: Task | TaskView,
        cand: int,
        hits: dict[str, set[int]],
        words: dict[str, set[int]],
        low: dict[str, str],
    ) -> Decision:
        context: Context | None = None
        exact, programs, outcomes = self._exact, self._programs, self._outcomes
        policy = self.hit_policy
        taken: list[int] = []
        while cand:
            low_bit = cand & -cand
            index = low_bit.bit_length() - 1
            cand ^= low_bit
            if not low_bit & exact:
                if context is None:
                    context = Context(t, low, hits, words, t.complexity or self.default_complexity)
                if not programs[index](context):
                    continue
            if policy == "first":
                return Decision(outcomes[index], t)
            if policy == "unique" and taken:
                a, b = outcomes[taken[0]], outcomes[index]
                raise AmbiguousRouteError(a.name, b.name, a.source or "?", b.source or "?")
            taken.append(index)
        if not taken:
            return Decision(self._fallback, t)
        return decision_of(outcomes[taken[0]], t, tuple(outcomes[i].name for i in taken))

    def _generated_route(self, ids: dict[str, int]) -> Callable[[TaskLike], Decision]:
        """``route`` through the rows written as one Python function (:mod:`.codegen`)."""
        outcomes, fallback, policy = self._outcomes, self._fallback, self.hit_policy

        def finish(t: Task | TaskView, taken: list[int]) -> Decision:
            if not taken:
                return Decision(fallback, t)
            if policy == "unique" and len(taken) > 1:
                a, b = outcomes[taken[0]], outcomes[taken[1]]
                raise AmbiguousRouteError(a.name, b.name, a.source or "?", b.source or "?")
            return decision_of(outcomes[taken[0]], t, tuple(outcomes[i].name for i in taken))

        return generate(
            self.rows,
            ids,
            None if self._literals is None else self._literals.find,
            outcomes,
            fallback,
            Decision,
            None if policy == "first" else finish,
            self.default_complexity,
            read_task,
            (Task, TaskView),
            Task,
            Decision.__slots__,
        )

    def _exact_route(self) -> Callable[[TaskLike], Decision]:
        """A specialised ``route`` for tables whose rows are all disjunctions of literals."""
        n = len(self._outcomes)
        # Index n stands for "no row": the fallback.
        outcomes = (*self._outcomes, self._fallback)
        literals = self._literals
        if literals is None:
            fallback = self._fallback

            def route_nothing(task: Any) -> Decision:
                kind = type(task)
                return Decision(
                    fallback, task if kind is Task or kind is TaskView else read_task(task)
                )

            return route_nothing
        sources = []
        for source, feeds in self._sources:
            row_of = [
                min(_lowest(self._smask[f][i], n) for f in feeds)
                for i in range(len(literals.literals))
            ]
            sources.append((source, row_of, min(row_of, default=n)))
        if len(sources) == 1 and sources[0][0] == "description" and literals.backend == "re2":
            return self._description_route(literals, sources[0][1], outcomes)
        ranked = [(source, literals.ranker(row_of, n), floor) for source, row_of, floor in sources]

        def route_fields(task: Any) -> Decision:
            kind = type(task)
            if kind is not Task and kind is not TaskView:
                task = read_task(task)
            best = n
            for source, rank, floor in ranked:
                if best > floor:
                    best = min(best, rank(_field_text(task, source)))
            return Decision(outcomes[best], task)

        return route_fields

    def _description_route(
        self, literals: LiteralSet, row_of: Sequence[int], outcomes: Sequence[Outcome]
    ) -> Callable[[TaskLike], Decision]:
        folded, lowered = literals.match_ascii, literals.match_lowered
        assert folded is not None and lowered is not None
        n = len(outcomes) - 1
        rank = literals.ranker(row_of, n)
        long_text = 2 * max(CHUNK_CHARS, 4 * literals.longest)
        row = row_of.__getitem__
        monotone = all(a <= b for a, b in pairwise(row_of))
        ascii_only = literals.ascii_only
        dotted_i, kelvin = "\u0130", "\u212a"  # the text scans raw without them (raw_scan_ok)
        new, alloc = Decision, object.__new__
        nothing = outcomes[n]
        first = tuple(outcomes[r] for r in row_of)  # the outcome of each literal's least row
        plain, view, read, only, limit = Task, TaskView, read_task, description_only, MAX_TASK_CHARS

        def route_description(task: Any) -> Decision:
            kind = type(task)
            if kind is plain or kind is view:
                text = task.description
            elif kind is str:
                text = task
            elif kind is dict and (text := only(task)) is not None:
                task = text  # routes, and decides, exactly as its description
            else:
                task = read(task)
                text = task.description
            if len(text) > long_text:
                if len(text) > limit and type(task) is str:
                    raise _too_large(text)
                try:  # the scan proves the text valid Unicode
                    return new(outcomes[rank(text)], task)
                except UnicodeEncodeError as exc:
                    raise _not_unicode(exc) from exc
            if text.isascii():
                found = folded(text.encode())
            else:
                try:
                    found = (
                        folded(text.encode())
                        if ascii_only and dotted_i not in text and kelvin not in text
                        else lowered(text.lower().encode())
                    )
                except UnicodeEncodeError as exc:
                    raise _not_unicode(exc) from exc
            # Literal ids follow row order (the plan lists literals as rows first use them),
            # so the least id found names the first row; else take the least row per id.
            d = alloc(new)  # Decision(outcome, task), without the frame of its __init__
            if not found:
                d._o = nothing
            elif monotone:  # most texts hit one literal at most: no min() call then
                d._o = first[found[0] if len(found) == 1 else min(found)]
            else:
                d._o = outcomes[min(map(row, found))]
            d._task = task
            return d

        self._many = self._description_many(
            literals, row_of, outcomes, route_description, long_text
        )
        return route_description

    @staticmethod
    def _description_many(
        literals: LiteralSet,
        row_of: Sequence[int],
        outcomes: Sequence[Outcome],
        one: Callable[[Any], Decision],
        long_text: int,
    ) -> Callable[[Iterable[TaskLike]], list[Decision]]:
        """The batch form of the description route.

        A batch of plain strings, of tasks, or of dicts that give only a description, of
        ordinary size, is decided stage by stage, each stage one C-level pass over the batch
        (``map``): the texts' types and sizes are checked once, each distinct text is encoded
        and scanned once, its row picked once, and the decisions built in one pass; no
        per-task dispatch. Any other batch (mixed kinds, a long text, literals or texts that
        need lowering) goes through ``one`` task by task, so errors arise as in a loop.
        """
        folded = literals.match_ascii
        assert folded is not None
        fallback = outcomes[-1]
        new = Decision
        plain, view, only = Task, TaskView, description_only
        description = attrgetter("description")
        encode, isascii = str.encode, str.isascii
        ascii_only = literals.ascii_only
        row = row_of.__getitem__
        built: list[BatchScanner | None] = []  # the batch scanner, built on first use
        limit = MAX_TASK_CHARS

        def pick(found: list[int]) -> Outcome:
            return outcomes[min(map(row, found))] if found else fallback

        def many(tasks: Iterable[Any]) -> list[Decision]:
            batch = tasks if type(tasks) is list else list(tasks)
            kinds = set(map(type, batch))
            texts: list[Any]
            if kinds == {str}:
                texts = batch
            elif kinds <= {plain, view}:
                texts = list(map(description, batch))
            elif kinds == {dict}:
                texts = list(map(only, batch))
                if None in texts:
                    return list(map(one, batch))
                batch = texts  # each decides exactly as its description
            else:
                return list(map(one, batch))
            if not texts or not ascii_only:
                return list(map(one, batch))
            if not built:
                built.append(BatchScanner.build(literals, row_of))
            scanner = built[0]
            if scanner is not None:
                # Each distinct text is scanned once (a backlog repeats texts).
                distinct = list(dict.fromkeys(texts))
                rows = scanner.rows(distinct, len(outcomes) - 1, limit)
                if rows is None:  # a text the batch scanner does not take
                    return list(map(one, batch))
                if len(distinct) < len(texts):
                    rows = list(map(dict(zip(distinct, rows, strict=True)).__getitem__, texts))
                return list(map(new, map(outcomes.__getitem__, rows), batch))
            if max(map(len, texts)) > long_text:
                return list(map(one, batch))
            # A non-ASCII text is scanned raw, as route() does, unless it holds İ or the
            # Kelvin sign (which lower to ASCII letters).
            if not all(map(isascii, texts)) and not all(
                map(raw_scan_ok, compress(texts, map(not_, map(isascii, texts))))
            ):
                return list(map(one, batch))
            distinct = list(dict.fromkeys(texts))
            try:
                found = list(map(folded, map(encode, distinct)))
            except UnicodeEncodeError:  # a lone surrogate: raised where the loop raises it
                return list(map(one, batch))
            picked = dict(zip(distinct, map(pick, found), strict=True))
            return list(map(new, map(picked.__getitem__, texts), batch))

        return many

    def route_many(self, tasks: Iterable[TaskLike]) -> list[Decision]:
        """``[route(t) for t in tasks]``: the same decisions (and the same error, at the same
        task), faster than the loop on a table of literal rows over ``description``, where
        a batch of strings, tasks or description-only dicts is scanned 16 texts per RE2 call
        (:class:`~modec.runtime.scanner.BatchScanner`)."""
        many = getattr(self, "_many", None)
        if many is not None:
            return many(tasks)  # type: ignore[no-any-return]
        return list(map(self.route, tasks))

    # ------------------------------------------------------------------ explaining

    def explain(self, task: TaskLike) -> Explanation:
        """Every row, fired or not, with each atom's result and evidence; and the decision.

        The decision is :meth:`route`'s. Under ``unique`` an ambiguous task is explained
        (both rows show as fired) and the decision is the first of them. Evidence is bounded
        (:mod:`modec.runtime.decision`); ``Explanation.truncated`` says when it was cut.
        """
        # The explain interpreter (and the grammar's printer) load on first use: a process
        # that only routes never imports them.
        from modec.grammar import format_expr
        from modec.runtime.explain import trace_rows

        t = read_task(task)
        complexity = t.complexity or self.default_complexity
        traces, truncated = trace_rows(self.rows, t, complexity)
        fired_rows = [i for i, (_, fired, _) in enumerate(traces) if fired]
        try:
            decision = self.route(t)
        except AmbiguousRouteError:
            o = self._outcomes[fired_rows[0]]
            decision = decision_of(o, t, tuple(self._outcomes[i].name for i in fired_rows))
        taken = set(decision.matches)
        rows = tuple(
            RowTrace(
                row.name,
                format_expr(row.condition),
                row.source,
                fired,
                fired and row.name in taken,
                tuple(atoms),
            )
            for row, fired, atoms in traces
        )
        return Explanation(
            decision, rows, self.hit_policy, fallback=not decision.matches, truncated=truncated
        )

    def evidence_of(
        self, task: Task | TaskView | str, matches: tuple[str, ...]
    ) -> tuple[Evidence, ...]:
        """The evidence of the rows ``matches`` for ``task`` (``Decision.evidence``)."""
        if not matches:
            return ()
        from modec.runtime.explain import positive_evidence

        t = read_task(task)
        return positive_evidence(self.rows, matches, t, t.complexity or self.default_complexity)

    def __repr__(self) -> str:
        return (
            f"Router(mode_hash={self.mode_hash!r}, rows={len(self.rows)}, "
            f"hit_policy={self.hit_policy!r})"
        )


# --------------------------------------------------------------------------- loading


def load_router(
    source: Artifact | DecisionTable | bytes | str | os.PathLike[str],
    *,
    scanner: Literal["re2", "aho"] = "re2",
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
