"""The one lookup rule of ``mode_metadata.extends`` (and of bundled modes).

A name in ``extends`` is a mode file *name*, not a path: it is looked up next to the
extending file, then among the modes bundled with modec. A local entry that is a symlink
leading out of the extending file's folder is refused (a mode could otherwise read any file on
the machine and echo it in diagnostics). :func:`resolve_extends` is the rule; the compiler and
the runtime both call it.

>>> from pathlib import Path
>>> resolve_extends("default_roles.yaml", Path("/nonexistent")).bundled
True
>>> resolve_extends("../etc/passwd", Path(".")).problem
'not_a_name'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final, Literal

__all__ = [
    "MAX_NAME_LENGTH",
    "MODE_NAME_PATTERN",
    "ExtendsTarget",
    "bundled_mode_names",
    "bundled_mode_path",
    "is_mode_name",
    "resolve_extends",
]

_NAME_BODY: Final = r"(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.-]*"
#: What a mode file name may be, as a JSON Schema (ECMA 262) pattern: no path, no ``..``.
MODE_NAME_PATTERN: Final = f"^{_NAME_BODY}$"
_SAFE_NAME: Final = re.compile(_NAME_BODY)
#: Longer names cannot be file names on common file systems (255 bytes; names are ASCII).
MAX_NAME_LENGTH: Final = 255


def bundled_mode_names() -> list[str]:
    """File names of the modes shipped inside the package, sorted."""
    root = resources.files("modec") / "modes"
    return sorted(p.name for p in root.iterdir() if p.name.endswith((".yaml", ".yml")))


def bundled_mode_path(name: str) -> Path | None:
    """The on-disk path of a bundled mode, or None when no bundled mode has that name."""
    if name not in bundled_mode_names():
        return None
    with resources.as_file(resources.files("modec") / "modes" / name) as p:
        return Path(p)


def is_mode_name(name: str) -> bool:
    """A plain file name (letters, digits, ``_ . -``; no path, no ``..``), short enough to open."""
    return _SAFE_NAME.fullmatch(name) is not None and len(name) <= MAX_NAME_LENGTH


Problem = Literal["not_a_name", "outside_folder", "not_found", "unreadable"]


@dataclass(frozen=True)
class ExtendsTarget:
    """Where an ``extends`` name leads: ``path`` (None when ``problem`` says why not)."""

    name: str
    path: Path | None
    bundled: bool = False
    problem: Problem | None = None


def resolve_extends(name: str, from_dir: Path) -> ExtendsTarget:
    """Resolve the ``extends`` name ``name`` of a file in the folder ``from_dir``.

    The file ``from_dir / name`` if it is a file whose real path stays inside ``from_dir``
    (``problem="outside_folder"`` otherwise), else the bundled mode of that name, else
    ``problem="not_found"``. A name that is not a plain file name (a path, ``..``, NUL, longer
    than a file name may be) is ``problem="not_a_name"``; a name the operating system refuses to
    look up is ``"unreadable"``. Never raises ``OSError``.
    """
    if not is_mode_name(name):
        return ExtendsTarget(name, None, problem="not_a_name")
    local = from_dir / name
    try:
        if local.is_file():
            if not local.resolve().is_relative_to(from_dir.resolve()):
                return ExtendsTarget(name, None, problem="outside_folder")
            return ExtendsTarget(name, local)
    except (OSError, ValueError, RuntimeError):
        return ExtendsTarget(name, None, problem="unreadable")
    bundled = bundled_mode_path(name)
    if bundled is None:
        return ExtendsTarget(name, None, problem="not_found")
    return ExtendsTarget(name, bundled, bundled=True)
