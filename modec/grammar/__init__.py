"""The condition language of ``when:`` (DESIGN.md §3): text in, checked IR expression out.

* :mod:`modec.grammar.ast` — the expression nodes (:data:`~modec.grammar.ast.Expr`);
* :func:`parse_condition` — parse, type-check and fold one condition; diagnostics, never
  exceptions;
* :func:`format_expr` — the canonical text of an expression (``parse ∘ format`` is the
  identity on folded expressions, spans aside);
* :func:`check_regex`, :func:`regex_problem`, :func:`compile_regex` — RE2 patterns of
  ``matches``.

This package is the only one that imports lark, and it imports nothing of
:mod:`modec.compiler` (import-linter holds both). Names are imported lazily, so reading the
nodes or printing an expression (the router does) never loads the parser.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modec.grammar.parser import MAX_CONDITION_LENGTH, MAX_NESTING, parse_condition
    from modec.grammar.printer import format_expr
    from modec.grammar.regex import (
        REGEX_FLAGS,
        CompiledRegex,
        RegexProblem,
        check_regex,
        compile_regex,
        regex_problem,
    )

_HOMES = {
    "MAX_CONDITION_LENGTH": "modec.grammar.parser",
    "MAX_NESTING": "modec.grammar.parser",
    "parse_condition": "modec.grammar.parser",
    "format_expr": "modec.grammar.printer",
    "REGEX_FLAGS": "modec.grammar.regex",
    "CompiledRegex": "modec.grammar.regex",
    "RegexProblem": "modec.grammar.regex",
    "check_regex": "modec.grammar.regex",
    "compile_regex": "modec.grammar.regex",
    "regex_problem": "modec.grammar.regex",
}

__all__ = [
    "MAX_CONDITION_LENGTH",
    "MAX_NESTING",
    "REGEX_FLAGS",
    "CompiledRegex",
    "RegexProblem",
    "check_regex",
    "compile_regex",
    "format_expr",
    "parse_condition",
    "regex_problem",
]


def __getattr__(name: str) -> Any:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module 'modec.grammar' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
