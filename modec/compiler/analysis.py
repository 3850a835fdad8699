"""Static analysis of routing rows: dead rows, overlaps, keyword traps, reachability, coverage.

:func:`analyse` answers, before anything runs, which rows can never fire, which rows overlap,
which keywords are traps and which specialists no task can reach. It is run by the ``check``
stage (so by ``modec lint``) and, with every option, by ``modec analyse``.

**The model.** Every row condition becomes a propositional formula over *atoms* (Tseitin
encoding), solved with a CDCL SAT solver (MiniSat 2.2 through ``python-sat``):

* text atoms ``F contains|mentions|startswith|endswith "lit"`` on ``title``, ``description``,
  ``text``, ``metadata.KEY`` (a single string) and ``tags`` (some element), literals lowered;
* ``complexity`` as one of 1–5 (exactly one), so comparisons on it are exact;
* ``metadata.KEY`` compared only by equality (text) and order (numbers) as one value out of a
  finite set of representatives that is complete for the constants used (absent, booleans,
  NaN, each constant, a number in every gap, another text), so those comparisons are exact;
* anything else — regular expressions, text ordering, comparisons on text fields — as a free
  atom, which over-approximates: the solver may pick values no task has, never the opposite.

*Theory lemmas* tie text atoms together, each true of every task: a literal implies every
literal it contains (``contains "testing"`` ⇒ ``contains "test"``), a whole-word occurrence
implies the words bounded inside it (``mentions "getting started"`` ⇒ ``mentions
"started"``), ``title``/``description`` flow into ``text`` (and ``text contains "x"`` without a
line break needs one of them), ``startswith`` on ``text`` is ``startswith`` on ``title``, two
prefixes that are not prefixes of each other exclude each other. On conditions built from
text atoms on ``title``/``description``/``text``, ``tags contains``, ``complexity`` and those
``metadata`` comparisons, the encoding is complete, so the analysis is *exact* there: a row is
reported dead exactly when every task it matches is taken by earlier rows (and a live row gets
a witness task, :func:`decided_by`; the property tests check both directions). Because
atoms only over-approximate, "never fires" is *sound* everywhere (regex rows included: they
are merely reported less often). An overlap is reported only with a witness task that was
built from the solver's model and checked against the semantics (:func:`holds`).

**The bound.** :class:`AnalysisLimits`, in counts only, so that the same file gives the same
diagnostics on every machine and under any load: each SAT query stops after a conflict and a
propagation budget, the whole analysis after a number of queries, conflicts and
propagations, the theory after a number of lemma clauses and substring occurrences, the
overlap search after a number of reported pairs. Whatever a bound cut is reported as the note
MC603 and listed in :attr:`AnalysisReport.skipped`. A generous wall-clock deadline stays only
as a safety net against a pathological input on a stalled machine: it is checked between
queries, its firing is reported as MC603 too (saying that the result then depends on the
machine), and it can only leave rows undecided, never add a finding.

**Builtin rows.** The classic keyword lists come with every version-1 file without the author
writing them. Findings that are only about them (the implicit rows, or the keywords of a rule
whose condition is builtin) are left out unless ``AnalysisOptions(builtins=True)`` (``modec
analyse --builtins``), which is how the README shows the classic table's own traps.

>>> from modec.compiler.pipeline import compile_text
>>> text = '''task_orchestrator:
...   role_definition: "o"
...   specialist_roles: {implementer: "builds"}
... implementer: {role_definition: "i"}
... mode_configuration: {builtin_task_types: false}
... task_routing_rules:
...   test_tasks: {keywords: [test]}
...   unit_test_tasks: {keywords: [unit test, testing]}
... '''
>>> c = compile_text(text, "m.yaml", until="build")
>>> report = analyse(c.mode, c.sources)
>>> [(v.name, v.status, v.covered_by) for v in report.rows]
[('test_tasks', 'fires', ()), ('unit_test_tasks', 'never', ('test_tasks',))]
>>> sorted({d.code for d in report.diagnostics})
['MC601', 'MC606']
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import gzip
import importlib
import itertools
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Final, Literal

import ahocorasick
from pysat.card import CardEnc, EncType
from pysat.solvers import Solver

from modec.compiler.ir import (
    BUILTIN_KEYWORDS,
    FALLBACK_TYPE,
    And,
    Compare,
    Const,
    Expr,
    InList,
    ModeFile,
    Not,
    Or,
    RegexMatch,
    Rule,
    Scalar,
    TextMatch,
    field_kind,
)
from modec.compiler.semantics import compare, is_number, isword, mentions, text_test
from modec.compiler.source import YNode, load_bytes
from modec.compiler.table import default_specialist, fallback_rule, iter_atoms, ordered_rules
from modec.diagnostics import Diagnostic, Span
from modec.grammar import compile_regex, format_expr

__all__ = [
    "AnalysisLimits",
    "AnalysisOptions",
    "AnalysisReport",
    "CoverageReport",
    "ImpactReport",
    "Overlap",
    "RowChange",
    "RowCoverage",
    "RowVerdict",
    "WitnessTask",
    "analyse",
    "changed_rows",
    "coverage",
    "decided_by",
    "english_words",
    "holds",
    "impact",
    "keyword_hazards",
    "synthesize_tasks",
]

_TEXT_FIELDS: Final = ("title", "description", "text")
_WORD_LIST: Final = "data/english-words.txt.gz"


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class AnalysisLimits:
    """How much work one analysis may do; whatever a limit cuts is reported (MC603).

    Every limit but ``deadline_seconds`` is a count, so a verdict never depends on the
    machine's speed or load. The defaults keep a lint of an ordinary mode in milliseconds and
    let a 1,000-rule mode finish within the counts.
    """

    #: Safety net only: wall-clock seconds after which the remaining queries are skipped
    #: (checked between queries). Reported as MC603 when it fires; never adds a finding.
    deadline_seconds: float = 60.0
    #: Conflicts one SAT query may spend before it is abandoned as undecided.
    conflicts_per_query: int = 20_000
    #: Unit propagations one SAT query may spend before it is abandoned as undecided.
    propagations_per_query: int = 10_000_000
    #: SAT queries in all (row verdicts, explanations, overlaps, witnesses).
    max_queries: int = 20_000
    #: Conflicts spent by all queries of one analysis.
    max_conflicts: int = 2_000_000
    #: Unit propagations spent by all queries of one analysis.
    max_propagations: int = 200_000_000
    #: Theory clauses (substring implications and prefix exclusions).
    max_lemmas: int = 1_000_000
    #: Rows named as the reason a row never fires get an unsat-core query each, up to this.
    max_explanations: int = 200
    #: Overlapping pairs reported under ``unique`` before the search stops.
    max_overlaps: int = 50
    #: Models tried per pair when the first one does not give a checkable witness task.
    witness_attempts: int = 4


@dataclass(frozen=True)
class AnalysisOptions:
    """``builtins``: also report findings about builtin keyword lists the author did not
    write (implicit builtin rows, and the classic keywords of builtin rules).

    ``clock`` (seconds, monotonic) is read only for the safety-net deadline and the
    ``seconds`` statistic; tests inject one to show that verdicts do not depend on it.
    """

    builtins: bool = False
    hazards: bool = True
    limits: AnalysisLimits = field(default_factory=AnalysisLimits)
    clock: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class WitnessTask:
    """A concrete task, as the compiler can build it (the runtime's ``Task`` has these fields)."""

    title: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    complexity: int | None = None
    metadata: tuple[tuple[str, Scalar], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The non-empty fields, ready for ``Task.model_validate`` or JSON."""
        out: dict[str, Any] = {}
        if self.title:
            out["title"] = self.title
        if self.description or not (self.title or self.tags or self.metadata):
            out["description"] = self.description
        if self.tags:
            out["tags"] = list(self.tags)
        if self.complexity is not None:
            out["complexity"] = self.complexity
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

    def show(self) -> str:
        """Compact JSON for messages."""
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass(frozen=True)
class RowVerdict:
    """What the analysis decided about one row (in row order).

    ``status``: ``fires`` (some task is decided by this row), ``never`` (no task is: see
    ``covered_by``, the earlier rows that take its tasks, empty when the condition itself is
    unsatisfiable), or ``unknown`` (a bound cut the check; see ``reason``).
    """

    index: int
    name: str
    status: Literal["fires", "never", "unknown"]
    covered_by: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class Overlap:
    """Two rows that both match ``witness`` (under ``unique`` this is an ambiguity error)."""

    first: str
    second: str
    witness: WitnessTask


@dataclass
class AnalysisReport:
    """Everything one analysis found. ``diagnostics`` are what ``modec lint`` shows."""

    diagnostics: list[Diagnostic]
    rows: list[RowVerdict]
    fallback_reachable: bool | None
    overlaps: list[Overlap]
    skipped: list[str]
    stats: dict[str, float]

    def verdict(self, name: str) -> RowVerdict:
        return next(v for v in self.rows if v.name == name)


# --------------------------------------------------------------------------- semantics


_ABSENT: Final = object()


def _field_text(task: WitnessTask, name: str) -> str:
    if name == "title":
        return task.title
    if name == "description":
        return task.description
    return task.title + "\n" + task.description


def _value(task: WitnessTask, name: str, complexity: int) -> object:
    if name in _TEXT_FIELDS:
        return _field_text(task, name)
    if name == "complexity":
        return complexity
    if name.startswith("metadata."):
        return dict(task.metadata).get(name[len("metadata."):], _ABSENT)
    return _ABSENT


def holds(expr: Expr, task: WitnessTask, default_complexity: int = 3) -> bool:
    """The truth of a condition for a task (the router's semantics, read off the IR)."""
    complexity = task.complexity or default_complexity
    return _holds(expr, task, complexity)


def _holds(expr: Expr, task: WitnessTask, complexity: int) -> bool:
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Not):
        return not _holds(expr.operand, task, complexity)
    if isinstance(expr, And):
        return all(_holds(o, task, complexity) for o in expr.operands)
    if isinstance(expr, Or):
        return any(_holds(o, task, complexity) for o in expr.operands)
    if isinstance(expr, TextMatch):
        results = []
        for raw in expr.values:
            v = raw.lower()
            if expr.field in _TEXT_FIELDS:
                results.append(text_test(expr.op, _field_text(task, expr.field).lower(), v))
            elif expr.field == "tags":
                if expr.op == "contains":
                    results.append(any(tag.lower() == v for tag in task.tags))
                else:
                    results.append(any(text_test(expr.op, tag.lower(), v) for tag in task.tags))
            else:
                found = _value(task, expr.field, complexity)
                results.append(isinstance(found, str) and text_test(expr.op, found.lower(), v))
        return all(results) if expr.quantifier == "all" else any(results)
    if isinstance(expr, RegexMatch):
        regex = compile_regex(expr.pattern, expr.flags)
        if expr.field in _TEXT_FIELDS:
            return regex.search(_field_text(task, expr.field)) is not None
        if expr.field == "tags":
            return any(regex.search(tag) is not None for tag in task.tags)
        found = _value(task, expr.field, complexity)
        return isinstance(found, str) and regex.search(found) is not None
    if isinstance(expr, Compare):
        return compare(_value(task, expr.field, complexity), expr.op, expr.value)
    left = _value(task, expr.field, complexity)
    return any(compare(left, "==", v) for v in expr.values)


# --------------------------------------------------------------------------- word list


@functools.cache
def english_words() -> dict[str, int]:
    """Common English words (SCOWL sizes 10–50) mapped to their SCOWL size (10 = commonest).

    Shipped as ``modec/compiler/data/english-words.txt.gz``; see ``SCOWL-LICENSE.txt`` there.

    >>> words = english_words()
    >>> words["latest"], words["auditorium"], "qa" in words
    (10, 35, False)
    """
    data = gzip.decompress((resources.files("modec.compiler") / _WORD_LIST).read_bytes())
    words: dict[str, int] = {}
    size = 0
    for line in data.decode("utf-8").splitlines():
        if line.startswith("#") or not line:
            continue
        if line.startswith("@"):
            size = int(line[1:])
            continue
        words[line] = size
    return words


@functools.cache
def _word_blob() -> tuple[str, tuple[int, ...], tuple[str, ...]]:
    ordered = tuple(english_words())
    starts: list[int] = []
    at = 0
    for w in ordered:
        starts.append(at)
        at += len(w) + 1
    return "\n".join(ordered) + "\n", tuple(starts), ordered


_SUFFIXES: Final = ("", "s", "es", "ed", "d", "ing", "ings", "er", "ers", "or", "ors", "ly",
                    "ally")
_PREFIXES: Final = ("", "in", "un", "non", "mis", "re")


def _forms(keyword: str) -> set[str]:
    """The keyword's own inflections and negations: matching these is what the author meant."""
    stems = {keyword}
    if keyword.endswith("e"):
        stems.add(keyword[:-1])
    if keyword.endswith("y"):
        stems.add(keyword[:-1] + "i")
    out = {stem + s for stem in stems for s in _SUFFIXES}
    if keyword and keyword[-1].isalpha():
        out.update(keyword + keyword[-1] + s for s in ("ed", "ing", "er", "ers"))
    return {p + f for p in _PREFIXES for f in out}


#: Evidence words come from SCOWL sizes up to this one (the small-dictionary sizes)...
_COMMON_SIZE: Final = 35
#: ...except for keywords this short, where any listed word (sizes up to 50) is evidence:
#: two or three letters collide with rare words as easily as with common ones.
_SHORT_KEYWORD: Final = 3


def keyword_hazards(keywords: Iterable[str], exclude: Iterable[str] = ()
                    ) -> dict[str, list[str]]:
    """For each lowered keyword, the common English words it matches inside, commonest first.

    A word counts when it contains the keyword but is not the keyword itself, one of its
    inflections (``tests``, ``tested``, ``testing``) or negations (``untested``), nor in
    ``exclude`` (for example the other keywords of the same rule). Common means SCOWL size
    35 or less; for keywords of three characters or fewer, any size up to 50.

    >>> keyword_hazards(["test", "qa", "readme"])["test"][:3]
    ['latest', 'fastest', 'protest']
    >>> keyword_hazards(["qa", "audit"])["qa"], keyword_hazards(["audit"])["audit"][:2]
    (['burqa', 'burqas'], ['audition', 'auditory'])
    """
    wanted = {k.lower() for k in keywords if k.strip()}
    skip = {e.lower() for e in exclude}
    found = _hazard_index().lookup(wanted)
    return {k: [w for w in words if w not in skip] for k, words in found.items()
            if any(w not in skip for w in words)}


class _HazardIndex:
    """Words containing each keyword, computed in one Aho-Corasick pass over the word list
    for all keywords not seen before, and remembered (bounded)."""

    _LIMIT: Final = 50_000

    def __init__(self) -> None:
        self.blob, self.starts, self.ordered = _word_blob()
        self.sizes = english_words()
        self.known: dict[str, tuple[str, ...]] = {}

    def lookup(self, keywords: set[str]) -> dict[str, tuple[str, ...]]:
        new = [k for k in keywords if k not in self.known]
        if new:
            if len(self.known) + len(new) > self._LIMIT:
                self.known.clear()
            automaton = ahocorasick.Automaton()
            for k in new:
                automaton.add_word(k, k)
            automaton.make_automaton()
            found: dict[str, set[str]] = {}
            starts, ordered = self.starts, self.ordered
            for end, k in automaton.iter(self.blob):
                found.setdefault(k, set()).add(ordered[bisect.bisect_right(starts, end) - 1])
            for k in new:
                self.known[k] = self._hazards(k, found.get(k, set()))
        return {k: self.known[k] for k in keywords if self.known[k]}

    def _hazards(self, keyword: str, words: set[str]) -> tuple[str, ...]:
        forms = _forms(keyword)
        limit = 50 if len(keyword) <= _SHORT_KEYWORD else _COMMON_SIZE
        sizes = self.sizes
        return tuple(sorted((w for w in words if w not in forms and sizes[w] <= limit),
                            key=lambda w: (sizes[w], len(w), w)))


@functools.cache
def _hazard_index() -> _HazardIndex:
    return _HazardIndex()


# --------------------------------------------------------------------------- literal logic

#: A text atom: (domain, op, lowered literal). Domains: title, description, text, tags,
#: metadata.KEY. On tags, ``contains`` is ``eq`` (a tag equals the literal).
StrKey = tuple[str, str, str]


def _flows(source: str, target: str, op: str) -> bool:
    """Whether an occurrence in field ``source`` is one in field ``target`` for ``op``."""
    if source == target:
        return True
    if target != "text" or source not in ("title", "description"):
        return False
    if op == "startswith":
        return source == "title"
    if op == "endswith":
        return source == "description"
    return op in ("contains", "mentions")


def _implies(op1: str, y: str, op2: str, x: str, positions: Sequence[int], tags: bool) -> bool:
    """``op1 y`` ⇒ ``op2 x`` on one string, given the positions where ``x`` occurs in ``y``."""
    if tags:
        if op1 == "eq":
            return op2 != "eq" and op2 != "nonempty" and text_test(op2, y, x)
        if op2 in ("eq", "nonempty") or op1 == "nonempty":
            return False
    if op2 == "contains":
        return True
    if op2 == "startswith":
        return op1 == "startswith" and 0 in positions
    if op2 == "endswith":
        return op1 == "endswith" and len(y) - len(x) in positions
    n = len(x)
    for p in positions:
        q = p + n
        left = (not isword(x[0]) or (p > 0 and not isword(y[p - 1]))
                or (p == 0 and op1 in ("mentions", "startswith")))
        right = (not isword(x[-1]) or (q < len(y) and not isword(y[q]))
                 or (q == len(y) and op1 in ("mentions", "endswith")))
        if left and right:
            return True
    return False


def _positions(x: str, y: str) -> list[int]:
    out = []
    i = y.find(x)
    while i >= 0:
        out.append(i)
        i = y.find(x, i + 1)
    return out


def _atom_implies(a: StrKey, b: StrKey) -> bool:
    """Text atom ``a`` implies text atom ``b`` (for two atoms at hand; the lemmas use this)."""
    (d1, op1, y), (d2, op2, x) = a, b
    if a == b or not _flows(d1, d2, op2):
        return False
    positions = _positions(x, y) if x else []
    if not positions:
        return False
    return _implies(op1, y, op2, x, positions, d1 == "tags")


def _str_key(atom: TextMatch, value: str) -> StrKey | None:
    """The text atom of one value of a TextMatch, or None when it is not a text atom."""
    lit = value.lower()
    kind = field_kind(atom.field)
    if kind == "text":
        return (atom.field, atom.op, lit) if lit else None
    if kind == "tags":
        if atom.op == "contains":
            return ("tags", "eq", lit)
        return ("tags", atom.op, lit) if lit else ("tags", "nonempty", "")
    if kind == "any" and lit:
        return (atom.field, atom.op, lit)
    return None


# --------------------------------------------------------------------------- the theory


class _Budget:
    """The counts one analysis has spent, and the safety-net deadline."""

    def __init__(self, limits: AnalysisLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.clock = clock
        self.deadline = clock() + limits.deadline_seconds
        self.queries = 0
        self.undecided = 0
        self.conflicts = 0
        self.propagations = 0
        self.deadline_passed = False

    def exhausted(self) -> str | None:
        limits = self.limits
        if self.queries >= limits.max_queries:
            return f"the budget of {limits.max_queries:,} SAT queries is spent"
        if self.conflicts >= limits.max_conflicts:
            return f"the budget of {limits.max_conflicts:,} SAT conflicts is spent"
        if self.propagations >= limits.max_propagations:
            return f"the budget of {limits.max_propagations:,} SAT propagations is spent"
        if self.deadline_passed or self.clock() > self.deadline:
            self.deadline_passed = True
            return (f"the {limits.deadline_seconds:g} s safety-net deadline passed (this "
                    "machine was too slow for the counted budgets: the result depends on it)")
        return None

    def gave_up(self) -> str:
        """Why the last query was abandoned."""
        limits = self.limits
        return self.exhausted() or (
            f"the check gave up after {limits.conflicts_per_query:,} conflicts or "
            f"{limits.propagations_per_query:,} propagations")

    def query_budgets(self) -> tuple[int, int]:
        """Conflicts and propagations the next query may spend."""
        limits = self.limits
        return (min(limits.conflicts_per_query, limits.max_conflicts - self.conflicts),
                min(limits.propagations_per_query,
                    limits.max_propagations - self.propagations))


@dataclass
class _MetaDomain:
    candidates: list[object]
    vars: list[int]


def _number_candidates(constants: list[float | int]) -> list[float | int]:
    points = sorted(set(constants))
    if not points:
        return [0]
    out: list[float | int] = [*points, points[0] - 1, points[-1] + 1]
    for a, b in itertools.pairwise(points):
        for c in ((a + b) / 2, math.nextafter(float(a), math.inf), math.floor(a) + 1):
            if a < c < b:
                out.append(c)
                break
    return out


_EXACT_LIMIT: Final = 2**53


def _metadata_domains(rows: Sequence[Rule]) -> dict[str, list[object] | None]:
    """Per metadata key: a complete set of representative values, or None (free atoms)."""
    atoms: dict[str, list[Expr]] = {}
    for rule in rows:
        if rule.condition is None:
            continue
        for atom in iter_atoms(rule.condition):
            f = getattr(atom, "field", "")
            if isinstance(f, str) and f.startswith("metadata."):
                atoms.setdefault(f, []).append(atom)
    out: dict[str, list[object] | None] = {}
    for key, found in atoms.items():
        values: list[Scalar] = []
        exact = True
        for atom in found:
            if isinstance(atom, Compare):
                if isinstance(atom.value, str) and atom.op not in ("==", "!="):
                    exact = False
                values.append(atom.value)
            elif isinstance(atom, InList):
                values.extend(atom.values)
            else:
                exact = False
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if any(not math.isfinite(v) or abs(v) >= _EXACT_LIMIT for v in numbers):
            exact = False
        if not exact:
            out[key] = None
            continue
        texts: dict[str, str] = {}
        for v in values:
            if isinstance(v, str):
                texts.setdefault(v.lower(), v)
        other = "other"
        while other in texts:
            other += "~"
        out[key] = [_ABSENT, True, False, math.nan, *_number_candidates(numbers),
                    *texts.values(), other]
    return out


class _Theory:
    """The rows as propositional formulas over atoms, plus theory lemmas, in CNF."""

    def __init__(self, rows: Sequence[Rule], limits: AnalysisLimits) -> None:
        self.limits = limits
        self.clauses: list[list[int]] = []
        self.top = 0
        self.true = self._new()
        self.clauses.append([self.true])
        self.strs: dict[StrKey, int] = {}
        self.free: dict[str, tuple[int, Expr]] = {}
        self.cx: dict[int, int] = {}
        self.meta: dict[str, _MetaDomain] = {}
        self.skipped: list[str] = []
        self.lemmas = 0
        #: For each literal, the literals occurring in it, with positions (lints reuse it).
        self.inside: dict[str, list[tuple[str, list[int]]]] = {}
        self._gates: dict[tuple[str, tuple[int, ...]], int] = {}
        self._domains = _metadata_domains(rows)
        self.rows = [self.encode(r.condition) if r.condition is not None else -self.true
                     for r in rows]
        self._add_lemmas()

    # -- variables and gates

    def _new(self) -> int:
        self.top += 1
        return self.top

    def _gate(self, kind: str, lits: Sequence[int]) -> int:
        t = self.true
        if kind == "and":
            if -t in lits:
                return -t
            items = tuple(sorted(set(lit for lit in lits if lit != t)))
            if not items:
                return t
        else:
            if t in lits:
                return t
            items = tuple(sorted(set(lit for lit in lits if lit != -t)))
            if not items:
                return -t
        if len(items) == 1:
            return items[0]
        cached = self._gates.get((kind, items))
        if cached is not None:
            return cached
        v = self._new()
        if kind == "and":
            self.clauses.extend([-v, lit] for lit in items)
            self.clauses.append([v, *(-lit for lit in items)])
        else:
            self.clauses.append([-v, *items])
            self.clauses.extend([v, -lit] for lit in items)
        self._gates[(kind, items)] = v
        return v

    def _exactly_one(self, lits: list[int]) -> None:
        self.clauses.append(list(lits))
        if len(lits) <= 40:
            self.clauses.extend([-a, -b] for i, a in enumerate(lits) for b in lits[i + 1:])
            return
        enc = CardEnc.atmost(lits=lits, bound=1, top_id=self.top, encoding=EncType.seqcounter)
        self.top = max(self.top, enc.nv)
        self.clauses.extend(enc.clauses)

    def str_atom(self, key: StrKey) -> int:
        v = self.strs.get(key)
        if v is None:
            v = self.strs[key] = self._new()
        return v

    def _free(self, key: str, expr: Expr) -> int:
        found = self.free.get(key)
        if found is None:
            found = self.free[key] = (self._new(), expr)
        return found[0]

    # -- encoding

    def encode(self, expr: Expr) -> int:
        if isinstance(expr, Const):
            return self.true if expr.value else -self.true
        if isinstance(expr, Not):
            return -self.encode(expr.operand)
        if isinstance(expr, And):
            return self._gate("and", [self.encode(o) for o in expr.operands])
        if isinstance(expr, Or):
            return self._gate("or", [self.encode(o) for o in expr.operands])
        if isinstance(expr, TextMatch):
            lits = [self._text(expr, v) for v in expr.values]
            return self._gate("and" if expr.quantifier == "all" else "or", lits)
        if isinstance(expr, RegexMatch):
            key = json.dumps(["re", expr.field, expr.flags, expr.pattern])
            return self._free(key, expr)
        if expr.field == "complexity":
            return self._choice_atom(expr)
        domain = self._domains.get(expr.field)
        if expr.field.startswith("metadata.") and domain is not None:
            return self._choice_atom(expr)
        values = [expr.value] if isinstance(expr, Compare) else list(expr.values)
        op = expr.op if isinstance(expr, Compare) else "in"
        key = json.dumps(["cmp", expr.field, op, [[type(v).__name__, v] for v in values]])
        return self._free(key, expr)

    def _text(self, atom: TextMatch, value: str) -> int:
        key = _str_key(atom, value)
        if key is not None:
            return self.str_atom(key)
        if field_kind(atom.field) == "text":
            return self.true  # every text contains, mentions, starts and ends with ""
        single = atom.model_copy(update={"values": (value,), "quantifier": "one"})
        return self._free(json.dumps(["text", atom.field, atom.op, value]), single)

    def _choice_atom(self, expr: Compare | InList) -> int:
        if expr.field == "complexity":
            if not self.cx:
                self.cx = {c: self._new() for c in range(1, 6)}
                self._exactly_one(list(self.cx.values()))
            pairs: list[tuple[object, int]] = list(self.cx.items())
        else:
            domain = self.meta.get(expr.field)
            if domain is None:
                candidates = self._domains[expr.field]
                assert candidates is not None
                domain = _MetaDomain(candidates, [self._new() for _ in candidates])
                self._exactly_one(domain.vars)
                self.meta[expr.field] = domain
            pairs = list(zip(domain.candidates, domain.vars, strict=True))
        values = [expr.value] if isinstance(expr, Compare) else list(expr.values)
        op = expr.op if isinstance(expr, Compare) else "=="
        chosen = [v for value, v in pairs
                  if value is not _ABSENT and any(compare(value, op, c) for c in values)]
        return self._gate("or", chosen)

    # -- lemmas

    def _lemma(self, clause: list[int]) -> bool:
        if self.lemmas >= self.limits.max_lemmas:
            return False
        self.lemmas += 1
        self.clauses.append(clause)
        return True

    def _add_lemmas(self) -> None:
        for (dom, op, lit), var in list(self.strs.items()):
            if dom != "text" or "\n" in lit:
                continue
            if op in ("contains", "mentions"):
                self.clauses.append([-var, self.str_atom(("title", op, lit)),
                                     self.str_atom(("description", op, lit))])
            elif op in ("startswith", "endswith"):
                other = self.str_atom(("title" if op == "startswith" else "description", op,
                                       lit))
                self.clauses.extend([[-var, other], [var, -other]])
        nonempty = self.strs.get(("tags", "nonempty", ""))
        if nonempty is not None:
            for (dom, _, _), var in self.strs.items():
                if dom == "tags" and var != nonempty:
                    self.clauses.append([-var, nonempty])
        by_lit: dict[str, list[tuple[StrKey, int]]] = {}
        for key, var in self.strs.items():
            if key[2]:
                by_lit.setdefault(key[2], []).append((key, var))
        if by_lit and not self._substring_lemmas(by_lit):
            self.skipped.append(
                f"substring implications past {self.limits.max_lemmas:,} clauses were not "
                "added: rows that never fire may go unreported")
        self._prefix_lemmas()

    def _substring_lemmas(self, by_lit: dict[str, list[tuple[StrKey, int]]]) -> bool:
        automaton = ahocorasick.Automaton()
        for lit in by_lit:
            automaton.add_word(lit, lit)
        automaton.make_automaton()
        for y, atoms_y in by_lit.items():
            occurrences: dict[str, list[int]] = {}
            for end, x in automaton.iter(y):
                occurrences.setdefault(x, []).append(end - len(x) + 1)
            self.inside[y] = list(occurrences.items())
            for x, positions in occurrences.items():
                for a, va in atoms_y:
                    for b, vb in by_lit[x]:
                        if va == vb or not _flows(a[0], b[0], b[1]):
                            continue
                        if (a[0] == "tags") != (b[0] == "tags"):
                            continue
                        if _implies(a[1], y, b[1], x, positions, a[0] == "tags") and (
                                not self._lemma([-va, vb])):
                            return False
        return True

    def _prefix_lemmas(self) -> None:
        groups: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for (dom, op, lit), var in self.strs.items():
            if op in ("startswith", "endswith") and dom != "tags":
                groups.setdefault((dom, op), []).append((lit, var))
        for (dom, op), items in groups.items():
            if len(items) > 2000:
                self.skipped.append(f"{len(items)} `{op}` literals on {dom}: mutual exclusion "
                                    "of their prefixes was not encoded")
                continue
            for i, (a, va) in enumerate(items):
                for b, vb in items[i + 1:]:
                    related = (a.startswith(b) or b.startswith(a)) if op == "startswith" else (
                        a.endswith(b) or b.endswith(a))
                    if not related and not self._lemma([-va, -vb]):
                        self.skipped.append("prefix exclusions past the lemma budget were not "
                                            "added")
                        return


class _Solver:
    """A SAT solver over the theory with a per-query conflict budget and a global budget."""

    def __init__(self, theory: _Theory, budget: _Budget) -> None:
        self.theory = theory
        self.budget = budget
        self.sat = Solver(name="m22", bootstrap_with=theory.clauses)
        self.spent = (0, 0)

    def solve(self, assumptions: Sequence[int]) -> bool | None:
        budget = self.budget
        if budget.exhausted() is not None:
            return None
        budget.queries += 1
        conflicts, propagations = budget.query_budgets()
        self.sat.conf_budget(conflicts)
        self.sat.prop_budget(propagations)
        result: bool | None = self.sat.solve_limited(assumptions=list(assumptions))
        stats = self.sat.accum_stats()
        spent = (int(stats.get("conflicts", 0)), int(stats.get("propagations", 0)))
        budget.conflicts += spent[0] - self.spent[0]
        budget.propagations += spent[1] - self.spent[1]
        self.spent = spent
        if result is None:
            budget.undecided += 1
        return result

    def model(self) -> set[int]:
        """The last model as the set of true literals (``v`` or ``-v`` for every variable)."""
        return set(self.sat.get_model() or ())

    def core(self) -> set[int]:
        return set(self.sat.get_core() or ())

    def add(self, clause: list[int]) -> None:
        self.sat.add_clause(clause)

    def close(self) -> None:
        self.sat.delete()


# --------------------------------------------------------------------------- witnesses

_SEPARATORS: Final = (" ", ", ", "; ", ";", ",", "|", "~", "#", "\u3000")
_PADS: Final = tuple("xqzjkvwy0123456789жξ")


def _regex_sample(pattern: str, flags: str) -> str | None:
    """A short string the pattern finds (checked with RE2), or None."""
    try:
        parser: Any = importlib.import_module("re._parser")
        tree = parser.parse(pattern)
    except Exception:  # any parse failure just means "no sample"
        return None
    constants: Any = importlib.import_module("re._constants")
    out: list[str] = []

    def pick_in(items: Any) -> str | None:
        negate = any(op is constants.NEGATE for op, _ in items)
        allowed: list[str] = []
        for op, arg in items:
            if op is constants.LITERAL:
                allowed.append(chr(arg))
            elif op is constants.RANGE:
                allowed.append(chr(arg[0]))
            elif op is constants.CATEGORY:
                allowed.append({constants.CATEGORY_DIGIT: "0", constants.CATEGORY_SPACE: " ",
                                constants.CATEGORY_WORD: "a"}.get(arg, "-"))
        if not negate:
            return allowed[0] if allowed else None
        for ch in "a0 _-x.Z":
            if ch not in allowed:
                return ch
        return None

    def walk(items: Any) -> bool:
        for op, arg in items:
            if op is constants.LITERAL:
                out.append(chr(arg))
            elif op is constants.NOT_LITERAL:
                out.append("a" if chr(arg) != "a" else "b")
            elif op is constants.ANY:
                out.append("a")
            elif op is constants.IN:
                ch = pick_in(arg)
                if ch is None:
                    return False
                out.append(ch)
            elif op is constants.BRANCH:
                if not walk(arg[1][0]):
                    return False
            elif op is constants.SUBPATTERN:
                if not walk(arg[3]):
                    return False
            elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT):
                for _ in range(arg[0]):
                    if not walk(arg[2]):
                        return False
            elif op is constants.AT:
                continue
            elif op is constants.CATEGORY:
                out.append({constants.CATEGORY_DIGIT: "0", constants.CATEGORY_SPACE: " "}.get(
                    arg, "a"))
            else:
                return False
        return True

    if not walk(tree.data):
        return None
    sample = "".join(out)
    try:
        if compile_regex(pattern, flags).search(sample) is None:
            return None
    except Exception:  # RE2 refusing the sample: no sample
        return None
    return sample


class _Witnesses:
    """Builds concrete tasks from solver models (several variants; the caller checks them)."""

    def __init__(self, theory: _Theory) -> None:
        self.theory = theory
        lits = [k[2] for k in theory.strs]
        chars = set("".join(lits))
        self.sep = next((s for s in _SEPARATORS if not set(s) & chars), "\u2063")
        self.pad = next((p for p in _PADS if p not in chars), "x")
        self.samples: dict[str, str | None] = {}
        self.embedded: dict[str, str] = {}
        self.automaton: Any = None

    def _sample(self, expr: RegexMatch) -> str | None:
        key = expr.flags + "/" + expr.pattern
        if key not in self.samples:
            self.samples[key] = _regex_sample(expr.pattern, expr.flags)
        return self.samples[key]

    def _embedded(self, lit: str) -> str:
        """A word with ``lit`` strictly inside it and no other literal of the mode: the
        commonest English one ('test': 'latest'), else a plural or a prefix, else padding."""
        if lit in self.embedded:
            return self.embedded[lit]
        if self.automaton is None:
            self.automaton = ahocorasick.Automaton()
            for key in self.theory.strs:
                if key[2]:
                    self.automaton.add_word(key[2], key[2])
            if len(self.automaton):
                self.automaton.make_automaton()
        english = _hazard_index().lookup({lit}).get(lit, ()) if lit.isalpha() else ()
        choice = self.pad + lit + self.pad
        for word in (*english[:50], lit + "s", "un" + lit, lit + "ed"):
            if mentions(word, lit):
                continue
            found = ({x for _, x in self.automaton.iter(word)} if len(self.automaton)
                     else set())
            if all(x in lit for x in found):
                choice = word
                break
        self.embedded[lit] = choice
        return choice

    def _compose(self, atoms: list[tuple[str, str]], style: str, sep: str, extra: list[str],
                 first: str | None, unbounded: set[str]) -> str:
        """A field holding the true atoms, each in its own piece between separators.

        ``style``: ``plain`` (literals as they are), ``english`` (a literal that must not
        be a whole word, in ``unbounded``, inside an English word) or ``pad`` (every
        substring literal and the field's ends wrapped in a letter no literal contains).
        """
        p = self.pad
        pad = style == "pad"
        starts = [lit for op, lit in atoms if op == "startswith"]
        ends = [lit for op, lit in atoms if op == "endswith"]
        s = max(starts, key=len, default="")
        e = max(ends, key=len, default="")
        mentions: list[str] = []
        for lit in sorted({lit for op, lit in atoms if op == "mentions"}, key=len, reverse=True):
            if not any(_atom_implies(("f", "mentions", k), ("f", "mentions", lit))
                       for k in mentions):
                mentions.append(lit)
        kept = [*mentions, s, e]
        contains: list[str] = []
        for lit in sorted({lit for op, lit in atoms if op == "contains"}, key=len, reverse=True):
            if not any(lit in k for k in (*kept, *contains)):
                contains.append(lit)

        def wrap(lit: str) -> str:
            if pad:
                return p + lit + p
            if style == "english" and lit in unbounded:
                return self._embedded(lit)
            return lit

        pieces = ([first] if first else []) + mentions + [wrap(lit) for lit in contains] + extra
        if not (pieces or s or e):
            return ""
        head = s + (p if pad and s else "") if s else (p if pad else "")
        tail = (p if pad and e else "") + e if e else (p if pad else "")
        return sep.join(x for x in (head, sep.join(pieces), tail) if x)

    def build(self, model: set[int]) -> Iterator[WitnessTask]:
        th = self.theory
        complexity = next((c for c, v in th.cx.items() if v in model), None)
        metadata: dict[str, Scalar] = {}
        for key, domain in th.meta.items():
            for cand, v in zip(domain.candidates, domain.vars, strict=True):
                if v in model and cand is not _ABSENT:
                    assert isinstance(cand, bool | int | float | str)
                    metadata[key[len("metadata."):]] = cand
        fields: dict[str, list[tuple[str, str]]] = {}
        for (dom, op, lit), v in th.strs.items():
            if v in model:
                fields.setdefault(dom, []).append((op, lit))
        regex_pieces: dict[str, list[str]] = {}
        fixed: dict[str, str] = {}
        free_meta: dict[str, str] = {}
        tags = [lit for op, lit in fields.get("tags", []) if op == "eq"]
        for v, expr in th.free.values():
            if v not in model:
                continue
            if isinstance(expr, RegexMatch):
                sample = self._sample(expr)
                if sample is None:
                    continue
                if expr.field == "tags":
                    tags.append(sample)
                elif expr.field.startswith("metadata."):
                    free_meta[expr.field] = sample
                else:
                    target = "description" if expr.field == "text" else expr.field
                    regex_pieces.setdefault(target, []).append(sample)
            elif isinstance(expr, Compare | InList):
                value = expr.value if isinstance(expr, Compare) else expr.values[0]
                op = expr.op if isinstance(expr, Compare) else "=="
                if op != "==" and isinstance(value, str):
                    value = value + "~" if op in ("!=", ">", ">=") else ""
                elif op != "==" and is_number(value):
                    assert isinstance(value, int | float)
                    value = value + 1 if op in ("!=", ">", ">=") else value - 1
                if expr.field in _TEXT_FIELDS and isinstance(value, str):
                    fixed[expr.field] = value
                elif expr.field.startswith("metadata."):
                    metadata[expr.field[len("metadata."):]] = value
            elif isinstance(expr, TextMatch) and expr.field.startswith("metadata."):
                free_meta.setdefault(expr.field, "")
        for op, lit in fields.get("tags", []):
            if op in ("mentions", "startswith", "endswith") and not any(
                    text_test(op, t, lit) for t in tags):
                tags.append(lit)
        if ("nonempty", "") in fields.get("tags", []) and not tags:
            tags.append(self.pad)
        # Substring literals that must not occur as whole words in a field.
        unbounded = {(dom, lit) for (dom, op, lit), v in th.strs.items()
                     if op == "mentions" and -v in model}
        for name, atoms in fields.items():
            if name.startswith("metadata."):
                metadata[name[len("metadata."):]] = self._compose(
                    atoms, "plain", self.sep, [], None, set())
        for key, sample in free_meta.items():
            metadata.setdefault(key[len("metadata."):], sample)
        text_only = [(op, lit) for op, lit in fields.get("text", []) if "\n" in lit]
        seen: set[WitnessTask] = set()
        styles = [("english", " "), ("plain", " "), ("english", self.sep), ("pad", self.sep)]
        for style, sep in styles:
            for regex_first in (False, True):
                parts: dict[str, str] = {}
                for name in ("title", "description"):
                    atoms = fields.get(name, []) + (text_only if name == "description" else [])
                    samples = regex_pieces.get(name, [])
                    first = samples[0] if regex_first and samples else None
                    rest = samples[1:] if first else samples
                    avoid = {lit for dom, lit in unbounded if dom in (name, "text")}
                    parts[name] = fixed.get(name) or self._compose(
                        atoms, style, sep, rest, first, avoid)
                if "text" in fixed:
                    parts = {"title": "", "description": fixed["text"]}
                task = WitnessTask(title=parts["title"], description=parts["description"],
                                   tags=tuple(dict.fromkeys(tags)), complexity=complexity,
                                   metadata=tuple(sorted(metadata.items())))
                if task not in seen:
                    seen.add(task)
                    yield task


# --------------------------------------------------------------------------- analysis


@dataclass
class _Context:
    mode: ModeFile
    rows: list[Rule]
    theory: _Theory
    solver: _Solver
    budget: _Budget
    witnesses: _Witnesses
    options: AnalysisOptions
    default_complexity: int

    def fires(self, index: int, task: WitnessTask, alone: bool) -> bool:
        """Row ``index`` fires for ``task`` and, unless ``alone``, no earlier row does."""
        rows, dc = self.rows, self.default_complexity
        cond = rows[index].condition
        if cond is None or not holds(cond, task, dc):
            return False
        return alone or not any(
            r.condition is not None and holds(r.condition, task, dc) for r in rows[:index])

    def both(self, i: int, j: int, task: WitnessTask) -> bool:
        return self.fires(i, task, alone=True) and self.fires(j, task, alone=True)

    def no_row(self, task: WitnessTask) -> bool:
        return not any(r.condition is not None and holds(r.condition, task,
                                                         self.default_complexity)
                       for r in self.rows)

    def witness(self, assumptions: list[int], check: Callable[[WitnessTask], bool]
                ) -> WitnessTask | None:
        """A checked task satisfying ``assumptions``, trying a few models; None if none.

        Each model is first made small (as few true text atoms as the assumptions allow),
        so that witnesses read like tasks: "login", not "session token, form".
        """
        guard = self.theory._new()
        tried = 0
        try:
            while tried < self.options.limits.witness_attempts:
                base = [*assumptions, guard]
                if not self.solver.solve(base):
                    return None
                model = self._smaller(base, self.solver.model())
                for task in self.witnesses.build(model):
                    if check(task):
                        if task.complexity is not None:  # leave it out when it can be
                            plain = dataclasses.replace(task, complexity=None)
                            return plain if check(plain) else task
                        return task
                tried += 1
                # Ask for a different assignment of the text and free atoms next time.
                atoms = [*self.theory.strs.values(), *(v for v, _ in self.theory.free.values())]
                self.solver.add([-guard, *(-a if a in model else a for a in atoms)])
            return None
        finally:
            self.solver.add([-guard])

    def _smaller(self, base: list[int], model: set[int]) -> set[int]:
        """A model whose true text atoms are a subset-minimal subset of ``model``'s."""
        atoms = list(self.theory.strs.values())
        if len(atoms) > _MINIMIZE * 8:
            return model
        fixed = [*base, *(-a for a in atoms if -a in model)]
        best = model
        for atom in [a for a in atoms if a in model][:_MINIMIZE]:
            if atom in best and self.solver.solve([*fixed, -atom]):
                fixed.append(-atom)
                best = self.solver.model()
        if sum(a in best for a in atoms) > 1 and len(atoms) <= _MINIMIZE * 2:
            for atom in atoms:  # one text atom may be enough
                if self.solver.solve([*base, *(-b for b in atoms if b != atom)]):
                    return self.solver.model()
        return best


_MINIMIZE: Final = 24


def _first_verdicts(ctx: _Context) -> tuple[list[RowVerdict], list[str]]:
    """Under ``first``: row i fires iff r_i ∧ ¬r_1 ∧ … ∧ ¬r_{i-1} is satisfiable.

    One incremental solver carries the prefix as unit clauses (¬r_j is added once row j is
    decided), so each query assumes only r_i; cores for the explanation use a second one.
    """
    lits = ctx.theory.rows
    limits = ctx.options.limits
    out: list[RowVerdict] = []
    skipped: list[str] = []
    prefix = _Solver(ctx.theory, ctx.budget)
    explained = 0
    try:
        for i, rule in enumerate(ctx.rows):
            reason = ctx.budget.exhausted()
            if reason is not None:
                rest = [r.name for r in ctx.rows[i:]]
                skipped.append(f"{len(rest)} row(s) from {rest[0]!r} on were not checked for "
                               f"shadowing: {reason}")
                out.extend(RowVerdict(j, r.name, "unknown", reason=reason)
                           for j, r in enumerate(ctx.rows[i:], start=i))
                break
            result = prefix.solve([lits[i]])
            if result is None:
                why = ctx.budget.gave_up()
                skipped.append(f"row {rule.name!r}: {why}")
                out.append(RowVerdict(i, rule.name, "unknown", reason=why))
            elif result:
                out.append(RowVerdict(i, rule.name, "fires"))
            elif explained < limits.max_explanations:
                explained += 1
                covered = _covering(ctx, i)
                out.append(RowVerdict(i, rule.name, "never", covered_by=covered or (),
                                      reason=None if covered is not None else _UNEXPLAINED))
            else:
                out.append(RowVerdict(i, rule.name, "never", reason=_UNEXPLAINED))
            prefix.add([-lits[i]])
    finally:
        prefix.close()
    return out, skipped


_UNEXPLAINED: Final = "earlier rows take its tasks (which ones was not computed: bound)"


def _covering(ctx: _Context, i: int) -> tuple[str, ...] | None:
    """The earlier rows an unsat core names as taking every task of row ``i`` (empty when
    the row's own condition is unsatisfiable; None when the query was cut)."""
    lits = ctx.theory.rows
    assumptions = [lits[i], *(-lits[j] for j in range(i))]
    if ctx.solver.solve(assumptions) is not False:
        return None
    core = ctx.solver.core()
    return tuple(ctx.rows[j].name for j in range(i) if -lits[j] in core)


def _self_verdicts(ctx: _Context) -> tuple[list[RowVerdict], list[str]]:
    """Under ``unique`` and ``collect``: a row fires iff its own condition is satisfiable."""
    out: list[RowVerdict] = []
    skipped: list[str] = []
    for i, rule in enumerate(ctx.rows):
        reason = ctx.budget.exhausted()
        if reason is not None:
            skipped.append(f"{len(ctx.rows) - i} row(s) from {rule.name!r} on were not "
                           f"checked: {reason}")
            out.extend(RowVerdict(j, r.name, "unknown", reason=reason)
                       for j, r in enumerate(ctx.rows[i:], start=i))
            break
        result = ctx.solver.solve([ctx.theory.rows[i]])
        if result is None:
            why = ctx.budget.gave_up()
            skipped.append(f"row {rule.name!r}: {why}")
            out.append(RowVerdict(i, rule.name, "unknown", reason=why))
        else:
            out.append(RowVerdict(i, rule.name, "fires" if result else "never"))
    return out, skipped


def _overlaps(ctx: _Context, verdicts: list[RowVerdict]
              ) -> tuple[list[Overlap], list[tuple[str, str]], list[str]]:
    """Under ``unique``: pairs of rows with a checked witness both match; undecided pairs."""
    lits = ctx.theory.rows
    limit = ctx.options.limits.max_overlaps
    found: list[Overlap] = []
    undecided: list[tuple[str, str]] = []
    skipped: list[str] = []
    n = len(ctx.rows)
    for i in range(n):
        if verdicts[i].status == "never":
            continue
        later = [j for j in range(i + 1, n) if verdicts[j].status != "never"]
        while later:
            reason = ctx.budget.exhausted()
            if reason is None and len(found) >= limit:
                reason = f"{limit} overlapping pairs were reported"
            if reason is not None:
                skipped.append(f"the overlap search stopped at row {ctx.rows[i].name!r} "
                               f"({n - i} row(s) not compared with the rows after them): "
                               f"{reason}")
                return found, undecided, skipped
            guard = ctx.theory._new()
            ctx.solver.add([-guard, *(lits[j] for j in later)])
            result = ctx.solver.solve([lits[i], guard])
            if result is None:
                ctx.solver.add([-guard])
                if ctx.budget.exhausted() is None:
                    skipped.append(f"whether row {ctx.rows[i].name!r} overlaps any of the "
                                   f"{len(later)} row(s) after it was not decided: "
                                   f"{ctx.budget.gave_up()}")
                    break
                continue  # the loop's head reports the spent budget
            if not result:
                ctx.solver.add([-guard])
                break
            model = ctx.solver.model()
            ctx.solver.add([-guard])
            j = next(j for j in later if lits[j] in model)
            later.remove(j)
            witness = ctx.witness(
                [lits[i], lits[j]],
                functools.partial(ctx.both, i, j))
            if witness is None:
                undecided.append((ctx.rows[i].name, ctx.rows[j].name))
            else:
                found.append(Overlap(ctx.rows[i].name, ctx.rows[j].name, witness))
    return found, undecided, skipped


def _fallback_reachable(ctx: _Context) -> bool | None:
    return ctx.solver.solve([-lit for lit in ctx.theory.rows])


def analyse(mode: ModeFile, sources: Mapping[str, str] | None = None,
            options: AnalysisOptions | None = None) -> AnalysisReport:
    """Analyse a resolved mode's rows; ``sources`` (path → text) make keyword spans exact.

    Never raises for a valid IR: what a bound cut is reported, not thrown.
    """
    options = options or AnalysisOptions()
    started = options.clock()
    ctx = _context(mode, options)
    rows, theory, solver, budget = ctx.rows, ctx.theory, ctx.solver, ctx.budget
    policy = mode.configuration.hit_policy
    skipped = list(theory.skipped)
    try:
        if policy == "first":
            verdicts, cut = _first_verdicts(ctx)
        else:
            verdicts, cut = _self_verdicts(ctx)
        skipped += cut
        overlaps: list[Overlap] = []
        undecided: list[tuple[str, str]] = []
        if policy == "unique":
            overlaps, undecided, cut = _overlaps(ctx, verdicts)
            skipped += cut
        fallback = _fallback_reachable(ctx)
    finally:
        solver.close()
    diagnostics = _row_diagnostics(ctx, verdicts, overlaps, undecided, fallback)
    locator = _Locator(sources or {})
    diagnostics += _keyword_diagnostics(ctx, verdicts, locator)
    diagnostics += _reachability(ctx, verdicts, fallback)
    if skipped:
        diagnostics.append(Diagnostic.make(
            "MC603", Span.point(mode.path, 1, 1),
            f"the analysis of this mode's {len(rows)} rows was bounded: " + "; ".join(
                skipped[:3]) + (f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""),
            hint="the limits are in modec.compiler.analysis.AnalysisLimits; `modec analyse` "
            "lists everything that was skipped"))
    stats = {
        "rows": float(len(rows)),
        "atoms": float(len(theory.strs) + len(theory.free)),
        "variables": float(theory.top),
        "clauses": float(len(theory.clauses)),
        "lemmas": float(theory.lemmas),
        "queries": float(budget.queries),
        "undecided": float(budget.undecided),
        "conflicts": float(budget.conflicts),
        "propagations": float(budget.propagations),
        "seconds": options.clock() - started,
    }
    return AnalysisReport(diagnostics, verdicts, fallback, overlaps, skipped, stats)


# --------------------------------------------------------------------------- diagnostics


def _names(names: Sequence[str], limit: int = 3) -> str:
    quoted = ", ".join(repr(n) for n in names[:limit])
    return quoted + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _classic(rule: Rule) -> bool:
    """The rule's condition is a classic keyword list the author did not write."""
    return rule.source == "builtin"


def _row_diagnostics(ctx: _Context, verdicts: list[RowVerdict], overlaps: list[Overlap],
                     undecided: list[tuple[str, str]], fallback: bool | None
                     ) -> list[Diagnostic]:
    show_all = ctx.options.builtins
    by_name = {r.name: r for r in ctx.rows}
    out: list[Diagnostic] = []
    for verdict in verdicts:
        rule = by_name[verdict.name]
        if verdict.status != "never" or (rule.implicit and not show_all):
            continue
        if isinstance(rule.condition, Const):
            continue  # MC407 already says the condition is constant
        if verdict.covered_by:
            message = (f"rule {rule.name!r} can never fire: every task it matches is taken "
                       f"first by {_names(verdict.covered_by)}")
            hint = ("give it a higher `priority`, or narrow the earlier rule(s) with "
                    "`match: word` or `and not ...`")
        elif verdict.reason == _UNEXPLAINED:
            message = (f"rule {rule.name!r} can never fire: every task it matches is taken "
                       "first by earlier rows")
            hint = "give it a higher `priority`, or narrow the earlier rules"
        else:
            message = f"rule {rule.name!r} can never fire: its condition is never true"
            hint = "no task satisfies it; check the comparisons and `and not` parts"
        out.append(Diagnostic.make("MC601", rule.name_span, message, hint=hint))
    for ov in overlaps:
        first, second = by_name[ov.first], by_name[ov.second]
        if _classic(first) and _classic(second) and not show_all:
            continue
        at = second if not second.implicit else first
        other = first if at is second else second
        hint = ("make the conditions exclusive (`and not ...`), or use hit_policy: first, "
                "where the earlier row wins")
        if other.implicit:
            hint += "; builtin_task_types: false removes the implicit builtin rows"
        out.append(Diagnostic.make(
            "MC602", at.name_span,
            f"rules {first.name!r} and {second.name!r} both match the task {ov.witness.show()}"
            ", which hit policy 'unique' refuses at routing time", hint=hint))
    for a, b in undecided:
        ra, rb = by_name[a], by_name[b]
        if _classic(ra) and _classic(rb) and not show_all:
            continue
        at = rb if not rb.implicit else ra
        out.append(Diagnostic.make(
            "MC603", at.name_span,
            f"rules {a!r} and {b!r} may both match a task: the analysis found a possible "
            "overlap but could not build a task that shows it (regular expressions or "
            "comparisons it does not model, or its bounds)",
            hint="route a candidate through both with `modec route --explain` to decide"))
    general = fallback_rule(ctx.mode)
    if fallback is False and general is not None:
        out.append(Diagnostic.make(
            "MC601", general.name_span,
            f"{FALLBACK_TYPE} can never apply: some row matches every task",
            hint="narrow the row that matches everything, or drop the fallback rule"))
    return out


def _rule_ref(rule: Rule) -> str:
    if rule.source != "builtin":
        return f"rule {rule.name!r}"
    how = "added implicitly" if rule.implicit else "builtin condition"
    return f"the classic {rule.name} keyword list ({how})"


def _override_hint(rule: Rule) -> str | None:
    """For a classic keyword list: how to replace it with whole-word keywords."""
    if rule.source != "builtin" or rule.name not in BUILTIN_KEYWORDS:
        return None
    words = ", ".join(BUILTIN_KEYWORDS[rule.name])
    return (f"override it in task_routing_rules: `{rule.name}: {{keywords: [{words}], "
            "match: word}` (add the plurals and other forms you mean)")


def _disjuncts(expr: Expr | None) -> Iterator[TextMatch]:
    """TextMatch atoms whose every value alone makes the condition true."""
    if expr is None:
        return
    items = expr.operands if isinstance(expr, Or) else (expr,)
    for item in items:
        if isinstance(item, TextMatch) and item.quantifier != "all":
            yield item


def _keyword_diagnostics(ctx: _Context, verdicts: list[RowVerdict], locator: _Locator
                         ) -> list[Diagnostic]:
    show_all = ctx.options.builtins
    out: list[Diagnostic] = []
    dead = {v.name for v in verdicts if v.status == "never"}
    # Rows a bound left undecided get no keyword findings either: a cut never adds one.
    silent = dead | {v.name for v in verdicts if v.status == "unknown"}
    first = ctx.mode.configuration.hit_policy == "first"
    # Every keyword that alone makes its row fire, indexed by its lowered literal.
    index: dict[str, list[tuple[int, StrKey, TextMatch, str]]] = {}
    for i, rule in enumerate(ctx.rows):
        for atom in _disjuncts(rule.condition):
            for value in atom.values:
                key = _str_key(atom, value)
                if key is not None and key[2]:
                    index.setdefault(key[2], []).append((i, key, atom, value))
    reported: set[tuple[int, StrKey]] = set()
    for i, rule in enumerate(ctx.rows):
        own = show_all or rule.source != "builtin"
        if not own:
            continue
        for atom in _disjuncts(rule.condition):
            for value in atom.values:
                key = _str_key(atom, value)
                if key is None or not key[2] or (i, key) in reported:
                    continue
                inside = ctx.theory.inside.get(key[2], [])
                shorter = [(j, k, a, v) for x, _ in inside for (j, k, a, v) in index.get(x, ())
                           if k != key and _atom_implies(key, k)]
                same = next((s for s in shorter if s[0] == i), None)
                if same is not None:
                    reported.add((i, key))
                    out.append(Diagnostic.make(
                        "MC604", locator.span(rule, atom, value),
                        f"keyword {value!r} of {_rule_ref(rule)} is redundant: {same[3]!r} "
                        f"in the same rule already matches every task {value!r} matches",
                        hint=_override_hint(rule) or f"remove {value!r}" + (
                            ", or write `match: word` and list the whole words you mean"
                            if atom.op == "contains" else "")))
                    continue
                earlier = next((s for s in shorter if s[0] < i), None)
                if first and earlier is not None and rule.name not in silent:
                    reported.add((i, key))
                    other = ctx.rows[earlier[0]]
                    where = (f"line {other.name_span.line}" if not other.implicit
                             else "the classic keyword list")
                    out.append(Diagnostic.make(
                        "MC605", locator.span(rule, atom, value),
                        f"keyword {value!r} of {_rule_ref(rule)} never decides a task: "
                        f"{earlier[3]!r} of the earlier rule {other.name!r} ({where}) "
                        f"takes every task it matches",
                        hint=f"remove {value!r}, or give {rule.name!r} a higher `priority` "
                        f"than {other.name!r}"))
    if ctx.options.hazards:
        quiet = {(ctx.rows[i].name, key[2]) for i, key in reported}
        out += _hazard_diagnostics(ctx, locator, quiet, silent)
    return out


def _hazard_diagnostics(ctx: _Context, locator: _Locator, quiet: set[tuple[str, str]],
                        dead: set[str]) -> list[Diagnostic]:
    """MC606 for `contains` keywords of rows that can fire, unless already reported as
    redundant or captured (``quiet``: rule name and lowered keyword)."""
    show_all = ctx.options.builtins
    wanted: list[tuple[Rule, TextMatch, str]] = []
    for rule in ctx.rows:
        if rule.condition is None or rule.name in dead or not (
                show_all or rule.source != "builtin"):
            continue
        for atom in iter_atoms(rule.condition):
            if isinstance(atom, TextMatch) and atom.op == "contains" and atom.field != "tags":
                wanted.extend((rule, atom, v) for v in atom.values
                              if (rule.name, v.lower()) not in quiet)
    if not wanted:
        return []
    hazards = _hazard_index().lookup({v.lower() for _, _, v in wanted if v.strip()})
    out: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for rule, atom, value in wanted:
        lit = value.lower()
        found = hazards.get(lit, ())
        siblings = {w for w in (v.lower() for v in atom.values) if w in found}
        evidence = list(itertools.islice((w for w in found if w not in siblings), 3))
        count = len(found) - len(siblings)
        if not evidence or (rule.name, lit) in seen:
            continue
        seen.add((rule.name, lit))
        shown = ", ".join(repr(w) for w in evidence)
        more = f" and {count - 3} more" if count > 3 else ""
        fix = ("`match: word`" if rule.source in ("keywords", "builtin")
               else "`mentions` instead of `contains`")
        out.append(Diagnostic.make(
            "MC606", locator.span(rule, atom, value),
            f"keyword {value!r} of {_rule_ref(rule)} also matches inside common English "
            f"words: {shown}{more}",
            hint=_override_hint(rule) or f"use {fix} so that {value!r} matches whole words "
            "only (and list the other forms you mean, such as plurals)"))
    return out


def _reachability(ctx: _Context, verdicts: list[RowVerdict], fallback: bool | None
                  ) -> list[Diagnostic]:
    mode = ctx.mode
    orch = mode.orchestrator
    if orch is None or all(r.implicit for r in mode.rules):
        return []  # a role file without routing rules: the orchestrator picks specialists
    default = default_specialist(mode)
    reached: set[str] = set()
    dead_targets: dict[str, list[str]] = {}
    for verdict, rule in zip(verdicts, ctx.rows, strict=True):
        target = rule.required_specialist or default
        if verdict.status == "never":
            if target:
                dead_targets.setdefault(target, []).append(rule.name)
            continue
        if target:
            reached.add(target)
        reached.update(rule.secondary_review)
    general = fallback_rule(mode)
    if fallback is not False:
        target = (general.required_specialist if general else None) or default
        if target:
            reached.add(target)
        if general is not None:
            reached.update(general.secondary_review)
    # Only specialists listed in a file that also routes: one extending default_roles.yaml
    # does not have to route to every role it inherits.
    routing_files = {r.name_span.file for r in mode.rules if not r.implicit}
    out = []
    for name in orch.specialist_roles:
        span = orch.specialist_spans.get(name, orch.name_span)
        if name in reached or name not in mode.roles or span.file not in routing_files:
            continue
        dead = dead_targets.get(name)
        why = (f"; the rule(s) routing to it never fire: {_names(dead)}" if dead else "")
        out.append(Diagnostic.make(
            "MC607", span,
            f"specialist {name!r} is never routed to: no rule that can fire, nor the "
            f"fallback, names it{why}",
            hint=f"route a rule to it with `required_specialist: {name}`, or remove it from "
            "specialist_roles"))
    return out


# --------------------------------------------------------------------------- keyword spans

_TOKEN: Final = re.compile(
    r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|/(?:[^/\\\n]|\\.)*/[A-Za-z]*")
_ESCAPES: Final = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def _decode(token: str) -> str:
    body, out, i = token[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and i + 6 <= len(body):
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _within(inner: Span, outer: Span) -> bool:
    return ((outer.line, outer.column) <= (inner.line, inner.column)
            and (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column))


class _Locator:
    """Exact spans of single keywords, found again in the YAML the rule came from."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.sources = sources
        self.roots: dict[str, YNode | None] = {}

    def _rule_node(self, rule: Rule) -> YNode | None:
        path = rule.name_span.file
        if path not in self.roots:
            text = self.sources.get(path)
            loaded = load_bytes(text.encode("utf-8", "surrogatepass"), path) if text else None
            self.roots[path] = loaded.root if loaded is not None else None
        root = self.roots[path]
        rules = root.get("task_routing_rules") if root is not None else None
        return rules.get(rule.name) if rules is not None else None

    def span(self, rule: Rule, atom: TextMatch, value: str) -> Span:
        fallback = atom.span if rule.source == "when" else rule.name_span
        try:
            node = self._rule_node(rule)
            if node is None:
                return fallback
            if rule.source == "keywords":
                keywords = node.get("keywords")
                for child in keywords.children if keywords is not None else ():
                    if child.raw == value or str(child.raw) == value:
                        return child.span
            elif rule.source == "when":
                when = node.get("when")
                if when is not None and when.raw is not None:
                    for m in _TOKEN.finditer(when.raw):
                        token = m.group()
                        if token[0] == "/" or _decode(token) != value:
                            continue
                        where = when.locate(m.start(), m.end())
                        if _within(where, atom.span):
                            return where
        except (ValueError, AttributeError):
            return fallback
        return fallback


# --------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class RowCoverage:
    """One row and the `tests:` examples (by line) that it decided."""

    name: str
    location: str
    implicit: bool
    examples: tuple[int, ...]
    never_fires: bool = False

    @property
    def covered(self) -> bool:
        return bool(self.examples)


@dataclass(frozen=True)
class CoverageReport:
    """Which rows the `tests:` examples exercise. Implicit builtin rows are listed but not
    counted: the author did not write them."""

    rows: tuple[RowCoverage, ...]
    fallback: RowCoverage | None
    examples: int

    @property
    def counted(self) -> list[RowCoverage]:
        out = [r for r in self.rows if not r.implicit]
        if self.fallback is not None:
            out.append(self.fallback)
        return out

    @property
    def percent(self) -> float:
        counted = self.counted
        if not counted:
            return 100.0
        return 100.0 * sum(r.covered for r in counted) / len(counted)

    @property
    def uncovered(self) -> list[RowCoverage]:
        return [r for r in self.counted if not r.covered]


def coverage(mode: ModeFile, taken: Sequence[tuple[str, ...] | None] | None = None,
             verdicts: Sequence[RowVerdict] = ()) -> CoverageReport:
    """Which rows the `tests:` examples exercise.

    ``taken`` gives, per example in order, the rows that decided it (a Decision's
    ``matches``: empty for the fallback, None for an example that failed to route); without
    it the examples are routed here by the router's semantics. Under ``collect`` every row
    taken counts. The fallback counts as a row when the mode names ``general_tasks``.
    ``verdicts`` (from :func:`analyse`) mark uncovered rows that can never fire.
    """
    rows = ordered_rules(mode.rules)
    dc = mode.configuration.default_complexity
    policy = mode.configuration.hit_policy
    hits: dict[str, list[int]] = {r.name: [] for r in rows}
    fallback_hits: list[int] = []
    for n, example in enumerate(mode.tests):
        if taken is not None:
            fired = taken[n]
            if fired is None:
                continue
        else:
            spec = example.task
            task = WitnessTask(title=spec.title, description=spec.description, tags=spec.tags,
                               complexity=spec.complexity,
                               metadata=tuple(sorted(spec.metadata.items())))
            fired = tuple(r.name for r in rows
                          if r.condition is not None and holds(r.condition, task, dc))
            if policy != "collect":
                fired = fired[:1]
        for name in fired:
            hits.setdefault(name, []).append(example.span.line)
        if not fired:
            fallback_hits.append(example.span.line)
    never = {v.name for v in verdicts if v.status == "never"}
    out = tuple(
        RowCoverage(r.name, f"{r.name_span.file}:{r.name_span.line}:{r.name_span.column}",
                    r.implicit, tuple(hits[r.name]), r.name in never)
        for r in rows)
    general = fallback_rule(mode)
    fallback = None
    if general is not None:
        s = general.name_span
        fallback = RowCoverage(FALLBACK_TYPE, f"{s.file}:{s.line}:{s.column}", False,
                               tuple(fallback_hits))
    return CoverageReport(out, fallback, len(mode.tests))


# --------------------------------------------------------------------------- impact diff


@dataclass(frozen=True)
class RowChange:
    """A row that differs between two versions of a mode (by task type name)."""

    name: str
    changes: tuple[str, ...]


def _row_shape(mode: ModeFile) -> dict[str, dict[str, Any]]:
    default = default_specialist(mode)
    out = {}
    for i, r in enumerate(ordered_rules(mode.rules)):
        assert r.condition is not None
        out[r.name] = {"position": i, "condition": format_expr(r.condition),
                       "specialist": r.required_specialist or default,
                       "priority": r.priority, "secondary_review": r.secondary_review}
    general = fallback_rule(mode)
    out[FALLBACK_TYPE] = {"specialist": (general.required_specialist if general else None)
                          or default}
    return out


def changed_rows(old: ModeFile, new: ModeFile) -> list[RowChange]:
    """Rows added, removed, or changed in condition, specialist, priority or position."""
    a, b = _row_shape(old), _row_shape(new)
    out = []
    for name in [*a, *(n for n in b if n not in a)]:
        if name not in b:
            out.append(RowChange(name, ("removed",)))
        elif name not in a:
            out.append(RowChange(name, ("added",)))
        else:
            diffs = tuple(k for k in a[name] if a[name][k] != b[name].get(k))
            if diffs:
                out.append(RowChange(name, diffs))
    return out


def decided_by(mode: ModeFile, name: str, options: AnalysisOptions | None = None
               ) -> WitnessTask | None:
    """A task that row ``name`` decides under hit policy ``first`` (no earlier row fires;
    ``general_tasks``: no row fires), checked against the semantics; None when there is
    none or the analysis could not build one.

    On conditions made of text atoms, complexity and metadata comparisons, there is a task
    exactly when :func:`analyse` says the row fires.
    """
    ctx = _context(mode, options or AnalysisOptions())
    try:
        lits = ctx.theory.rows
        if name == FALLBACK_TYPE and all(r.name != name for r in ctx.rows):
            return ctx.witness([-lit for lit in lits], ctx.no_row)
        i = next(i for i, r in enumerate(ctx.rows) if r.name == name)
        return ctx.witness([lits[i], *(-lits[j] for j in range(i))],
                           functools.partial(ctx.fires, i, alone=False))
    finally:
        ctx.solver.close()


def _context(mode: ModeFile, options: AnalysisOptions) -> _Context:
    rows = ordered_rules(mode.rules)
    budget = _Budget(options.limits, options.clock)
    theory = _Theory(rows, options.limits)
    return _Context(mode, rows, theory, _Solver(theory, budget), budget, _Witnesses(theory),
                    options, mode.configuration.default_complexity)


def _route_of(rows: Sequence[Rule], fallback: str | None, default: str | None,
              task: WitnessTask, dc: int) -> tuple[str, str | None]:
    for r in rows:
        if r.condition is not None and holds(r.condition, task, dc):
            return r.name, r.required_specialist or default
    return FALLBACK_TYPE, fallback or default


def synthesize_tasks(old: ModeFile, new: ModeFile, options: AnalysisOptions | None = None
                     ) -> list[tuple[WitnessTask, str]]:
    """Tasks whose routing changes between ``old`` and ``new``, for every changed row.

    Both versions' rows are encoded over shared atoms; for each changed row R the solver is
    asked for a task that R decides in one version and not in the other (and, when R's
    specialist changed, one it decides in both), once as such and once through each of R's
    keywords. Every task returned was checked to route differently (hit policy ``first``
    semantics, the fallback included), with the reason it was asked for; no duplicates.
    """
    options = options or AnalysisOptions()
    changes = {c.name: c.changes for c in changed_rows(old, new)}
    if not changes:
        return []
    rows_a, rows_b = ordered_rules(old.rules), ordered_rules(new.rules)
    theory = _Theory([*rows_a, *rows_b], options.limits)
    lits_a, lits_b = theory.rows[:len(rows_a)], theory.rows[len(rows_a):]

    def decided(rows: list[Rule], lits: list[int]) -> dict[str, int]:
        out = {r.name: theory._gate("and", [lits[i], *(-lits[j] for j in range(i))])
               for i, r in enumerate(rows)}
        out[FALLBACK_TYPE] = theory._gate("and", [-lit for lit in lits])
        return out

    dec_a, dec_b = decided(rows_a, lits_a), decided(rows_b, lits_b)
    budget = _Budget(options.limits, options.clock)
    ctx = _Context(old, rows_a, theory, _Solver(theory, budget), budget, _Witnesses(theory),
                   options, old.configuration.default_complexity)
    fb_a, fb_b = fallback_rule(old), fallback_rule(new)
    default_a, default_b = default_specialist(old), default_specialist(new)
    dc_a, dc_b = old.configuration.default_complexity, new.configuration.default_complexity

    def differs(task: WitnessTask) -> bool:
        a = _route_of(rows_a, fb_a.required_specialist if fb_a else None, default_a, task,
                      dc_a)
        b = _route_of(rows_b, fb_b.required_specialist if fb_b else None, default_b, task,
                      dc_b)
        return a != b

    keywords: dict[str, list[tuple[str, int]]] = {}
    for rule in (*rows_a, *rows_b):
        for atom in iter_atoms(rule.condition) if rule.condition is not None else ():
            if isinstance(atom, TextMatch):
                for value in atom.values:
                    key = _str_key(atom, value)
                    if key is not None and (value, theory.strs[key]) not in keywords.get(
                            rule.name, []):
                        keywords.setdefault(rule.name, []).append((value, theory.strs[key]))
    found: dict[WitnessTask, str] = {}
    try:
        for name, what in changes.items():
            a, b = dec_a.get(name), dec_b.get(name)
            asks: list[tuple[list[int], str]] = []
            if a is not None:
                asks.append(([a] + ([-b] if b is not None else []), f"{name} in old only"))
            if b is not None:
                asks.append(([b] + ([-a] if a is not None else []), f"{name} in new only"))
            if a is not None and b is not None and "specialist" in what:
                asks.append(([a, b], f"{name} in both, new specialist"))
            for base, why in asks:
                if budget.exhausted() is not None:
                    break
                task = ctx.witness(base, differs)
                if task is not None:
                    found.setdefault(task, why)
                for value, var in keywords.get(name, ()):
                    task = ctx.witness([*base, var], differs)
                    if task is not None:
                        found.setdefault(task, f"{why}, through keyword {value!r}")
    finally:
        ctx.solver.close()
    return list(found.items())


@dataclass
class ImpactReport:
    """How routing changes from one version of a mode to another over a set of tasks."""

    total: int
    changed: int
    pairs: dict[tuple[str, str, str, str], list[dict[str, Any]]]

    def to_dict(self, examples: int = 3) -> dict[str, Any]:
        return {
            "tasks": self.total,
            "changed": self.changed,
            "pairs": [
                {"from": {"task_type": k[0], "specialist": k[1]},
                 "to": {"task_type": k[2], "specialist": k[3]},
                 "count": len(v), "examples": v[:examples]}
                for k, v in sorted(self.pairs.items(), key=lambda kv: (-len(kv[1]), kv[0]))
            ],
        }


Decide = Callable[[Any], tuple[str, str]]


def impact(tasks: Iterable[tuple[Any, dict[str, Any]]], old: Decide, new: Decide
           ) -> ImpactReport:
    """Route each ``(task, shown)`` through ``old`` and ``new`` (each returning
    ``(task_type, specialist)``) and group the tasks whose outcome changes by old→new pair."""
    total = changed = 0
    pairs: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for task, shown in tasks:
        total += 1
        a, b = old(task), new(task)
        if a != b:
            changed += 1
            pairs.setdefault((*a, *b), []).append(shown)
    return ImpactReport(total, changed, pairs)
