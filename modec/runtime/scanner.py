"""The scanners: every literal of every row found in one pass over a text, and regexes on bytes.

:class:`LiteralSet` holds every lowered literal the table's rows use on any text field (the
*universe*; a literal shared by two fields is there once). One RE2 ``Set`` is a DFA pass over
a text's UTF-8 bytes that reports every literal occurring in ``text.lower()``, whatever the
number of rules (byte-substring equals character-substring because UTF-8 is
self-synchronising). An ASCII text is not lowered at all: a case-insensitive set over its
bytes finds exactly what the case-sensitive set finds in the lowered bytes (on ASCII,
``str.lower()`` only maps A–Z, and a lowered literal with a non-ASCII character cannot occur
in ASCII text either way). When every literal is ASCII, that set serves every text, and a
non-ASCII text without İ or the Kelvin sign is not lowered either (:func:`raw_scan_ok`).
When RE2 cannot build a set (memory budget), a pyahocorasick
automaton does the same job.

Long texts are scanned in chunks (:meth:`LiteralSet.best_row`) that grow geometrically and
overlap by the longest literal less one character (a non-ASCII text is encoded chunk by
chunk, as far as it is read), so every occurrence lies inside some
chunk: a caller that only needs the least row any occurring literal gates stops as soon as
no literal can name a lower row, and the cost stays linear in the text's length.

:func:`regex_tester` compiles ``matches /p/f`` into a one-pattern RE2 set called on UTF-8
bytes: a DFA existence test, with none of the wrapper's offset bookkeeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise
from operator import itemgetter
from typing import Any, Final, Literal

import re2

__all__ = [
    "BATCH_SEGMENTS",
    "CHUNK_CHARS",
    "HEAD_LITERALS",
    "HEAD_MIN",
    "BatchScanner",
    "LiteralSet",
    "raw_scan_ok",
    "regex_tester",
    "required_literal",
]

#: First chunk of a chunked scan, in characters (later chunks grow).
CHUNK_CHARS: Final = 1024
#: A universe of this many literals or more scans a long text for its first rows' literals
#: first (:meth:`LiteralSet.ranker`), at most this many of them.
HEAD_MIN: Final = 1024
HEAD_LITERALS: Final = 64
_CAPITAL_SIGMA: Final = "\u03a3"  # the one character whose str.lower() depends on context
# The only non-ASCII characters whose ``str.lower()`` holds an ASCII character (İ → i̇,
# Kelvin sign → k; checked over every code point). A text without them, matched against
# ASCII literals only, gives the same hits on its raw UTF-8 bytes, case-folded, as on its
# lowered bytes: its other non-ASCII characters lower to non-ASCII ones, whose bytes (all
# ≥ 0x80) no ASCII literal can match.
_DOTTED_I: Final = "\u0130"
_KELVIN: Final = "\u212a"


def raw_scan_ok(text: str) -> bool:
    """``text`` has neither İ nor the Kelvin sign: for ASCII literals, its raw bytes do."""
    return _DOTTED_I not in text and _KELVIN not in text


class LiteralSet:
    """Every literal of the universe: ``find(text)`` gives the ids of those in ``text.lower()``.

    ``match_ascii`` (over an ASCII text's bytes) and ``match_lowered`` (over lowered UTF-8
    bytes) are the raw RE2 calls, or None under the pyahocorasick backend.
    """

    __slots__ = (
        "ascii_only",
        "backend",
        "find",
        "literals",
        "longest",
        "match_ascii",
        "match_lowered",
    )

    def __init__(self, literals: Sequence[str], backend: Literal["re2", "aho"] = "re2") -> None:
        self.literals = tuple(literals)
        self.longest = max(map(len, self.literals), default=0)
        folded = _re2_set(self.literals, fold_ascii=True) if backend == "re2" else None
        lowered = folded
        if folded is not None and not all(lit.isascii() for lit in self.literals):
            # With ASCII literals only, the folded set finds in lowered UTF-8 bytes what the
            # case-sensitive one would: a literal's bytes are all below 0x80, and folding
            # maps only A-Z there. A non-ASCII literal needs the case-sensitive set (Latin-1
            # folding would pair UTF-8 lead bytes such as 0xC3 and 0xE3).
            lowered = _re2_set(self.literals, fold_ascii=False)
        self.match_lowered = lowered
        self.match_ascii = folded
        self.ascii_only = ascii_only = lowered is folded
        if lowered is not None and folded is not None:
            self.backend = "re2"

            def find(text: str) -> Iterable[int]:
                if text.isascii():
                    return folded(text.encode())
                if ascii_only and _DOTTED_I not in text and _KELVIN not in text:
                    return folded(text.encode("utf-8", "surrogatepass"))
                return lowered(text.lower().encode("utf-8", "surrogatepass"))

            self.find: Callable[[str], Iterable[int]] = find
        else:
            self.backend = "aho"
            aho = _aho_set(self.literals)
            self.find = lambda text: aho(text.lower())

    def ranker(self, row_of: Sequence[int], none: int) -> Callable[[str], int]:
        """``text → best_row(text, row_of, min(row_of), none)``: the least row of one
        source's text, where ``row_of[i]`` is the least row literal ``i`` gates there.

        In a large universe (:data:`HEAD_MIN` literals or more), a long text is scanned first
        for the literals of the first rows alone (at most :data:`HEAD_LITERALS` of them: a
        set whose automaton is small and fast): any of them names a lower row than every
        other literal, so one that occurs decides, and the whole set scans only a text that
        holds none of them. That set is built at the first long text."""
        floor = min(row_of, default=none)
        monotone = all(a <= b for a, b in pairwise(row_of))
        best_row = self.best_row

        def whole(text: str) -> int:
            return best_row(text, row_of, floor, none, monotone)

        if len(self.literals) < HEAD_MIN:
            return whole
        long_text = 2 * max(CHUNK_CHARS, 4 * self.longest)
        # (head set, its literals' rows, whether they never decrease, the rest's floor), or
        # nothing when the head would be empty or everything; worked out at the first long
        # text, so that a router that never sees one never pays for it.
        plan: list[tuple[LiteralSet, list[int], bool, int] | None] = []

        def tiered(text: str) -> int:
            if len(text) <= long_text:
                return whole(text)
            if not plan:
                plan.append(self._head(row_of, none))
            head = plan[0]
            if head is None:
                return whole(text)
            literals, rows, ordered, rest_floor = head
            found = literals.best_row(text, rows, floor, none, ordered)
            if found != none:
                return found
            return best_row(text, row_of, rest_floor, none, monotone)

        return tiered

    def _head(
        self, row_of: Sequence[int], none: int
    ) -> tuple[LiteralSet, list[int], bool, int] | None:
        """The head of :meth:`ranker`: the set of the literals of the first rows (as many
        rows as :data:`HEAD_LITERALS` literals hold), their rows, whether those never
        decrease, and the least row of the other literals; None when the first row alone
        has more literals, or the head would hold every row."""
        count: dict[int, int] = {}
        for row in row_of:
            count[row] = count.get(row, 0) + 1
        rows = sorted(r for r in count if r != none)
        taken = 0
        cut = None
        for row in rows:
            taken += count[row]
            if taken > HEAD_LITERALS:
                break
            cut = row
        if cut is None or cut == rows[-1]:
            return None
        ids = [i for i, r in enumerate(row_of) if r <= cut]
        head_rows = [row_of[i] for i in ids]
        return (
            LiteralSet([self.literals[i] for i in ids]),
            head_rows,
            all(a <= b for a, b in pairwise(head_rows)),
            min(r for r in row_of if r > cut),
        )

    def best_row(
        self, text: str, row_of: Sequence[int], floor: int, none: int, monotone: bool = False
    ) -> int:
        """``min(row_of[i] for i in find(text))`` (``none`` when nothing occurs), stopping
        early once that minimum is ``floor`` or less; linear in ``len(text)``. ``monotone``
        says that ``row_of`` never decreases (the least id found names the least row).

        Raises UnicodeEncodeError for a text with a lone surrogate (whatever its position)."""
        size = max(CHUNK_CHARS, 4 * self.longest)
        if len(text) <= 2 * size:
            found = self.find(text)
            return min(map(row_of.__getitem__, found)) if found else none
        folded = self.match_ascii
        scan: Callable[[int, int], Iterable[int]]
        if folded is not None and text.isascii():
            # One encoding (a copy), then zero-copy chunks of its bytes.
            data = memoryview(text.encode())
            match: Callable[[Any], list[int]] = folded  # the set takes any buffer
            scan = lambda a, b: match(data[a:b])  # noqa: E731
            return _chunked(scan, len(data), size, self.longest, row_of, floor, none, monotone)[0]
        if folded is not None and self.ascii_only:
            # A wide text: only the chunks read are encoded to UTF-8, strictly (encoding the
            # whole text would cost more than a scan that stops early saves); a scan that
            # stops early has the UTF-16 encoder (twice as fast) check the text for a lone
            # surrogate. A chunk is scanned raw, or lowered where it holds İ or the Kelvin
            # sign (raw_scan_ok). Lowering chunk by chunk finds what lowering the whole text
            # finds: every character lowers on its own (the final sigma's two forms are both
            # non-ASCII), to at least one character, so an occurrence in the lowered text
            # comes from at most `longest` characters, all in one chunk.
            wide: Callable[[bytes], list[int]] = folded
            scan = lambda a, b: wide(_raw_or_lowered(text[a:b]).encode())  # noqa: E731
            try:
                best, end = _chunked(
                    scan, len(text), size, self.longest, row_of, floor, none, monotone
                )
                if end < len(text):
                    text.encode("utf-16-le")  # the whole text: a slice would cost a copy
            except UnicodeEncodeError:
                text.encode()  # raises again, at the surrogate's index in the whole text
                raise
            return best
        text.encode()  # lone surrogates are refused before any chunk is read
        if not self.ascii_only and _CAPITAL_SIGMA in text:  # its lowering needs context
            found = self.find(text)
            return min(map(row_of.__getitem__, found)) if found else none
        find = self.find
        scan = lambda a, b: find(text[a:b])  # noqa: E731
        return _chunked(scan, len(text), size, self.longest, row_of, floor, none, monotone)[0]


def _chunked(
    scan: Callable[[int, int], Iterable[int]],
    n: int,
    size: int,
    longest: int,
    row_of: Sequence[int],
    floor: int,
    none: int,
    monotone: bool,
) -> tuple[int, int]:
    """The least row over ``scan(start, end)`` of chunks of ``[0, n)`` that overlap by
    ``longest - 1``, stopping once the least row is ``floor`` or less, and the end of the
    last chunk read. A chunk grows by a quarter after a chunk with hits (a lower row may be
    near) and fourfold after one without (fewer calls on a text with no literal); a chunk
    that would leave less than twice its size unread takes the rest (one call fewer, at
    most thrice the chunk). Either way the cost stays linear in ``n``."""
    overlap = max(longest - 1, 0)
    best = none
    start = 0
    get = row_of.__getitem__
    while True:
        end = start + size
        if end + 2 * size > n:
            end = n
        found = scan(start, end)
        if found:
            least = row_of[min(found)] if monotone else min(map(get, found))
            if least < best:
                best = least
                if best <= floor:
                    return best, end
            size += size // 4
        else:
            size *= 4
        if end == n:
            return best, end
        start = end - overlap


def _raw_or_lowered(piece: str) -> str:
    return piece if raw_scan_ok(piece) else piece.lower()


def _re2_set(literals: Sequence[str], fold_ascii: bool) -> Callable[[bytes], list[int]] | None:
    """RE2 ``Set`` over the literals' UTF-8 bytes (Latin-1 mode: bytes match as bytes)."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.case_sensitive = not fold_ascii
    options.log_errors = False
    # The DFA is built lazily; the budget only caps it. Sets never bail out for slowness.
    options.max_mem = max(64 << 20, 256 * sum(len(lit) for lit in literals))
    matcher = re2.Set.SearchSet(options)
    try:
        for index, literal in enumerate(literals):
            pattern = re2._re2.RE2.QuoteMeta(literal.encode("utf-8", "surrogatepass"))
            if matcher.Add(pattern) != index:
                return None
        matcher.Compile()
    except re2.error:
        return None
    return _raw_match(matcher)


def _raw_match(matcher: object) -> Callable[[bytes], list[int]]:
    # The wrapper's Match converts str and maps [] to None; we always pass bytes, so call
    # the compiled set directly and save a Python frame per call.
    raw = getattr(matcher, "_set", None)
    if raw is not None and callable(getattr(raw, "Match", None)):
        return raw.Match  # type: ignore[no-any-return]
    public = matcher.Match  # type: ignore[attr-defined]
    return lambda data: public(data) or []


def _aho_set(literals: Sequence[str]) -> Callable[[str], Iterable[int]]:
    """pyahocorasick automaton over the literals: the fallback when RE2 cannot build a set."""
    import ahocorasick  # loaded only for the fallback

    automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY)
    empty: list[int] = []
    for index, literal in enumerate(literals):
        if literal:
            automaton.add_word(literal, index)
        else:
            empty.append(index)
    if len(automaton) == 0:
        return lambda text: empty
    automaton.make_automaton()
    search = automaton.iter
    second = itemgetter(1)

    def match(text: str) -> Iterable[int]:
        found = set(map(second, search(text)))
        found.update(empty)
        return found

    return match


def regex_tester(pattern: str, flags: str = "") -> Callable[[bytes], Any]:
    """A test of whether ``pattern`` (with ``flags``) matches somewhere in UTF-8 ``data``:
    its result is truthy exactly when it does.

    The pattern text (flags included) is the grammar's compiled regexp's; the test is a
    one-pattern RE2 set, which only runs the DFA. Where a set cannot be built, the compiled
    regexp's own ``Match`` on the bytes is used.
    """
    from modec.grammar import compile_regex  # the grammar (and lark) load only when needed

    compiled = compile_regex(pattern, flags)
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 64 << 20
    matcher = re2.Set.SearchSet(options)
    try:
        ok = matcher.Add(compiled.pattern) == 0  # type: ignore[attr-defined]
        if ok:
            matcher.Compile()
    except re2.error:
        ok = False
    if ok:
        return _raw_match(matcher)  # a non-empty list of ids is a match
    regexp = compiled._regexp  # type: ignore[attr-defined]
    unanchored = re2._re2.RE2.Anchor.UNANCHORED
    return lambda data: regexp.Match(unanchored, data, 0, len(data))[0][0] != -1


# Characters that stand for themselves in an RE2 pattern (outside a class), whatever the
# flags; a run of them after an optional ``^`` is a literal every match starts with.
_PLAIN: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-:,/=@")
_QUANTIFIERS: Final = frozenset("?*+{")


def required_literal(pattern: str, flags: str = "") -> tuple[str, bool] | None:
    """A literal that every match of ``pattern`` (with ``flags``) contains, and whether every
    match starts the text with it: ``(literal, anchored)``, or None when none is evident.

    A cheap necessary test before the RE2 call (the regex still decides): under the ``i``
    flag the literal is lowered and holds only ASCII characters, and it may be tested against
    the lowered text of an ASCII subject only (RE2's case folding pairs ``k`` and ``s`` with
    non-ASCII letters). Only a pattern without ``|`` qualifies: its leading run of plain
    characters, less a last one that a quantifier makes optional.

    >>> required_literal("^fix([(].+[)])?:", "i")
    ('fix', True)
    >>> required_literal("colou?r"), required_literal("a|b")
    (('colo', False), None)
    """
    if "|" in pattern:
        return None
    anchored = pattern.startswith("^") and "m" not in flags
    body = pattern[1:] if pattern.startswith("^") else pattern
    end = 0
    while end < len(body) and body[end] in _PLAIN:
        end += 1
    if end < len(body) and body[end] in _QUANTIFIERS:
        end -= 1
    literal = body[:end] if end > 0 else ""
    if not literal:
        return None
    return (literal.lower() if "i" in flags else literal), anchored


#: Bytes of literal patterns a batch scanner may hold (its pattern count is rows × segments).
BATCH_PATTERN_BYTES: Final = 1 << 16
#: Most texts one call of a batch scanner decides.
BATCH_SEGMENTS: Final = 16
_SEPARATOR: Final = "\x00"
_NEVER: Final = 1 << 62  # the row of a pattern that names no row


class BatchScanner:
    """The least row of each of many texts, one RE2 call per :data:`BATCH_SEGMENTS` texts.

    Texts are joined with NUL bytes into one buffer per group; the set holds, for every
    segment index ``j`` and row ``r``, the pattern "``j`` separators from the start, then,
    before the next one, a literal whose least row is ``r``". The ids the set reports name
    each text's rows exactly: a literal holds no NUL (else no batch scanner is built), so an
    occurrence lies within one segment, and the bytes of a segment are the text's own. The
    literals are matched as :class:`LiteralSet`'s ASCII-folded set matches them (all ASCII
    literals, raw UTF-8 bytes), so a text gets the hits ``LiteralSet.find`` gives it.
    """

    __slots__ = ("_match", "_row", "_segment", "_whole", "segments")

    def __init__(self, literals: Sequence[str], row_of: Sequence[int], segments: int) -> None:
        rows: dict[int, list[str]] = {}
        for literal, row in zip(literals, row_of, strict=True):
            rows.setdefault(row, []).append(literal)
        options = re2.Options()
        options.encoding = re2.Options.Encoding.LATIN1
        options.case_sensitive = False
        options.log_errors = False
        options.max_mem = 64 << 20
        matcher = re2.Set.SearchSet(options)
        quote = re2._re2.RE2.QuoteMeta
        self._segment: list[int] = []
        self._row: list[int] = []
        for j in range(segments):
            skip = b"(?:[^\\x00]*\\x00){%d}" % j if j else b""
            for row, members in sorted(rows.items()):
                either = b"|".join(quote(m.encode()) for m in members)
                if matcher.Add(b"\\A%s[^\\x00]*(?:%s)" % (skip, either)) != len(self._row):
                    raise ValueError("RE2 refused a batch pattern")
                self._segment.append(j)
                self._row.append(row)
        # Per group size k, a pattern that holds exactly when the buffer has k - 1 NULs: a
        # text with a NUL of its own would shift the segments (the batch is then refused).
        self._whole: list[int] = [-1]
        for k in range(1, segments + 1):
            self._whole.append(len(self._row))
            if matcher.Add(b"\\A(?:[^\\x00]*\\x00){%d}[^\\x00]*\\z" % (k - 1)) != len(self._row):
                raise ValueError("RE2 refused a batch pattern")
            self._segment.append(0)
            self._row.append(_NEVER)
        matcher.Compile()
        self._match = _raw_match(matcher)
        self.segments = segments

    @classmethod
    def build(cls, literals: LiteralSet, row_of: Sequence[int]) -> BatchScanner | None:
        """The batch scanner of ``literals`` (least rows ``row_of``), or None where the set
        would be too large, a literal is not ASCII or holds a NUL, or RE2 refuses it."""
        size = sum(map(len, literals.literals))
        segments = min(BATCH_SEGMENTS, BATCH_PATTERN_BYTES // max(size, 1))
        if (
            segments < 4
            or literals.match_ascii is None
            or not literals.ascii_only
            or any(_SEPARATOR in lit for lit in literals.literals)
        ):
            return None
        try:
            return cls(literals.literals, row_of, segments)
        except (ValueError, re2.error):
            return None

    def rows(self, texts: Sequence[str], none: int, limit: int) -> list[int] | None:
        """The least row of each text (``none`` when no literal occurs), or None when the
        batch is not for this scanner: a text holds a NUL, a lone surrogate, İ or the Kelvin
        sign (their lowering matters), or a group of texts exceeds ``limit`` characters."""
        size = self.segments
        out = [none] * len(texts)
        segment, row, whole, match = self._segment, self._row, self._whole, self._match
        join, join_bytes, encode = _SEPARATOR.join, _SEPARATOR.encode().join, str.encode
        for base in range(0, len(texts), size):
            members = texts[base : base + size]
            group = join(members)
            if len(group) > limit or _DOTTED_I in group or _KELVIN in group:
                return None
            try:
                # An ASCII group encodes as one copy; else each text encodes on its own, so
                # that the ASCII ones among them still do (a wide group encodes slowly).
                found = match(
                    group.encode() if group.isascii() else join_bytes(map(encode, members))
                )
            except UnicodeEncodeError:
                return None
            if whole[min(size, len(texts) - base)] not in found:
                return None  # a NUL inside a text: the segments are not the texts
            for pattern in found:
                at = base + segment[pattern]
                if row[pattern] < out[at]:
                    out[at] = row[pattern]
        return out
