"""The mode-file format as authors write it: one strict pydantic model per section.

This module is the one description of the surface format (DESIGN §2). Three things come from
it and from nowhere else:

* **validation**: :func:`validate_section` checks a located YAML mapping against a section
  model and turns every pydantic error into a located :class:`~modec.diagnostics.Diagnostic`
  (wrong type ``MC101``, missing key ``MC102``, unknown key ``MC103``, bad choice or range
  ``MC104``); :mod:`modec.compiler.build` builds the IR from the validated models;
* **the key rules**: closed sections (rules, ``validation_rules``, ``tests`` and their tasks,
  ``mode_metadata``) reject unknown keys with "did you mean"; open ones
  (``mode_configuration``, roles) keep other keys as free settings, except a *near miss*
  (edit distance 1 from a known key, :func:`near_misses`); ``x_``-prefixed keys are always
  free;
* **the JSON Schema** ``modec schema`` prints (:func:`mode_file_schema` in
  :mod:`modec.compiler.schema`, generated from :class:`ModeFileSurface`).

>>> sorted(RuleSurface.model_fields)[:3]
['complexity_boost', 'field', 'keywords']
>>> near_misses("hit_polcy", ConfigurationSurface.known_keys())
['hit_policy']
>>> near_misses("x_hit_polcy", ConfigurationSurface.known_keys())
[]
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Literal, TypeVar, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from modec.compiler.extends import MAX_NAME_LENGTH, MODE_NAME_PATTERN
from modec.compiler.ir import COMPLEXITY_NAMES
from modec.diagnostics import Diagnostic, Edit, Fix, Span

if TYPE_CHECKING:
    from modec.compiler.ir import ModeFile, Role, Rule
    from modec.compiler.source import YNode

__all__ = [
    "EXTENSION_PREFIX",
    "ConfigurationSurface",
    "MetadataSurface",
    "ModeFileSurface",
    "OrchestratorSurface",
    "RoleSurface",
    "RuleSurface",
    "Section",
    "SurfaceModel",
    "TaskSurface",
    "TestSurface",
    "ValidationSurface",
    "close_keys",
    "describe_node",
    "extends_fix",
    "is_extension",
    "mode_document",
    "near_misses",
    "rename_key_fix",
    "to_plain",
    "unknown_key",
    "validate_section",
]

#: Keys with this prefix are free everywhere (importers keep other tools' fields there).
EXTENSION_PREFIX: Final = "x_"

_STR: Final = "tag:yaml.org,2002:str"
_NULL: Final = "tag:yaml.org,2002:null"
_BOOL: Final = "tag:yaml.org,2002:bool"
_INT: Final = "tag:yaml.org,2002:int"
_FLOAT: Final = "tag:yaml.org,2002:float"


# --------------------------------------------------------------------------- value types


def _scalar_text(value: Any) -> Any:
    """Descriptive text accepts any scalar as written (``version: 1.0``)."""
    if value.__class__ is str:  # the usual case, before the tests against other types
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _complexity(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return value
    if isinstance(value, str) and value in COMPLEXITY_NAMES:
        return COMPLEXITY_NAMES[value]
    raise PydanticCustomError(
        "complexity",
        "must be a complexity level: 1–5 or one of {names}",
        {"names": ", ".join(COMPLEXITY_NAMES)},
    )


def _task_from_text(value: Any) -> Any:
    return {"description": value} if isinstance(value, str) else value


_TEXT_SCHEMA: Final = {"type": ["string", "number", "boolean"]}
_NAME_PATTERN: Final = "^[a-z][a-z0-9_]*$"

#: Text as written: any scalar (a number or a boolean is taken as its text).
Text = Annotated[str, BeforeValidator(_scalar_text), WithJsonSchema(_TEXT_SCHEMA)]
#: A list of text.
Texts = list[Text]
#: One name or a list of names.
Names = Annotated[
    list[str],
    BeforeValidator(_one_or_many),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]
#: A mode file name (``extends``): a plain file name, no path, no ``..``, short enough to open.
_MODE_NAME_SCHEMA: Final = {
    "type": "string",
    "pattern": MODE_NAME_PATTERN,
    "maxLength": MAX_NAME_LENGTH,
}
#: One mode file name or a list of them.
ModeNames = Annotated[
    list[str],
    BeforeValidator(_one_or_many),
    WithJsonSchema({"anyOf": [_MODE_NAME_SCHEMA, {"type": "array", "items": _MODE_NAME_SCHEMA}]}),
]
#: Text or a list of text.
TextOrTexts = Annotated[
    Texts,
    BeforeValidator(lambda v: [v] if not isinstance(v, list | tuple | dict) else v),
    WithJsonSchema({"anyOf": [_TEXT_SCHEMA, {"type": "array", "items": _TEXT_SCHEMA}]}),
]
#: A complexity level: 1–5 or one of the names trivial … very_complex.
Complexity = Annotated[
    int,
    BeforeValidator(_complexity),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": 5},
                {"enum": list(COMPLEXITY_NAMES)},
            ]
        }
    ),
]
#: A number of the file: an integer (YAML ``5``, never ``5.0`` or ``"5"``).
Whole = int
Scalar = str | int | float | bool


class SurfaceModel(BaseModel):
    """Base of the section models: strict types, frozen; ``open`` says whether keys the model
    does not define are free settings (``mode_configuration``, roles) or errors."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    #: Whether keys the model does not define are free settings (True) or errors (False).
    open: ClassVar[bool] = False

    @classmethod
    def known_keys(cls) -> tuple[str, ...]:
        """The keys the model defines, in declaration order (computed once per model)."""
        keys = _KNOWN_KEYS.get(cls)
        if keys is None:
            keys = _KNOWN_KEYS[cls] = tuple(cls.model_fields)
        return keys


#: :meth:`SurfaceModel.known_keys` of each model asked about.
_KNOWN_KEYS: Final[dict[type[SurfaceModel], tuple[str, ...]]] = {}


class MetadataSurface(SurfaceModel):
    """``mode_metadata``: who wrote the mode, and what it ``extends``."""

    name: Text | None = None
    description: Text | None = None
    version: Text | None = None
    created_by: Text | None = None
    created_at: Text | None = None
    compatible_versions: TextOrTexts | None = None
    extends: ModeNames | None = Field(
        default=None,
        description="A mode file name or a list of them; looked up next to this file, then "
        "among the bundled modes. A file that extends need not define task_orchestrator.",
    )


class ConfigurationSurface(SurfaceModel):
    """``mode_configuration``; other keys are kept as free settings (except near misses)."""

    model_config = ConfigDict(extra="allow")
    open: ClassVar[bool] = True

    default_complexity: Complexity | None = None
    auto_task_routing: bool | None = None
    max_subtask_depth: Whole | None = Field(default=None, ge=0)
    progress_aggregation: Text | None = None
    hit_policy: Literal["first", "unique", "collect"] | None = Field(
        default=None, description="How rows combine: first (default), unique, collect."
    )
    default_specialist: str | None = None
    builtin_task_types: bool | None = Field(
        default=None,
        description="true: the four classic task types classify even beside this file's own "
        "rules; false: never; unset: only in files without rules of their own.",
    )


class RoleSurface(SurfaceModel):
    """A role; other keys are kept (except near misses of these)."""

    model_config = ConfigDict(extra="allow")
    open: ClassVar[bool] = True

    role_definition: Text = Field(description="Who this role is.")
    expertise: Texts | None = None
    approach: Texts | None = None
    output_format: Text | None = None


class OrchestratorSurface(RoleSurface):
    """``task_orchestrator``: a role that lists the specialists."""

    specialist_roles: dict[str, Text | None] | None = Field(
        default=None, description="Specialist role name -> one-line description."
    )


class RuleSurface(SurfaceModel):
    """A routing rule (``task_routing_rules.<task type>``)."""

    required_specialist: str | None = None
    secondary_review: Names | None = None
    complexity_boost: Whole | None = Field(default=None, ge=-4, le=4)
    parallel_execution: bool | None = None
    priority: Whole | None = Field(default=None, description="Higher runs earlier; default 0.")
    keywords: Texts | None = Field(
        default=None,
        json_schema_extra={"minItems": 1, "items": {"pattern": "\\S"}},
        description="Shorthand for `description contains any(...)`.",
    )
    match: Literal["substring", "word"] | None = None
    field: Literal["title", "description", "text", "tags"] | None = None
    when: str | None = Field(
        default=None,
        description="A condition, e.g. 'tags contains \"hotfix\" or title matches /^fix:/'",
    )


class ValidationSurface(SurfaceModel):
    """``validation_rules``."""

    required_roles: Names | None = None
    optional_roles: Names | None = None
    minimum_specialist_count: Whole | None = Field(default=None, ge=0)
    maximum_specialist_count: Whole | None = Field(default=None, ge=0)


class TaskSurface(SurfaceModel):
    """The task of a ``tests:`` example (text is the description)."""

    title: Text = ""
    description: Text = ""
    tags: Texts | None = None
    complexity: Complexity | None = None
    metadata: dict[str, Scalar] | None = None


class TestSurface(SurfaceModel):
    """One ``tests:`` example."""

    __test__ = False  # not a pytest test class

    task: Annotated[TaskSurface, BeforeValidator(_task_from_text)]
    expect_type: str = ""
    expect_specialist: str = ""


class ModeFileSurface(SurfaceModel):
    """A whole mode file; every other top-level key is a role (or an ``x_`` key)."""

    model_config = ConfigDict(extra="allow")

    mode_metadata: MetadataSurface | None = None
    mode_configuration: ConfigurationSurface | None = None
    task_orchestrator: OrchestratorSurface | None = None
    task_routing_rules: dict[str, RuleSurface | None] | None = None
    validation_rules: ValidationSurface | None = None
    tests: list[TestSurface] | None = None


#: The top-level keys that are sections (every other key is a role or an ``x_`` key).
SECTIONS: Final = (
    "mode_metadata",
    "mode_configuration",
    "task_routing_rules",
    "validation_rules",
    "tests",
)


# --------------------------------------------------------------------------- keys


def is_extension(key: str) -> bool:
    """``x_``-prefixed keys are free everywhere."""
    return key.startswith(EXTENSION_PREFIX)


def _within_one_edit(a: str, b: str) -> bool:
    """Optimal string alignment distance(a, b) <= 1 (one insertion, deletion, substitution or
    transposition of adjacent characters)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True  # substitution
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


def near_misses(key: str, known: Iterable[str]) -> list[str]:
    """The known keys one edit away from ``key`` (never for ``x_`` keys or known keys)."""
    known = list(known)
    if is_extension(key) or key in known:
        return []
    return [k for k in known if _within_one_edit(key, k)]


def close_keys(key: str, known: Iterable[str]) -> list[str]:
    """Candidates for "did you mean": the near misses if any, else difflib's close matches.

    >>> close_keys("expect_specialst", ["task", "expect_type", "expect_specialist"])
    ['expect_specialist']
    """
    known = list(known)
    return near_misses(key, known) or difflib.get_close_matches(key, known, n=3, cutoff=0.6)


def rename_key_fix(key_node: YNode, new: str) -> Fix:
    """Rename the key at ``key_node`` to ``new``."""
    raw = key_node.raw if key_node.raw is not None else str(key_node.value)
    return Fix(
        description=f"rename {raw!r} to {new!r}", edits=(Edit(span=key_node.span, new_text=new),)
    )


def unknown_key(
    key: str, key_node: YNode, known: Sequence[str], where: str, *, near_miss: bool = False
) -> Diagnostic:
    """MC103 at the key, with "did you mean" and a rename fix when one key is close."""
    candidates = near_misses(key, known) if near_miss else close_keys(key, known)
    fix = rename_key_fix(key_node, candidates[0]) if len(candidates) == 1 else None
    if near_miss:
        message = (
            f"key {key!r} in {where} is one edit away from {candidates[0]!r}"
            if len(candidates) == 1
            else f"key {key!r} in {where} is one edit away from known keys"
        )
    else:
        message = f"unknown key {key!r} in {where}"
    if candidates:
        hint = "did you mean " + " or ".join(repr(c) for c in candidates) + "?"
        if near_miss:
            hint += "; a key of your own must not be one edit from a known one: rename it, or "
            hint += "prefix it with x_"
    else:
        hint = f"known keys: {', '.join(known)}; prefix keys of your own with x_"
    return Diagnostic.make("MC103", key_node.span, message, hint=hint, fix=fix)


# --------------------------------------------------------------------------- plain values


def to_plain(node: YNode) -> Any:
    """A JSON-compatible copy of a node: mappings keyed by the keys' text, first key wins."""
    kind = node.kind
    if kind == "scalar":
        value = node.value
        if (
            value is None
            or value.__class__ in _PLAIN
            or isinstance(value, bool | int | float | str)
        ):
            return value
        return node.raw
    if kind == "map":
        out: dict[str, Any] = {}
        for k, v in node.items:
            key = k.raw if k.raw is not None else str(k.value)
            if key not in out:
                out[key] = to_plain(v)
        return out
    return [to_plain(c) for c in node.children]


#: The classes of scalar values :func:`to_plain` keeps as they are (the usual ones, by class).
_PLAIN: Final = frozenset({str, int, float, bool})


def describe_node(node: YNode) -> str:
    """What a value is, in words: "a mapping", "the number 5", "the text 'x'"."""
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


# --------------------------------------------------------------------------- validation

_EXPECTED: Final = {
    "string_type": "text",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "float_type": "a number",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_CHOICE: Final = frozenset(
    {
        "literal_error",
        "greater_than_equal",
        "less_than_equal",
        "greater_than",
        "less_than",
        "complexity",
    }
)

M = TypeVar("M", bound=SurfaceModel)


@dataclass(frozen=True)
class Section:
    """Where a section sits, for messages (``"validation_rules"``, ``"rule 'x_tasks'"``)."""

    where: str
    #: The code for a missing required key and for a wrong type at the top of the section.
    missing_code: str = "MC102"


def _walk(node: YNode, loc: tuple[int | str, ...]) -> tuple[YNode | None, YNode, list[str]]:
    """The key node and value node that ``loc`` names, and the path of keys walked."""
    key_node: YNode | None = None
    path: list[str] = []
    for part in loc:
        if node.kind == "map" and isinstance(part, str):
            match = next(
                (
                    (k, v)
                    for k, v in node.items
                    if str(k.raw if k.raw is not None else k.value) == part
                ),
                None,
            )
            if match is None:
                break
            key_node, node = match
            path.append(part)
        elif node.kind == "seq" and isinstance(part, int) and 0 <= part < len(node.children):
            key_node, node = None, node.children[part]
            path.append(f"[{part}]")
        elif node.kind == "map" and part == "[key]":
            break
        # other parts name a branch of a type (a union member, a validator): not a place
    return key_node, node, path


def _surface_of(annotation: Any) -> type[SurfaceModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, SurfaceModel):
        return annotation
    for arg in get_args(annotation):
        found = _surface_of(arg)
        if found is not None:
            return found
    return None


def _owner_at(model: type[SurfaceModel], path: Sequence[str]) -> type[SurfaceModel]:
    """The model that owns the mapping at ``path`` below ``model`` (for unknown-key hints)."""
    current = model
    for part in path:
        info = current.model_fields.get(part)
        nested = _surface_of(info.annotation) if info is not None else None
        if nested is not None:
            current = nested
    return current


def _strip_nested_extensions(data: Any) -> Any:
    """Drop ``x_`` keys from a ``tests`` example's task mapping (closed, too).

    Only the task's own keys: its ``metadata`` is the task's data, where ``x_y`` is a key
    like any other (a ``when:`` row may test ``metadata.x_y``)."""
    if not isinstance(data, dict):
        return data
    task = data.get("task")
    if not isinstance(task, dict) or not any(is_extension(k) for k in task):
        return data
    kept = {k: v for k, v in task.items() if not is_extension(k)}
    return {**data, "task": kept}


#: The keys each model defines, as a set (filled on first use; a model's fields never change).
_FIELD_SETS: Final[dict[type[SurfaceModel], frozenset[str]]] = {}


def _field_set(model: type[SurfaceModel]) -> frozenset[str]:
    found = _FIELD_SETS.get(model)
    if found is None:
        found = _FIELD_SETS[model] = frozenset(model.model_fields)
    return found


def validate_section(
    model: type[M], node: YNode, section: Section, key_node: YNode | None = None
) -> tuple[M | None, dict[str, Any], list[Diagnostic]]:
    """Validate a located mapping against ``model``.

    Returns the model (None when any error was found), the ``x_`` extras of a closed section,
    and the diagnostics, each at the key or value it is about. Null values mean "not given".
    """
    data: Any
    extras: dict[str, Any]
    if node.kind == "map":
        data, extras = _section_data(model, node)
    else:
        data, extras = to_plain(node), {}
    if model is TestSurface:
        data = _strip_nested_extensions(data)
    try:
        # What ``model.model_validate(data)`` runs, without its Python frame.
        return model.__pydantic_validator__.validate_python(data), extras, []
    except ValidationError as error:
        return None, extras, _diagnostics(model, node, section, key_node, error)


def _section_data(model: type[SurfaceModel], node: YNode) -> tuple[dict[str, Any], dict[str, Any]]:
    """What :func:`validate_section` validates for a mapping, in one pass over its entries:
    :func:`to_plain` of it (first key wins), the ``x_`` keys of a closed section taken out
    as extras, and null values dropped as "not given", except
    where text must be present and on keys a closed section does not define (reported
    whatever their value)."""
    open_ = model.open
    fields = _field_set(model)
    data: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    seen: set[str] = set()
    for k, v in node.items:
        key = k.raw if k.raw is not None else str(k.value)
        if key in seen:
            continue
        seen.add(key)
        value = to_plain(v)
        if not open_ and key.startswith(EXTENSION_PREFIX):
            extras[key] = value
        elif value is not None or key in _NULL_IS_WRONG or not (open_ or key in fields):
            data[key] = value
    return data, extras


#: Keys whose null value is an error rather than "not given" (text that must be present).
_NULL_IS_WRONG: Final = frozenset(
    {"role_definition", "title", "description", "expect_type", "expect_specialist", "task"}
)


def _diagnostics(
    model: type[SurfaceModel],
    node: YNode,
    section: Section,
    key_node: YNode | None,
    error: ValidationError,
) -> list[Diagnostic]:
    out: dict[tuple[Any, ...], Diagnostic] = {}
    # A value of a union (metadata's text, number or true/false) fails once per member: one
    # diagnostic names every member's expectation.
    unions: dict[tuple[Any, ...], list[str]] = {}
    for err in error.errors(include_url=False):
        loc = tuple(err["loc"])
        knode, vnode, path = _walk(node, loc)
        kind = err["type"]
        where = section.where + "".join(f".{p}" if not p.startswith("[") else p for p in path)
        diag: Diagnostic
        if kind == "extra_forbidden":
            owner = _owner_at(model, path[:-1])
            assert knode is not None
            diag = unknown_key(
                path[-1],
                knode,
                owner.known_keys(),
                section.where + "".join(f".{p}" for p in path[:-1]),
            )
        elif kind == "missing":
            missing = str(loc[-1])
            span = (knode or key_node or vnode).span if not path else (knode or vnode).span
            diag = Diagnostic.make(
                section.missing_code, span, f"{where} has no {missing}", hint=f"add `{missing}:`"
            )
        elif kind in _CHOICE:
            hint = None
            if kind == "complexity":
                hint = "use 1–5 or one of " + ", ".join(COMPLEXITY_NAMES)
            if kind == "complexity":
                rule = "a complexity level"
            elif kind == "literal_error":
                rule = f"one of {err.get('ctx', {}).get('expected', '')}"
            else:
                rule = str(err["msg"]).removeprefix("Input should be ")
            diag = Diagnostic.make(
                "MC104",
                vnode.span,
                f"{where} must be {rule}, found {describe_node(vnode)}",
                hint=hint,
            )
        else:
            expected = _EXPECTED.get(kind, err["msg"])
            if (
                kind in ("model_type", "dict_type")
                and section.missing_code != "MC102"
                and len(path) <= 1
            ):
                code = section.missing_code
            else:
                code = "MC101"
            if vnode.span is not None:
                at = (code, vnode.span.sort_key())
                expected = _alternatives(unions.setdefault(at, []), expected)
                out.pop(at, None)  # replaced by the diagnostic naming every member
            diag = Diagnostic.make(
                code, vnode.span, f"{where} must be {expected}, found {describe_node(vnode)}"
            )
        if diag.span is not None:
            out.setdefault((diag.code, diag.span.sort_key()), diag)
    return list(out.values())


def _alternatives(seen: list[str], expected: str) -> str:
    """``expected`` added to the expectations ``seen`` at one place, all of them in words."""
    if expected not in seen:
        seen.append(expected)
    if len(seen) == 1:
        return seen[0]
    words = [
        "true/false" if w == "true or false" else w
        for w in seen
        if not (w == "a whole number" and "a number" in seen)
    ]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# --------------------------------------------------------------------------- IR -> surface


def _role_document(role: Role) -> dict[str, Any]:
    body: dict[str, Any] = {"role_definition": role.role_definition, **role.extras}
    if role.expertise:
        body["expertise"] = list(role.expertise)
    if role.approach:
        body["approach"] = list(role.approach)
    if role.output_format is not None:
        body["output_format"] = role.output_format
    if role.specialist_roles:
        body["specialist_roles"] = dict(role.specialist_roles)
    return body


def _rule_document(rule: Rule) -> dict[str, Any]:
    from modec.grammar.printer import format_expr

    entry: dict[str, Any] = dict(rule.extras)
    if rule.condition is not None and rule.source != "builtin":
        entry["when"] = format_expr(rule.condition)
    for key in ("required_specialist", "parallel_execution"):
        if getattr(rule, key) is not None:
            entry[key] = getattr(rule, key)
    if rule.secondary_review:
        entry["secondary_review"] = list(rule.secondary_review)
    for key in ("complexity_boost", "priority"):
        if getattr(rule, key):
            entry[key] = getattr(rule, key)
    return entry


def mode_document(mode: ModeFile) -> dict[str, Any]:
    """The surface document of a resolved mode: what an author would write to get it.

    ``extends`` is already merged; implicit classic rows become ``builtin_task_types: true``;
    conditions are written as ``when:`` in the condition language's canonical text.
    """
    config = mode.configuration
    configuration: dict[str, Any] = {
        "hit_policy": config.hit_policy,
        "default_complexity": config.default_complexity,
        **config.settings,
    }
    if config.default_specialist is not None:
        configuration["default_specialist"] = config.default_specialist
    if any(r.implicit for r in mode.rules):
        configuration["builtin_task_types"] = True
    doc: dict[str, Any] = {"mode_configuration": configuration}
    doc.update({role.name: _role_document(role) for role in mode.roles.values()})
    rules = {rule.name: _rule_document(rule) for rule in mode.rules if not rule.implicit}
    if rules:
        doc["task_routing_rules"] = rules
    return doc


# --------------------------------------------------------------------------- fixes

#: What a role pack extends to become a mode (MC105's fix).
DEFAULT_BASE: Final = "default_roles.yaml"


def extends_fix(root: YNode, text: str) -> Fix | None:
    """Make a role pack a mode: add ``extends: default_roles.yaml`` to its ``mode_metadata``.

    Inserts a ``mode_metadata`` section before the first top-level key, or an ``extends``
    entry as the first key of an existing block or flow ``mode_metadata`` mapping. None when
    the file already extends something or its shape leaves no obvious place.
    """
    if root.kind != "map" or not root.items:
        return None
    file = root.span.file
    lines = text.splitlines()
    entry = f"extends: {DEFAULT_BASE}"
    meta = next(((k, v) for k, v in root.items if k.raw == "mode_metadata"), None)
    if meta is None:
        first = root.items[0][0].span
        if first.column != 1:
            return None  # a flow mapping at the top
        at = Span.point(file, first.line, 1).model_copy(update={"end_column": 1})
        return Fix(
            description=f"extend {DEFAULT_BASE}",
            edits=(Edit(span=at, new_text=f"mode_metadata:\n  {entry}\n"),),
        )
    _, node = meta
    if node.kind != "map" or node.get("extends") is not None:
        return None
    start = node.span
    line = lines[start.line - 1] if 0 < start.line <= len(lines) else ""
    at = start.model_copy(update={"end_line": start.line, "end_column": start.column})
    if line[start.column - 1 : start.column] == "{":
        at = at.model_copy(update={"column": start.column + 1, "end_column": start.column + 1})
        new = entry + (", " if node.items else "")
    else:
        new = f"{entry}\n{' ' * (start.column - 1)}"
    return Fix(description=f"extend {DEFAULT_BASE}", edits=(Edit(span=at, new_text=new),))
