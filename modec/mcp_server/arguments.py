"""The tools' argument types: every bound documented in the input schema a client reads.

Bounds sit far above any real use and low enough that a runaway or hostile client gets the
error shape (``invalid_arguments``, naming the argument and its limit) instead of the server
reading, compiling, routing or storing megabytes. A task routed by
``orchestrator_route_task`` has at most :data:`MAX_TASK_CHARS` characters of description,
:data:`MAX_TITLE_CHARS` of title, :data:`MAX_TAGS` tags of :data:`MAX_TAG_CHARS` and
:data:`MAX_ENTRIES` metadata values of :data:`MAX_METADATA_CHARS`.

Complexity names: modec's scale is 1–5 (``trivial``, ``simple``, ``moderate``, ``complex``,
``very_complex``); the names MCP Task Orchestrator's specification uses map onto it by
:data:`SPEC_COMPLEXITY`:

===========================  ======  ================
spec name                    level   modec name
===========================  ======  ================
``very_simple``, ``minimal``  1       ``trivial``
``low``, ``easy``             2       ``simple``
``medium``, ``normal``        3       ``moderate``
``high``, ``hard``            4       ``complex``
``very_high``, ``critical``   5       ``very_complex``
===========================  ======  ================
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from modec.runtime.lifecycle import MAX_MODE_NAME_CHARS, RESERVED_ROLE_NAMES, check_mode_name

__all__ = [
    "MAX_TASK_CHARS",
    "SPEC_COMPLEXITY",
    "Complexity",
    "CustomRole",
    "CustomRoles",
    "ModeName",
    "NewModeName",
    "modec_complexity",
]

MAX_NAME_CHARS: Final = 1024
MAX_SESSION_ID_CHARS: Final = 128  # the session store's limit
MAX_TITLE_CHARS: Final = 10_000
MAX_TASK_CHARS: Final = 100_000
MAX_METADATA_CHARS: Final = 1_000
MAX_TAGS: Final = 100
MAX_TAG_CHARS: Final = 200
MAX_ENTRIES: Final = 100
MAX_ROLES: Final = 50

ModeName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="A mode file named by its path relative to the project's "
        ".task_orchestrator/roles/ directory (e.g. 'development_mode.yaml'), or a bundled "
        "mode's file name. Absolute paths and '..' are refused.",
    ),
]
SessionId = Annotated[str, Field(min_length=1, max_length=MAX_SESSION_ID_CHARS)]
ShortText = Annotated[str, Field(max_length=MAX_TITLE_CHARS)]
TaskText = Annotated[
    str,
    Field(
        max_length=MAX_TASK_CHARS,
        description=(f"The task's description: at most {MAX_TASK_CHARS:,} characters."),
    ),
]
Tag = Annotated[str, Field(max_length=MAX_TAG_CHARS)]

#: The specification's complexity names, as modec's (see the module's table).
SPEC_COMPLEXITY: Final[dict[str, str]] = {
    "very_simple": "trivial",
    "minimal": "trivial",
    "low": "simple",
    "easy": "simple",
    "medium": "moderate",
    "normal": "moderate",
    "high": "complex",
    "hard": "complex",
    "very_high": "very_complex",
    "critical": "very_complex",
}
ComplexityName = Literal[
    "trivial",
    "simple",
    "moderate",
    "complex",
    "very_complex",
    "very_simple",
    "minimal",
    "low",
    "easy",
    "medium",
    "normal",
    "high",
    "hard",
    "very_high",
    "critical",
]
Complexity = Annotated[int, Field(ge=1, le=5)] | ComplexityName
MetadataValue = Annotated[str, Field(max_length=MAX_METADATA_CHARS)] | int | float | bool


def modec_complexity(value: Any) -> Any:
    """``value`` on modec's scale: a spec name becomes modec's, anything else is unchanged.

    >>> modec_complexity("high"), modec_complexity("moderate"), modec_complexity(3)
    ('complex', 'moderate', 3)
    """
    return SPEC_COMPLEXITY.get(value, value) if isinstance(value, str) else value


# --------------------------------------------------------------------------- mode names

#: The runtime's own check of a new mode's name
#: (:func:`~modec.runtime.lifecycle.check_mode_name`), so that a name the tool takes is one
#: ``create_mode`` takes; its refusal is a ValueError, which the argument reports.
NewModeName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_MODE_NAME_CHARS,
        description=(
            "File name of the new mode in .task_orchestrator/roles/ ('.yaml' is appended when "
            "missing). An existing file is never replaced. NFC and unchanged by NFKC; only "
            "letters, digits and '_', '-', '.', '/' (no spaces, control, format (bidi) or "
            "other characters); letters of one script (no look-alike mixes such as a "
            "Cyrillic 'а' in a Latin name)."
        ),
    ),
    AfterValidator(check_mode_name),
]


# --------------------------------------------------------------------------- custom roles


class CustomRole(BaseModel):
    """A role added by ``orchestrator_mode_create`` (a role definition of the mode file).

    ``prompt`` is the specification's name for ``role_definition``: give either (both only
    if they are equal).
    """

    model_config = ConfigDict(extra="forbid")

    role_name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            pattern=r"^[a-z][a-z0-9_]*$",
            description="The role's key in the mode file.",
        ),
    ]
    role_definition: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=MAX_TITLE_CHARS,
            description="Who the role is: the prompt an orchestrator gives the specialist.",
        ),
    ] = None
    prompt: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=MAX_TITLE_CHARS,
            description="The specification's name for role_definition (an alias).",
        ),
    ] = None
    description: Annotated[str | None, Field(max_length=MAX_TITLE_CHARS)] = None
    expertise: Annotated[list[ShortText], Field(max_length=MAX_ENTRIES)] = []
    approach: Annotated[list[ShortText], Field(max_length=MAX_ENTRIES)] = []
    output_format: Annotated[str | None, Field(max_length=MAX_TITLE_CHARS)] = None

    @model_validator(mode="after")
    def _one_definition(self) -> CustomRole:
        if self.role_definition is None and self.prompt is None:
            raise ValueError("give the role's role_definition (or its alias prompt)")
        if None not in (self.role_definition, self.prompt) and self.role_definition != self.prompt:
            raise ValueError("role_definition and its alias prompt differ: give one of them")
        return self

    @property
    def definition(self) -> str:
        """The role definition, whichever name it was given under."""
        text = self.role_definition or self.prompt
        assert text is not None  # checked by the validator
        return text


def _distinct_roles(roles: list[CustomRole]) -> list[CustomRole]:
    seen: set[str] = set()
    for role in roles:
        if role.role_name in RESERVED_ROLE_NAMES:
            raise ValueError(f"{role.role_name!r} is a section of the mode file, not a role name")
        if role.role_name in seen:
            raise ValueError(f"role {role.role_name!r} is given twice")
        seen.add(role.role_name)
    return roles


CustomRoles = Annotated[
    list[CustomRole], Field(max_length=MAX_ROLES), AfterValidator(_distinct_roles)
]
