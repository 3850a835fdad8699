"""The JSON Schema of the mode file format, for editors (the YAML language server).

It describes what authors write (the YAML), not the IR. ``modec schema`` prints it.
"""

from __future__ import annotations

from typing import Any

from modec.compiler.ir import BUILTIN_KEYWORDS, COMPLEXITY_NAMES

__all__ = ["SCHEMA_ID", "mode_file_schema"]

SCHEMA_ID = "https://modec.dev/schema/mode-file.json"

_NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
_TEXT_LIST = {"type": "array", "items": {"type": "string"}}
_NAMES = {"oneOf": [_NAME, {"type": "array", "items": _NAME}]}
_COMPLEXITY = {
    "oneOf": [
        {"type": "integer", "minimum": 1, "maximum": 5},
        {"enum": list(COMPLEXITY_NAMES)},
    ]
}


def _role(orchestrator: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {
        "role_definition": {"type": "string", "description": "Who this role is."},
        "expertise": _TEXT_LIST,
        "approach": _TEXT_LIST,
        "output_format": {"type": "string"},
    }
    if orchestrator:
        props["specialist_roles"] = {
            "type": "object",
            "description": "Specialist role name -> one-line description.",
            "propertyNames": _NAME,
            "additionalProperties": {"type": "string"},
        }
    return {
        "type": "object",
        "required": ["role_definition"],
        "properties": props,
        "additionalProperties": True,
    }


def mode_file_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a mode file.

    >>> s = mode_file_schema()
    >>> s["required"], "task_routing_rules" in s["properties"]
    (['task_orchestrator'], True)
    """
    rule = {
        "type": "object",
        "description": "A routing rule. Builtin task types ("
        + ", ".join(BUILTIN_KEYWORDS)
        + ") and general_tasks may omit a condition.",
        "properties": {
            "required_specialist": _NAME,
            "secondary_review": _NAMES,
            "complexity_boost": {"type": "integer", "minimum": -4, "maximum": 4},
            "parallel_execution": {"type": "boolean"},
            "priority": {"type": "integer", "description": "Higher runs earlier; default 0."},
            "keywords": {"type": "array", "items": {"type": "string", "minLength": 1},
                         "minItems": 1},
            "match": {"enum": ["substring", "word"]},
            "field": {"enum": ["title", "description", "text", "tags"]},
            "when": {"type": "string", "description": "A condition, e.g. "
                     "'tags contains \"hotfix\" or title matches /^fix:/'"},
        },
        "not": {"required": ["when", "keywords"]},
        "additionalProperties": True,
    }
    task = {
        "oneOf": [
            {"type": "string"},
            {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "tags": _TEXT_LIST,
                    "complexity": _COMPLEXITY,
                    "metadata": {"type": "object",
                                 "additionalProperties": {"type": ["string", "number",
                                                                   "boolean"]}},
                },
                "additionalProperties": False,
            },
        ]
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "modec mode file",
        "type": "object",
        "required": ["task_orchestrator"],
        "properties": {
            "mode_metadata": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "version": {"type": ["string", "number"]},
                    "created_by": {"type": "string"},
                    "created_at": {"type": "string"},
                    "compatible_versions": {"oneOf": [{"type": "string"}, _TEXT_LIST]},
                    "extends": {"oneOf": [{"type": "string"}, _TEXT_LIST]},
                },
            },
            "mode_configuration": {
                "type": "object",
                "properties": {
                    "default_complexity": _COMPLEXITY,
                    "auto_task_routing": {"type": "boolean"},
                    "max_subtask_depth": {"type": "integer", "minimum": 0},
                    "progress_aggregation": {"type": "string"},
                    "hit_policy": {"enum": ["first", "unique", "collect"]},
                    "default_specialist": _NAME,
                    "builtin_task_types": {"type": "boolean"},
                },
                "additionalProperties": True,
            },
            "task_orchestrator": _role(orchestrator=True),
            "task_routing_rules": {
                "type": "object",
                "propertyNames": _NAME,
                "additionalProperties": rule,
            },
            "validation_rules": {
                "type": "object",
                "properties": {
                    "required_roles": {"type": "array", "items": _NAME},
                    "optional_roles": {"type": "array", "items": _NAME},
                    "minimum_specialist_count": {"type": "integer", "minimum": 0},
                    "maximum_specialist_count": {"type": "integer", "minimum": 0},
                },
                "additionalProperties": False,
            },
            "tests": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["task"],
                    "properties": {
                        "task": task,
                        "expect_type": _NAME,
                        "expect_specialist": _NAME,
                    },
                    "additionalProperties": False,
                },
            },
        },
        "additionalProperties": _role(),
    }
