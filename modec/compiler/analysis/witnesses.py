"""Concrete tasks built from solver models (several variants; the caller checks them)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import ahocorasick

from modec.compiler.analysis.hazards import hazard_lookup
from modec.compiler.analysis.lemmas import atom_implies
from modec.compiler.analysis.sampling import regex_sample
from modec.compiler.analysis.tasks import WitnessTask
from modec.compiler.analysis.theory import Theory
from modec.compiler.ir import Compare, Expr, InList, RegexMatch, Scalar, TextMatch
from modec.compiler.semantics import MISSING, is_number, mentions, text_test

__all__ = ["Witnesses"]

_SEPARATORS: Final = (" ", ", ", "; ", ";", ",", "|", "~", "#", "\u3000")
_PADS: Final = tuple("xqzjkvwy0123456789жξ")
_TEXT_FIELDS: Final = ("title", "description", "text")
_META: Final = len("metadata.")
#: (style, separator) of the variants tried, in order.
_STYLES: Final = (("english", " "), ("plain", " "), ("english", None), ("pad", None))

Atoms = list[tuple[str, str]]


@dataclass
class _Parts:
    """What one model says about a task, before the text fields are composed."""

    complexity: int | None
    metadata: dict[str, Scalar]
    fields: dict[str, Atoms]
    tags: list[str]
    regex_pieces: dict[str, list[str]] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    free_meta: dict[str, str] = field(default_factory=dict)
    unbounded: set[tuple[str, str]] = field(default_factory=set)


def _free_value(expr: Compare | InList) -> Scalar:
    """A value that makes the free comparison ``expr`` true (on its own)."""
    value = expr.value if isinstance(expr, Compare) else expr.values[0]
    op = expr.op if isinstance(expr, Compare) else "=="
    if op != "==" and isinstance(value, str):
        return value + "~" if op in ("!=", ">", ">=") else ""
    if op != "==" and is_number(value):
        assert isinstance(value, int | float)
        return value + 1 if op in ("!=", ">", ">=") else value - 1
    return value


class Witnesses:
    """Builds concrete tasks from solver models (several variants; the caller checks them)."""

    def __init__(self, theory: Theory) -> None:
        self.theory = theory
        chars = set("".join(k[2] for k in theory.strs))
        self.sep = next((s for s in _SEPARATORS if not set(s) & chars), "\u2063")
        self.pad = next((p for p in _PADS if p not in chars), "x")
        self.samples: dict[str, str | None] = {}
        self.embedded: dict[str, str] = {}
        self.automaton: Any = None

    def _sample(self, expr: RegexMatch) -> str | None:
        key = expr.flags + "/" + expr.pattern
        if key not in self.samples:
            self.samples[key] = regex_sample(expr.pattern, expr.flags)
        return self.samples[key]

    def _literals_in(self, word: str) -> set[str]:
        if self.automaton is None:
            self.automaton = ahocorasick.Automaton()
            for key in self.theory.strs:
                if key[2]:
                    self.automaton.add_word(key[2], key[2])
            if len(self.automaton):
                self.automaton.make_automaton()
        if not len(self.automaton):
            return set()
        return {x for _, x in self.automaton.iter(word)}

    def _embedded(self, lit: str) -> str:
        """A word with ``lit`` strictly inside it and no other literal of the mode: the
        commonest English one ('test': 'latest'), else a plural or a prefix, else padding."""
        if lit in self.embedded:
            return self.embedded[lit]
        english = hazard_lookup({lit}).get(lit, ()) if lit.isalpha() else ()
        choice = self.pad + lit + self.pad
        for word in (*english[:50], lit + "s", "un" + lit, lit + "ed"):
            if not mentions(word, lit) and all(x in lit for x in self._literals_in(word)):
                choice = word
                break
        self.embedded[lit] = choice
        return choice

    # -- composing one text field

    @staticmethod
    def _kept(atoms: Atoms) -> tuple[str, str, list[str], list[str]]:
        """The longest prefix and suffix, and the `mentions` and `contains` literals no
        other kept literal already provides."""
        s = max((lit for op, lit in atoms if op == "startswith"), key=len, default="")
        e = max((lit for op, lit in atoms if op == "endswith"), key=len, default="")
        words: list[str] = []
        for lit in sorted({lit for op, lit in atoms if op == "mentions"}, key=len, reverse=True):
            if not any(atom_implies(("f", "mentions", k), ("f", "mentions", lit)) for k in words):
                words.append(lit)
        kept = [*words, s, e]
        contains: list[str] = []
        for lit in sorted({lit for op, lit in atoms if op == "contains"}, key=len, reverse=True):
            if not any(lit in k for k in (*kept, *contains)):
                contains.append(lit)
        return s, e, words, contains

    def _compose(
        self,
        atoms: Atoms,
        style: str,
        sep: str,
        extra: list[str],
        first: str | None,
        unbounded: set[str],
    ) -> str:
        """A field holding the true atoms, each in its own piece between separators.

        ``style``: ``plain`` (literals as they are), ``english`` (a literal that must not
        be a whole word, in ``unbounded``, inside an English word) or ``pad`` (every
        substring literal and the field's ends wrapped in a letter no literal contains).
        """
        p = self.pad if style == "pad" else ""
        s, e, words, contains = self._kept(atoms)

        def wrap(lit: str) -> str:
            if style == "english" and lit in unbounded:
                return self._embedded(lit)
            return p + lit + p

        pieces = ([first] if first else []) + words + [wrap(lit) for lit in contains] + extra
        if not (pieces or s or e):
            return ""
        head = s + p if s else p
        tail = p + e if e else p
        return sep.join(x for x in (head, sep.join(pieces), tail) if x)

    # -- reading a model

    def _model_metadata(self, model: set[int]) -> dict[str, Scalar]:
        metadata: dict[str, Scalar] = {}
        for key, domain in self.theory.meta.items():
            for cand, v in zip(domain.candidates, domain.vars, strict=True):
                if v in model and cand is not MISSING:
                    assert isinstance(cand, bool | int | float | str)
                    metadata[key[_META:]] = cand
        return metadata

    def _parts(self, model: set[int]) -> _Parts:
        th = self.theory
        fields: dict[str, Atoms] = {}
        for (dom, op, lit), v in th.strs.items():
            if v in model:
                fields.setdefault(dom, []).append((op, lit))
        tags = [lit for op, lit in fields.get("tags", []) if op == "eq"]
        complexity = next((c for c, v in th.cx.items() if v in model), None)
        parts = _Parts(complexity, self._model_metadata(model), fields, tags)
        for v, expr in th.free.values():
            if v in model:
                self._free_atom(expr, parts)
        self._finish_tags(parts)
        parts.unbounded = {
            (dom, lit) for (dom, op, lit), v in th.strs.items() if op == "mentions" and -v in model
        }
        self._finish_metadata(parts)
        return parts

    def _finish_metadata(self, parts: _Parts) -> None:
        """Text atoms on metadata keys, then free atoms on keys no value was chosen for."""
        for name, atoms in parts.fields.items():
            if name.startswith("metadata."):
                parts.metadata[name[_META:]] = self._compose(
                    atoms, "plain", self.sep, [], None, set()
                )
        for key, sample in parts.free_meta.items():
            parts.metadata.setdefault(key[_META:], sample)

    def _free_atom(self, expr: Expr, parts: _Parts) -> None:
        """Make a true free atom true in ``parts`` where a value for it is at hand."""
        if isinstance(expr, RegexMatch):
            sample = self._sample(expr)
            if sample is None:
                return
            if expr.field == "tags":
                parts.tags.append(sample)
            elif expr.field.startswith("metadata."):
                parts.free_meta[expr.field] = sample
            else:
                target = "description" if expr.field == "text" else expr.field
                parts.regex_pieces.setdefault(target, []).append(sample)
        elif isinstance(expr, Compare | InList):
            value = _free_value(expr)
            if expr.field in _TEXT_FIELDS and isinstance(value, str):
                parts.fixed[expr.field] = value
            elif expr.field.startswith("metadata."):
                parts.metadata[expr.field[_META:]] = value
        elif isinstance(expr, TextMatch) and expr.field.startswith("metadata."):
            parts.free_meta.setdefault(expr.field, "")

    def _finish_tags(self, parts: _Parts) -> None:
        tag_atoms = parts.fields.get("tags", [])
        for op, lit in tag_atoms:
            if op in ("mentions", "startswith", "endswith") and not any(
                text_test(op, t, lit) for t in parts.tags
            ):
                parts.tags.append(lit)
        if ("nonempty", "") in tag_atoms and not parts.tags:
            parts.tags.append(self.pad)

    def _texts(self, parts: _Parts, style: str, sep: str, regex_first: bool) -> dict[str, str]:
        if "text" in parts.fixed:
            return {"title": "", "description": parts.fixed["text"]}
        text_only = [(op, lit) for op, lit in parts.fields.get("text", []) if "\n" in lit]
        out: dict[str, str] = {}
        for name in ("title", "description"):
            atoms = parts.fields.get(name, []) + (text_only if name == "description" else [])
            samples = parts.regex_pieces.get(name, [])
            first = samples[0] if regex_first and samples else None
            rest = samples[1:] if first else samples
            avoid = {lit for dom, lit in parts.unbounded if dom in (name, "text")}
            out[name] = parts.fixed.get(name) or self._compose(
                atoms, style, sep, rest, first, avoid
            )
        return out

    def build(self, model: set[int]) -> Iterator[WitnessTask]:
        """Candidate tasks for ``model``, each different, best-reading first."""
        parts = self._parts(model)
        tags = tuple(dict.fromkeys(parts.tags))
        metadata = tuple(sorted(parts.metadata.items()))
        seen: set[WitnessTask] = set()
        for style, sep in _STYLES:
            for regex_first in (False, True):
                texts = self._texts(parts, style, sep or self.sep, regex_first)
                task = WitnessTask(
                    title=texts["title"],
                    description=texts["description"],
                    tags=tags,
                    complexity=parts.complexity,
                    metadata=metadata,
                )
                if task not in seen:
                    seen.add(task)
                    yield task
