"""The one failure shape of the mode tools (no ``mcp`` import: hosts and tests use it alike).

Every failure has one shape, returned as a tool result with ``isError`` set::

    {"success": false, "error_type": "validation_failed", "error_message": "...",
     "error_details": {"file": "broken.yaml", "line": 7, "issue": "MC206 ...", ...},
     "recovery_suggestions": ["..."], "fallback_mode": "default_roles.yaml"}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

from pydantic import ValidationError

from modec.compiler.artifact import CorruptArtifactError
from modec.diagnostics import (
    Diagnostic,
    InvalidModeError,
    ModecError,
    ModeFileNotFoundError,
    SessionNotActiveError,
)
from modec.runtime.lifecycle import (
    ModeFileExistsError,
    SessionNotBoundError,
    SessionRequiredError,
    UnreachableTemplateError,
)
from modec.runtime.project import BackupError, UnsafeModePathError
from modec.runtime.router import AmbiguousRouteError
from modec.runtime.store import ArtifactNotFoundError

__all__ = [
    "ERROR_TYPES",
    "RECOVERY_HINTS",
    "error_payload",
    "error_text",
    "error_type_of",
    "located",
]

_MAX_LISTED_DIAGNOSTICS: Final = 50


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
    """A diagnostic as JSON: :meth:`Diagnostic.to_dict() <modec.diagnostics.Diagnostic.to_dict>`
    (the one shape: code, severity, span, message, hint, fix, related), with the span's
    place repeated flat (``file``, ``line``, ``column``, ``end_line``, ``end_column``; the
    file named as the runtime names mode files: relative to ``roles/``, or a bundled mode's
    name) for clients of the seed's tools."""
    span = d.span
    return {
        **d.to_dict(),
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


def unique_texts(items: Iterable[str | None]) -> list[str]:
    """The non-empty texts of ``items``, each once, in order."""
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
            details.update(
                file=first["file"] or file,
                line=first["line"],
                issue=f"{first['code']} {first['message']}",
            )
            where = ":".join(str(first[k]) for k in ("file", "line", "column") if first[k])
            message = (
                f"mode file {details['file']} has {len(errors)} error(s); first: "
                f"{where}: {details['issue']}"
            )
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
        "recovery_suggestions": unique_texts(suggestions),
        "fallback_mode": fallback_mode,
    }


def error_text(payload: dict[str, Any]) -> str:
    """The text content of a failure result: the payload's JSON."""
    return json.dumps(payload, ensure_ascii=False, indent=2)
