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
    from modec.compiler.pipeline import Compilation, compile_mode, compile_path, compile_text
    from modec.compiler.task import AmbiguousRouteError, Task, TaskTooLargeError, read_task
    from modec.diagnostics import (
        Diagnostic,
        InvalidModeError,
        ModecError,
        ModeFileNotFoundError,
        SessionNotActiveError,
    )
    from modec.runtime.lifecycle import AsyncModeRuntime, ModeRuntime
    from modec.runtime.router import Decision, Router, load_router

_EXPORTS: dict[str, str] = {
    "compile_mode": "modec.compiler.pipeline",
    "compile_path": "modec.compiler.pipeline",
    "compile_text": "modec.compiler.pipeline",
    "Compilation": "modec.compiler.pipeline",
    "Artifact": "modec.compiler.artifact",
    "CorruptArtifactError": "modec.compiler.artifact",
    "load_router": "modec.runtime.router",
    "Router": "modec.runtime.router",
    "Task": "modec.compiler.task",
    "read_task": "modec.compiler.task",
    "TaskTooLargeError": "modec.compiler.task",
    "Decision": "modec.runtime.router",
    "AmbiguousRouteError": "modec.compiler.task",
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
    "Compilation",
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
    "TaskTooLargeError",
    "__version__",
    "compile_mode",
    "compile_path",
    "compile_text",
    "load_router",
    "read_task",
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
    module's dunder attributes; helpers and submodules stay out of the listing."""
    return sorted({*__all__, *(n for n in globals() if n.startswith("__"))})
