"""The logic of text literals: which text atom implies which, and the theory lemmas.

A text atom is ``(domain, op, lowered literal)`` (:data:`StrKey`). *Theory lemmas* are
clauses true of every task: a literal implies every literal it contains (``contains
"testing"`` ⇒ ``contains "test"``), a whole-word occurrence implies the words bounded inside
it, two prefixes that are not prefixes of each other exclude each other.
"""

from __future__ import annotations

import bisect
import collections
from collections.abc import Callable, Sequence
from typing import Final

from modec.compiler.ir import TextMatch, field_kind
from modec.compiler.semantics import isword, text_test

__all__ = [
    "PREFIX_GROUP_LIMIT",
    "StrKey",
    "atom_implies",
    "flows",
    "implies",
    "occurrences",
    "prefix_lemmas",
    "str_key",
    "substring_lemmas",
]

#: A text atom: (domain, op, lowered literal). Domains: title, description, text, tags,
#: metadata.KEY. On tags, ``contains`` is ``eq`` (a tag equals the literal).
StrKey = tuple[str, str, str]

#: Adds one lemma clause; False when the lemma budget is spent.
AddLemma = Callable[[list[int]], bool]

#: More `startswith`/`endswith` literals than this on one field: exclusions not encoded.
PREFIX_GROUP_LIMIT: Final = 2000


def flows(source: str, target: str, op: str) -> bool:
    """Whether an occurrence in field ``source`` is one in field ``target`` for ``op``."""
    if source == target:
        return True
    if target != "text" or source not in ("title", "description"):
        return False
    if op == "startswith":
        return source == "title"
    if op == "endswith":
        return source == "description"
    return op in ("contains", "mentions")


def _bounded(op1: str, y: str, x: str, p: int) -> bool:
    """The occurrence of ``x`` at ``p`` in ``y`` sits on word boundaries in every string
    that ``op1 y`` holds for."""
    q = p + len(x)
    left = (
        not isword(x[0])
        or (p > 0 and not isword(y[p - 1]))
        or (p == 0 and op1 in ("mentions", "startswith"))
    )
    right = (
        not isword(x[-1])
        or (q < len(y) and not isword(y[q]))
        or (q == len(y) and op1 in ("mentions", "endswith"))
    )
    return left and right


def _implies_on_tags(op1: str, y: str, op2: str, x: str) -> bool | None:
    """The answer for two atoms on one tag where the tag operators decide it, else None."""
    if op1 == "eq":
        return op2 != "eq" and op2 != "nonempty" and text_test(op2, y, x)
    if op2 in ("eq", "nonempty") or op1 == "nonempty":
        return False
    return None


def implies(op1: str, y: str, op2: str, x: str, positions: Sequence[int], tags: bool) -> bool:
    """``op1 y`` ⇒ ``op2 x`` on one string, given the positions where ``x`` occurs in ``y``."""
    if tags:
        decided = _implies_on_tags(op1, y, op2, x)
        if decided is not None:
            return decided
    if op2 == "contains":
        return True
    if op2 == "startswith":
        return op1 == "startswith" and 0 in positions
    if op2 == "endswith":
        return op1 == "endswith" and len(y) - len(x) in positions
    return any(_bounded(op1, y, x, p) for p in positions)


def _positions(x: str, y: str) -> list[int]:
    out = []
    i = y.find(x)
    while i >= 0:
        out.append(i)
        i = y.find(x, i + 1)
    return out


def atom_implies(a: StrKey, b: StrKey) -> bool:
    """Text atom ``a`` implies text atom ``b`` (for two atoms at hand; the lemmas use this)."""
    (d1, op1, y), (d2, op2, x) = a, b
    if a == b or not flows(d1, d2, op2):
        return False
    positions = _positions(x, y) if x else []
    if not positions:
        return False
    return implies(op1, y, op2, x, positions, d1 == "tags")


def str_key(atom: TextMatch, value: str) -> StrKey | None:
    """The text atom of one value of a TextMatch, or None when it is not a text atom."""
    lit = value.lower()
    kind = field_kind(atom.field)
    if kind == "text":
        return (atom.field, atom.op, lit) if lit else None
    if kind == "tags":
        if atom.op == "contains":
            return ("tags", "eq", lit)
        return ("tags", atom.op, lit) if lit else ("tags", "nonempty", "")
    if kind == "any" and lit:
        return (atom.field, atom.op, lit)
    return None


Occurrences = dict[str, list[tuple[str, list[int]]]]


class _Automaton:
    """Aho-Corasick over the literals, with dictionary suffix links, so that scanning a text
    costs its length plus the occurrences reported (pyahocorasick walks the failure chain at
    every character, quadratic on a literal such as ``"a" * 100_000``)."""

    def __init__(self, literals: Sequence[str]) -> None:
        self.literals = literals
        self.goto: list[dict[str, int]] = [{}]
        self.out: list[int] = [-1]
        for index, lit in enumerate(literals):
            node = 0
            for ch in lit:
                nxt = self.goto[node].get(ch)
                if nxt is None:
                    nxt = len(self.goto)
                    self.goto[node][ch] = nxt
                    self.goto.append({})
                    self.out.append(-1)
                node = nxt
            self.out[node] = index
        self.fail = [0] * len(self.goto)
        self.link = [-1] * len(self.goto)
        self._links()

    def _links(self) -> None:
        goto, fail, link, out = self.goto, self.fail, self.link, self.out
        queue = collections.deque(goto[0].values())
        while queue:
            r = queue.popleft()
            for ch, u in goto[r].items():
                queue.append(u)
                f = fail[r]
                while f and ch not in goto[f]:
                    f = fail[f]
                target = goto[f].get(ch, 0)
                fail[u] = 0 if target == u else target
                link[u] = fail[u] if out[fail[u]] >= 0 else link[fail[u]]

    def scan(self, text: str, budget: list[int]) -> dict[str, list[int]] | None:
        """The literals occurring in ``text`` with their start positions, longest first at
        each end; None when ``budget[0]`` occurrences were reported in all."""
        goto, fail, link, out, lits = self.goto, self.fail, self.link, self.out, self.literals
        found: dict[str, list[int]] = {}
        state = 0
        for i, ch in enumerate(text):
            while state and ch not in goto[state]:
                state = fail[state]
            state = goto[state].get(ch, 0)
            node = state if out[state] >= 0 else link[state]
            while node > 0:
                x = lits[out[node]]
                found.setdefault(x, []).append(i - len(x) + 1)
                budget[0] -= 1
                if budget[0] < 0:
                    return None
                node = link[node]
        return found


#: Literal sets this small (count and total length) are searched pair by pair with
#: ``str.find``; larger ones through :class:`_Automaton`. Both give the same answer.
_PAIRWISE_LITERALS: Final = 64
_PAIRWISE_CHARACTERS: Final = 2_000


def occurrences(literals: Sequence[str], limit: int) -> tuple[Occurrences, bool]:
    """For each literal, the literals occurring in it (itself included), with positions, in
    time linear in the literals' length plus the occurrences; False when more than ``limit``
    occurrences were found (the map then covers the literals scanned before).

    Each literal's list is in the order a left-to-right scan first meets the literals' ends,
    longest first at each end; positions ascend.
    """
    if len(literals) <= _PAIRWISE_LITERALS and sum(map(len, literals)) <= _PAIRWISE_CHARACTERS:
        return _pairwise(literals, limit)
    automaton = _Automaton(literals)
    budget = [limit]
    out: Occurrences = {}
    for y in literals:
        found = automaton.scan(y, budget)
        if found is None:
            return out, False
        out[y] = list(found.items())
    return out, True


def substring_lemmas(
    by_lit: dict[str, list[tuple[StrKey, int]]], inside: Occurrences, add: AddLemma
) -> bool:
    """Add ``a ⇒ b`` for every text atom ``b`` whose literal occurs in ``a``'s where the
    occurrence makes it true; False when ``add`` refused one (the budget is spent)."""
    for y, atoms_y in by_lit.items():
        for x, positions in inside.get(y, ()):
            for a, va in atoms_y:
                for b, vb in by_lit[x]:
                    if va == vb or not flows(a[0], b[0], b[1]):
                        continue
                    if (a[0] == "tags") != (b[0] == "tags"):
                        continue
                    if implies(a[1], y, b[1], x, positions, a[0] == "tags") and not add([-va, vb]):
                        return False
    return True


def _related(op: str, a: str, b: str) -> bool:
    if op == "startswith":
        return a.startswith(b) or b.startswith(a)
    return a.endswith(b) or b.endswith(a)


def prefix_lemmas(strs: dict[StrKey, int], add: AddLemma, skipped: list[str]) -> None:
    """Two `startswith` (or `endswith`) literals on one field that are not prefixes (suffixes)
    of each other exclude each other."""
    groups: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for (dom, op, lit), var in strs.items():
        if op in ("startswith", "endswith") and dom != "tags":
            groups.setdefault((dom, op), []).append((lit, var))
    for (dom, op), items in groups.items():
        if len(items) > PREFIX_GROUP_LIMIT:
            skipped.append(
                f"{len(items)} `{op}` literals on {dom}: mutual exclusion "
                "of their prefixes was not encoded"
            )
            continue
        for i, (a, va) in enumerate(items):
            for b, vb in items[i + 1 :]:
                if not _related(op, a, b) and not add([-va, -vb]):
                    skipped.append("prefix exclusions past the lemma budget were not added")
                    return


def _pairwise(literals: Sequence[str], limit: int) -> tuple[Occurrences, bool]:
    """:func:`occurrences` of a small set, by ``str.find`` (the work is bounded by the two
    constants above).

    Each literal is looked for once in all of them joined (:func:`_joined_occurrences`); a
    set with repeated or empty literals, or more occurrences than ``limit`` (where the cut
    depends on the order of the search), is searched pair by pair."""
    if all(literals) and len(set(literals)) == len(literals):
        found = _joined_occurrences(literals, limit)
        if found is not None:
            return found, True
    return _pairs(literals, limit)


def _joined_occurrences(literals: Sequence[str], limit: int) -> Occurrences | None:
    """:func:`_pairs` of distinct, non-empty literals when they have at most ``limit``
    occurrences in all (else None): each literal is found in the literals joined by a
    separator, and a match that runs over the end of the literal it starts in is none."""
    joined = "\0".join(literals)
    starts: list[int] = []
    at = 0
    for y in literals:
        starts.append(at)
        at += len(y) + 1
    found: list[list[tuple[int, int, str, list[int]]]] = [[] for _ in literals]
    total = 0
    find, right = joined.find, bisect.bisect_right
    for x in literals:
        n = len(x)
        owner = -1
        positions: list[int] = []
        i = find(x)
        while i >= 0:
            j = right(starts, i) - 1
            offset = i - starts[j]
            if offset + n <= len(literals[j]):
                if j != owner:  # the matches of one literal come in order of position
                    if positions:
                        found[owner].append((positions[0] + n, -n, x, positions))
                    owner, positions = j, []
                positions.append(offset)
                total += 1
                if total > limit:
                    return None
            i = find(x, i + 1)
        if positions:
            found[owner].append((positions[0] + n, -n, x, positions))
    out: Occurrences = {}
    for y, entries in zip(literals, found, strict=True):
        entries.sort()
        out[y] = [(x, positions) for _, _, x, positions in entries]
    return out


def _pairs(literals: Sequence[str], limit: int) -> tuple[Occurrences, bool]:
    """:func:`occurrences` of a small set, by ``str.find`` over every pair, cut after
    ``limit`` occurrences in order of the literals."""
    budget = limit
    out: Occurrences = {}
    # Shortest first: the literals that can occur in ``y`` are a prefix of this list (which
    # literal is tried first changes nothing: each ``y``'s list is sorted below).
    by_length = sorted(literals, key=len)
    lengths = [len(x) for x in by_length]
    for y in literals:
        found: list[tuple[int, int, str, list[int]]] = []
        for x in [x for x in by_length[: bisect.bisect_right(lengths, len(y))] if x in y]:
            positions = []
            i = y.find(x)
            while i >= 0:
                positions.append(i)
                budget -= 1
                if budget < 0:
                    return out, False
                i = y.find(x, i + 1)
            found.append((positions[0] + len(x), -len(x), x, positions))
        found.sort()
        out[y] = [(x, positions) for _, _, x, positions in found]
    return out, True
