"""Type rules of the condition language: which operators and literals each field accepts.

Each check takes located pieces of one condition and returns the diagnostics it finds (MC402
type errors, MC403 unknown fields), so the transformer can report every problem in a
condition, not just the first. Fields have four kinds (:func:`~modec.grammar.ast.field_kind`):

========  =======================================  ==========================================
kind      fields                                   accepts
========  =======================================  ==========================================
text      ``title``, ``description``, ``text``     every text operator, comparisons and ``in``
                                                   with strings, ``matches``
tags      ``tags``                                 ``contains`` (one, ``any``, ``all``) only
number    ``complexity``                           comparisons and ``in`` with 1–5 or a level
                                                   name (``trivial`` … ``very_complex``)
any       ``metadata.KEY``                         every operator, every literal
========  =======================================  ==========================================
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from modec.diagnostics import Diagnostic, Span
from modec.grammar.ast import COMPLEXITY_NAMES, FieldKind, Scalar, field_kind

__all__ = [
    "FIELDS",
    "Located",
    "Value",
    "Word",
    "check_compare",
    "check_in_list",
    "check_regex_field",
    "check_text_match",
    "resolve_field",
]

#: The task fields a condition can read, besides ``metadata.KEY``.
FIELDS: Final = ("title", "description", "text", "tags", "complexity")
_METADATA_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_LEVELS: Final = ", ".join(f"{name} ({number})" for name, number in COMPLEXITY_NAMES.items())

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Located(Generic[T_co]):
    """A piece of a condition and where it was written."""

    value: T_co
    span: Span


@dataclass(frozen=True)
class Word:
    """A bare word where a value goes: only complexity level names are values."""

    name: str


#: A literal as written: a scalar, or a bare word still to be resolved.
Value = Scalar | Word


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _describe(value: Value) -> str:
    if isinstance(value, Word):
        return f"the bare word `{value.name}`"
    if isinstance(value, bool):
        return f"`{'true' if value else 'false'}`"
    if isinstance(value, str):
        return f"the string {_quoted(value)}"
    return f"the number `{value}`"


def resolve_field(name: str, span: Span) -> tuple[FieldKind | None, list[Diagnostic]]:
    """The kind of field ``name``, or None with an MC403 diagnostic (with "did you mean")."""
    if name.startswith("metadata."):
        key = name[len("metadata.") :]
        if _METADATA_KEY.fullmatch(key):
            return field_kind(name), []
        return None, [
            Diagnostic.make(
                "MC403",
                span,
                f"`{name}` is not a metadata field: the key `{key}` is not a plain name",
                "metadata keys are letters, digits, `_` and `-`, starting with a letter or `_`"
                " (one level: `metadata.team`)",
            )
        ]
    kind = field_kind(name)
    if kind is not None:
        return kind, []
    if name == "metadata":
        hint = "name a metadata key: `metadata.KEY`, e.g. `metadata.team`"
    elif "." in name:
        hint = f"metadata fields are written `metadata.{name.split('.', 1)[1]}`"
    else:
        lowered = name.lower()
        close = [f for f in FIELDS if f == lowered] or difflib.get_close_matches(
            lowered, FIELDS, n=1, cutoff=0.6
        )
        hint = (
            f"did you mean `{close[0]}`?"
            if close
            else "fields are " + ", ".join(f"`{f}`" for f in FIELDS) + " and `metadata.KEY`"
        )
    return None, [Diagnostic.make("MC403", span, f"unknown field `{name}`", hint)]


def check_text_match(
    field: str,
    kind: FieldKind,
    op: Located[str],
    quantifier: str,
    values: Sequence[Located[str]],
    argument_span: Span,
) -> list[Diagnostic]:
    """``F contains|mentions|startswith|endswith ARG``: text fields, ``contains`` on tags,
    anything on metadata; ``startswith``/``endswith`` take one string; no empty strings on
    text (they match every task); ``any()``/``all()`` need at least one string."""
    out: list[Diagnostic] = []
    example = values[0].value if values else "x"
    if kind == "number":
        out.append(
            Diagnostic.make(
                "MC402",
                op.span,
                f"`{field}` is a number from 1 to 5; `{op.value}` needs a text field",
                f"compare it instead, e.g. `{field} >= 3` or `{field} in [simple, moderate]`",
            )
        )
    elif kind == "tags" and op.value != "contains":
        out.append(
            Diagnostic.make(
                "MC402",
                op.span,
                f"`{op.value}` does not apply to `tags`, a list matched whole element by element",
                f"use `tags contains {_quoted(example)}`",
            )
        )
    if op.value in ("startswith", "endswith") and quantifier != "one":
        out.append(
            Diagnostic.make(
                "MC402",
                argument_span,
                f"`{op.value}` takes one string, not `{quantifier}(...)`",
                f'join single tests instead: `({field} {op.value} "a" or {field} {op.value} "b")`',
            )
        )
    if quantifier != "one" and not values:
        out.append(
            Diagnostic.make(
                "MC402",
                argument_span,
                f"`{quantifier}()` needs at least one string",
                f'write `{quantifier}("a", "b")`, or remove the condition',
            )
        )
    if kind in ("text", "any"):
        for value in values:
            if value.value == "":
                out.append(
                    Diagnostic.make(
                        "MC402",
                        value.span,
                        f'the empty string: `{op.value} ""` matches every task',
                        "write the text to look for, or remove the condition",
                    )
                )
    return out


def check_regex_field(field: str, kind: FieldKind, op_span: Span) -> list[Diagnostic]:
    """``F matches /re/``: text and metadata fields only."""
    if kind == "tags":
        return [
            Diagnostic.make(
                "MC402",
                op_span,
                "`matches` does not apply to `tags`, a list matched whole element by element",
                'use `tags contains "x"` or `tags contains any("x", "y")`',
            )
        ]
    if kind == "number":
        return [
            Diagnostic.make(
                "MC402",
                op_span,
                f"`{field}` is a number from 1 to 5; `matches` needs a text field",
                f"compare it instead, e.g. `{field} >= 3`",
            )
        ]
    return []


def _complexity_value(field: str, value: Located[Value]) -> tuple[int | None, list[Diagnostic]]:
    v = value.value
    if isinstance(v, Word):
        if v.name in COMPLEXITY_NAMES:
            return COMPLEXITY_NAMES[v.name], []
        close = difflib.get_close_matches(v.name.lower(), list(COMPLEXITY_NAMES), n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"the levels are {_LEVELS}"
        return None, [
            Diagnostic.make("MC402", value.span, f"unknown complexity level `{v.name}`", hint)
        ]
    if isinstance(v, str):
        hint = (
            f"write the level without quotes: `{v}`"
            if v in COMPLEXITY_NAMES
            else f"the levels are {_LEVELS}"
        )
        return None, [
            Diagnostic.make("MC402", value.span, f"`{field}` is a number, not {_describe(v)}", hint)
        ]
    if isinstance(v, bool | float):
        return None, [
            Diagnostic.make(
                "MC402",
                value.span,
                f"`{field}` is a whole number from 1 to 5, not {_describe(v)}",
                f"the levels are {_LEVELS}",
            )
        ]
    if not 1 <= v <= 5:
        return None, [
            Diagnostic.make(
                "MC402",
                value.span,
                f"`{field}` ranges from 1 to 5; {v} is out of range",
                f"the levels are {_LEVELS}",
            )
        ]
    return v, []


def _literal(
    field: str, kind: FieldKind, value: Located[Value]
) -> tuple[Scalar | None, list[Diagnostic]]:
    """Resolve one literal against the field's kind (``tags`` is handled by the callers)."""
    v = value.value
    if kind == "number":
        return _complexity_value(field, value)
    if isinstance(v, Word):
        hint = f"quote text: {_quoted(v.name)}"
        if v.name in COMPLEXITY_NAMES:
            hint += f"; level names are only values of `complexity` (`complexity == {v.name}`)"
        return None, [
            Diagnostic.make("MC402", value.span, f"`{v.name}` is not a value of `{field}`", hint)
        ]
    if kind == "text" and not isinstance(v, str):
        return None, [
            Diagnostic.make(
                "MC402",
                value.span,
                f"`{field}` is text; it cannot be compared with {_describe(v)}",
                f"quote it to compare text: {_quoted(_scalar_text(v))}",
            )
        ]
    return v, []


def _scalar_text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_compare(
    field: str, kind: FieldKind, op: Located[str], value: Located[Value]
) -> tuple[Scalar | None, list[Diagnostic]]:
    """``F op value``: the resolved value (level names become ints) or None and diagnostics."""
    if kind == "tags":
        example = value.value if isinstance(value.value, str) else "x"
        hint = (
            f"use `tags contains {_quoted(example)}`"
            if op.value == "=="
            else f"use `not tags contains {_quoted(example)}`"
            if op.value == "!="
            else 'tags have no order; use `tags contains "x"`'
        )
        return None, [
            Diagnostic.make(
                "MC402", op.span, f"`tags` is a list; `{op.value}` does not apply to it", hint
            )
        ]
    return _literal(field, kind, value)


def check_in_list(
    field: str,
    kind: FieldKind,
    op_span: Span,
    values: Sequence[Located[Value]],
    list_span: Span,
) -> tuple[tuple[Scalar, ...] | None, list[Diagnostic]]:
    """``F in [v, ...]``: the resolved values, or None and diagnostics."""
    if kind == "tags":
        shown = (
            ", ".join(_quoted(v.value) if isinstance(v.value, str) else '"x"' for v in values[:3])
            or '"x"'
        )
        return None, [
            Diagnostic.make(
                "MC402",
                op_span,
                "`tags` is a list; `in` does not apply to it",
                f"use `tags contains any({shown})`",
            )
        ]
    if not values:
        return None, [
            Diagnostic.make(
                "MC402",
                list_span,
                "`in []` needs at least one value",
                f"write `{field} in [...]` with values, or remove the condition",
            )
        ]
    out: list[Diagnostic] = []
    resolved: list[Scalar] = []
    for value in values:
        scalar, diags = _literal(field, kind, value)
        out.extend(diags)
        if scalar is not None:
            resolved.append(scalar)
    return (None if out else tuple(resolved)), out
