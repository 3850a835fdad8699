"""Properties of the condition language: printing round-trips, parsing never raises."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from modec.compiler.ir import And, Const, Expr, Not, Or, RegexMatch
from modec.diagnostics import Diagnostic, Span, has_errors
from modec.grammar import format_expr, parse_condition, regex_problem
from modec.grammar.fold import fold
from tests.property.expr_strategies import NOWHERE, atoms, expression_key, expressions


def locate(start: int, end: int) -> Span:
    return Span(file="t", line=1, column=start + 1, end_line=1, end_column=end + 1)


def spans_of(expr: Expr) -> list[Span]:
    out = [expr.span]
    if isinstance(expr, Not):
        out += spans_of(expr.operand)
    elif isinstance(expr, And | Or):
        for operand in expr.operands:
            out += spans_of(operand)
    return out


def assert_inside(span: Span | None, text: str) -> None:
    assert span is not None
    assert span.line == span.end_line == 1
    assert 1 <= span.column <= span.end_column <= len(text) + 1


@settings(deadline=None, max_examples=300)
@given(expressions())
def test_format_then_parse_is_the_identity(expr: Expr) -> None:
    text = format_expr(expr)
    parsed, diagnostics = parse_condition(text, locate)
    assert diagnostics == [], (text, diagnostics)
    assert parsed is not None
    assert expression_key(parsed) == expression_key(expr), text
    assert format_expr(parsed) == text
    for span in spans_of(parsed):
        assert_inside(span, text)


@settings(deadline=None)
@given(atoms())
def test_drawn_regexes_are_valid(expr: Expr) -> None:
    if isinstance(expr, RegexMatch):
        assert regex_problem(expr.pattern, expr.flags) is None


@settings(deadline=None)
@given(st.lists(expressions(max_leaves=4), min_size=1, max_size=3), st.data())
def test_folding_matches_parsing_any_spelling(parts: list[Expr], data: st.DataObject) -> None:
    """Constants and redundant nesting anywhere fold to what parsing the folded text gives."""
    noisy: list[Expr] = []
    for part in parts:
        noise = data.draw(st.sampled_from(["none", "true-and", "false-or", "not-not"]))
        if noise == "true-and":
            part = And(span=NOWHERE, operands=(Const(span=NOWHERE, value=True), part))
        elif noise == "false-or":
            part = Or(span=NOWHERE, operands=(part, Const(span=NOWHERE, value=False)))
        elif noise == "not-not":
            part = Not(span=NOWHERE, operand=Not(span=NOWHERE, operand=part))
        noisy.append(part)
    kind = And if data.draw(st.booleans()) else Or
    tree: Expr = noisy[0] if len(noisy) == 1 else kind(span=NOWHERE, operands=tuple(noisy))
    folded, _ = fold(tree)
    parsed, diagnostics = parse_condition(format_expr(tree), locate)
    assert parsed is not None, diagnostics
    assert expression_key(parsed) == expression_key(folded)


_TOKENS = st.sampled_from(
    [
        "title", "description", "text", "tags", "complexity", "metadata.team", "metadata",
        "contains", "mentions", "startswith", "endswith", "matches", "in", "any(", "all(",
        "and", "or", "not", "true", "false", "(", ")", "[", "]", ",", "==", "!=", "<", "<=",
        ">", ">=", "=", '"a"', "'b'", '"\\q"', '"\\u12"', '"\\ud800"', '"', "/x/i", "/(a)\\1/",
        "/(/", "/", "3", "-1.5e3", "1e999", "simple", "very_complex", "\x00", "\ud800", " ",
        "\n", "é", "0" * 4400, "-" + "9" * 4400, "9" * 4400 + ".5",
    ]
)  # fmt: skip


@settings(deadline=None, max_examples=300)
@given(
    st.one_of(
        st.text(),
        st.lists(_TOKENS, max_size=14).map(" ".join),
        st.lists(_TOKENS, max_size=14).map("".join),
    )
)
@example("(" * 5000 + 'title contains "a"' + ")" * 5000)
@example("not " * 3000 + "true")
@example('title contains "' + "\\q" * 50 + '"')
def test_parse_never_raises_and_locates_inside_the_text(text: str) -> None:
    expr, diagnostics = parse_condition(text, locate)
    assert all(isinstance(d, Diagnostic) for d in diagnostics)
    for d in diagnostics:
        assert_inside(d.span, text)
    if expr is None:
        assert has_errors(diagnostics)
    else:
        assert not has_errors(diagnostics)
        for span in spans_of(expr):
            assert_inside(span, text)
        # Whatever parsed, its canonical text parses back to the same expression.
        again, again_diagnostics = parse_condition(format_expr(expr), locate)
        assert again is not None, again_diagnostics
        assert expression_key(again) == expression_key(expr)
