"""Atomic file writes: the one way modec replaces or creates a file (a leaf module).

:func:`write_atomic` writes a temporary file in the target's folder, flushes and fsyncs it,
moves it into place with :func:`os.replace` (or hard-links it, never replacing, when
``exclusive``), then fsyncs the folder, so after a crash the file holds the old bytes or the
new ones, and a completed write survives a power cut. Temporary files are named
``.<target name>.<random>.tmp``; a writer killed mid-write leaves one behind, which
:func:`remove_stray_temporaries` cleans up.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as folder:
...     path = write_atomic(pathlib.Path(folder) / "mode.yaml", b"task_orchestrator: {}\\n")
...     path.read_bytes()
b'task_orchestrator: {}\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Final

__all__ = [
    "STRAY_AGE",
    "TEMP_SUFFIX",
    "fsync_folder",
    "install",
    "remove_stray_temporaries",
    "temporary_beside",
    "write_atomic",
]

#: Suffix of every temporary file modec writes.
TEMP_SUFFIX: Final = ".tmp"
#: Age in seconds after which a temporary file is taken for a killed writer's leftover.
STRAY_AGE: Final = 3600.0


def temporary_beside(target: Path) -> tuple[int, Path]:
    """A new temporary file in ``target``'s folder (created, open): ``(fd, path)``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    return fd, Path(tmp)


def fsync_folder(folder: Path) -> None:
    """Make a rename or link inside ``folder`` durable (a no-op where folders cannot be
    opened, as on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself happened
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike[str], data: bytes, *, exclusive: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically and durably (see the module doc); return it.

    Readers see the old content or the new, never a part. ``exclusive=True`` refuses to
    replace an existing file (``FileExistsError``, nothing written), atomically too. The
    folder is created if missing. On any failure the temporary file is removed.
    """
    target = Path(path)
    fd, tmp = temporary_beside(target)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        install(tmp, target, exclusive=exclusive)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def install(tmp: Path, target: Path, *, exclusive: bool = False) -> None:
    """Move the fsynced temporary file ``tmp`` to ``target`` (same folder) and fsync the
    folder; ``exclusive`` refuses to replace a file (``FileExistsError``)."""
    if exclusive:
        os.link(tmp, target)
        os.unlink(tmp)
    else:
        os.replace(tmp, target)
    fsync_folder(target.parent)


def remove_stray_temporaries(
    folder: str | os.PathLike[str], *, older_than: float = STRAY_AGE, now: float | None = None
) -> list[Path]:
    """Delete the temporary files (``.*.tmp``) directly in ``folder`` last modified more
    than ``older_than`` seconds before ``now`` (default: the current time): writers killed
    mid-write leave them. Younger ones may belong to a live writer and stay. Returns what
    was removed; a folder that cannot be listed removes nothing."""
    base = Path(folder)
    cutoff = (time.time() if now is None else now) - older_than
    removed: list[Path] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX)):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed
