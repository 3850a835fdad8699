"""The mode tools of MCP Task Orchestrator as plain methods over a :class:`ModeRuntime`.

No ``mcp`` import: :class:`ModeTools` is served by ``modec serve``
(:mod:`modec.mcp_server.server`) and registered on a host's own server
(:func:`modec.mcp_server.hosting.register`), under mcp 2.x or 1.x. Each tool maps its
arguments onto runtime calls and the result onto a JSON object; input schemas come from the
typed signatures below (every string and list has a documented maximum), the docstrings are
the tool descriptions, and failures become :func:`~modec.mcp_server.errors.error_payload`.

Mode file names are resolved by the runtime (:func:`~modec.runtime.project.resolve_mode`):
confined to the project's ``.task_orchestrator/roles/`` and the bundled modes; absolute
paths, ``..`` and symlinks leaving ``roles/`` are refused (``error_type: path_not_allowed``).
Backup names are confined to ``backups/`` the same way.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import Field, JsonValue

from modec.diagnostics import (
    ModecError,
    ModeFileNotFoundError,
    SessionNotActiveError,
)
from modec.fs import write_atomic
from modec.mcp_server.arguments import (
    MAX_ENTRIES,
    MAX_NAME_CHARS,
    MAX_TAGS,
    Complexity,
    CustomRoles,
    MetadataValue,
    ModeName,
    NewModeName,
    SessionId,
    ShortText,
    Tag,
    TaskText,
    modec_complexity,
)
from modec.mcp_server.errors import error_payload, error_type_of, located, unique_texts
from modec.mcp_server.roles import MAX_LISTED_FILES, RolesEntry, scan_roles
from modec.mcp_server.shapes import bounded_decision, bounded_explanation, seed_mode_info
from modec.runtime.context import ModeContext
from modec.runtime.lifecycle import (
    ModeFileExistsError,
    ModeRuntime,
    RoleSpec,
    UnreachableTemplateError,
)
from modec.runtime.project import DEFAULT_MODES, BackupError, ProjectType
from modec.runtime.router import Task

__all__ = [
    "INSTRUCTIONS",
    "SERVER_NAME",
    "TOOLS",
    "ModeTools",
    "ToolHints",
    "refusal",
    "tool_parameters",
]

log = logging.getLogger(__name__)

#: The most terminated sessions orchestrator_get_status lists (the latest).
MAX_COMPLETED_SESSIONS: Final = 100

# --------------------------------------------------------------------------- the tools


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ModeTools:
    """The MCP tools of one project, each a thin call into its :class:`ModeRuntime`.

    The public methods are the tools (their docstrings are the descriptions MCP clients
    show); :meth:`failure` builds the error shape for any exception a tool call raised.

    ``adopt_sessions``: a session id modec does not know is the host's, and adopted
    (:meth:`ModeRuntime.adopt <modec.runtime.lifecycle.ModeRuntime.adopt>`: bound to the
    project's default mode, or to the mode ``orchestrator_mode_select`` names) instead of
    refused with ``session_not_active``. Off for ``modec serve``, whose session ids are its
    own (a mistyped id is an error, not a new session); on for tools registered on a host's
    server (:func:`~modec.mcp_server.hosting.register`), whose LLM passes the host's ids.
    A terminated session is refused either way.
    """

    def __init__(self, runtime: ModeRuntime, *, adopt_sessions: bool = False) -> None:
        self.runtime = runtime
        self.adopt_sessions = adopt_sessions

    # ------------------------------------------------------------------ helpers

    def _relative(self, path: Path) -> str:
        root = self.runtime.project.root
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)

    def _session_id(self, session_id: str | None) -> str | None:
        if session_id is not None:
            return session_id
        current = self.runtime.current_session()
        return None if current is None else current.session_id

    def _context(self, session_id: str) -> ModeContext:
        """The session's context; an unknown session is adopted when hosting."""
        if self.adopt_sessions:
            return self.runtime.adopt(session_id)
        return self.runtime.context(session_id)

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
        if isinstance(
            exc,
            ModeFileNotFoundError
            | ModeFileExistsError
            | UnreachableTemplateError
            | BackupError
            | FileExistsError,
        ):
            for key in ("mode_file", "template_source", "mode_name", "backup_file", "backup_name"):
                value = arguments.get(key)
                if isinstance(value, str) and len(value) <= MAX_NAME_CHARS:
                    file = value
                    break
        return error_payload(
            exc,
            fallback_mode=self.fallback_mode(arguments.get("session_id")),
            file=file,
            error_type=kind,
        )

    @staticmethod
    def _mode_details(
        specialists: Iterable[str], custom: Iterable[str], configuration: Mapping[str, Any]
    ) -> dict[str, Any]:
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
        started for the project when it has none. A session_id modec does not know is
        refused (session_not_active), except on a host's server, where it is the host's
        session and is adopted (bound to this mode). The mode is always compiled first; an
        invalid mode is refused (error_type validation_failed, with every located
        diagnostic) and the session keeps its current mode, so validate_first=false changes
        nothing. auto_copy_if_missing: a bundled mode the project lacks is copied into
        .task_orchestrator/roles/ (false: refused instead). backup_current: the current
        binding is backed up to .task_orchestrator/backups/ before switching.

        Returns mode_activated, session_id, mode_details (specialist_roles, custom_roles,
        default_complexity, auto_task_routing), previous_mode, backup_location, mode_hash.
        """
        runtime = self.runtime
        resolved = runtime.resolve_mode(mode_file)
        if resolved.bundled and not auto_copy_if_missing:
            raise ModeFileNotFoundError(
                f"{mode_file!r} is a bundled mode not yet in .task_orchestrator/roles/, and "
                "auto_copy_if_missing is false",
                suggestion="pass auto_copy_if_missing=true to copy the bundled mode into the "
                "project",
            )
        if resolved.bundled:  # the runtime reads bundled modes in place; the spec copies
            runtime.project.copy_templates([resolved.name])
        sid = self._session_id(session_id)
        previous: str | None = None
        backup = None
        if sid is None:
            context = runtime.initialize_session(mode_file=mode_file)
        elif runtime.sessions.get_session(sid) is None:
            if not self.adopt_sessions:
                raise SessionNotActiveError(
                    f"session {sid!r} does not exist",
                    suggestion="omit session_id to start a new session, or pass the id "
                    "orchestrator_mode_select or orchestrator_get_status gave",
                )
            context = runtime.adopt(sid, mode_file)
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
        self,
        include_invalid: bool = False,
        show_details: bool = False,
        scan_config_directory: Annotated[
            bool,
            Field(
                description=(
                    "Also list every entry of .task_orchestrator/roles/ (config_directory: "
                    "relative "
                    f"names, kind, and why an entry cannot be read; at most {MAX_LISTED_FILES})."
                )
            ),
        ] = False,
    ) -> dict[str, Any]:
        """List the project's modes (files in .task_orchestrator/roles/), each compiled.

        available_modes: filename, status (valid or invalid), specialist_count,
        last_modified, is_current (bound to the project's current session), description and
        error (the first one, for invalid modes); invalid modes only with include_invalid.
        An entry that cannot be read (a symlink loop, no permission) is an invalid mode with
        its relative name; it never fails the list. config_templates: the bundled modes the
        project has not copied yet (any of them can be passed to orchestrator_mode_select).
        show_details adds mode_hash, warnings, the active sessions bound to each mode and its
        path. scan_config_directory adds config_directory, the roles folder's entries.
        """
        current = self.runtime.current_session()
        binding = None if current is None else self.runtime.binding(current.session_id)
        current_mode = None if binding is None else binding.mode_file
        scanned = scan_roles(self.runtime.project.roles)
        entries = self._mode_entries(scanned, current_mode, show_details)
        available = [e for e in entries if not e.pop("bundled")]
        templates = [e for e in entries if e not in available]
        for entry in templates:
            entry["available_for_copy"] = entry["status"] == "valid"
        shown = [e for e in available if include_invalid or e["status"] == "valid"]
        out: dict[str, Any] = {
            "success": True,
            "active_session": None if current is None else current.session_id,
            "current_mode": current_mode,
            "available_modes": shown,
            "invalid_modes_hidden": len(available) - len(shown),
            "config_templates": templates,
        }
        if scan_config_directory:
            out["config_directory"] = {
                "path": self._relative(self.runtime.project.roles),
                "entries": [entry.to_dict() for entry in scanned[:MAX_LISTED_FILES]],
                "entries_omitted": max(0, len(scanned) - MAX_LISTED_FILES),
            }
        return out

    def _mode_entries(
        self, scanned: list[RolesEntry], current_mode: str | None, details: bool
    ) -> list[dict[str, Any]]:
        try:
            modes = self.runtime.list_modes()
        except Exception:  # one unreadable entry must not cost the whole list
            log.warning("listing the modes failed; listing them one by one", exc_info=True)
            modes = None
        entries: list[dict[str, Any]] = []
        if modes is not None:
            for mode in modes:
                entry: dict[str, Any] = {
                    "filename": mode.name,
                    "bundled": mode.bundled,
                    "status": "valid" if mode.valid else "invalid",
                    "specialist_count": mode.specialist_count,
                    "last_modified": mode.last_modified.isoformat() if mode.last_modified else None,
                    "is_current": mode.name == current_mode,
                    "description": mode.description,
                    "error": None if mode.error is None else self._scrub(mode.error),
                }
                if details:
                    entry.update(
                        mode_hash=mode.mode_hash,
                        warnings=mode.warnings,
                        bound_sessions=list(mode.sessions),
                        path=None if mode.bundled else self._relative(mode.path),
                    )
                entries.append(entry)
        listed = {e["filename"] for e in entries}
        for item in scanned:
            if item.kind == "mode" and item.name not in listed:
                entries.append(self._entry_one_by_one(item, current_mode, details))
        return entries

    def _entry_one_by_one(
        self, item: RolesEntry, current_mode: str | None, details: bool
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "filename": item.name,
            "bundled": False,
            "status": "invalid",
            "specialist_count": None,
            "last_modified": None,
            "is_current": item.name == current_mode,
            "description": None,
            "error": item.problem,
        }
        if item.problem is None:
            try:
                validation = self.runtime.validate(item.name)
            except Exception as exc:
                entry["error"] = self._scrub(
                    exc.message if isinstance(exc, ModecError) else f"{type(exc).__name__}: {exc}"
                )
            else:
                entry.update(
                    status="valid" if validation.ok else "invalid",
                    specialist_count=len(validation.specialist_roles),
                    error=None
                    if validation.ok
                    else self._scrub("; ".join(d.message for d in validation.errors[:1])),
                )
        if details:
            entry.update(mode_hash=None, warnings=0, bound_sessions=[], path=None)
        return entry

    def _scrub(self, text: str) -> str:
        """``text`` without this machine's directories (clients may be remote)."""
        root = os.fspath(self.runtime.project.root)
        return text.replace(root + os.sep, "").replace(root, ".")

    def orchestrator_mode_validate(
        self,
        mode_file: ModeName,
        repair_if_possible: Annotated[
            bool,
            Field(
                description=(
                    "Apply the compiler's machine-applicable fixes (as `modec lint --fix`) to the "
                    "project's file in roles/, written atomically, then validate again; bundled "
                    "modes are never changed."
                )
            ),
        ] = False,
    ) -> dict[str, Any]:
        """Compile a mode file without binding it, and report every problem with its place.

        Returns is_valid, validation_details (which groups of checks passed),
        specialist_roles, custom_roles, errors and warnings as located diagnostics (code,
        severity, message, hint, span, file, line, column), repair_suggestions and
        mode_hash. With repair_if_possible, repairs_applied lists the fixes written (and
        the result is that of the repaired file). An invalid mode is a successful
        validation (success true, is_valid false); a mode that cannot be found or a name
        leaving roles/ is an error.
        """
        repairs: list[str] = []
        if repair_if_possible:
            repairs = self._repair(mode_file)
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
            "repair_suggestions": unique_texts(d.hint for d in validation.diagnostics),
            **({"repairs_applied": repairs} if repair_if_possible else {}),
        }

    def _repair(self, mode_file: str) -> list[str]:
        """Apply the fixes of the file's diagnostics in place; what was applied."""
        # the fixer of `modec lint --fix` (helper "cli"'s module, imported when asked for)
        from modec.compiler.fixes import apply_fixes  # type: ignore[import-not-found,unused-ignore]

        resolved = self.runtime.resolve_mode(mode_file)
        if resolved.bundled:
            return []
        text = resolved.path.read_text(encoding="utf-8")
        diagnostics = self.runtime.validate(mode_file).diagnostics
        fixed = apply_fixes(text, diagnostics)
        if fixed.text != text:
            write_atomic(resolved.path, fixed.text.encode("utf-8"))
        return [
            str(getattr(item, "code", None) or getattr(item, "description", None) or item)
            for item in fixed.applied
        ]

    def orchestrator_mode_create(
        self,
        mode_name: NewModeName,
        template_source: Annotated[
            ModeName,
            Field(
                description=(
                    "The mode the new one extends (mode_metadata.extends): a mode file in the new "
                    "file's folder of roles/, or a bundled mode."
                )
            ),
        ] = "default_roles.yaml",
        custom_roles: CustomRoles = [],  # noqa: B006
        mode_settings: Annotated[
            dict[str, JsonValue],
            Field(
                max_length=MAX_ENTRIES,
                description=(
                    "mode_configuration keys: default_complexity (1-5, a modec level name or a "
                    "specification name such as 'high'), auto_task_routing, hit_policy, "
                    "default_specialist, ...; other keys are kept as free settings."
                ),
            ),
        ] = {},  # noqa: B006
    ) -> dict[str, Any]:
        """Create a mode file that extends a template with custom roles and settings.

        The new file names the template in mode_metadata.extends, so it inherits the
        template's roles and routing rules; custom_roles become role definitions and
        mode_settings its mode_configuration (a specification complexity name such as
        'high' is written as modec's: 'complex'). It is compiled before it is written (an
        invalid result is refused with every located diagnostic, and nothing is written),
        then written atomically. Returns mode_created, file_path, mode_hash, mode_details
        and the compiler's warnings.
        """
        settings = dict(mode_settings)
        if "default_complexity" in settings:
            settings["default_complexity"] = modec_complexity(settings["default_complexity"])
        created = self.runtime.create_mode(
            mode_name,
            template_source,
            [
                RoleSpec(
                    role.role_name,
                    role.definition,
                    role.description,
                    tuple(role.expertise),
                    tuple(role.approach),
                    role.output_format,
                )
                for role in custom_roles
            ],
            settings,
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
        backup_name: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=100,
                description=(
                    "File name in .task_orchestrator/backups/ (letters, digits, '_', '-', '.'); "
                    "default mode_backup_<UTC time>_<session>.yaml. Never replaces a file."
                ),
            ),
        ] = None,
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
            backup = runtime.backup(mode_file=self._context(sid).mode_file, name=backup_name)
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
        backup_file: Annotated[
            str,
            Field(
                min_length=1,
                max_length=MAX_NAME_CHARS,
                description=("A backup's file name in .task_orchestrator/backups/."),
            ),
        ],
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
        restoration = self.runtime.restore(backup_file, activate_after_restore, session_id=target)
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

    def orchestrator_get_status(
        self,
        include_completed: Annotated[
            bool,
            Field(
                description=(
                    "Also list the project's terminated sessions (status 'terminated'), with the "
                    "mode each was bound to last."
                )
            ),
        ] = False,
    ) -> dict[str, Any]:
        """The active sessions and the mode each is bound to.

        Each session has session_id, project_root, status, created_at, updated_at and
        mode_info, as MCP Task Orchestrator gives it: mode_file, and the counts
        specialist_count, custom_roles and routing_rules; modec's richer data (mode_hash,
        validation_status, specialist_roles, custom_roles and routing_rules as lists and
        tables, default_specialist; an error entry when its compiled mode cannot be loaded)
        sits under mode_info.modec. current_session is the project's most recent active
        session (the one tools use when no session_id is given). include_completed adds
        the terminated sessions.
        """
        sessions = [info.to_dict() for info in self.runtime.status()]
        for session in sessions:
            session["mode_info"] = seed_mode_info(session["mode_info"])
        current = self.runtime.current_session()
        out: dict[str, Any] = {
            "success": True,
            "project_root": os.fspath(self.runtime.project.root),
            "current_session": None if current is None else current.session_id,
            "active_session_count": len(sessions),
            "sessions": sessions,
        }
        if include_completed:
            out["sessions"] = sessions + self._completed_sessions()
            out["completed_session_count"] = len(out["sessions"]) - len(sessions)
        return out

    def _completed_sessions(self) -> list[dict[str, Any]]:
        runtime = self.runtime
        root = os.fspath(runtime.project.root)
        done = [
            s
            for s in runtime.sessions.list_sessions(active_only=False)
            if s.status.value != "active" and s.project_root == root
        ]
        bindings = {b.session_id: b for b in runtime.sessions.list_bindings(active_only=False)}
        out = []
        for session in done[-MAX_COMPLETED_SESSIONS:]:
            binding = bindings.get(session.session_id)
            mode_info = (
                None
                if binding is None
                else {
                    "mode_file": binding.mode_file,
                    "specialist_count": None,
                    "custom_roles": None,
                    "routing_rules": None,
                    "modec": {
                        "mode_file": binding.mode_file,
                        "mode_hash": binding.mode_hash,
                        "validation_status": binding.validation_status.value,
                        "bound_at": binding.bound_at.isoformat(),
                    },
                }
            )
            out.append(
                {
                    "session_id": session.session_id,
                    "project_root": session.project_root,
                    "status": session.status.value,
                    "created_at": session.created_at.isoformat(),
                    "updated_at": session.updated_at.isoformat(),
                    "mode_info": mode_info,
                }
            )
        return out

    def orchestrator_route_task(
        self,
        session_id: SessionId,
        description: TaskText,
        title: ShortText = "",
        tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = [],  # noqa: B006
        complexity: Complexity | None = None,
        metadata: Annotated[dict[str, MetadataValue], Field(max_length=MAX_ENTRIES)] = {},  # noqa: B006
        explain: bool = False,
    ) -> dict[str, Any]:
        """Route a task with the session's mode: which task type and specialist take it.

        On a host's server, a session_id modec does not know yet is the host's session and
        is adopted (bound to the project's default mode) first.

        Returns decision (task_type, specialist, secondary_review, complexity,
        parallel_execution, rule, matches, mode_hash, evidence: what matched where), the
        session's mode_file and validation_status ('degraded' when it routes on its last good
        mode because the file broke). explain adds every row of the decision table, fired or
        not and why. The description has at most 100,000 characters, complexity is 1-5, a
        level name or a specification name ('high' is 'complex'); the answer is bounded
        (at most 50 evidence entries, 256 KiB of explanation; what is left out is counted).
        """
        task = Task(
            title=title,
            description=description,
            tags=tuple(tags),
            complexity=modec_complexity(complexity),
            metadata=dict(metadata),
        )
        context = self._context(session_id)
        out: dict[str, Any] = {
            "success": True,
            "session_id": session_id,
            "mode_file": context.mode_file,
            "validation_status": context.validation_status.value,
        }
        if explain:
            explanation = context.router.explain(task).to_dict()
            out["decision"] = bounded_decision(explanation.pop("decision"))
            out["explanation"] = bounded_explanation(explanation)
        else:
            out["decision"] = bounded_decision(context.router.route(task).to_dict(evidence=True))
        return out


SERVER_NAME: Final = "modec"
INSTRUCTIONS: Final = (
    "Mode tools of MCP Task Orchestrator, backed by compiled routers. Bind a session "
    "to a mode with orchestrator_mode_select, then route tasks with "
    "orchestrator_route_task. Mode files live in the project's "
    ".task_orchestrator/roles/ directory; failures return success=false with "
    "error_type, error_details and recovery_suggestions."
)


@dataclass(frozen=True, slots=True)
class ToolHints:
    """A tool's MCP annotations (``ToolAnnotations`` of whichever SDK major serves it)."""

    title: str
    read_only: bool
    destructive: bool | None = None

    def as_annotations(self) -> dict[str, Any]:
        """The annotations as MCP's JSON names them."""
        out: dict[str, Any] = {"title": self.title, "readOnlyHint": self.read_only}
        if self.destructive is not None:
            out["destructiveHint"] = self.destructive
        return out


#: The tools in the order tools/list shows them, with their MCP annotations.
TOOLS: Final[tuple[tuple[str, ToolHints], ...]] = (
    ("orchestrator_mode_select", ToolHints("Select a mode", False, False)),
    ("orchestrator_mode_list", ToolHints("List modes", True)),
    ("orchestrator_mode_validate", ToolHints("Validate a mode", False, False)),
    ("orchestrator_mode_create", ToolHints("Create a mode", False, False)),
    ("orchestrator_mode_backup", ToolHints("Back up a session's mode", False, False)),
    ("orchestrator_mode_restore", ToolHints("Restore a mode from a backup", False, True)),
    ("orchestrator_get_status", ToolHints("Sessions and their modes", True)),
    ("orchestrator_route_task", ToolHints("Route a task", True)),
)


def tool_parameters() -> dict[str, tuple[str, ...]]:
    """Each tool's argument names, in the order of its signature."""
    return {
        name: tuple(
            p for p in inspect.signature(getattr(ModeTools, name)).parameters if p != "self"
        )
        for name, _ in TOOLS
    }


def refusal(
    parameters: Mapping[str, tuple[str, ...]], name: str, arguments: Mapping[str, Any]
) -> tuple[ModecError, str] | None:
    """Why a call of tool ``name`` with ``arguments`` is refused before it runs, with the
    error type (an unknown tool, or an argument the tool does not take, which an SDK would
    otherwise drop silently), or None. ``parameters`` is :func:`tool_parameters`."""
    accepted = parameters.get(name)
    if accepted is None:
        return (
            ModecError(
                f"unknown tool {name!r}", suggestion=f"the tools are: {', '.join(parameters)}"
            ),
            "unknown_tool",
        )
    unknown = [key for key in arguments if key not in accepted]
    if not unknown:
        return None
    close = [m for key in unknown for m in difflib.get_close_matches(key, accepted, 1)]
    return (
        ModecError(
            f"{name} takes no argument {', '.join(map(repr, unknown))}",
            suggestion=(f"did you mean {', '.join(map(repr, close))}? " if close else "")
            + f"{name} takes: {', '.join(accepted)}",
        ),
        "invalid_arguments",
    )
