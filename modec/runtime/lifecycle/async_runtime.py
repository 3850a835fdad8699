"""The asyncio facade of :class:`~modec.runtime.lifecycle.runtime.ModeRuntime`.

Its methods are checked against the runtime's by a test (same names and signatures, as
coroutines): a method added to one and not the other fails the suite.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine

from modec.compiler.artifact import Artifact
from modec.runtime.context import ModeContext
from modec.runtime.lifecycle.results import (
    CreatedMode,
    ModeSummary,
    ModeValidation,
    Restoration,
    Resumption,
    RoleSpec,
    SessionInfo,
    Switch,
    Termination,
)
from modec.runtime.lifecycle.runtime import DEFAULT_SESSION_IDLE, ModeRuntime
from modec.runtime.project import Backup, ResolvedMode
from modec.runtime.router import Decision, TaskLike
from modec.runtime.sessions import BindingRecord, HistoryRecord, SessionRecord

__all__ = ["AsyncModeRuntime"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


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
        engine: Engine | None = None,
        table_prefix: str = "",
        schema: str | None = None,
        **options: Any,
    ) -> None:
        if runtime is None:
            if project_root is None:
                raise ValueError("pass a project root or a ModeRuntime")
            runtime = ModeRuntime(
                project_root,
                database_url,
                cache_dir,
                engine=engine,
                table_prefix=table_prefix,
                schema=schema,
                **options,
            )
        self.runtime = runtime

    @classmethod
    async def open(
        cls,
        project_root: str | os.PathLike[str],
        database_url: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        engine: Engine | None = None,
        table_prefix: str = "",
        schema: str | None = None,
        **options: Any,
    ) -> AsyncModeRuntime:
        """Open the runtime (migrating the database if needed) in a worker thread; the
        arguments are :class:`ModeRuntime`'s (``engine``, ``table_prefix`` and ``schema``
        for a host's database)."""
        runtime = await asyncio.to_thread(
            functools.partial(
                ModeRuntime,
                project_root,
                database_url,
                cache_dir,
                engine=engine,
                table_prefix=table_prefix,
                schema=schema,
                **options,
            )
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

    async def close(self) -> None:
        """Release the database pool and the disk cache (in a worker thread)."""
        await asyncio.to_thread(self.runtime.close)

    async def aclose(self) -> None:
        """The same as :meth:`close` (the asyncio naming convention)."""
        await self.close()

    @staticmethod
    async def _run(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        return await asyncio.to_thread(func, *args, **kwargs)

    async def resolve_mode(self, mode_file: str) -> ResolvedMode:
        return await self._run(self.runtime.resolve_mode, mode_file)

    async def prepare_mode(self, mode_file: str) -> tuple[ResolvedMode, Artifact]:
        return await self._run(self.runtime.prepare_mode, mode_file)

    async def default_mode(self) -> str:
        return await self._run(self.runtime.default_mode)

    async def expire_sessions(
        self,
        idle: timedelta = DEFAULT_SESSION_IDLE,
        *,
        purge_after: timedelta | None = None,
    ) -> list[str]:
        return await self._run(self.runtime.expire_sessions, idle, purge_after=purge_after)

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

    async def bind(self, session_id: str, mode_file: str, *, adopt: bool = False) -> ModeContext:
        return await self._run(self.runtime.bind, session_id, mode_file, adopt=adopt)

    async def adopt(self, session_id: str, mode_file: str | None = None) -> ModeContext:
        return await self._run(self.runtime.adopt, session_id, mode_file)

    async def switch(
        self, session_id: str, mode_file: str, *, backup: bool = True, adopt: bool = False
    ) -> Switch:
        return await self._run(
            self.runtime.switch, session_id, mode_file, backup=backup, adopt=adopt
        )

    async def current_session(self) -> SessionRecord | None:
        return await self._run(self.runtime.current_session)

    async def binding(self, session_id: str) -> BindingRecord | None:
        return await self._run(self.runtime.binding, session_id)

    async def context(self, session_id: str, *, refresh: bool = False) -> ModeContext:
        if not refresh:
            found = self.runtime.contexts.lookup(session_id)
            if found is not None and not found[1]:  # cached and not yet due for a check
                return found[0]
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
            self.runtime.create_mode,
            name,
            template,
            custom_roles,
            settings,
            created_by=created_by,
        )

    async def backup(
        self,
        session_id: str | None = None,
        *,
        mode_file: str | None = None,
        name: str | None = None,
    ) -> Backup:
        return await self._run(self.runtime.backup, session_id, mode_file=mode_file, name=name)

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
