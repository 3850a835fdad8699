"""A project's ``.task_orchestrator/`` directory: layout, defaults, mode names, atomic writes.

::

    <project>/.task_orchestrator/
        roles/        the project's mode files; a mode is named by its path relative to it
        backups/      session and mode backups (``session_mode_backup_<id>.yaml`` …)
        cache/        the default diskcache directory of the artifact store
        modec.db      the default SQLite database of sessions, bindings and history

Mode names are confined to ``roles/``: :func:`resolve_mode` refuses absolute paths, ``..``
and symlinks that resolve outside it with :class:`UnsafeModePathError`, then falls back to
the modes bundled with modec by file name. Shells that take mode names from untrusted
callers (the MCP server) rely on that.

modec keeps its hands off the project's files: bundled modes are read in place, inside the
installed package, and copied into ``roles/`` only when asked
(:meth:`ProjectLayout.ensure` with ``templates=True``, ``modec init --templates``). A name
means the same at every bind and resume: the file of that name in ``roles/`` if there is
one, else the bundled mode; so a project customizes a bundled mode by writing a file of its
name. The project's default mode is its own role file first (:func:`resolve_default_mode`:
``project_roles.yaml``, the file MCP Task Orchestrator 1.8 writes and loads, then the
project type's mode and ``default_roles.yaml`` if ``roles/`` has them), else the bundled
mode of the project's type, read in place.

>>> layout = ProjectLayout(Path("/srv/app"))
>>> str(layout.roles), str(layout.database)
('/srv/app/.task_orchestrator/roles', '/srv/app/.task_orchestrator/modec.db')
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Final

from modec.compiler.build import bundled_mode_names, bundled_mode_path
from modec.diagnostics import ModecError, ModeFileNotFoundError
from modec.fs import remove_stray_temporaries, write_atomic

__all__ = [
    "BACKUPS_DIR",
    "BACKUP_FORMAT",
    "CACHE_DIR",
    "DATABASE_FILE",
    "DEFAULT_MODES",
    "DEFAULT_RETENTION",
    "MODE_SUFFIXES",
    "ORCHESTRATOR_DIR",
    "PROJECT_ROLES_FILE",
    "ROLES_DIR",
    "Backup",
    "BackupError",
    "BackupRetention",
    "ProjectLayout",
    "ProjectType",
    "ResolvedMode",
    "UnsafeModePathError",
    "backup_bytes",
    "default_mode_name",
    "default_mode_names",
    "detect_project_type",
    "find_bundled",
    "find_in",
    "mode_names",
    "prune_backups",
    "read_backup",
    "resolve_default_mode",
    "resolve_mode",
    "safe_file_stem",
    "scan_modes",
    "target_in",
    "write_atomic",
    "write_backup",
]

ORCHESTRATOR_DIR: Final = ".task_orchestrator"
ROLES_DIR: Final = "roles"
BACKUPS_DIR: Final = "backups"
CACHE_DIR: Final = "cache"
DATABASE_FILE: Final = "modec.db"
MODE_SUFFIXES: Final = (".yaml", ".yml")

_GITIGNORE: Final = b"# written by modec: local state, not for version control\nmodec.db*\ncache/\n"
_DEVELOPMENT_MARKERS: Final = ("pyproject.toml", "package.json", "Cargo.toml")


class UnsafeModePathError(ModeFileNotFoundError):
    """A mode name that would leave the project's ``roles/`` directory (an absolute path,
    ``..``, a symlink pointing outside). Nothing outside ``roles/`` is ever read for it."""

    suggestion = (
        "name mode files by their path relative to .task_orchestrator/roles/ "
        "(for example `development_mode.yaml`), or by a bundled mode's name"
    )


class ProjectType(StrEnum):
    DEVELOPMENT = "development"
    DOCUMENTATION = "documentation"
    DEFAULT = "default"


#: The default mode of each project type (a bundled mode's file name).
DEFAULT_MODES: Final[dict[ProjectType, str]] = {
    ProjectType.DEVELOPMENT: "development_mode.yaml",
    ProjectType.DOCUMENTATION: "documentation_mode.yaml",
    ProjectType.DEFAULT: "default_roles.yaml",
}


def detect_project_type(root: str | os.PathLike[str]) -> ProjectType:
    """``development`` if the root has pyproject.toml, package.json or Cargo.toml;
    ``documentation`` if it has a README (any ``README*``) and none of those; else
    ``default``."""
    base = Path(root)
    if any((base / marker).is_file() for marker in _DEVELOPMENT_MARKERS):
        return ProjectType.DEVELOPMENT
    try:
        names = [entry.name for entry in os.scandir(base) if entry.is_file()]
    except OSError:
        names = []
    if any(name.upper().startswith("README") for name in names):
        return ProjectType.DOCUMENTATION
    return ProjectType.DEFAULT


#: The role file MCP Task Orchestrator 1.8 writes into a project's ``roles/`` when it has none
#: (``role_loader.create_project_roles_file``) and then loads: the project's own roles.
PROJECT_ROLES_FILE: Final = "project_roles.yaml"


def default_mode_names(root: str | os.PathLike[str]) -> tuple[str, ...]:
    """The names :func:`default_mode_name` looks for in ``roles/``, in order:
    :data:`PROJECT_ROLES_FILE`, the project type's mode (:data:`DEFAULT_MODES`), and
    ``default_roles.yaml`` (the orchestrator's older name for its role file)."""
    names = (PROJECT_ROLES_FILE, DEFAULT_MODES[detect_project_type(root)])
    fallback = DEFAULT_MODES[ProjectType.DEFAULT]
    return names if fallback in names else (*names, fallback)


def default_mode_name(root: str | os.PathLike[str]) -> str:
    """The name of the mode a new session of the project at ``root`` binds when none is
    named: the first of :func:`default_mode_names` that ``roles/`` has an entry of, else the
    bundled mode of the project's type (:data:`DEFAULT_MODES`). Only names are looked at:
    an entry that cannot be read is still the default, and binding it says why."""
    roles = Path(root) / ORCHESTRATOR_DIR / ROLES_DIR
    names = default_mode_names(root)
    for name in names:
        if os.path.lexists(roles / name):
            return name
    return names[1]


def resolve_default_mode(root: str | os.PathLike[str]) -> ResolvedMode:
    """The mode a new session of the project at ``root`` binds when none is named: the
    project's own role file (see :func:`default_mode_name`), else the bundled mode of the
    project's type, read in place. Raises as :func:`resolve_mode` does for an entry of
    ``roles/`` that cannot be read or leaves it: a project's role file is never passed over
    silently."""
    return resolve_mode(Path(root) / ORCHESTRATOR_DIR / ROLES_DIR, default_mode_name(root))


@dataclass(frozen=True, slots=True)
class ResolvedMode:
    """A mode name and the file it names: in ``roles/`` or, failing that, a bundled mode."""

    name: str
    path: Path
    bundled: bool


@dataclass(frozen=True, slots=True)
class ProjectLayout:
    """The ``.task_orchestrator/`` paths of the project at ``root`` (nothing is created until
    :meth:`ensure`)."""

    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> ProjectLayout:
        """The layout of ``root``, made absolute."""
        return cls(Path(root).expanduser().resolve())

    @property
    def base(self) -> Path:
        return self.root / ORCHESTRATOR_DIR

    @property
    def roles(self) -> Path:
        return self.base / ROLES_DIR

    @property
    def backups(self) -> Path:
        return self.base / BACKUPS_DIR

    @property
    def cache(self) -> Path:
        return self.base / CACHE_DIR

    @property
    def database(self) -> Path:
        return self.base / DATABASE_FILE

    def ensure(self, *, templates: bool = False) -> list[Path]:
        """Create ``roles/`` and ``backups/`` (and a ``.gitignore`` for modec's database and
        cache); with ``templates``, also copy the bundled modes into ``roles/``
        (:meth:`copy_templates`). Return the files written. Idempotent, safe to race.
        Temporary files that killed writers left in those folders are removed
        (:func:`~modec.fs.remove_stray_temporaries`).

        Without ``templates`` no mode file is written: bundled modes are read in place."""
        written: list[Path] = []
        for directory in (self.roles, self.backups):
            directory.mkdir(parents=True, exist_ok=True)
            remove_stray_temporaries(directory)
        ignore = self.base / ".gitignore"
        if not ignore.exists() and self._write_new(ignore, _GITIGNORE):
            written.append(ignore)
        if templates:
            written += self.copy_templates()
        return written

    def copy_templates(self, names: Iterable[str] | None = None) -> list[Path]:
        """Copy the bundled modes ``names`` (default: all of them) into ``roles/`` as
        templates to edit, each under its own name and only where ``roles/`` has no entry of
        that name (a file is never replaced); return the files written. Raises
        :class:`~modec.diagnostics.ModeFileNotFoundError` for a name that is no bundled mode
        (nothing is copied then)."""
        wanted = bundled_mode_names() if names is None else list(names)
        sources = [(name, bundled_mode_path(name)) for name in wanted]
        unknown = [name for name, source in sources if source is None]
        if unknown:
            raise ModeFileNotFoundError(
                f"no bundled mode {', '.join(map(repr, unknown))}",
                suggestion="bundled modes: " + ", ".join(bundled_mode_names()),
            )
        self.roles.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for name, source in sources:
            assert source is not None
            target = self.roles / name
            if target.exists() or target.is_symlink():
                continue
            if self._write_new(target, source.read_bytes()):
                written.append(target)
        return written

    @staticmethod
    def _write_new(path: Path, data: bytes) -> bool:
        try:
            write_atomic(path, data, exclusive=True)
        except FileExistsError:
            return False  # another process created it first
        return True

    def is_initialized(self) -> bool:
        return self.roles.is_dir()

    def mode_names(self) -> list[str]:
        """See :func:`mode_names`."""
        return mode_names(self.roles)

    def resolve(self, name: str) -> ResolvedMode:
        """See :func:`resolve_mode`."""
        return resolve_mode(self.roles, name)

    def default_mode(self) -> ResolvedMode:
        """See :func:`resolve_default_mode`."""
        return resolve_default_mode(self.root)


def mode_names(roles_dir: str | os.PathLike[str]) -> list[str]:
    """The mode files under ``roles_dir`` (``*.yaml``, ``*.yml``; hidden files and anything
    reached through a symlink leaving the directory skipped), as sorted mode names; entries
    that cannot be read are left out (:func:`scan_modes` reports them)."""
    return scan_modes(roles_dir)[0]


def scan_modes(roles_dir: str | os.PathLike[str]) -> tuple[list[str], dict[str, str]]:
    """``(names, unreadable)``: the readable mode files under ``roles_dir`` as sorted mode
    names (see :func:`mode_names`), and the entries that could not be read (a symlink loop,
    a folder without permission, …), each by its name relative to ``roles_dir`` with the
    reason. Never raises for what is inside the directory."""
    roles = Path(roles_dir)
    unreadable: dict[str, str] = {}
    try:
        if not roles.is_dir():
            return [], unreadable
        real_roles = roles.resolve()
    except (OSError, RuntimeError) as exc:
        return [], {".": _reason(exc)}
    names: list[str] = []
    for path in _walk(roles, roles, unreadable):
        try:
            inside = path.resolve(strict=True).is_relative_to(real_roles)
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop before 3.13
            unreadable[path.relative_to(roles).as_posix()] = _reason(exc)
            continue
        if path.suffix in MODE_SUFFIXES and inside:
            names.append(path.relative_to(roles).as_posix())
    return sorted(names), dict(sorted(unreadable.items()))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return "a symlink loop" if isinstance(exc, RuntimeError) else str(exc)


def _walk(directory: Path, roles: Path, unreadable: dict[str, str]) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        unreadable[directory.relative_to(roles).as_posix() or "."] = _reason(exc)
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = not is_dir and entry.is_file()
        except OSError as exc:
            if Path(entry.name).suffix in MODE_SUFFIXES or entry.is_symlink():
                unreadable[path.relative_to(roles).as_posix()] = _reason(exc)
            continue
        if is_dir:
            yield from _walk(path, roles, unreadable)
        elif is_file:
            yield path


def _check_name(name: str) -> PurePosixPath:
    if not isinstance(name, str):
        raise UnsafeModePathError(f"mode name {name!r} is empty")
    return _checked_name(name)


@functools.lru_cache(maxsize=1024)
def _checked_name(name: str) -> PurePosixPath:
    """:func:`_check_name` of a string (a pure function of it: cached; errors are not)."""
    if not name.strip():
        raise UnsafeModePathError(f"mode name {name!r} is empty")
    if "\x00" in name:
        raise UnsafeModePathError(f"mode name {name!r} contains a NUL character")
    windows = PureWindowsPath(name)
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or windows.is_absolute() or windows.drive:
        raise UnsafeModePathError(
            f"mode name {name!r} is an absolute path; mode files live in .task_orchestrator/roles/"
        )
    if ".." in posix.parts:
        raise UnsafeModePathError(f"mode name {name!r} leaves the roles directory ('..')")
    if not posix.parts or posix.parts == (".",):
        raise UnsafeModePathError(f"mode name {name!r} names no file")
    return posix


def _real(path: str) -> tuple[str, os.stat_result | None]:
    """``Path(path).resolve()`` as a string, with the ``stat`` of the result it takes to
    detect a symlink loop (``None`` when that stat fails otherwise). Raises ``OSError``
    (``ELOOP`` for a loop)."""
    real = os.path.realpath(path)
    try:
        return real, os.stat(real)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise
        return real, None


def _locate(
    directory: str, relative: PurePosixPath, name: str
) -> tuple[Path, os.stat_result | None]:
    """The real path of ``directory/relative``, confined to ``directory``, and its stat
    (``None`` when there is no such file)."""
    try:
        real_dir, _ = _real(directory)
        real, info = _real(os.path.join(directory, *relative.parts))
    except OSError as exc:
        reason = "a symlink loop" if exc.errno == errno.ELOOP else _reason(exc)
        raise ModeFileNotFoundError(
            f"mode {name!r} cannot be read: {reason}",
            suggestion="fix or remove that entry of .task_orchestrator/roles/",
        ) from exc
    if real != real_dir and not real.startswith(real_dir.rstrip(os.sep) + os.sep):
        # Say where, relative to nothing on this machine: the client may be remote.
        raise UnsafeModePathError(
            f"mode name {name!r} resolves outside the roles directory (through a symlink)"
        )
    return Path(real), info


def _inside(directory: Path, relative: PurePosixPath, name: str) -> Path:
    return _locate(os.fspath(directory), relative, name)[0]


def _candidates(relative: PurePosixPath) -> list[PurePosixPath]:
    if relative.suffix in MODE_SUFFIXES:
        return [relative]
    return [relative, relative.with_name(relative.name + ".yaml")]


def _absent(directory: str, relative: PurePosixPath) -> bool:
    """True when ``directory`` has no entry at all of the one-part name ``relative``: then
    resolving it finds no file and cannot leave ``directory`` (an entry that exists, even a
    dangling symlink, is resolved and confined as usual)."""
    if len(relative.parts) != 1:
        return False
    try:
        os.lstat(os.path.join(directory, relative.parts[0]))
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def find_in(directory: str | os.PathLike[str], name: str) -> tuple[str, Path] | None:
    """``(normalized name, real path)`` of the file ``name`` names inside ``directory``
    (tried as given, then with ``.yaml`` appended when it has no mode suffix), or ``None``.

    Raises :class:`UnsafeModePathError` for an absolute path, a ``..`` component, or a name
    whose real path (symlinks resolved) is outside ``directory``; nothing is read then.
    """
    base = os.fspath(directory)
    for candidate in _candidates(_check_name(name)):
        if _absent(base, candidate):
            continue
        real, info = _locate(base, candidate, name)
        if info is not None and stat.S_ISREG(info.st_mode):
            return candidate.as_posix(), real
    return None


def target_in(directory: str | os.PathLike[str], name: str) -> tuple[str, Path]:
    """``(normalized name, real path)`` where a file named ``name`` is written inside
    ``directory`` (``.yaml`` appended when it has no mode suffix), confined as
    :func:`find_in`."""
    relative = _candidates(_check_name(name))[-1]
    return relative.as_posix(), _inside(Path(directory), relative, name)


@functools.lru_cache(maxsize=256)
def _bundled_path(name: str) -> Path | None:
    """:func:`~modec.compiler.build.bundled_mode_path`, cached: the bundled modes of an
    installed package do not change under a running process."""
    return bundled_mode_path(name)


def find_bundled(name: str) -> ResolvedMode | None:
    """The bundled mode a plain file name names (tried as given, then with ``.yaml``
    appended when it has no mode suffix), read in place; ``None`` for any other name.
    Raises :class:`UnsafeModePathError` for a name no mode may have (see :func:`find_in`)."""
    relative = _check_name(name)
    if len(relative.parts) == 1:
        for candidate in _candidates(relative):
            path = _bundled_path(candidate.name)
            if path is not None:
                return ResolvedMode(candidate.name, path, bundled=True)
    return None


def resolve_mode(roles_dir: str | os.PathLike[str], name: str) -> ResolvedMode:
    """The mode file that ``name`` names: in ``roles_dir`` (see :func:`find_in`), else the
    bundled mode of that file name.

    Raises :class:`UnsafeModePathError` (a :class:`~modec.diagnostics.ModeFileNotFoundError`)
    for a name leaving ``roles_dir`` and :class:`~modec.diagnostics.ModeFileNotFoundError`
    when no such mode exists. The returned path is the real path that was checked.
    """
    found = find_in(roles_dir, name)
    if found is not None:
        return ResolvedMode(found[0], found[1], bundled=False)
    bundled = find_bundled(name)
    if bundled is not None:
        return bundled
    roles = Path(roles_dir)
    available = sorted({*mode_names(roles), *bundled_mode_names()})
    raise ModeFileNotFoundError(
        f"no mode {name!r} in .task_orchestrator/roles/ and no bundled mode of that name",
        suggestion="available modes: "
        + ", ".join(available)
        + " (bundled modes are read in place; `modec init --templates` copies them into "
        "roles/ to edit)",
    )


# --------------------------------------------------------------------------- backups

#: Version of the backup header.
BACKUP_FORMAT: Final = 1
_BACKUP_TITLE: Final = b"# modec mode backup: restore with `modec session restore NAME`\n"
_BACKUP_META: Final = b"# backup_metadata: "
_BACKUP_END: Final = b"# ---\n"
_SAFE_STEM: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


class BackupError(ModecError):
    """A backup file that cannot be read, written or restored."""

    suggestion = "run `modec session backups` to list the backups that can be restored"


def safe_file_stem(text: str) -> str:
    """``text`` if it is a safe file name stem, else a stable digest of it (for session ids
    in backup file names)."""
    if _SAFE_STEM.fullmatch(text) and not text.endswith("."):
        return text
    return "id-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Backup:
    """A backup in ``backups/``: a copy of a mode file (``content``, absent when the file
    could not be read at backup time) with the session binding it was taken for.

    On disk it is the mode file itself behind three comment lines, the second holding this
    metadata as one line of JSON: a backup stays a valid mode file (``modec lint`` reads
    it), and reading the metadata back needs no YAML parser.
    """

    path: Path
    created_at: datetime
    reason: str
    mode_file: str
    mode_hash: str | None = None
    session_id: str | None = None
    validation_status: str | None = None
    content_sha256: str | None = None
    binding_version: int | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def has_content(self) -> bool:
        return self.content_sha256 is not None

    def metadata(self) -> dict[str, Any]:
        return {
            "format": BACKUP_FORMAT,
            "created_at": self.created_at.isoformat(),
            "backup_reason": self.reason,
            "mode_file": self.mode_file,
            "mode_hash": self.mode_hash,
            "session_id": self.session_id,
            "validation_status": self.validation_status,
            "content_sha256": self.content_sha256,
            "binding_version": self.binding_version,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "path": str(self.path), **self.metadata()}


def backup_bytes(backup: Backup, content: bytes | None) -> bytes:
    """The file bytes of ``backup`` with the mode file ``content`` (its sha256 must match)."""
    expected = None if content is None else hashlib.sha256(content).hexdigest()
    if expected != backup.content_sha256:
        raise ValueError("backup content does not match its recorded sha256")
    meta = json.dumps(backup.metadata(), sort_keys=True, ensure_ascii=True).encode("ascii")
    return _BACKUP_TITLE + _BACKUP_META + meta + b"\n" + _BACKUP_END + (content or b"")


def write_backup(
    folder: Path,
    draft: Backup,
    content: bytes | None,
    *,
    name: str | None = None,
    replace: bool = False,
) -> Backup:
    """Write ``draft`` (its ``path`` ignored) with ``content`` into ``folder`` atomically, as
    ``name`` or ``mode_backup_<UTC time>[_<session>].yaml`` (a free variant of it); an existing
    file is replaced only with ``replace``. Raises :class:`BackupError`."""
    stem = "mode_backup_" + draft.created_at.strftime("%Y%m%d_%H%M%S_%f")
    if draft.session_id is not None:
        stem += "_" + safe_file_stem(draft.session_id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(
            f"cannot create the backup directory {folder}: {exc}",
            suggestion=f"make {folder} a writable directory",
        ) from exc
    for attempt in range(100):
        file_name = name or (stem + (f"_{attempt}" if attempt else "") + ".yaml")
        record = _at_path(draft, folder / file_name)
        try:
            write_atomic(record.path, backup_bytes(record, content), exclusive=not replace)
        except FileExistsError as exc:
            if name is not None:
                raise BackupError(
                    f"backup {name} exists already", suggestion="choose another name"
                ) from exc
            continue
        except OSError as exc:
            raise BackupError(
                f"cannot write backup {record.path}: {exc.strerror or exc}",
                suggestion=f"check that {folder} is writable",
            ) from exc
        return record
    raise BackupError(f"no free backup file name for {stem}")  # pragma: no cover


def _at_path(backup: Backup, path: Path) -> Backup:
    """``backup`` at another path."""
    return dataclasses.replace(backup, path=path)


def read_backup(path: str | os.PathLike[str]) -> tuple[Backup, bytes | None]:
    """The backup at ``path`` and its mode file content (verified against its sha256).

    Raises :class:`BackupError` for a file that is not an intact modec backup.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BackupError(f"cannot read backup {file}: {exc.strerror or exc}") from exc
    lines = data.split(b"\n", 3)
    if (
        len(lines) < 4
        or lines[0] + b"\n" != _BACKUP_TITLE
        or not lines[1].startswith(_BACKUP_META)
        or lines[2] + b"\n" != _BACKUP_END
    ):
        raise BackupError(f"{file} is not a modec backup (its header is missing or altered)")
    try:
        meta = json.loads(lines[1][len(_BACKUP_META) :])
        if not isinstance(meta, dict) or meta.get("format") != BACKUP_FORMAT:
            raise ValueError(f"unsupported backup format {meta.get('format')!r}")
        backup = Backup(
            path=file,
            created_at=datetime.fromisoformat(meta["created_at"]).astimezone(UTC),
            reason=str(meta["backup_reason"]),
            mode_file=str(meta["mode_file"]),
            mode_hash=_optional(meta.get("mode_hash")),
            session_id=_optional(meta.get("session_id")),
            validation_status=_optional(meta.get("validation_status")),
            content_sha256=_optional(meta.get("content_sha256")),
            binding_version=_optional_int(meta.get("binding_version")),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"{file} has unreadable backup metadata: {exc}") from exc
    body = lines[3]
    if backup.content_sha256 is None:
        return backup, None
    if hashlib.sha256(body).hexdigest() != backup.content_sha256:
        raise BackupError(f"{file} is damaged: its mode file content does not match its checksum")
    return backup, body


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def _optional_int(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"binding_version {value!r} is not an integer")
    return value


# --------------------------------------------------------------------------- retention

#: Automatic backups (of switches and of ``backup`` without a name) are named by their UTC
#: creation time, so their age and order come from the name alone.
_TIMED_BACKUP: Final = re.compile(r"mode_backup_(\d{8}_\d{6}_\d{6})(?:_[A-Za-z0-9_.-]*)?\.yaml")


@dataclass(frozen=True, slots=True)
class BackupRetention:
    """How many automatic backups ``backups/`` keeps: the newest ``max_count`` at most, none
    older than ``max_age`` (``None`` lifts that bound). Backups named by a caller and the
    per-session backups of terminated sessions (one per session) are never pruned."""

    max_age: timedelta | None = timedelta(days=30)
    max_count: int | None = 1000

    def __post_init__(self) -> None:
        if self.max_count is not None and self.max_count < 1:
            raise ValueError("max_count must be at least 1 (or None)")
        if self.max_age is not None and self.max_age <= timedelta(0):
            raise ValueError("max_age must be positive (or None)")


#: The seed's retention: 30 days (and at most 1,000 automatic backups).
DEFAULT_RETENTION: Final = BackupRetention()


def prune_backups(
    folder: str | os.PathLike[str],
    retention: BackupRetention = DEFAULT_RETENTION,
    *,
    now: datetime | None = None,
) -> list[Path]:
    """Delete the automatic backups in ``folder`` beyond ``retention``; return them.

    Only file names are read (one directory listing): cheap enough to run after every
    backup. Files that vanish meanwhile (another process pruning) are skipped.
    """
    try:
        names = [e.name for e in os.scandir(folder) if _TIMED_BACKUP.fullmatch(e.name)]
    except OSError:
        return []
    names.sort(reverse=True)  # newest first: the names sort by creation time
    doomed = set(names[retention.max_count :] if retention.max_count is not None else [])
    if retention.max_age is not None:
        cutoff = ((now or datetime.now(UTC)) - retention.max_age).strftime("%Y%m%d_%H%M%S_%f")
        for name in names:
            match = _TIMED_BACKUP.fullmatch(name)
            if match is not None and match.group(1) < cutoff:
                doomed.add(name)
    removed = []
    for name in sorted(doomed):
        path = Path(folder) / name
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError:
            continue  # unwritable: retention is best effort, never a failed switch
        removed.append(path)
    return removed
