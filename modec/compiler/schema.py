"""The JSON Schema of the mode-file format, for editors (the YAML language server).

Generated from the surface model (:mod:`modec.compiler.surface`), never written by hand: the
sections' keys, types, choices and descriptions are the models'. What a pydantic model cannot
say is added here, from the same rules the compiler applies:

* ``x_`` keys are free everywhere; closed sections refuse every other unknown key;
* open sections (``mode_configuration``, roles) keep free keys, except the near misses the
  compiler refuses (one edit from a known key), spelt out as a pattern;
* a file that ``extends`` another need not define ``task_orchestrator``;
* every other top-level key is a role.

It describes what authors write (the YAML), not the IR. ``modec schema`` prints it.

>>> s = mode_file_schema()
>>> s["else"], "task_routing_rules" in s["properties"]
({'required': ['task_orchestrator']}, True)
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, Final

from modec.compiler.surface import (
    EXTENSION_PREFIX,
    SECTIONS,
    ModeFileSurface,
    RoleSurface,
    SurfaceModel,
)

__all__ = ["SCHEMA_ID", "mode_file_schema", "near_miss_pattern"]

SCHEMA_ID = "https://modec.dev/schema/mode-file.json"

_NAME: Final = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_ANY: Final = "[\\s\\S]"
_EXTENSION: Final = f"^{EXTENSION_PREFIX}"


def near_miss_pattern(known: tuple[str, ...]) -> str:
    """A regular expression matching every key one edit from a key in ``known``.

    It also matches the known keys themselves (a substitution by the same character), so a
    schema pairs it with an ``enum`` of them. Known keys are plain ``[a-z_]`` words.

    >>> import re
    >>> p = near_miss_pattern(("hit_policy",))
    >>> [bool(re.search(p, k)) for k in ("hit_polcy", "hit_policyy", "hti_policy", "team")]
    [True, True, True, False]
    """
    alternatives: list[str] = []
    for word in known:
        n = len(word)
        for i in range(n + 1):
            alternatives.append(word[:i] + _ANY + word[i:])  # insertion
        for i in range(n):
            alternatives.append(word[:i] + word[i + 1 :])  # deletion
            alternatives.append(word[:i] + _ANY + word[i + 1 :])  # substitution
        for i in range(n - 1):
            alternatives.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])  # transposition
    return "^(?:" + "|".join(dict.fromkeys(alternatives)) + ")$"


def _open_keys(known: tuple[str, ...]) -> dict[str, Any]:
    """``propertyNames`` of an open section: known, ``x_``, or not a near miss."""
    return {
        "anyOf": [
            {"enum": list(known)},
            {"pattern": _EXTENSION},
            {"not": {"pattern": near_miss_pattern(known)}},
        ]
    }


def _strip_null(schema: dict[str, Any]) -> dict[str, Any]:
    options = schema.get("anyOf")
    if options is None:
        return schema
    kept = [o for o in options if o != {"type": "null"}]
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**rest, **kept[0]} if len(kept) == 1 else {**rest, "anyOf": kept}


def _shape(defs: dict[str, Any], models: dict[str, type[SurfaceModel]]) -> None:
    for name, definition in defs.items():
        model = models.get(name)
        if model is None:
            continue
        if model.open:
            definition["additionalProperties"] = True
            definition["propertyNames"] = _open_keys(model.known_keys())
        else:
            definition["additionalProperties"] = False
            definition["patternProperties"] = {_EXTENSION: {}}


def _surface_models() -> dict[str, type[SurfaceModel]]:
    """Every section model, by the name pydantic gives its ``$defs`` entry."""
    found: dict[str, type[SurfaceModel]] = {}
    todo = list(SurfaceModel.__subclasses__())
    while todo:
        model = todo.pop()
        found[model.__name__] = model
        todo.extend(model.__subclasses__())
    return found


@cache
def _generated() -> dict[str, Any]:
    schema = ModeFileSurface.model_json_schema(ref_template="#/$defs/{model}")
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    defs["RoleSurface"] = RoleSurface.model_json_schema(ref_template="#/$defs/{model}")
    _shape(defs, _surface_models())
    props = schema["properties"]
    props["task_orchestrator"] = _strip_null(props["task_orchestrator"])
    rules = props["task_routing_rules"]
    for option in rules.get("anyOf", [rules]):
        if option.get("type") == "object":
            option["propertyNames"] = _NAME
    tests = defs["TestSurface"]["properties"]
    tests["task"] = {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/TaskSurface"}]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "modec mode file",
        "description": "An AI orchestrator's mode: roles (every top-level key that is not a "
        "section), the rules that route tasks to them, and examples (DESIGN §2).",
        "type": "object",
        "properties": props,
        "patternProperties": {_EXTENSION: {}},
        "additionalProperties": {"$ref": "#/$defs/RoleSurface"},
        # A role may have any name but one edit away from a section or task_orchestrator.
        "propertyNames": _open_keys((*SECTIONS, "task_orchestrator")),
        # A file that extends another gets task_orchestrator from it.
        "if": {
            "required": ["mode_metadata"],
            "properties": {
                "mode_metadata": {
                    "required": ["extends"],
                    "properties": {
                        "extends": {"anyOf": [{"type": "string"}, {"type": "array", "minItems": 1}]}
                    },
                }
            },
        },
        "then": {},
        "else": {"required": ["task_orchestrator"]},
        "$defs": defs,
    }


def mode_file_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a mode file, generated from the surface model."""
    return copy.deepcopy(_generated())
