"""The shell of ``modec import``, ``modec export`` and the foreign-file lint (thin, over
:mod:`modec.interop`).

``app`` is a self-contained Typer app (``import``, ``export``, ``lint``) so the commands can be
tested alone; the main CLI registers :func:`import_cmd` and :func:`export_cmd` and makes
``modec lint`` call :func:`lint_foreign_cmd` when :func:`modec.interop.is_foreign` says so.
Exit codes: 0 clean (warnings and notes allowed), 1 errors, 2 usage.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from modec._version import __version__
from modec.compiler.pipeline import compile_text
from modec.diagnostics import Diagnostic, has_errors, render_json, render_sarif, render_text
from modec.interop.export import TARGETS, export_mode
from modec.interop.files import write_files
from modec.interop.importer import ImportResult, import_paths
from modec.interop.lint import lint_foreign
from modec.interop.model import FORMATS

__all__ = ["app", "export_cmd", "import_cmd", "lint_foreign_cmd", "score_keywords"]

app = typer.Typer(
    name="modec-interop",
    help="Other tools' agent files: import them into a mode, export a mode back, lint them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


def _render(diags: list[Diagnostic], fmt: _Format, sources: dict[str, str]) -> str:
    if fmt is _Format.json:
        return render_json(diags)
    if fmt is _Format.sarif:
        return render_sarif(diags, tool_version=__version__)
    return render_text(diags, sources)


def score_keywords(result: ImportResult, out_name: str) -> list[tuple[str, int, int]]:
    """For each role with derived keywords: (role, held-apart texts routed to it, total).

    Routes through the real compiled router (the shell may use the runtime; the library
    does not).
    """
    from modec.runtime.router import load_router

    c = compile_text(result.text, out_name)
    if c.artifact is None:
        return []
    router = load_router(c.artifact)
    rows = []
    for role, texts in sorted(result.held_apart.items()):
        hits = sum(router.route(t).specialist == role for t in texts)
        rows.append((role, hits, len(texts)))
    return rows


def _split_format(args: list[str]) -> tuple[str | None, list[str]]:
    if args and args[0] in FORMATS and not Path(args[0]).exists():
        return args[0], args[1:]
    return None, args


@app.command("import")
def import_cmd(
    args: Annotated[
        list[str],
        typer.Argument(
            metavar="[FORMAT] PATH...",
            help=f"Agent files or folders, optionally after a format ({', '.join(FORMATS)}).",
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the mode here (else stdout).")
    ] = None,
    orchestrator: Annotated[
        str | None,
        typer.Option(help="The agent that becomes task_orchestrator (original or modec name)."),
    ] = None,
    derive_keywords: Annotated[
        bool,
        typer.Option(
            "--derive-keywords",
            help="Add heuristic keyword rules derived from descriptions "
            "(lowest priority, marked x_heuristic) and print how well they route.",
        ),
    ] = False,
    fmt: Annotated[
        _Format, typer.Option("--format", "-f", help="Diagnostics format.")
    ] = _Format.text,
) -> None:
    """Import Roo/Kilo, Claude Code, Copilot, opencode, crewAI or BMAD agent files as one mode."""
    tool, paths = _split_format(args)
    if not paths:
        typer.echo("error: give at least one PATH", err=True)
        raise typer.Exit(2)
    out_name = str(out) if out else "imported.mode.yaml"
    result = import_paths(
        [Path(p) for p in paths], tool, orchestrator, derive_keywords, out_name=out_name
    )
    diags = result.diagnostics + result.compile_diagnostics
    if diags:
        typer.echo(_render(diags, fmt, result.sources), err=True)
    if not result.text:
        raise typer.Exit(1)
    if out is None and result.parts:
        typer.echo(
            f"error: the mode is larger than one mode file holds; it extends "
            f"{len(result.parts)} part file(s): give --out FILE",
            err=True,
        )
        raise typer.Exit(2)
    if out is None:
        typer.echo(result.text, nl=False)
    else:
        try:
            write_files(out.parent, {out.name: result.text, **result.parts})
        except OSError as exc:
            typer.echo(f"error: cannot write {out}: {exc.strerror or exc}", err=True)
            raise typer.Exit(1) from exc
    kinds = ", ".join(FORMATS[f] for f in result.formats)
    made = sum(not r.synthetic for r in result.roles)
    typer.echo(
        f"imported {made} role(s) from {kinds} (+ task_orchestrator"
        f"{', built-in roles' if made < len(result.roles) else ''}; default specialist "
        f"{result.default_specialist!r})"
        + (f" → {out}" if out else "")
        + (f" (+ {', '.join(result.parts)})" if result.parts else ""),
        err=True,
    )
    if derive_keywords:
        for role, hits, total in score_keywords(result, out_name):
            share = f"{100 * hits // total}%" if total else "n/a"
            typer.echo(
                f"  derived keywords for {role}: {hits}/{total} held-apart sentences "
                f"of its prompt route to it ({share})",
                err=True,
            )
    if has_errors(diags):
        raise typer.Exit(1)


@app.command("export")
def export_cmd(
    mode: Annotated[Path, typer.Argument(help="The mode file.")],
    to: Annotated[str, typer.Option("--to", help=f"Target tool: {', '.join(TARGETS)}.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write into.")] = Path("."),
) -> None:
    """Write a mode as another tool's agent files, routing rules in the text its router reads."""
    if to not in TARGETS:
        typer.echo(f"error: --to must be one of {', '.join(TARGETS)}", err=True)
        raise typer.Exit(2)
    result = export_mode(mode, to, out)
    if result.diagnostics:
        typer.echo(render_text(result.diagnostics), err=True)
    if not result.ok:
        raise typer.Exit(1)
    for path in result.written:
        typer.echo(f"wrote {path}")


def lint_foreign_cmd(paths: list[Path], fmt: str = "text") -> int:
    """``modec lint`` on another tool's files: print the diagnostics, return the exit code."""
    diags = lint_foreign(paths)
    from modec.interop.importer import harvest_paths

    sources = harvest_paths(paths).texts if fmt == "text" else {}
    typer.echo(_render(diags, _Format(fmt), sources))
    return 1 if has_errors(diags) else 0


@app.command("lint")
def lint_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Agent files or folders.")],
    fmt: Annotated[_Format, typer.Option("--format", "-f")] = _Format.text,
) -> None:
    """Lint other tools' agent files through their importers."""
    code = lint_foreign_cmd(paths, fmt.value)
    if code:
        raise typer.Exit(code)
