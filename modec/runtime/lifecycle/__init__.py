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

from modec.runtime.lifecycle.async_runtime import AsyncModeRuntime
from modec.runtime.lifecycle.errors import (
    ModeFileExistsError,
    SessionNotBoundError,
    SessionRequiredError,
    UnreachableTemplateError,
    UnsafeModeNameError,
)
from modec.runtime.lifecycle.modes import (
    MAX_MODE_NAME_CHARS,
    RESERVED_ROLE_NAMES,
    check_mode_name,
    list_modes,
)
from modec.runtime.lifecycle.results import (
    CHECK_GROUPS,
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
from modec.runtime.lifecycle.runtime import DATABASE_URL_VAR, ModeRuntime

__all__ = [
    "CHECK_GROUPS",
    "DATABASE_URL_VAR",
    "MAX_MODE_NAME_CHARS",
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
    "UnsafeModeNameError",
    "check_mode_name",
    "list_modes",
]
