"""``modec compile``, ``route``, ``table`` and ``test``: the compiler's commands.

``route`` on a compiled artifact (text or ``--json``, without ``--explain`` or ``--input``)
reads it with :mod:`modec.runtime.light`: no pydantic, no router, nothing of the compiler but
the artifact's frame and the value functions (the cold start a routing hook pays on every
call). What that reader leaves to the full path (see its contract) goes through the router.
"""

from __future__ import annotations

import argparse
import time

from modec.cli.inputs import (
    MODE_SUFFIXES,
    add_task_options,
    collect_mode_files,
    load_router_from,
    metadata_options,
    path_arg,
    print_compilation_errors,
    task_from_options,
)
from modec.cli.output import CliError, Output, output_target

TYPE_CHECKING = False  # typing is not imported at run time: `modec --help` pays for it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from modec.compiler.table import DecisionTable
    from modec.runtime.examples import ExampleResult
    from modec.runtime.router import Router, Task

__all__ = ["register"]

ARTIFACT_SUFFIX = ".modec"


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    from modec.cli.program import add_format

    p = sub.add_parser(
        "compile",
        parents=[common],
        help="compile mode files into artifacts",
        description="Compile mode files into artifacts: prints file, mode hash, rows and time.",
    )
    p.add_argument("paths", nargs="+", type=path_arg, metavar="PATH", help="mode files or folders")
    p.add_argument(
        "--out",
        "-o",
        metavar="PATH",
        help="artifact file (one input), or folder (ends in '/' or exists): "
        "writes NAME.modec into it",
    )
    add_format(p)
    p.set_defaults(handler=compile_command)

    p = sub.add_parser(
        "route",
        parents=[common],
        help="route one task (or a batch)",
        description="Route one task (or a batch from --input) through a mode "
        "and print the decision.",
    )
    p.add_argument(  # a str: a route on an artifact never loads pathlib (see _route_light)
        "--mode",
        "-m",
        required=True,
        metavar="PATH",
        help="mode file or compiled artifact",
    )
    add_task_options(p)
    p.add_argument("--explain", action="store_true", help="show every row: fired or not, and why")
    p.add_argument(
        "--input",
        "-i",
        metavar="FILE",
        help="JSON lines of tasks ('-' = stdin); one JSON decision per line",
    )
    add_format(p)
    p.set_defaults(handler=route_command)

    p = sub.add_parser(
        "table",
        parents=[common],
        help="show the compiled decision table",
        description="Show the compiled decision table: rows in final order, then the fallback.",
    )
    p.add_argument("mode", type=path_arg, metavar="PATH", help="mode file or compiled artifact")
    add_format(p, "text", "markdown", "html", "json")
    p.set_defaults(handler=table_command)

    p = sub.add_parser(
        "test",
        parents=[common],
        help="run the tests: examples of mode files",
        description="Run the `tests:` examples of mode files; failures show "
        "expected, got and the trace.",
    )
    p.add_argument("paths", nargs="+", type=path_arg, metavar="PATH", help="mode files or folders")
    p.add_argument(
        "--coverage", action="store_true", help="report which rows the examples exercise"
    )
    p.add_argument(
        "--min",
        dest="min_coverage",
        type=float,
        metavar="PERCENT",
        help="fail below this row coverage (implies --coverage)",
    )
    add_format(p)
    p.set_defaults(handler=test_command)


# --------------------------------------------------------------------------- compile


def compile_command(args: argparse.Namespace, out: Output) -> int:
    from modec.compiler.pipeline import compile_path

    found = collect_mode_files(args.paths)
    failed = found.warn_empty(out)
    files = found.files
    into_folder = args.out is not None and (args.out.endswith("/") or path_arg(args.out).is_dir())
    if args.out is not None and len(files) > 1 and not into_folder:
        raise CliError(
            "--out must be a folder when compiling several files",
            "end it with '/' (the folder must exist)",
            code=2,
        )
    for i, f in enumerate(files, 1):
        start = time.perf_counter()
        c = compile_path(f, display=str(f))
        elapsed = time.perf_counter() - start
        print_compilation_errors(out, c)
        written: Path | None = None
        if c.ok and c.artifact is not None and args.out is not None:
            target = output_target(args.out, f.stem + ARTIFACT_SUFFIX)
            try:
                written = c.artifact.write(target)
            except OSError as exc:
                raise CliError(f"cannot write {target}: {exc.strerror or exc}", code=2) from exc
        failed |= not c.ok
        rows = len(c.table.rows) if c.table is not None else 0
        if args.format == "json":
            out.json(
                {
                    "file": str(f),
                    "ok": c.ok,
                    "mode_hash": c.artifact.mode_hash if c.artifact else None,
                    "rows": rows,
                    "seconds": round(elapsed, 6),
                    "artifact": str(written) if written else None,
                    "errors": sum(d.is_error for d in c.diagnostics),
                    "warnings": sum(not d.is_error for d in c.diagnostics),
                    "stages": {k: round(v, 6) for k, v in c.timings.items()},
                },
                indent=None,
            )
            continue
        progress = f"[{i}/{len(files)}] " if len(files) > 1 else ""
        if c.ok and c.artifact is not None:
            dest = f" -> {written}" if written else ""
            out.out(
                f"{progress}{f}: {c.artifact.mode_hash} {rows} rows "
                f"in {elapsed * 1000:.1f} ms{dest}"
            )
        else:
            out.err(f"{progress}{f}: failed")
    return 1 if failed else 0


# --------------------------------------------------------------------------- route


def emit_decision(
    out: Output,
    router: Router,
    task: Task,
    explain: bool,
    as_json: bool,
) -> None:
    """Print the decision for ``task`` (or its explanation): text or one JSON line."""
    if explain:
        explanation = router.explain(task)
        if as_json:
            out.json(explanation.to_dict(), indent=None)
        else:
            out.out(explanation.render())
        return
    decision = router.route(task)
    if as_json:
        out.json(decision.to_dict(evidence=True), indent=None)
    else:
        review = ", ".join(decision.secondary_review) or "-"
        out.out(
            f"{decision.task_type} -> {decision.specialist} "
            f"(complexity {decision.complexity}, review {review})"
        )


def _route_batch(out: Output, router: Router, source: str, explain: bool) -> int:
    import sys

    from modec.runtime.router import AmbiguousRouteError
    from modec.runtime.taskfile import iter_task_lines

    bad = 0
    try:
        handle = sys.stdin if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror or exc}") from exc
    try:
        for item in iter_task_lines(handle):
            if item.task is None:
                bad += 1
                out.json_err({"line": item.number, "error": item.error})
                continue
            try:
                emit_decision(out, router, item.task, explain, as_json=True)
            except AmbiguousRouteError as exc:
                bad += 1
                out.json_err({"line": item.number, "error": exc.message})
    except UnicodeDecodeError as exc:
        raise CliError(f"{source} is not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror or exc}") from exc
    finally:
        if handle is not sys.stdin:
            handle.close()
    return 1 if bad else 0


def _route_light(args: argparse.Namespace, out: Output) -> bytes | None:
    """Route one task on a compiled artifact without the compiler's models
    (:mod:`modec.runtime.light`), printing what :func:`emit_decision` prints.

    Returns ``b""`` when it printed the decision; else the full path must answer (a mode
    file, --explain, --input, or anything the light reader leaves to it: a damaged
    artifact, an ambiguous task, a malformed option, …), and the artifact's bytes if they
    were read (a pipe is read once) or None.
    """
    # A name ending in .yaml/.yml is a mode file; any other spelling that pathlib would give
    # such a suffix ends in a separator or a `.` part, which no file opens as.
    if args.input is not None or args.explain or args.mode.endswith(MODE_SUFFIXES):
        return None
    from modec.runtime.light import read_light

    try:
        with open(args.mode, "rb") as handle:
            data = handle.read()
    except (OSError, ValueError):
        return None  # the full path words the error
    if not data:
        return None  # b"" is the answer "printed"; an empty file is the full path's to refuse
    table = read_light(data)
    if table is None:
        return data
    given: str | None = args.complexity
    level: int | str | None = given
    if given is not None and given.isdigit():
        try:
            level = int(given)
        except ValueError:  # a digit int() does not read ("²"): the full path's error
            return data
    try:
        meta = metadata_options(args)
    except (CliError, RecursionError):  # the full path raises it, in its order
        return data
    decision = table.route(args.title or "", args.text or "", tuple(args.tags or ()), level, meta)
    if decision is None:
        return data
    if args.format == "json":
        out.json(decision.to_dict(), indent=None)
        return b""
    review = ", ".join(decision.secondary_review) or "-"
    out.out(
        f"{decision.task_type} -> {decision.specialist} "
        f"(complexity {decision.complexity}, review {review})"
    )
    return b""


def route_command(args: argparse.Namespace, out: Output) -> int:
    if args.input is None and not (args.text or args.title):
        raise CliError(
            "route: no task given",
            "give the task text (and/or --title), or --input FILE with one task per line",
            code=2,
        )
    if args.input is not None and (args.text or args.title):
        raise CliError("route: give the task on the command line or --input, not both", code=2)
    data = _route_light(args, out)
    if data == b"":
        return 0
    task = None if args.input is not None else task_from_options(args)
    router = load_router_from(out, path_arg(args.mode), data)
    if task is None:
        return _route_batch(out, router, args.input, args.explain)
    from modec.runtime.router import AmbiguousRouteError

    try:
        emit_decision(out, router, task, args.explain, args.format == "json")
    except AmbiguousRouteError as exc:
        raise CliError(exc.message, exc.suggestion or None) from exc
    return 0


# --------------------------------------------------------------------------- table

_TABLE_HEADER = [
    "#",
    "task type",
    "condition",
    "specialist",
    "review",
    "boost",
    "priority",
    "source",
]


def _table_rows(table: DecisionTable) -> list[list[str]]:
    from modec.grammar import format_expr

    rows = []
    for i, row in enumerate(table.rows, 1):
        rows.append(
            [
                str(i),
                row.name,
                format_expr(row.condition),
                row.specialist or "-",
                ", ".join(row.secondary_review) or "-",
                f"{row.complexity_boost:+d}",
                str(row.priority),
                row.source,
            ]
        )
    fb = table.fallback
    rows.append(
        [
            "*",
            fb.name,
            "(no row fired)",
            fb.specialist or "-",
            ", ".join(fb.secondary_review) or "-",
            f"{fb.complexity_boost:+d}",
            "-",
            fb.source or "-",
        ]
    )
    return rows


def _print_grid(out: Output, title: str, rows: list[list[str]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    isatty = getattr(out.stdout, "isatty", None)
    console = Console(
        file=out.stdout,
        highlight=False,
        soft_wrap=False,
        force_terminal=out.color,
        no_color=not out.color,
        width=None if isatty and isatty() else 200,
    )
    grid = Table(title=title)
    for h in _TABLE_HEADER:
        grid.add_column(h, overflow="fold")
    for r in rows:
        grid.add_row(*(escape(c) for c in r))
    console.print(grid)


def table_command(args: argparse.Namespace, out: Output) -> int:
    router = load_router_from(out, args.mode)
    dt = router.table
    rows = _table_rows(dt)
    if args.format == "json":
        out.json(dt.model_dump(mode="json"))
    elif args.format == "markdown":
        out.out("| " + " | ".join(_TABLE_HEADER) + " |")
        out.out("|" + "---|" * len(_TABLE_HEADER))
        for r in rows:
            out.out("| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |")
    elif args.format == "html":
        import html

        head = "".join(f"<th>{html.escape(h)}</th>" for h in _TABLE_HEADER)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
        )
        out.out(
            f'<table class="modec-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )
    else:
        _print_grid(
            out,
            f"{args.mode}  {router.mode_hash}  (hit policy {dt.hit_policy}, "
            f"default specialist {dt.default_specialist})",
            rows,
        )
    return 0


# --------------------------------------------------------------------------- test


def _print_failure(out: Output, router: Router, result: ExampleResult) -> None:
    from modec.runtime.examples import task_of

    ex = result.example
    out.out(f"{out.paint('FAIL', 'error')} {result.location}")
    want = f"type {ex.expect_type or '*'}, specialist {ex.expect_specialist or '*'}"
    if result.decision is None:
        out.out(f"  expected {want}\n  got error: {result.error}")
        return
    d = result.decision
    out.out(f"  expected {want}\n  got      type {d.task_type}, specialist {d.specialist}")
    trace = router.explain(task_of(ex.task)).render()
    out.out("  " + trace.replace("\n", "\n  "))


def _print_coverage(out: Output, doc: dict[str, Any]) -> None:
    out.out(
        f"coverage {doc['file']}: {doc['covered']}/{doc['rows']} rows exercised "
        f"({doc['percent']:.1f}%) by {doc['examples']} example(s)"
    )
    for row in doc["uncovered"]:
        note = " (can never fire)" if row["never_fires"] else ""
        out.out(f"  uncovered {row['name']}  {row['location']}{note}")
    if doc["implicit"]:
        out.out(f"  not counted (implicit builtin rows): {', '.join(doc['implicit'])}")
    if doc["below_minimum"]:
        out.err(
            f"{doc['file']}: coverage {doc['percent']:.1f}% is below the minimum "
            f"{doc['minimum']:g}%"
        )


def test_command(args: argparse.Namespace, out: Output) -> int:
    from modec.compiler.pipeline import compile_path
    from modec.runtime.examples import example_coverage, run_examples
    from modec.runtime.router import load_router

    if args.min_coverage is not None and not 0 <= args.min_coverage <= 100:
        raise CliError("--min must be between 0 and 100", code=2)
    as_json = args.format == "json"
    found = collect_mode_files(args.paths)
    problem = found.warn_empty(out)
    passed = failed = 0
    files: list[dict[str, Any]] = []
    for f in found.files:
        c = compile_path(f, display=str(f))
        if not c.ok or c.mode is None or c.artifact is None:
            print_compilation_errors(out, c)
            out.err(f"{f}: does not compile")
            failed += 1
            files.append({"file": str(f), "compiles": False})
            continue
        router = load_router(c.artifact)
        results = run_examples(c.mode, router)
        for result in results:
            if result.passed:
                passed += 1
                continue
            failed += 1
            if not as_json:
                _print_failure(out, router, result)
        doc: dict[str, Any] = {
            "file": str(f),
            "compiles": True,
            "examples": [r.to_dict() for r in results],
        }
        if args.coverage or args.min_coverage is not None:
            cov = example_coverage(c.mode, results, c.sources, args.min_coverage).to_dict()
            cov["file"] = str(f)
            doc["coverage"] = cov
            problem |= cov["below_minimum"]
            if not as_json:
                _print_coverage(out, cov)
        files.append(doc)
    if as_json:
        out.json({"passed": passed, "failed": failed, "files": files})
    else:
        out.out(f"{passed} passed, {failed} failed")
    return 1 if failed or problem else 0
