"""Other tools' agent files: ``modec import``, ``modec export`` and the foreign-file lint.

Roo Code / Kilo Code modes, Claude Code subagents, GitHub Copilot chat modes and agents,
opencode agents, crewAI crews and BMAD agents (one module each) are read into one mode file
(:func:`import_paths`) and written back (:func:`export_mode`). Each tool's own loader is the
reference: what it accepts is imported, what it silently drops or rejects is a located
diagnostic (codes MC7xx). The package is above the compiler and below the shells; it never
touches the runtime.
"""

from __future__ import annotations

from modec.interop.detect import detect, detect_path
from modec.interop.export import TARGETS, ExportResult, export_mode
from modec.interop.importer import ImportedRole, ImportResult, import_paths
from modec.interop.lint import is_foreign, lint_foreign
from modec.interop.model import FORMATS

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
