"""Build the resolved IR (:class:`~modec.compiler.ir.ModeFile`) from located YAML nodes.

Every section is validated against its model in :mod:`modec.compiler.surface` (the one
description of the format), which turns schema problems into diagnostics at the exact key or
value; the IR is built from the validated models, with the nodes' spans. Nothing is silently
defaulted. ``extends`` is resolved here, by :func:`modec.compiler.extends.resolve_extends`.
Each file contributes a *layer*; layers merge parent first, child over parent:

* roles merge by name (a child's definition replaces the parent's, in the parent's place),
  except that ``task_orchestrator.specialist_roles`` entries merge key by key;
* rules merge by task type name the same way; new ones follow in file order;
* ``mode_configuration`` and ``mode_metadata`` merge key by key; ``validation_rules`` and
  ``tests`` are taken whole from the nearest file that gives them.

Finally, the builtin task types the resolved mode does not mention are added as implicit rows
where DESIGN §2 says they exist: under ``builtin_task_types: true``, or when the setting is
absent and no rule has a condition of its own (no hidden rows beside an author's rules).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import BaseModel

from modec.compiler.extends import (
    MAX_NAME_LENGTH,
    bundled_mode_names,
    bundled_mode_path,
    resolve_extends,
)
from modec.compiler.ir import (
    BUILTIN_KEYWORDS,
    FALLBACK_TYPE,
    Expr,
    ModeConfiguration,
    ModeFile,
    ModeMetadata,
    Role,
    Rule,
    SourceRef,
    TaskSpec,
    TestExample,
    TextMatch,
    ValidationRules,
)
from modec.compiler.source import LoadResult, YNode, load_path
from modec.compiler.surface import (
    SECTIONS,
    ConfigurationSurface,
    MetadataSurface,
    OrchestratorSurface,
    RoleSurface,
    RuleSurface,
    Section,
    SurfaceModel,
    TestSurface,
    ValidationSurface,
    describe_node,
    is_extension,
    near_misses,
    unknown_key,
    validate_section,
)
from modec.diagnostics import Diagnostic, Edit, Fix, Span

__all__ = ["BuildResult", "build_mode", "bundled_mode_names", "bundled_mode_path"]

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"

_ROLE_KEYS: Final = frozenset(OrchestratorSurface.known_keys())
_MAX_EXTENDS_DEPTH: Final = 16
#: The top-level keys with a meaning of their own; a key one edit away is a misspelling.
_TOP_LEVEL: Final = (*SECTIONS, "task_orchestrator")
S = TypeVar("S", bound=SurfaceModel)


# --------------------------------------------------------------------------- context


@dataclass
class _Ctx:
    diags: list[Diagnostic] = field(default_factory=list)
    #: :func:`_given` of each mapping asked about, by ``id`` (the node is kept alive beside).
    _given: dict[int, tuple[YNode, dict[str, tuple[YNode, YNode]]]] = field(default_factory=dict)

    def given(self, node: YNode) -> dict[str, tuple[YNode, YNode]]:
        """:func:`_given` of ``node``, computed once per build."""
        found = self._given.get(id(node))
        if found is None:
            found = self._given[id(node)] = (node, _given(node))
        return found[1]

    def error(
        self,
        code: str,
        span: Span | None,
        message: str,
        hint: str | None = None,
        fix: Fix | None = None,
    ) -> None:
        self.diags.append(Diagnostic.make(code, span, message, hint, fix=fix))

    def type_error(self, node: YNode, what: str, expected: str) -> None:
        self.error("MC101", node.span, f"{what} must be {expected}, found {describe_node(node)}")

    def validate(
        self, model: type[S], node: YNode, section: Section, key_node: YNode | None = None
    ) -> tuple[S | None, dict[str, Any]]:
        parsed, extras, diags = validate_section(model, node, section, key_node)
        self.diags.extend(diags)
        return parsed, extras


N = TypeVar("N", bound=BaseModel)


def _new(model: type[N], **fields: Any) -> N:
    """``model(**fields)``: the same validation, without ``BaseModel.__init__``'s overhead
    (a mode makes an IR node per role, rule, keyword list and test)."""
    made: N = model.__pydantic_validator__.validate_python(fields)
    return made


def _is_null(node: YNode) -> bool:
    return node.kind == "scalar" and node.tag == _NULL


def _key(k: YNode) -> str:
    return str(k.raw if k.raw is not None else k.value)


def _entries(node: YNode) -> Iterator[tuple[str, YNode, YNode]]:
    """Mapping entries with string keys (the loader rejects non-scalar keys)."""
    for k, v in node.items:
        yield (_key(k), k, v)


def _given(node: YNode) -> dict[str, tuple[YNode, YNode]]:
    """Key text -> (key node, value node) of the entries whose value is not null (the first
    of duplicates); use :meth:`_Ctx.given`, which keeps the answer."""
    out: dict[str, tuple[YNode, YNode]] = {}
    for k, v in node.items:
        if v.tag != _NULL or v.kind != "scalar":
            key = k.raw if k.raw is not None else str(k.value)
            if key not in out:
                out[key] = (k, v)
    return out


def _item_spans(node: YNode) -> tuple[Span, ...]:
    """The span of each name of a one-name-or-list value."""
    return (node.span,) if node.kind == "scalar" else tuple(c.span for c in node.children)


def _as_written(value: Any, node: YNode | None) -> Any:
    """Text as the file spells it: a number or boolean given where text is expected keeps its
    spelling (``version: 1.10`` is ``"1.10"``), lists item by item."""
    if node is None:
        return value
    cls = value.__class__
    if cls is str or isinstance(value, str):
        if node.kind == "scalar" and node.tag != _STR and node.raw:
            return node.raw
        return value
    if cls is list or cls is tuple or isinstance(value, list | tuple):
        items = node.children if node.kind == "seq" else (node,) * len(value)
        if len(items) == len(value):
            return tuple([_as_written(v, c) for v, c in zip(value, items, strict=True)])
        return tuple(value)
    return value


def _written(model: SurfaceModel, given: dict[str, tuple[YNode, YNode]], key: str) -> Any:
    """The field ``key`` of a validated model, as written at the entry ``key`` of the mapping
    whose entries are ``given``."""
    entry = given.get(key)
    return _as_written(getattr(model, key), entry[1] if entry else None)


def _check_near_misses(ctx: _Ctx, node: YNode, known: tuple[str, ...], where: str) -> set[str]:
    """Errors for free keys of an open section that are one edit from a known key.

    Returns the known keys that were (probably) meant.
    """
    meant: set[str] = set()
    for key, knode, _ in _entries(node):
        close = near_misses(key, known)
        if close:
            ctx.diags.append(unknown_key(key, knode, known, where, near_miss=True))
            meant.update(close)
    return meant


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
    meta, extras = ctx.validate(MetadataSurface, node, Section("mode_metadata"))
    if meta is None:
        return
    given = ctx.given(node)
    for key in meta.model_fields_set:
        value = getattr(meta, key)
        if key == "extends" and value is not None:
            for name, span in zip(value, _item_spans(given[key][1]), strict=True):
                layer.extends.append((name, span))
        elif value is not None:
            layer.metadata[key] = (_as_written(value, given[key][1]), given[key][1].span)
    for key, value in extras.items():
        layer.metadata[key] = (value, given[key][1].span if key in given else node.span)


def _build_configuration(ctx: _Ctx, layer: _Layer, node: YNode) -> None:
    if node.kind != "map":
        ctx.type_error(node, "mode_configuration", "a mapping")
        return
    _check_near_misses(ctx, node, ConfigurationSurface.known_keys(), "mode_configuration")
    config, _ = ctx.validate(ConfigurationSurface, node, Section("mode_configuration"))
    if config is None:
        return
    given = ctx.given(node)
    for key in config.model_fields_set:
        if getattr(config, key) is not None:
            layer.configuration[key] = (getattr(config, key), given[key][1].span)
    for key, value in (config.model_extra or {}).items():
        layer.configuration[key] = (value, given[key][1].span)


def _looks_like_role(key: str, node: YNode) -> bool:
    if node.kind != "map":
        return False
    keys = [k for k, _, _ in _entries(node)]
    return key == "task_orchestrator" or any(
        k in _ROLE_KEYS or near_misses(k, _ROLE_KEYS) for k in keys
    )


def _build_role(ctx: _Ctx, name: str, knode: YNode, node: YNode) -> Role | None:
    if node.kind != "map":
        ctx.type_error(node, f"role {name!r}", "a mapping with role_definition")
        return None
    model: type[RoleSurface] = OrchestratorSurface if name == "task_orchestrator" else RoleSurface
    meant = _check_near_misses(ctx, node, model.known_keys(), f"role {name!r}")
    before = len(ctx.diags)
    role, _ = ctx.validate(model, node, Section(f"role {name!r}"), knode)
    if "role_definition" in meant:  # the misspelt key is the one error, not "no role_definition"
        ctx.diags[before:] = [d for d in ctx.diags[before:] if d.code != "MC102"]
    for d in ctx.diags[before:]:
        if d.code == "MC102":
            ctx.diags[ctx.diags.index(d)] = d.model_copy(
                update={
                    "message": f"role {name!r} has no role_definition",
                    "hint": 'every role needs `role_definition: "You are ..."`',
                }
            )
    if role is None:
        return None
    given = ctx.given(node)
    specialists: dict[str, str] = {}
    specialist_spans: dict[str, Span] = {}
    if isinstance(role, OrchestratorSurface) and role.specialist_roles:
        listed = given["specialist_roles"][1]
        for sname, sknode, svalue in _entries(listed):
            specialists[sname] = _as_written(role.specialist_roles.get(sname), svalue) or ""
            specialist_spans[sname] = sknode.span
    return _new(
        Role,
        span=node.span,
        name=name,
        name_span=knode.span,
        role_definition=_written(role, given, "role_definition"),
        expertise=_written(role, given, "expertise") or (),
        approach=_written(role, given, "approach") or (),
        output_format=_written(role, given, "output_format"),
        specialist_roles=specialists,
        specialist_spans=specialist_spans,
        extras={k: v for k, v in (role.model_extra or {}).items()},
    )


def _keywords_string_fix(node: YNode) -> Fix | None:
    """``keywords: a, b`` → ``keywords: [a, b]`` (the items as written, quoted when needed)."""
    raw = node.raw or ""
    if node.style is not None or "\n" in raw:
        return None
    words = [w.strip() for w in raw.split(",") if w.strip()]
    if not words:
        return None

    def item(word: str) -> str:
        plain = all(ch.isalnum() or ch in " _-." for ch in word) and not word[0].isdigit()
        return word if plain else json.dumps(word, ensure_ascii=False)

    return Fix(
        description="write the keywords as a list",
        edits=(Edit(span=node.span, new_text="[" + ", ".join(map(item, words)) + "]"),),
    )


def _keywords_condition(
    ctx: _Ctx, node: YNode, field_name: str, match: str, span: Span
) -> Expr | None:
    if not node.children:
        ctx.error(
            "MC305",
            node.span,
            "keywords is empty: this rule could never match",
            hint="list at least one keyword, or remove the rule",
        )
        return None
    values: list[str] = []
    seen: dict[str, YNode] = {}  # the first keyword of each lower-cased text
    for child in node.children:
        word = child.raw if child.tag == _STR else str(child.raw)
        assert word is not None
        if not word.strip():
            ctx.error(
                "MC303",
                child.span,
                "empty keyword: it would match every task",
                hint="remove it, or use `when: 'true'` to match everything on purpose",
            )
            continue
        lowered = word.lower()
        if lowered in seen:
            first = seen[lowered].span
            ctx.error(
                "MC304",
                child.span,
                f"duplicate keyword {word!r}",
                hint=f"already listed at line {first.line}, column {first.column}",
            )
            continue
        seen[lowered] = child
        values.append(word)
    if not values:
        return None
    op = "mentions" if match == "word" else "contains"
    return _new(
        TextMatch, span=span, field=field_name, op=op, quantifier="any", values=tuple(values)
    )


def _builtin_condition(name: str, span: Span) -> TextMatch:
    return TextMatch(
        span=span,
        field="description",
        op="contains",
        quantifier="any",
        values=BUILTIN_KEYWORDS[name],
    )


def _validate_rule(
    ctx: _Ctx, name: str, knode: YNode, node: YNode
) -> tuple[RuleSurface | None, dict[str, Any]]:
    if _is_null(node):
        return RuleSurface(), {}
    if node.kind != "map":
        ctx.type_error(node, f"routing rule {name!r}", "a mapping")
        return None, {}
    before = len(ctx.diags)
    rule, extras = ctx.validate(RuleSurface, node, Section(f"task_routing_rules.{name}"), knode)
    keywords = node.get("keywords")
    if keywords is not None and keywords.kind == "scalar" and keywords.tag == _STR:
        for i, d in enumerate(ctx.diags[before:], start=before):
            if d.code == "MC101" and d.span == keywords.span:
                fix = _keywords_string_fix(keywords)
                ctx.diags[i] = d.model_copy(
                    update={
                        "message": "keywords must be a list of text, found a single text",
                        "hint": f"write keywords: [{keywords.raw}]",
                        "fix": fix,
                    }
                )
    return rule, extras


def _rule_condition(
    ctx: _Ctx, name: str, knode: YNode, node: YNode, rule: RuleSurface
) -> tuple[Expr | None, str] | None:
    """The rule's condition and where it came from, or None after an error."""
    given = ctx.given(node) if node.kind == "map" else {}
    span = node.span if node.kind == "map" else knode.span
    match = rule.match or "substring"
    field_name = rule.field or "description"
    if field_name == "tags" and match == "word":
        ctx.error(
            "MC104",
            given["match"][1].span,
            "match: word does not apply to tags",
            hint="tags are compared whole; drop `match: word`",
        )
        return None
    if rule.when is not None and rule.keywords is not None:
        ctx.error(
            "MC301",
            given["when"][0].span,
            f"rule {name!r} gives both `when` and `keywords`",
            hint="put the keywords into the condition: "
            '`when: \'description contains any("a", "b") and ...\'`',
        )
        return None
    if rule.keywords is None:
        present = [key for key in ("field", "match") if node.get(key) is not None]
        for key in present:
            knode_of = next(k for kk, k, _ in _entries(node) if kk == key)
            ctx.error(
                "MC306",
                knode_of.span,
                f"`{key}` only applies to `keywords`, which rule {name!r} does not give",
            )
        if present:
            return None
    if rule.when is not None:
        wnode = given["when"][1]
        from modec.grammar.parser import parse_condition  # lark: for the first `when:`

        expr, diags = parse_condition(rule.when, wnode.locate, wnode.locate_key())
        ctx.diags.extend(diags)
        return None if expr is None else (expr, "when")
    if rule.keywords is not None:
        condition = _keywords_condition(ctx, given["keywords"][1], field_name, match, span)
        return None if condition is None else (condition, "keywords")
    if name in BUILTIN_KEYWORDS:
        return _builtin_condition(name, knode.span), "builtin"
    if name == FALLBACK_TYPE:
        return None, "fallback"
    ctx.error(
        "MC302",
        knode.span,
        f"rule {name!r} has no condition: only builtin task types "
        f"({', '.join(BUILTIN_KEYWORDS)}) and {FALLBACK_TYPE} may omit one",
        hint="add `keywords: [...]` or `when: '...'`",
    )
    return None


def _build_rule(ctx: _Ctx, name: str, knode: YNode, node: YNode) -> Rule | None:
    rule, extras = _validate_rule(ctx, name, knode, node)
    if rule is None:
        return None
    found = _rule_condition(ctx, name, knode, node, rule)
    if found is None:
        return None
    condition, source = found
    given = ctx.given(node) if node.kind == "map" else {}
    kw: dict[str, Any] = {}
    if rule.required_specialist is not None:
        kw["required_specialist"] = rule.required_specialist
        kw["required_specialist_span"] = given["required_specialist"][1].span
    if rule.secondary_review is not None:
        kw["secondary_review"] = tuple(rule.secondary_review)
        kw["secondary_review_spans"] = _item_spans(given["secondary_review"][1])
    for key in ("complexity_boost", "priority", "parallel_execution"):
        if getattr(rule, key) is not None:
            kw[key] = getattr(rule, key)
    return _new(
        Rule,
        span=node.span if node.kind == "map" else knode.span,
        name=name,
        name_span=knode.span,
        condition=condition,
        source=source,
        match=rule.match or "substring",
        extras=extras,
        **kw,
    )


def _build_validation(ctx: _Ctx, node: YNode) -> ValidationRules | None:
    if node.kind != "map":
        ctx.type_error(node, "validation_rules", "a mapping")
        return None
    rules, _ = ctx.validate(ValidationSurface, node, Section("validation_rules"))
    if rules is None:
        return None
    given = ctx.given(node)
    kw: dict[str, Any] = {}
    for key in ("required_roles", "optional_roles"):
        if getattr(rules, key) is not None:
            kw[key] = tuple(getattr(rules, key))
    if rules.required_roles is not None:
        kw["required_role_spans"] = _item_spans(given["required_roles"][1])
    bounds = {}
    for key in ("minimum_specialist_count", "maximum_specialist_count"):
        if getattr(rules, key) is not None:
            kw[key] = getattr(rules, key)
            bounds[key] = given[key][1].span
    lo, hi = rules.minimum_specialist_count, rules.maximum_specialist_count
    if lo is not None and hi is not None and lo > hi:
        ctx.error(
            "MC104",
            node.span,
            f"minimum_specialist_count ({lo}) exceeds maximum_specialist_count ({hi})",
        )
        return None
    return ValidationRules(span=node.span, bound_spans=bounds, **kw)


def _build_example(ctx: _Ctx, index: int, item: YNode) -> TestExample | None:
    if item.kind != "map":
        ctx.error(
            "MC501",
            item.span,
            "a test example must be a mapping with `task` and "
            "`expect_type` and/or `expect_specialist`",
        )
        return None
    example, _ = ctx.validate(TestSurface, item, Section(f"tests[{index}]", "MC501"))
    if example is None:
        return None
    expects = {"expect_type", "expect_specialist"} & example.model_fields_set
    if not expects:
        ctx.error(
            "MC501",
            item.span,
            "test example expects nothing: give expect_type and/or expect_specialist",
        )
        return None
    task_node = ctx.given(item)["task"][1]
    t = example.task
    fields = ctx.given(task_node) if task_node.kind == "map" else None
    task = _new(
        TaskSpec,
        span=task_node.span,
        title=_written(t, fields, "title") if fields is not None else t.title,
        description=_written(t, fields, "description") if fields is not None else t.description,
        tags=(_written(t, fields, "tags") if fields is not None else None) or (),
        complexity=t.complexity,
        metadata=t.metadata or {},
    )
    return _new(
        TestExample,
        span=item.span,
        task=task,
        expect_type=example.expect_type if "expect_type" in expects else None,
        expect_specialist=(example.expect_specialist if "expect_specialist" in expects else None),
    )


def _build_tests(ctx: _Ctx, node: YNode) -> tuple[TestExample, ...] | None:
    if node.kind != "seq":
        ctx.type_error(node, "tests", "a list of examples")
        return None
    out = [_build_example(ctx, i, item) for i, item in enumerate(node.children)]
    return tuple(e for e in out if e is not None)


def _top_level_unknown(ctx: _Ctx, key: str, knode: YNode) -> None:
    ctx.diags.append(
        unknown_key(key, knode, _TOP_LEVEL, "the file").model_copy(
            update={
                "message": f"unknown top-level key {key!r}: it is neither a section nor a role "
                "(a role needs role_definition)"
            }
        )
    )


def _build_rules(ctx: _Ctx, layer: _Layer, value: YNode) -> None:
    if value.kind != "map":
        ctx.type_error(value, "task_routing_rules", "a mapping of task type to rule")
        return
    for name, rknode, rvalue in _entries(value):
        rule = _build_rule(ctx, name, rknode, rvalue)
        if rule is not None:
            layer.rules[name] = rule


def _set_validation(ctx: _Ctx, layer: _Layer, value: YNode) -> None:
    layer.validation = _build_validation(ctx, value)


def _set_tests(ctx: _Ctx, layer: _Layer, value: YNode) -> None:
    layer.tests = _build_tests(ctx, value)


#: What each section contributes to a layer (a null section is "not given").
_SECTION_BUILDERS: Final[dict[str, Callable[[_Ctx, _Layer, YNode], None]]] = {
    "mode_metadata": _build_metadata,
    "mode_configuration": _build_configuration,
    "task_routing_rules": _build_rules,
    "validation_rules": _set_validation,
    "tests": _set_tests,
}


def _build_layer(ctx: _Ctx, loaded: LoadResult) -> _Layer:
    assert loaded.root is not None and loaded.source is not None
    root = loaded.root
    layer = _Layer(
        path=loaded.source.path,
        source=SourceRef(path=loaded.source.path, sha256=loaded.source.sha256),
        span=root.span,
    )
    for key, knode, value in _entries(root):
        section = _SECTION_BUILDERS.get(key)
        if key == "task_routing_rules":
            layer.rules_span = knode.span
        if section is not None:
            if not _is_null(value):
                section(ctx, layer, value)
        elif is_extension(key):
            continue  # free: another tool's data
        elif near_misses(key, _TOP_LEVEL):
            ctx.diags.append(unknown_key(key, knode, _TOP_LEVEL, "the file", near_miss=True))
        elif _looks_like_role(key, value):
            role = _build_role(ctx, key, knode, value)
            if role is not None:
                layer.roles[key] = role
        elif key == "task_orchestrator":
            ctx.type_error(value, "task_orchestrator", "a role (a mapping with role_definition)")
        else:
            _top_level_unknown(ctx, key, knode)
    return layer


# --------------------------------------------------------------------------- extends


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


def _extends_target(ctx: _Ctx, name: str, span: Span, base_dir: Path) -> Path | None:
    """The file an ``extends`` name leads to, or None after a located error."""
    found = resolve_extends(name, base_dir)
    if found.path is not None:
        return found.path
    if found.problem == "not_a_name":
        if len(name) > MAX_NAME_LENGTH and "/" not in name:
            message = f"extends name is longer than a file name may be ({len(name)} characters)"
        else:
            message = f"extends names a mode file, not a path: {name[:80]!r}"
        ctx.error(
            "MC104",
            span,
            message,
            hint="name a file next to this one or a bundled mode, e.g. extends: default_roles.yaml",
        )
    elif found.problem == "outside_folder":
        ctx.error(
            "MC106",
            span,
            f"extended mode {name!r} is a link to a file outside this folder",
            hint="extends names a mode file next to this one or a bundled mode; "
            "copy the file here instead of linking to it",
        )
    elif found.problem == "unreadable":
        ctx.error(
            "MC106",
            span,
            f"extended mode {name!r} cannot be looked up",
            hint="the operating system refused the name; rename the file",
        )
    else:
        ctx.error(
            "MC106",
            span,
            f"extended mode {name!r} not found",
            hint="it is looked up next to this file, then among the bundled modes "
            "(`modec modes` lists them)",
        )
    return None


#: Where a file's ``extends`` names resolve from, and the chain of files (resolved paths)
#: that led to it: asked only of a file that extends (resolving a path asks the file system).
Origin = Callable[[], tuple[Path, tuple[str, ...]]]


def _known_origin(base_dir: Path, chain: tuple[str, ...]) -> Origin:
    """The :data:`Origin` of a file whose place is known already (an extended file)."""
    return lambda: (base_dir, chain)


def _load_layer(
    ctx: _Ctx,
    loaded: LoadResult,
    origin: Origin,
    sources: dict[str, str],
    refs: list[SourceRef],
    loader: Loader,
) -> _Layer | None:
    """Build one file's layer merged over everything it extends (depth first)."""
    assert loaded.source is not None
    layer = _build_layer(ctx, loaded)
    refs.append(layer.source)
    if not layer.extends:
        return layer
    base_dir, chain = origin()
    base: _Layer | None = None
    for name, span in layer.extends:
        target = _extends_target(ctx, name, span, base_dir)
        if target is None:
            continue
        key = str(target.resolve())
        if key in chain or len(chain) >= _MAX_EXTENDS_DEPTH:
            names = [Path(p).name for p in (*chain, key)]
            ctx.error(
                "MC107",
                span,
                "extends cycle: " + " -> ".join(names),
                hint="remove one of the extends entries in this chain",
            )
            continue
        display = (
            name
            if bundled_mode_path(name) == target
            else str(Path(loaded.source.path).parent / name)
        )
        parent_loaded = loader(target, display)
        if parent_loaded.source is not None:
            sources[parent_loaded.source.path] = parent_loaded.source.text
        parent_ctx = _Ctx()
        parent_ctx.diags.extend(parent_loaded.diagnostics)
        parent = None
        if parent_loaded.root is not None and parent_loaded.ok:
            parent_origin = _known_origin(target.parent, (*chain, key))
            parent = _load_layer(parent_ctx, parent_loaded, parent_origin, sources, refs, loader)
        parent_errors = [d for d in parent_ctx.diags if d.is_error]
        if parent_errors or parent is None:
            ctx.diags.extend(parent_errors)
            ctx.error(
                "MC108",
                span,
                f"extended mode {name!r} has errors",
                hint=f"run `modec lint` on {display}",
            )
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


def _implicit_rows(ctx: _Ctx, layer: _Layer) -> tuple[bool, list[Rule]]:
    """Whether implicit classic rows are on, and the rows the file does not name.

    They exist when the file says ``builtin_task_types: true``, or says nothing and declares
    no rule with a condition of its own (``keywords`` or ``when``); never under ``false``.
    Beside custom rules they are announced once (MC308).
    """
    custom = [r.name for r in layer.rules.values() if r.source in ("when", "keywords")]
    setting = layer.configuration.get("builtin_task_types")
    if not (setting[0] if setting is not None else not custom):
        return False, []
    implicit_span = layer.rules_span or Span.point(layer.path, 1, 1)
    missing = [name for name in BUILTIN_KEYWORDS if name not in layer.rules]
    if custom and missing and setting is not None:
        ctx.diags.append(
            Diagnostic.make(
                "MC308",
                setting[1],
                f"implicit classic rows {', '.join(missing)} are active beside this mode's own "
                f"rules ({', '.join(custom)})",
                hint="they come from `builtin_task_types: true` and route to the default "
                "specialist; set it to false, or name the rows you want under task_routing_rules",
            )
        )
    return True, [
        Rule(
            span=implicit_span,
            name=name,
            name_span=implicit_span,
            condition=_builtin_condition(name, implicit_span),
            source="builtin",
            implicit=True,
        )
        for name in missing
    ]


def _finalize(ctx: _Ctx, layer: _Layer, refs: list[SourceRef]) -> ModeFile:
    enabled, implicit = _implicit_rows(ctx, layer)
    configuration = _configuration(layer).model_copy(update={"builtin_task_types": enabled})
    unique_refs = list({(r.path, r.sha256): r for r in refs}.values())
    return ModeFile(
        span=layer.span,
        path=layer.path,
        sources=tuple(unique_refs),
        metadata=_metadata(layer, tuple(n for n, _ in layer.extends)),
        configuration=configuration,
        roles=layer.roles,
        rules=(*layer.rules.values(), *implicit),
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
    path = file_path or Path(loaded.source.path)

    def origin() -> tuple[Path, tuple[str, ...]]:
        real = path.resolve()
        return real.parent, (str(real),)

    refs: list[SourceRef] = []
    layer = _load_layer(ctx, loaded, origin, sources, refs, loader or _default_loader)
    if layer is None or any(d.is_error for d in ctx.diags):
        return BuildResult(None, ctx.diags, sources)
    mode = _finalize(ctx, layer, refs)
    return BuildResult(mode, ctx.diags, sources)
