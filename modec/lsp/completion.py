"""Completion: keys from the file format's schema, role names, task types, the `when:` language.

Keys come from the JSON Schema that ``modec schema`` prints (generated from the compiler's
surface model), so completion never drifts from what the compiler accepts. Role names and task
types come from the buffer's last compiled snapshot, or from the raw tree when it does not
build. Inside ``when:`` the items follow the grammar: fields, the operators valid for the
field just typed, complexity names, ``and``/``or``/``not``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any, Final

from lsprotocol import types as lsp

from modec.compiler.ir import BUILTIN_KEYWORDS, COMPLEXITY_NAMES, FALLBACK_TYPE, field_kind
from modec.compiler.schema import mode_file_schema
from modec.grammar.checks import FIELDS
from modec.lsp.context import CursorContext, cursor_context
from modec.lsp.documents import DocumentAnalysis

__all__ = ["ROLE_KEYS", "complete", "schema_keys", "schema_node"]

#: Keys whose value (or list elements) name a role.
ROLE_KEYS: Final = frozenset(
    {
        "required_specialist",
        "secondary_review",
        "default_specialist",
        "expect_specialist",
        "required_roles",
        "optional_roles",
    }
)
_TASK_TYPE_KEYS: Final = frozenset({"expect_type"})

_TEXT_OPERATORS: Final = (
    "contains",
    "mentions",
    "matches",
    "startswith",
    "endswith",
    "==",
    "!=",
    "in",
)
_OPERATORS: Final[dict[str, tuple[str, ...]]] = {
    "text": _TEXT_OPERATORS,
    "tags": ("contains",),
    "number": ("==", "!=", "<", "<=", ">", ">=", "in"),
    "any": (
        "contains",
        "mentions",
        "matches",
        "startswith",
        "endswith",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "in",
    ),
}
_OPERATOR_DOCS: Final[dict[str, str]] = {
    "contains": "substring after `str.lower()` (on `tags`: element equality); "
    '`contains any("a", "b")`, `contains all(...)`',
    "mentions": "whole word (Unicode word boundaries); `mentions any(...)`, `mentions all(...)`",
    "matches": "RE2 regular expression `/re/flags` on the original text (linear time)",
    "startswith": "prefix after `str.lower()`",
    "endswith": "suffix after `str.lower()`",
    "in": "`F in [v, ...]`: equal to one of the values",
}
_FIELD_DOCS: Final[dict[str, str]] = {
    "title": "text: the task's title",
    "description": "text: the task's description",
    "text": 'text: title + "\\n" + description',
    "tags": "list of text: element equality with `contains`",
    "complexity": "integer 1–5 (trivial, simple, moderate, complex, very_complex)",
    "metadata.": "metadata.KEY: text, number or bool; a missing key makes comparisons false",
}
_EXPR_TOKEN: Final = re.compile(
    r'"(?:[^"\\]|\\.)*"?|\'(?:[^\'\\]|\\.)*\'?|/(?:[^/\\]|\\.)*/?[a-z]*|[A-Za-z_][\w.\-]*'
    r"|==|!=|<=|>=|<|>|[()\[\],]|-?\d+(?:\.\d+)?"
)


# --------------------------------------------------------------------------- schema walking


@cache
def _schema() -> dict[str, Any]:
    return mode_file_schema()


def _resolve(node: Any, root: dict[str, Any]) -> list[dict[str, Any]]:
    """The object alternatives of a schema node ($ref, oneOf/anyOf/allOf flattened)."""
    if not isinstance(node, dict):
        return []
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return _resolve(target, root)
    out = [node]
    for combinator in ("oneOf", "anyOf", "allOf"):
        for alternative in node.get(combinator, ()):
            out.extend(_resolve(alternative, root))
    return out


def schema_node(path: Iterable[str]) -> list[dict[str, Any]]:
    """The schema alternatives at a key path (``-`` steps into sequence items)."""
    root = _schema()
    nodes = _resolve(root, root)
    for step in path:
        nxt: list[dict[str, Any]] = []
        for node in nodes:
            if step == "-":
                nxt.extend(_resolve(node.get("items"), root))
                continue
            props = node.get("properties", {})
            if step in props:
                nxt.extend(_resolve(props[step], root))
                continue
            for pattern in node.get("patternProperties", {}).values():
                nxt.extend(_resolve(pattern, root))
            extra = node.get("additionalProperties")
            if isinstance(extra, dict):
                nxt.extend(_resolve(extra, root))
        nodes = nxt
    return nodes


def schema_keys(path: Iterable[str]) -> dict[str, str]:
    """Known keys at a path, with their descriptions ('' when the schema gives none)."""
    keys: dict[str, str] = {}
    for node in schema_node(path):
        for name, sub in node.get("properties", {}).items():
            text = sub.get("description", "") if isinstance(sub, dict) else ""
            keys.setdefault(name, text)
    return keys


def _enum_values(path: Iterable[str]) -> list[str]:
    values: list[str] = []
    for node in schema_node(path):
        for value in node.get("enum", ()):
            if isinstance(value, str | bool | int) and str(value) not in values:
                values.append(str(value).lower() if isinstance(value, bool) else str(value))
        if node.get("type") == "boolean":
            values.extend(v for v in ("true", "false") if v not in values)
    return values


# --------------------------------------------------------------------------- items


def _item(
    label: str,
    kind: lsp.CompletionItemKind,
    detail: str = "",
    doc: str = "",
    insert: str | None = None,
) -> lsp.CompletionItem:
    return lsp.CompletionItem(
        label=label,
        kind=kind,
        detail=detail or None,
        documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=doc) if doc else None,
        insert_text=insert,
    )


def _plain(item: lsp.CompletionItem) -> lsp.CompletionItem:
    """The item with its documentation as plain text (for clients without Markdown)."""
    doc = item.documentation
    if isinstance(doc, lsp.MarkupContent):
        item.documentation = doc.value.replace("`", "")
    return item


def _role_items(analysis: DocumentAnalysis | None) -> Iterator[lsp.CompletionItem]:
    if analysis is None:
        return
    for name, role in sorted(analysis.roles().items()):
        first = role.role_definition.strip().splitlines()[0] if role.role_definition else ""
        yield _item(name, lsp.CompletionItemKind.Class, "role", first)


def _key_items(
    ctx: CursorContext, analysis: DocumentAnalysis | None
) -> Iterator[lsp.CompletionItem]:
    path = ctx.path
    if path == ("task_routing_rules",):
        present = {r.name for r in analysis.rules() if not r.implicit} if analysis else set()
        for name in (*BUILTIN_KEYWORDS, FALLBACK_TYPE):
            if name not in present:
                yield _item(
                    name, lsp.CompletionItemKind.Module, "builtin task type", insert=f"{name}:"
                )
        return
    if len(path) == 2 and path[1] == "specialist_roles":
        listed: set[str] = set()
        if analysis is not None and analysis.mode is not None:
            for role in analysis.mode.roles.values():
                listed.update(role.specialist_roles)
        for item in _role_items(analysis):
            if item.label not in listed and item.label != path[0]:
                item.insert_text = f"{item.label}: "
                yield item
        return
    for name, doc in sorted(schema_keys(path).items()):
        yield _item(name, lsp.CompletionItemKind.Property, "key", doc, insert=f"{name}: ")


def _value_items(
    ctx: CursorContext, analysis: DocumentAnalysis | None
) -> Iterator[lsp.CompletionItem]:
    key = ctx.key
    if key in ROLE_KEYS:
        yield from _role_items(analysis)
        return
    if key in _TASK_TYPE_KEYS:
        for name in analysis.task_types() if analysis else [FALLBACK_TYPE]:
            yield _item(name, lsp.CompletionItemKind.Module, "task type")
        return
    if key == "when":
        yield from expression_items(ctx.partial.lstrip("'\""))
        return
    if key == "extends":
        from modec.compiler.build import bundled_mode_names

        for name in bundled_mode_names():
            yield _item(name, lsp.CompletionItemKind.File, "bundled mode")
        return
    for value in _enum_values(ctx.full_path):
        yield _item(value, lsp.CompletionItemKind.EnumMember, "value")


def expression_items(prefix: str) -> Iterator[lsp.CompletionItem]:
    """Items for a ``when:`` expression whose text before the cursor is ``prefix``."""
    tokens = _EXPR_TOKEN.findall(prefix)
    if tokens and re.match(r"[\w.\-]", prefix[-1:]):
        tokens = tokens[:-1]  # the word being typed
    last = tokens[-1] if tokens else None
    before = tokens[-2] if len(tokens) > 1 else None
    keyword = lsp.CompletionItemKind.Keyword
    if last is not None and field_kind(last) is not None:
        for op in _OPERATORS[field_kind(last) or "any"]:
            yield _item(op, lsp.CompletionItemKind.Operator, "operator", _OPERATOR_DOCS.get(op, ""))
        return
    if last in ("contains", "mentions"):
        yield _item("any(...)", keyword, "any of the strings", insert='any("")')
        yield _item("all(...)", keyword, "all of the strings", insert='all("")')
        return
    if before == "complexity" and last in ("==", "!=", "<", "<=", ">", ">=", "in"):
        for name, level in COMPLEXITY_NAMES.items():
            yield _item(name, lsp.CompletionItemKind.EnumMember, f"complexity {level}")
        return
    if last is None or last in ("and", "or", "not", "("):
        for name in FIELDS:
            yield _item(name, lsp.CompletionItemKind.Field, "field", _FIELD_DOCS.get(name, ""))
        yield _item("metadata.", lsp.CompletionItemKind.Field, "field", _FIELD_DOCS["metadata."])
        yield _item("not", keyword, "negation")
        for constant in ("true", "false"):
            yield _item(constant, lsp.CompletionItemKind.Constant, "constant")
        return
    for word in ("and", "or"):
        yield _item(word, keyword, "connective")


def complete(
    analysis: DocumentAnalysis | None, text: str, line: int, column: int, markdown: bool = True
) -> list[lsp.CompletionItem]:
    """Completion items at 1-based ``line``/``column`` (code points) of ``text``.

    ``markdown`` is whether the client renders Markdown documentation (else plain text).
    """
    ctx = cursor_context(text, line, column)
    if ctx.block_key == "when":
        return list(expression_items(ctx.partial))
    if ctx.block_key is not None:
        return []
    items = _value_items(ctx, analysis) if ctx.in_value else _key_items(ctx, analysis)
    seen: set[str] = set()
    out = []
    for item in items:
        if item.label not in seen:
            seen.add(item.label)
            out.append(item if markdown else _plain(item))
    return out
