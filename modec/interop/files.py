"""Writing a set of files atomically (``modec import``'s mode and parts, ``modec export``).

Every file is first written to a temporary file beside its target and flushed to disk; only
when all are written are they moved into place with ``os.replace``, so a reader sees the old
files or the new ones, never a part of one. A new file gets mode 0644, a replaced one keeps its
mode. (The runtime has its own one-file helper; interop sits below the runtime and cannot
import it.)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_files"]


def write_files(root: Path, files: dict[str, str]) -> list[Path]:
    """Write ``files`` (path relative to ``root`` → text, UTF-8); return the targets.

    Raises ``OSError`` when a file cannot be written; then no target has changed.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for rel, text in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((tmp, target))
            with os.fdopen(fd, "wb") as out:
                out.write(text.encode("utf-8"))
                out.flush()
                os.fsync(out.fileno())
            mode = target.stat().st_mode & 0o777 if target.is_file() else 0o644
            os.chmod(tmp, mode)
        for tmp, target in staged:
            os.replace(tmp, target)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
    return [target for _, target in staged]
