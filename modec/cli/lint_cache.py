"""The lint result cache: ``modec lint`` of inputs it has already seen answers from disk.

What mature linters keep (ruff's ``.ruff_cache``, ``eslint --cache``, mypy's cache), for the
same reason: a hook or an editor lints the same unchanged files over and over, and a lint that
compiles pays for the compiler, pydantic and lark before it reads a byte. A hit imports none
of them.

**What is cached.** One entry per run: every write the run made to stdout and stderr, in
order, and its exit code. Rendering the diagnostics afresh would need
:mod:`modec.diagnostics`, and so pydantic, on every hit; replaying the run's own output is
byte-for-byte what a fresh lint prints, in every ``--format``, with the same colours, cap and
``--strict`` exit code (all of them are in the key).

**The key** covers everything the output depends on:

- the cache format, modec's version, a fingerprint of the installed modec code (size and
  ``mtime_ns`` of every file of the package: an editable install changes code without a
  version bump), the interpreter and the installed distributions;
- the working directory, the command's options that change what it prints (``--format``,
  ``--max-diagnostics``, ``--strict``, ``--stdin-filename``, the resolved colour of each
  stream and the streams' encodings) and the paths as given;
- the sha256 of each linted file's content (never its mtime) and of stdin's bytes, with the
  real folder the file's ``extends`` names resolve in; the interpreter's ``sys.path``.

The entry also records what the answer needs of the file system (:data:`Need`), checked on
every lookup: every other file the compiler read (the ``extends`` chain, as
:attr:`Compilation.sources` reports it) with its real path and sha256, re-hashed (a file that
changed, moved or disappeared is a miss); for a bundled parent (the code fingerprint covers
it), that no file of its name has appeared beside the child to shadow it; and where an
``extends`` lookup failed (MC106), the folder's whole listing (names, kinds, where links
lead), so a parent that appears there is a miss. A file that appears in the folder and that
nothing looked up leaves the hit alone.

**What is not cached**: ``--fix`` and ``--diff`` (they always lint afresh), folders given as
paths and other tools' agent files (their answer depends on whole trees), unreadable or
missing files, and a run whose analysis hit its wall-clock safety net (the only input that is
not a count).

**A broken cache never changes an answer.** A corrupt or foreign entry is a miss (and is
overwritten); a cache that cannot be opened, read or written (no such folder and none can be
made, a file in its place, a damaged database, a full disk) gives one warning on stderr and
the run lints without it; a cache busy with another process is a silent miss.

The store is :mod:`diskcache` (SQLite, safe between processes); entries are versioned JSON
bytes, never pickles. It lives in ``$MODEC_CACHE_DIR/lint``, else
``$XDG_CACHE_HOME/modec/lint``, else ``~/.cache/modec/lint``. ``modec lint --no-cache`` or
``MODEC_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import os
import stat
import sys

TYPE_CHECKING = False  # typing is not imported at run time: a cached lint pays for it
if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from typing import IO, Any, Final, TypeAlias

    import diskcache

    from modec.cli.lint import Linted
    from modec.cli.output import Output

    #: What an entry needs of the file system besides its key, each checked on lookup:
    #: ``["file", path, real path, sha256]`` a file the compiler read, unchanged, still there;
    #: ``["absent", path]`` no file where a local parent would shadow the bundled one read;
    #: ``["listing", folder, listing]`` a folder where an ``extends`` lookup failed, unchanged.
    Need: TypeAlias = list[Any]

__all__ = ["CACHE_FORMAT", "LintCache", "Recording", "cache_dir", "cache_wanted"]

#: The entry layout and key recipe; a change here makes every older entry a miss.
CACHE_FORMAT: Final = 1

#: ``MODEC_NO_CACHE`` values that leave the cache on (unset or empty is on too).
_OFF_VALUES: Final = ("", "0", "false", "no", "off")

#: The store's bound; entries are a run's printed text, a few KiB each.
_SIZE_LIMIT: Final = 64 * 1024 * 1024

#: How long a lookup or a store waits for another process's SQLite lock.
_TIMEOUT_SECONDS: Final = 2.0

#: Codes from files the compiler could not read at all (missing, unreadable, over the size
#: limit): nothing records such a file's state, so the run is not stored.
_UNREAD_CODES: Final = frozenset({"MC001", "MC002"})


def cache_dir() -> str:
    """Where lint results live: ``$MODEC_CACHE_DIR/lint``, else ``$XDG_CACHE_HOME/modec/lint``
    (an absolute ``XDG_CACHE_HOME`` only, as the XDG spec says), else
    ``~/.cache/modec/lint``."""
    root = os.environ.get("MODEC_CACHE_DIR")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "modec")
    return os.path.join(root, "lint")


def cache_wanted(no_cache: bool) -> bool:
    """False under ``--no-cache`` or ``MODEC_NO_CACHE`` set to anything but 0/false/no/off."""
    return not no_cache and os.environ.get("MODEC_NO_CACHE", "").strip().lower() in _OFF_VALUES


# --------------------------------------------------------------------------- fingerprints


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: str) -> str | None:
    """The sha256 of a regular file's bytes, or None when it is not one or cannot be read."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # never open a FIFO: it would block
            return None
        with open(path, "rb") as handle:
            return _sha256(handle.read())
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return None


def _code_fingerprint() -> list[str]:
    """Every file of the installed ``modec`` package (bytecode aside) with its size and
    ``mtime_ns``: cheap (a few hundred ``stat`` calls), and it changes with any edit."""
    root = os.path.dirname(os.path.abspath(sys.modules["modec"].__file__ or ""))
    rows: list[str] = [root]
    folders = [root]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        folders.append(entry.path)
                elif not entry.name.endswith((".pyc", ".pyo")):
                    info = entry.stat()
                    rel = os.path.relpath(entry.path, root)
                    rows.append(f"{rel}\0{info.st_size}\0{info.st_mtime_ns}")
    rows.sort()
    return rows


def _environment() -> list[Any]:
    """The interpreter and what is installed beside modec: a PyYAML, lark or pydantic upgrade
    can change the diagnostics (their messages, their C parsers) without touching modec."""
    installed: list[Any] = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip file, a folder that does not exist
            continue
        kept = sorted(n for n in names if n.endswith((".dist-info", ".egg-info", ".pth")))
        installed.append([entry, kept])
    return [sys.version, sys.prefix, installed]


def _listing(folder: str) -> list[list[str]] | None:
    """What an ``extends`` lookup in ``folder`` can see: each entry's name and kind, and for a
    link, the real path it leads to (and whether that is a file). None: no such folder."""
    rows: list[list[str]] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_symlink():
                    real = os.path.realpath(entry.path)
                    rows.append([entry.name, "link", real, str(os.path.isfile(real))])
                elif entry.is_dir():
                    rows.append([entry.name, "dir"])
                else:
                    rows.append([entry.name, "file" if entry.is_file() else "other"])
    except OSError:
        return None
    rows.sort()
    return rows


def _stream_key(stream: IO[str]) -> list[str | None]:
    return [getattr(stream, "encoding", None), getattr(stream, "errors", None)]


# --------------------------------------------------------------------------- recording


class _Tee:
    """A text stream that writes through and remembers each write (stream 0 out, 1 err)."""

    def __init__(self, stream: IO[str], index: int, chunks: list[list[Any]]) -> None:
        self._stream = stream
        self._index = index
        self._chunks = chunks

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        self._chunks.append([self._index, text])
        return written

    def __getattr__(self, name: str) -> Any:  # isatty, flush, encoding, fileno …
        return getattr(self._stream, name)


class Recording:
    """What one run wrote, in order, while its streams were tee'd (:meth:`LintCache.record`)."""

    __slots__ = ("chunks",)

    def __init__(self) -> None:
        self.chunks: list[list[Any]] = []


# --------------------------------------------------------------------------- inputs


class _Input:
    """One linted file (or stdin) as the key sees it before the lint runs."""

    __slots__ = ("display", "folder", "on_disk", "sha256")

    def __init__(self, display: str, folder: str, sha256: str, on_disk: bool) -> None:
        self.display = display  #: its name in diagnostics (the compiler's display path)
        self.folder = folder  #: the real folder its ``extends`` names resolve in
        self.sha256 = sha256
        self.on_disk = on_disk  #: False for stdin (the compiler gets the very bytes hashed)


def _inputs(paths: list[Path], stdin: bytes | None, stdin_name: str | None) -> list[_Input] | None:
    """The run's inputs in lint order (stdin first), or None when the run is not cacheable:
    a path that is not a regular file (a folder, a missing or unreadable file)."""
    found: list[_Input] = []
    if stdin is not None:
        from pathlib import Path

        name = stdin_name or "<stdin>"
        folder = Path(stdin_name).parent if stdin_name else Path(os.getcwd())
        real = os.path.realpath(folder / Path(name).name)
        found.append(_Input(name, os.path.dirname(real), _sha256(stdin), on_disk=False))
    seen: set[str] = set()
    for path in paths:
        display = str(path)
        if display in seen:
            continue
        seen.add(display)
        digest = _file_sha256(display)
        if digest is None:
            return None
        found.append(
            _Input(display, os.path.dirname(os.path.realpath(display)), digest, on_disk=True)
        )
    return found


def _key(args: argparse.Namespace, out: Output, inputs: list[_Input]) -> str:
    import json

    from modec._version import __version__

    material = [
        "modec lint",
        CACHE_FORMAT,
        __version__,
        _sha256("\n".join(_code_fingerprint()).encode("utf-8", "surrogateescape")),
        _environment(),
        os.getcwd(),
        {
            "format": args.format,
            "max_diagnostics": args.max_diagnostics,
            "strict": args.strict,
            "stdin_filename": args.stdin_filename,
            "color": [out.color, out.color_err],
            "streams": [_stream_key(out.stdout), _stream_key(out.stderr)],
            "paths": [str(p) for p in args.paths],
        },
        [[i.display, i.folder, i.sha256] for i in inputs],
    ]
    text = json.dumps(material, separators=(",", ":"))  # ASCII: any file name escapes
    return _sha256(text.encode("ascii"))


# --------------------------------------------------------------------------- the cache


def _holds(need: Need) -> bool:
    """Whether what an entry needs (:data:`Need`) still holds; False for a malformed one."""
    try:
        return _checks(need)
    except (TypeError, ValueError):
        return False


def _checks(need: Need) -> bool:
    kind = need[0]
    if kind == "file" and len(need) == 4:
        path, real, digest = (str(part) for part in need[1:])
        return os.path.realpath(path) == real and _file_sha256(path) == digest
    if kind == "absent" and len(need) == 2:
        return not os.path.isfile(str(need[1]))
    if kind == "listing" and len(need) == 3:
        return bool(_listing(str(need[1])) == need[2])
    return False


class LintCache:
    """The cache of one ``modec lint`` run: look it up, or record the run and store it.

    Build it with :meth:`for_run`; every method is safe to call on a broken store (it warns
    once and turns itself off).
    """

    def __init__(
        self, out: Output, directory: str, store: diskcache.Cache, inputs: list[_Input], key: str
    ) -> None:
        self._out = out
        self.directory = directory
        self._store: diskcache.Cache | None = store
        self._inputs = inputs
        self._listings: dict[str, Any] = {}
        self.key = key

    @classmethod
    def for_run(
        cls, args: argparse.Namespace, out: Output, paths: list[Path], stdin: bytes | None
    ) -> LintCache | None:
        """The cache for this run, or None when the run is not cacheable or the store cannot
        be opened (then with a warning)."""
        inputs = _inputs(paths, stdin, args.stdin_filename)
        if inputs is None:
            return None
        directory = cache_dir()
        try:
            key = _key(args, out, inputs)
        except OSError as exc:  # the package's own files cannot be listed
            _warn(out, directory, "fingerprint", exc)
            return None
        try:
            import diskcache

            store = diskcache.Cache(directory, timeout=_TIMEOUT_SECONDS, size_limit=_SIZE_LIMIT)
        except Exception as exc:  # any failure of an optional store: lint without it
            _warn(out, directory, "open", exc)
            return None
        return cls(out, directory, store, inputs, key)

    def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except Exception as exc:  # a damaged cache may fail to close too
                _warn(self._out, self.directory, "close", exc)

    def _call(self, doing: str, call: Any) -> Any:
        """``call(store)``; None when the store is off, busy (silently) or fails (a warning,
        and the store is off for the rest of the run)."""
        store = self._store
        if store is None:
            return None
        import diskcache

        try:
            return call(store)
        except diskcache.Timeout:
            return None
        except Exception as exc:
            self._store = None
            _warn(self._out, self.directory, doing, exc)
            import contextlib

            with contextlib.suppress(Exception):  # already warned about this store
                store.close()
        return None

    # ------------------------------------------------------------------ hits

    def replay(self) -> int | None:
        """Print the stored run and return its exit code; None (printing nothing) on a miss:
        no entry, a corrupt one, or one whose files changed (see :data:`Need`)."""
        entry = _parse(self._call("read", lambda store: store.get(self.key)))
        if entry is None:
            return None
        chunks, code, needs = entry
        if not all(_holds(need) for need in needs):
            return None
        streams = (self._out.stdout, self._out.stderr)
        for index, text in chunks:
            streams[index].write(text)
        return code

    # ------------------------------------------------------------------ misses

    def record(self) -> _Recorder:
        """Tee the run's streams (a context manager giving the :class:`Recording`); first
        note what the folders the run resolves ``extends`` in hold."""
        self._listings = {i.folder: _listing(i.folder) for i in self._inputs}
        return _Recorder(self._out)

    def store(self, recording: Recording, code: int, results: list[Linted], elapsed: float) -> None:
        """Store the run when everything it read is accounted for (see the module's doc)."""
        needs = self._needs(results, elapsed)
        if needs is None:
            return
        import json

        doc = {"format": CACHE_FORMAT, "code": code, "chunks": recording.chunks, "needs": needs}
        data = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        self._call(
            "write", lambda store: store.set(self.key, data.encode("utf-8", "surrogatepass"))
        )

    def _needs(self, results: list[Linted], elapsed: float) -> list[Need] | None:
        """What the run's answer depends on beyond the key; None when it must not be stored."""
        from modec.compiler.analysis.report import AnalysisLimits

        if len(results) != len(self._inputs):
            return None
        deadline = AnalysisLimits().deadline_seconds
        needs: list[Need] = []
        for item, given in zip(results, self._inputs, strict=True):
            c = item.compilation
            codes = {d.code for d in c.diagnostics}
            if codes & _UNREAD_CODES or ("MC603" in codes and elapsed >= deadline):
                return None
            loaded = c.loaded
            if item.display != given.display or loaded is None or loaded.source is None:
                return None
            if given.on_disk and loaded.source.sha256 != given.sha256:
                return None  # the file changed between the key's read and the compiler's
            parents = _parents(given, c.sources)
            if parents is None:
                return None
            needs.extend(parents)
            if "MC106" in codes:  # a lookup failed: whatever appears in the folder matters
                listing = _listing(given.folder)
                if listing != self._listings.get(given.folder):
                    return None  # the folder changed while the lint ran
                needs.append(["listing", given.folder, listing])
        unique = {_need_id(n): n for n in needs}
        return [unique[k] for k in sorted(unique)]


def _need_id(need: Need) -> str:
    """Two needs of one path and kind are one need."""
    return "\0".join(str(part) for part in need[:2])


def _parents(given: _Input, sources: dict[str, str]) -> list[Need] | None:
    """The needs of the files one compile read besides ``given`` (``sources``: display path →
    text, as :attr:`Compilation.sources` has them); None for a source that cannot be placed
    or that changed since the compiler read it.

    Each is placed by the compiler's own lookup (:func:`~modec.compiler.extends.resolve_extends`
    from the child's real folder): a local parent's display is its name beside the child's
    display; a bundled one's is its bare name, and the code fingerprint covers it, but a local
    file of that name appearing later would shadow it (a bundled child's folder is the bundled
    one: nothing can shadow there).
    """
    from pathlib import Path

    from modec.compiler.extends import bundled_mode_path, resolve_extends

    prefix = Path(given.display).parent
    needs: list[Need] = []
    for shown, text in sources.items():
        if shown == given.display:
            continue
        name = os.path.basename(shown)
        target = resolve_extends(name, Path(given.folder))
        if target.path is None:
            return None
        bundled = bundled_mode_path(name)  # a file of the bundled folder shows by its name
        shipped = bundled is not None and target.path.resolve() == bundled.resolve()
        if shown != (name if shipped else str(prefix / name)):
            return None
        try:
            data = target.path.read_bytes()
        except OSError:
            return None
        if _as_compiled(data) != text:
            return None  # not the file the compiler read, or changed since
        local = os.path.join(given.folder, name)
        if target.bundled:
            needs.append(["absent", local])
        elif not shipped:
            needs.append(["file", local, os.path.realpath(local), _sha256(data)])
    return needs


def _as_compiled(data: bytes) -> str:
    """The text the compiler makes of a file's bytes (:mod:`modec.compiler.source`: UTF-8, a
    byte order mark dropped, invalid bytes replaced in the text its diagnostics point into)."""
    return data.decode("utf-8", "replace").removeprefix("\ufeff")


class _Recorder:
    def __init__(self, out: Output) -> None:
        self._out = out
        self.recording = Recording()
        self._saved: tuple[IO[str], IO[str]] | None = None

    def __enter__(self) -> Recording:
        out = self._out
        self._saved = (out.stdout, out.stderr)
        chunks = self.recording.chunks
        out.stdout = _Tee(out.stdout, 0, chunks)  # type: ignore[assignment]
        out.stderr = _Tee(out.stderr, 1, chunks)  # type: ignore[assignment]
        return self.recording

    def __exit__(self, *exc: object) -> None:
        assert self._saved is not None
        self._out.stdout, self._out.stderr = self._saved


def _parse(data: object) -> tuple[list[tuple[int, str]], int, list[Need]] | None:
    """A stored entry's (chunks, exit code, needs), or None for anything else."""
    if not isinstance(data, bytes):
        return None
    import json

    try:
        doc = json.loads(data.decode("utf-8", "surrogatepass"))
        if doc["format"] != CACHE_FORMAT or type(doc["code"]) is not int:
            return None
        chunks = [(i, t) for i, t in doc["chunks"] if i in (0, 1) and isinstance(t, str)]
        needs = [n for n in doc["needs"] if isinstance(n, list) and n]
        if len(chunks) != len(doc["chunks"]) or len(needs) != len(doc["needs"]):
            return None
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return None
    return chunks, doc["code"], needs


def _warn(out: Output, directory: str, doing: str, exc: BaseException) -> None:
    out.warning(
        f"lint cache {directory} is unusable ({doing}: {type(exc).__name__}: {exc}); "
        "linting without it (delete the folder to reset it; MODEC_NO_CACHE=1 turns it off)"
    )
