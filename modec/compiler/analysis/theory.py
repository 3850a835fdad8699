"""The rows as propositional formulas over atoms (Tseitin encoding), plus theory lemmas, in CNF.

* text atoms (:mod:`.lemmas`) on ``title``, ``description``, ``text``, ``metadata.KEY`` and
  ``tags``, literals lowered;
* ``complexity`` as one of 1–5 (exactly one), so comparisons on it are exact;
* ``metadata.KEY`` compared only by equality (text) and order (numbers) as one value out of
  a finite set of representatives that is complete for the constants used (absent, booleans,
  NaN, each constant, a number in every gap, another text), so those comparisons are exact;
* anything else — regular expressions, text ordering, comparisons on text fields — as a free
  atom, which over-approximates: the solver may pick values no task has, never the opposite.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from pysat.card import CardEnc, EncType

from modec.compiler.analysis.lemmas import (
    StrKey,
    occurrences,
    prefix_lemmas,
    str_key,
    substring_lemmas,
)
from modec.compiler.analysis.report import AnalysisLimits
from modec.compiler.ir import (
    And,
    Compare,
    Const,
    Expr,
    InList,
    Not,
    Or,
    RegexMatch,
    Rule,
    Scalar,
    TextMatch,
    field_kind,
)
from modec.compiler.semantics import MISSING, compare
from modec.compiler.table import iter_atoms

__all__ = ["MetaDomain", "Theory", "metadata_domains"]

_EXACT_LIMIT: Final = 2**53
#: Up to this many choices, "at most one" is pairwise; beyond it a sequential counter.
_PAIRWISE: Final = 40


@dataclass
class MetaDomain:
    """The representative values of one metadata key and their (exactly-one) variables."""

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


def _metadata_atoms(rows: Sequence[Rule]) -> dict[str, list[Expr]]:
    atoms: dict[str, list[Expr]] = {}
    for rule in rows:
        for atom in iter_atoms(rule.condition) if rule.condition is not None else ():
            f = getattr(atom, "field", "")
            if isinstance(f, str) and f.startswith("metadata."):
                atoms.setdefault(f, []).append(atom)
    return atoms


def _exact_values(found: list[Expr]) -> list[Scalar] | None:
    """The constants compared with one key, or None when a comparison is not modelled."""
    values: list[Scalar] = []
    for atom in found:
        if isinstance(atom, Compare):
            if isinstance(atom.value, str) and atom.op not in ("==", "!="):
                return None
            values.append(atom.value)
        elif isinstance(atom, InList):
            values.extend(atom.values)
        else:
            return None
    return values


def _domain(values: list[Scalar]) -> list[object] | None:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if any(not math.isfinite(v) or abs(v) >= _EXACT_LIMIT for v in numbers):
        return None
    texts: dict[str, str] = {}
    for v in values:
        if isinstance(v, str):
            texts.setdefault(v.lower(), v)
    other = "other"
    while other in texts:
        other += "~"
    return [MISSING, True, False, math.nan, *_number_candidates(numbers), *texts.values(), other]


def metadata_domains(rows: Sequence[Rule]) -> dict[str, list[object] | None]:
    """Per metadata key: a complete set of representative values, or None (free atoms)."""
    out: dict[str, list[object] | None] = {}
    for key, found in _metadata_atoms(rows).items():
        values = _exact_values(found)
        out[key] = None if values is None else _domain(values)
    return out


class Theory:
    """The rows as propositional formulas over atoms, plus theory lemmas, in CNF."""

    def __init__(self, rows: Sequence[Rule], limits: AnalysisLimits) -> None:
        self.limits = limits
        self.clauses: list[list[int]] = []
        self.top = 0
        self.true = self.new()
        self.clauses.append([self.true])
        self.strs: dict[StrKey, int] = {}
        self.free: dict[str, tuple[int, Expr]] = {}
        self.cx: dict[int, int] = {}
        self.meta: dict[str, MetaDomain] = {}
        self.skipped: list[str] = []
        self.lemmas = 0
        #: For each literal, the literals occurring in it, with positions (lints reuse it).
        self.inside: dict[str, list[tuple[str, list[int]]]] = {}
        self._gates: dict[tuple[str, tuple[int, ...]], int] = {}
        #: :meth:`_choice_atom` of each comparison met (field, operator, typed values).
        self._choice_gates: dict[tuple[str, str, tuple[tuple[type, object], ...]], int] = {}
        self._domains = metadata_domains(rows)
        self.rows = [
            self.encode(r.condition) if r.condition is not None else -self.true for r in rows
        ]
        self._add_lemmas()

    # -- variables and gates

    def new(self) -> int:
        """A fresh variable."""
        self.top += 1
        return self.top

    def _gate_items(self, kind: str, lits: Sequence[int]) -> tuple[int, ...] | int:
        """The operands that matter, or the gate's constant value."""
        t = self.true
        absorbing, neutral = (-t, t) if kind == "and" else (t, -t)
        if absorbing in lits:
            return absorbing
        found = set(lits)
        found.discard(neutral)
        if len(found) <= 1:
            return found.pop() if found else neutral
        return tuple(sorted(found))

    def gate(self, kind: str, lits: Sequence[int]) -> int:
        """A variable equivalent to the ``and``/``or`` of ``lits`` (shared when repeated)."""
        items = self._gate_items(kind, lits)
        if isinstance(items, int):
            return items
        cached = self._gates.get((kind, items))
        if cached is not None:
            return cached
        v = self.new()
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
        if len(lits) <= _PAIRWISE:
            self.clauses.extend([-a, -b] for i, a in enumerate(lits) for b in lits[i + 1 :])
            return
        enc = CardEnc.atmost(lits=lits, bound=1, top_id=self.top, encoding=EncType.seqcounter)
        self.top = max(self.top, enc.nv)
        self.clauses.extend(enc.clauses)

    def str_atom(self, key: StrKey) -> int:
        """The variable of a text atom."""
        v = self.strs.get(key)
        if v is None:
            v = self.strs[key] = self.new()
        return v

    def _free(self, key: str, expr: Expr) -> int:
        found = self.free.get(key)
        if found is None:
            found = self.free[key] = (self.new(), expr)
        return found[0]

    # -- encoding

    def encode(self, expr: Expr) -> int:
        """The literal equivalent to ``expr``."""
        if isinstance(expr, Const):
            return self.true if expr.value else -self.true
        if isinstance(expr, Not):
            return -self.encode(expr.operand)
        if isinstance(expr, And | Or):
            return self.gate(expr.kind, [self.encode(o) for o in expr.operands])
        if isinstance(expr, TextMatch):
            lits = [self._text(expr, v) for v in expr.values]
            return self.gate("and" if expr.quantifier == "all" else "or", lits)
        if isinstance(expr, RegexMatch):
            return self._free(json.dumps(["re", expr.field, expr.flags, expr.pattern]), expr)
        return self._comparison(expr)

    def _comparison(self, expr: Compare | InList) -> int:
        if expr.field == "complexity" or (
            expr.field.startswith("metadata.") and self._domains.get(expr.field) is not None
        ):
            return self._choice_atom(expr)
        values = [expr.value] if isinstance(expr, Compare) else list(expr.values)
        op = expr.op if isinstance(expr, Compare) else "in"
        key = json.dumps(["cmp", expr.field, op, [[type(v).__name__, v] for v in values]])
        return self._free(key, expr)

    def _text(self, atom: TextMatch, value: str) -> int:
        key = str_key(atom, value)
        if key is not None:
            return self.str_atom(key)
        if field_kind(atom.field) == "text":
            return self.true  # every text contains, mentions, starts and ends with ""
        single = atom.model_copy(update={"values": (value,), "quantifier": "one"})
        return self._free(json.dumps(["text", atom.field, atom.op, value]), single)

    def _choices(self, field: str) -> list[tuple[object, int]]:
        if field == "complexity":
            if not self.cx:
                self.cx = {c: self.new() for c in range(1, 6)}
                self._exactly_one(list(self.cx.values()))
            return list(self.cx.items())
        domain = self.meta.get(field)
        if domain is None:
            candidates = self._domains[field]
            assert candidates is not None
            domain = MetaDomain(candidates, [self.new() for _ in candidates])
            self._exactly_one(domain.vars)
            self.meta[field] = domain
        return list(zip(domain.candidates, domain.vars, strict=True))

    def _choice_atom(self, expr: Compare | InList) -> int:
        pairs = self._choices(expr.field)
        values = [expr.value] if isinstance(expr, Compare) else list(expr.values)
        op = expr.op if isinstance(expr, Compare) else "=="
        # The same comparison again (``complexity >= complex`` in many rows) is the same gate.
        key = (expr.field, op, tuple((type(c), c) for c in values))
        found = self._choice_gates.get(key)
        if found is not None:
            return found
        chosen = [
            v
            for value, v in pairs
            if value is not MISSING and any(compare(value, op, c) for c in values)
        ]
        found = self._choice_gates[key] = self.gate("or", chosen)
        return found

    # -- lemmas

    def _lemma(self, clause: list[int]) -> bool:
        if self.lemmas >= self.limits.max_lemmas:
            return False
        self.lemmas += 1
        self.clauses.append(clause)
        return True

    def _field_lemmas(self) -> None:
        """``text`` is title + line break + description; ``tags`` atoms need a tag."""
        for (dom, op, lit), var in list(self.strs.items()):
            if dom != "text" or "\n" in lit:
                continue
            if op in ("contains", "mentions"):
                self.clauses.append(
                    [
                        -var,
                        self.str_atom(("title", op, lit)),
                        self.str_atom(("description", op, lit)),
                    ]
                )
            elif op in ("startswith", "endswith"):
                other = self.str_atom(("title" if op == "startswith" else "description", op, lit))
                self.clauses.extend([[-var, other], [var, -other]])
        nonempty = self.strs.get(("tags", "nonempty", ""))
        if nonempty is not None:
            for (dom, _, _), var in self.strs.items():
                if dom == "tags" and var != nonempty:
                    self.clauses.append([-var, nonempty])

    def _add_lemmas(self) -> None:
        self._field_lemmas()
        by_lit: dict[str, list[tuple[StrKey, int]]] = {}
        for key, var in self.strs.items():
            if key[2]:
                by_lit.setdefault(key[2], []).append((key, var))
        if by_lit:
            self.inside, complete = occurrences(list(by_lit), self.limits.max_occurrences)
            if not complete:
                self.skipped.append(
                    f"literals occurring inside other literals past "
                    f"{self.limits.max_occurrences:,} occurrences were not looked at: rows "
                    "that never fire and redundant keywords may go unreported"
                )
            if not substring_lemmas(by_lit, self.inside, self._lemma):
                self.skipped.append(
                    f"substring implications past {self.limits.max_lemmas:,} clauses were not "
                    "added: rows that never fire may go unreported"
                )
        prefix_lemmas(self.strs, self._lemma, self.skipped)
