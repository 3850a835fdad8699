"""The expression nodes of the condition language (Jinja's ``nodes.py``, sqlglot's
``expressions.py``): what :func:`~modec.grammar.parse_condition` returns and the compiler
builds its tables from.

Every node is a frozen pydantic model carrying the :class:`~modec.diagnostics.Span` it came
from; :data:`Expr` is a discriminated union on ``kind``. This module is the bottom of the
package's layers: it imports nothing of modec but :mod:`modec.diagnostics`, and
:mod:`modec.compiler.ir` re-exports every name here.

Literal values carry their own spans too (:attr:`LiteralNode.value_spans`, one per value, in
the values' order): where each string, number or word was written, in file line/column. They
are provenance, never meaning: they take no part in equality, hashing, serialisation
(``model_dump``) or the canonical bytes, and are empty where nobody wrote the values (rows
built from ``keywords``, nodes decoded from an artifact).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from modec.diagnostics import Span

__all__ = [
    "COMPLEXITY_NAMES",
    "And",
    "Compare",
    "Const",
    "Expr",
    "FieldKind",
    "InList",
    "LiteralNode",
    "Node",
    "Not",
    "Or",
    "RegexMatch",
    "Scalar",
    "TextMatch",
    "field_kind",
    "with_value_spans",
]

#: Complexity level names accepted wherever an integer complexity 1–5 is.
COMPLEXITY_NAMES: Final[dict[str, int]] = {
    "trivial": 1,
    "simple": 2,
    "moderate": 3,
    "complex": 4,
    "very_complex": 5,
}

#: A literal value in a condition: text, number or bool.
Scalar = bool | int | float | str
FieldKind = Literal["text", "tags", "number", "any"]

_TEXT_FIELDS: Final = frozenset({"title", "description", "text"})


def field_kind(field: str) -> FieldKind | None:
    """The type of a task field: ``text``, ``tags``, ``number``, ``any`` (metadata), or None.

    >>> [field_kind(f) for f in ("title", "tags", "complexity", "metadata.team")]
    ['text', 'tags', 'number', 'any']
    >>> field_kind("owner") is None
    True
    """
    if field in _TEXT_FIELDS:
        return "text"
    if field == "tags":
        return "tags"
    if field == "complexity":
        return "number"
    if field.startswith("metadata.") and len(field) > len("metadata."):
        return "any"
    return None


class Node(BaseModel):
    """Base of every IR node: frozen, and located by ``span``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    span: Span


class LiteralNode(Node):
    """A node holding literal values, each located by :attr:`value_spans`.

    Equality and hashing look at the fields only (``span`` included): the literal spans are
    a private attribute, so two nodes that differ only in them are equal and hash alike.
    """

    _value_spans: tuple[Span, ...] = PrivateAttr(default=())

    @property
    def value_spans(self) -> tuple[Span, ...]:
        """Where each literal value was written (same order as the values), or ``()``."""
        return self._value_spans

    def literal_count(self) -> int:
        """How many literal values the node holds (the length ``value_spans`` must have)."""
        return 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *self.__dict__.values()))


_L = TypeVar("_L", bound=LiteralNode)


def with_value_spans(node: _L, spans: Sequence[Span]) -> _L:
    """``node`` with the spans of its literal values recorded, in place (the parser does
    this once, while it builds the node); ``spans`` must match the values one to one.

    >>> from modec.diagnostics import Span
    >>> at = Span.point("m.yaml", 3, 20)
    >>> node = with_value_spans(
    ...     TextMatch(span=at, field="title", op="contains", quantifier="one", values=("x",)),
    ...     [at])
    >>> node.value_spans == (at,), node == TextMatch(
    ...     span=at, field="title", op="contains", quantifier="one", values=("x",))
    (True, True)
    """
    spans = tuple(spans)
    if len(spans) != node.literal_count():
        raise ValueError(f"{len(spans)} spans for {node.literal_count()} literal values")
    node._value_spans = spans
    return node


class Const(Node):
    """``true`` or ``false`` (also the result of constant folding)."""

    kind: Literal["const"] = "const"
    value: bool


class Not(Node):
    kind: Literal["not"] = "not"
    operand: Expr


class And(Node):
    """Conjunction of two or more operands (flattened: no ``And`` directly inside)."""

    kind: Literal["and"] = "and"
    operands: tuple[Expr, ...]


class Or(Node):
    """Disjunction of two or more operands (flattened: no ``Or`` directly inside)."""

    kind: Literal["or"] = "or"
    operands: tuple[Expr, ...]


class TextMatch(LiteralNode):
    """``F contains|mentions|startswith|endswith`` one value, ``any(...)`` or ``all(...)``.

    Case-insensitive through ``str.lower()`` on both sides. ``contains`` is substring search
    (on ``tags``: equality with some element); ``mentions`` matches whole words (Unicode word
    boundaries); ``startswith``/``endswith`` take one value (``quantifier == "one"``).
    ``values`` keep the author's spelling; lower-casing happens when the table is built.
    ``value_spans[i]`` is where ``values[i]`` was written (the quoted string, quotes included).
    """

    kind: Literal["text"] = "text"
    field: str
    op: Literal["contains", "mentions", "startswith", "endswith"]
    quantifier: Literal["one", "any", "all"]
    values: tuple[str, ...]

    def literal_count(self) -> int:
        return len(self.values)


class RegexMatch(LiteralNode):
    """``F matches /pattern/flags``; RE2 semantics (linear time), flags a subset of ``ims``.

    ``value_spans`` has one span: the ``/pattern/flags`` literal.
    """

    kind: Literal["regex"] = "regex"
    field: str
    pattern: str
    flags: str = ""


class Compare(LiteralNode):
    """``F op value`` for ``== != < <= > >=``; text compares after ``str.lower()``.

    ``value_spans`` has one span: the literal (string, number, bool or level name).
    """

    kind: Literal["compare"] = "compare"
    field: str
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    value: Scalar


class InList(LiteralNode):
    """``F in [v, ...]``: equal to one of the values (text after ``str.lower()``).

    ``value_spans[i]`` is where ``values[i]`` was written.
    """

    kind: Literal["in"] = "in"
    field: str
    values: tuple[Scalar, ...]

    def literal_count(self) -> int:
        return len(self.values)


Expr = Annotated[
    Const | Not | And | Or | TextMatch | RegexMatch | Compare | InList,
    Field(discriminator="kind"),
]

for _model in (Not, And, Or):
    _model.model_rebuild()
