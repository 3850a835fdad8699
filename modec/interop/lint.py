"""Lint other tools' agent files through their importers (``modec lint .claude/agents/``).

:func:`is_foreign` tells a shell whether a path is another tool's file or folder (so that
``modec lint`` dispatches here instead of reporting MC105/MC008 for a file that was never a
mode file); :func:`lint_foreign` returns what the import finds: agents the tool would drop or
reject, names that collide, tools that do not exist, descriptions with no routing signal,
references to agents that are not there — and one note naming ``modec import``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

from modec.diagnostics import Diagnostic, Span, sort_diagnostics
from modec.interop.detect import detect_content, detect_path
from modec.interop.reading import MAX_FOLDER_FILES

__all__ = ["is_foreign", "lint_foreign"]

_MODE_FILE: Final = re.compile(
    r"^(task_orchestrator|task_routing_rules|mode_metadata)\s*:", re.MULTILINE
)
_PEEK: Final = 65536


def _peek(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(_PEEK).decode("utf-8", "replace")
    except OSError:
        return ""


def _file_is_foreign(path: Path) -> bool:
    if detect_path(str(path.resolve())) is not None or detect_path(str(path)) is not None:
        return True
    if path.suffix.lower() not in (".md", ".yaml", ".yml", ".json", ".jsonc"):
        return False
    head = _peek(path)
    if _MODE_FILE.search(head):
        return False
    return detect_content(head) is not None


def is_foreign(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is another tool's agent file, or a folder holding such files and no
    mode file (a folder of mode files stays modec's own lint).

    >>> is_foreign(".roomodes"), is_foreign("modes/development_mode.yaml")
    (True, False)
    """
    p = Path(path)
    if not p.exists():
        return detect_path(str(p)) is not None
    if not p.is_dir():
        return _file_is_foreign(p)
    seen = 0
    foreign = False
    for dirpath, dirnames, filenames in os.walk(p):
        dirnames[:] = sorted(d for d in dirnames if d not in (".git", "node_modules", ".venv"))
        for name in sorted(filenames):
            seen += 1
            if seen > MAX_FOLDER_FILES:
                return foreign
            f = Path(dirpath) / name
            if name.lower().endswith((".yaml", ".yml")) and _MODE_FILE.search(_peek(f)):
                return False
            foreign = foreign or _file_is_foreign(f)
    return foreign


def lint_foreign(paths: list[str | os.PathLike[str]] | list[Path]) -> list[Diagnostic]:
    """The import's diagnostics for ``paths``, plus a note on how to make a mode of them."""
    from modec.interop.importer import import_paths  # the importers: only for foreign files
    from modec.interop.model import FORMATS

    shown = [str(p) for p in paths]
    result = import_paths([Path(p) for p in paths])
    diagnostics = list(result.diagnostics)
    if result.text:
        tools = " + ".join(FORMATS[f] for f in result.formats)
        agents = sum(not r.synthetic for r in result.roles)
        diagnostics.append(
            Diagnostic.make(
                "MC716",
                Span.point(shown[0], 1, 1),
                f"{' '.join(shown)} holds {tools} agent files, not a mode file: linted through "
                f"the importer ({agents} agent(s) read)",
                f"make a mode of it: modec import {' '.join(shown)} --out imported.mode.yaml",
            )
        )
    return sort_diagnostics(diagnostics)
