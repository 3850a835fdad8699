"""The ``modec`` command line: a thin shell over the compiler and the runtime.

Exit codes: 0 clean (or warnings only), 1 diagnostics with errors (or failed tests; warnings
too with ``--strict``), 2 usage.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from modec import __version__
from modec.compiler.pipeline import Compilation, compile_path
from modec.compiler.schema import mode_file_schema
from modec.diagnostics import Diagnostic, Severity, render_json, render_sarif, render_text

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

# --------------------------------------------------------------------------- runtime commands
# (init, modes, session ...: owned by the runtime work)

# --------------------------------------------------------------------------- analysis commands
# (diff, and `test --coverage`: owned by the analysis work)

# --------------------------------------------------------------------------- server commands
# (serve: owned by the MCP work)


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
