"""The condition language: every operator, every diagnostic code with its exact span,
precedence, escapes, folding, the printer, RE2 checks and hostile inputs."""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from modec.compiler.artifact import build_artifact, mode_hash
from modec.compiler.ir import (
    And,
    Compare,
    Const,
    Expr,
    InList,
    Not,
    Or,
    RegexMatch,
    TextMatch,
)
from modec.compiler.pipeline import compile_text
from modec.diagnostics import Diagnostic, Severity, Span
from modec.grammar import (
    MAX_CONDITION_LENGTH,
    MAX_NESTING,
    check_regex,
    compile_regex,
    format_expr,
    parse_condition,
    regex_problem,
)
from modec.grammar import parser as grammar_parser
from modec.grammar.ast import with_value_spans
from modec.grammar.parser import TERMINAL_WORDS, _lark
from modec.grammar.printer import format_regex, format_string, format_value
from modec.grammar.transform import ToIR

S = Span(file="t", line=1, column=1, end_line=1, end_column=1)


def locate(start: int, end: int) -> Span:
    return Span(file="t", line=1, column=start + 1, end_line=1, end_column=end + 1)


def parse(text: str) -> Expr:
    expr, diagnostics = parse_condition(text, locate)
    assert expr is not None, diagnostics
    assert diagnostics == []
    return expr


def problems(text: str) -> list[tuple[str, int, int]]:
    """(code, start offset, end offset) of every diagnostic, in order."""
    _, diagnostics = parse_condition(text, locate)
    out = []
    for d in diagnostics:
        assert d.span is not None
        out.append((d.code, d.span.column - 1, d.span.end_column - 1))
    return out


def only(text: str) -> Diagnostic:
    _, diagnostics = parse_condition(text, locate)
    assert len(diagnostics) == 1, diagnostics
    return diagnostics[0]


def offsets(span: Span) -> tuple[int, int]:
    return span.column - 1, span.end_column - 1


# --------------------------------------------------------------------------- operators


@pytest.mark.parametrize("field", ["title", "description", "text"])
@pytest.mark.parametrize("op", ["contains", "mentions", "startswith", "endswith"])
def test_text_operators_with_one_string(field: str, op: str) -> None:
    expr = parse(f'{field} {op} "Bug"')
    assert expr == TextMatch(
        span=locate(0, len(f'{field} {op} "Bug"')),
        field=field,
        op=op,
        quantifier="one",
        values=("Bug",),
    )


@pytest.mark.parametrize("op", ["contains", "mentions"])
@pytest.mark.parametrize("quantifier", ["any", "all"])
def test_any_and_all_keep_every_value_in_order(op: str, quantifier: str) -> None:
    expr = parse(f"description {op} {quantifier}('crash', \"panic\", 'oops')")
    assert isinstance(expr, TextMatch)
    assert (expr.op, expr.quantifier, expr.values) == (op, quantifier, ("crash", "panic", "oops"))


@pytest.mark.parametrize("quantifier", ["one", "any", "all"])
def test_tags_contains(quantifier: str) -> None:
    argument = '"hotfix"' if quantifier == "one" else f'{quantifier}("hotfix", "p1")'
    expr = parse(f"tags contains {argument}")
    assert isinstance(expr, TextMatch)
    assert (expr.field, expr.quantifier) == ("tags", quantifier)


def test_matches_takes_pattern_and_canonical_flags() -> None:
    expr = parse(r"title matches /^fix(\(.+\))?:\/x/si")
    assert expr == RegexMatch(
        span=expr.span, field="title", pattern=r"^fix(\(.+\))?:/x", flags="is"
    )
    assert parse("title matches /a/iii") == RegexMatch(
        span=locate(0, 20), field="title", pattern="a", flags="i"
    )


def test_matches_keeps_escaped_backslash_before_slash() -> None:
    expr = parse(r"text matches /a\\/")
    assert isinstance(expr, RegexMatch)
    assert expr.pattern == "a\\\\"


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparisons(op: str) -> None:
    assert parse(f"complexity {op} 3") == Compare(
        span=locate(0, len(f"complexity {op} 3")), field="complexity", op=op, value=3
    )
    expr = parse(f'title {op} "a"')
    assert isinstance(expr, Compare) and expr.value == "a"


def test_complexity_level_names_become_numbers() -> None:
    assert parse("complexity >= complex") == Compare(
        span=locate(0, 21), field="complexity", op=">=", value=4
    )
    expr = parse("complexity in [trivial, simple, moderate, 4, very_complex]")
    assert isinstance(expr, InList) and expr.values == (1, 2, 3, 4, 5)


def test_in_lists() -> None:
    assert parse("title in [\"a\", 'b']") == InList(
        span=locate(0, 19), field="title", values=("a", "b")
    )


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ('"x"', "x"),
        ("42", 42),
        ("-7", -7),
        ("2.5", 2.5),
        ("-1e3", -1000.0),
        ("1E-2", 0.01),
        ("true", True),
        ("false", False),
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("-" + "0" * 5000 + "7", -7),  # leading zeros do not count against int()'s limit
        ("0" * 5000, 0),
    ],
)
def test_metadata_takes_any_literal(literal: str, value: object) -> None:
    expr = parse(f"metadata.team-size == {literal}")
    assert isinstance(expr, Compare)
    assert expr.field == "metadata.team-size"
    assert expr.value == value and type(expr.value) is type(value)


def test_metadata_takes_every_operator() -> None:
    for text in [
        'metadata.team contains "core"',
        'metadata.team mentions any("core", "infra")',
        'metadata.team startswith "c"',
        "metadata.team matches /^c/",
        "metadata.level < 3",
        'metadata.x in ["a", 1, 2.5, true]',
    ]:
        parse(text)


def test_booleans() -> None:
    assert parse("true") == Const(span=locate(0, 4), value=True)
    assert parse("false") == Const(span=locate(0, 5), value=False)


def test_keywords_are_case_sensitive_and_whole_words() -> None:
    assert problems("TRUE")[0][0] == "MC401"
    assert problems('title CONTAINS "x"') == [("MC401", 6, 14)]
    # Names that merely start with a keyword are names.
    assert problems("nothing == 1") == [("MC403", 0, 7)]
    assert problems("android == 1") == [("MC403", 0, 7)]
    assert isinstance(parse('not(title contains"a")and(text contains"b")'), And)


def test_whitespace_and_newlines_are_free() -> None:
    text = 'title contains "a"\n  or\ttext contains "b"\r\n'
    expr = parse(text)
    assert format_expr(expr) == 'title contains "a" or text contains "b"'
    assert offsets(expr.span) == (0, len(text) - 2)


# --------------------------------------------------------------------------- precedence


def test_and_binds_tighter_than_or() -> None:
    expr = parse('title contains "a" or title contains "b" and title contains "c"')
    assert isinstance(expr, Or)
    assert isinstance(expr.operands[0], TextMatch)
    assert isinstance(expr.operands[1], And)


def test_not_binds_tighter_than_and() -> None:
    expr = parse('not title contains "a" and title contains "b"')
    assert isinstance(expr, And)
    assert isinstance(expr.operands[0], Not)


def test_parentheses_override_precedence() -> None:
    expr = parse('(title contains "a" or title contains "b") and title contains "c"')
    assert isinstance(expr, And) and isinstance(expr.operands[0], Or)
    negated = parse('not (title contains "a" or title contains "b")')
    assert isinstance(negated, Not) and isinstance(negated.operand, Or)


def test_spans_cover_each_node() -> None:
    text = '(title contains "a" or tags contains "b") and not complexity > 2'
    expr = parse(text)
    assert isinstance(expr, And)
    assert offsets(expr.span) == (0, len(text))  # the parenthesized first operand included
    group, negation = expr.operands
    assert isinstance(group, Or) and isinstance(negation, Not)
    assert offsets(group.span) == (1, 40)
    assert [offsets(o.span) for o in group.operands] == [(1, 19), (23, 40)]
    assert offsets(negation.span) == (46, len(text))
    assert offsets(negation.operand.span) == (50, len(text))


def test_literal_values_carry_their_spans() -> None:
    text = (
        "title contains any(\"ab\", 'c') and complexity >= simple"
        ' or metadata.n in [1, "x"] or title matches /a+/i'
    )
    expr = parse(text)
    assert isinstance(expr, Or)
    conj, in_list, regex = expr.operands
    assert isinstance(conj, And) and isinstance(in_list, InList) and isinstance(regex, RegexMatch)
    text_match, compare = conj.operands
    assert isinstance(text_match, TextMatch) and isinstance(compare, Compare)

    def written(node: TextMatch | Compare | InList | RegexMatch) -> list[str]:
        return [text[s.column - 1 : s.end_column - 1] for s in node.value_spans]

    assert written(text_match) == ['"ab"', "'c'"]
    assert written(compare) == ["simple"] and compare.value == 2
    assert written(in_list) == ["1", '"x"']
    assert written(regex) == ["/a+/i"]


def test_literal_spans_are_provenance_not_meaning() -> None:
    def shifted(start: int, end: int) -> Span:
        return Span(file="t", line=1, column=start + 1, end_line=1, end_column=end + 1)

    near = parse('title contains "a"')
    far, _ = parse_condition('title contains   "a"', shifted)
    assert isinstance(near, TextMatch) and isinstance(far, TextMatch)
    moved = far.model_copy(update={"span": near.span})
    assert moved.value_spans != near.value_spans
    assert moved == near and hash(moved) == hash(near)
    assert moved.model_dump() == near.model_dump() and "value_spans" not in near.model_dump()
    with pytest.raises(ValueError, match="2 spans for 1 literal values"):
        with_value_spans(near, [S, S])


def test_literal_spans_change_no_mode_hash_and_no_artifact_byte() -> None:
    head = "task_orchestrator:\n  role_definition: x\ntask_routing_rules:\n  t:\n"
    near = compile_text(head + "    when: 'title contains \"a\"'\n", "m.yaml")
    far = compile_text(head + "    when:   'title   contains     \"a\"'\n", "m.yaml")
    assert near.mode is not None and far.mode is not None and near.table is not None
    assert near.artifact is not None and far.artifact is not None
    assert near.artifact.mode_hash == far.artifact.mode_hash
    near_rule, far_rule = (next(r for r in m.rules if r.name == "t") for m in (near.mode, far.mode))
    assert isinstance(near_rule.condition, TextMatch) and isinstance(far_rule.condition, TextMatch)
    spans = [near_rule.condition.value_spans[0], far_rule.condition.value_spans[0]]
    assert [s.column for s in spans] == [27, 35]
    before = near.artifact.to_bytes()
    assert b"value_spans" not in before
    with_value_spans(near_rule.condition, [spans[1]])  # re-record: only the literal span moves
    assert build_artifact(near.mode, near.table).to_bytes() == before
    assert mode_hash(near.mode) == near.artifact.mode_hash


# --------------------------------------------------------------------------- escapes


@pytest.mark.parametrize(
    ("source", "decoded"),
    [
        (r'"a\\b"', "a\\b"),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'it\'s'", "it's"),
        (r'"it\'s"', "it's"),
        (r"'say \"hi\"'", 'say "hi"'),
        (r'"a\nb\tc"', "a\nb\tc"),
        (r'"caf\u00e9"', "café"),
        (r'"\ud83d\ude00"', "😀"),
        ('"raw ☃ and \x00 kept"', "raw ☃ and \x00 kept"),
    ],
)
def test_string_escapes(source: str, decoded: str) -> None:
    expr = parse(f"title contains {source}")
    assert isinstance(expr, TextMatch) and expr.values == (decoded,)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r'title contains "bug\q"', [("MC406", 19, 21)]),
        (r'title contains "\x41"', [("MC406", 16, 18)]),
        (r'title contains "\u12"', [("MC406", 16, 20)]),
        (r'title contains "\u12g4"', [("MC406", 16, 20)]),
        (r'title contains "\ud800"', [("MC406", 16, 22)]),
        (r'title contains "\ude00\ud83d"', [("MC406", 16, 22), ("MC406", 22, 28)]),
        (r'title contains any("ok", "\0", "\/")', [("MC406", 26, 28), ("MC406", 32, 34)]),
        (r'metadata.x == "\a"', [("MC406", 15, 17)]),
    ],
)
def test_invalid_escapes_point_at_the_escape(
    text: str, expected: list[tuple[str, int, int]]
) -> None:
    assert problems(text) == expected


# --------------------------------------------------------------------------- MC401


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ('title contains "bug" and and tags contains "x"', (25, 28)),
        ('title contains "a" "b"', (19, 22)),
        ('title contains "a")', (18, 19)),
        ("title contains 5", (15, 16)),
        ("title = 3", (6, 7)),
        ("title == 3 && true", (11, 12)),
        ('title contains "a" or', (21, 21)),  # unexpected end: at the end
        ("title contains", (14, 14)),
        ('(title contains "a"', (19, 19)),
        ("title contains any(", (19, 19)),
        ('title contains "abc', (15, 16)),  # unterminated string: at the quote
        ('title contains "a\nb"', (15, 16)),
        ("title matches /abc", (14, 15)),  # unterminated regex: at the slash
        ("title == /x/", (9, 12)),
        ("x\x00", (1, 2)),
        ("title\u00a0contains 'a'", (5, 6)),
        ('title contains "a",', (18, 19)),
    ],
)
def test_syntax_errors_point_at_the_offending_text(text: str, span: tuple[int, int]) -> None:
    d = only(text)
    assert d.code == "MC401" and d.severity is Severity.ERROR
    assert d.span is not None and offsets(d.span) == span


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("title contains", ["a string", "`any(`", "`all(`"]),
        ("title", ["an operator", "`contains`", "`>=`", "`in`"]),
        ("", []),
        ("title contains any(", ["a string", "`)`"]),
        ("complexity ==", ["a value"]),
        ('title contains "a" "b"', ["`and`", "`or`", "the end of the condition"]),
        ("not", ["a field name", "`not`", "`(`", "`true`"]),
    ],
)
def test_syntax_errors_say_what_was_expected(text: str, words: list[str]) -> None:
    message = only(text).message
    for word in words:
        assert word in message
    assert "$END" not in message and "_" not in message.replace("very_complex", "")


def test_syntax_error_hints() -> None:
    assert only("title = 3").hint == "compare with `==`"
    assert only("title contain 'x'").hint == "did you mean `contains`?"
    assert only('title contains "a" AND text contains "b"').hint == (
        "keywords are lowercase: `and`"
    )


def test_every_terminal_has_words() -> None:
    names = {t.name for t in _lark().terminals} - {"WS"}
    assert names <= set(TERMINAL_WORDS)


def test_empty_and_blank_conditions() -> None:
    assert problems("") == [("MC401", 0, 0)]
    assert problems("  \n ") == [("MC401", 0, 4)]


# --------------------------------------------------------------------------- MC402, MC403


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('tags mentions "bug"', [("MC402", 5, 13)]),
        ('tags startswith "b"', [("MC402", 5, 15)]),
        ('tags == "bug"', [("MC402", 5, 7)]),
        ('tags in ["a"]', [("MC402", 5, 7)]),
        ("tags matches /x/", [("MC402", 5, 12)]),
        ('complexity contains "3"', [("MC402", 11, 19)]),
        ("complexity matches /3/", [("MC402", 11, 18)]),
        ("complexity > 7", [("MC402", 13, 14)]),
        ("complexity == 0", [("MC402", 14, 15)]),
        ("complexity == 2.0", [("MC402", 14, 17)]),
        ("complexity == true", [("MC402", 14, 18)]),
        ('complexity == "complex"', [("MC402", 14, 23)]),
        ("complexity == hard", [("MC402", 14, 18)]),
        ("complexity in [1, 9, huge]", [("MC402", 18, 19), ("MC402", 21, 25)]),
        ("title == 3", [("MC402", 9, 10)]),
        ("title in ['a', false]", [("MC402", 15, 20)]),
        ("title == simple", [("MC402", 9, 15)]),
        ("metadata.level == complex", [("MC402", 18, 25)]),
        ('title startswith any("a", "b")', [("MC402", 17, 30)]),
        ("title contains any()", [("MC402", 15, 20)]),
        ("tags contains all()", [("MC402", 14, 19)]),
        ("title in []", [("MC402", 9, 11)]),
        ('title contains ""', [("MC402", 15, 17)]),
        ('text mentions any("a", "")', [("MC402", 23, 25)]),
        ("metadata.x == 99999999999999999999", [("MC402", 14, 34)]),
        ("metadata.x == 1e999", [("MC402", 14, 19)]),
        ("metadata.x == 9223372036854775808", [("MC402", 14, 33)]),
        ("metadata.x == " + "1" * 5000, [("MC402", 14, 5014)]),
    ],
)
def test_type_errors(text: str, expected: list[tuple[str, int, int]]) -> None:
    assert problems(text) == expected


def test_type_error_hints() -> None:
    assert only('tags mentions "bug"').hint == 'use `tags contains "bug"`'
    assert only('tags in ["a", "b"]').hint == 'use `tags contains any("a", "b")`'
    assert only('complexity == "complex"').hint == "write the level without quotes: `complex`"
    assert only("complexity == compex").hint == "did you mean `complex`?"


def test_tags_contains_empty_string_is_an_element_test() -> None:
    parse('tags contains ""')


@pytest.mark.parametrize(
    ("text", "span", "hint"),
    [
        ('titel contains "bug"', (0, 5), "did you mean `title`?"),
        ('Title contains "bug"', (0, 5), "did you mean `title`?"),
        ('tag contains "bug"', (0, 3), "did you mean `tags`?"),
        ("metadata == 1", (0, 8), "name a metadata key: `metadata.KEY`, e.g. `metadata.team`"),
        ("meta.team == 1", (0, 9), "metadata fields are written `metadata.team`"),
        ("metadata.a.b == 1", (0, 12), None),
        ("owner == 1", (0, 5), None),
    ],
)
def test_unknown_fields(text: str, span: tuple[int, int], hint: str | None) -> None:
    d = only(text)
    assert d.code == "MC403"
    assert d.span is not None and offsets(d.span) == span
    if hint is not None:
        assert d.hint == hint


def test_every_error_in_a_condition_is_reported() -> None:
    text = r'titel contains "a" or complexity > 9 or tags == "x" or text contains "\q"'
    assert problems(text) == [
        ("MC403", 0, 5),
        ("MC402", 35, 36),
        ("MC402", 45, 47),
        ("MC406", 70, 72),
    ]


# --------------------------------------------------------------------------- MC404, MC405


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title matches /fix(/", [("MC404", 14, 20)]),
        ("title matches /a{2000}/", [("MC404", 14, 23)]),
        (r"title matches /a\Z/", [("MC404", 14, 19)]),
        ("title matches //", [("MC404", 14, 16)]),
        ("title matches /a/x", [("MC404", 17, 18)]),
        ("title matches /a/imz", [("MC404", 19, 20)]),
        (r"title matches /(a+)\1/", [("MC405", 14, 22)]),
        ("description matches /^(?=.*bug).*crash/i", [("MC405", 20, 40)]),
        ("title matches /(?<!x)y/", [("MC405", 14, 23)]),
        ("title matches /(?P<a>x)(?P=a)/", [("MC405", 14, 30)]),
        ("title matches /a++/", [("MC405", 14, 19)]),
        ("title matches /(?>a)/", [("MC405", 14, 21)]),
    ],
)
def test_regex_errors(text: str, expected: list[tuple[str, int, int]]) -> None:
    assert problems(text) == expected


def regex_code(pattern: str, flags: str = "") -> str | None:
    problem = regex_problem(pattern, flags)
    return None if problem is None else problem.code


def test_regex_problem_tells_invalid_from_non_linear() -> None:
    assert regex_code("a+b") is None
    assert regex_code("(a)\\1") == "MC405"
    assert regex_code("(?=a)") == "MC405"
    assert regex_code("[(?=]\\Z") == "MC404"  # inside a class, `(?=` is three characters
    assert regex_code("[\\1]x)") == "MC404"
    assert regex_code("(") == "MC404"
    assert regex_code("a", "q") == "MC404"
    assert regex_code("\ud800") == "MC404"
    assert check_regex("a+b", "ims") is None
    assert check_regex("(?<=a)b", "") is not None


def test_compile_regex_applies_flags_and_caches() -> None:
    assert compile_regex("^fix", "i").search("FIX: it") is not None
    assert compile_regex("^fix", "").search("FIX: it") is None
    assert compile_regex("^b", "m").search("a\nb") is not None
    assert compile_regex("a.b", "s").search("a\nb") is not None
    assert compile_regex("a.b", "").search("a\nb") is None
    assert compile_regex("^fix", "i") is compile_regex("^fix", "i")
    with pytest.raises(ValueError, match="MC405"):
        compile_regex("(a)\\1", "")


def test_pathological_regexes_run_on_the_linear_engine() -> None:
    # Catastrophic backtracking cannot happen: the patterns are compiled by RE2 (automata, linear
    # in the text), never by Python's backtracking `re`; speed itself is `make bench`'s job.
    for pattern in ["(a*)*b", "(a|a)*b" * 50, "(x+x+)+y", "[a-z]{1000}" * 10 + "!"]:
        assert regex_problem(pattern) is None
        compiled = compile_regex(pattern, "")
        assert type(compiled).__module__ == "re2"
        assert compiled.search("a" * 10_000) is None


# --------------------------------------------------------------------------- folding, MC407


@pytest.mark.parametrize(
    ("text", "folded", "warnings"),
    [
        ("true", "true", []),
        ("not false", "true", []),
        ("true and false or true", "true", []),
        ('title contains "a" or true', "true", [("MC407", 0, 26)]),
        ('false and title contains "a"', "false", [("MC407", 0, 28)]),
        ('title contains "a" and true', 'title contains "a"', []),
        ('title contains "a" or false', 'title contains "a"', []),
        ('not not title contains "a"', 'title contains "a"', []),
        ('not (title contains "a" or true)', "false", [("MC407", 0, 32)]),
        (
            '(title contains "a" or true) and text contains "b"',
            'text contains "b"',
            [("MC407", 1, 27)],
        ),
        (
            'text contains "b" or (tags contains "x" and not true)',
            'text contains "b"',
            [("MC407", 22, 52)],
        ),
        (
            '(title contains "a" and (text contains "b" and tags contains "c")) and true',
            'title contains "a" and text contains "b" and tags contains "c"',
            [],
        ),
        (
            'title contains "a" or (text contains "b" or (tags contains "c"))',
            'title contains "a" or text contains "b" or tags contains "c"',
            [],
        ),
    ],
)
def test_constant_folding(text: str, folded: str, warnings: list[tuple[str, int, int]]) -> None:
    expr, diagnostics = parse_condition(text, locate)
    assert expr is not None
    assert format_expr(expr) == folded
    assert [(d.code, *offsets(d.span)) for d in diagnostics if d.span] == warnings
    assert all(d.severity is Severity.WARNING for d in diagnostics)


def test_flattening_keeps_the_outer_span() -> None:
    text = 'title contains "a" and (text contains "b" and tags contains "c")'
    expr = parse(text)
    assert isinstance(expr, And) and len(expr.operands) == 3
    assert offsets(expr.span) == (0, len(text))


# --------------------------------------------------------------------------- printer


def test_printer_parenthesizes_only_where_needed() -> None:
    a = TextMatch(span=S, field="title", op="contains", quantifier="one", values=("a",))
    b = Compare(span=S, field="complexity", op=">", value=2)
    c = InList(span=S, field="metadata.k", values=("x", 1, 1.5, False))
    assert format_expr(Or(span=S, operands=(a, And(span=S, operands=(b, c))))) == (
        'title contains "a" or complexity > 2 and metadata.k in ["x", 1, 1.5, false]'
    )
    assert format_expr(And(span=S, operands=(a, Or(span=S, operands=(b, c))))) == (
        'title contains "a" and (complexity > 2 or metadata.k in ["x", 1, 1.5, false])'
    )
    assert format_expr(Not(span=S, operand=And(span=S, operands=(a, b)))) == (
        'not (title contains "a" and complexity > 2)'
    )
    assert format_expr(Not(span=S, operand=Not(span=S, operand=a))) == 'not not title contains "a"'


def test_printer_literals() -> None:
    assert format_string('a"b\\c\nd\te') == r'"a\"b\\c\nd\te"'
    assert format_string("\x00\r\u2028\u00a0é😀") == r'"\u0000\u000d\u2028\u00a0é😀"'
    assert format_string("\U000e0001") == r'"\udb40\udc01"'
    assert format_regex("a/b\\/c\\\\", "im") == r"/a\/b\/c\\/im"
    assert [format_value(v) for v in (True, 3, 3.0, 1e16, -0.5)] == [
        "true",
        "3",
        "3.0",
        "1e+16",
        "-0.5",
    ]
    with pytest.raises(ValueError):
        format_value(float("inf"))


@pytest.mark.parametrize(
    "text",
    [
        'tags contains "hotfix" or title matches /^fix(\\(.+\\))?:/ and complexity <= 2',
        'not (description mentions all("a", "b") or text startswith "x")',
        'metadata.team in ["core", 1, 2.5, true] and title endswith "\\u0000"',
        "title matches /a\\/b/ims",
        'text contains any("\\"", "\\\\", "\\n")',
    ],
)
def test_canonical_text_is_a_fixpoint(text: str) -> None:
    assert format_expr(parse(text)) == text


def test_printing_normalizes_spelling() -> None:
    assert format_expr(parse("complexity>=complex and title=='it\\'s'")) == (
        'complexity >= 4 and title == "it\'s"'
    )


# --------------------------------------------------------------------------- hostile inputs


def test_length_is_capped_with_one_diagnostic() -> None:
    text = 'title contains "' + "a" * MAX_CONDITION_LENGTH + '"'
    assert problems(text) == [("MC401", 0, len(text))]
    fits = 'title contains "' + "a" * (MAX_CONDITION_LENGTH - 17) + '"'
    assert len(fits) == MAX_CONDITION_LENGTH
    parse(fits)


def test_hundred_thousand_parentheses_are_refused_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parses = count_parses(monkeypatch)
    text = "(" * 100_000 + 'title contains "a"' + ")" * 100_000
    assert [c for c, _, _ in problems(text)] == ["MC401"]
    assert parses() == 0  # the length guard answers; lark never sees the text


def test_deep_parentheses_within_the_length_limit_parse() -> None:
    depth = (MAX_CONDITION_LENGTH - 20) // 2
    text = "(" * depth + 'title contains "a"' + ")" * depth
    assert isinstance(parse(text), TextMatch)
    assert [c for c, _, _ in problems("(" * depth + 'title contains "a"')] == ["MC401"]


def count_parses(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Counts the texts handed to lark's parser from now on."""
    parser = _lark()
    calls = 0

    class Counting:
        def parse(self, text: str) -> object:
            nonlocal calls
            calls += 1
            return parser.parse(text)

    monkeypatch.setattr(grammar_parser, "_lark", Counting)
    return lambda: calls


def count_transforms() -> Callable[[], int]:
    """Counts the parse trees handed to the transformer (restored by the caller's teardown)."""
    calls = 0
    original = ToIR.transform

    def transform(self: ToIR, tree: object) -> object:
        nonlocal calls
        calls += 1
        return original(self, tree)  # type: ignore[arg-type]

    ToIR.transform = transform  # type: ignore[method-assign,assignment]
    return lambda: calls


def test_nesting_is_bounded_before_transforming(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ToIR, "transform", ToIR.transform)  # restored after the test
    ok = "not " * MAX_NESTING + 'title contains "a"'
    assert isinstance(parse(ok), TextMatch | Not)
    too_deep = "not " * (MAX_NESTING + 1) + 'title contains "a"'
    assert problems(too_deep) == [("MC401", 4 * MAX_NESTING, len(too_deep))]
    transforms = count_transforms()
    assert [c for c, _, _ in problems("not " * 4000 + "true")] == ["MC401"]
    junctions = "(".join(['t contains "a" and '] * 700) + "true" + ")" * 699
    assert [c for c, _, _ in problems(junctions)] == ["MC401"]
    assert transforms() == 0  # refused by the depth guard: the recursive transformer never ran


def test_nesting_guard_counts_operators_not_parentheses() -> None:
    text = 'title contains "a"'
    for _ in range(MAX_NESTING):
        text = f'(({text}) or text contains "b")'
    assert isinstance(parse(text), Or)


def test_nul_bytes_and_lone_surrogates_are_diagnostics() -> None:
    assert problems("title contains 'a'\x00") == [("MC401", 18, 19)]
    assert problems("\x00") == [("MC401", 0, 1)]
    assert problems('title contains "\ud800"') == [("MC401", 16, 17)]
    assert problems("\udfff") == [("MC401", 0, 1)]


def test_many_errors_cost_work_linear_in_their_number() -> None:
    calls = 0

    def counting(start: int, end: int) -> Span:
        nonlocal calls
        calls += 1
        return locate(start, end)

    _, diagnostics = parse_condition(" or ".join(["x == 1"] * 1500), counting)
    assert len(diagnostics) == 1500
    assert calls <= 4 * 1500 + 10  # a few spans per comparison, none re-derived per error
    calls = 0
    _, diagnostics = parse_condition('title contains "' + "\\q" * 5000 + '"', counting)
    assert {d.code for d in diagnostics} == {"MC406"} and len(diagnostics) == 5000
    assert calls <= 5000 + 10


# --------------------------------------------------------------------------- packaging


def test_parser_is_built_once_from_the_packaged_grammar() -> None:
    assert _lark() is _lark()
    grammar = importlib.resources.files("modec.grammar").joinpath("condition.lark")
    assert grammar.is_file()


def test_only_the_grammar_package_imports_lark() -> None:
    root = Path(__file__).resolve().parents[2] / "modec"
    importing = re.compile(r"^\s*(?:import lark|from lark[\s.])", re.MULTILINE)
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "grammar" not in path.relative_to(root).parts
        and importing.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
