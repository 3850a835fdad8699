"""The MCP server: ``modec serve`` offers the mode tools of MCP Task Orchestrator over stdio.

A thin shell over :class:`~modec.runtime.lifecycle.ModeRuntime`, built on the official ``mcp``
SDK (:class:`~mcp.server.mcpserver.MCPServer`): each tool maps its arguments onto runtime
calls and the result onto a JSON object (structured content, and the same JSON as text).
Input schemas come from the typed signatures below; the docstrings are the tool descriptions.

Every failure has one shape, returned as a tool result with ``isError`` set, so the server
keeps answering whatever the previous call did::

    {"success": false, "error_type": "validation_failed", "error_message": "...",
     "error_details": {"file": "broken.yaml", "line": 7, "issue": "MC206 ...", ...},
     "recovery_suggestions": ["..."], "fallback_mode": "default_roles.yaml"}

That covers :class:`~modec.diagnostics.ModecError` from the runtime (its ``suggestion`` leads
the recovery suggestions; an :class:`~modec.diagnostics.InvalidModeError` also lists every
located diagnostic), arguments that do not match a tool's schema (wrong types, missing or
unknown fields, oversized strings), unknown tools and unexpected crashes. ``fallback_mode``
is the mode the session concerned keeps routing with (its current binding), else the mode a
new session of the project would get.

Mode file names are resolved by the runtime (:func:`~modec.runtime.project.resolve_mode`):
confined to the project's ``.task_orchestrator/roles/`` and the bundled modes; absolute
paths, ``..`` and symlinks leaving ``roles/`` are refused (``error_type: path_not_allowed``).
Backup names are confined to ``backups/`` the same way.
"""

from __future__ import annotations

import difflib
import inspect
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, ValidationError

from modec._version import __version__
from modec.compiler.artifact import CorruptArtifactError
from modec.diagnostics import (
    Diagnostic,
    InvalidModeError,
    ModecError,
    ModeFileNotFoundError,
    SessionNotActiveError,
)
from modec.runtime.lifecycle import (
    RESERVED_ROLE_NAMES,
    ModeFileExistsError,
    ModeRuntime,
    RoleSpec,
    SessionNotBoundError,
    SessionRequiredError,
    UnreachableTemplateError,
)
from modec.runtime.project import (
    DEFAULT_MODES,
    BackupError,
    ProjectType,
    UnsafeModePathError,
)
from modec.runtime.router import AmbiguousRouteError, Task
from modec.runtime.store import ArtifactNotFoundError

__all__ = [
    "ERROR_TYPES",
    "RECOVERY_HINTS",
    "SERVER_NAME",
    "ModeServer",
    "ModeTools",
    "build_server",
    "error_payload",
    "serve",
]

SERVER_NAME: Final = "modec"
log = logging.getLogger(__name__)

# Bounds on argument sizes: far above any real use, low enough that a runaway or hostile
# client gets the error shape instead of the server reading, compiling or storing megabytes.
MAX_NAME_CHARS: Final = 1024
MAX_SESSION_ID_CHARS: Final = 128  # the session store's limit
MAX_TITLE_CHARS: Final = 10_000
MAX_TEXT_CHARS: Final = 1_000_000
MAX_TAGS: Final = 100
MAX_TAG_CHARS: Final = 200
MAX_ENTRIES: Final = 100
MAX_ROLES: Final = 50
_MAX_LISTED_DIAGNOSTICS: Final = 50

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
LongText = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
Tag = Annotated[str, Field(max_length=MAX_TAG_CHARS)]
ComplexityName = Literal["trivial", "simple", "moderate", "complex", "very_complex"]
Complexity = Annotated[int, Field(ge=1, le=5)] | ComplexityName
MetadataValue = Annotated[str, Field(max_length=MAX_TITLE_CHARS)] | int | float | bool


class CustomRole(BaseModel):
    """A role added by ``orchestrator_mode_create`` (a role definition of the mode file)."""

    model_config = ConfigDict(extra="forbid")

    role_name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$",
                                    description="The role's key in the mode file.")]
    role_definition: Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS, description=(
        "Who the role is: the prompt an orchestrator gives the specialist."))]
    description: Annotated[str | None, Field(max_length=MAX_TITLE_CHARS)] = None
    expertise: Annotated[list[ShortText], Field(max_length=MAX_ENTRIES)] = []
    approach: Annotated[list[ShortText], Field(max_length=MAX_ENTRIES)] = []
    output_format: Annotated[str | None, Field(max_length=MAX_TITLE_CHARS)] = None


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


# --------------------------------------------------------------------------- the error shape

#: error_type of each error class; the most specific class in an exception's MRO wins.
ERROR_TYPES: Final[dict[type[BaseException], str]] = {
    InvalidModeError: "validation_failed",
    UnsafeModePathError: "path_not_allowed",
    ModeFileNotFoundError: "mode_file_not_found",
    SessionNotBoundError: "session_not_bound",
    SessionRequiredError: "invalid_request",
    ModeFileExistsError: "already_exists",
    UnreachableTemplateError: "invalid_request",
    SessionNotActiveError: "session_not_active",
    BackupError: "backup_failed",
    AmbiguousRouteError: "ambiguous_route",
    ArtifactNotFoundError: "artifact_not_found",
    CorruptArtifactError: "corrupt_artifact",
    ModecError: "modec_error",
    ValidationError: "invalid_arguments",
    FileExistsError: "already_exists",
    ValueError: "invalid_request",
    OSError: "io_error",
}

#: What an MCP client can do about each error_type (after the error's own suggestion).
RECOVERY_HINTS: Final[dict[str, str]] = {
    "validation_failed": "call orchestrator_mode_validate for every located diagnostic",
    "path_not_allowed": "call orchestrator_mode_list for the mode names this project offers",
    "mode_file_not_found": "call orchestrator_mode_list for the mode names this project offers",
    "session_not_active": "call orchestrator_get_status for the active sessions, or "
    "orchestrator_mode_select without session_id to start one",
    "session_not_bound": "call orchestrator_mode_select with this session_id to bind a mode",
    "backup_failed": "call orchestrator_mode_backup to take a fresh backup",
    "artifact_not_found": "call orchestrator_mode_select to rebind the session to a mode",
    "ambiguous_route": "the mode's hit policy is unique and two rules match: call "
    "orchestrator_route_task with explain=true to see them, then make their conditions "
    "exclusive",
    "corrupt_artifact": "call orchestrator_mode_select to recompile and rebind the mode",
    "modec_error": "call orchestrator_get_status to check the session and its mode",
    "already_exists": "choose another name; existing files are never replaced",
    "invalid_request": "check the tool's description for how its arguments combine",
    "io_error": "check that the project's .task_orchestrator/ directory is writable",
    "invalid_arguments": "check the arguments against the tool's input schema (tools/list)",
    "unknown_tool": "call tools/list for the tools this server offers",
    "internal_error": "retry the call; if it fails again, report it with the server's log",
}


def error_type_of(exc: BaseException) -> str:
    """The ``error_type`` of ``exc`` (``internal_error`` for anything unexpected)."""
    for cls in type(exc).__mro__:
        if cls in ERROR_TYPES:
            return ERROR_TYPES[cls]
    return "internal_error"


def located(d: Diagnostic) -> dict[str, Any]:
    """A diagnostic as JSON: code, severity, message, hint and its place in the file (named
    as the runtime names mode files: relative to ``roles/``, or a bundled mode's name)."""
    span = d.span
    return {
        "code": d.code,
        "severity": d.severity.value,
        "message": d.message,
        "hint": d.hint,
        "file": span.file if span else None,
        "line": span.line if span else None,
        "column": span.column if span else None,
        "end_line": span.end_line if span else None,
        "end_column": span.end_column if span else None,
    }


def _argument_problems(exc: ValidationError) -> list[dict[str, str]]:
    # Only where and what: the rejected value may be megabytes of the caller's data.
    return [
        {"argument": ".".join(str(p) for p in e["loc"]) or "(arguments)", "problem": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]


def _unique(items: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def error_payload(
    exc: BaseException,
    *,
    fallback_mode: str | None,
    file: str | None = None,
    error_type: str | None = None,
) -> dict[str, Any]:
    """The uniform failure object for ``exc``.

    ``error_details`` always has ``file``, ``line`` and ``issue``: for an
    :class:`~modec.diagnostics.InvalidModeError` those of its first error, with the located
    diagnostics (errors first, at most 50) under ``diagnostics``; for invalid arguments the
    first problem, with all of them under ``arguments``; otherwise ``file`` (the file
    argument of the call, for file errors) and the message. ``recovery_suggestions`` starts
    with the error's own suggestion.

    >>> p = error_payload(ModeFileNotFoundError("no mode 'x.yaml'"), fallback_mode="a.yaml",
    ...                   file="x.yaml")
    >>> p["success"], p["error_type"], p["error_details"]["file"], p["fallback_mode"]
    (False, 'mode_file_not_found', 'x.yaml', 'a.yaml')
    """
    kind = error_type or error_type_of(exc)
    message = exc.message if isinstance(exc, ModecError) else str(exc)
    details: dict[str, Any] = {"file": file, "line": None, "issue": message}
    suggestions: list[str | None] = [exc.suggestion if isinstance(exc, ModecError) else None]
    if isinstance(exc, InvalidModeError):
        errors = [d for d in exc.diagnostics if d.is_error] or list(exc.diagnostics)
        if errors:
            first = located(errors[0])
            details.update(file=first["file"] or file, line=first["line"],
                           issue=f"{first['code']} {first['message']}")
            where = ":".join(str(first[k]) for k in ("file", "line", "column") if first[k])
            message = (f"mode file {details['file']} has {len(errors)} error(s); first: "
                       f"{where}: {details['issue']}")
        ordered = sorted(exc.diagnostics, key=lambda d: not d.is_error)  # errors first
        details["diagnostics"] = [located(d) for d in ordered[:_MAX_LISTED_DIAGNOSTICS]]
        suggestions += [d.hint for d in errors]
    elif isinstance(exc, ValidationError):
        problems = _argument_problems(exc)
        message = f"invalid arguments: {len(problems)} problem(s); first: " + (
            f"{problems[0]['argument']}: {problems[0]['problem']}" if problems else "?"
        )
        details["issue"] = message
        details["arguments"] = problems
    elif isinstance(exc, OSError) and not isinstance(exc, FileExistsError):
        message = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
        details["issue"] = message
    elif kind == "internal_error":
        message = f"internal error ({type(exc).__name__}): {exc}"
        details["issue"] = message
    suggestions.append(RECOVERY_HINTS.get(kind))
    return {
        "success": False,
        "error_type": kind,
        "error_message": message,
        "error_details": details,
        "recovery_suggestions": _unique(suggestions),
        "fallback_mode": fallback_mode,
    }


def _failure_result(payload: Mapping[str, Any]) -> CallToolResult:
    text = json.dumps(payload, ensure_ascii=False, indent=2)
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=dict(payload),
        is_error=True,
    )


# --------------------------------------------------------------------------- the tools

def _now() -> str:
    return datetime.now(UTC).isoformat()


class ModeTools:
    """The MCP tools of one project, each a thin call into its :class:`ModeRuntime`.

    The public methods are the tools (their docstrings are the descriptions MCP clients
    show); :meth:`failure` builds the error shape for any exception a tool call raised.
    """

    def __init__(self, runtime: ModeRuntime) -> None:
        self.runtime = runtime

    # ------------------------------------------------------------------ helpers

    def _relative(self, path: Path) -> str:
        root = self.runtime.project.root
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)

    def _session_id(self, session_id: str | None) -> str | None:
        if session_id is not None:
            return session_id
        current = self.runtime.current_session()
        return None if current is None else current.session_id

    def _require_session(self, session_id: str | None, purpose: str) -> str:
        sid = self._session_id(session_id)
        if sid is None:
            raise SessionNotActiveError(
                f"this project has no active session to {purpose}",
                suggestion="start one with orchestrator_mode_select",
            )
        return sid

    def fallback_mode(self, session_id: object = None) -> str:
        """The mode the session concerned keeps (or a new session would get)."""
        try:
            sid = self._session_id(session_id if isinstance(session_id, str) else None)
            binding = None if sid is None else self.runtime.binding(sid)
            return binding.mode_file if binding is not None else self.runtime.default_mode()
        except Exception:  # the fallback must never hide the error it is reported with
            log.warning("cannot determine the fallback mode", exc_info=True)
            return DEFAULT_MODES[ProjectType.DEFAULT]

    def failure(
        self, exc: BaseException, arguments: Mapping[str, Any], error_type: str | None = None
    ) -> dict[str, Any]:
        """The error shape for ``exc``, raised by a call with ``arguments``."""
        kind = error_type or error_type_of(exc)
        if kind == "internal_error":
            log.error("tool call failed unexpectedly", exc_info=exc)
        file = None
        if isinstance(exc, ModeFileNotFoundError | ModeFileExistsError
                      | UnreachableTemplateError | BackupError | FileExistsError):
            for key in ("mode_file", "template_source", "mode_name", "backup_file",
                        "backup_name"):
                value = arguments.get(key)
                if isinstance(value, str) and len(value) <= MAX_NAME_CHARS:
                    file = value
                    break
        return error_payload(
            exc, fallback_mode=self.fallback_mode(arguments.get("session_id")), file=file,
            error_type=kind,
        )

    @staticmethod
    def _mode_details(specialists: Iterable[str], custom: Iterable[str],
                      configuration: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "specialist_roles": list(specialists),
            "custom_roles": list(custom),
            "default_complexity": configuration.get("default_complexity"),
            "auto_task_routing": configuration.get("auto_task_routing"),
        }

    # ------------------------------------------------------------------ tools

    def orchestrator_mode_select(
        self,
        mode_file: ModeName,
        session_id: SessionId | None = None,
        validate_first: bool = True,
        auto_copy_if_missing: bool = True,
        backup_current: bool = True,
    ) -> dict[str, Any]:
        """Bind a session to a mode file (its router routes the session's tasks from then on).

        Without session_id: the project's most recent active session, or a new session
        started for the project when it has none. The mode is always compiled first; an
        invalid mode is refused (error_type validation_failed, with every located
        diagnostic) and the session keeps its current mode, so validate_first=false changes
        nothing. auto_copy_if_missing: a bundled mode the project lacks is copied into
        .task_orchestrator/roles/ (false: refused instead). backup_current: the current
        binding is backed up to .task_orchestrator/backups/ before switching.

        Returns mode_activated, session_id, mode_details (specialist_roles, custom_roles,
        default_complexity, auto_task_routing), previous_mode, backup_location, mode_hash.
        """
        runtime = self.runtime
        if not auto_copy_if_missing and runtime.resolve_mode(mode_file).bundled:
            raise ModeFileNotFoundError(
                f"{mode_file!r} is a bundled mode not yet in .task_orchestrator/roles/, and "
                "auto_copy_if_missing is false",
                suggestion="pass auto_copy_if_missing=true to copy the bundled mode into the "
                "project",
            )
        sid = self._session_id(session_id)
        previous: str | None = None
        backup = None
        if sid is None:
            context = runtime.initialize_session(mode_file=mode_file)
        else:
            switch = runtime.switch(sid, mode_file, backup=backup_current)
            context, backup = switch.context, switch.backup
            previous = None if switch.previous is None else switch.previous.mode_file
        return {
            "success": True,
            "mode_activated": context.mode_file,
            "session_id": context.session_id,
            "mode_details": self._mode_details(
                context.specialist_roles, context.custom_roles, context.configuration
            ),
            "previous_mode": previous,
            "backup_location": None if backup is None else self._relative(backup.path),
            "mode_hash": context.mode_hash,
            "validation_status": context.validation_status.value,
        }

    def orchestrator_mode_list(
        self, include_invalid: bool = False, show_details: bool = False
    ) -> dict[str, Any]:
        """List the project's modes (files in .task_orchestrator/roles/), each compiled.

        available_modes: filename, status (valid or invalid), specialist_count,
        last_modified, is_current (bound to the project's current session), description and
        error (the first one, for invalid modes); invalid modes only with include_invalid.
        config_templates: the bundled modes the project has not copied yet (any of them can
        be passed to orchestrator_mode_select). show_details adds mode_hash, warnings, the
        active sessions bound to each mode and its path.
        """
        current = self.runtime.current_session()
        binding = None if current is None else self.runtime.binding(current.session_id)
        current_mode = None if binding is None else binding.mode_file
        available: list[dict[str, Any]] = []
        templates: list[dict[str, Any]] = []
        hidden = 0
        for mode in self.runtime.list_modes():
            entry: dict[str, Any] = {
                "filename": mode.name,
                "status": "valid" if mode.valid else "invalid",
                "specialist_count": mode.specialist_count,
                "last_modified": mode.last_modified.isoformat() if mode.last_modified else None,
                "is_current": mode.name == current_mode,
                "description": mode.description,
                "error": mode.error,
            }
            if show_details:
                entry.update(
                    mode_hash=mode.mode_hash,
                    warnings=mode.warnings,
                    bound_sessions=list(mode.sessions),
                    path=self._relative(mode.path) if not mode.bundled else None,
                )
            if mode.bundled:
                entry["available_for_copy"] = mode.valid
                templates.append(entry)
            elif mode.valid or include_invalid:
                available.append(entry)
            else:
                hidden += 1
        return {
            "success": True,
            "active_session": None if current is None else current.session_id,
            "current_mode": current_mode,
            "available_modes": available,
            "invalid_modes_hidden": hidden,
            "config_templates": templates,
        }

    def orchestrator_mode_validate(self, mode_file: ModeName) -> dict[str, Any]:
        """Compile a mode file without binding it, and report every problem with its place.

        Returns is_valid, validation_details (which groups of checks passed),
        specialist_roles, custom_roles, errors and warnings as located diagnostics (code,
        severity, message, hint, file, line, column), repair_suggestions and mode_hash.
        An invalid mode is a successful validation (success true, is_valid false); a mode
        that cannot be found or a name leaving roles/ is an error.
        """
        validation = self.runtime.validate(mode_file)
        return {
            "success": True,
            "is_valid": validation.ok,
            "mode_file": validation.name,
            "bundled": validation.bundled,
            "mode_hash": validation.mode_hash,
            "validation_details": dict(validation.checks),
            "specialist_roles": list(validation.specialist_roles),
            "custom_roles": list(validation.custom_roles),
            "errors": [located(d) for d in validation.errors],
            "warnings": [located(d) for d in validation.warnings],
            "repair_suggestions": _unique(d.hint for d in validation.diagnostics),
        }

    def orchestrator_mode_create(
        self,
        mode_name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS, description=(
            "File name of the new mode in .task_orchestrator/roles/ ('.yaml' is appended "
            "when missing). An existing file is never replaced."))],
        template_source: Annotated[ModeName, Field(description=(
            "The mode the new one extends (mode_metadata.extends): a mode file in the new "
            "file's folder of roles/, or a bundled mode."))] = "default_roles.yaml",
        custom_roles: CustomRoles = [],  # noqa: B006
        mode_settings: Annotated[
            dict[str, JsonValue], Field(max_length=MAX_ENTRIES, description=(
                "mode_configuration keys: default_complexity, auto_task_routing, hit_policy, "
                "default_specialist, ...; other keys are kept as free settings."))
        ] = {},  # noqa: B006
    ) -> dict[str, Any]:
        """Create a mode file that extends a template with custom roles and settings.

        The new file names the template in mode_metadata.extends, so it inherits the
        template's roles and routing rules; custom_roles become role definitions and
        mode_settings its mode_configuration. It is compiled before it is written (an
        invalid result is refused with every located diagnostic, and nothing is written),
        then written atomically. Returns mode_created, file_path, mode_hash, mode_details
        and the compiler's warnings.
        """
        created = self.runtime.create_mode(
            mode_name,
            template_source,
            [RoleSpec(role.role_name, role.role_definition, role.description,
                      tuple(role.expertise), tuple(role.approach), role.output_format)
             for role in custom_roles],
            mode_settings,
            created_by="modec MCP server (orchestrator_mode_create)",
        )
        return {
            "success": True,
            "mode_created": created.name,
            "file_path": self._relative(created.path),
            "template_source": created.template,
            "mode_hash": created.mode_hash,
            "mode_details": {
                **self._mode_details(
                    created.specialist_roles, created.custom_roles, created.configuration
                ),
                "total_roles": created.role_count,
                "mode_settings": dict(mode_settings),
            },
            "validation_status": "valid",
            "warnings": [located(d) for d in created.diagnostics],
            "available_for_activation": True,
        }

    def orchestrator_mode_backup(
        self,
        backup_name: Annotated[str | None, Field(min_length=1, max_length=100, description=(
            "File name in .task_orchestrator/backups/ (letters, digits, '_', '-', '.'); "
            "default mode_backup_<UTC time>_<session>.yaml. Never replaces a file."))] = None,
        include_session_binding: bool = True,
        session_id: SessionId | None = None,
    ) -> dict[str, Any]:
        """Back up a session's mode file to .task_orchestrator/backups/.

        The session is session_id, else the project's most recent active session. With
        include_session_binding the backup also records the binding (session, mode hash,
        validation status), so orchestrator_mode_restore can rebind that session. Returns
        backup_created, backup_path, backed_up_mode, session_id, mode_hash, backup_size
        (bytes) and created_at.
        """
        runtime = self.runtime
        sid = self._require_session(session_id, "back up")
        if include_session_binding:
            backup = runtime.backup(sid, name=backup_name)
        else:
            backup = runtime.backup(mode_file=runtime.context(sid).mode_file, name=backup_name)
        return {
            "success": True,
            "backup_created": backup.name,
            "backup_path": self._relative(backup.path),
            "backed_up_mode": backup.mode_file,
            "session_id": backup.session_id,
            "mode_hash": backup.mode_hash,
            "backup_size": backup.path.stat().st_size,
            "has_content": backup.has_content,
            "created_at": backup.created_at.isoformat(),
        }

    def orchestrator_mode_restore(
        self,
        backup_file: Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS, description=(
            "A backup's file name in .task_orchestrator/backups/."))],
        activate_after_restore: bool = False,
        restore_session_binding: bool = True,
        session_id: SessionId | None = None,
    ) -> dict[str, Any]:
        """Write a backup's mode file back into .task_orchestrator/roles/ (compiled first,
        replaced atomically), and optionally switch a session to it.

        activate_after_restore switches a session to the restored mode: session_id if
        given; else, with restore_session_binding, the session the backup was taken from
        (re-establishing its binding; a backup of a mode file alone names none and is
        refused); else the project's most recent active session.
        Returns restored_mode, backup_source, mode_hash, mode_activated, session_id,
        session_binding_restored and restored_at.
        """
        target = session_id
        if target is None and not restore_session_binding:
            target = self._session_id(None)
        restoration = self.runtime.restore(
            backup_file, activate_after_restore, session_id=target
        )
        context = restoration.context
        return {
            "success": True,
            "restored_mode": restoration.mode_file,
            "restored_path": self._relative(restoration.path),
            "backup_source": restoration.backup.name,
            "mode_hash": restoration.mode_hash,
            "mode_activated": context is not None,
            "session_id": None if context is None else context.session_id,
            "session_binding_restored": context is not None
            and context.session_id == restoration.backup.session_id,
            "validation_status": "valid",
            "restored_at": _now(),
        }

    def orchestrator_get_status(self) -> dict[str, Any]:
        """The active sessions and the mode each is bound to.

        Each session has session_id, project_root, status, created_at, updated_at and
        mode_info (mode_file, mode_hash, validation_status, specialist_count,
        specialist_roles, custom_roles, routing_rules, default_specialist; an error entry
        when its compiled mode cannot be loaded). current_session is the project's most
        recent active session (the one tools use when no session_id is given).
        """
        sessions = self.runtime.status()
        current = self.runtime.current_session()
        return {
            "success": True,
            "project_root": os.fspath(self.runtime.project.root),
            "current_session": None if current is None else current.session_id,
            "active_session_count": len(sessions),
            "sessions": [info.to_dict() for info in sessions],
        }

    def orchestrator_route_task(
        self,
        session_id: SessionId,
        description: LongText,
        title: ShortText = "",
        tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = [],  # noqa: B006
        complexity: Complexity | None = None,
        metadata: Annotated[dict[str, MetadataValue], Field(max_length=MAX_ENTRIES)] = {},  # noqa: B006
        explain: bool = False,
    ) -> dict[str, Any]:
        """Route a task with the session's mode: which task type and specialist take it.

        Returns decision (task_type, specialist, secondary_review, complexity,
        parallel_execution, rule, matches, mode_hash, evidence: what matched where), the
        session's mode_file and validation_status ('degraded' when it routes on its last good
        mode because the file broke). explain adds every row of the decision table, fired or
        not and why.
        """
        task = Task(title=title, description=description, tags=tuple(tags),
                    complexity=complexity, metadata=dict(metadata))
        context = self.runtime.context(session_id)
        out: dict[str, Any] = {
            "success": True,
            "session_id": session_id,
            "mode_file": context.mode_file,
            "validation_status": context.validation_status.value,
        }
        if explain:
            explanation = context.router.explain(task).to_dict()
            out["decision"] = explanation.pop("decision")
            out["explanation"] = explanation
        else:
            out["decision"] = context.router.route(task).to_dict(evidence=True)
        return out


#: The tools in the order tools/list shows them, with their MCP annotations.
TOOLS: Final[tuple[tuple[str, ToolAnnotations], ...]] = (
    ("orchestrator_mode_select", ToolAnnotations(
        title="Select a mode", read_only_hint=False, destructive_hint=False)),
    ("orchestrator_mode_list", ToolAnnotations(title="List modes", read_only_hint=True)),
    ("orchestrator_mode_validate", ToolAnnotations(
        title="Validate a mode", read_only_hint=True)),
    ("orchestrator_mode_create", ToolAnnotations(
        title="Create a mode", read_only_hint=False, destructive_hint=False)),
    ("orchestrator_mode_backup", ToolAnnotations(
        title="Back up a session's mode", read_only_hint=False, destructive_hint=False)),
    ("orchestrator_mode_restore", ToolAnnotations(
        title="Restore a mode from a backup", read_only_hint=False, destructive_hint=True)),
    ("orchestrator_get_status", ToolAnnotations(
        title="Sessions and their modes", read_only_hint=True)),
    ("orchestrator_route_task", ToolAnnotations(title="Route a task", read_only_hint=True)),
)


# --------------------------------------------------------------------------- the server


class ModeServer(MCPServer[Any]):
    """An :class:`MCPServer` whose every failed tool call returns the error shape.

    The SDK reports arguments that fail the input schema, unknown tools and exceptions
    from a tool as bare error text; :meth:`call_tool` turns each into
    :func:`error_payload` instead, and also refuses arguments a tool does not take (a
    misspelt ``sesion_id`` would otherwise be dropped silently).
    """

    def __init__(self, tools: ModeTools) -> None:
        super().__init__(
            SERVER_NAME,
            title="modec: the mode compiler",
            version=__version__,
            instructions=(
                "Mode tools of MCP Task Orchestrator, backed by compiled routers. Bind a session "
                "to a mode with orchestrator_mode_select, then route tasks with "
                "orchestrator_route_task. Mode files live in the project's "
                ".task_orchestrator/roles/ directory; failures return success=false with "
                "error_type, error_details and recovery_suggestions."
            ),
            log_level="WARNING",
        )
        self.tools = tools
        self._parameters: dict[str, tuple[str, ...]] = {}
        for name, hints in TOOLS:
            method: Callable[..., dict[str, Any]] = getattr(tools, name)
            self.add_tool(method, name=name, annotations=hints, structured_output=True)
            self._parameters[name] = tuple(inspect.signature(method).parameters)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Run the tool; any failure comes back as :func:`error_payload` with ``isError``."""
        accepted = self._parameters.get(name)
        if accepted is None:
            problem: BaseException = ModecError(
                f"unknown tool {name!r}",
                suggestion=f"the tools are: {', '.join(self._parameters)}",
            )
            return await self._failure(problem, arguments, "unknown_tool")
        unknown = [key for key in arguments if key not in accepted]
        if unknown:
            close = [m for key in unknown for m in difflib.get_close_matches(key, accepted, 1)]
            problem = ModecError(
                f"{name} takes no argument {', '.join(map(repr, unknown))}",
                suggestion=(f"did you mean {', '.join(map(repr, close))}? " if close else "")
                + f"{name} takes: {', '.join(accepted)}",
            )
            return await self._failure(problem, arguments, "invalid_arguments")
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            # Bad arguments: ToolError from the ValidationError; a failing tool: the
            # UnexpectedToolError wrapper around what it raised.
            return await self._failure(exc.__cause__ or exc, arguments)

    async def _failure(
        self, exc: BaseException, arguments: Mapping[str, Any], error_type: str | None = None
    ) -> CallToolResult:
        payload = await anyio.to_thread.run_sync(self.tools.failure, exc, arguments, error_type)
        return _failure_result(payload)


def build_server(runtime: ModeRuntime) -> ModeServer:
    """The MCP server of ``runtime``'s project (run it with ``.run("stdio")``)."""
    return ModeServer(ModeTools(runtime))


def serve(project_root: str | os.PathLike[str] = ".", database_url: str | None = None) -> None:
    """Serve the project's mode tools on stdin/stdout until the client disconnects.

    ``database_url`` defaults as in :class:`ModeRuntime` (``$MODEC_DATABASE_URL``, else the
    project's ``.task_orchestrator/modec.db``).
    """
    with ModeRuntime(project_root, database_url) as runtime:
        build_server(runtime).run("stdio")
