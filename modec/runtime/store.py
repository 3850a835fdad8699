"""Compiled artifacts by mode hash: an in-process LRU, a diskcache, the SQL table, the compiler.

:meth:`ArtifactStore.get` looks a mode hash up tier by tier and fills every tier it passed on
the way back:

1. **memory**: a small LRU of decoded :class:`~modec.compiler.artifact.Artifact` objects;
2. **disk**: a ``diskcache.Cache`` directory shared by the processes of one machine, key
   ``(ARTIFACT_FORMAT, mode_hash)``, value the artifact's bytes (never a pickle);
3. **SQL**: the ``compiled_artifacts`` table of the session database, shared between
   machines (through :class:`~modec.runtime.sessions.SessionBindingStore`);
4. **source**: recompiling the mode file, accepted only if it still compiles to that hash.

Mode files may be given a *name* (the runtime passes the mode's name relative to
``roles/``, or a bundled mode's name): diagnostics, error messages and the artifact's
sources then name the file that way instead of by its absolute path.

Every entry read from the disk or SQL tier is verified (magic, format, length, checksum, and
that it is the artifact of the hash asked for). A corrupt or stale entry is evicted, logged
and treated as a miss: it is rebuilt from the next tier, never returned.

:meth:`ArtifactStore.compile` compiles a mode file and stores the result; it skips the
compiler when the file and every file it extends are byte for byte those of an earlier
compilation by this compiler version (the *source index*, kept in memory and on disk). An
index hit is never trusted as such: the entry must name the file it was looked up for (its
real path and sha256), every source must still hash as recorded, and the artifact it points
to must record that same file content as its first source. A cache never decides which mode
a session runs; a misfiled entry is evicted and the file compiled.

The disk tier is an optimisation: an error it raises that is not contention (a damaged
database raises ``sqlite3.DatabaseError``, ``UnicodeDecodeError``, ``OSError``, …) disables
it for this store with a warning, and the store goes on with memory, SQL and the compiler.

>>> from modec.compiler.build import bundled_mode_path
>>> store = ArtifactStore()                      # memory only: no disk, no SQL
>>> artifact = store.compile(bundled_mode_path("default_roles.yaml"))
>>> store.get(artifact.mode_hash) is artifact
True
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import cachetools
import diskcache

from modec._version import __version__
from modec.compiler.artifact import ARTIFACT_FORMAT, Artifact, CorruptArtifactError
from modec.compiler.build import bundled_mode_path
from modec.compiler.pipeline import compile_path
from modec.diagnostics import InvalidModeError, ModecError
from modec.runtime.sessions import SessionBindingStore

__all__ = ["ArtifactNotFoundError", "ArtifactStore", "StoreStats", "disk_key"]

_log = logging.getLogger(__name__)

_DEFAULT_MEMORY_SIZE: Final = 64
_INDEX_SIZE: Final = 4096
_SOURCE_INDEX: Final = "source-index"

#: Compiles the mode file at a path into an artifact, naming the file by the string in
#: diagnostics and sources; raises :class:`~modec.diagnostics.InvalidModeError`.
Compiler = Callable[[Path, str], Artifact]


class ArtifactNotFoundError(ModecError):
    """No tier holds the artifact of a mode hash, and its mode file (if any) no longer
    compiles to it."""

    suggestion = (
        "resume the session (`modec session resume`, ModeRuntime.resume) to rebind it to its "
        "mode file, or bind another mode"
    )


def disk_key(mode_hash: str) -> tuple[int, str]:
    """The diskcache key of an artifact: the artifact format and the mode hash."""
    return (ARTIFACT_FORMAT, mode_hash)


def _source_key(real_path: str, digest: str) -> tuple[str, int, str, str, str]:
    return (_SOURCE_INDEX, ARTIFACT_FORMAT, __version__, real_path, digest)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def _bundled(name: str) -> tuple[str, str] | None:
    """(real path, sha256) of a bundled mode; bundled files do not change under a process."""
    path = bundled_mode_path(name)
    if path is None:
        return None
    return os.path.realpath(path), _sha256(path.read_bytes())


@functools.lru_cache(maxsize=256)
def _bundled_real(path: str) -> str | None:
    """The real path of ``path`` if it is a bundled mode's file (as
    :func:`~modec.compiler.build.bundled_mode_path` gives it), else ``None``: bundled files
    do not move under a process, so theirs is resolved once."""
    bundled = bundled_mode_path(os.path.basename(path))
    if bundled is None or os.fspath(bundled) != path:
        return None
    return os.path.realpath(path)


def _realpath(path: str | os.PathLike[str]) -> str:
    """``os.path.realpath(path)``, resolved once per process for a bundled mode's file."""
    text = os.fspath(path)
    if isinstance(text, str):
        real = _bundled_real(text)
        if real is not None:
            return real
    return os.path.realpath(text)


def _compile(path: Path, name: str) -> Artifact:
    compilation = compile_path(path, display=name)
    compilation.raise_for_errors()
    assert compilation.artifact is not None
    return compilation.artifact


@dataclass
class StoreStats:
    """Where lookups were answered since the store was opened (for tests and profiles)."""

    memory: int = 0
    disk: int = 0
    sql: int = 0
    compiled: int = 0
    source_index: int = 0
    evicted: int = 0


@dataclass(frozen=True, slots=True)
class _IndexEntry:
    mode_hash: str
    sources: tuple[tuple[str, str], ...]  # (path as the compiler recorded it, sha256)

    def to_bytes(self) -> bytes:
        doc = {"mode_hash": self.mode_hash, "sources": [list(s) for s in self.sources]}
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: object) -> _IndexEntry | None:
        try:
            doc = json.loads(data) if isinstance(data, bytes) else None
            mode_hash = doc["mode_hash"] if isinstance(doc, dict) else None
            sources = tuple((str(p), str(s)) for p, s in doc["sources"])  # type: ignore[index]
        except (ValueError, TypeError, KeyError):
            return None
        return cls(mode_hash, sources) if isinstance(mode_hash, str) else None

    def claims(self, real: str, digest: str) -> bool:
        """True if the entry is the one of the file at ``real`` with content ``digest``:
        an entry filed under another file's key (or forged) names another first source."""
        return bool(self.sources) and self.sources[0] == (real, digest)

    def still_current(self, checked: tuple[str, str] | None = None) -> bool:
        """True if every source still has the recorded bytes and would still be found where
        the compiler found it: a bundled parent is not shadowed by a file of the same name
        beside any of the mode's own files (the compiler looks there first). ``checked`` is
        a (path, digest) the caller has just read and hashed: it is not read again."""
        local_dirs: set[str] | None = None  # computed for the first bundled parent only
        for path, digest in self.sources:
            if (path, digest) == checked:
                continue
            if os.path.isabs(path):
                try:
                    with open(path, "rb") as handle:
                        if _sha256(handle.read()) != digest:
                            return False
                except OSError:
                    return False
                continue
            if "/" in path or "\\" in path:
                return False  # a path the compiler recorded relative: cannot be checked
            bundled = _bundled(path)
            if bundled is None or bundled[1] != digest:
                return False
            if local_dirs is None:
                local_dirs = {os.path.dirname(p) for p, _ in self.sources if os.path.isabs(p)}
            for directory in local_dirs:
                beside = os.path.join(directory, path)
                if os.path.isfile(beside) and os.path.realpath(beside) != bundled[0]:
                    return False
        return True


class ArtifactStore:
    """Artifacts by mode hash through memory, disk, SQL and source tiers (see the module doc).

    ``sessions`` gives the SQL tier (none without it); ``cache_dir`` the diskcache directory
    (none without it; created if missing; a directory whose database is damaged disables
    the tier with a warning instead of failing). ``compiler`` compiles a mode file into an
    artifact (default: the modec pipeline), raising
    :class:`~modec.diagnostics.InvalidModeError`. The store is safe to share between threads;
    each process should open its own. Call :meth:`close` when done.
    """

    def __init__(
        self,
        sessions: SessionBindingStore | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        memory_size: int = _DEFAULT_MEMORY_SIZE,
        compiler: Compiler | None = None,
    ) -> None:
        if memory_size < 1:
            raise ValueError("memory_size must be at least 1")
        self._sessions = sessions
        self._memory: cachetools.LRUCache[str, Artifact] = cachetools.LRUCache(memory_size)
        self._index: cachetools.LRUCache[tuple[str, str], _IndexEntry] = cachetools.LRUCache(
            _INDEX_SIZE
        )
        self._in_sql: set[str] = set()
        self._lock = threading.Lock()
        self._compiler = compiler or _compile
        self.stats = StoreStats()
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self._disk: diskcache.Cache | None = None
        if self.cache_dir is not None:
            try:
                self._disk = diskcache.Cache(str(self.cache_dir))
            except Exception as exc:  # any failure of an optional tier: run without it
                self._disable(exc, "open")

    def __repr__(self) -> str:
        return f"ArtifactStore(cache_dir={self.cache_dir!r}, sql={self._sessions!r})"

    def close(self) -> None:
        """Close the disk tier (the store keeps working on memory and SQL)."""
        disk, self._disk = self._disk, None
        if disk is not None:
            try:
                disk.close()
            except Exception as exc:  # a damaged cache may fail to close too
                _log.warning("closing artifact disk cache %s failed: %s", self.cache_dir, exc)

    @property
    def disk_enabled(self) -> bool:
        """True while the disk tier is in use (false without one, or once it failed)."""
        return self._disk is not None

    def _disable(self, exc: BaseException, doing: str) -> None:
        _log.warning(
            "artifact disk cache %s is unusable (%s: %s: %s); running without it",
            self.cache_dir,
            doing,
            type(exc).__name__,
            exc,
        )
        disk, self._disk = self._disk, None
        if disk is not None:
            with contextlib.suppress(Exception):  # already disabled and warned about
                disk.close()

    def _disk_call(self, doing: str, call: Callable[[diskcache.Cache], Any]) -> Any:
        """``call(disk)``, or ``None`` when the tier is off, contended (a warning) or fails
        (disabled, with a warning)."""
        disk = self._disk
        if disk is None:
            return None
        try:
            return call(disk)
        except diskcache.Timeout as exc:
            _log.warning("artifact disk cache %s is busy (%s): a miss", self.cache_dir, exc)
        except Exception as exc:
            self._disable(exc, doing)
        return None

    # ------------------------------------------------------------------ lookups

    def get(
        self,
        mode_hash: str,
        source_path: str | os.PathLike[str] | None = None,
        name: str | None = None,
    ) -> Artifact:
        """The artifact of ``mode_hash``, from the first tier that holds an intact copy.

        With ``source_path``, the last resort is compiling that mode file (named ``name`` in
        diagnostics and messages, default its path); its artifact is returned (and stored)
        only if it has this hash. Raises :class:`ArtifactNotFoundError` otherwise (chained
        from the compiler's :class:`~modec.diagnostics.InvalidModeError` when the file does
        not compile).
        """
        artifact = self._memory_get(mode_hash)
        if artifact is not None:
            self.stats.memory += 1
            return artifact
        artifact = self._disk_get(mode_hash)
        if artifact is not None:
            self.stats.disk += 1
            self._memory_put(artifact)
            return artifact
        artifact = self._sql_get(mode_hash)
        if artifact is not None:
            self.stats.sql += 1
            self._disk_put(artifact)
            self._memory_put(artifact)
            return artifact
        if source_path is None:
            raise ArtifactNotFoundError(
                f"no artifact of {mode_hash} in memory, the disk cache or the database, and "
                "no mode file to rebuild it from"
            )
        path = Path(source_path)
        shown = str(path) if name is None else name
        try:
            artifact = self._compiler(path, shown)
        except InvalidModeError as exc:
            raise ArtifactNotFoundError(
                f"no stored artifact of {mode_hash}, and {shown} no longer compiles: {exc}"
            ) from exc
        self.stats.compiled += 1
        self.put(artifact)
        if artifact.mode_hash != mode_hash:
            raise ArtifactNotFoundError(
                f"no stored artifact of {mode_hash}, and {shown} now compiles to "
                f"{artifact.mode_hash}: the file changed"
            )
        return artifact

    def compile(self, path: str | os.PathLike[str], name: str | None = None) -> Artifact:
        """Compile the mode file at ``path`` and store the artifact in every tier.

        ``name`` is how diagnostics, the error message and the artifact's sources name the
        file (default: its real path); files it extends are named relative to it, bundled
        modes by their file name. Raises :class:`~modec.diagnostics.InvalidModeError` with
        the diagnostics when the file has errors (a missing file included).

        The compiler is skipped when the source index knows the file's bytes and every file
        they extend is unchanged (and found in the same place): the stored artifact of the
        recorded hash is returned, whatever name it was compiled under.
        """
        real = _realpath(path)
        try:
            with open(real, "rb") as handle:
                digest = _sha256(handle.read())
        except OSError:
            digest = None  # the compiler reports it with a located diagnostic
        if digest is not None:
            artifact = self._indexed(real, digest)
            if artifact is not None:
                self.stats.source_index += 1
                self._sql_put(artifact)  # the disk tier may have outlived the database
                return artifact
        shown = real if name is None else name
        artifact = self._compiler(Path(real), shown)
        self.stats.compiled += 1
        self.put(artifact)
        if digest is not None:
            sources = _checkable_sources(artifact, real, shown)
            self._index_put(real, digest, artifact.mode_hash, sources)
        return artifact

    def _indexed(self, real: str, digest: str) -> Artifact | None:
        """The artifact the source index records for the file at ``real`` with content
        ``digest``, if the entry is verifiably that file's (see the module doc)."""
        entry = self._index_get(real, digest)
        if entry is None:
            return None
        if not entry.claims(real, digest):
            self._evict_index(real, digest, "it names another file")
            return None
        if not entry.still_current(checked=(real, digest)):  # compile() just hashed ``real``
            return None
        try:
            artifact = self.get(entry.mode_hash)
        except ArtifactNotFoundError:
            return None
        first = artifact.sources[0].sha256 if artifact.sources else None
        if first != digest:
            self._evict_index(real, digest, f"its artifact {entry.mode_hash} is another file's")
            return None
        return artifact

    def _evict_index(self, real: str, digest: str, why: str) -> None:
        self.stats.evicted += 1
        _log.warning("evicting source index entry of %s: %s", real, why)
        with self._lock:
            self._index.pop((real, digest), None)
        self._disk_call("evict", lambda d: d.delete(_source_key(real, digest), retry=True))

    # ------------------------------------------------------------------ writes

    def put(self, artifact: Artifact) -> None:
        """Store an artifact in every tier.

        The SQL tier keeps the first copy of a hash; the insert is skipped for hashes this
        store has already written or read there (a damaged row found later is evicted and
        written again by :meth:`get`).
        """
        self._memory_put(artifact)
        self._disk_put(artifact)
        self._sql_put(artifact)

    def forget(self, mode_hash: str | None = None) -> None:
        """Drop one artifact (or all) from the in-process memory tier only."""
        with self._lock:
            if mode_hash is None:
                self._memory.clear()
                self._index.clear()
                self._in_sql.clear()
            else:
                self._memory.pop(mode_hash, None)
                self._in_sql.discard(mode_hash)

    # ------------------------------------------------------------------ memory tier

    def _memory_get(self, mode_hash: str) -> Artifact | None:
        with self._lock:
            return self._memory.get(mode_hash)

    def _memory_put(self, artifact: Artifact) -> None:
        with self._lock:
            self._memory[artifact.mode_hash] = artifact

    # ------------------------------------------------------------------ disk tier

    def _disk_get(self, mode_hash: str) -> Artifact | None:
        key = disk_key(mode_hash)
        data: Any = self._disk_call("read", lambda d: d.get(key, retry=True))
        if data is None:
            return None
        problem = _problem(data, mode_hash)
        if isinstance(problem, Artifact):
            return problem
        self.stats.evicted += 1
        _log.warning("evicting disk cache entry of %s: %s", mode_hash, problem)
        self._disk_call("evict", lambda d: d.delete(key, retry=True))
        return None

    def _disk_put(self, artifact: Artifact) -> None:
        key, data = disk_key(artifact.mode_hash), artifact.to_bytes()
        self._disk_call("write", lambda d: d.set(key, data, retry=True))

    # ------------------------------------------------------------------ SQL tier

    def _sql_get(self, mode_hash: str) -> Artifact | None:
        if self._sessions is None:
            return None
        row = self._sessions.get_artifact(mode_hash)
        if row is None:
            return None
        fmt, data = row
        if fmt > ARTIFACT_FORMAT:
            return None  # a newer modec's artifact: not ours to judge or to evict
        problem = (
            _problem(data, mode_hash)
            if fmt == ARTIFACT_FORMAT
            else f"artifact format {fmt} is obsolete"
        )
        if isinstance(problem, Artifact):
            with self._lock:
                self._in_sql.add(mode_hash)
            return problem
        self.stats.evicted += 1
        _log.warning("evicting database artifact of %s: %s", mode_hash, problem)
        self._sessions.delete_artifact(mode_hash)
        with self._lock:
            self._in_sql.discard(mode_hash)
        return None

    def _sql_put(self, artifact: Artifact) -> None:
        if self._sessions is None:
            return
        with self._lock:
            if artifact.mode_hash in self._in_sql:
                return
        self._sessions.put_artifact(artifact.mode_hash, ARTIFACT_FORMAT, artifact.to_bytes())
        with self._lock:
            self._in_sql.add(artifact.mode_hash)

    # ------------------------------------------------------------------ source index

    def _index_get(self, real: str, digest: str) -> _IndexEntry | None:
        with self._lock:
            entry = self._index.get((real, digest))
        if entry is not None:
            return entry
        key = _source_key(real, digest)
        data: Any = self._disk_call("read", lambda d: d.get(key, retry=True))
        if data is None:
            return None
        entry = _IndexEntry.from_bytes(data)
        if entry is None:
            _log.warning("evicting damaged source index entry of %s", real)
            self._disk_call("evict", lambda d: d.delete(key, retry=True))
            return None
        with self._lock:
            self._index[(real, digest)] = entry
        return entry

    def _index_put(
        self, real: str, digest: str, mode_hash: str, sources: tuple[tuple[str, str], ...]
    ) -> None:
        if not sources or sources[0] != (real, digest):
            return  # the compiler recorded the file differently: nothing checkable to index
        entry = _IndexEntry(mode_hash, sources)
        with self._lock:
            self._index[(real, digest)] = entry
        key, data = _source_key(real, digest), entry.to_bytes()
        self._disk_call("write", lambda d: d.set(key, data, retry=True))


def _checkable_sources(artifact: Artifact, real: str, name: str) -> tuple[tuple[str, str], ...]:
    """``(path, sha256)`` of every source of ``artifact``, compiled from ``real`` under
    ``name``, as :meth:`_IndexEntry.still_current` checks them: files by real path, bundled
    modes by file name.

    The compiler names a file extended from the file shown as ``shown`` by
    ``dirname(shown)/extends`` when it found it beside that file (it looks there first), and
    by its bare name when it is a bundled mode; this maps those names back. A bare name at
    the top is a file beside the mode if one exists there, as the compiler decided.
    """
    base = os.path.dirname(real)
    prefix = os.path.dirname(name) + "/" if os.path.dirname(name) else ""
    out = []
    for source in artifact.sources:
        path = source.path
        if path == name:
            path = real
        elif not os.path.isabs(path) and path.startswith(prefix):
            local = os.path.join(base, path[len(prefix) :])
            if "/" in path or os.path.isfile(local):
                path = local
        out.append((path, source.sha256))
    return tuple(out)


def _problem(data: object, mode_hash: str) -> Artifact | str:
    """The artifact in ``data`` if it is intact and of ``mode_hash``, else what is wrong."""
    if not isinstance(data, bytes):
        return f"entry holds a {type(data).__name__}, not artifact bytes"
    try:
        artifact = Artifact.from_bytes(data)
    except CorruptArtifactError as exc:
        return str(exc)
    if artifact.mode_hash != mode_hash:
        return f"entry holds the artifact of {artifact.mode_hash}"
    return artifact
