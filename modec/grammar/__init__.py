"""The condition language of ``when:`` (DESIGN.md §3): text in, checked IR expression out.

* :func:`parse_condition` — parse, type-check and fold one condition; diagnostics, never
  exceptions;
* :func:`format_expr` — the canonical text of an expression (``parse ∘ format`` is the
  identity on folded expressions, spans aside);
* :func:`check_regex`, :func:`regex_problem`, :func:`compile_regex` — RE2 patterns of
  ``matches``.

This package is the only one that imports lark.
"""

from __future__ import annotations

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
