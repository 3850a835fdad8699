"""The canonical printer: IR expression → condition text.

The output is the one spelling of a condition: double-quoted strings, single spaces,
parentheses only where precedence needs them, complexity levels as numbers, regex flags in
``ims`` order. ``parse_condition(format_expr(e))`` gives back ``e`` (spans aside) for every
folded expression.
"""

from __future__ import annotations

import math
from typing import Final

from modec.grammar.ast import (
    And,
    Compare,
    Const,
    Expr,
    Not,
    Or,
    RegexMatch,
    Scalar,
    TextMatch,
)

__all__ = ["format_expr", "format_regex", "format_string", "format_value"]

_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}


def format_string(text: str) -> str:
    """``text`` as a double-quoted literal; control and separator characters as ``\\uXXXX``.

    >>> print(format_string('say "hi"\\n'))
    "say \\"hi\\"\\n"
    """
    out = ['"']
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif c.isprintable() or c == " ":
            out.append(c)
        elif ord(c) > 0xFFFF:
            high, low = divmod(ord(c) - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
        else:
            out.append(f"\\u{ord(c):04x}")
    out.append('"')
    return "".join(out)


def format_regex(pattern: str, flags: str = "") -> str:
    """``/pattern/flags``, with each slash in the pattern written ``\\/``.

    >>> print(format_regex("^a/b", "i"))
    /^a\\/b/i
    """
    out = ["/"]
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append("\\/" if c == "/" else c)
        i += 1
    out.append("/")
    out.append(flags)
    return "".join(out)


def format_value(value: Scalar) -> str:
    """A literal: ``true``/``false``, an int, a float (``repr``, always with ``.`` or ``e``),
    or a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a condition cannot hold the number {value!r}")
        return repr(value)
    return format_string(value)


def _operand(expr: Expr, inside: type[And] | type[Or] | type[Not]) -> str:
    text = format_expr(expr)
    needs_parens = isinstance(expr, And | Or) and (
        inside is Not or isinstance(expr, Or) or type(expr) is inside
    )
    return f"({text})" if needs_parens else text


def format_expr(expr: Expr) -> str:
    """The canonical text of ``expr``.

    >>> from modec.diagnostics import Span
    >>> s = Span(file="m.yaml", line=1, column=1, end_line=1, end_column=1)
    >>> e = And(span=s, operands=(
    ...     Or(span=s, operands=(
    ...         TextMatch(span=s, field="tags", op="contains", quantifier="one",
    ...                   values=("hotfix",)),
    ...         RegexMatch(span=s, field="title", pattern="^fix", flags="i"))),
    ...     Not(span=s, operand=Compare(span=s, field="complexity", op=">", value=2))))
    >>> print(format_expr(e))
    (tags contains "hotfix" or title matches /^fix/i) and not complexity > 2
    """
    if isinstance(expr, Const):
        return "true" if expr.value else "false"
    if isinstance(expr, Not):
        return f"not {_operand(expr.operand, Not)}"
    if isinstance(expr, And):
        return " and ".join(_operand(o, And) for o in expr.operands)
    if isinstance(expr, Or):
        return " or ".join(_operand(o, Or) for o in expr.operands)
    if isinstance(expr, TextMatch):
        if expr.quantifier == "one" and len(expr.values) == 1:
            argument = format_string(expr.values[0])
        else:
            inner = ", ".join(format_string(v) for v in expr.values)
            argument = f"{'all' if expr.quantifier == 'all' else 'any'}({inner})"
        return f"{expr.field} {expr.op} {argument}"
    if isinstance(expr, RegexMatch):
        return f"{expr.field} matches {format_regex(expr.pattern, expr.flags)}"
    if isinstance(expr, Compare):
        return f"{expr.field} {expr.op} {format_value(expr.value)}"
    values = ", ".join(format_value(v) for v in expr.values)
    return f"{expr.field} in [{values}]"
