"""Writing a set of files atomically (``modec import``'s mode and parts, ``modec export``).

Every file is first written to a temporary file beside its target and flushed to disk; only
when all are written are they moved into place with ``os.replace``, so a reader sees the old
files or the new ones, never a part of one. A new file gets mode 0644, a replaced one keeps its
mode. The temporary files and the durable move are :mod:`modec.fs`'s, the package's one
atomic writer.
"""

from __future__ import annotations

import os
from pathlib import Path

from modec.fs import install, temporary_beside

__all__ = ["write_files"]


def write_files(root: Path, files: dict[str, str]) -> list[Path]:
    """Write ``files`` (path relative to ``root`` → text, UTF-8); return the targets.

    Raises ``OSError`` when a file cannot be written; then no target has changed.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for rel, text in files.items():
            target = root / rel
            fd, tmp = temporary_beside(target)
            staged.append((tmp, target))
            with os.fdopen(fd, "wb") as out:
                out.write(text.encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            mode = target.stat().st_mode & 0o777 if target.is_file() else 0o644
            os.chmod(tmp, mode)
        for tmp, target in staged:
            install(tmp, target)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [target for _, target in staged]
