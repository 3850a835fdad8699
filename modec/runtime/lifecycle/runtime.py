"""The session runtime of one project: :class:`ModeRuntime`."""

from __future__ import annotations

import hashlib
import os
import posixpath
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import cachetools
import yaml
from sqlalchemy import Engine

from modec.compiler.artifact import Artifact
from modec.compiler.build import bundled_mode_path
from modec.compiler.pipeline import compile_path, compile_text
from modec.diagnostics import (
    InvalidModeError,
    ModecError,
    ModeFileNotFoundError,
    SessionNotActiveError,
)
from modec.fs import install, remove_stray_temporaries, temporary_beside, write_atomic
from modec.runtime.context import (
    DEFAULT_CHECK_INTERVAL,
    DEFAULT_TTL,
    ModeContext,
    ModeContextCache,
    ModeShape,
)
from modec.runtime.lifecycle.errors import (
    ModeFileExistsError,
    SessionNotBoundError,
    SessionRequiredError,
    UnreachableTemplateError,
)
from modec.runtime.lifecycle.modes import RESERVED_ROLE_NAMES, check_mode_name, list_modes
from modec.runtime.lifecycle.results import (
    CreatedMode,
    ModeSummary,
    ModeValidation,
    Restoration,
    ResumeOutcome,
    Resumption,
    RoleSpec,
    SessionInfo,
    Switch,
    Termination,
)
from modec.runtime.project import (
    DEFAULT_MODES,
    DEFAULT_RETENTION,
    Backup,
    BackupError,
    BackupRetention,
    ProjectLayout,
    ProjectType,
    ResolvedMode,
    default_mode_name,
    detect_project_type,
    find_bundled,
    find_in,
    prune_backups,
    read_backup,
    resolve_mode,
    safe_file_stem,
    target_in,
    write_backup,
)
from modec.runtime.router import Decision, Router, TaskLike
from modec.runtime.sessions import (
    Action,
    BindingRecord,
    HistoryRecord,
    SessionBindingStore,
    SessionRecord,
    SessionStatus,
    ValidationStatus,
    check_session_id,
    sqlite_url,
)
from modec.runtime.store import ArtifactNotFoundError, ArtifactStore

__all__ = ["DATABASE_URL_VAR", "DEFAULT_SESSION_IDLE", "ModeRuntime"]

#: Environment variable naming the session database when no URL is passed.
DATABASE_URL_VAR: Final = "MODEC_DATABASE_URL"
_ROUTER_CACHE_SIZE: Final = 64
#: How long a session may go without a bind, switch or resume before it expires.
DEFAULT_SESSION_IDLE: Final = timedelta(days=30)


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


class ModeRuntime:
    """Sessions of the project at ``project_root`` bound to compiled modes.

    ``database_url``: any SQLAlchemy URL of SQLite or PostgreSQL; default ``$MODEC_DATABASE_URL``,
    else the SQLite file ``.task_orchestrator/modec.db``. ``cache_dir``: the artifact
    diskcache, default ``.task_orchestrator/cache``. ``context_ttl``, ``check_interval`` and
    ``clock`` configure the context cache (30 minutes, checked against the database after
    1 second, on :func:`time.monotonic`); ``retention`` bounds the automatic backups
    (:class:`~modec.runtime.project.BackupRetention`: 30 days, 1,000 by default).

    A host shares its database: ``engine`` (a ``sqlalchemy.Engine``, instead of
    ``database_url``) is used as it is and never disposed by :meth:`close`;
    ``table_prefix`` and ``schema`` name modec's tables and Alembic version table (see
    :class:`~modec.runtime.sessions.SessionBindingStore`). Host session ids are bound with
    :meth:`adopt` (or ``bind(..., adopt=True)``), with no separate session creation.

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
        check_interval: float = DEFAULT_CHECK_INTERVAL,
        retention: BackupRetention | None = None,
        engine: Engine | None = None,
        table_prefix: str = "",
        schema: str | None = None,
    ) -> None:
        self.project = ProjectLayout.at(project_root)
        self._roles = (self.project, self.project.roles)  # computed once: read every bind
        if engine is not None:
            if database_url is not None:
                raise ValueError("pass a database URL or an engine, not both")
            self.sessions = SessionBindingStore(
                engine=engine, table_prefix=table_prefix, schema=schema
            )
        else:
            url = (
                database_url
                or os.environ.get(DATABASE_URL_VAR)
                or sqlite_url(self.project.database)
            )
            self.sessions = SessionBindingStore(url, table_prefix=table_prefix, schema=schema)
        try:
            self.artifacts = ArtifactStore(
                self.sessions, self.project.cache if cache_dir is None else cache_dir
            )
        except BaseException:
            self.sessions.dispose()
            raise
        self.contexts = ModeContextCache(context_ttl, clock, check_interval=check_interval)
        for folder in (self.project.roles, self.project.backups):
            remove_stray_temporaries(folder)  # left by writers killed mid-write
        self.retention = retention or DEFAULT_RETENTION
        #: Mode hash → its router and the static part of its contexts, built once.
        self._routers: cachetools.LRUCache[str, tuple[Router, ModeShape]] = cachetools.LRUCache(
            _ROUTER_CACHE_SIZE
        )
        self._lock = threading.Lock()
        if type(self).route is ModeRuntime.route:  # a subclass's own route stays its own
            self.route = self._trusted_route()  # type: ignore[method-assign, assignment]

    def _trusted_route(self) -> Callable[[str, TaskLike], Decision]:
        """:meth:`route` with the cache's index and clock at hand: the index is one dict for
        the cache's life (entries are only added and removed), and so is the clock."""
        fresh, clock, slow = self.contexts.fresh.get, self.contexts.clock, self._route_checked

        def route(session_id: str, task: TaskLike) -> Decision:
            hit = fresh(session_id)
            if hit is not None and clock() < hit[1]:
                return hit[0](task)
            return slow(session_id, task)

        route.__doc__ = ModeRuntime.route.__doc__
        return route

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
        project, roles = self._roles
        if project is not self.project:  # ``project`` was replaced: its roles/ then
            project, roles = self.project, self.project.roles
            self._roles = (project, roles)
        return resolve_mode(roles, mode_file)

    def prepare_mode(self, mode_file: str) -> tuple[ResolvedMode, Artifact]:
        """Resolve and compile a mode for binding; the artifact is stored in every tier.

        A bundled mode is read in place (nothing is written into ``roles/``): its name is
        resolved the same way again at every :meth:`resume`, so a project file of that name,
        written since, takes over. Raises :class:`~modec.diagnostics.InvalidModeError` or
        :class:`~modec.diagnostics.ModeFileNotFoundError`.
        """
        resolved = self.resolve_mode(mode_file)
        return resolved, self.artifacts.compile(resolved.path, resolved.name)

    def _compile_bound(self, mode_file: str) -> tuple[ResolvedMode, Artifact]:
        """Resolve the bound ``mode_file`` as binding did (the file in ``roles/``, else the
        bundled mode of that name, read in place) and compile it."""
        found = find_in(self.project.roles, mode_file)
        resolved = (
            find_bundled(mode_file)
            if found is None
            else ResolvedMode(found[0], found[1], bundled=False)
        )
        if resolved is None:
            raise ModeFileNotFoundError(
                f"the bound mode file {mode_file!r} is no longer in {self.project.roles}",
                suggestion="restore it (`modec session restore`, or from version control), "
                "or bind another mode",
            )
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
                    session_id,
                    Action.VALIDATE,
                    _recordable(mode_file),
                    None,
                    False,
                    _recordable(_describe(exc)),
                )
            raise
        validation = ModeValidation.of(resolved, compile_path(resolved.path, display=resolved.name))
        if session_id is not None:
            problem = validation.first_error or (
                None if validation.ok else "the mode did not compile to an artifact"
            )
            self.sessions.record(
                session_id,
                Action.VALIDATE,
                resolved.name,
                validation.mode_hash,
                validation.ok,
                None if problem is None else _recordable(problem),
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

        Also raises :class:`~modec.runtime.lifecycle.errors.UnsafeModeNameError` for a name
        people could misread (:func:`~modec.runtime.lifecycle.modes.check_mode_name`),
        :class:`~modec.runtime.project.UnsafeModePathError` for a name or
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
        check_mode_name(name)
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
        """The mode a new session binds when none is named: the project's own role file,
        else the bundled mode of its type (see
        :func:`~modec.runtime.project.resolve_default_mode`)."""
        return default_mode_name(self.project.root)

    # ------------------------------------------------------------------ sessions

    def initialize_session(
        self,
        project_root: str | os.PathLike[str] | None = None,
        mode_file: str | None = None,
        *,
        session_id: str | None = None,
    ) -> ModeContext:
        """Start a session bound to ``mode_file`` (default: :meth:`default_mode`, the
        project's own role file, else the bundled mode of the project's type).

        Creates ``.task_orchestrator/roles/`` and ``backups/`` if absent; no mode file is
        copied (bundled modes are read in place). The mode is compiled before anything is
        written: an invalid or missing mode
        raises and leaves no session behind. ``project_root`` defaults to the runtime's and
        must be it if given. ``session_id`` defaults to a fresh UUID. The session and its
        first binding are written in one transaction: a crash leaves no session, or a bound
        one.
        """
        if project_root is not None and Path(project_root).resolve() != self.project.root:
            raise ValueError(
                f"this runtime serves {self.project.root}, not {Path(project_root).resolve()}; "
                "open a ModeRuntime for that project"
            )
        self.project.ensure()
        resolved, artifact = self.prepare_mode(mode_file or self.default_mode())
        _, binding = self.sessions.start_session(
            session_id, self.project.root, resolved.name, artifact.mode_hash
        )
        return self._activate(binding, artifact)

    def bind(self, session_id: str, mode_file: str, *, adopt: bool = False) -> ModeContext:
        """Bind an active session to a mode, validated (compiled) first; one history row.

        A mode that does not resolve or compile is recorded as a failed ``bind`` and raised;
        the previous binding stays. ``switch(session_id, mode_file, backup=False)`` is the
        same bind, returning the binding it replaced as well (on PostgreSQL ``bind`` is one
        statement that does not read it). With ``adopt``, a session id
        the database has never seen (a host's) is created in the bind's own transaction
        instead of being refused.
        """
        resolved, artifact = self._validated(session_id, mode_file, Action.BIND, adopt=adopt)
        try:
            binding = self.sessions.bind(
                session_id,
                resolved.name,
                artifact.mode_hash,
                Action.BIND,
                project_root=self.project.root if adopt else None,
            )
        except SessionNotActiveError:
            self._require_active(session_id)  # the error with its recovery suggestion
            raise
        self.contexts.invalidate(session_id)
        return self._activate(binding, artifact)

    def adopt(self, session_id: str, mode_file: str | None = None) -> ModeContext:
        """The context of a host's session ``session_id``, bound first if need be.

        A session id modec has never seen is created and bound to ``mode_file`` (default:
        :meth:`default_mode`) in one transaction, as is a known session without a binding;
        a bound session keeps its binding and its context is returned (``mode_file`` is then
        not used: switching is :meth:`switch`'s). Concurrent adoptions of one id create one
        session and one binding. Raises :class:`~modec.diagnostics.SessionNotActiveError` for
        a terminated session, and what :meth:`prepare_mode` raises for a mode that does not
        resolve or compile (then nothing is written).
        """
        check_session_id(session_id)  # a host's id: refused before any statement carries it
        probe = self.sessions.probe(session_id)
        if probe is not None:
            if probe.status is not SessionStatus.ACTIVE:
                self._require_active(session_id)  # raises, with the recovery suggestion
            if probe.version:
                return self.context(session_id)
        resolved, artifact = self.prepare_mode(mode_file or self.default_mode())
        try:
            adoption = self.sessions.adopt(
                session_id, self.project.root, resolved.name, artifact.mode_hash
            )
        except SessionNotActiveError:
            self._require_active(session_id)
            raise
        if not adoption.bound:  # bound by another caller meanwhile
            return self.context(session_id)
        self.contexts.invalidate(session_id)
        return self._activate(adoption.binding, artifact)

    def switch(
        self, session_id: str, mode_file: str, *, backup: bool = True, adopt: bool = False
    ) -> Switch:
        """Bind an active session to another mode, validated (compiled) first, and return
        the new context with the binding it replaced (``previous``, None if it had none).

        With ``backup`` the current binding is backed up first (to ``backups/``) and the
        history row says ``switch``; if the backup cannot be written, nothing changes and
        :class:`~modec.runtime.project.BackupError` is raised. Without, it is :meth:`bind`:
        no backup, and the row says ``bind``. A mode that does not resolve or compile is
        recorded as a failed row of that action and raised; the previous binding stays.

        ``previous`` is the binding this switch replaced, read in the bind's own transaction
        with the session locked, and the backup is taken of exactly it, under that lock:
        under any number of concurrent switches every replaced binding is reported once and
        backed up once (:meth:`~modec.runtime.sessions.SessionBindingStore.rebind`).

        With ``adopt``, an unknown session id is created in the bind's transaction (see
        :meth:`bind`); a mode that fails then is raised without a history row when the
        session does not exist yet.
        """
        action = Action.SWITCH if backup else Action.BIND
        resolved, artifact = self._validated(session_id, mode_file, action, adopt=adopt)

        def back_up(previous: BindingRecord | None) -> Backup | None:
            return None if previous is None else self._backup_binding(previous, "switch")

        def discard(saved: Backup | None) -> None:
            if saved is not None:
                saved.path.unlink(missing_ok=True)

        try:
            done = self.sessions.rebind(
                session_id,
                resolved.name,
                artifact.mode_hash,
                action,
                before=back_up if backup else None,
                undo=discard,
                project_root=self.project.root if adopt else None,
            )
        except SessionNotActiveError:
            self._require_active(session_id)  # the error with its recovery suggestion
            raise
        self.contexts.invalidate(session_id)
        if done.prepared is not None:
            prune_backups(self.project.backups, self.retention)
        return Switch(self._activate(done.binding, artifact), done.previous, done.prepared)

    def context(self, session_id: str, *, refresh: bool = False) -> ModeContext:
        """The session's :class:`~modec.runtime.context.ModeContext`, from the cache unless
        it expired or ``refresh`` is set (then the binding is read from the database).

        Raises :class:`~modec.diagnostics.SessionNotActiveError` (or
        :class:`SessionNotBoundError`), and
        :class:`~modec.runtime.store.ArtifactNotFoundError` when the bound artifact is in no
        tier and the mode file no longer compiles to it (:meth:`resume` repairs that).
        """
        if not refresh:
            cached = self._cached(session_id)
            if cached is not None:
                return cached
        self._require_active(session_id)
        binding = self.sessions.get_binding(session_id)
        if binding is None:
            raise SessionNotBoundError(f"session {session_id!r} has no mode bound")
        return self._activate(binding, self._load(binding))

    def _cached(self, session_id: str) -> ModeContext | None:
        """The cached context if it is known to match the database: checked (one indexed
        read of the status and binding version) once its check interval has passed."""
        found = self.contexts.lookup(session_id)
        if found is None:
            return None
        cached, due = found
        if not due:
            return cached
        probe = self.sessions.probe(session_id)
        if (
            probe is not None
            and probe.status is SessionStatus.ACTIVE
            and (probe.version == cached.binding_version)
        ):
            self.contexts.confirm(session_id)
            return cached
        self.contexts.invalidate(session_id)
        return None

    def route(self, session_id: str, task: TaskLike) -> Decision:
        """Route ``task`` (a Task, a description string or a mapping) with the session's mode.

        A context trusted now (neither due for its check against the database nor expired)
        costs one dict lookup and one clock reading on top of the router
        (:attr:`ModeContextCache.fresh <modec.runtime.context.ModeContextCache.fresh>`);
        otherwise the context is checked or loaded as :meth:`context` does.
        """
        contexts = self.contexts
        fresh = contexts.fresh.get(session_id)
        if fresh is not None and contexts.clock() < fresh[1]:
            return fresh[0](task)
        return self._route_checked(session_id, task)

    def _route_checked(self, session_id: str, task: TaskLike) -> Decision:
        """:meth:`route` for a session whose context is not trusted now."""
        cached = self._cached(session_id)
        return (cached or self.context(session_id)).router.route(task)

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
            ResumeOutcome.REBOUND
            if artifact.mode_hash != binding.mode_hash
            else ResumeOutcome.RECOVERED
        )
        rebound = self.sessions.bind(session_id, resolved.name, artifact.mode_hash, Action.RESUME)
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

        "Most recent" is the database's creation sequence, never a process's clock; one
        indexed read.

        Sessions of other projects sharing the database are not considered. Shells act on
        this session when their caller names none.
        """
        return self.sessions.latest_session(self.project.root)

    def expire_sessions(
        self,
        idle: timedelta = DEFAULT_SESSION_IDLE,
        *,
        purge_after: timedelta | None = None,
    ) -> list[str]:
        """Terminate the database's active sessions that nothing bound, switched or resumed
        for ``idle`` (default 30 days), each with a ``terminate`` row saying so; with
        ``purge_after``, also delete sessions terminated longer ago than that, with their
        bindings and history. Returns the ids expired. Keeps ``status()`` and
        ``current_session()`` bounded by the sessions in use."""
        if idle <= timedelta(0):
            raise ValueError("idle must be positive")
        expired = self.sessions.expire_sessions(_now() - idle)
        for sid in expired:
            self.contexts.invalidate(sid)
        if purge_after is not None:
            self.sessions.purge_sessions(_now() - purge_after)
        return expired

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
        switch ``session_id`` (default: the backup's session) to it. A file there whose
        bytes differ from the backup's (edited since) is backed up first (reason
        ``restore``), so a restore never loses work.

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
        self._keep_edits(target_name, target, content)
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
        self, session_id: str, mode_file: str, action: Action, *, adopt: bool = False
    ) -> tuple[ResolvedMode, Artifact]:
        try:
            return self.prepare_mode(mode_file)
        except (ModeFileNotFoundError, InvalidModeError) as exc:
            if adopt and self.sessions.get_session(session_id) is None:
                raise  # nothing to record the failure on: the session was to be adopted
            self._require_active(session_id)
            self.sessions.record(
                session_id,
                action,
                _recordable(mode_file),
                None,
                False,
                _recordable(_describe(exc)),
            )
            raise

    def _router(self, artifact: Artifact) -> tuple[Router, ModeShape]:
        """The router of ``artifact`` and the static part of its contexts, built once per
        mode hash (kept in a small LRU)."""
        with self._lock:
            found = self._routers.get(artifact.mode_hash)
        if found is not None:
            return found
        found = (Router(artifact.table, artifact.mode_hash), ModeShape.of(artifact))
        with self._lock:
            self._routers[artifact.mode_hash] = found
        return found

    def _activate(self, binding: BindingRecord, artifact: Artifact) -> ModeContext:
        router, shape = self._router(artifact)
        context = ModeContext.build(binding, artifact, router, shape)
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
        """The modes a fallback tries, in order: the default mode as a name (the project's
        role file, or bundled), then the bundled modes of the project type and of the
        ``default`` type read by path (a project file of their name may be broken)."""
        out: list[tuple[str, Path | None]] = [(self.default_mode(), None)]
        kind = DEFAULT_MODES[detect_project_type(self.project.root)]
        for name in dict.fromkeys((kind, DEFAULT_MODES[ProjectType.DEFAULT])):
            out.append((name, bundled_mode_path(name)))
        return out

    def _fallback(self, session_id: str, previous: BindingRecord | None, error: str) -> Resumption:
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
                    self.prepare_mode(name)[1]
                    if path is None
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

    def _keep_edits(self, name: str, target: Path, content: bytes) -> None:
        """Back up ``target`` (reason ``restore``) if it holds anything but ``content``: a
        restore never loses edits made since the backup was taken."""
        try:
            current = target.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BackupError(
                f"cannot read {name} to back it up before restoring over it: {exc.strerror or exc}"
            ) from exc
        if current != content:
            self._write_backup(name, None, "restore")

    def _install(self, name: str, target: Path, content: bytes) -> Artifact:
        fd, tmp = temporary_beside(target)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            compilation = compile_path(tmp, display=name)
            compilation.raise_for_errors()
            assert compilation.artifact is not None
            install(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return compilation.artifact

    def _backup_binding(
        self,
        binding: BindingRecord,
        reason: str,
        *,
        name: str | None = None,
        replace: bool = False,
    ) -> Backup:
        return self._write_backup(binding.mode_file, binding, reason, name=name, replace=replace)

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
        draft = Backup(
            path=self.project.backups,
            created_at=_now(),
            reason=reason,
            mode_file=mode_file,
            mode_hash=binding.mode_hash if binding else None,
            session_id=binding.session_id if binding else None,
            validation_status=binding.validation_status.value if binding else None,
            content_sha256=None if content is None else _sha256(content),
            binding_version=binding.version if binding else None,
        )
        return write_backup(self.project.backups, draft, content, name=name, replace=replace)
