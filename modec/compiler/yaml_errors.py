"""YAML syntax errors in the words a person uses (MC004), at the place of the real cause.

PyYAML and libyaml describe where their scanner gave up ("mapping values are not allowed
here", "found character that cannot start any token"), which is often a line after the
mistake. Each rule below recognises one common mistake from the error and the text around it
and says it plainly, with a hint: a tab used for indentation, a line indented to no level, an
unclosed quote or bracket, a missing colon after a key, a second ``: `` in a plain value. Both
parsers' wordings are recognised, so the diagnostic is the same whichever one ran. Anything
else keeps the parser's own description.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import yaml

from modec.compiler.positions import LineIndex, split_lines
from modec.diagnostics import Diagnostic

__all__ = ["describe_syntax_error"]

_Rule = Callable[[yaml.MarkedYAMLError, LineIndex], Diagnostic | None]
_CLOSERS: Final = {"[": "]", "{": "}"}


def describe_syntax_error(error: yaml.MarkedYAMLError, lines: LineIndex) -> Diagnostic:
    """The MC004 diagnostic for a parser error: a plain description when a rule knows the
    mistake, else the parser's own words, located at the problem (or its context)."""
    for rule in _RULES:
        found = rule(error, lines)
        if found is not None:
            return found
    return _parser_words(error, lines)


def _mc004(lines: LineIndex, index: int, message: str, hint: str) -> Diagnostic:
    return Diagnostic.make("MC004", lines.point(index), message, hint)


def _problem(error: yaml.MarkedYAMLError) -> str:
    return (error.problem or "").lower()


def _context(error: yaml.MarkedYAMLError) -> str:
    return (error.context or "").lower()


def _line_of(lines: LineIndex, index: int) -> tuple[int, str]:
    """The 1-based line number of ``index`` and that line's text."""
    line, _ = lines.position(index)
    return line, split_lines(lines.text)[line - 1]


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _previous_content_line(lines: LineIndex, line: int) -> tuple[int, str] | None:
    """The nearest line above ``line`` holding something other than blanks or a comment."""
    all_lines = split_lines(lines.text)
    for number in range(line - 1, 0, -1):
        text = all_lines[number - 1]
        if text.strip() and not text.lstrip().startswith("#"):
            return number, text
    return None


def _spaces(n: int) -> str:
    return f"{n} space" + ("" if n == 1 else "s")


# --------------------------------------------------------------------------- the rules


def _tab(error: yaml.MarkedYAMLError, lines: LineIndex) -> Diagnostic | None:
    if "tab" not in _problem(error) and _char_at(error, lines) != "\t":
        return None
    for number, text in enumerate(split_lines(lines.text), start=1):
        stripped = text.lstrip(" ")
        if stripped.startswith("\t"):
            index = lines.starts[number - 1] + len(text) - len(stripped)
            return _mc004(
                lines,
                index,
                "a tab indents this line; YAML indents with spaces only",
                "replace the tab with spaces (the same number as the lines at this level)",
            )
    mark = error.problem_mark
    index = mark.index if mark is not None else 0
    return _mc004(
        lines,
        index,
        "a tab here cannot separate a key from its value or start a value",
        "use a space instead of the tab",
    )


def _char_at(error: yaml.MarkedYAMLError, lines: LineIndex) -> str:
    mark = error.problem_mark
    if mark is None or mark.index >= len(lines.text):
        return ""
    return lines.text[mark.index]


def _unclosed_quote(error: yaml.MarkedYAMLError, lines: LineIndex) -> Diagnostic | None:
    mark = error.context_mark
    if "quoted scalar" not in _context(error) or "end of stream" not in _problem(error):
        return None
    if mark is None:
        return None
    quote = lines.text[mark.index] if mark.index < len(lines.text) else '"'
    inner = '\\"' if quote == '"' else "''"
    return _mc004(
        lines,
        mark.index,
        f"this {quote}quoted{quote} string is never closed: the file ends inside it",
        f"add the closing {quote} where the value ends; a {quote} inside it is written {inner}",
    )


def _unclosed_bracket(error: yaml.MarkedYAMLError, lines: LineIndex) -> Diagnostic | None:
    mark = error.context_mark
    context = _context(error)
    if mark is None or "flow" not in context or mark.index >= len(lines.text):
        return None
    opener = lines.text[mark.index]
    closer = _CLOSERS.get(opener)
    if closer is None:
        return None
    what = "list" if opener == "[" else "mapping"
    return _mc004(
        lines,
        mark.index,
        f"this `{opener}` is never closed: the {what} needs a `{closer}`",
        f"close the {what} with `{closer}`, and separate its entries with `,`",
    )


def _missing_colon(error: yaml.MarkedYAMLError, lines: LineIndex) -> Diagnostic | None:
    if "expected ':'" not in _problem(error) or error.context_mark is None:
        return None
    return _no_colon_at(lines, error.context_mark.index)


def _no_colon_at(lines: LineIndex, index: int) -> Diagnostic:
    _, text = _line_of(lines, index)
    shown = text.strip()
    shown = shown if len(shown) <= 40 else shown[:39] + "…"
    return _mc004(
        lines,
        index,
        f"`{shown}` has no `:` after its key",
        "write the key, a colon and a space, then the value: `key: value`",
    )


def _mapping_value_here(error: yaml.MarkedYAMLError, lines: LineIndex) -> Diagnostic | None:
    mark = error.problem_mark
    if mark is None or "mapping values are not allowed" not in _problem(error):
        return None
    line, text = _line_of(lines, mark.index)
    column = mark.index - lines.starts[line - 1]
    before = text[:column]
    if ": " in before.lstrip(" -"):
        return _mc004(
            lines,
            mark.index,
            "a second `: ` on one line: a plain value cannot contain `: `",
            'quote the value (`key: "a: b"`), or put the nested key on a line of its own',
        )
    previous = _previous_content_line(lines, line)
    if previous is None:
        return None
    number, above = previous
    content = above.split(" #", 1)[0].rstrip()
    if ":" not in content and not content.lstrip().startswith("-"):
        return _no_colon_at(lines, lines.starts[number - 1] + _indent(above))
    start = lines.starts[line - 1] + _indent(text)
    return _mc004(
        lines,
        start,
        f"this line is indented deeper ({_spaces(_indent(text))}) than the key on line "
        f"{number}, which already has a value",
        f"indent it {_spaces(_indent(above))} like its sibling on line {number}, or remove "
        f"the value on line {number} to nest it there",
    )


def _bad_indent(error: yaml.MarkedYAMLError, lines: LineIndex) -> Diagnostic | None:
    mark = error.problem_mark
    problem, context = _problem(error), _context(error)
    block_end = "expected <block end>" in problem or "did not find expected key" in problem
    if mark is None or not block_end or "block" not in context:
        return None
    line, text = _line_of(lines, mark.index)
    previous = _previous_content_line(lines, line)
    levels = sorted(
        {_indent(t) for t in split_lines(lines.text)[: line - 1] if t.strip()} - {_indent(text)}
    )
    hint = "indent it like the other keys of the mapping it belongs to"
    if previous is not None:
        number, above = previous
        shown = ", ".join(str(n) for n in levels if n <= _indent(above))
        hint += f" ({shown} spaces are in use above; line {number} has {_indent(above)})"
    return _mc004(
        lines,
        lines.starts[line - 1] + _indent(text),
        f"bad indentation: this line is indented {_spaces(_indent(text))}, which lines up "
        "with no key above it",
        hint,
    )


def _reserved_start(error: yaml.MarkedYAMLError, lines: LineIndex) -> Diagnostic | None:
    char = _char_at(error, lines)
    if "cannot start any token" not in _problem(error) or not char or char.isspace():
        return None
    assert error.problem_mark is not None
    return _mc004(
        lines,
        error.problem_mark.index,
        f"`{char}` cannot start a plain value (YAML reserves it)",
        f'quote the value: "{char}…"',
    )


def _parser_words(error: yaml.MarkedYAMLError, lines: LineIndex) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    index = mark.index if mark is not None else 0
    message = error.problem or error.context or "invalid YAML"
    hint = None
    if error.context and error.problem:
        hint = error.context
        if error.context_mark is not None:
            line, column = lines.position(error.context_mark.index)
            hint += f" (at {line}:{column})"
    return Diagnostic.make("MC004", lines.point(index), f"YAML syntax error: {message}", hint)


_RULES: Final[tuple[_Rule, ...]] = (
    _tab,
    _unclosed_quote,
    _unclosed_bracket,
    _missing_colon,
    _mapping_value_here,
    _bad_indent,
    _reserved_start,
)
