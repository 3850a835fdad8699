"""Regular expressions of ``F matches /pattern/flags``: checked and compiled with RE2.

RE2 runs in time linear in the input, which is what lets the router match untrusted task text
without a timeout. Python's ``re`` accepts more (backreferences, lookaround, atomic groups,
possessive quantifiers) precisely because it backtracks; those patterns are rejected with
MC405 so the author knows a rewrite, not a typo fix, is needed. Everything else RE2 refuses is
MC404.

>>> regex_problem(r"^fix(\\(.+\\))?:", "i") is None
True
>>> regex_problem(r"(a)\\1", "").code
'MC405'
>>> compile_regex("^fix", "i").search("FIX: crash") is not None
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Final, Protocol

__all__ = [
    "REGEX_FLAGS",
    "CompiledRegex",
    "RegexProblem",
    "check_regex",
    "compile_regex",
    "regex_problem",
]

#: The flags a pattern may carry, in canonical order: ignore case, multi-line, dot matches newline.
REGEX_FLAGS: Final = "ims"


class CompiledRegex(Protocol):
    """The part of a compiled RE2 pattern the router uses (``re2._Regexp``)."""

    def search(self, text: str, pos: int = ..., endpos: int = ...) -> Any: ...

    def match(self, text: str, pos: int = ..., endpos: int = ...) -> Any: ...

    def fullmatch(self, text: str, pos: int = ..., endpos: int = ...) -> Any: ...


@dataclass(frozen=True)
class RegexProblem:
    """Why a pattern is refused: ``code`` is MC404 (invalid) or MC405 (not linear-time)."""

    code: str
    message: str
    hint: str | None = None


# Constructs only a backtracking engine can run, found by a light scan of the pattern (used
# only once RE2 has refused it, to decide between MC404 and MC405).
_GROUP_FEATURES: Final = (
    ("(?<=", "a lookbehind `(?<=...)`"),
    ("(?<!", "a negative lookbehind `(?<!...)`"),
    ("(?=", "a lookahead `(?=...)`"),
    ("(?!", "a negative lookahead `(?!...)`"),
    ("(?P=", "a named backreference `(?P=name)`"),
    ("(?>", "an atomic group `(?>...)`"),
    ("(?(", "a conditional group `(?(id)yes|no)`"),
)


def _backtracking_feature(pattern: str) -> str | None:
    """The first construct in ``pattern`` that needs backtracking, described, or None."""
    i, n, in_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            if not in_class and nxt and nxt in "123456789":
                return f"a backreference `\\{nxt}`"
            if not in_class and nxt == "k" and pattern[i + 2 : i + 3] in ("<", "{", "'"):
                return "a named backreference `\\k<name>`"
            i += 2
            continue
        if in_class:
            in_class = c != "]"
            i += 1
            continue
        if c == "[":
            i += 1
            if pattern[i : i + 1] == "^":
                i += 1
            if pattern[i : i + 1] == "]":  # a leading ']' is a literal
                i += 1
            in_class = True
            continue
        if c == "(":
            for prefix, description in _GROUP_FEATURES:
                if pattern.startswith(prefix, i):
                    return description
        if c in "*+?}" and pattern[i + 1 : i + 2] == "+":
            return f"a possessive quantifier `{c}+`"
        i += 1
    return None


def _re2_message(error: Exception) -> str:
    arg = error.args[0] if error.args else ""
    if isinstance(arg, bytes):
        return arg.decode("utf-8", errors="replace")
    return str(arg)


_RE2_HINTS: Final = (
    ("\\Z", "RE2 writes end-of-text as `\\z`, not `\\Z`"),
    ("(?u", "RE2 supports only the inline flags i, m, s and U; Unicode is always on"),
    ("(?a", "RE2 supports only the inline flags i, m, s and U"),
    ("(?x", "RE2 supports only the inline flags i, m, s and U; remove the verbose-mode spacing"),
    ("(?L", "RE2 supports only the inline flags i, m, s and U"),
)


def _options() -> Any:
    import re2  # imported on the first regex: most modes have none

    options = re2.Options()
    options.log_errors = False  # RE2 would otherwise print every refused pattern to stderr
    return options


def _with_flags(pattern: str, flags: str) -> str:
    return f"(?{flags}){pattern}" if flags else pattern


def regex_problem(pattern: str, flags: str = "") -> RegexProblem | None:
    """Check ``pattern`` with ``flags`` for RE2: None if it compiles, else the problem.

    MC405 when the pattern needs a backtracking engine (backreferences, lookaround, atomic
    groups, possessive quantifiers); MC404 for everything else RE2 refuses (syntax errors,
    unknown flags, repetition counts over 1000, patterns too large for RE2's memory budget).
    """
    bad_flags = sorted({f for f in flags if f not in REGEX_FLAGS})
    if bad_flags:
        shown = ", ".join(f"`{f}`" for f in bad_flags)
        return RegexProblem(
            "MC404", f"unknown regular expression flag {shown}", "the flags are i, m and s"
        )
    if not pattern:
        return RegexProblem(
            "MC404",
            "empty regular expression matches every task",
            "write a pattern between the slashes, or remove the condition",
        )
    import re2

    try:
        re2.compile(_with_flags(pattern, flags), _options())
    except UnicodeEncodeError:
        return RegexProblem(
            "MC404", "regular expression is not valid Unicode text (lone surrogate)"
        )
    except re2.error as error:
        reason = _re2_message(error)
        feature = _backtracking_feature(pattern)
        if feature is not None:
            return RegexProblem(
                "MC405",
                f"regular expression uses {feature}, which cannot run in linear time "
                f"(RE2: {reason})",
                "RE2 has no backreferences, lookaround, atomic groups or possessive "
                "quantifiers; split the test into several conditions joined with `and` / "
                "`and not`, or use a plain quantifier",
            )
        hint = next((h for marker, h in _RE2_HINTS if marker in pattern), None)
        if hint is None and "too large" in reason:
            hint = (
                "counted repetitions multiply (`\\pL{1000}` is a thousand copies of every "
                "letter); use `+`, `*` or smaller counts"
            )
        return RegexProblem("MC404", f"invalid regular expression: {reason}", hint)
    return None


def check_regex(pattern: str, flags: str = "") -> str | None:
    """None if RE2 accepts ``pattern`` with ``flags``, else why not.

    :func:`regex_problem` gives the same answer with its diagnostic code (MC404 or MC405).

    >>> check_regex("a+b", "") is None
    True
    >>> print(check_regex("(?=a)b", ""))  # doctest: +NORMALIZE_WHITESPACE
    regular expression uses a lookahead `(?=...)`, which cannot run in linear time
    (RE2: invalid perl operator: (?=)
    """
    problem = regex_problem(pattern, flags)
    return None if problem is None else problem.message


@functools.lru_cache(maxsize=1024)
def compile_regex(pattern: str, flags: str = "") -> CompiledRegex:
    """The RE2 object for ``pattern`` with ``flags`` (a subset of ``ims``), cached.

    The flags become an inline ``(?flags)`` prefix. Raises :class:`ValueError` carrying the
    code and message of :func:`regex_problem` for a pattern it refuses; patterns that came out
    of :func:`~modec.grammar.parse_condition` without errors always compile.
    """
    problem = regex_problem(pattern, flags)
    if problem is not None:
        raise ValueError(f"{problem.code}: {problem.message}")
    import re2

    compiled: CompiledRegex = re2.compile(_with_flags(pattern, flags), _options())
    return compiled
