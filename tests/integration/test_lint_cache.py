"""`modec lint`'s result cache (modec.cli.lint_cache), through real `python -m modec`
processes on real files and real cache folders.

Whether a run answered from the cache is read from the process itself: a wrapper records, at
exit, whether ``modec.compiler.pipeline`` was imported (a hit never imports it). A hit must
print byte-for-byte what a fresh lint prints, with the same exit code; every way a cache can
break must leave the answer unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

REPO: Final = Path(__file__).resolve().parents[2]

#: Runs modec as ``python -m modec`` does, and writes the imported modules' names to $PROBE.
WRAPPER: Final = (
    "import atexit, json, os, runpy, sys\n"
    "def probe():\n"
    "    try:\n"
    "        with open(os.environ['PROBE'], 'w') as f:\n"
    "            f.write(json.dumps(sorted(sys.modules)))\n"
    "    except OSError:\n"
    "        pass\n"
    "atexit.register(probe)\n"
    "sys.argv[0] = 'modec'\n"
    "runpy.run_module('modec', run_name='__main__', alter_sys=True)\n"
)

#: Errors with fixes (misspelt keys), a warning (a specialist without a role), text that is
#: not ASCII, and CRLF line ends.
MODE: Final = (
    "# modes of the café\r\n"
    "task_routing_rules:\r\n"
    "  incident_tasks:\r\n"
    "    keywords: [outage, incident, ünfall]\r\n"
    "    required_specilist: sre\r\n"
    "    priorty: 5\r\n"
    "task_orchestrator:\r\n"
    "  role_definition: o\r\n"
    "  specialist_roles: {sre: s, tester: t}\r\n"
    "sre:\r\n"
    "  role_definition: s\r\n"
)
#: Clean but for one warning (MC201: tester has no role definition).
WARNS: Final = MODE.replace("required_specilist", "required_specialist").replace(
    "priorty", "priority"
)
BASE: Final = (
    "task_orchestrator:\n"
    "  role_definition: o\n"
    "  specialist_roles: {sre: s}\n"
    "sre:\n"
    "  role_definition: s\n"
)
CHILD: Final = (
    "mode_metadata:\n"
    "  extends: base.yaml\n"
    "task_routing_rules:\n"
    "  incident_tasks:\n"
    "    keywords: [outage]\n"
    "    required_specialist: sre\n"
)


class Run:
    """One finished process: exit code, output bytes, and whether it compiled (a miss)."""

    def __init__(self, code: int, out: bytes, err: bytes, modules: list[str] | None) -> None:
        self.code = code
        self.out = out
        self.err = err
        self.modules = modules or []

    @property
    def compiled(self) -> bool:
        return "modec.compiler.pipeline" in self.modules

    @property
    def answer(self) -> tuple[int, bytes, bytes]:
        return self.code, self.out, self.err


def _env(cache: Path | None, **extra: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MODEC_TRACEBACK", "MODEC_NO_CACHE", "NO_COLOR", "MODEC_CACHE_DIR")
    }
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    if cache is not None:
        env["MODEC_CACHE_DIR"] = str(cache)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _start(
    args: tuple[str, ...], cwd: Path, env: dict[str, str], probe: Path, **popen: object
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", WRAPPER, "lint", *args],
        cwd=cwd,
        env={**env, "PROBE": str(probe)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,  # type: ignore[arg-type]
    )


def _finish(proc: subprocess.Popen[bytes], probe: Path, stdin: bytes | None) -> Run:
    out, err = proc.communicate(stdin, timeout=120)
    try:
        modules = json.loads(probe.read_text())
    except (OSError, ValueError):  # not written (a write limit in force)
        modules = None
    assert b"Traceback" not in err, err.decode(errors="replace")
    return Run(proc.returncode, out, err, modules)


_probes = iter(range(10**9))


def lint(
    *args: str,
    cwd: Path,
    cache: Path | None,
    stdin: bytes | None = None,
    **env: str | None,
) -> Run:
    probe = cwd / f".probe-{os.getpid()}-{next(_probes)}.json"
    proc = _start(args, cwd, _env(cache, **env), probe)
    try:
        return _finish(proc, probe, stdin)
    finally:
        probe.unlink(missing_ok=True)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "m.yaml").write_bytes(MODE.encode())
    return folder


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _fresh(*args: str, cwd: Path, stdin: bytes | None = None, **env: str | None) -> Run:
    done = lint("--no-cache", *args, cwd=cwd, cache=None, stdin=stdin, **env)
    assert done.compiled
    return done


def _same_mtime_edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` (same length) and put the mtime back: what a second edit
    within the same timestamp tick looks like to an mtime cache."""
    assert len(old.encode()) == len(new.encode())
    info = path.stat()
    text = path.read_bytes().decode()
    assert old in text
    path.write_bytes(text.replace(old, new).encode())
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size


# --------------------------------------------------------------------------- hits


@pytest.mark.parametrize(
    "options",
    [
        (),
        ("--format", "json"),
        ("--format", "sarif"),
        ("--color", "always"),
        ("--max-diagnostics", "1"),
        ("--strict",),
    ],
    ids=["text", "json", "sarif", "colour", "capped", "strict"],
)
@pytest.mark.parametrize("text", [MODE, WARNS], ids=["errors", "warnings"])
def test_a_hit_prints_what_a_fresh_lint_prints(
    work: Path, cache: Path, options: tuple[str, ...], text: str
) -> None:
    (work / "m.yaml").write_bytes(text.encode())
    fresh = _fresh(*options, "m.yaml", cwd=work)
    miss = lint(*options, "m.yaml", cwd=work, cache=cache)
    hit = lint(*options, "m.yaml", cwd=work, cache=cache)
    assert miss.compiled and not hit.compiled
    assert hit.answer == miss.answer == fresh.answer
    assert fresh.out or fresh.err


def test_exit_codes_and_options_are_keyed_apart(work: Path, cache: Path) -> None:
    (work / "m.yaml").write_bytes(WARNS.encode())
    runs = {}
    for options in [(), ("--strict",), ("--json",), ("--max-diagnostics", "1")]:
        lint(*options, "m.yaml", cwd=work, cache=cache)
        runs[options] = lint(*options, "m.yaml", cwd=work, cache=cache)
        assert not runs[options].compiled
        assert runs[options].answer == _fresh(*options, "m.yaml", cwd=work).answer
    assert runs[()].code == 0 and runs[("--strict",)].code == 1


def test_a_hit_imports_neither_the_compiler_nor_pydantic_nor_lark(work: Path, cache: Path) -> None:
    lint("m.yaml", cwd=work, cache=cache)
    hit = lint("m.yaml", cwd=work, cache=cache)
    loaded = {m.split(".")[0] for m in hit.modules} | set(hit.modules)
    assert not loaded & {"pydantic", "pydantic_core", "lark", "yaml", "modec.compiler.pipeline"}
    assert "modec.cli.lint_cache" in hit.modules and hit.code == 1


def test_several_files_and_bundled_modes(work: Path, cache: Path) -> None:
    (work / "w.yaml").write_bytes(WARNS.encode())
    bundled = str(REPO / "modec" / "modes" / "development_mode.yaml")
    args = ("m.yaml", bundled, "w.yaml", "m.yaml")
    lint(*args, cwd=work, cache=cache)
    hit = lint(*args, cwd=work, cache=cache)
    assert not hit.compiled and hit.answer == _fresh(*args, cwd=work).answer


def test_the_display_path_and_working_directory_are_keyed(work: Path, cache: Path) -> None:
    lint("m.yaml", cwd=work, cache=cache)
    from_above = lint("work/m.yaml", cwd=work.parent, cache=cache)
    assert from_above.compiled and b"work/m.yaml" in from_above.out
    assert from_above.answer == _fresh("work/m.yaml", cwd=work.parent).answer
    (work / "sub").mkdir()
    shutil.copy(work / "m.yaml", work / "sub" / "m.yaml")
    elsewhere = lint("m.yaml", cwd=work / "sub", cache=cache)
    assert elsewhere.compiled  # the same name and bytes, another folder


# --------------------------------------------------------------------------- invalidation


def test_a_same_size_edit_with_the_same_mtime_is_a_miss(work: Path, cache: Path) -> None:
    lint("m.yaml", cwd=work, cache=cache)
    _same_mtime_edit(work / "m.yaml", "priorty", "priorit")
    after = lint("m.yaml", cwd=work, cache=cache)
    assert after.compiled and after.answer == _fresh("m.yaml", cwd=work).answer
    assert b"priorit" in after.out
    assert not lint("m.yaml", cwd=work, cache=cache).compiled


def test_an_extended_parent_that_changes_or_disappears_is_a_miss(work: Path, cache: Path) -> None:
    (work / "child.yaml").write_text(CHILD)
    (work / "base.yaml").write_text(BASE)
    first = lint("child.yaml", cwd=work, cache=cache)
    assert first.code == 0 and not lint("child.yaml", cwd=work, cache=cache).compiled
    _same_mtime_edit(work / "base.yaml", "\nsre:", "\nsrx:")  # the specialist's role is gone
    changed = lint("child.yaml", cwd=work, cache=cache)
    assert changed.compiled and changed.code == 1
    assert changed.answer == _fresh("child.yaml", cwd=work).answer
    (work / "base.yaml").unlink()
    gone = lint("child.yaml", cwd=work, cache=cache)
    assert gone.compiled and b"MC106" in gone.out
    assert gone.answer == _fresh("child.yaml", cwd=work).answer
    assert not lint("child.yaml", cwd=work, cache=cache).compiled  # a missing parent caches
    (work / "base.yaml").write_text(BASE)
    back = lint("child.yaml", cwd=work, cache=cache)
    assert back.compiled and back.answer == first.answer


def test_a_parent_that_appears_beside_the_file_shadows_the_bundled_one(
    work: Path, cache: Path
) -> None:
    child = CHILD.replace("base.yaml", "default_roles.yaml")
    (work / "child.yaml").write_text(child)
    lint("child.yaml", cwd=work, cache=cache)
    assert not lint("child.yaml", cwd=work, cache=cache).compiled
    (work / "default_roles.yaml").write_text(BASE.replace("sre: s}", "srx: s}"))
    local = lint("child.yaml", cwd=work, cache=cache)
    assert local.compiled and local.answer == _fresh("child.yaml", cwd=work).answer


def test_an_unrelated_file_beside_it_keeps_the_hit(work: Path, cache: Path) -> None:
    (work / "child.yaml").write_text(CHILD)
    (work / "base.yaml").write_text(BASE)
    lint("child.yaml", cwd=work, cache=cache)
    (work / "notes.txt").write_text("a file no extends names")
    (work / "other.yaml").write_text(BASE)
    assert not lint("child.yaml", cwd=work, cache=cache).compiled


def test_a_change_of_the_installed_code_is_a_miss(tmp_path: Path, work: Path, cache: Path) -> None:
    """An editable install's code changes without a version bump: the fingerprint sees it."""
    copy = tmp_path / "install"
    shutil.copytree(REPO / "modec", copy / "modec", ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    assert lint("m.yaml", cwd=work, cache=cache, **env).compiled
    assert not lint("m.yaml", cwd=work, cache=cache, **env).compiled
    diagnostics = copy / "modec" / "diagnostics.py"
    text = diagnostics.read_text()
    diagnostics.write_text(text.replace("fix available: run", "a fix exists: run"))
    after = lint("m.yaml", cwd=work, cache=cache, **env)
    assert after.compiled and b"a fix exists: run" in after.out
    assert after.answer == _fresh("m.yaml", cwd=work, **env).answer


# --------------------------------------------------------------------------- turning it off


def test_no_cache_and_modec_no_cache_neither_read_nor_write(work: Path, cache: Path) -> None:
    assert lint("--no-cache", "m.yaml", cwd=work, cache=cache).compiled
    assert lint("m.yaml", cwd=work, cache=cache, MODEC_NO_CACHE="1").compiled
    assert not cache.exists()
    assert lint("m.yaml", cwd=work, cache=cache, MODEC_NO_CACHE="0").compiled
    assert cache.is_dir()
    for off in (("--no-cache",), ()):
        extra = {} if off else {"MODEC_NO_CACHE": "1"}
        again = lint(*off, "m.yaml", cwd=work, cache=cache, **extra)
        assert again.compiled and again.answer == _fresh("m.yaml", cwd=work).answer


def test_where_the_cache_lives(tmp_path: Path, work: Path) -> None:
    xdg = tmp_path / "xdg"
    lint("m.yaml", cwd=work, cache=None, XDG_CACHE_HOME=str(xdg))
    assert (xdg / "modec" / "lint").is_dir()
    home = tmp_path / "home"
    home.mkdir()
    lint("m.yaml", cwd=work, cache=None, XDG_CACHE_HOME=None, HOME=str(home))
    assert (home / ".cache" / "modec" / "lint").is_dir()
    assert not lint("m.yaml", cwd=work, cache=None, XDG_CACHE_HOME=None, HOME=str(home)).compiled


def test_fix_and_diff_always_lint_afresh(work: Path, cache: Path) -> None:
    lint("m.yaml", cwd=work, cache=cache)
    diff = lint("--diff", "m.yaml", cwd=work, cache=cache)
    assert diff.compiled and diff.code == 1 and b"+    priority: 5" in diff.out
    fixed = lint("--fix", "m.yaml", cwd=work, cache=cache)
    assert fixed.compiled and b"fixed 2 problem(s)" in fixed.err
    assert "required_specialist" in (work / "m.yaml").read_text()
    after = lint("m.yaml", cwd=work, cache=cache)
    assert after.compiled and after.code == 0
    assert after.answer == _fresh("m.yaml", cwd=work).answer


def test_stdin_is_cached_by_its_bytes_and_its_name(work: Path, cache: Path) -> None:
    data = MODE.encode()
    for args in [("-",), ("-", "--stdin-filename", "given.yaml")]:
        miss = lint(*args, cwd=work, cache=cache, stdin=data)
        hit = lint(*args, cwd=work, cache=cache, stdin=data)
        assert miss.compiled and not hit.compiled
        assert hit.answer == miss.answer == _fresh(*args, cwd=work, stdin=data).answer
    other = lint("-", cwd=work, cache=cache, stdin=WARNS.encode())
    assert other.compiled and other.answer == _fresh("-", cwd=work, stdin=WARNS.encode()).answer
    (work / "base.yaml").write_text(BASE)
    child = CHILD.encode()
    lint("-", "--stdin-filename", "c.yaml", cwd=work, cache=cache, stdin=child)
    assert not lint("-", "--stdin-filename", "c.yaml", cwd=work, cache=cache, stdin=child).compiled
    (work / "base.yaml").unlink()
    gone = lint("-", "--stdin-filename", "c.yaml", cwd=work, cache=cache, stdin=child)
    assert gone.compiled and b"MC106" in gone.out


def test_folders_and_missing_files_are_linted_afresh(work: Path, cache: Path) -> None:
    for args in [(".",), ("missing.yaml",)]:
        lint(*args, cwd=work, cache=cache)
        again = lint(*args, cwd=work, cache=cache)
        assert again.compiled and again.answer == _fresh(*args, cwd=work).answer


# --------------------------------------------------------------------------- broken caches


def _right_answer(run: Run, fresh: Run, *, warned: bool) -> None:
    assert (run.code, run.out) == (fresh.code, fresh.out)
    lines = run.err.decode().splitlines()
    extra = [line for line in lines if line not in fresh.err.decode().splitlines()]
    if warned:
        assert len(extra) == 1 and extra[0].startswith("warning: lint cache "), extra
    else:
        assert extra == []


def test_a_corrupt_entry_is_a_silent_miss_and_is_rewritten(work: Path, cache: Path) -> None:
    import diskcache

    fresh = _fresh("m.yaml", cwd=work)
    lint("m.yaml", cwd=work, cache=cache)
    for garbage in [b"\x00garbage", b'{"format": 1, "code": 0}', b"[]", "text, not bytes"]:
        with diskcache.Cache(str(cache / "lint")) as store:
            keys = list(store)
            assert len(keys) == 1
            store.set(keys[0], garbage)
        run = lint("m.yaml", cwd=work, cache=cache)
        assert run.compiled
        _right_answer(run, fresh, warned=False)
        assert not lint("m.yaml", cwd=work, cache=cache).compiled


def test_a_corrupt_database_warns_and_lints_without_it(work: Path, cache: Path) -> None:
    fresh = _fresh("m.yaml", cwd=work)
    lint("m.yaml", cwd=work, cache=cache)
    for name in os.listdir(cache / "lint"):
        (cache / "lint" / name).write_bytes(b"this is not a SQLite database" * 100)
    for _ in range(2):
        run = lint("m.yaml", cwd=work, cache=cache)
        assert run.compiled
        _right_answer(run, fresh, warned=True)


@pytest.mark.parametrize("where", ["a file", "under a file", "uncreatable"])
def test_a_cache_folder_that_cannot_be_made_warns_and_lints_without_it(
    tmp_path: Path, work: Path, where: str
) -> None:
    fresh = _fresh("m.yaml", cwd=work)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    cache = {
        "a file": blocker,  # its lint/ cannot be made
        "under a file": blocker / "cache",
        "uncreatable": Path("/proc/modec-no-such/cache"),
    }[where]
    if where == "a file":
        (tmp_path / "lintfile").mkdir()
        (tmp_path / "lintfile" / "lint").write_text("a file where the folder goes")
        cache = tmp_path / "lintfile"
    run = lint("m.yaml", cwd=work, cache=cache)
    assert run.compiled
    _right_answer(run, fresh, warned=True)


def _read_only(paths: list[Path], on: bool) -> None:
    """Make files and folders read-only (or writable again). Root writes through permission
    bits, so as root the immutable attribute does it (or the test cannot run here)."""
    if os.geteuid() != 0:
        for p in paths:
            p.chmod((0o555 if p.is_dir() else 0o444) if on else (0o755 if p.is_dir() else 0o644))
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root without chattr: nothing makes a folder read-only")
    done = subprocess.run(
        [chattr, "+i" if on else "-i", *map(str, paths)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"running as root and chattr failed: {done.stderr.decode(errors='replace')}")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_a_read_only_cache_warns_and_lints_without_it(work: Path, cache: Path) -> None:
    lint("m.yaml", cwd=work, cache=cache)
    fresh = _fresh("m.yaml", cwd=work)
    paths = [*(cache / "lint").iterdir(), cache / "lint", cache]
    _read_only(paths, on=True)
    try:
        runs = [lint("m.yaml", cwd=work, cache=cache) for _ in range(2)]
    finally:
        _read_only(paths, on=False)
    for run in runs:
        _right_answer(run, fresh, warned=True)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_warns_and_lints_without_it(work: Path, cache: Path) -> None:
    """RLIMIT_FSIZE makes every write past the first bytes of a file fail (EFBIG), as a full
    disk does; Python ignores SIGXFSZ, so the writes fail instead of killing the process."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))

    fresh = _fresh("m.yaml", cwd=work)
    probe = work / "probe.json"
    proc = _start(("m.yaml",), work, _env(cache), probe, preexec_fn=limit)
    run = _finish(proc, probe, None)
    _right_answer(run, fresh, warned=True)
    # with room again, the cache works
    lint("m.yaml", cwd=work, cache=cache)
    assert not lint("m.yaml", cwd=work, cache=cache).compiled


def test_concurrent_lints_all_answer_right(work: Path, cache: Path) -> None:
    (work / "w.yaml").write_bytes(WARNS.encode())
    names = ["m.yaml", "w.yaml"] * 4
    fresh = {n: _fresh(n, cwd=work).answer for n in set(names)}
    env = _env(cache)
    probes = [work / f"probe-{i}.json" for i in range(len(names))]
    procs = [_start((n,), work, env, p) for n, p in zip(names, probes, strict=True)]
    runs = [_finish(proc, p, None) for proc, p in zip(procs, probes, strict=True)]
    for name, run in zip(names, runs, strict=True):
        assert run.answer == fresh[name]
    for name in set(names):
        hit = lint(name, cwd=work, cache=cache)
        assert not hit.compiled and hit.answer == fresh[name]


# --------------------------------------------------------------------------- the property


def _in_process(argv: list[str]) -> tuple[int, str, str]:
    import contextlib
    import io

    from modec.cli.program import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    return code, out.getvalue(), err.getvalue()


def _replayed(argv: list[str]) -> tuple[int | None, str, str]:
    """The answer the cache alone gives (the hit path itself), None when it has none."""
    import contextlib
    import io

    from modec.cli.lint_cache import LintCache
    from modec.cli.output import Output
    from modec.cli.program import build_parser

    args = build_parser("lint").parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        shown = Output(getattr(args, "color", "auto"))
        cache = LintCache.for_run(args, shown, list(args.paths), None)
        assert cache is not None
        try:
            code = cache.replay()
        finally:
            cache.close()
    return code, out.getvalue(), err.getvalue()


MISSPELLINGS: Final = {"": "", "role_definition": "role_defintion", "specialist": "specilist"}


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_the_cache_answers_every_generated_mode_as_a_fresh_lint(fmt: str) -> None:
    """For any mode document (some with misspelt keys: errors with fixes), under any cap,
    colour and --strict, the cache's own answer is the fresh lint's, and it has one after
    a single run."""
    import tempfile

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from modec.testing import mode_documents

    @settings(max_examples=25)
    @given(
        mode_documents(),
        st.sampled_from(sorted(MISSPELLINGS)),
        st.sampled_from([[], ["--strict"], ["--max-diagnostics", "1"], ["--color", "always"]]),
    )
    def check(text: str, typo: str, options: list[str]) -> None:
        if typo:
            text = text.replace(typo, MISSPELLINGS[typo], 1)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.yaml"
            path.write_text(text)
            argv = ["lint", "--format", fmt, *options, str(path)]
            old = os.environ.get("MODEC_CACHE_DIR")
            os.environ["MODEC_CACHE_DIR"] = str(Path(tmp) / "cache")
            try:
                fresh = _in_process([*argv, "--no-cache"])
                assert _replayed(argv)[0] is None
                assert _in_process(argv) == fresh
                assert _replayed(argv) == fresh
            finally:
                if old is None:
                    os.environ.pop("MODEC_CACHE_DIR", None)
                else:
                    os.environ["MODEC_CACHE_DIR"] = old

    check()
