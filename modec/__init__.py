"""modec, the mode compiler: mode files in, explainable routing decision tables out.

The public surface::

    from modec import compile_mode, load_router, Task

    artifact = compile_mode("modes/development_mode.yaml")   # InvalidModeError on errors
    router = load_router(artifact)
    decision = router.route(Task(title="fix: crash", description="segfault on start"))
    decision.task_type, decision.specialist

Names are imported lazily, so ``import modec`` stays cheap for the command line.
"""

from __future__ import annotations

from importlib import import_module

from modec._version import __version__

TYPE_CHECKING = False  # typing is not imported at run time: `modec --help` pays for it
if TYPE_CHECKING:
    from typing import Any

    from modec.compiler.artifact import Artifact, CorruptArtifactError
    from modec.compiler.pipeline import compile_mode
    from modec.diagnostics import (
        Diagnostic,
        InvalidModeError,
        ModecError,
        ModeFileNotFoundError,
        SessionNotActiveError,
    )
    from modec.runtime.lifecycle import AsyncModeRuntime, ModeRuntime
    from modec.runtime.router import AmbiguousRouteError, Decision, Router, Task, load_router

_EXPORTS: dict[str, str] = {
    "compile_mode": "modec.compiler.pipeline",
    "Artifact": "modec.compiler.artifact",
    "CorruptArtifactError": "modec.compiler.artifact",
    "load_router": "modec.runtime.router",
    "Router": "modec.runtime.router",
    "Task": "modec.runtime.router",
    "Decision": "modec.runtime.router",
    "AmbiguousRouteError": "modec.runtime.router",
    "ModeRuntime": "modec.runtime.lifecycle",
    "AsyncModeRuntime": "modec.runtime.lifecycle",
    "Diagnostic": "modec.diagnostics",
    "ModecError": "modec.diagnostics",
    "InvalidModeError": "modec.diagnostics",
    "ModeFileNotFoundError": "modec.diagnostics",
    "SessionNotActiveError": "modec.diagnostics",
}

__all__ = [
    "AmbiguousRouteError",
    "Artifact",
    "AsyncModeRuntime",
    "CorruptArtifactError",
    "Decision",
    "Diagnostic",
    "InvalidModeError",
    "ModeFileNotFoundError",
    "ModeRuntime",
    "ModecError",
    "Router",
    "SessionNotActiveError",
    "Task",
    "__version__",
    "compile_mode",
    "load_router",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'modec' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # resolved once; later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    """The public names (imported lazily, so a plain module ``dir`` would miss them) and the
    module's own attributes."""
    return sorted({*globals(), *__all__})
