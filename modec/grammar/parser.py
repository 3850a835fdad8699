"""Condition text → checked, folded IR expression, or diagnostics; never an exception.

The pipeline of :func:`parse_condition`:

1. **guard** the input: longer than :data:`MAX_CONDITION_LENGTH`, empty, or holding a lone
   surrogate → one MC401;
2. **parse** with the LALR parser of ``condition.lark``, made once (:mod:`.tables`); a
   syntax error → MC401 saying, in words, what was expected there;
3. **bound** the nesting depth (:data:`MAX_NESTING`) before anything recurses over the tree;
4. **transform** to IR, decoding literals and checking types (MC402–MC406);
5. **fold** constants (MC407 warnings).

Steps 1–5 depend on the text alone (spans aside), so their result is kept per text in a
bounded LRU (:class:`ConditionCache`), with the character offsets each of its spans was
located from. A later call re-locates every span through its own ``locate``: a condition
written twice, or at another place after an edit, is parsed once and still located exactly
where it is written.
"""

from __future__ import annotations

import difflib
import functools
import re
import threading
import unicodedata
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Final

from cachetools import LRUCache
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from modec.diagnostics import Diagnostic, Span, has_errors, sort_diagnostics
from modec.grammar.ast import And, Const, Expr, LiteralNode, Not, Or, with_value_spans
from modec.grammar.fold import fold
from modec.grammar.tables import condition_parser
from modec.grammar.transform import ToIR

__all__ = [
    "MAX_CONDITION_LENGTH",
    "MAX_NESTING",
    "TERMINAL_WORDS",
    "CacheInfo",
    "ConditionCache",
    "condition_cache",
    "parse_condition",
]

#: Longest condition accepted, in characters; longer ones are one MC401 without being parsed.
MAX_CONDITION_LENGTH: Final = 16_384
#: Deepest nesting of ``and``/``or``/``not`` accepted (parentheses alone do not nest).
MAX_NESTING: Final = 64

Locate = Callable[[int, int], Span]

_OPERATORS: Final = (
    "CONTAINS", "MENTIONS", "STARTSWITH", "ENDSWITH", "MATCHES", "IN",
    "EQ", "NE", "LT", "LE", "GT", "GE",
)  # fmt: skip
_VALUES: Final = ("STRING", "NUMBER", "TRUE", "FALSE", "NAME")

#: Every terminal of condition.lark in words, in the order expectations are listed.
TERMINAL_WORDS: Final[dict[str, str]] = {
    "NAME": "a field name",
    "_NOT": "`not`",
    "_LPAR": "`(`",
    "STRING": "a string",
    "_ANY": "`any(`",
    "_ALL": "`all(`",
    "NUMBER": "a number",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "REGEX": "a regular expression `/…/`",
    "CONTAINS": "`contains`",
    "MENTIONS": "`mentions`",
    "STARTSWITH": "`startswith`",
    "ENDSWITH": "`endswith`",
    "MATCHES": "`matches`",
    "IN": "`in`",
    "EQ": "`==`",
    "NE": "`!=`",
    "LT": "`<`",
    "LE": "`<=`",
    "GT": "`>`",
    "GE": "`>=`",
    "_LSQB": "`[`",
    "_COMMA": "`,`",
    "_RSQB": "`]`",
    "_RPAR": "`)`",
    "_AND": "`and`",
    "_OR": "`or`",
    "$END": "the end of the condition",
}
_KEYWORDS: Final = frozenset(
    {"and", "or", "not", "true", "false", "contains", "mentions", "startswith", "endswith",
     "matches", "in", "any", "all"}
)  # fmt: skip
_NESTING_RULES: Final = frozenset({"or_test", "and_test", "negation"})
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_MISTAKES: Final = {
    "=": "compare with `==`",
    "&": "write `and`",
    "|": "write `or`",
    "!": "write `not`, or `!=` to compare",
}


@functools.cache
def _lark() -> Lark:
    """The condition parser, made once per process (from the shipped tables when they are the
    packaged grammar's, else built from it: :mod:`modec.grammar.tables`)."""
    return condition_parser()


def _expected_words(names: Iterable[str]) -> str:
    wanted = set(names) & TERMINAL_WORDS.keys()
    words: list[str] = []
    if set(_OPERATORS) <= wanted:
        wanted -= set(_OPERATORS)
        words.append("an operator (" + ", ".join(TERMINAL_WORDS[t] for t in _OPERATORS) + ")")
    if {"STRING", "NUMBER", "NAME"} <= wanted:
        wanted -= set(_VALUES)
        words.append("a value (a string, a number, `true`, `false` or a complexity level)")
    words += [TERMINAL_WORDS[t] for t in TERMINAL_WORDS if t in wanted]
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _shown(text: str) -> str:
    if len(text) == 1 and not text.isprintable():
        name = unicodedata.name(text, "")
        return f"U+{ord(text):04X}" + (f" ({name.lower()})" if name else "")
    if len(text) > 30:
        text = text[:29] + "…"
    return "`" + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text) + "`"


def _token_hint(token: Token, expected: set[str]) -> str | None:
    """A likely fix for an unexpected token: a keyword's case, a misspelled operator, quotes."""
    text = str(token)
    if token.type == "NAME":
        if text.lower() in _KEYWORDS and text.lower() != text:
            return f"keywords are lowercase: `{text.lower()}`"
        words = [TERMINAL_WORDS[t].strip("`(") for t in expected if t in _OPERATORS[:6]]
        close = difflib.get_close_matches(text, words, n=1, cutoff=0.7)
        if close:
            return f"did you mean `{close[0]}`?"
    if token.type in ("NUMBER", "TRUE", "FALSE") and "STRING" in expected:
        return f'text is written in quotes: "{text}"'
    return None


def _accepts(error: UnexpectedInput, fallback: Iterable[str]) -> set[str]:
    interactive = getattr(error, "interactive_parser", None)
    if interactive is not None:
        accepted: set[str] = interactive.accepts()
        if accepted:
            return accepted
    return set(fallback)


def _syntax_error(text: str, error: UnexpectedInput, locate: Locate) -> Diagnostic:
    """MC401 for a lark error: what was found, where, and what was expected instead."""
    hint: str | None = None
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        token = error.token
        start = token.start_pos if token.start_pos is not None else 0
        end = token.end_pos if token.end_pos is not None else start + len(token)
        span = locate(start, max(end, start))
        found = _shown(str(token))
        if token.type == "STRING":
            found = f"string {found}"
        elif token.type == "REGEX":
            found = f"regular expression {found}"
        expected = _accepts(error, error.expected)
        hint = _token_hint(token, expected)
    elif isinstance(error, UnexpectedCharacters):
        start = min(error.pos_in_stream or 0, len(text))
        span = locate(start, min(start + 1, len(text)))
        char = text[start : start + 1]
        expected = _accepts(error, error.allowed or ())
        found = _shown(char)
        if char in "\"'" and "STRING" in expected:
            return Diagnostic.make(
                "MC401",
                span,
                "unterminated string",
                f"close it with {char} on the same line; write a newline as \\n and "
                f"the quote itself as \\{char}",
            )
        if char == "/" and "REGEX" in expected:
            return Diagnostic.make(
                "MC401",
                span,
                "unterminated regular expression",
                "end it with `/` on the same line; write a slash inside it as `\\/`",
            )
        hint = _MISTAKES.get(char)
    else:  # the end of the condition came too early (UnexpectedToken $END or UnexpectedEOF)
        span = locate(len(text), len(text))
        found = "end of the condition"
        names = error.expected if isinstance(error, UnexpectedToken | UnexpectedEOF) else ()
        expected = _accepts(error, names)
    words = _expected_words(expected)
    message = f"unexpected {found}" + (f"; expected {words}" if words else "")
    return Diagnostic.make("MC401", span, message, hint)


def _too_deep(tree: Tree[Token]) -> Tree[Token] | None:
    """The first node nested deeper than MAX_NESTING, found without recursion."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in _NESTING_RULES:
            depth += 1
            if depth > MAX_NESTING:
                return node
        stack.extend((c, depth) for c in reversed(node.children) if isinstance(c, Tree))
    return None


def _guard(text: str, locate: Locate) -> Diagnostic | None:
    if len(text) > MAX_CONDITION_LENGTH:
        return Diagnostic.make(
            "MC401",
            locate(0, len(text)),
            f"condition is {len(text)} characters long; the limit is {MAX_CONDITION_LENGTH}",
            "split it into several rules, or use `keywords:` for long word lists",
        )
    if not text.strip():
        return Diagnostic.make(
            "MC401",
            locate(0, len(text)),
            "empty condition",
            'write a condition such as `description contains "security"`, or `true`',
        )
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        at = surrogate.start()
        return Diagnostic.make(
            "MC401",
            locate(at, at + 1),
            f"lone surrogate U+{ord(text[at]):04X} is not a character",
            "the text is not valid Unicode; write the intended character itself",
        )
    return None


def parse_condition(
    text: str, locate: Locate, place: Hashable | None = None
) -> tuple[Expr | None, list[Diagnostic]]:
    """Parse, type-check and fold the condition ``text`` (a ``when:`` value).

    ``locate(start, end)`` maps a half-open range of character offsets in ``text`` to a file
    :class:`~modec.diagnostics.Span`; every node of the result and every diagnostic is located
    through it, with offsets inside ``[0, len(text)]``. Returns the folded expression and its
    warnings (MC407), or None and at least one error. Never raises on any ``text``.

    ``place``, when given, promises that every call with an equal ``place`` passes a
    ``locate`` that answers alike (:meth:`~modec.compiler.yamltree.YNode.locate_key` is such
    a key): the located result is then kept too, and a recompile of an unchanged condition
    at an unchanged place returns it without re-locating anything.

    >>> def locate(start: int, end: int) -> Span:
    ...     return Span(file="m.yaml", line=7, column=11 + start, end_line=7,
    ...                 end_column=11 + end)
    >>> expr, diags = parse_condition(
    ...     'tags contains "hotfix" or (title matches /^fix/i and complexity <= simple)',
    ...     locate)
    >>> from modec.grammar.printer import format_expr
    >>> format_expr(expr)
    'tags contains "hotfix" or title matches /^fix/i and complexity <= 2'
    >>> expr.span.column, expr.span.end_column, diags
    (11, 85, [])
    >>> expr, diags = parse_condition('title contains 5', locate)
    >>> expr, diags[0].code, diags[0].span.column, diags[0].message
    (None, 'MC401', 26, 'unexpected `5`; expected a string, `any(` or `all(`')
    """
    cache = condition_cache()
    if place is not None:
        kept = cache.located(text, place)
        if kept is not None:
            return kept[0], list(kept[1])
    found = cache.get(text)
    if found is not None:
        expr, diagnostics = _rebased(found, locate)
    else:
        recorder = _Recorder(locate)
        expr, diagnostics = _parse(text, recorder)
        parsed = recorder.parsed(expr, diagnostics)
        if parsed is None:
            return expr, diagnostics
        cache.put(text, parsed)
    if place is not None:
        cache.keep(text, place, (expr, tuple(diagnostics)))
    return expr, diagnostics


def _parse(text: str, locate: Locate) -> tuple[Expr | None, list[Diagnostic]]:
    """Steps 1–5 of the module docstring, located through ``locate`` (no cache)."""
    problem = _guard(text, locate)
    if problem is not None:
        return None, [problem]
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as error:
        return None, [_syntax_error(text, error, locate)]
    deep = _too_deep(tree)
    if deep is not None:
        return None, [
            Diagnostic.make(
                "MC401",
                locate(deep.meta.start_pos, deep.meta.end_pos),
                f"condition is nested too deeply (more than {MAX_NESTING} levels of "
                "`and`, `or` and `not`)",
                "flatten it, or split it into several rules",
            )
        ]
    builder = ToIR(locate)
    expr: Expr | None = builder.transform(tree)
    diagnostics = builder.diagnostics
    if expr is None or has_errors(diagnostics):
        return None, sort_diagnostics(diagnostics)
    folded, warnings = fold(expr)
    return folded, sort_diagnostics([*diagnostics, *warnings])


# --------------------------------------------------------------------------- the cache


@dataclass(frozen=True, slots=True)
class _Parsed:
    """One text's parse result as a first call located it, with the offsets each of its span
    objects was located from (by ``id``; the result keeps the spans alive)."""

    expr: Expr | None
    diagnostics: tuple[Diagnostic, ...]
    offsets: dict[int, tuple[int, int]]
    #: Every span handed out while parsing, kept alive so that no ``id`` is reused.
    spans: tuple[Span, ...]


class _Recorder:
    """A ``locate`` that remembers the offsets of each span it hands out (and keeps the
    spans, so that an ``id`` stands for one span while the result is kept)."""

    __slots__ = ("conflict", "locate", "offsets", "spans")

    def __init__(self, locate: Locate) -> None:
        self.locate = locate
        self.offsets: dict[int, tuple[int, int]] = {}
        self.spans: list[Span] = []
        self.conflict = False

    def __call__(self, start: int, end: int) -> Span:
        span = self.locate(start, end)
        self.spans.append(span)
        if self.offsets.setdefault(id(span), (start, end)) != (start, end):
            self.conflict = True  # one span object for two ranges (a locate that ignores them)
        return span

    def parsed(self, expr: Expr | None, diagnostics: list[Diagnostic]) -> _Parsed | None:
        """The result to keep, or None when it cannot be re-located (a conflict, or spans
        the recorder did not hand out: fixes and related spans, which the parser never
        makes)."""
        if self.conflict or any(d.fix is not None or d.related for d in diagnostics):
            return None
        return _Parsed(expr, tuple(diagnostics), self.offsets, tuple(self.spans))


#: A located result as :func:`parse_condition` returns it (the list kept as a tuple).
_Located = tuple[Expr | None, tuple[Diagnostic, ...]]


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """Counts of a :class:`ConditionCache`: texts answered from the cache (``hits``) and
    parsed (``misses``), texts kept (``size``, at most ``maxsize``), and located results
    answered (``located_hits``) and kept (``located_size``)."""

    hits: int
    misses: int
    size: int
    maxsize: int
    located_hits: int
    located_size: int


class ConditionCache:
    """Parse results by condition text, least recently used dropped beyond ``maxsize``; and
    located results by text and place (see :func:`parse_condition`), bounded alike.

    Shared by every compilation of the process (the language server compiles on a worker
    thread), so it is guarded by a lock; texts are parsed outside it. Texts longer than
    ``max_text`` are never kept, so the cache holds at most ``2 * maxsize * max_text``
    characters of conditions. What it keeps is immutable (frozen nodes and diagnostics).
    """

    def __init__(self, maxsize: int = 1024, max_text: int = 2048) -> None:
        self.max_text = max_text
        self._entries: LRUCache[str, _Parsed] = LRUCache(maxsize=maxsize)
        self._located: LRUCache[tuple[str, Hashable], _Located] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._located_hits = 0

    def get(self, text: str) -> _Parsed | None:
        """The kept result of ``text`` (a hit), or None (a miss: the caller parses it)."""
        with self._lock:
            found = self._entries.get(text) if len(text) <= self.max_text else None
            if found is None:
                self._misses += 1
            else:
                self._hits += 1
            return found

    def put(self, text: str, parsed: _Parsed) -> None:
        """Keep the result of ``text`` (unless it is longer than ``max_text``)."""
        if len(text) <= self.max_text:
            with self._lock:
                self._entries[text] = parsed

    def located(self, text: str, place: Hashable) -> _Located | None:
        """The located result kept for ``text`` at ``place`` (see :func:`parse_condition`)."""
        if len(text) > self.max_text:
            return None
        with self._lock:
            found = self._located.get((text, place))
            if found is not None:
                self._located_hits += 1
            return found

    def keep(self, text: str, place: Hashable, result: _Located) -> None:
        """Keep the located ``result`` of ``text`` at ``place``."""
        if len(text) <= self.max_text:
            with self._lock:
                self._located[(text, place)] = result

    def info(self) -> CacheInfo:
        """The counts so far (hits and misses since the last :meth:`clear`)."""
        with self._lock:
            return CacheInfo(
                self._hits,
                self._misses,
                len(self._entries),
                int(self._entries.maxsize),
                self._located_hits,
                len(self._located),
            )

    def clear(self) -> None:
        """Forget every text and reset the counts."""
        with self._lock:
            self._entries.clear()
            self._located.clear()
            self._hits = self._misses = self._located_hits = 0


@functools.cache
def condition_cache() -> ConditionCache:
    """The process' condition cache (:func:`parse_condition` reads through it)."""
    return ConditionCache()


def _rebased(found: _Parsed, locate: Locate) -> tuple[Expr | None, list[Diagnostic]]:
    """``found`` with every span located anew by ``locate``, from the offsets it came from."""
    offsets = found.offsets

    def at(span: Span) -> Span:
        return locate(*offsets[id(span)])

    diagnostics = [
        d if d.span is None else d.model_copy(update={"span": at(d.span)})
        for d in found.diagnostics
    ]
    expr = None if found.expr is None else _rebase_expr(found.expr, at)
    return expr, sort_diagnostics(diagnostics) if len(diagnostics) > 1 else diagnostics


def _rebase_expr(expr: Expr, at: Callable[[Span], Span]) -> Expr:
    span = at(expr.span)
    if isinstance(expr, And | Or):
        operands = tuple(_rebase_expr(o, at) for o in expr.operands)
        return expr.model_copy(update={"span": span, "operands": operands})
    if isinstance(expr, Not):
        operand = _rebase_expr(expr.operand, at)
        return expr.model_copy(update={"span": span, "operand": operand})
    if isinstance(expr, Const):
        return expr.model_copy(update={"span": span})
    assert isinstance(expr, LiteralNode)
    node = expr.model_copy(update={"span": span})
    return with_value_spans(node, [at(s) for s in expr.value_spans])
