"""The lifecycle's result types: what a switch, resume, termination, restore, validation,
mode listing or mode creation returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from modec.compiler.pipeline import Compilation
from modec.diagnostics import Diagnostic
from modec.runtime.context import ModeContext
from modec.runtime.project import Backup, ResolvedMode
from modec.runtime.sessions import BindingRecord, SessionRecord

__all__ = [
    "CHECK_GROUPS",
    "CreatedMode",
    "ModeSummary",
    "ModeValidation",
    "Restoration",
    "ResumeOutcome",
    "Resumption",
    "RoleSpec",
    "SessionInfo",
    "Switch",
    "Termination",
    "first_error",
]

#: The groups of checks a validation reports (:attr:`ModeValidation.checks`), each with the
#: diagnostic code prefixes that fail it when one of their diagnostics is an error.
CHECK_GROUPS: Final[Mapping[str, tuple[str, ...]]] = {
    "yaml_syntax_valid": ("MC0",),
    "schema_valid": ("MC1",),
    "required_roles_present": ("MC105", "MC202", "MC203"),
    "role_definitions_complete": ("MC2",),
    "routing_rules_valid": ("MC3", "MC4", "MC6"),
    "tests_valid": ("MC5",),
}


class ResumeOutcome(StrEnum):
    UNCHANGED = "unchanged"  # the mode file compiles to the bound hash
    REBOUND = "rebound"  # it changed and compiles: bound to the new hash
    RECOVERED = "recovered"  # a degraded or fallback binding whose file is good again
    DEGRADED = "degraded"  # it broke or vanished: routing on the last good artifact
    FALLBACK = "fallback"  # nothing to route on: bound to the project's default mode


@dataclass(frozen=True, slots=True)
class Switch:
    """A switch: the new context, the binding it replaced, and the backup taken of it
    (None when there was nothing to back up, or the switch was a bind)."""

    context: ModeContext
    previous: BindingRecord | None
    backup: Backup | None


@dataclass(frozen=True, slots=True)
class Resumption:
    context: ModeContext
    outcome: ResumeOutcome
    previous: BindingRecord | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Termination:
    session: SessionRecord
    backup: Backup | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Restoration:
    """A restored mode file, and the session context if it was activated."""

    backup: Backup
    mode_file: str
    path: Path
    mode_hash: str
    context: ModeContext | None = None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """An active session and its mode (``mode_info``; ``None`` when nothing is bound)."""

    session: SessionRecord
    mode_info: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session.session_id,
            "project_root": self.session.project_root,
            "status": self.session.status.value,
            "created_at": self.session.created_at.isoformat(),
            "updated_at": self.session.updated_at.isoformat(),
            "mode_info": self.mode_info,
        }


@dataclass(frozen=True, slots=True)
class ModeSummary:
    """A mode available to the project: a file in ``roles/`` or a bundled template."""

    name: str
    path: Path
    bundled: bool
    valid: bool
    error: str | None
    warnings: int
    specialist_count: int | None
    description: str | None
    mode_hash: str | None
    last_modified: datetime | None
    sessions: tuple[str, ...]

    @property
    def current(self) -> bool:
        """True if an active session is bound to this mode."""
        return bool(self.sessions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "bundled": self.bundled,
            "status": "valid" if self.valid else "invalid",
            "error": self.error,
            "warnings": self.warnings,
            "specialist_count": self.specialist_count,
            "description": self.description,
            "mode_hash": self.mode_hash,
            "last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "is_current": self.current,
            "sessions": list(self.sessions),
        }


@dataclass(frozen=True, slots=True)
class RoleSpec:
    """A custom role for :meth:`ModeRuntime.create_mode`: its key in the mode file, its
    ``role_definition``, and the optional ``description``, ``expertise``, ``approach`` and
    ``output_format`` (left out of the file when empty)."""

    name: str
    definition: str
    description: str | None = None
    expertise: tuple[str, ...] = ()
    approach: tuple[str, ...] = ()
    output_format: str | None = None

    def document(self) -> dict[str, Any]:
        """The role's mapping in the mode file."""
        doc: dict[str, Any] = {"role_definition": self.definition}
        if self.description is not None:
            doc["description"] = self.description
        if self.expertise:
            doc["expertise"] = list(self.expertise)
        if self.approach:
            doc["approach"] = list(self.approach)
        if self.output_format is not None:
            doc["output_format"] = self.output_format
        return doc


@dataclass(frozen=True, slots=True)
class CreatedMode:
    """A mode file written by :meth:`ModeRuntime.create_mode`.

    ``name`` is its mode name in ``roles/`` and ``template`` the mode it extends (as
    resolved); the rest is what it compiled to: ``specialist_roles`` (name to description),
    ``custom_roles``, the resolved ``configuration``, the number of roles in all
    (``role_count``) and the compiler's warnings and notes (``diagnostics``, sorted).
    """

    name: str
    path: Path
    template: str
    mode_hash: str
    specialist_roles: Mapping[str, str]
    custom_roles: tuple[str, ...]
    configuration: Mapping[str, Any]
    role_count: int
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class ModeValidation:
    """A mode compiled without being bound, copied or stored (:meth:`ModeRuntime.validate`).

    ``ok`` when it has no errors and compiled to an artifact (``mode_hash``, else None).
    ``diagnostics`` holds every diagnostic, sorted by position, named as the mode is
    (relative to ``roles/``, or the bundled name). ``specialist_roles`` maps the
    orchestrator's specialists to their descriptions and ``custom_roles`` lists the other
    roles (both empty when the mode could not be built). ``checks`` says, for each group of
    :data:`CHECK_GROUPS`, whether it passed.
    """

    name: str
    bundled: bool
    ok: bool
    mode_hash: str | None
    diagnostics: tuple[Diagnostic, ...]
    specialist_roles: Mapping[str, str]
    custom_roles: tuple[str, ...]
    checks: Mapping[str, bool]

    @classmethod
    def of(cls, resolved: ResolvedMode, compilation: Compilation) -> ModeValidation:
        """The validation of ``resolved`` from its compilation."""
        diagnostics = tuple(compilation.sorted_diagnostics())
        failed = {d.code for d in diagnostics if d.is_error}
        mode, artifact = compilation.mode, compilation.artifact
        return cls(
            name=resolved.name,
            bundled=resolved.bundled,
            ok=compilation.ok and artifact is not None,
            mode_hash=None if artifact is None else artifact.mode_hash,
            diagnostics=diagnostics,
            specialist_roles={} if mode is None else mode.specialist_roles,
            custom_roles=() if mode is None else tuple(mode.custom_roles),
            checks={
                group: not any(code.startswith(prefixes) for code in failed)
                for group, prefixes in CHECK_GROUPS.items()
            },
        )

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """Every diagnostic that is not an error (warnings and notes)."""
        return tuple(d for d in self.diagnostics if not d.is_error)

    @property
    def first_error(self) -> str | None:
        """``file:line:column: CODE message`` of the first error, if any."""
        return first_error(self.diagnostics)


def first_error(diagnostics: Sequence[Diagnostic]) -> str | None:
    error = next((d for d in diagnostics if d.is_error), None)
    return None if error is None else f"{error.location()}: {error.code} {error.message}"
