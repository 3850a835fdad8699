"""Other tools' agent files: ``modec import``, ``modec export`` and the foreign-file lint.

Roo Code / Kilo Code modes, Claude Code subagents, GitHub Copilot chat modes and agents,
opencode agents, crewAI crews and BMAD agents (one module each) are read into one mode file
(:func:`import_paths`) and written back (:func:`export_mode`). Each tool's own loader is the
reference: what it accepts is imported, what it silently drops or rejects is a located
diagnostic (codes MC7xx). The package is above the compiler and below the shells; it never
touches the runtime.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modec.interop.detect import detect, detect_path
    from modec.interop.export import TARGETS, ExportResult, export_mode
    from modec.interop.importer import ImportedRole, ImportResult, import_paths
    from modec.interop.lint import is_foreign, lint_foreign
    from modec.interop.model import FORMATS

# Names are imported on first use, so that a shell asking `is_foreign` (every `modec lint`)
# loads neither the importers nor the exporters.
_HOMES = {
    "detect": "modec.interop.detect",
    "detect_path": "modec.interop.detect",
    "TARGETS": "modec.interop.export",
    "ExportResult": "modec.interop.export",
    "export_mode": "modec.interop.export",
    "ImportedRole": "modec.interop.importer",
    "ImportResult": "modec.interop.importer",
    "import_paths": "modec.interop.importer",
    "is_foreign": "modec.interop.lint",
    "lint_foreign": "modec.interop.lint",
    "FORMATS": "modec.interop.model",
}

__all__ = [
    "FORMATS",
    "TARGETS",
    "ExportResult",
    "ImportResult",
    "ImportedRole",
    "detect",
    "detect_path",
    "export_mode",
    "import_paths",
    "is_foreign",
    "lint_foreign",
]


def __getattr__(name: str) -> Any:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module 'modec.interop' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
