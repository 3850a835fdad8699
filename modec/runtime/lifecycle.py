"""The session lifecycle: initialize, bind, switch, route, resume, terminate, back up, restore;
and the project's modes: list, validate, create.

:class:`ModeRuntime` joins the parts of the runtime for one project: its
``.task_orchestrator/`` directory (:mod:`modec.runtime.project`), the session database
(:class:`~modec.runtime.sessions.SessionBindingStore`), the artifact tiers
(:class:`~modec.runtime.store.ArtifactStore`) and the per-session context cache
(:class:`~modec.runtime.context.ModeContextCache`). :class:`AsyncModeRuntime` is the same API
for asyncio code, each blocking call run in a worker thread.

Mode files are named relative to ``.task_orchestrator/roles/`` or by a bundled mode's name;
nothing outside ``roles/`` is read for a name. Diagnostics (so the messages of
:class:`~modec.diagnostics.InvalidModeError` too) and mode summaries name mode files the same
way, never by absolute path. Every binding records the mode hash of the
compiled artifact, and the artifact itself is stored (SQL included) before the binding that
names it, so any process or machine on the same database can route the session, with or
without the mode file.

Recovery (:meth:`ModeRuntime.resume`): a mode file that changed and still compiles is
recompiled and rebound; one that broke or disappeared leaves the session routing on its last
good artifact (found by the recorded hash in any tier), with the binding marked ``degraded``
and the error in the history; with no artifact anywhere, the session falls back to the
project's default mode.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as root, ModeRuntime(root, "sqlite://") as runtime:
...     ctx = runtime.initialize_session(mode_file="development_mode.yaml")
...     runtime.route(ctx.session_id, "profile the slow endpoint").specialist
'performance_optimizer'
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import posixpath
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Final, ParamSpec, TypeVar

import yaml

from modec.compiler.artifact import Artifact
from modec.compiler.build import bundled_mode_names, bundled_mode_path
from modec.compiler.pipeline import Compilation, compile_path, compile_text
from modec.diagnostics import (
    Diagnostic,
    InvalidModeError,
    ModecError,
    ModeFileNotFoundError,
    SessionNotActiveError,
)
from modec.runtime.context import DEFAULT_TTL, ModeContext, ModeContextCache
from modec.runtime.project import (
    DEFAULT_MODES,
    Backup,
    BackupError,
    ProjectLayout,
    ProjectType,
    ResolvedMode,
    backup_bytes,
    default_mode_name,
    find_in,
    read_backup,
    resolve_mode,
    safe_file_stem,
    target_in,
    write_atomic,
)
from modec.runtime.router import Decision, Router, TaskLike
from modec.runtime.sessions import (
    Action,
    BindingRecord,
    HistoryRecord,
    SessionBindingStore,
    SessionRecord,
    ValidationStatus,
    sqlite_url,
)
from modec.runtime.store import ArtifactNotFoundError, ArtifactStore

__all__ = [
    "CHECK_GROUPS",
    "DATABASE_URL_VAR",
    "RESERVED_ROLE_NAMES",
    "AsyncModeRuntime",
    "CreatedMode",
    "ModeFileExistsError",
    "ModeRuntime",
    "ModeSummary",
    "ModeValidation",
    "Restoration",
    "ResumeOutcome",
    "Resumption",
    "RoleSpec",
    "SessionInfo",
    "SessionNotBoundError",
    "SessionRequiredError",
    "Switch",
    "Termination",
    "UnreachableTemplateError",
    "list_modes",
]

#: Environment variable naming the session database when no URL is passed.
DATABASE_URL_VAR: Final = "MODEC_DATABASE_URL"
_ROUTER_CACHE_SIZE: Final = 64

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

#: Names :meth:`ModeRuntime.create_mode` refuses for custom roles: the sections of a mode
#: file, and the orchestrator role that the template provides.
RESERVED_ROLE_NAMES: Final = frozenset({
    "mode_metadata", "mode_configuration", "task_routing_rules", "validation_rules", "tests",
    "task_orchestrator",
})

_P = ParamSpec("_P")
_T = TypeVar("_T")


class SessionNotBoundError(SessionNotActiveError):
    """The session is active but has no mode bound, so it cannot route."""

    suggestion = "bind a mode first: `modec session bind SESSION MODE` (ModeRuntime.bind)"


class SessionRequiredError(ModecError, ValueError):
    """A call that acts on a session was given none and has none to default to: restoring
    a backup with activation when the backup names no session (one of a mode file alone).
    Also a :class:`ValueError`: it is a bad combination of arguments."""

    suggestion = (
        "name the session to switch to the restored mode (session_id; `modec session restore "
        "BACKUP --session ID --activate`), or restore without activating and bind the mode "
        "afterwards"
    )


class UnreachableTemplateError(ModecError, ValueError):
    """A new mode's template is a file that the new mode cannot extend from where it would
    be written: ``extends`` names a file in the mode's own folder or a bundled mode (MC104),
    so the template must be one of those. Also a :class:`ValueError`: the arguments do not
    combine."""

    suggestion = (
        "create the mode in the template's folder, or copy the template into the new mode's "
        "folder and name that copy"
    )


class ModeFileExistsError(ModecError):
    """A mode file to be created exists already; modec never replaces one."""

    suggestion = "choose another name, or edit the existing file"


# --------------------------------------------------------------------------- results


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
        return _first_error(self.diagnostics)


def _first_error(diagnostics: Sequence[Diagnostic]) -> str | None:
    error = next((d for d in diagnostics if d.is_error), None)
    return None if error is None else f"{error.location()}: {error.code} {error.message}"


def _now() -> datetime:
    return datetime.now(UTC)


def _describe(exc: ModecError) -> str:
    return exc.message


def _recordable(text: str, limit: int = 2000) -> str:
    """``text`` as a database can store it: no NUL, no lone surrogates, bounded length
    (names refused as unsafe are recorded too, and they come from untrusted callers)."""
    clean = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _exists(name: str) -> ModeFileExistsError:
    return ModeFileExistsError(f"mode file {name!r} exists already; modec never replaces one")


def _backup_name(name: str) -> str:
    """A backup file name given by a caller: a plain file name, ``.yaml`` added if missing."""
    stem = name[:-5] if name.endswith(".yaml") else name
    if safe_file_stem(stem) != stem:
        raise BackupError(
            f"backup name {name!r} is not a plain file name",
            suggestion="use letters, digits, '_', '-' and '.' only",
        )
    return stem + ".yaml"


def _summarize(resolved: ResolvedMode, bundled: bool, sessions: tuple[str, ...]) -> ModeSummary:
    compilation = compile_path(resolved.path, display=resolved.name)
    diagnostics = compilation.sorted_diagnostics()
    first = _first_error(diagnostics)
    warnings = sum(1 for d in diagnostics if not d.is_error)
    mode = compilation.mode
    artifact = compilation.artifact
    try:
        modified: datetime | None = datetime.fromtimestamp(resolved.path.stat().st_mtime, UTC)
    except OSError:
        modified = None
    return ModeSummary(
        name=resolved.name,
        path=resolved.path,
        bundled=bundled,
        valid=first is None and artifact is not None,
        error=first,
        warnings=warnings,
        specialist_count=len(mode.specialist_roles) if mode is not None else None,
        description=mode.metadata.description if mode is not None else None,
        mode_hash=artifact.mode_hash if artifact is not None else None,
        last_modified=modified,
        sessions=sessions,
    )


def list_modes(
    project: ProjectLayout, bound: Mapping[str, Sequence[str]] | None = None
) -> list[ModeSummary]:
    """Every mode file in the project's ``roles/`` and every bundled mode not copied there,
    compiled: valid or not (with the first error), specialist count, description; ``bound``
    maps mode names to the sessions bound to them. Reads no database."""
    local = project.mode_names()
    names = [(n, False) for n in local]
    names += [(n, True) for n in bundled_mode_names() if n not in local]
    out = []
    for name, bundled in names:
        try:
            resolved = resolve_mode(project.roles, name)
        except ModeFileNotFoundError:
            continue  # e.g. a symlink leaving roles/: never read
        sessions = tuple((bound or {}).get(resolved.name, ()))
        out.append(_summarize(resolved, bundled, sessions))
    return out


# --------------------------------------------------------------------------- the runtime


class ModeRuntime:
    """Sessions of the project at ``project_root`` bound to compiled modes.

    ``database_url``: any SQLAlchemy URL of SQLite or PostgreSQL; default ``$MODEC_DATABASE_URL``,
    else the SQLite file ``.task_orchestrator/modec.db``. ``cache_dir``: the artifact
    diskcache, default ``.task_orchestrator/cache``. ``context_ttl`` and ``clock`` configure
    the context cache (30 minutes on :func:`time.monotonic`).

    Every method is safe to call from several threads, and many processes (or machines, on a
    shared PostgreSQL) may run against one database at once. Errors are
    :class:`~modec.diagnostics.ModecError` subclasses with a ``suggestion``:
    :class:`~modec.diagnostics.SessionNotActiveError`,
    :class:`~modec.diagnostics.InvalidModeError` (with the diagnostics),
    :class:`~modec.diagnostics.ModeFileNotFoundError` (and
    :class:`~modec.runtime.project.UnsafeModePathError` for names leaving ``roles/``),
    :class:`~modec.runtime.project.BackupError`, :class:`ModeFileExistsError`; those that
    are also ``ValueError`` (:class:`SessionRequiredError`, :class:`UnreachableTemplateError`)
    are arguments that do not combine.
    """

    def __init__(
        self,
        project_root: str | os.PathLike[str],
        database_url: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        context_ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.project = ProjectLayout.at(project_root)
        url = database_url or os.environ.get(DATABASE_URL_VAR) or sqlite_url(
            self.project.database
        )
        self.sessions = SessionBindingStore(url)
        try:
            self.artifacts = ArtifactStore(
                self.sessions, self.project.cache if cache_dir is None else cache_dir
            )
        except BaseException:
            self.sessions.dispose()
            raise
        self.contexts = ModeContextCache(context_ttl, clock)
        self._routers: OrderedDict[str, Router] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ModeRuntime({str(self.project.root)!r}, {self.sessions.url!r})"

    def __enter__(self) -> ModeRuntime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the database pool and the disk cache."""
        self.artifacts.close()
        self.sessions.dispose()

    # ------------------------------------------------------------------ modes

    def resolve_mode(self, mode_file: str) -> ResolvedMode:
        """The file a mode name names, confined to ``roles/`` (see
        :func:`~modec.runtime.project.resolve_mode`)."""
        return resolve_mode(self.project.roles, mode_file)

    def prepare_mode(self, mode_file: str) -> tuple[ResolvedMode, Artifact]:
        """Resolve and compile a mode for binding; the artifact is stored in every tier.

        A bundled mode that ``roles/`` lacks is copied there first, so that every binding
        is to a file of the project (which :meth:`resume` then watches). Raises
        :class:`~modec.diagnostics.InvalidModeError` or
        :class:`~modec.diagnostics.ModeFileNotFoundError`.
        """
        resolved = self.resolve_mode(mode_file)
        if resolved.bundled:
            target_name, target = target_in(self.project.roles, resolved.name)
            with contextlib.suppress(FileExistsError):
                write_atomic(target, resolved.path.read_bytes(), exclusive=True)
            resolved = self.resolve_mode(target_name)
        return resolved, self.artifacts.compile(resolved.path, resolved.name)

    def _compile_bound(self, mode_file: str) -> tuple[ResolvedMode, Artifact]:
        found = find_in(self.project.roles, mode_file)
        if found is None:
            raise ModeFileNotFoundError(
                f"the bound mode file {mode_file!r} is no longer in {self.project.roles}",
                suggestion="restore it (`modec session restore`, or from version control), "
                "or bind another mode",
            )
        resolved = ResolvedMode(found[0], found[1], bundled=False)
        return resolved, self.artifacts.compile(resolved.path, resolved.name)

    def validate(self, mode_file: str, *, session_id: str | None = None) -> ModeValidation:
        """Compile a mode and report every diagnostic, without binding it, copying a bundled
        mode into ``roles/`` or storing the artifact: an invalid mode is a result
        (``ok`` false), not an error.

        With ``session_id`` (an active session, checked first), the validation is recorded
        as a ``validate`` history row: the mode's name and hash, success if it is valid,
        else the first error. Raises :class:`~modec.diagnostics.ModeFileNotFoundError` (or
        :class:`~modec.runtime.project.UnsafeModePathError`) for a name that resolves to no
        mode, recorded as a failed row too, and
        :class:`~modec.diagnostics.SessionNotActiveError`.
        """
        if session_id is not None:
            self._require_active(session_id)
        try:
            resolved = self.resolve_mode(mode_file)
        except ModeFileNotFoundError as exc:
            if session_id is not None:
                self.sessions.record(
                    session_id, Action.VALIDATE, _recordable(mode_file), None, False,
                    _recordable(_describe(exc)),
                )
            raise
        validation = ModeValidation.of(
            resolved, compile_path(resolved.path, display=resolved.name)
        )
        if session_id is not None:
            problem = validation.first_error or (
                None if validation.ok else "the mode did not compile to an artifact"
            )
            self.sessions.record(
                session_id, Action.VALIDATE, resolved.name, validation.mode_hash,
                validation.ok, None if problem is None else _recordable(problem),
            )
        return validation

    def create_mode(
        self,
        name: str,
        template: str = "default_roles.yaml",
        custom_roles: Sequence[RoleSpec] = (),
        settings: Mapping[str, Any] | None = None,
        *,
        created_by: str = "modec",
    ) -> CreatedMode:
        """Write a new mode file ``name`` (``.yaml`` appended when it has no mode suffix)
        into ``roles/`` that extends ``template`` (a mode of ``roles/``, or bundled).

        The file names the template in ``mode_metadata.extends``, so it inherits the
        template's roles and routing rules (``extends`` finds files in the mode's own folder,
        else bundled modes: the template must be one the new file finds that way);
        ``custom_roles`` become role definitions and ``settings`` its ``mode_configuration``;
        ``mode_metadata`` also records its name (the file stem), ``created_by`` and
        ``created_at``. It is compiled before anything is written: an invalid result raises
        :class:`~modec.diagnostics.InvalidModeError` with every diagnostic, and nothing is
        written. Then the project is initialized if need be (:meth:`ProjectLayout.ensure
        <modec.runtime.project.ProjectLayout.ensure>`) and the file written atomically, never
        replacing one: :class:`ModeFileExistsError` if the name is taken.

        Also raises :class:`~modec.runtime.project.UnsafeModePathError` for a name or
        template leaving ``roles/``, :class:`~modec.diagnostics.ModeFileNotFoundError` for an
        unknown template, :class:`UnreachableTemplateError` for a template that the new file
        would not find, and ``ValueError`` for a custom role given twice or named in
        :data:`RESERVED_ROLE_NAMES`.
        """
        seen: set[str] = set()
        for role in custom_roles:
            if role.name in RESERVED_ROLE_NAMES:
                raise ValueError(f"{role.name!r} is a section of a mode file, not a role name")
            if role.name in seen:
                raise ValueError(f"role {role.name!r} is given twice")
            seen.add(role.name)
        parent = self.resolve_mode(template)
        target_name, target = target_in(self.project.roles, name)
        if target.exists():
            raise _exists(target_name)
        extends = posixpath.basename(parent.name)
        beside = target.parent / extends  # the compiler looks there first, then bundled
        found = beside.resolve() if beside.is_file() else None
        if found != (None if parent.bundled else parent.path):
            where = "not there" if found is None else "another file"
            raise UnreachableTemplateError(
                f"{target_name} cannot extend {parent.name}: a mode extends a file in its own "
                f"folder or a bundled mode, and {extends!r} beside it is {where}"
            )
        document: dict[str, Any] = {
            "mode_metadata": {
                "name": posixpath.splitext(posixpath.basename(target_name))[0],
                "extends": extends,
                "created_by": created_by,
                "created_at": _now().isoformat(),
            }
        }
        if settings:
            document["mode_configuration"] = dict(settings)
        for role in custom_roles:
            document[role.name] = role.document()
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
        compilation = compile_text(text, target_name, base_dir=target.parent)
        compilation.raise_for_errors()
        mode, artifact = compilation.mode, compilation.artifact
        assert mode is not None and artifact is not None
        self.project.ensure()
        try:
            write_atomic(target, text.encode("utf-8"), exclusive=True)
        except FileExistsError as exc:
            raise _exists(target_name) from exc
        return CreatedMode(
            name=target_name,
            path=target,
            template=parent.name,
            mode_hash=artifact.mode_hash,
            specialist_roles=mode.specialist_roles,
            custom_roles=tuple(mode.custom_roles),
            configuration=mode.configuration.model_dump(
                mode="json", exclude={"span", "default_specialist_span"}
            ),
            role_count=len(mode.roles),
            diagnostics=tuple(compilation.sorted_diagnostics()),
        )

    def list_modes(self) -> list[ModeSummary]:
        """Every mode of the project (see :func:`list_modes`), with the active sessions of
        this database bound to each."""
        bound: dict[str, list[str]] = {}
        for binding in self.sessions.list_bindings(active_only=True):
            bound.setdefault(binding.mode_file, []).append(binding.session_id)
        return list_modes(self.project, bound)

    def default_mode(self) -> str:
        """The mode a new session binds when none is named (by project type)."""
        return default_mode_name(self.project.root)

    # ------------------------------------------------------------------ sessions

    def initialize_session(
        self,
        project_root: str | os.PathLike[str] | None = None,
        mode_file: str | None = None,
        *,
        session_id: str | None = None,
    ) -> ModeContext:
        """Start a session bound to ``mode_file`` (default: by project type, see
        :func:`~modec.runtime.project.detect_project_type`).

        Creates ``.task_orchestrator/roles/`` and ``backups/`` with the bundled modes if
        absent. The mode is compiled before anything is written: an invalid or missing mode
        raises and leaves no session behind. ``project_root`` defaults to the runtime's and
        must be it if given. ``session_id`` defaults to a fresh UUID.
        """
        if project_root is not None and Path(project_root).resolve() != self.project.root:
            raise ValueError(
                f"this runtime serves {self.project.root}, not {Path(project_root).resolve()}; "
                "open a ModeRuntime for that project"
            )
        self.project.ensure()
        resolved, artifact = self.prepare_mode(mode_file or self.default_mode())
        session = self.sessions.create_session(session_id, self.project.root)
        binding = self.sessions.bind(session.session_id, resolved.name, artifact.mode_hash)
        return self._activate(binding, artifact)

    def bind(self, session_id: str, mode_file: str) -> ModeContext:
        """Bind an active session to a mode, validated (compiled) first; one history row.

        A mode that does not resolve or compile is recorded as a failed ``bind`` and raised;
        the previous binding stays. ``switch(session_id, mode_file, backup=False)`` is the
        same bind, returning the binding it replaced as well.
        """
        return self.switch(session_id, mode_file, backup=False).context

    def switch(self, session_id: str, mode_file: str, *, backup: bool = True) -> Switch:
        """Bind an active session to another mode, validated (compiled) first, and return
        the new context with the binding it replaced (``previous``, None if it had none).

        With ``backup`` the current binding is backed up first (to ``backups/``) and the
        history row says ``switch``; if the backup cannot be written, nothing changes and
        :class:`~modec.runtime.project.BackupError` is raised. Without, it is :meth:`bind`:
        no backup, and the row says ``bind``. A mode that does not resolve or compile is
        recorded as a failed row of that action and raised; the previous binding stays.
        ``previous`` is the binding as read just before the new one was written.
        """
        self._require_active(session_id)
        action = Action.SWITCH if backup else Action.BIND
        resolved, artifact = self._validated(session_id, mode_file, action)
        previous = self.sessions.get_binding(session_id)
        saved = (
            None if previous is None or not backup
            else self._backup_binding(previous, "switch")
        )
        binding = self.sessions.bind(session_id, resolved.name, artifact.mode_hash, action)
        self.contexts.invalidate(session_id)
        return Switch(self._activate(binding, artifact), previous, saved)

    def context(self, session_id: str, *, refresh: bool = False) -> ModeContext:
        """The session's :class:`~modec.runtime.context.ModeContext`, from the cache unless
        it expired or ``refresh`` is set (then the binding is read from the database).

        Raises :class:`~modec.diagnostics.SessionNotActiveError` (or
        :class:`SessionNotBoundError`), and
        :class:`~modec.runtime.store.ArtifactNotFoundError` when the bound artifact is in no
        tier and the mode file no longer compiles to it (:meth:`resume` repairs that).
        """
        if not refresh:
            cached = self.contexts.get(session_id)
            if cached is not None:
                return cached
        self._require_active(session_id)
        binding = self.sessions.get_binding(session_id)
        if binding is None:
            raise SessionNotBoundError(f"session {session_id!r} has no mode bound")
        return self._activate(binding, self._load(binding))

    def route(self, session_id: str, task: TaskLike) -> Decision:
        """Route ``task`` (a Task, a description string or a mapping) with the session's mode."""
        return self.context(session_id).router.route(task)

    def resume(self, session_id: str) -> Resumption:
        """Re-validate the session's mode file and repair the binding (see the module doc).

        Always leaves the session bound to something it can route on, and records what
        happened in the history (``resume`` rows; ``fallback`` when the default mode was
        bound).
        """
        self._require_active(session_id)
        self.contexts.invalidate(session_id)
        binding = self.sessions.get_binding(session_id)
        if binding is None:
            return self._fallback(session_id, None, "the session has no binding")
        try:
            resolved, artifact = self._compile_bound(binding.mode_file)
        except (ModeFileNotFoundError, InvalidModeError) as exc:
            error = _describe(exc)
            try:
                last_good = self.artifacts.get(binding.mode_hash)
            except ArtifactNotFoundError as missing:
                return self._fallback(session_id, binding, f"{error}; {missing.message}")
            degraded = self.sessions.mark_degraded(session_id, error, action=Action.RESUME)
            ctx = self._activate(degraded, last_good)
            return Resumption(ctx, ResumeOutcome.DEGRADED, binding, error)
        if (
            artifact.mode_hash == binding.mode_hash
            and binding.validation_status is ValidationStatus.VALID
            and resolved.name == binding.mode_file
        ):
            self.sessions.record(
                session_id, Action.RESUME, binding.mode_file, binding.mode_hash, success=True
            )
            return Resumption(self._activate(binding, artifact), ResumeOutcome.UNCHANGED, binding)
        outcome = (
            ResumeOutcome.REBOUND if artifact.mode_hash != binding.mode_hash
            else ResumeOutcome.RECOVERED
        )
        rebound = self.sessions.bind(
            session_id, resolved.name, artifact.mode_hash, Action.RESUME
        )
        return Resumption(self._activate(rebound, artifact), outcome, binding)

    def terminate(self, session_id: str) -> Termination:
        """End an active session: back its binding up to
        ``backups/session_mode_backup_<id>.yaml`` (atomically), drop its cached context, and
        mark it terminated with a ``terminate`` history row. A backup that cannot be written
        does not keep the session alive: the error is returned and stored on the row."""
        self._require_active(session_id)
        binding = self.sessions.get_binding(session_id)
        backup: Backup | None = None
        error: str | None = None
        if binding is not None:
            name = f"session_mode_backup_{safe_file_stem(session_id)}.yaml"
            try:
                backup = self._backup_binding(binding, "terminate", name=name, replace=True)
            except BackupError as exc:
                error = exc.message
        session = self.sessions.terminate_session(session_id, error_message=error)
        self.contexts.invalidate(session_id)
        return Termination(session, backup, error)

    def current_session(self) -> SessionRecord | None:
        """The project's most recently created active session, or None if it has none.

        Sessions of other projects sharing the database are not considered. Shells act on
        this session when their caller names none.
        """
        root = os.fspath(self.project.root)
        mine = [
            s for s in self.sessions.list_sessions(active_only=True) if s.project_root == root
        ]
        return mine[-1] if mine else None

    def binding(self, session_id: str) -> BindingRecord | None:
        """The session's binding as the database holds it now (None when it has none, or
        there is no such session); unlike :meth:`context`, nothing is cached or loaded."""
        return self.sessions.get_binding(session_id)

    def status(self) -> list[SessionInfo]:
        """Every active session in the database with its ``mode_info`` (mode_file, mode_hash,
        specialist_count, custom_roles, routing_rules, …; an ``error`` entry when its
        artifact cannot be loaded)."""
        bindings = {b.session_id: b for b in self.sessions.list_bindings(active_only=True)}
        out = []
        for session in self.sessions.list_sessions(active_only=True):
            binding = bindings.get(session.session_id)
            out.append(SessionInfo(session, None if binding is None else self._mode_info(binding)))
        return out

    def history(self, session_id: str, limit: int | None = None) -> list[HistoryRecord]:
        """The session's history rows, oldest first (see
        :meth:`~modec.runtime.sessions.SessionBindingStore.history`)."""
        return self.sessions.history(session_id, limit)

    # ------------------------------------------------------------------ backups

    def backup(
        self,
        session_id: str | None = None,
        *,
        mode_file: str | None = None,
        name: str | None = None,
    ) -> Backup:
        """Back up a session's binding (its mode file and binding), or a mode file alone.

        The file goes to ``backups/`` as ``name`` (``.yaml`` appended if missing; an existing
        file is never replaced) or ``mode_backup_<UTC time>[_<session>].yaml``.
        """
        if (session_id is None) == (mode_file is None):
            raise ValueError("back up either a session (session_id) or a mode file (mode_file)")
        if name is not None:
            name = _backup_name(name)
        if session_id is not None:
            binding = self.sessions.get_binding(session_id)
            if binding is None:
                self._require_active(session_id)
                raise SessionNotBoundError(f"session {session_id!r} has no mode bound to back up")
            return self._backup_binding(binding, "manual", name=name)
        assert mode_file is not None
        resolved = self.resolve_mode(mode_file)
        return self._write_backup(resolved.name, None, "manual", name=name)

    def list_backups(self) -> list[Backup]:
        """The readable backups in ``backups/``, newest first (other files are skipped)."""
        found = []
        if self.project.backups.is_dir():
            for path in self.project.backups.iterdir():
                if path.suffix != ".yaml" or path.name.startswith(".") or not path.is_file():
                    continue
                try:
                    found.append(read_backup(path)[0])
                except BackupError:
                    continue
        return sorted(found, key=lambda b: (b.created_at, b.name), reverse=True)

    def restore(
        self,
        backup: Backup | str,
        activate: bool = False,
        *,
        session_id: str | None = None,
        mode_file: str | None = None,
    ) -> Restoration:
        """Write a backup's mode file back into ``roles/`` (as ``mode_file``, default the name
        it was backed up from), compiled first and replaced atomically; with ``activate``,
        switch ``session_id`` (default: the backup's session) to it.

        ``backup`` is a :class:`~modec.runtime.project.Backup` or a file name in
        ``backups/`` (confined like mode names). Raises
        :class:`~modec.runtime.project.BackupError`,
        :class:`~modec.diagnostics.InvalidModeError` (nothing written), or, checked before
        writing, :class:`~modec.diagnostics.SessionNotActiveError` and
        :class:`SessionRequiredError` (``activate`` with no ``session_id`` and a backup that
        names no session).
        """
        path = backup.path if isinstance(backup, Backup) else self._backup_path(backup)
        record, content = read_backup(path)
        if content is None:
            raise BackupError(
                f"backup {path.name} holds no mode file content ({record.mode_file} could not "
                "be read when it was taken)"
            )
        target_name = mode_file or record.mode_file
        target_session = session_id or record.session_id
        if activate:
            if target_session is None:
                raise SessionRequiredError(
                    f"cannot activate the mode restored from {path.name} without a session: "
                    "the backup names none (it was taken of a mode file alone)"
                )
            self._require_active(target_session)
        target_name, target = target_in(self.project.roles, target_name)
        artifact = self._install(target_name, target, content)
        self.artifacts.put(artifact)
        context = None
        if activate:
            assert target_session is not None
            context = self.switch(target_session, target_name).context
        return Restoration(record, target_name, target, artifact.mode_hash, context)

    # ------------------------------------------------------------------ internals

    def _require_active(self, session_id: str) -> SessionRecord:
        session = self.sessions.get_session(session_id)
        if session is None:
            raise SessionNotActiveError(f"session {session_id!r} does not exist")
        if not session.is_active:
            name = f"session_mode_backup_{safe_file_stem(session_id)}.yaml"
            raise SessionNotActiveError(
                f"session {session_id!r} is {session.status.value}",
                suggestion="start a new session (`modec session start`); its last mode can be "
                f"restored with `modec session restore {name} --session NEW_ID --activate`",
            )
        return session

    def _validated(
        self, session_id: str, mode_file: str, action: Action
    ) -> tuple[ResolvedMode, Artifact]:
        try:
            return self.prepare_mode(mode_file)
        except (ModeFileNotFoundError, InvalidModeError) as exc:
            self._require_active(session_id)
            self.sessions.record(
                session_id, action, _recordable(mode_file), None, False,
                _recordable(_describe(exc)),
            )
            raise

    def _router(self, artifact: Artifact) -> Router:
        with self._lock:
            router = self._routers.get(artifact.mode_hash)
            if router is not None:
                self._routers.move_to_end(artifact.mode_hash)
                return router
        router = Router(artifact.table, artifact.mode_hash)
        with self._lock:
            self._routers[artifact.mode_hash] = router
            while len(self._routers) > _ROUTER_CACHE_SIZE:
                self._routers.popitem(last=False)
        return router

    def _activate(self, binding: BindingRecord, artifact: Artifact) -> ModeContext:
        context = ModeContext.build(binding, artifact, self._router(artifact))
        self.contexts.put(context)
        return context

    def _load(self, binding: BindingRecord) -> Artifact:
        try:
            resolved: ResolvedMode | None = self.resolve_mode(binding.mode_file)
        except ModeFileNotFoundError:
            resolved = None
        if resolved is None:
            return self.artifacts.get(binding.mode_hash)
        return self.artifacts.get(binding.mode_hash, resolved.path, resolved.name)

    def _mode_info(self, binding: BindingRecord) -> dict[str, Any]:
        cached = self.contexts.get(binding.session_id)
        if (
            cached is not None
            and cached.mode_hash == binding.mode_hash
            and cached.validation_status is binding.validation_status
            and cached.mode_file == binding.mode_file
        ):
            return cached.mode_info()
        try:
            return self._activate(binding, self._load(binding)).mode_info()
        except ArtifactNotFoundError as exc:
            return {
                "mode_file": binding.mode_file,
                "mode_hash": binding.mode_hash,
                "validation_status": binding.validation_status.value,
                "bound_at": binding.bound_at.isoformat(),
                "error": exc.message,
            }

    def _default_candidates(self) -> list[tuple[str, Path | None]]:
        name = self.default_mode()
        out: list[tuple[str, Path | None]] = [(name, None)]
        out.append((name, bundled_mode_path(name)))
        fallback = DEFAULT_MODES[ProjectType.DEFAULT]
        if fallback != name:
            out.append((fallback, None))
            out.append((fallback, bundled_mode_path(fallback)))
        return out

    def _fallback(
        self, session_id: str, previous: BindingRecord | None, error: str
    ) -> Resumption:
        self.sessions.record(
            session_id,
            Action.RESUME,
            previous.mode_file if previous else None,
            previous.mode_hash if previous else None,
            False,
            error,
        )
        failures = []
        for name, path in self._default_candidates():
            try:
                artifact = (
                    self.prepare_mode(name)[1] if path is None
                    else self.artifacts.compile(path, name)
                )
            except (ModeFileNotFoundError, InvalidModeError) as exc:
                failures.append(exc.message)
                continue
            binding = self.sessions.bind(
                session_id, name, artifact.mode_hash, Action.FALLBACK, ValidationStatus.FALLBACK
            )
            context = self._activate(binding, artifact)
            return Resumption(context, ResumeOutcome.FALLBACK, previous, error)
        raise ModecError(  # pragma: no cover - the bundled default always compiles
            "no default mode compiles: " + "; ".join(failures),
            suggestion="reinstall modec; its bundled modes are damaged",
        )

    # backups

    def _backup_path(self, name: str) -> Path:
        found = find_in(self.project.backups, name)
        if found is None:
            raise BackupError(f"no backup {name!r} in {self.project.backups}")
        return found[1]

    def _install(self, name: str, target: Path, content: bytes) -> Artifact:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".yaml", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            compilation = compile_path(tmp, display=name)
            compilation.raise_for_errors()
            assert compilation.artifact is not None
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return compilation.artifact

    def _backup_binding(
        self, binding: BindingRecord, reason: str, *, name: str | None = None,
        replace: bool = False,
    ) -> Backup:
        return self._write_backup(
            binding.mode_file, binding, reason, name=name, replace=replace
        )

    def _write_backup(
        self,
        mode_file: str,
        binding: BindingRecord | None,
        reason: str,
        *,
        name: str | None = None,
        replace: bool = False,
    ) -> Backup:
        content: bytes | None
        try:
            content = self.resolve_mode(mode_file).path.read_bytes()
        except (ModeFileNotFoundError, OSError):
            content = None  # the binding is still worth keeping; restore will say so
        created = _now()
        digest = None if content is None else _sha256(content)
        stem = "mode_backup_" + created.strftime("%Y%m%d_%H%M%S_%f")
        if binding is not None:
            stem += "_" + safe_file_stem(binding.session_id)
        try:
            self.project.backups.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupError(
                f"cannot create the backup directory {self.project.backups}: {exc}",
                suggestion=f"make {self.project.backups} a writable directory",
            ) from exc
        for attempt in range(100):
            file_name = name or (stem + (f"_{attempt}" if attempt else "") + ".yaml")
            record = Backup(
                path=self.project.backups / file_name,
                created_at=created,
                reason=reason,
                mode_file=mode_file,
                mode_hash=binding.mode_hash if binding else None,
                session_id=binding.session_id if binding else None,
                validation_status=binding.validation_status.value if binding else None,
                content_sha256=digest,
            )
            try:
                write_atomic(record.path, backup_bytes(record, content), exclusive=not replace)
            except FileExistsError as exc:
                if name is not None:
                    raise BackupError(
                        f"backup {name} exists already", suggestion="choose another name"
                    ) from exc
                continue
            except OSError as exc:
                raise BackupError(
                    f"cannot write backup {record.path}: {exc.strerror or exc}",
                    suggestion=f"check that {self.project.backups} is writable",
                ) from exc
            return record
        raise BackupError(f"no free backup file name for {stem}")  # pragma: no cover



# --------------------------------------------------------------------------- asyncio


class AsyncModeRuntime:
    """:class:`ModeRuntime` for asyncio: the same methods as coroutines.

    Blocking work (database, files, compiling) runs in a worker thread through
    :func:`asyncio.to_thread`, so the event loop never waits on it; a context already in the
    cache (and routing with it) is answered without leaving the loop. Construct it with the
    arguments of :class:`ModeRuntime` (opening the database happens in the constructor, so
    prefer ``await AsyncModeRuntime.open(...)`` inside a running loop), or wrap a runtime.

    >>> import asyncio, tempfile
    >>> async def demo(root: str) -> str:
    ...     async with await AsyncModeRuntime.open(root, "sqlite://") as runtime:
    ...         ctx = await runtime.initialize_session(mode_file="default_roles.yaml")
    ...         decision = await runtime.route(ctx.session_id, "write the user guide")
    ...         return decision.task_type
    >>> with tempfile.TemporaryDirectory() as root:
    ...     asyncio.run(demo(root))
    'documentation_tasks'
    """

    def __init__(
        self,
        project_root: str | os.PathLike[str] | None = None,
        database_url: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        runtime: ModeRuntime | None = None,
        **options: Any,
    ) -> None:
        if runtime is None:
            if project_root is None:
                raise ValueError("pass a project root or a ModeRuntime")
            runtime = ModeRuntime(project_root, database_url, cache_dir, **options)
        self.runtime = runtime

    @classmethod
    async def open(
        cls,
        project_root: str | os.PathLike[str],
        database_url: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> AsyncModeRuntime:
        """Open the runtime (migrating the database if needed) in a worker thread."""
        runtime = await asyncio.to_thread(
            ModeRuntime, project_root, database_url, cache_dir, **options
        )
        return cls(runtime=runtime)

    async def __aenter__(self) -> AsyncModeRuntime:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.runtime.close)

    @staticmethod
    async def _run(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        return await asyncio.to_thread(func, *args, **kwargs)

    async def initialize_session(
        self,
        project_root: str | os.PathLike[str] | None = None,
        mode_file: str | None = None,
        *,
        session_id: str | None = None,
    ) -> ModeContext:
        return await self._run(
            self.runtime.initialize_session, project_root, mode_file, session_id=session_id
        )

    async def bind(self, session_id: str, mode_file: str) -> ModeContext:
        return await self._run(self.runtime.bind, session_id, mode_file)

    async def switch(self, session_id: str, mode_file: str, *, backup: bool = True) -> Switch:
        return await self._run(self.runtime.switch, session_id, mode_file, backup=backup)

    async def current_session(self) -> SessionRecord | None:
        return await self._run(self.runtime.current_session)

    async def binding(self, session_id: str) -> BindingRecord | None:
        return await self._run(self.runtime.binding, session_id)

    async def context(self, session_id: str, *, refresh: bool = False) -> ModeContext:
        if not refresh:
            cached = self.runtime.contexts.get(session_id)
            if cached is not None:
                return cached
        return await self._run(self.runtime.context, session_id, refresh=refresh)

    async def route(self, session_id: str, task: TaskLike) -> Decision:
        context = await self.context(session_id)
        return context.router.route(task)

    async def resume(self, session_id: str) -> Resumption:
        return await self._run(self.runtime.resume, session_id)

    async def terminate(self, session_id: str) -> Termination:
        return await self._run(self.runtime.terminate, session_id)

    async def status(self) -> list[SessionInfo]:
        return await self._run(self.runtime.status)

    async def history(self, session_id: str, limit: int | None = None) -> list[HistoryRecord]:
        return await self._run(self.runtime.history, session_id, limit)

    async def list_modes(self) -> list[ModeSummary]:
        return await self._run(self.runtime.list_modes)

    async def validate(self, mode_file: str, *, session_id: str | None = None) -> ModeValidation:
        return await self._run(self.runtime.validate, mode_file, session_id=session_id)

    async def create_mode(
        self,
        name: str,
        template: str = "default_roles.yaml",
        custom_roles: Sequence[RoleSpec] = (),
        settings: Mapping[str, Any] | None = None,
        *,
        created_by: str = "modec",
    ) -> CreatedMode:
        return await self._run(
            self.runtime.create_mode, name, template, custom_roles, settings,
            created_by=created_by,
        )

    async def backup(
        self,
        session_id: str | None = None,
        *,
        mode_file: str | None = None,
        name: str | None = None,
    ) -> Backup:
        return await self._run(
            self.runtime.backup, session_id, mode_file=mode_file, name=name
        )

    async def list_backups(self) -> list[Backup]:
        return await self._run(self.runtime.list_backups)

    async def restore(
        self,
        backup: Backup | str,
        activate: bool = False,
        *,
        session_id: str | None = None,
        mode_file: str | None = None,
    ) -> Restoration:
        return await self._run(
            self.runtime.restore, backup, activate, session_id=session_id, mode_file=mode_file
        )
