"""The ``modec`` command line: a thin shell over the compiler and the runtime.

Exit codes: 0 clean (or warnings only), 1 diagnostics with errors (or failed tests; warnings
too with ``--strict``), 2 usage.
"""

from __future__ import annotations

import html
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table as RichTable

from modec._version import __version__
from modec.compiler.artifact import Artifact, CorruptArtifactError
from modec.compiler.ir import TaskSpec, TestExample
from modec.compiler.pipeline import Compilation, compile_path
from modec.compiler.schema import mode_file_schema
from modec.compiler.table import DecisionTable
from modec.diagnostics import Diagnostic, Severity, render_json, render_sarif, render_text
from modec.grammar import format_expr
from modec.runtime.router import AmbiguousRouteError, Decision, Router, Task, load_router

if TYPE_CHECKING:
    from modec.runtime.context import ModeContext
    from modec.runtime.lifecycle import ModeRuntime

__all__ = ["app", "main"]

app = typer.Typer(
    name="modec",
    help="modec, the mode compiler: lint, test, compile and explain orchestrator mode files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class DiagnosticFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


_MODE_SUFFIXES = (".yaml", ".yml")


def collect_mode_files(paths: list[Path]) -> list[Path]:
    """Files as given, and every ``*.yaml``/``*.yml`` below each directory, sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in _MODE_SUFFIXES
                              and p.is_file()))
        else:
            out.append(path)
    return list(dict.fromkeys(out))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"modec {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """modec, the mode compiler."""


def lint_paths(paths: list[Path], until: str = "check") -> list[Compilation]:
    """Compile every mode file under ``paths`` as far as ``until``; one Compilation each."""
    return [compile_path(f, until=until, display=str(f)) for f in collect_mode_files(paths)]


@app.command()
def lint(
    paths: Annotated[list[Path], typer.Argument(help="Mode files or directories.")],
    fmt: Annotated[
        DiagnosticFormat, typer.Option("--format", "-f", help="Output format.")
    ] = DiagnosticFormat.text,
    strict: Annotated[bool, typer.Option(help="Warnings fail too (exit 1).")] = False,
    max_diagnostics: Annotated[
        int, typer.Option(min=1, help="Show at most this many diagnostics.")
    ] = 100,
) -> None:
    """Check mode files and report every problem with its exact location."""
    results = lint_paths(paths)
    diags: list[Diagnostic] = [d for c in results for d in c.diagnostics]
    sources: dict[str, str] = {}
    for c in results:
        sources.update(c.sources)
    if fmt is DiagnosticFormat.json:
        typer.echo(render_json(diags, limit=max_diagnostics))
    elif fmt is DiagnosticFormat.sarif:
        typer.echo(render_sarif(diags, tool_version=__version__))
    else:
        if diags:
            typer.echo(render_text(diags, sources, limit=max_diagnostics))
        clean = sum(1 for c in results if not c.diagnostics)
        typer.echo(f"checked {len(results)} file(s): {clean} clean", err=bool(diags))
    errors = any(d.severity is Severity.ERROR for d in diags)
    warnings = any(d.severity is Severity.WARNING for d in diags)
    if errors or (strict and warnings):
        raise typer.Exit(1)


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
) -> None:
    """Print the JSON Schema of the mode file format (for the YAML language server)."""
    text = json.dumps(mode_file_schema(), indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- compiler commands
# (compile, route, test, table: owned by the compiler work)

_ARTIFACT_SUFFIX = ".modec"


def _print_diagnostics(c: Compilation) -> None:
    if c.diagnostics:
        typer.echo(render_text(c.diagnostics, c.sources), err=True)


def _load_mode_router(mode: Path) -> Router:
    """A router from a mode file (compiled now) or a compiled artifact; exits 1 on problems."""
    if mode.suffix not in _MODE_SUFFIXES:
        try:
            return load_router(Artifact.from_bytes(mode.read_bytes()))
        except OSError as exc:
            typer.echo(f"error: cannot read {mode}: {exc.strerror}", err=True)
            raise typer.Exit(1) from exc
        except CorruptArtifactError as exc:
            typer.echo(f"error: {mode}: {exc.message}", err=True)
            typer.echo(f"  = help: {exc.suggestion or 'recompile it with `modec compile`'}",
                       err=True)
            raise typer.Exit(1) from exc
    c = compile_path(mode, display=str(mode))
    if not c.ok:
        _print_diagnostics(c)
        raise typer.Exit(1)
    assert c.artifact is not None
    return load_router(c.artifact)


@app.command("compile")
def compile_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Mode files or directories.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Artifact file (one input) or directory (several)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
) -> None:
    """Compile mode files into artifacts: prints file, mode hash, rows and time."""
    files = collect_mode_files(paths)
    if out is not None and len(files) > 1 and not out.is_dir():
        typer.echo("error: --out must be an existing directory when compiling several files",
                   err=True)
        raise typer.Exit(2)
    failed = False
    for i, f in enumerate(files, 1):
        start = time.perf_counter()
        c = compile_path(f, display=str(f))
        elapsed = time.perf_counter() - start
        _print_diagnostics(c)
        written: Path | None = None
        if c.ok and c.artifact is not None and out is not None:
            target = out / (f.stem + _ARTIFACT_SUFFIX) if out.is_dir() else out
            written = c.artifact.write(target)
        failed |= not c.ok
        rows = len(c.table.rows) if c.table is not None else 0
        if as_json:
            typer.echo(json.dumps({
                "file": str(f), "ok": c.ok,
                "mode_hash": c.artifact.mode_hash if c.artifact else None,
                "rows": rows, "seconds": round(elapsed, 6),
                "artifact": str(written) if written else None,
                "errors": sum(d.is_error for d in c.diagnostics),
                "warnings": sum(not d.is_error for d in c.diagnostics),
                "stages": {k: round(v, 6) for k, v in c.timings.items()},
            }))
        else:
            progress = f"[{i}/{len(files)}] " if len(files) > 1 else ""
            if c.ok and c.artifact is not None:
                dest = f" -> {written}" if written else ""
                typer.echo(f"{progress}{f}: {c.artifact.mode_hash} {rows} rows "
                           f"in {elapsed * 1000:.1f} ms{dest}")
            else:
                typer.echo(f"{progress}{f}: failed", err=True)
    if failed:
        raise typer.Exit(1)


def _scalar(text: str) -> str | int | float | bool:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str | int | float | bool) else text


def _task_from_options(
    text: str | None, title: str | None, tags: list[str] | None, complexity: str | None,
    metadata: list[str] | None,
) -> Task:
    meta: dict[str, Any] = {}
    for item in metadata or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--metadata")
        meta[key] = _scalar(value)
    level: int | str | None = None
    if complexity is not None:
        level = int(complexity) if complexity.isdigit() else complexity
    try:
        return Task(title=title or "", description=text or "", tags=tuple(tags or ()),
                    complexity=level, metadata=meta)
    except ValidationError as exc:
        raise typer.BadParameter(_validation_message(exc)) from exc


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'task'}: {e['msg']}"
                     for e in exc.errors())


def _emit_decision(router: Router, task: Task, explain: bool, as_json: bool) -> None:
    if explain:
        explanation = router.explain(task)
        typer.echo(json.dumps(explanation.to_dict(), ensure_ascii=False) if as_json
                   else explanation.render())
        return
    decision = router.route(task)
    if as_json:
        typer.echo(json.dumps(decision.to_dict(evidence=True), ensure_ascii=False))
    else:
        review = ", ".join(decision.secondary_review) or "-"
        typer.echo(f"{decision.task_type} -> {decision.specialist} "
                   f"(complexity {decision.complexity}, review {review})")


@app.command()
def route(
    mode: Annotated[Path, typer.Option("--mode", "-m", help="Mode file or compiled artifact.")],
    text: Annotated[str | None, typer.Argument(help="The task description.")] = None,
    title: Annotated[str | None, typer.Option(help="The task title.")] = None,
    tags: Annotated[list[str] | None, typer.Option("--tags", "--tag", help="A tag (repeat).")
                    ] = None,
    complexity: Annotated[str | None, typer.Option(help="1-5 or trivial..very_complex.")] = None,
    metadata: Annotated[list[str] | None, typer.Option(help="KEY=VALUE (repeat).")] = None,
    explain: Annotated[bool, typer.Option(help="Show every row: fired or not, and why.")
                       ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    input_file: Annotated[
        Path | None, typer.Option("--input", "-i", help="JSON lines of tasks ('-' = stdin).")
    ] = None,
) -> None:
    """Route one task (or a batch from --input) through a mode and print the decision."""
    router = _load_mode_router(mode)
    if input_file is None:
        task = _task_from_options(text, title, tags, complexity, metadata)
        try:
            _emit_decision(router, task, explain, as_json)
        except AmbiguousRouteError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from exc
        return
    stream = sys.stdin if str(input_file) == "-" else None
    bad = 0
    try:
        handle = stream or input_file.open(encoding="utf-8", errors="strict")
    except OSError as exc:
        typer.echo(f"error: cannot read {input_file}: {exc.strerror}", err=True)
        raise typer.Exit(1) from exc
    with handle:
        try:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    task = Task(description=raw) if isinstance(raw, str) else Task.model_validate(
                        raw)
                    _emit_decision(router, task, explain, as_json=True)
                except (ValueError, AmbiguousRouteError) as exc:
                    bad += 1
                    reason = (_validation_message(exc) if isinstance(exc, ValidationError)
                              else str(exc))
                    typer.echo(json.dumps({"line": number, "error": reason}), err=True)
        except UnicodeDecodeError as exc:
            typer.echo(f"error: {input_file} is not UTF-8 text ({exc.reason})", err=True)
            raise typer.Exit(1) from exc
    if bad:
        raise typer.Exit(1)


def _task_of(spec: TaskSpec) -> Task:
    return Task(title=spec.title, description=spec.description, tags=spec.tags,
                complexity=spec.complexity, metadata=dict(spec.metadata))


@dataclass
class ExampleResult:
    """One `tests:` example run through its mode's router."""

    example: TestExample
    decision: Decision | None
    error: str | None = None

    @property
    def passed(self) -> bool:
        d, e = self.decision, self.example
        return (d is not None and (e.expect_type is None or d.task_type == e.expect_type)
                and (e.expect_specialist is None or d.specialist == e.expect_specialist))


def run_examples(c: Compilation) -> list[ExampleResult]:
    """Route every `tests:` example of a compiled mode."""
    assert c.mode is not None and c.artifact is not None
    router = load_router(c.artifact)
    results = []
    for example in c.mode.tests:
        try:
            results.append(ExampleResult(example, router.route(_task_of(example.task))))
        except AmbiguousRouteError as exc:
            results.append(ExampleResult(example, None, exc.message))
    return results


@app.command("test")
def test_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Mode files or directories.")],
    coverage: Annotated[bool, typer.Option(
        "--coverage", help="Report which rows the examples exercise.")] = False,
    min_coverage: Annotated[float | None, typer.Option(
        "--min", min=0, max=100, help="Fail below this row coverage % (implies --coverage).")
    ] = None,
) -> None:
    """Run the `tests:` examples of mode files; failures show expected, got and the trace."""
    passed = failed = 0
    below = False
    for f in collect_mode_files(paths):
        c = compile_path(f, display=str(f))
        if not c.ok:
            _print_diagnostics(c)
            typer.echo(f"{f}: does not compile", err=True)
            failed += 1
            continue
        assert c.artifact is not None
        router = load_router(c.artifact)
        for result in run_examples(c):
            ex = result.example
            where = f"{ex.span.file}:{ex.span.line}"
            if result.passed:
                passed += 1
                continue
            failed += 1
            typer.echo(f"FAIL {where}")
            want = f"type {ex.expect_type or '*'}, specialist {ex.expect_specialist or '*'}"
            if result.decision is None:
                typer.echo(f"  expected {want}\n  got error: {result.error}")
                continue
            d = result.decision
            typer.echo(f"  expected {want}\n  got      type {d.task_type}, specialist "
                       f"{d.specialist}")
            trace = router.explain(_task_of(ex.task)).render()
            typer.echo("  " + trace.replace("\n", "\n  "))
        if coverage or min_coverage is not None:
            below |= not report_coverage(c, run_examples(c), min_coverage)
    typer.echo(f"{passed} passed, {failed} failed")
    if failed or below:
        raise typer.Exit(1)


class TableFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    html = "html"
    json = "json"


def _table_rows(table: DecisionTable) -> list[list[str]]:
    rows = []
    for i, row in enumerate(table.rows, 1):
        rows.append([str(i), row.name, format_expr(row.condition), row.specialist or "-",
                     ", ".join(row.secondary_review) or "-", f"{row.complexity_boost:+d}",
                     str(row.priority), row.source])
    fb = table.fallback
    rows.append(["*", fb.name, "(no row fired)", fb.specialist or "-",
                 ", ".join(fb.secondary_review) or "-", f"{fb.complexity_boost:+d}", "-",
                 fb.source or "-"])
    return rows


_TABLE_HEADER = ["#", "task type", "condition", "specialist", "review", "boost", "priority",
                 "source"]


@app.command()
def table(
    mode: Annotated[Path, typer.Argument(help="Mode file or compiled artifact.")],
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")
                   ] = TableFormat.text,
) -> None:
    """Show the compiled decision table: rows in final order, then the fallback."""
    router = _load_mode_router(mode)
    dt = router.table
    rows = _table_rows(dt)
    if fmt is TableFormat.json:
        typer.echo(json.dumps(dt.model_dump(mode="json"), indent=2, ensure_ascii=False))
    elif fmt is TableFormat.markdown:
        esc = [[cell.replace("|", "\\|") for cell in r] for r in rows]
        typer.echo("| " + " | ".join(_TABLE_HEADER) + " |")
        typer.echo("|" + "---|" * len(_TABLE_HEADER))
        for r in esc:
            typer.echo("| " + " | ".join(r) + " |")
    elif fmt is TableFormat.html:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in _TABLE_HEADER)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                       for r in rows)
        typer.echo(f'<table class="modec-table"><thead><tr>{head}</tr></thead>'
                   f"<tbody>{body}</tbody></table>")
    else:
        console = Console(highlight=False, soft_wrap=False,
                          width=None if sys.stdout.isatty() else 200)
        grid = RichTable(title=f"{mode}  {router.mode_hash}  (hit policy {dt.hit_policy}, "
                         f"default specialist {dt.default_specialist})")
        for h in _TABLE_HEADER:
            grid.add_column(h, overflow="fold")
        for r in rows:
            grid.add_row(*(rich_escape(c) for c in r))
        console.print(grid)

# --------------------------------------------------------------------------- runtime commands
# (init, modes, session ...: owned by the runtime work)

session_app = typer.Typer(
    name="session",
    help="Sessions bound to compiled modes: start, bind, switch, route, resume, end, back up.",
    no_args_is_help=True,
)
app.add_typer(session_app, name="session")

ProjectOption = Annotated[
    Path, typer.Option("--project", "-p", file_okay=False,
                       help="Project root (holds .task_orchestrator/).")
]
DatabaseOption = Annotated[
    str | None, typer.Option("--db", envvar="MODEC_DATABASE_URL", show_envvar=True,
                             help="Session database URL (default: the project's "
                                  ".task_orchestrator/modec.db).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON output.")]


def _fail(message: str, suggestion: str | None, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    if suggestion:
        typer.echo(f"  = help: {suggestion}", err=True)
    return typer.Exit(code)


@contextmanager
def _runtime_errors() -> Iterator[None]:
    """Runtime errors become their message and recovery suggestion: exit 1 (2 for bad
    values)."""
    from sqlalchemy.exc import SQLAlchemyError

    from modec.diagnostics import InvalidModeError, ModecError

    try:
        yield
    except InvalidModeError as exc:
        if exc.diagnostics:
            typer.echo(render_text(exc.diagnostics, limit=10), err=True)
        raise _fail(exc.message, exc.suggestion) from exc
    except ModecError as exc:  # a ModecError that is also a ValueError is a usage error
        code = 2 if isinstance(exc, ValueError) else 1
        raise _fail(exc.message, exc.suggestion, code) from exc
    except SQLAlchemyError as exc:
        raise _fail(f"database: {exc}".splitlines()[0],
                    "check the --db URL (or MODEC_DATABASE_URL) and that the server is up"
                    ) from exc
    except ValueError as exc:
        raise _fail(str(exc), None, code=2) from exc


@contextmanager
def _open_runtime(project: Path, db: str | None) -> Iterator[ModeRuntime]:
    """A ModeRuntime for the command, closed on exit, its errors reported as by
    :func:`_runtime_errors`. The runtime (SQLAlchemy, diskcache) is imported only here, so
    the compiler commands start without it."""
    from modec.runtime.lifecycle import ModeRuntime

    with _runtime_errors():
        runtime = ModeRuntime(project, db)
        try:
            yield runtime
        finally:
            runtime.close()


def _echo_json(doc: object) -> None:
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


def _echo_context(ctx: ModeContext, verb: str) -> None:
    status = "" if ctx.validation_status == "valid" else f" [{ctx.validation_status}]"
    typer.echo(f"{verb} session {ctx.session_id} to {ctx.mode_file} ({ctx.mode_hash}){status}")


@app.command("init")
def init_cmd(
    directory: Annotated[Path, typer.Argument(file_okay=False, help="Project root.")] = Path("."),
) -> None:
    """Create .task_orchestrator/ (roles/ with the bundled modes, backups/) in a project."""
    from modec.runtime.project import ProjectLayout, default_mode_name, detect_project_type

    if not directory.is_dir():
        raise _fail(f"{directory} is not a directory", "create it first, or pass another one",
                    code=2)
    layout = ProjectLayout.at(directory)
    with _runtime_errors():
        written = layout.ensure()
    for path in written:
        typer.echo(f"created {path}")
    kind = detect_project_type(layout.root)
    typer.echo(f"{layout.base}: {len(layout.mode_names())} mode(s) in roles/; "
               f"{kind.value} project, default mode {default_mode_name(layout.root)}")


@app.command("modes")
def modes_cmd(
    directory: Annotated[Path, typer.Argument(file_okay=False, help="Project root.")] = Path("."),
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the project's modes: valid or not (first error), specialists, current sessions.

    Exit 1 when a mode in roles/ does not compile.
    """
    from modec.runtime.lifecycle import list_modes
    from modec.runtime.project import ProjectLayout, default_mode_name

    layout = ProjectLayout.at(directory)
    if db is None and not layout.database.exists():
        summaries = list_modes(layout)  # no database yet: nothing is bound, create nothing
    else:
        with _open_runtime(layout.root, db) as runtime:
            summaries = runtime.list_modes()
    default = default_mode_name(layout.root)
    if as_json:
        _echo_json({"project": str(layout.root), "default_mode": default,
                    "modes": [m.to_dict() for m in summaries]})
    else:
        if not layout.is_initialized():
            typer.echo(f"{layout.roles} does not exist: bundled modes only (run `modec init`)")
        for m in summaries:
            mark = "*" if m.current else " "
            where = "bundled" if m.bundled else "roles"
            count = "-" if m.specialist_count is None else str(m.specialist_count)
            line = (f"{mark} {m.name:<32} {'valid' if m.valid else 'INVALID':<8} "
                    f"{count:>3} specialists  {where}")
            if m.name == default:
                line += "  (default)"
            if m.current:
                line += f"  sessions: {', '.join(m.sessions)}"
            typer.echo(line)
            if m.error:
                typer.echo(f"      {m.error}")
    if any(not m.valid and not m.bundled for m in summaries):
        raise typer.Exit(1)


@session_app.command("start")
def session_start(
    mode: Annotated[str | None, typer.Argument(
        help="Mode name (in roles/, or bundled); default: by project type.")] = None,
    project: ProjectOption = Path("."),
    db: DatabaseOption = None,
    session_id: Annotated[str | None, typer.Option("--id", help="Session id (default: new).")
                          ] = None,
    as_json: JsonOption = False,
) -> None:
    """Start a session bound to a mode (creates .task_orchestrator/ if needed)."""
    with _open_runtime(project, db) as runtime:
        ctx = runtime.initialize_session(mode_file=mode, session_id=session_id)
    if as_json:
        _echo_json(ctx.to_dict())
    else:
        _echo_context(ctx, "started")


@session_app.command("bind")
def session_bind(
    session_id: Annotated[str, typer.Argument(help="Session id.")],
    mode: Annotated[str, typer.Argument(help="Mode name (in roles/, or bundled).")],
    project: ProjectOption = Path("."),
    db: DatabaseOption = None,
) -> None:
    """Bind a session to a mode (validated first)."""
    with _open_runtime(project, db) as runtime:
        _echo_context(runtime.bind(session_id, mode), "bound")


@session_app.command("switch")
def session_switch(
    session_id: Annotated[str, typer.Argument(help="Session id.")],
    mode: Annotated[str, typer.Argument(help="Mode name (in roles/, or bundled).")],
    project: ProjectOption = Path("."),
    db: DatabaseOption = None,
) -> None:
    """Switch a session to another mode, backing up the current binding first."""
    with _open_runtime(project, db) as runtime:
        result = runtime.switch(session_id, mode)
    _echo_context(result.context, "switched")
    if result.previous is not None:
        typer.echo(f"previous: {result.previous.mode_file} ({result.previous.mode_hash})")
    if result.backup is not None:
        typer.echo(f"backup: {result.backup.path}")


@session_app.command("show")
def session_show(
    session_id: Annotated[str, typer.Argument(help="Session id.")],
    project: ProjectOption = Path("."),
    db: DatabaseOption = None,
    history: Annotated[int, typer.Option(min=0, help="Show this many history rows.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Show a session's mode: specialists, custom roles, routing rules, recent history."""
    with _open_runtime(project, db) as runtime:
        ctx = runtime.context(session_id, refresh=True)
        rows = runtime.history(session_id, limit=history) if history else []
    if as_json:
        doc = ctx.to_dict()
        doc["history"] = [
            {"action": h.action_type.value, "mode_file": h.mode_file, "mode_hash": h.mode_hash,
             "timestamp": h.timestamp.isoformat(), "success": h.success,
             "error_message": h.error_message} for h in rows
        ]
        _echo_json(doc)
        return
    typer.echo(f"session {ctx.session_id}")
    typer.echo(f"  mode      {ctx.mode_file} ({ctx.name or 'unnamed'})")
    typer.echo(f"  hash      {ctx.mode_hash}")
    typer.echo(f"  status    {ctx.validation_status.value}, bound {ctx.bound_at.isoformat()}")
    typer.echo(f"  specialists ({ctx.specialist_count}): {', '.join(ctx.specialist_roles)}")
    typer.echo(f"  custom roles: {', '.join(ctx.custom_roles) or '-'}")
    typer.echo("  routing rules:")
    for rule in ctx.routing_rules:
        review = f" (review: {', '.join(rule.secondary_review)})" if rule.secondary_review else ""
        typer.echo(f"    {rule.task_type:<24} -> {rule.required_specialist or '-'}{review}")
    if rows:
        typer.echo("  history:")
        for h in rows:
            outcome = "ok" if h.success else f"FAILED: {h.error_message}"
            typer.echo(f"    {h.timestamp.isoformat()} {h.action_type.value:<9} "
                       f"{h.mode_file or '-'} {outcome}")


@session_app.command("route")
def session_route(
    session_id: Annotated[str, typer.Argument(help="Session id.")],
    text: Annotated[str | None, typer.Argument(help="The task description.")] = None,
    title: Annotated[str | None, typer.Option(help="The task title.")] = None,
    tags: Annotated[list[str] | None, typer.Option("--tags", "--tag", help="A tag (repeat).")
                    ] = None,
    complexity: Annotated[str | None, typer.Option(help="1-5 or trivial..very_complex.")] = None,
    metadata: Annotated[list[str] | None, typer.Option(help="KEY=VALUE (repeat).")] = None,
    explain: Annotated[bool, typer.Option(help="Show every row: fired or not, and why.")
                       ] = False,
    project: ProjectOption = Path("."),
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Route a task with the mode the session is bound to."""
    task = _task_from_options(text, title, tags, complexity, metadata)
    with _open_runtime(project, db) as runtime:
        _emit_decision(runtime.context(session_id).router, task, explain, as_json)


@session_app.command("resume")
def session_resume(
    session_id: Annotated[str, typer.Argument(help="Session id.")],
    project: ProjectOption = Path("."),
    db: DatabaseOption = None,
) -> None:
    """Re-validate a session's mode file: rebind if it changed, degrade if it broke."""
    with _open_runtime(project, db) as runtime:
        result = runtime.resume(session_id)
    _echo_context(result.context, f"resumed ({result.outcome.value})")
    if result.error:
        typer.echo(f"warning: {result.error}", err=True)


@session_app.command("end")
def session_end(
    session_id: Annotated[str, typer.Argument(help="Session id.")],
    project: ProjectOption = Path("."),
    db: DatabaseOption = None,
) -> None:
    """Terminate a session, backing up its binding to backups/."""
    with _open_runtime(project, db) as runtime:
        result = runtime.terminate(session_id)
    typer.echo(f"ended session {session_id}")
    if result.backup is not None:
        typer.echo(f"backup: {result.backup.path}")
    if result.error:
        typer.echo(f"warning: {result.error}", err=True)


@session_app.command("list")
def session_list(
    project: ProjectOption = Path("."),
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the active sessions with their modes."""
    with _open_runtime(project, db) as runtime:
        infos = runtime.status()
    if as_json:
        _echo_json([info.to_dict() for info in infos])
        return
    if not infos:
        typer.echo("no active sessions")
    for info in infos:
        mode = info.mode_info or {}
        desc = (f"{mode.get('mode_file')} [{mode.get('validation_status')}] "
                f"{mode.get('specialist_count', '?')} specialists") if mode else "(no mode)"
        if mode.get("error"):
            desc += f" error: {mode['error']}"
        typer.echo(f"{info.session.session_id}  {desc}")


@session_app.command("backup")
def session_backup(
    session_id: Annotated[str | None, typer.Argument(help="Session id.")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="Back up this mode file instead.")
                    ] = None,
    name: Annotated[str | None, typer.Option(help="Backup file name.")] = None,
    project: ProjectOption = Path("."),
    db: DatabaseOption = None,
) -> None:
    """Back up a session's binding (or a mode file) to backups/."""
    if (session_id is None) == (mode is None):
        raise _fail("give a session id or --mode (one of them)", None, code=2)
    with _open_runtime(project, db) as runtime:
        backup = runtime.backup(session_id, mode_file=mode, name=name)
    typer.echo(f"backup: {backup.path}")


@session_app.command("backups")
def session_backups(
    project: ProjectOption = Path("."),
    db: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the backups in backups/, newest first."""
    with _open_runtime(project, db) as runtime:
        found = runtime.list_backups()
    if as_json:
        _echo_json([b.to_dict() for b in found])
        return
    for b in found:
        session = f" session {b.session_id}" if b.session_id else ""
        typer.echo(f"{b.name}  {b.created_at.isoformat()} {b.reason:<9} {b.mode_file}{session}")


@session_app.command("restore")
def session_restore(
    backup: Annotated[str, typer.Argument(help="Backup file name in backups/.")],
    activate: Annotated[bool, typer.Option(help="Switch the session to the restored mode.")
                        ] = False,
    session_id: Annotated[str | None, typer.Option("--session",
                                                   help="Session to activate it for.")] = None,
    as_mode: Annotated[str | None, typer.Option("--as", help="Restore under this mode name.")
                       ] = None,
    project: ProjectOption = Path("."),
    db: DatabaseOption = None,
) -> None:
    """Restore a backup's mode file into roles/ (validated first), optionally activating it."""
    with _open_runtime(project, db) as runtime:
        result = runtime.restore(backup, activate, session_id=session_id, mode_file=as_mode)
    typer.echo(f"restored {result.path} ({result.mode_hash})")
    if result.context is not None:
        _echo_context(result.context, "switched")


# --------------------------------------------------------------------------- analysis commands
# (diff, and `test --coverage`: owned by the analysis work)


@app.command("analyse")
def analyse_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Mode files or directories.")],
    builtins: Annotated[bool, typer.Option(
        "--builtins", help="Also report findings about the classic builtin keyword lists, "
        "which version-1 files get without writing them.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    strict: Annotated[bool, typer.Option(help="Warnings fail too (exit 1).")] = False,
) -> None:
    """Row analysis: which rows can fire, dead rows, overlaps, keyword traps, and the bounds."""
    from modec.compiler.analysis import AnalysisOptions, analyse
    from modec.compiler.checks import run_checks

    failed = False
    for f in collect_mode_files(paths):
        c = compile_path(f, until="build", display=str(f))
        if c.mode is None:
            _print_diagnostics(c)
            failed = True
            continue
        report = analyse(c.mode, c.sources, AnalysisOptions(builtins=builtins))
        diags = [*c.diagnostics, *run_checks(c.mode), *report.diagnostics]
        errors = any(d.is_error for d in diags)
        failed |= errors or (strict and any(d.severity is Severity.WARNING for d in diags))
        if as_json:
            typer.echo(json.dumps({
                "file": str(f),
                "rows": [{"name": v.name, "status": v.status, "covered_by": list(v.covered_by),
                          "reason": v.reason} for v in report.rows],
                "fallback_reachable": report.fallback_reachable,
                "overlaps": [{"rows": [o.first, o.second], "witness": o.witness.to_dict()}
                             for o in report.overlaps],
                "skipped": report.skipped,
                "stats": report.stats,
                "diagnostics": [d.model_dump(mode="json") for d in sorted(
                    diags, key=Diagnostic.sort_key)],
            }, ensure_ascii=False))
            continue
        if diags:
            typer.echo(render_text(diags, c.sources))
        counts = {s: sum(v.status == s for v in report.rows) for s in ("fires", "never",
                                                                         "unknown")}
        stats = report.stats
        typer.echo(
            f"{f}: {len(report.rows)} rows ({counts['fires']} can fire, {counts['never']} never "
            f"fire, {counts['unknown']} undecided); fallback "
            f"{'reachable' if report.fallback_reachable else 'unreachable'}; "
            f"{int(stats['queries'])} SAT queries over {int(stats['atoms'])} atoms in "
            f"{stats['seconds'] * 1000:.0f} ms")
        typer.echo("  skipped: " + ("; ".join(report.skipped) if report.skipped else "nothing"))
    if failed:
        raise typer.Exit(1)


def _read_tasks(path: Path) -> list[tuple[Task, dict[str, Any]]]:
    """Tasks from JSON lines (a string is a description); exits 1 naming a bad line."""
    out: list[tuple[Task, dict[str, Any]]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read {path}: {exc}", err=True)
        raise typer.Exit(1) from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            task = Task(description=raw) if isinstance(raw, str) else Task.model_validate(raw)
        except ValueError as exc:
            reason = (_validation_message(exc) if isinstance(exc, ValidationError)
                      else str(exc))
            typer.echo(f"error: {path}:{number}: not a task: {reason}", err=True)
            raise typer.Exit(1) from exc
        out.append((task, {k: v for k, v in task.model_dump().items() if v}))
    return out


def _decide(router: Router) -> Any:
    def decide(task: Task) -> tuple[str, str]:
        try:
            d = router.route(task)
        except AmbiguousRouteError:
            return ("<ambiguous>", "-")
        return (d.task_type, d.specialist or "-")

    return decide


@app.command("diff")
def diff_cmd(
    old: Annotated[Path, typer.Argument(help="The mode file as it was.")],
    new: Annotated[Path, typer.Argument(help="The mode file as it is now.")],
    tasks: Annotated[Path | None, typer.Option(
        "--tasks", help="JSON lines of tasks to route through both; without it, witness "
        "tasks are synthesized for every changed row.")] = None,
    fail_on_change: Annotated[bool, typer.Option(
        "--fail-on-change", help="Exit 1 when any task changes type or specialist.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    examples: Annotated[int, typer.Option(min=0, help="Examples shown per change.")] = 3,
) -> None:
    """Impact of a mode change: every task whose task type or specialist changes."""
    from modec.compiler.analysis import changed_rows, impact, synthesize_tasks

    compiled = []
    for path in (old, new):
        c = compile_path(path, display=str(path))
        if not c.ok:
            _print_diagnostics(c)
            typer.echo(f"{path}: does not compile", err=True)
            raise typer.Exit(1)
        assert c.mode is not None and c.artifact is not None
        compiled.append(c)
    a, b = compiled
    assert a.mode is not None and b.mode is not None and a.artifact and b.artifact
    rows = changed_rows(a.mode, b.mode)
    if tasks is not None:
        batch = _read_tasks(tasks)
        source = str(tasks)
    else:
        batch = []
        for w, why in synthesize_tasks(a.mode, b.mode):
            shown = w.to_dict()
            batch.append((Task.model_validate(shown), {**shown, "why": why}))
        source = "synthesized from the changed rows"
    report = impact(batch, _decide(load_router(a.artifact)), _decide(load_router(b.artifact)))
    if as_json:
        typer.echo(json.dumps({
            "old": {"file": str(old), "mode_hash": a.artifact.mode_hash},
            "new": {"file": str(new), "mode_hash": b.artifact.mode_hash},
            "tasks_from": source,
            "rows_changed": [{"name": r.name, "changes": list(r.changes)} for r in rows],
            **report.to_dict(examples),
        }, ensure_ascii=False))
    else:
        typer.echo(f"old {old}  {a.artifact.mode_hash}")
        typer.echo(f"new {new}  {b.artifact.mode_hash}")
        typer.echo("rows changed: " + (", ".join(f"{r.name} ({', '.join(r.changes)})"
                                                 for r in rows) or "none"))
        share = 100.0 * report.changed / report.total if report.total else 0.0
        typer.echo(f"{report.total} tasks ({source}): {report.changed} changed "
                   f"({share:.1f}%)")
        for pair in report.to_dict(examples)["pairs"]:
            was, now = pair["from"], pair["to"]
            typer.echo(f"  {was['task_type']} -> {now['task_type']}   "
                       f"{was['specialist']} -> {now['specialist']}   {pair['count']} task(s)")
            for shown in pair["examples"]:
                text = (json.dumps(shown["description"], ensure_ascii=False)
                        if set(shown) == {"description"}
                        else json.dumps(shown, ensure_ascii=False))
                typer.echo(f"      {text}")
    if fail_on_change and report.changed:
        raise typer.Exit(1)


def report_coverage(c: Compilation, results: list[ExampleResult], minimum: float | None
                    ) -> bool:
    """Print which rows the `tests:` examples exercise; False when below ``minimum`` %."""
    from modec.compiler.analysis import analyse, coverage

    assert c.mode is not None
    taken = [tuple(r.decision.matches) if r.decision is not None else None for r in results]
    cov = coverage(c.mode, taken, analyse(c.mode, c.sources).rows)
    counted = cov.counted
    covered = sum(r.covered for r in counted)
    typer.echo(f"coverage {c.path}: {covered}/{len(counted)} rows exercised "
               f"({cov.percent:.1f}%) by {cov.examples} example(s)")
    for row in cov.uncovered:
        note = " (can never fire)" if row.never_fires else ""
        typer.echo(f"  uncovered {row.name}  {row.location}{note}")
    implicit = [r.name for r in cov.rows if r.implicit]
    if implicit:
        typer.echo(f"  not counted (implicit builtin rows): {', '.join(implicit)}")
    if minimum is not None and cov.percent < minimum:
        typer.echo(f"{c.path}: coverage {cov.percent:.1f}% is below the minimum "
                   f"{minimum:g}%", err=True)
        return False
    return True

# --------------------------------------------------------------------------- server commands
# (serve: owned by the MCP work)


@app.command("serve")
def serve_cmd(
    project: Annotated[
        Path,
        typer.Option("--project", "-p", exists=True, file_okay=False, dir_okay=True,
                     help="Project root whose .task_orchestrator/ the tools manage."),
    ] = Path("."),
    db: Annotated[
        str | None,
        typer.Option("--db", help="Session database URL (default: $MODEC_DATABASE_URL, else "
                     "the project's .task_orchestrator/modec.db)."),
    ] = None,
) -> None:
    """Serve the mode tools over MCP on stdin/stdout (register it with an MCP client)."""
    from modec.diagnostics import ModecError
    from modec.mcp_server import serve as serve_stdio  # the mcp SDK loads only for `serve`

    try:
        serve_stdio(project, db)
    except ModecError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        if exc.suggestion:
            typer.echo(f"  = help: {exc.suggestion}", err=True)
        raise typer.Exit(1) from exc


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
