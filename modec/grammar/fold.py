"""Constant folding: the normal form every parsed condition is returned in.

* ``not true`` → ``false``, ``not not x`` → ``x``;
* ``and``/``or`` drop their neutral constants and collapse on an absorbing one;
* nested ``and`` inside ``and`` (and ``or`` inside ``or``) are flattened;
* an ``and``/``or`` left with one operand is that operand.

When a part of the condition that tests the task folds to a constant (``title contains "a"
or true``), the tests inside it can never matter: that is an MC407 warning, reported once, at
the outermost such part. Literal-only conditions (a bare ``true``, ``not false``) are fine.
Every node keeps the span of the source it came from.
"""

from __future__ import annotations

from collections.abc import Sequence

from modec.diagnostics import Diagnostic
from modec.grammar.ast import And, Const, Expr, Not, Or

__all__ = ["fold"]


def fold(expr: Expr) -> tuple[Expr, list[Diagnostic]]:
    """The folded form of ``expr`` and its MC407 warnings (recursive: bound depth first)."""
    folded, tests_task, constant_parts = _fold(expr)
    if isinstance(folded, Const) and tests_task:
        constant_parts = [folded]
    warnings = [
        Diagnostic.make(
            "MC407",
            part.span,
            f"{'condition' if part is folded else 'this part of the condition'} is always "
            f"{'true' if part.value else 'false'}, whatever the task",
            "a `true` or `false` here makes the tests next to it irrelevant; remove it, or "
            "the tests",
        )
        for part in constant_parts
    ]
    return folded, warnings


def _fold(expr: Expr) -> tuple[Expr, bool, list[Const]]:
    """(folded, whether ``expr`` reads the task, the outermost constant parts that do)."""
    if isinstance(expr, Not):
        operand, tests_task, parts = _fold(expr.operand)
        if isinstance(operand, Const):
            return Const(span=expr.span, value=not operand.value), tests_task, parts
        if isinstance(operand, Not):
            return operand.operand, tests_task, parts
        return Not(span=expr.span, operand=operand), tests_task, parts
    if isinstance(expr, And | Or):
        return _fold_junction(expr)
    return expr, not isinstance(expr, Const), []


def _fold_junction(expr: And | Or) -> tuple[Expr, bool, list[Const]]:
    absorbing = isinstance(expr, Or)  # `or true` is true, `and false` is false
    tests_task = False
    operands: list[Expr] = []
    parts: list[Const] = []
    collapsed = False
    for child in expr.operands:
        folded, child_tests, child_parts = _fold(child)
        tests_task |= child_tests
        if isinstance(folded, Const):
            if child_tests:
                parts.append(folded)
            else:
                parts.extend(child_parts)
            if folded.value is absorbing:
                collapsed = True
            continue
        parts.extend(child_parts)
        if type(folded) is type(expr):
            operands.extend(_operands(folded))
        else:
            operands.append(folded)
    if collapsed:
        # The constant swallows its siblings: one warning for the whole, if anything is lost.
        const = Const(span=expr.span, value=absorbing)
        return const, tests_task, []
    if not operands:
        const = Const(span=expr.span, value=not absorbing)
        return const, tests_task, []
    if len(operands) == 1:
        return operands[0], tests_task, parts
    node = (
        Or(span=expr.span, operands=tuple(operands))
        if absorbing
        else And(span=expr.span, operands=tuple(operands))
    )
    return node, tests_task, parts


def _operands(expr: Expr) -> Sequence[Expr]:
    return expr.operands if isinstance(expr, And | Or) else (expr,)
