"""The decision table: a mode's rules as rows in final order, plus the scanner plan.

:func:`build_table` is the compiler's ``table`` stage. The table is everything the router
needs, and nothing else: it is serialised into the artifact and the router is rebuilt from it
without the IR.

Row order (every hit policy reads rows in this order): higher ``priority`` first; ties put the
four builtin types (a rule whose condition is the classic keyword list, whether the file
names it or it was added implicitly) first, in the classic order, then the file's other rules
in file order. ``general_tasks`` without a condition is not a row: it is the fallback.

The scanner plan lists, per (text field, match kind), every lowered literal that any row's
``contains`` (``substring``) or ``mentions`` (``word``) atom uses on that field, so a route
reads each field once, whatever the number of rules.

>>> from modec.compiler.ir import Rule, TextMatch
>>> from modec.diagnostics import Span
>>> s = Span.point("m.yaml", 1, 1)
>>> def rule(name, words, **kw):
...     cond = TextMatch(span=s, field="title", op="contains", quantifier="any", values=words)
...     return Rule(span=s, name_span=s, name=name, condition=cond, source="keywords", **kw)
>>> rules = (rule("b_tasks", ("B",)), rule("a_tasks", ("a", "b"), priority=5))
>>> [r.name for r in ordered_rules(rules)]
['a_tasks', 'b_tasks']
>>> literal_plan(ordered_rules(rules))
(ScannerPlan(field='title', kind='substring', literals=('a', 'b')),)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final

from pydantic import BaseModel, ConfigDict

from modec.compiler.ir import (
    BUILTIN_ORDER,
    FALLBACK_TYPE,
    And,
    Expr,
    HitPolicy,
    MatchKind,
    ModeFile,
    Not,
    Or,
    Rule,
    TextMatch,
)

__all__ = [
    "SCANNED_FIELDS",
    "DecisionTable",
    "FallbackRow",
    "Row",
    "ScannerPlan",
    "build_table",
    "default_specialist",
    "fallback_rule",
    "iter_atoms",
    "literal_plan",
    "ordered_rules",
]

#: Text fields read through the multi-pattern scanners (``tags`` and metadata are not).
SCANNED_FIELDS: Final = ("title", "description", "text")
_SCAN_KIND: Final[dict[str, MatchKind]] = {"contains": "substring", "mentions": "word"}
_BUILTIN_RANK: Final = {name: i for i, name in enumerate(BUILTIN_ORDER)}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Row(_Frozen):
    """One row of the table: a named condition and the decision it leads to."""

    name: str
    condition: Expr
    specialist: str | None
    secondary_review: tuple[str, ...] = ()
    complexity_boost: int = 0
    parallel_execution: bool | None = None
    priority: int = 0
    #: Where the condition came from: ``when``, ``keywords`` or ``builtin``.
    origin: str
    implicit: bool = False
    #: ``file:line`` of the rule's key (or of ``task_routing_rules`` for implicit rows).
    source: str


class FallbackRow(_Frozen):
    """What a task gets when no row matches: ``general_tasks``."""

    name: str = FALLBACK_TYPE
    specialist: str | None
    secondary_review: tuple[str, ...] = ()
    complexity_boost: int = 0
    parallel_execution: bool | None = None
    #: ``file:line`` of the ``general_tasks`` rule, or None when the file does not give one.
    source: str | None = None


class ScannerPlan(_Frozen):
    """The lowered literals one multi-pattern scanner looks for in one field."""

    field: str
    kind: MatchKind
    literals: tuple[str, ...]


class DecisionTable(_Frozen):
    """Rows in final order, the fallback row, and the scanner plan. JSON round-trips."""

    hit_policy: HitPolicy
    default_specialist: str | None
    default_complexity: int
    rows: tuple[Row, ...]
    fallback: FallbackRow
    scanners: tuple[ScannerPlan, ...]

    def row(self, name: str) -> Row | FallbackRow:
        """The row named ``name`` (the fallback for ``general_tasks`` unless a row has it)."""
        for row in self.rows:
            if row.name == name:
                return row
        if name == self.fallback.name:
            return self.fallback
        raise KeyError(name)


# --------------------------------------------------------------------------- order


def _is_fallback(rule: Rule) -> bool:
    return rule.name == FALLBACK_TYPE and rule.condition is None


def ordered_rules(rules: Iterable[Rule]) -> list[Rule]:
    """The rules that are rows, in final row order (the fallback rule is left out).

    Higher ``priority`` first; ties: the builtin task types by name, in the classic order,
    whatever their condition (a ``performance_tasks`` rule with its own keywords is still the
    builtin type), then the other rules in file order (DESIGN §2).
    """
    indexed = [(i, r) for i, r in enumerate(rules) if not _is_fallback(r)]

    def key(item: tuple[int, Rule]) -> tuple[int, int, int]:
        index, rule = item
        if rule.name in _BUILTIN_RANK:
            return (-rule.priority, 0, _BUILTIN_RANK[rule.name])
        return (-rule.priority, 1, index)

    return [rule for _, rule in sorted(indexed, key=key)]


def fallback_rule(mode: ModeFile) -> Rule | None:
    """The ``general_tasks`` rule without a condition, if the mode gives one."""
    return next((r for r in mode.rules if _is_fallback(r)), None)


def default_specialist(mode: ModeFile) -> str | None:
    """The specialist of rows that name none (DESIGN §2).

    ``mode_configuration.default_specialist``, else ``general_tasks``' required specialist,
    else ``implementer`` if defined, else the first listed specialist that has a role
    definition, else the first listed one, else None.
    """
    configured = mode.configuration.default_specialist
    if configured:
        return configured
    general = next((r for r in mode.rules if r.name == FALLBACK_TYPE), None)
    if general is not None and general.required_specialist:
        return general.required_specialist
    if "implementer" in mode.roles:
        return "implementer"
    listed = list(mode.specialist_roles)
    defined = [name for name in listed if name in mode.roles]
    if defined:
        return defined[0]
    return listed[0] if listed else None


# --------------------------------------------------------------------------- literals


def iter_atoms(expr: Expr) -> Iterator[Expr]:
    """Every leaf of ``expr`` (not ``and``/``or``/``not``), left to right."""
    # A stack of the operands still to visit, not a generator per level (the analysis, the
    # checks and the table each walk every row).
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, _JUNCTIONS):
            stack.extend(reversed(node.operands))
        elif isinstance(node, Not):
            stack.append(node.operand)
        else:
            yield node


_JUNCTIONS: Final = (And, Or)


def literal_plan(rows: Sequence[Rule] | Sequence[Row]) -> tuple[ScannerPlan, ...]:
    """Per (field, kind): the lowered literals of every scanned atom, first appearance first."""
    found: dict[tuple[str, MatchKind], dict[str, None]] = {}
    for row in rows:
        if row.condition is None:
            continue
        for atom in iter_atoms(row.condition):
            if isinstance(atom, TextMatch) and atom.field in SCANNED_FIELDS:
                kind = _SCAN_KIND.get(atom.op)
                if kind is not None:
                    bucket = found.setdefault((atom.field, kind), {})
                    for value in atom.values:
                        bucket.setdefault(value.lower(), None)
    order = {field: i for i, field in enumerate(SCANNED_FIELDS)}
    return tuple(
        ScannerPlan(field=field, kind=kind, literals=tuple(literals))
        for (field, kind), literals in sorted(
            found.items(), key=lambda item: (order[item[0][0]], item[0][1])
        )
    )


# --------------------------------------------------------------------------- build


def _location(rule: Rule) -> str:
    return f"{rule.name_span.file}:{rule.name_span.line}"


#: ``Row(**fields)``: the same validation, without ``BaseModel.__init__``'s overhead (a row
#: per rule).
_make_row: Final[Callable[[dict[str, object]], Row]] = Row.__pydantic_validator__.validate_python


def build_table(mode: ModeFile) -> DecisionTable:
    """The decision table of a resolved, checked mode (the compiler's ``table`` stage)."""
    default = default_specialist(mode)
    rows: list[Row] = []
    for rule in ordered_rules(mode.rules):
        assert rule.condition is not None  # only the fallback rule has none
        rows.append(
            _make_row(
                {
                    "name": rule.name,
                    "condition": rule.condition,
                    "specialist": rule.required_specialist or default,
                    "secondary_review": rule.secondary_review,
                    "complexity_boost": rule.complexity_boost,
                    "parallel_execution": rule.parallel_execution,
                    "priority": rule.priority,
                    "origin": rule.source,
                    "implicit": rule.implicit,
                    "source": _location(rule),
                }
            )
        )
    general = fallback_rule(mode)
    if general is None:
        fallback = FallbackRow(specialist=default)
    else:
        fallback = FallbackRow(
            specialist=general.required_specialist or default,
            secondary_review=general.secondary_review,
            complexity_boost=general.complexity_boost,
            parallel_execution=general.parallel_execution,
            source=_location(general),
        )
    return DecisionTable(
        hit_policy=mode.configuration.hit_policy,
        default_specialist=default,
        default_complexity=mode.configuration.default_complexity,
        rows=tuple(rows),
        fallback=fallback,
        scanners=literal_plan(rows),
    )
