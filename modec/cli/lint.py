"""``modec lint``: check mode files, and ``--fix``/``--diff`` their machine-applicable fixes."""

from __future__ import annotations

import argparse
import os

from modec.cli.inputs import collect_mode_files, path_arg
from modec.cli.output import CliError, Output

TYPE_CHECKING = False  # typing is not imported at run time: `modec --help` pays for it
if TYPE_CHECKING:
    from pathlib import Path

    from modec.compiler.pipeline import Compilation
    from modec.diagnostics import Diagnostic

__all__ = ["lint_files", "register"]

_BOM = "\ufeff"


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    from modec.cli.program import add_format

    p = sub.add_parser(
        "lint",
        parents=[common],
        help="check mode files and report every problem",
        description="Check mode files and report every problem with its exact location. "
        "`modec lint -` reads one file from stdin.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        type=path_arg,
        metavar="PATH",
        help="mode files or folders ('-' reads stdin)",
    )
    add_format(p, "text", "json", "sarif")
    p.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    p.add_argument(
        "--max-diagnostics",
        type=int,
        default=100,
        metavar="N",
        help="show at most N diagnostics (default: 100)",
    )
    p.add_argument(
        "--stdin-filename",
        metavar="PATH",
        help="the name of the file read from stdin, in diagnostics (and the "
        "folder `extends` resolves from)",
    )
    fixing = p.add_mutually_exclusive_group()
    fixing.add_argument(
        "--fix",
        action="store_true",
        help="apply the machine-applicable fixes in place (atomically), then "
        "report what is left; with '-' print the fixed text",
    )
    fixing.add_argument(
        "--diff",
        action="store_true",
        help="show the fixes as a unified diff; write nothing (exit 1 when "
        "there is anything to fix)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="lint afresh, neither reading nor writing the lint result cache "
        "(also MODEC_NO_CACHE=1)",
    )
    p.set_defaults(handler=lint_command)


class Linted:
    """One file after linting (and fixing): what it was, what it is, what was applied."""

    __slots__ = ("applied", "compilation", "display", "original", "path", "text")

    def __init__(
        self,
        display: str,
        path: Path | None,
        original: str | None,
        text: str | None,
        compilation: Compilation,
    ) -> None:
        self.display = display
        self.path = path
        self.original = original
        self.text = text
        self.compilation = compilation
        self.applied: list[Diagnostic] = []

    @property
    def changed(self) -> bool:
        return self.text is not None and self.text != self.original


def _compile(display: str, text: str, folder: Path) -> Compilation:
    from modec.compiler.pipeline import compile_text

    return compile_text(text.removeprefix(_BOM), display, until="check", base_dir=folder)


def _fix_loop(item: Linted, folder: Path) -> None:
    """Lint, apply the fixes, lint again, up to MAX_FIX_PASSES (ruff's model)."""
    from modec.compiler.fixes import MAX_FIX_PASSES, apply_fixes

    assert item.text is not None
    bom = _BOM if item.text.startswith(_BOM) else ""
    text = item.text.removeprefix(bom)
    for _ in range(MAX_FIX_PASSES):
        own = [
            d
            for d in item.compilation.diagnostics
            if d.span is not None and d.span.file == item.display
        ]
        result = apply_fixes(text, own)
        if not result.applied:
            break
        text = result.text
        item.applied.extend(result.applied)
        item.compilation = _compile(item.display, text, folder)
    item.text = bom + text


def _read(path: Path) -> str | None:
    """The file's text as it is on disk (line ends kept), or None if it is not readable text
    (the compiler reports why: MC001, MC002, MC003)."""
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _lint_stdin(data: bytes, stdin_name: str | None, fix: bool) -> Linted:
    from modec.compiler.pipeline import compile_text

    name = stdin_name or "<stdin>"
    folder = path_arg(name).parent if stdin_name else path_arg(os.getcwd())
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # the compiler says where (MC003); nothing to fix
        return Linted(
            name, None, None, None, compile_text(data, name, until="check", base_dir=folder)
        )
    item = Linted(name, None, text, text, _compile(name, text, folder))
    if fix:
        _fix_loop(item, folder)
    return item


def lint_files(
    paths: list[Path],
    *,
    fix: bool = False,
    stdin: bytes | None = None,
    stdin_name: str | None = None,
) -> list[Linted]:
    """Lint (and with ``fix``, fix in memory) stdin's file and every mode file under
    ``paths``."""
    from modec.compiler.pipeline import compile_path

    out: list[Linted] = []
    if stdin is not None:
        out.append(_lint_stdin(stdin, stdin_name, fix))
    for f in collect_mode_files(paths).files:
        display = str(f)
        text = _read(f) if fix else None
        if text is None:
            out.append(
                Linted(display, f, None, None, compile_path(f, until="check", display=display))
            )
            continue
        item = Linted(display, f, text, text, _compile(display, text, f.parent))
        _fix_loop(item, f.parent)
        out.append(item)
    return out


def _unified(item: Linted) -> str:
    before = (item.original or "").splitlines(keepends=True)
    after = (item.text or "").splitlines(keepends=True)
    import difflib

    lines = difflib.unified_diff(before, after, f"a/{item.display}", f"b/{item.display}")
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _write_fixed(item: Linted) -> None:
    from modec.fs import write_atomic

    assert item.path is not None and item.text is not None
    try:
        mode = item.path.stat().st_mode & 0o7777
        write_atomic(item.path, item.text.encode("utf-8"))
        item.path.chmod(mode)
    except OSError as exc:
        raise CliError(
            f"cannot write {item.display}: {exc.strerror or exc}",
            "check that the file and its folder are writable",
            code=2,
        ) from exc


def _print_fixes(out: Output, results: list[Linted], diff: bool) -> None:
    for item in results:
        if diff:
            if item.changed:
                out.out(_unified(item).rstrip("\n"))
            continue
        for d in item.applied:
            assert d.fix is not None
            out.err(f"fixed {d.location()}: {d.code} {d.fix.description}")
    changed = [i for i in results if i.changed]
    count = sum(len(i.applied) for i in results)
    verb = "would fix" if diff else "fixed"
    out.err(f"{verb} {count} problem(s) in {len(changed)} file(s)")


def _read_stdin() -> bytes:
    import sys

    stream = getattr(sys.stdin, "buffer", None)
    return stream.read() if stream is not None else sys.stdin.read().encode("utf-8")


def _lint_foreign_paths(args: argparse.Namespace, out: Output, paths: list[Path]) -> int:
    """Lint the paths that hold other tools' agent files (through their importers); 0 when
    there are none."""
    if not paths:
        return 0
    if args.fix or args.diff:
        raise CliError(
            f"{paths[0]} holds another tool's agent files: --fix and --diff apply to mode files",
            "make a mode of them with `modec import`, then fix that",
            code=2,
        )
    from modec.cli.interop import lint_foreign

    return lint_foreign(out, paths, args.format)


def _write_results(
    args: argparse.Namespace, out: Output, results: list[Linted], from_stdin: bool
) -> None:
    """``--fix``: write the fixed files (stdin's text goes to stdout); report the fixes."""
    if args.fix:
        for item in results:
            if item.changed and item.path is not None:
                _write_fixed(item)
        if from_stdin and results and results[0].path is None:
            out.out((results[0].text or "").rstrip("\n"))
    if args.fix or args.diff:
        _print_fixes(out, results, args.diff)


def _report(
    args: argparse.Namespace, out: Output, results: list[Linted], from_stdin: bool
) -> list[Diagnostic]:
    """Print the diagnostics in the chosen format (and the text summary); return them."""
    from modec._version import __version__
    from modec.diagnostics import render_json, render_sarif, render_text

    diags = [d for item in results for d in item.compilation.diagnostics]
    if args.format == "json":
        out.out(render_json(diags, limit=args.max_diagnostics))
        return diags
    if args.format == "sarif":
        out.out(render_sarif(diags, tool_version=__version__))
        return diags
    sources: dict[str, str] = {}
    for item in results:
        sources.update(item.compilation.sources)
    if diags:
        text = render_text(diags, sources, limit=args.max_diagnostics, color=out.color)
        (out.err if args.fix and from_stdin else out.out)(text)
    clean = sum(1 for item in results if not item.compilation.diagnostics)
    summary = f"checked {len(results)} file(s): {clean} clean"
    (out.err if diags or args.fix else out.out)(summary)
    return diags


def _lint(
    args: argparse.Namespace, out: Output, paths: list[Path], stdin: bytes | None
) -> tuple[int, list[Linted] | None]:
    """Lint (and fix) as the options say; the exit code, and the mode files' results (None
    when other tools' files or empty folders took part: those runs are not cached)."""
    from modec.diagnostics import Severity
    from modec.interop import is_foreign

    foreign = [p for p in paths if is_foreign(p)]
    foreign_code = _lint_foreign_paths(args, out, foreign)
    paths = [p for p in paths if p not in foreign]
    if foreign and not paths and stdin is None:
        return foreign_code, None
    empty = collect_mode_files(paths).warn_empty(out)
    results = lint_files(
        paths, fix=args.fix or args.diff, stdin=stdin, stdin_name=args.stdin_filename
    )
    _write_results(args, out, results, stdin is not None)
    diags = _report(args, out, results, stdin is not None)
    errors = any(d.severity is Severity.ERROR for d in diags)
    warnings = any(d.severity is Severity.WARNING for d in diags)
    pending = args.diff and any(item.changed for item in results)
    failed = errors or (args.strict and warnings) or empty or pending
    code = max(foreign_code, 1 if failed else 0)
    return code, None if foreign or empty else results


def lint_command(args: argparse.Namespace, out: Output) -> int:
    """Check mode files and report every problem with its exact location.

    Without ``--fix``/``--diff``, a run whose inputs are unchanged answers from the lint
    result cache (:mod:`modec.cli.lint_cache`) without importing the compiler.
    """
    if args.max_diagnostics < 1:
        raise CliError("--max-diagnostics must be at least 1", code=2)
    paths = [p for p in args.paths if str(p) != "-"]
    stdin = _read_stdin() if len(paths) != len(args.paths) else None
    cache = None
    if not (args.fix or args.diff):
        from modec.cli.lint_cache import LintCache, cache_wanted

        if cache_wanted(args.no_cache):
            cache = LintCache.for_run(args, out, paths, stdin)
    if cache is None:
        return _lint(args, out, paths, stdin)[0]
    try:
        code = cache.replay()
        if code is not None:
            return code
        import time

        start = time.perf_counter()
        with cache.record() as recording:
            code, results = _lint(args, out, paths, stdin)
        if results is not None:
            cache.store(recording, code, results, time.perf_counter() - start)
        return code
    finally:
        cache.close()
