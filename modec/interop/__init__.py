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
from modec.interop.importer import ImportedRole, ImportResult, import_paths
from modec.interop.model import FORMATS

__all__ = [
    "FORMATS",
    "ImportResult",
    "ImportedRole",
    "detect",
    "detect_path",
    "import_paths",
]
