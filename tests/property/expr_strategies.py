"""Hypothesis strategies for condition expressions (IR), self-contained for ``modec.testing``.

:func:`expressions` draws well-typed expressions in the normal form
:func:`modec.grammar.parse_condition` returns: folded (no constant below the root, no double
negation), flattened (no ``and`` directly inside ``and``, nor ``or`` inside ``or``), with
complexity levels as integers, regex flags in ``ims`` order and no empty text to look for.
:func:`expression_key` compares expressions ignoring spans.

>>> from hypothesis import find
>>> e = find(expressions(), lambda e: isinstance(e, Or))
>>> isinstance(e.operands[0], Const | Not | And | Or)
False
"""

from __future__ import annotations

import json
from typing import Any, Final

from hypothesis import strategies as st

from modec.compiler.ir import (
    And,
    Compare,
    Const,
    Expr,
    InList,
    Not,
    Or,
    RegexMatch,
    Scalar,
    TextMatch,
)
from modec.diagnostics import Span

__all__ = [
    "NOWHERE",
    "atoms",
    "expression_key",
    "expressions",
    "metadata_fields",
    "regex_patterns",
    "scalars",
]

#: The span given to every drawn node: spans are provenance, not meaning.
NOWHERE: Final = Span(file="<hypothesis>", line=1, column=1, end_line=1, end_column=1)

_TEXT_FIELDS: Final = ("title", "description", "text")
_COMPARE_OPS: Final = ("==", "!=", "<", "<=", ">", ">=")
_INT64: Final = 2**63

#: RE2-compatible patterns exercising classes, anchors, groups, escapes and slashes.
_PATTERNS: Final = (
    r"^fix(\(.+\))?:",
    r"\bsecurity\b",
    r"[a-z]+-[0-9]{2,4}",
    r"a/b",
    r"//",
    r"(?:foo|bar)+$",
    r"\d+\.\d+",
    r"[^\]\\]",
    r"é|ß|😀",
    r"\p{Greek}+",
    r"(?P<id>[A-Z]{2,})-\d+",
    r"\\",
    r"\\/",
    r"x{0,1000}",
)


def metadata_fields() -> st.SearchStrategy[str]:
    """``metadata.KEY`` with KEY like ``[A-Za-z_][A-Za-z0-9_-]*``."""
    return st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_-]{0,12}\Z").map(lambda k: f"metadata.{k}")


def _texts(min_size: int = 0) -> st.SearchStrategy[str]:
    # Any Unicode text but lone surrogates (not text; the parser rejects them).
    return st.text(st.characters(exclude_categories=["Cs"]), min_size=min_size, max_size=12)


def scalars() -> st.SearchStrategy[Scalar]:
    """Literals of ``metadata`` comparisons: text, 64-bit ints, finite floats, bools."""
    return st.one_of(
        _texts(),
        st.integers(-_INT64, _INT64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
    )


def regex_patterns() -> st.SearchStrategy[str]:
    """Patterns RE2 accepts: a fixed set plus escaped literal text."""
    literal = st.text(st.sampled_from("abc xyz-_.*+?()[]{}|^$/\\é"), min_size=1, max_size=8)
    return st.one_of(st.sampled_from(_PATTERNS), literal.map(_escape))


def _escape(text: str) -> str:
    # A slash stays bare: the parser reads the literal's `\/` as `/`, its normal form.
    return "".join(f"\\{c}" if c in r".*+?()[]{}|^$\\" else c for c in text)


def _text_matches(field: st.SearchStrategy[str], *, tags: bool) -> st.SearchStrategy[Expr]:
    values = _texts(min_size=0 if tags else 1)
    ops = ("contains",) if tags else ("contains", "mentions", "startswith", "endswith")

    @st.composite
    def build(draw: st.DrawFn) -> Expr:
        op = draw(st.sampled_from(ops))
        quantifier = (
            "one"
            if op in ("startswith", "endswith")
            else draw(st.sampled_from(("one", "any", "all")))
        )
        count = 1 if quantifier == "one" else draw(st.integers(1, 4))
        return TextMatch(
            span=NOWHERE,
            field=draw(field),
            op=op,
            quantifier=quantifier,
            values=tuple(draw(values) for _ in range(count)),
        )

    return build()


def _regex_matches(field: st.SearchStrategy[str]) -> st.SearchStrategy[Expr]:
    flags = st.sets(st.sampled_from("ims")).map(lambda s: "".join(f for f in "ims" if f in s))
    return st.builds(
        RegexMatch, span=st.just(NOWHERE), field=field, pattern=regex_patterns(), flags=flags
    )


def _comparisons(field: st.SearchStrategy[str], value: st.SearchStrategy[Any]) -> Any:
    compare = st.builds(
        Compare, span=st.just(NOWHERE), field=field, op=st.sampled_from(_COMPARE_OPS), value=value
    )
    in_list = st.builds(
        InList,
        span=st.just(NOWHERE),
        field=field,
        values=st.lists(value, min_size=1, max_size=4).map(tuple),
    )
    return st.one_of(compare, in_list)


def atoms() -> st.SearchStrategy[Expr]:
    """One well-typed test of a task field (every operator, every field kind)."""
    text_field = st.sampled_from(_TEXT_FIELDS)
    meta = metadata_fields()
    complexity = st.integers(1, 5)
    return st.one_of(
        _text_matches(text_field, tags=False),
        _text_matches(st.just("tags"), tags=True),
        _text_matches(meta, tags=False),
        _regex_matches(text_field),
        _regex_matches(meta),
        _comparisons(text_field, _texts()),
        _comparisons(st.just("complexity"), complexity),
        _comparisons(meta, scalars()),
    )


def _not(operand: Expr) -> Expr:
    return operand.operand if isinstance(operand, Not) else Not(span=NOWHERE, operand=operand)


def _junction(kind: type[And] | type[Or], operands: list[Expr]) -> Expr:
    flat: list[Expr] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, kind) else (operand,))
    return kind(span=NOWHERE, operands=tuple(flat))


def expressions(max_leaves: int = 12) -> st.SearchStrategy[Expr]:
    """Well-typed expressions in folded normal form (a constant only as the whole)."""
    tree = st.recursive(
        atoms(),
        lambda children: st.one_of(
            children.map(_not),
            st.lists(children, min_size=2, max_size=4).map(lambda ops: _junction(And, ops)),
            st.lists(children, min_size=2, max_size=4).map(lambda ops: _junction(Or, ops)),
        ),
        max_leaves=max_leaves,
    )
    return st.one_of(st.builds(Const, span=st.just(NOWHERE), value=st.booleans()), tree)


def _strip_spans(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_spans(v) for k, v in value.items() if k != "span"}
    if isinstance(value, list):
        return [_strip_spans(v) for v in value]
    return value


def expression_key(expr: Expr) -> str:
    """A canonical dump of ``expr`` without spans: equal keys, equal meaning and spelling.

    JSON keeps ``1``, ``1.0`` and ``true`` apart, which Python's ``==`` would not.
    """
    return json.dumps(_strip_spans(expr.model_dump(mode="json")), sort_keys=True)
