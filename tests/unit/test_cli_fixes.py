"""`modec.compiler.fixes.apply_fixes`: the edits of one file's fixes, ruff's way, on hand-built
diagnostics (every span 1-based, end exclusive; an empty span inserts)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from modec.compiler.fixes import apply_fixes
from modec.diagnostics import Diagnostic, Edit, Fix, Span


def span(
    line: int, column: int, end_line: int | None = None, end_column: int | None = None
) -> Span:
    return Span(
        file="m.yaml",
        line=line,
        column=column,
        end_line=end_line or line,
        end_column=end_column or column,
    )


def fixed(*edits: tuple[Span, str], code: str = "MC103", description: str = "fix") -> Diagnostic:
    return Diagnostic.make(
        code,
        edits[0][0],
        "problem",
        fix=Fix(description=description, edits=tuple(Edit(span=s, new_text=t) for s, t in edits)),
    )


def test_replace_insert_and_delete_in_one_pass() -> None:
    text = "rule:\n  priorty: 3\n  keywords: a\n"
    diags = [
        fixed((span(2, 3, 2, 10), "priority")),
        fixed((span(3, 13), "[")),
        fixed((span(3, 14), "]")),  # two insertions
        fixed((span(1, 1, 1, 1), "")),  # an empty edit at the start: harmless
    ]
    result = apply_fixes(text, diags)
    assert result.text == "rule:\n  priority: 3\n  keywords: [a]\n"
    assert len(result.applied) == 4


def test_edits_apply_right_to_left_on_one_line() -> None:
    text = "keywords: bug, fixx, crashh\n"
    diags = [fixed((span(1, 16, 1, 20), "fix")), fixed((span(1, 22, 1, 28), "crash"))]
    assert apply_fixes(text, diags).text == "keywords: bug, fix, crash\n"


def test_an_overlapping_fix_is_skipped_and_not_listed() -> None:
    text = "a: priorty\n"
    first = fixed((span(1, 4, 1, 11), "priority"), description="first")
    overlapping = fixed((span(1, 8, 1, 11), "XX"), description="second")
    result = apply_fixes(text, [overlapping, first])  # source order decides, not list order
    assert result.text == "a: priority\n"
    assert [d.fix.description for d in result.applied if d.fix] == ["first"]


def test_two_edits_at_one_point_are_ambiguous_the_second_waits() -> None:
    text = "a: b\n"
    insert = fixed((span(1, 4), "["), description="insert")
    replace = fixed((span(1, 4, 1, 5), "c"), description="replace")
    result = apply_fixes(text, [replace, insert])
    assert result.text == "a: [b\n"  # the empty span sorts first; the replacement waits
    assert [d.fix.description for d in result.applied if d.fix] == ["insert"]


def test_adjacent_edits_do_not_overlap() -> None:
    text = "abcdef\n"
    diags = [fixed((span(1, 1, 1, 4), "X")), fixed((span(1, 4, 1, 7), "Y"))]
    assert apply_fixes(text, diags).text == "XY\n"


def test_a_fix_whose_edits_contradict_each_other_is_skipped() -> None:
    text = "abc\n"
    bad = fixed((span(1, 1, 1, 3), "X"), (span(1, 2, 1, 4), "Y"))
    result = apply_fixes(text, [bad])
    assert result.text == text and result.applied == []


def test_multi_edit_fix_is_all_or_nothing() -> None:
    text = "a: 1\nb: 2\n"
    wins = fixed((span(1, 1, 1, 2), "A"), (span(2, 1, 2, 2), "B"), description="both")
    loses = fixed((span(2, 1, 2, 5), "c: 3"), description="later")
    result = apply_fixes(text, [loses, wins])
    assert result.text == "A: 1\nB: 2\n"
    assert [d.fix.description for d in result.applied if d.fix] == ["both"]


def test_yaml_line_breaks_only() -> None:
    # CRLF and CR end lines; a form feed and a vertical tab do not.
    text = "a: 1\r\nb: \x0c2\rc: \x0b3\n"
    diags = [fixed((span(2, 5, 2, 6), "9")), fixed((span(3, 5, 3, 6), "8"))]
    assert apply_fixes(text, diags).text == "a: 1\r\nb: \x0c9\rc: \x0b8\n"


def test_a_span_across_lines_and_columns_in_code_points() -> None:
    text = "déjà: vu\nnext: x\n"
    diags = [fixed((span(1, 7, 2, 5), "ok\nlast"))]
    assert apply_fixes(text, diags).text == "déjà: ok\nlast: x\n"


def test_spans_outside_the_text_are_skipped() -> None:
    text = "a: 1\n"
    diags = [
        fixed((span(5, 1, 5, 2), "x")),
        fixed((span(1, 9, 1, 10), "x")),
        fixed((span(1, 3, 1, 1), "x")),
    ]  # past the end, past the line, backwards
    result = apply_fixes(text, diags)
    assert result.text == text and result.applied == []


def test_diagnostics_without_fixes_change_nothing() -> None:
    plain = Diagnostic.make("MC206", span(1, 1, 1, 2), "unknown")
    result = apply_fixes("a: 1\n", [plain])
    assert result.text == "a: 1\n" and not result.changed


@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 4), st.text("xyz", max_size=3)), max_size=8
    )
)
def test_non_overlapping_edits_equal_splicing_left_to_right(
    raw: list[tuple[int, int, str]],
) -> None:
    text = "0123456789abcdefghijklmnopqrstuvwxyz"
    chosen: list[tuple[int, int, str]] = []
    for start, width, new in sorted(raw):
        end = min(start + width, len(text))
        if all(start != s and not (start < e and s < end) for s, e, _ in chosen):
            chosen.append((start, end, new))
    diags = [fixed((span(1, s + 1, 1, e + 1), new)) for s, e, new in chosen]
    expected, last = [], 0
    for s, e, new in sorted(chosen):
        expected.append(text[last:s] + new)
        last = e
    expected.append(text[last:])
    result = apply_fixes(text, diags)
    assert result.text == "".join(expected)
    assert len(result.applied) == len(chosen)
