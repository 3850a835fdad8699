"""What ``.task_orchestrator/roles/`` holds, read so that no entry can fail the listing.

:func:`scan_roles` walks the folder without following symlinks and gives every entry its
name relative to ``roles/`` and, for an entry that cannot be read (a symlink loop, a symlink
leaving ``roles/``, no permission), why; a path of this machine never appears.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

__all__ = ["MAX_LISTED_FILES", "RolesEntry", "scan_roles"]

#: The most entries a scan reports (and reads).
MAX_LISTED_FILES: Final = 1000
_MODE_SUFFIXES: Final = (".yaml", ".yml")

Kind = Literal["mode", "directory", "other", "outside"]


@dataclass(frozen=True, slots=True)
class RolesEntry:
    """One entry of ``roles/``: ``kind`` ``mode`` (a ``.yaml``/``.yml`` file, or one that
    cannot be read), ``directory``, ``other``, or ``outside`` (a symlink leaving
    ``roles/``: never read); ``problem`` says why a mode cannot be read."""

    name: str
    kind: Kind
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "problem": self.problem}


def _problem(exc: BaseException) -> str:
    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
        return "a symlink loop: the entry points back at itself"
    if isinstance(exc, FileNotFoundError):
        return "a symlink to nothing: its target does not exist"
    if isinstance(exc, PermissionError):
        return "cannot be read: permission denied"
    if isinstance(exc, OSError):
        return f"cannot be read: {exc.strerror or type(exc).__name__}"
    return f"cannot be read: {type(exc).__name__}"


def _classify(path: Path, real_roles: Path, name: str) -> RolesEntry:
    is_mode = name.endswith(_MODE_SUFFIXES)
    try:
        os.stat(path)  # follows the links: ELOOP for a loop, ENOENT for a dangling link
        real = path.resolve(strict=True)
        if not real.is_relative_to(real_roles):
            return RolesEntry(name, "outside")
        if real.is_dir():
            return RolesEntry(name, "directory")
        if is_mode:
            with path.open("rb"):
                pass
    except (OSError, RuntimeError) as exc:
        return RolesEntry(name, "mode" if is_mode or path.is_symlink() else "other", _problem(exc))
    return RolesEntry(name, "mode" if is_mode else "other")


def scan_roles(roles: Path) -> list[RolesEntry]:
    """Every entry under ``roles`` (hidden ones skipped), sorted, at most
    :data:`MAX_LISTED_FILES`; never raises for what an entry is."""
    if not roles.is_dir():
        return []
    real_roles = roles.resolve()
    out: list[RolesEntry] = []
    problems: list[OSError] = []
    for folder, dirs, files in os.walk(roles, onerror=problems.append):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(folder)
        for name in sorted(dirs + files):
            if name.startswith("."):
                continue
            path = base / name
            relative = path.relative_to(roles).as_posix()
            if name in dirs and not path.is_symlink():
                out.append(RolesEntry(relative, "directory"))
            else:
                out.append(_classify(path, real_roles, relative))
            if len(out) >= MAX_LISTED_FILES:
                return out
    for exc in problems:  # folders os.walk could not enter
        where = Path(exc.filename or roles)
        name = where.relative_to(roles).as_posix() if where.is_relative_to(roles) else "?"
        out = [e if e.name != name else RolesEntry(name, "directory", _problem(exc)) for e in out]
    return sorted(out, key=lambda e: e.name)
