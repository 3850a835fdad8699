"""Build the resolved IR (:class:`~modec.compiler.ir.ModeFile`) from located YAML nodes.

Schema problems become diagnostics at the exact key or value; nothing is silently defaulted.
``extends`` is resolved here: a named file next to the extending file, then a bundled mode.
Each file contributes a *layer*; layers merge parent first, child over parent:

* roles merge by name (a child's definition replaces the parent's, in the parent's place),
  except that ``task_orchestrator.specialist_roles`` entries merge key by key;
* rules merge by task type name the same way; new ones follow in file order;
* ``mode_configuration`` and ``mode_metadata`` merge key by key; ``validation_rules`` and
  ``tests`` are taken whole from the nearest file that gives them.

Finally, unless ``builtin_task_types: false``, builtin task types the mode does not mention
are added as implicit rules so that they still classify.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from modec.compiler.ir import (
    BUILTIN_KEYWORDS,
    COMPLEXITY_NAMES,
    FALLBACK_TYPE,
    Expr,
    ModeConfiguration,
    ModeFile,
    ModeMetadata,
    Role,
    Rule,
    Scalar,
    SourceRef,
    TaskSpec,
    TestExample,
    TextMatch,
    ValidationRules,
)
from modec.compiler.source import LoadResult, YNode, load_path
from modec.diagnostics import Diagnostic, Span
from modec.grammar import parse_condition

__all__ = ["BuildResult", "build_mode", "bundled_mode_names", "bundled_mode_path"]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_FLOAT = "tag:yaml.org,2002:float"

_TOP_SECTIONS: Final = frozenset(
    {"mode_metadata", "mode_configuration", "task_routing_rules", "validation_rules", "tests"}
)
_ROLE_KEYS: Final = frozenset(
    {"role_definition", "expertise", "approach", "output_format", "specialist_roles"}
)
_RULE_KEYS: Final = frozenset(
    {
        "required_specialist", "secondary_review", "complexity_boost", "parallel_execution",
        "priority", "keywords", "match", "field", "when",
    }
)
_KEYWORD_FIELDS: Final = ("title", "description", "text", "tags")
_HIT_POLICIES: Final = ("first", "unique", "collect")
_MAX_EXTENDS_DEPTH: Final = 16
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def bundled_mode_names() -> list[str]:
    """File names of the modes shipped inside the package, sorted."""
    root = resources.files("modec") / "modes"
    return sorted(p.name for p in root.iterdir() if p.name.endswith((".yaml", ".yml")))


def bundled_mode_path(name: str) -> Path | None:
    """The on-disk path of a bundled mode, or None when no bundled mode has that name."""
    if name not in bundled_mode_names():
        return None
    with resources.as_file(resources.files("modec") / "modes" / name) as p:
        return Path(p)


# --------------------------------------------------------------------------- context


@dataclass
class _Ctx:
    diags: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, span: Span | None, message: str, hint: str | None = None) -> None:
        self.diags.append(Diagnostic.make(code, span, message, hint))

    def type_error(self, node: YNode, what: str, expected: str) -> None:
        self.error("MC101", node.span, f"{what} must be {expected}, found {_describe(node)}")


def _describe(node: YNode) -> str:
    if node.kind == "map":
        return "a mapping"
    if node.kind == "seq":
        return "a list"
    if node.tag == _NULL:
        return "nothing (null)"
    if node.tag == _BOOL:
        return f"the boolean {node.raw}"
    if node.tag in (_INT, _FLOAT):
        return f"the number {node.raw}"
    return f"the text {node.raw!r}" if node.raw is not None and len(node.raw) < 40 else "text"


def _is_null(node: YNode) -> bool:
    return node.kind == "scalar" and node.tag == _NULL


def _entries(node: YNode) -> Iterator[tuple[str, YNode, YNode]]:
    """Mapping entries with string keys (the loader rejects non-scalar keys)."""
    for k, v in node.items:
        yield (str(k.raw if k.raw is not None else k.value), k, v)


def _text(ctx: _Ctx, node: YNode, what: str) -> str | None:
    """A descriptive text value: any scalar is taken as written; mappings and lists are not."""
    if node.kind != "scalar" or _is_null(node):
        ctx.type_error(node, what, "text")
        return None
    return node.raw if node.tag == _STR else str(node.raw)


def _name(ctx: _Ctx, node: YNode, what: str) -> str | None:
    """A role or type name: must be a string scalar."""
    if node.kind != "scalar" or node.tag != _STR:
        ctx.type_error(node, what, "a name (text)")
        return None
    return str(node.value)


def _texts(ctx: _Ctx, node: YNode, what: str) -> tuple[str, ...] | None:
    if _is_null(node):
        return ()
    if node.kind != "seq":
        ctx.type_error(node, what, "a list of text")
        return None
    out: list[str] = []
    for child in node.children:
        value = _text(ctx, child, f"each item of {what}")
        if value is not None:
            out.append(value)
    return tuple(out)


def _names(ctx: _Ctx, node: YNode, what: str) -> list[tuple[str, Span]] | None:
    """A name or a list of names, each with its span."""
    if node.kind == "scalar" and node.tag == _STR:
        return [(str(node.value), node.span)]
    if node.kind != "seq":
        ctx.type_error(node, what, "a role name or a list of role names")
        return None
    out: list[tuple[str, Span]] = []
    for child in node.children:
        value = _name(ctx, child, f"each item of {what}")
        if value is not None:
            out.append((value, child.span))
    return out


def _int(ctx: _Ctx, node: YNode, what: str) -> int | None:
    if node.kind != "scalar" or node.tag != _INT or isinstance(node.value, bool):
        ctx.type_error(node, what, "a whole number")
        return None
    assert isinstance(node.value, int)
    return node.value


def _bool(ctx: _Ctx, node: YNode, what: str) -> bool | None:
    if node.kind != "scalar" or node.tag != _BOOL:
        ctx.type_error(node, what, "true or false")
        return None
    return bool(node.value)


def _complexity(ctx: _Ctx, node: YNode, what: str) -> int | None:
    if node.kind == "scalar" and node.tag == _INT and not isinstance(node.value, bool):
        assert isinstance(node.value, int)
        if 1 <= node.value <= 5:
            return node.value
    elif node.kind == "scalar" and node.tag == _STR and str(node.value) in COMPLEXITY_NAMES:
        return COMPLEXITY_NAMES[str(node.value)]
    ctx.error(
        "MC104",
        node.span,
        f"{what} must be a complexity level, found {_describe(node)}",
        hint="use 1–5 or one of " + ", ".join(COMPLEXITY_NAMES),
    )
    return None


def _plain(node: YNode) -> Any:
    """Free settings: a JSON-compatible copy of the node's value."""
    if node.kind == "map":
        return {k: _plain(v) for k, _, v in _entries(node)}
    if node.kind == "seq":
        return [_plain(c) for c in node.children]
    value = node.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return node.raw


def _choice(ctx: _Ctx, node: YNode, what: str, choices: tuple[str, ...]) -> str | None:
    if node.kind == "scalar" and node.tag == _STR and str(node.value) in choices:
        return str(node.value)
    ctx.error(
        "MC104", node.span, f"{what} must be one of {', '.join(choices)}, found {_describe(node)}"
    )
    return None


# --------------------------------------------------------------------------- layers


@dataclass
class _Layer:
    """What one file says, before merging with what it extends."""

    path: str
    source: SourceRef
    span: Span
    metadata: dict[str, tuple[Any, Span]] = field(default_factory=dict)
    extends: list[tuple[str, Span]] = field(default_factory=list)
    configuration: dict[str, tuple[Any, Span]] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    rules_span: Span | None = None
    validation: ValidationRules | None = None
    tests: tuple[TestExample, ...] | None = None


def _build_metadata(ctx: _Ctx, layer: _Layer, node: YNode) -> None:
    if node.kind != "map":
        ctx.type_error(node, "mode_metadata", "a mapping")
        return
    for key, _, value in _entries(node):
        if _is_null(value):
            continue
        if key == "extends":
            names = _names(ctx, value, "mode_metadata.extends")
            for name, span in names or []:
                if not _SAFE_NAME.match(name) or ".." in name:
                    ctx.error(
                        "MC104",
                        span,
                        f"extends names a mode file, not a path: {name!r}",
                        hint="name a file next to this one or a bundled mode, "
                        "e.g. extends: default_roles.yaml",
                    )
                else:
                    layer.extends.append((name, span))
        elif key == "compatible_versions":
            if value.kind == "seq":
                items = tuple(t for c in value.children if (t := _text(ctx, c, key)) is not None)
            else:
                items = (t,) if (t := _text(ctx, value, key)) is not None else ()
            layer.metadata[key] = (items, value.span)
        elif key in ("name", "description", "version", "created_by", "created_at"):
            text = _text(ctx, value, f"mode_metadata.{key}")
            if text is not None:
                layer.metadata[key] = (text, value.span)
        else:
            layer.metadata[key] = (_plain(value), value.span)


def _build_configuration(ctx: _Ctx, layer: _Layer, node: YNode) -> None:
    if node.kind != "map":
        ctx.type_error(node, "mode_configuration", "a mapping")
        return
    for key, _, value in _entries(node):
        what = f"mode_configuration.{key}"
        parsed: Any
        if _is_null(value):
            continue
        if key == "default_complexity":
            parsed = _complexity(ctx, value, what)
        elif key in ("auto_task_routing", "builtin_task_types"):
            parsed = _bool(ctx, value, what)
        elif key == "max_subtask_depth":
            parsed = _int(ctx, value, what)
            if parsed is not None and parsed < 0:
                ctx.error("MC104", value.span, f"{what} must not be negative")
                parsed = None
        elif key == "progress_aggregation":
            parsed = _text(ctx, value, what)
        elif key == "hit_policy":
            parsed = _choice(ctx, value, what, _HIT_POLICIES)
        elif key == "default_specialist":
            parsed = _name(ctx, value, what)
        else:
            layer.configuration[key] = (_plain(value), value.span)
            continue
        if parsed is not None:
            layer.configuration[key] = (parsed, value.span)


def _build_role(ctx: _Ctx, name: str, knode: YNode, node: YNode) -> Role | None:
    if node.kind != "map":
        ctx.type_error(node, f"role {name!r}", "a mapping with role_definition")
        return None
    fields: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    specialists: dict[str, str] = {}
    specialist_spans: dict[str, Span] = {}
    for key, _, value in _entries(node):
        what = f"{name}.{key}"
        if key == "role_definition":
            fields[key] = _text(ctx, value, what)
        elif key == "output_format":
            if not _is_null(value):
                fields[key] = _text(ctx, value, what)
        elif key in ("expertise", "approach"):
            items = _texts(ctx, value, what)
            if items is not None:
                fields[key] = items
        elif key == "specialist_roles" and name == "task_orchestrator":
            if _is_null(value):
                continue
            if value.kind != "map":
                ctx.type_error(value, what, "a mapping of role name to description")
                continue
            for sname, sknode, svalue in _entries(value):
                desc = "" if _is_null(svalue) else _text(ctx, svalue, f"{what}.{sname}")
                specialists[sname] = desc or ""
                specialist_spans[sname] = sknode.span
        else:
            extras[key] = _plain(value)
    if "role_definition" not in fields:
        ctx.error(
            "MC102",
            knode.span,
            f"role {name!r} has no role_definition",
            hint="every role needs `role_definition: \"You are ...\"`",
        )
        return None
    if fields["role_definition"] is None:
        return None
    return Role(
        span=node.span,
        name=name,
        name_span=knode.span,
        role_definition=fields["role_definition"],
        expertise=fields.get("expertise", ()),
        approach=fields.get("approach", ()),
        output_format=fields.get("output_format"),
        specialist_roles=specialists,
        specialist_spans=specialist_spans,
        extras=extras,
    )


def _keywords_condition(
    ctx: _Ctx, node: YNode, field_name: str, match: str, span: Span
) -> Expr | None:
    if node.kind != "seq":
        if node.kind == "scalar" and node.tag == _STR:
            ctx.error(
                "MC101",
                node.span,
                "keywords must be a list of text, found a single text",
                hint=f"write keywords: [{node.raw}]",
            )
        else:
            ctx.type_error(node, "keywords", "a list of text")
        return None
    if not node.children:
        ctx.error("MC305", node.span, "keywords is empty: this rule could never match",
                  hint="list at least one keyword, or remove the rule")
        return None
    values: list[str] = []
    seen: dict[str, Span] = {}
    for child in node.children:
        if child.kind != "scalar" or _is_null(child):
            ctx.type_error(child, "each keyword", "text")
            continue
        word = child.raw if child.tag == _STR else str(child.raw)
        assert word is not None
        if not word.strip():
            ctx.error("MC303", child.span, "empty keyword: it would match every task",
                      hint="remove it, or use `when: 'true'` to match everything on purpose")
            continue
        lowered = word.lower()
        if lowered in seen:
            first = seen[lowered]
            ctx.error("MC304", child.span, f"duplicate keyword {word!r}",
                      hint=f"already listed at line {first.line}, column {first.column}")
            continue
        seen[lowered] = child.span
        values.append(word)
    if not values:
        return None
    op = "mentions" if match == "word" else "contains"
    return TextMatch(span=span, field=field_name, op=op, quantifier="any", values=tuple(values))


def _builtin_condition(name: str, span: Span) -> TextMatch:
    return TextMatch(
        span=span, field="description", op="contains", quantifier="any",
        values=BUILTIN_KEYWORDS[name],
    )


def _build_rule(ctx: _Ctx, name: str, knode: YNode, node: YNode) -> Rule | None:
    if _is_null(node):
        node_entries: list[tuple[str, YNode, YNode]] = []
    elif node.kind != "map":
        ctx.type_error(node, f"routing rule {name!r}", "a mapping")
        return None
    else:
        node_entries = list(_entries(node))
    given = {key: (k, v) for key, k, v in node_entries}
    kw: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    for key, _, value in node_entries:
        what = f"{name}.{key}"
        if key not in _RULE_KEYS:
            extras[key] = _plain(value)
        elif _is_null(value):
            continue
        elif key == "required_specialist":
            if (spec := _name(ctx, value, what)) is not None:
                kw["required_specialist"] = spec
                kw["required_specialist_span"] = value.span
        elif key == "secondary_review":
            names = _names(ctx, value, what)
            if names is not None:
                kw["secondary_review"] = tuple(n for n, _ in names)
                kw["secondary_review_spans"] = tuple(s for _, s in names)
        elif key in ("complexity_boost", "priority"):
            if (number := _int(ctx, value, what)) is not None:
                if key == "complexity_boost" and not -4 <= number <= 4:
                    ctx.error("MC104", value.span, f"{what} must be between -4 and 4")
                else:
                    kw[key] = number
        elif key == "parallel_execution" and (flag := _bool(ctx, value, what)) is not None:
            kw[key] = flag

    span = node.span if node.kind == "map" else knode.span
    condition: Expr | None = None
    source: str
    match = "substring"
    has_when = "when" in given and not _is_null(given["when"][1])
    has_keywords = "keywords" in given and not _is_null(given["keywords"][1])
    broken = False
    if "match" in given and not _is_null(given["match"][1]):
        m = _choice(ctx, given["match"][1], f"{name}.match", ("substring", "word"))
        match = m or "substring"
        broken |= m is None
    field_name = "description"
    if "field" in given and not _is_null(given["field"][1]):
        f = _choice(ctx, given["field"][1], f"{name}.field", _KEYWORD_FIELDS)
        field_name = f or "description"
        broken |= f is None
    if field_name == "tags" and match == "word":
        ctx.error("MC104", given["match"][1].span, "match: word does not apply to tags",
                  hint="tags are compared whole; drop `match: word`")
        broken = True
    if has_when and has_keywords:
        ctx.error(
            "MC301",
            given["when"][0].span,
            f"rule {name!r} gives both `when` and `keywords`",
            hint="put the keywords into the condition: "
            "`when: 'description contains any(\"a\", \"b\") and ...'`",
        )
        return None
    if not has_keywords:
        for key in ("field", "match"):
            if key in given:
                ctx.error("MC306", given[key][0].span,
                          f"`{key}` only applies to `keywords`, which rule {name!r} does not give")
                broken = True
    if has_when:
        wnode = given["when"][1]
        if wnode.kind != "scalar" or wnode.tag != _STR:
            ctx.type_error(wnode, f"{name}.when", "a condition (text)")
            return None
        expr, diags = parse_condition(str(wnode.raw), wnode.locate)
        ctx.diags.extend(diags)
        if expr is None:
            return None
        condition, source = expr, "when"
    elif has_keywords:
        condition = _keywords_condition(ctx, given["keywords"][1], field_name, match, span)
        if condition is None:
            return None
        source = "keywords"
    elif name in BUILTIN_KEYWORDS:
        condition, source = _builtin_condition(name, knode.span), "builtin"
    elif name == FALLBACK_TYPE:
        source = "fallback"
    else:
        ctx.error(
            "MC302",
            knode.span,
            f"rule {name!r} has no condition: only builtin task types "
            f"({', '.join(BUILTIN_KEYWORDS)}) and {FALLBACK_TYPE} may omit one",
            hint="add `keywords: [...]` or `when: '...'`",
        )
        return None
    if broken:
        return None
    return Rule(
        span=span,
        name=name,
        name_span=knode.span,
        condition=condition,
        source=source,
        match=match,
        extras=extras,
        **kw,
    )


def _build_validation(ctx: _Ctx, node: YNode) -> ValidationRules | None:
    if node.kind != "map":
        ctx.type_error(node, "validation_rules", "a mapping")
        return None
    kw: dict[str, Any] = {}
    for key, knode, value in _entries(node):
        what = f"validation_rules.{key}"
        if _is_null(value):
            continue
        if key in ("required_roles", "optional_roles"):
            names = _names(ctx, value, what)
            if names is not None:
                kw[key] = tuple(n for n, _ in names)
                if key == "required_roles":
                    kw["required_role_spans"] = tuple(s for _, s in names)
        elif key in ("minimum_specialist_count", "maximum_specialist_count"):
            number = _int(ctx, value, what)
            if number is not None and number < 0:
                ctx.error("MC104", value.span, f"{what} must not be negative")
            elif number is not None:
                kw[key] = number
                kw.setdefault("bound_spans", {})[key] = value.span
        else:
            ctx.error("MC103", knode.span, f"unknown key {key!r} in validation_rules is ignored",
                      hint="known keys: required_roles, optional_roles, "
                      "minimum_specialist_count, maximum_specialist_count")
    lo, hi = kw.get("minimum_specialist_count"), kw.get("maximum_specialist_count")
    if lo is not None and hi is not None and lo > hi:
        ctx.error("MC104", node.span,
                  f"minimum_specialist_count ({lo}) exceeds maximum_specialist_count ({hi})")
    return ValidationRules(span=node.span, **kw)


def _build_task(ctx: _Ctx, node: YNode) -> TaskSpec | None:
    if node.kind == "scalar" and node.tag == _STR:
        return TaskSpec(span=node.span, description=str(node.value))
    if node.kind != "map":
        ctx.error("MC501", node.span, f"a test task must be text or a mapping, found "
                  f"{_describe(node)}")
        return None
    kw: dict[str, Any] = {}
    ok = True
    for key, knode, value in _entries(node):
        if key in ("title", "description"):
            text = _text(ctx, value, f"task.{key}")
            ok &= text is not None
            kw[key] = text
        elif key == "tags":
            tags = _texts(ctx, value, "task.tags")
            ok &= tags is not None
            kw[key] = tags
        elif key == "complexity":
            level = _complexity(ctx, value, "task.complexity")
            ok &= level is not None
            kw[key] = level
        elif key == "metadata":
            if value.kind != "map":
                ctx.type_error(value, "task.metadata", "a mapping")
                ok = False
                continue
            meta: dict[str, Scalar] = {}
            for mkey, _, mvalue in _entries(value):
                if mvalue.kind != "scalar" or _is_null(mvalue):
                    ctx.type_error(mvalue, f"task.metadata.{mkey}", "text, a number or a bool")
                    ok = False
                    continue
                scalar = mvalue.value
                meta[mkey] = scalar if isinstance(scalar, bool | int | float | str) else str(
                    mvalue.raw
                )
            kw[key] = meta
        else:
            ctx.error("MC501", knode.span, f"unknown task field {key!r}",
                      hint="a task has title, description, tags, complexity and metadata")
            ok = False
    return TaskSpec(span=node.span, **kw) if ok else None


def _build_tests(ctx: _Ctx, node: YNode) -> tuple[TestExample, ...] | None:
    if node.kind != "seq":
        ctx.type_error(node, "tests", "a list of examples")
        return None
    out: list[TestExample] = []
    for item in node.children:
        if item.kind != "map":
            ctx.error("MC501", item.span, "a test example must be a mapping with `task` and "
                      "`expect_type` and/or `expect_specialist`")
            continue
        given = {key: v for key, _, v in _entries(item)}
        unknown = [(k, kn) for k, kn, _ in _entries(item)
                   if k not in ("task", "expect_type", "expect_specialist")]
        for key, knode in unknown:
            ctx.error("MC501", knode.span, f"unknown key {key!r} in a test example",
                      hint="a test example has task, expect_type and expect_specialist")
        if "task" not in given:
            ctx.error("MC501", item.span, "test example has no `task`")
            continue
        if "expect_type" not in given and "expect_specialist" not in given:
            ctx.error("MC501", item.span,
                      "test example expects nothing: give expect_type and/or expect_specialist")
            continue
        task = _build_task(ctx, given["task"])
        expect_type = _name(ctx, given["expect_type"], "expect_type") if (
            "expect_type" in given) else None
        expect_spec = _name(ctx, given["expect_specialist"], "expect_specialist") if (
            "expect_specialist" in given) else None
        if task is None or unknown:
            continue
        out.append(TestExample(span=item.span, task=task, expect_type=expect_type,
                               expect_specialist=expect_spec))
    return tuple(out)


def _build_layer(ctx: _Ctx, loaded: LoadResult) -> _Layer:
    assert loaded.root is not None and loaded.source is not None
    root = loaded.root
    layer = _Layer(
        path=loaded.source.path,
        source=SourceRef(path=loaded.source.path, sha256=loaded.source.sha256),
        span=root.span,
    )
    for key, knode, value in _entries(root):
        if key == "mode_metadata":
            _build_metadata(ctx, layer, value)
        elif key == "mode_configuration":
            _build_configuration(ctx, layer, value)
        elif key == "task_routing_rules":
            layer.rules_span = knode.span
            if _is_null(value):
                continue
            if value.kind != "map":
                ctx.type_error(value, "task_routing_rules", "a mapping of task type to rule")
                continue
            for name, rknode, rvalue in _entries(value):
                rule = _build_rule(ctx, name, rknode, rvalue)
                if rule is not None:
                    layer.rules[name] = rule
        elif key == "validation_rules":
            if not _is_null(value):
                layer.validation = _build_validation(ctx, value)
        elif key == "tests":
            if not _is_null(value):
                layer.tests = _build_tests(ctx, value)
        elif value.kind == "map" and (
            key == "task_orchestrator" or value.get("role_definition") is not None
            or any(k in _ROLE_KEYS for k, _, _ in _entries(value))
        ):
            role = _build_role(ctx, key, knode, value)
            if role is not None:
                layer.roles[key] = role
        elif key == "task_orchestrator":
            ctx.type_error(value, "task_orchestrator", "a role (a mapping with role_definition)")
        else:
            ctx.error(
                "MC103",
                knode.span,
                f"unknown top-level key {key!r} is ignored: it is neither a section nor a role",
                hint="a role needs `role_definition`; sections are "
                + ", ".join(sorted(_TOP_SECTIONS)),
            )
    return layer


# --------------------------------------------------------------------------- extends


class _OutsideDirectory(Exception):
    """An extends name whose file is a symlink leading out of the extending file's folder."""


def _resolve_extends(name: str, base_dir: Path) -> Path | None:
    """The file ``name`` names next to the extending file, else the bundled mode, else None.

    A name is not a path: a local symlink that resolves outside ``base_dir`` would let a mode
    read any file on the machine (and echo it in diagnostics), so it raises
    :class:`_OutsideDirectory` instead.
    """
    local = base_dir / name
    if local.is_file():
        if not local.resolve().is_relative_to(base_dir.resolve()):
            raise _OutsideDirectory(name)
        return local
    return bundled_mode_path(name)


def _merge(parent: _Layer, child: _Layer) -> _Layer:
    merged = _Layer(path=child.path, source=child.source, span=child.span)
    merged.metadata = {**parent.metadata, **child.metadata}
    merged.configuration = {**parent.configuration, **child.configuration}
    merged.extends = child.extends
    merged.roles = dict(parent.roles)
    for name, role in child.roles.items():
        old = merged.roles.get(name)
        if old is not None and old.specialist_roles and name == "task_orchestrator":
            role = role.model_copy(
                update={
                    "specialist_roles": {**old.specialist_roles, **role.specialist_roles},
                    "specialist_spans": {**old.specialist_spans, **role.specialist_spans},
                }
            )
        merged.roles[name] = role
    merged.rules = {**parent.rules, **child.rules}
    merged.rules_span = child.rules_span or parent.rules_span
    merged.validation = child.validation or parent.validation
    merged.tests = child.tests if child.tests is not None else parent.tests
    return merged


@dataclass(frozen=True)
class BuildResult:
    """The resolved mode (None when building failed), the diagnostics, and source texts."""

    mode: ModeFile | None
    diagnostics: list[Diagnostic]
    sources: dict[str, str]


Loader = Callable[[Path, str], LoadResult]


def _default_loader(path: Path, display: str) -> LoadResult:
    return load_path(path, display=display)


def _load_layer(
    ctx: _Ctx,
    loaded: LoadResult,
    base_dir: Path,
    chain: tuple[str, ...],
    sources: dict[str, str],
    refs: list[SourceRef],
    loader: Loader,
) -> _Layer | None:
    """Build one file's layer merged over everything it extends (depth first)."""
    assert loaded.source is not None
    layer = _build_layer(ctx, loaded)
    refs.append(layer.source)
    base: _Layer | None = None
    for name, span in layer.extends:
        try:
            target = _resolve_extends(name, base_dir)
        except _OutsideDirectory:
            ctx.error("MC106", span,
                      f"extended mode {name!r} is a link to a file outside this folder",
                      hint="extends names a mode file next to this one or a bundled mode; "
                      "copy the file here instead of linking to it")
            continue
        if target is None:
            ctx.error("MC106", span, f"extended mode {name!r} not found",
                      hint="it is looked up next to this file, then among the bundled modes "
                      "(`modec modes` lists them)")
            continue
        key = str(target.resolve())
        if key in chain or len(chain) >= _MAX_EXTENDS_DEPTH:
            names = [Path(p).name for p in (*chain, key)]
            ctx.error("MC107", span, "extends cycle: " + " -> ".join(names),
                      hint="remove one of the extends entries in this chain")
            continue
        display = (name if bundled_mode_path(name) == target
                   else str(Path(loaded.source.path).parent / name))
        parent_loaded = loader(target, display)
        if parent_loaded.source is not None:
            sources[parent_loaded.source.path] = parent_loaded.source.text
        parent_ctx = _Ctx()
        parent_ctx.diags.extend(parent_loaded.diagnostics)
        parent = None
        if parent_loaded.root is not None and parent_loaded.ok:
            parent = _load_layer(parent_ctx, parent_loaded, target.parent, (*chain, key),
                                 sources, refs, loader)
        parent_errors = [d for d in parent_ctx.diags if d.is_error]
        if parent_errors or parent is None:
            ctx.diags.extend(parent_errors)
            ctx.error("MC108", span, f"extended mode {name!r} has errors",
                      hint=f"run `modec lint` on {display}")
            continue
        base = parent if base is None else _merge(base, parent)
    return layer if base is None else _merge(base, layer)


# --------------------------------------------------------------------------- finalize


def _metadata(layer: _Layer, extends: tuple[str, ...]) -> ModeMetadata:
    known = {"name", "description", "version", "created_by", "created_at", "compatible_versions"}
    kw = {k: v for k, (v, _) in layer.metadata.items() if k in known}
    extras = {k: v for k, (v, _) in layer.metadata.items() if k not in known}
    return ModeMetadata(span=layer.span, extends=extends, extras=extras, **kw)


def _configuration(layer: _Layer) -> ModeConfiguration:
    known = set(ModeConfiguration.model_fields) - {"span", "settings", "default_specialist_span"}
    kw = {k: v for k, (v, _) in layer.configuration.items() if k in known}
    settings = {k: v for k, (v, _) in layer.configuration.items() if k not in known}
    if "default_specialist" in layer.configuration:
        kw["default_specialist_span"] = layer.configuration["default_specialist"][1]
    return ModeConfiguration(span=layer.span, settings=settings, **kw)


def _finalize(layer: _Layer, refs: list[SourceRef]) -> ModeFile:
    configuration = _configuration(layer)
    rules = list(layer.rules.values())
    if configuration.builtin_task_types:
        implicit_span = layer.rules_span or Span.point(layer.path, 1, 1)
        for name in BUILTIN_KEYWORDS:
            if name not in layer.rules:
                rules.append(
                    Rule(span=implicit_span, name=name, name_span=implicit_span,
                         condition=_builtin_condition(name, implicit_span), source="builtin",
                         implicit=True)
                )
    unique_refs = list({(r.path, r.sha256): r for r in refs}.values())
    return ModeFile(
        span=layer.span,
        path=layer.path,
        sources=tuple(unique_refs),
        metadata=_metadata(layer, tuple(n for n, _ in layer.extends)),
        configuration=configuration,
        roles=layer.roles,
        rules=tuple(rules),
        validation=layer.validation,
        tests=layer.tests or (),
    )


def build_mode(
    loaded: LoadResult, file_path: Path | None = None, loader: Loader | None = None
) -> BuildResult:
    """Build the resolved IR of a loaded file; ``extends`` resolves next to ``file_path``.

    The result's ``mode`` is None when any error was found (every error is in
    ``diagnostics``, which excludes the loader's own); warnings accompany a built mode.
    ``sources`` maps each display path read (the file and everything it extends) to its
    text, for rendering snippets.
    """
    ctx = _Ctx()
    sources: dict[str, str] = {}
    if loaded.source is not None:
        sources[loaded.source.path] = loaded.source.text
    if loaded.root is None or loaded.source is None or not loaded.ok:
        return BuildResult(None, ctx.diags, sources)
    real = (file_path or Path(loaded.source.path)).resolve()
    directory = real.parent
    refs: list[SourceRef] = []
    chain = (str(real),)
    layer = _load_layer(ctx, loaded, directory, chain, sources, refs,
                        loader or _default_loader)
    if layer is None or any(d.is_error for d in ctx.diags):
        return BuildResult(None, ctx.diags, sources)
    return BuildResult(_finalize(layer, refs), ctx.diags, sources)
