"""Keyword findings: MC604 (redundant in its rule), MC605 (captured by an earlier rule),
MC606 (matches inside common English words, from :mod:`.hazards`' word list)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Protocol

from modec.compiler.analysis.context import Context
from modec.compiler.analysis.hazards import hazard_lookup
from modec.compiler.analysis.lemmas import StrKey, atom_implies, str_key
from modec.compiler.analysis.report import RowVerdict
from modec.compiler.ir import BUILTIN_KEYWORDS, Expr, Or, Rule, TextMatch
from modec.compiler.table import iter_atoms
from modec.diagnostics import Diagnostic, Span

__all__ = ["KeywordSpans", "keyword_diagnostics"]


class KeywordSpans(Protocol):
    """Where one keyword (a value of ``atom`` in ``rule``) is written."""

    def span(self, rule: Rule, atom: TextMatch, value: str) -> Span: ...


#: (row index, text atom, the TextMatch, the value as written)
_Entry = tuple[int, StrKey, TextMatch, str]


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
    return (
        f"override it in task_routing_rules: `{rule.name}: {{keywords: [{words}], "
        "match: word}` (add the plurals and other forms you mean)"
    )


def _disjuncts(expr: Expr | None) -> Iterator[TextMatch]:
    """TextMatch atoms whose every value alone makes the condition true."""
    if expr is None:
        return
    items = expr.operands if isinstance(expr, Or) else (expr,)
    for item in items:
        if isinstance(item, TextMatch) and item.quantifier != "all":
            yield item


def _keywords(rule: Rule) -> Iterator[tuple[TextMatch, str, StrKey]]:
    """Every keyword that alone makes the row fire, with its text atom."""
    for atom in _disjuncts(rule.condition):
        for value in atom.values:
            key = str_key(atom, value)
            if key is not None and key[2]:
                yield atom, value, key


class _Captures:
    """MC604 and MC605: a keyword whose every task a shorter keyword already takes."""

    def __init__(self, ctx: Context, spans: KeywordSpans, silent: set[str]) -> None:
        self.ctx = ctx
        self.spans = spans
        self.silent = silent
        self.first = ctx.mode.configuration.hit_policy == "first"
        self.index: dict[str, list[_Entry]] = {}
        #: :func:`_keywords` of each row, in row order (computed once, read twice).
        self.keywords = [list(_keywords(rule)) for rule in ctx.rows]
        for i, found in enumerate(self.keywords):
            for atom, value, key in found:
                self.index.setdefault(key[2], []).append((i, key, atom, value))

    def shorter(self, key: StrKey) -> list[_Entry]:
        inside = self.ctx.theory.inside.get(key[2], [])
        return [
            e
            for x, _ in inside
            for e in self.index.get(x, ())
            if e[1] != key and atom_implies(key, e[1])
        ]

    def check(self, i: int, atom: TextMatch, value: str, key: StrKey) -> Diagnostic | None:
        rule = self.ctx.rows[i]
        shorter = self.shorter(key)
        same = next((s for s in shorter if s[0] == i), None)
        if same is not None:
            return Diagnostic.make(
                "MC604",
                self.spans.span(rule, atom, value),
                f"keyword {value!r} of {_rule_ref(rule)} is redundant: {same[3]!r} "
                f"in the same rule already matches every task {value!r} matches",
                hint=_override_hint(rule)
                or f"remove {value!r}"
                + (
                    ", or write `match: word` and list the whole words you mean"
                    if atom.op == "contains"
                    else ""
                ),
            )
        earlier = next((s for s in shorter if s[0] < i), None)
        if not self.first or earlier is None or rule.name in self.silent:
            return None
        other = self.ctx.rows[earlier[0]]
        where = f"line {other.name_span.line}" if not other.implicit else "the classic keyword list"
        return Diagnostic.make(
            "MC605",
            self.spans.span(rule, atom, value),
            f"keyword {value!r} of {_rule_ref(rule)} never decides a task: "
            f"{earlier[3]!r} of the earlier rule {other.name!r} ({where}) "
            f"takes every task it matches",
            hint=f"remove {value!r}, or give {rule.name!r} a higher `priority` than {other.name!r}",
        )


def keyword_diagnostics(
    ctx: Context, verdicts: list[RowVerdict], spans: KeywordSpans
) -> list[Diagnostic]:
    """MC604, MC605 and (unless ``options.hazards`` is off) MC606 for the rows' keywords."""
    show_all = ctx.options.builtins
    dead = {v.name for v in verdicts if v.status == "never"}
    # Rows a bound left undecided get no keyword findings either: a cut never adds one.
    silent = dead | {v.name for v in verdicts if v.status == "unknown"}
    captures = _Captures(ctx, spans, silent)
    out: list[Diagnostic] = []
    reported: set[tuple[int, StrKey]] = set()
    for i, rule in enumerate(ctx.rows):
        if not (show_all or rule.source != "builtin"):
            continue
        for atom, value, key in captures.keywords[i]:
            if (i, key) in reported:
                continue
            found = captures.check(i, atom, value, key)
            if found is not None:
                reported.add((i, key))
                out.append(found)
    if ctx.options.hazards:
        quiet = {(ctx.rows[i].name, key[2]) for i, key in reported}
        out += _hazard_diagnostics(ctx, spans, quiet, silent)
    return out


def _hazard_candidates(
    ctx: Context, quiet: set[tuple[str, str]], silent: set[str]
) -> list[tuple[Rule, TextMatch, str]]:
    show_all = ctx.options.builtins
    wanted: list[tuple[Rule, TextMatch, str]] = []
    for rule in ctx.rows:
        if (
            rule.condition is None
            or rule.name in silent
            or not (show_all or rule.source != "builtin")
        ):
            continue
        for atom in iter_atoms(rule.condition):
            if isinstance(atom, TextMatch) and atom.op == "contains" and atom.field != "tags":
                wanted.extend(
                    (rule, atom, v) for v in atom.values if (rule.name, v.lower()) not in quiet
                )
    return wanted


def _hazard(
    rule: Rule, atom: TextMatch, value: str, evidence: list[str], count: int, span: Span
) -> Diagnostic:
    shown = ", ".join(repr(w) for w in evidence)
    more = f" and {count - 3} more" if count > 3 else ""
    fix = (
        "`match: word`"
        if rule.source in ("keywords", "builtin")
        else "`mentions` instead of `contains`"
    )
    return Diagnostic.make(
        "MC606",
        span,
        f"keyword {value!r} of {_rule_ref(rule)} also matches inside common English "
        f"words: {shown}{more}",
        hint=_override_hint(rule)
        or f"use {fix} so that {value!r} matches whole words "
        "only (and list the other forms you mean, such as plurals)",
    )


def _hazard_diagnostics(
    ctx: Context, spans: KeywordSpans, quiet: set[tuple[str, str]], silent: set[str]
) -> list[Diagnostic]:
    """MC606 for `contains` keywords of rows that can fire, unless already reported as
    redundant or captured (``quiet``: rule name and lowered keyword)."""
    wanted = _hazard_candidates(ctx, quiet, silent)
    if not wanted:
        return []
    hazards = hazard_lookup({v.lower() for _, _, v in wanted if v.strip()})
    out: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    # The atom's own values, lowered once per atom (not once per value: linear in keywords).
    own: dict[int, set[str]] = {}
    for rule, atom, value in wanted:
        lit = value.lower()
        found = hazards.get(lit, ())
        if not found or (rule.name, lit) in seen:
            continue
        values = own.get(id(atom))
        if values is None:
            values = own[id(atom)] = {v.lower() for v in atom.values}
        evidence = list(itertools.islice((w for w in found if w not in values), 3))
        if not evidence:
            continue
        seen.add((rule.name, lit))
        count = sum(w not in values for w in found)
        out.append(_hazard(rule, atom, value, evidence, count, spans.span(rule, atom, value)))
    return out
