"""``modec import`` and ``modec export``: other tools' agent files in and out (thin, over
:mod:`modec.interop`); ``modec lint`` calls :func:`lint_foreign` for such files.

Exit codes: 0 clean (warnings and notes allowed), 1 errors (the tool itself rejects or drops
input: the recovered mode is still written), 2 usage.
"""

from __future__ import annotations

import argparse

from modec.cli.inputs import path_arg
from modec.cli.output import CliError, Output

TYPE_CHECKING = False  # typing is not imported at run time: `modec --help` pays for it
if TYPE_CHECKING:
    from pathlib import Path

    from modec.diagnostics import Diagnostic
    from modec.interop.importer import ImportResult

__all__ = ["lint_foreign", "register", "score_keywords"]

_FORMATS = ("roo", "kilo", "claude", "copilot", "opencode", "crewai", "bmad")
_TARGETS = ("roo", "claude", "copilot", "opencode")


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    from modec.cli.program import add_format

    p = sub.add_parser(
        "import",
        parents=[common],
        help="import other tools' agent files as one mode",
        description="Import Roo Code / Kilo Code modes, Claude Code subagents, Copilot chat "
        "modes and agents, opencode agents, crewAI crews or BMAD agents as one mode file. "
        "The format is detected from each path and its content unless given first.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="[FORMAT] PATH",
        help=f"agent files or folders, optionally after a format ({', '.join(_FORMATS)})",
    )
    p.add_argument("--out", "-o", metavar="FILE", help="write the mode here (default: stdout)")
    p.add_argument(
        "--orchestrator",
        metavar="NAME",
        help="the agent that becomes task_orchestrator (original or modec name)",
    )
    p.add_argument(
        "--derive-keywords",
        action="store_true",
        help="add heuristic keyword rules derived from descriptions (lowest priority, "
        "marked x_heuristic) and print how well they route",
    )
    add_format(p, "text", "json", "sarif")
    p.set_defaults(handler=import_command)

    e = sub.add_parser(
        "export",
        parents=[common],
        help="write a mode as another tool's agent files",
        description="Write a mode as another tool's agent files, each role's routing rules "
        "rendered into the text that tool's router reads (Roo's whenToUse, Claude's "
        "description).",
    )
    e.add_argument("mode", type=path_arg, metavar="MODE", help="the mode file")
    e.add_argument(
        "--to", required=True, choices=_TARGETS, metavar="|".join(_TARGETS), help="the target tool"
    )
    e.add_argument(
        "--out",
        "-o",
        type=path_arg,
        default=".",
        metavar="DIR",
        help="folder to write into (default: .)",
    )
    e.set_defaults(handler=export_command)


def _render(
    out: Output, diags: list[Diagnostic], fmt: str, sources: dict[str, str], *, err: bool
) -> None:
    from modec._version import __version__
    from modec.diagnostics import render_json, render_sarif, render_text

    if fmt == "json":
        text = render_json(diags)
    elif fmt == "sarif":
        text = render_sarif(diags, tool_version=__version__)
    else:
        text = render_text(diags, sources, color=out.color_err if err else out.color)
    (out.err if err else out.out)(text)


def score_keywords(result: ImportResult, out_name: str) -> list[tuple[str, int, int]]:
    """For each role with derived keywords: (role, held-apart texts routed to it, total)."""
    from modec.compiler.pipeline import compile_text
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


def import_command(args: argparse.Namespace, out: Output) -> int:
    from modec.diagnostics import has_errors
    from modec.interop.files import write_files
    from modec.interop.importer import import_paths
    from modec.interop.model import FORMATS

    raw: list[str] = list(args.paths)
    tool = None
    if raw and raw[0] in FORMATS and not path_arg(raw[0]).exists():
        tool, raw = raw[0], raw[1:]
    if not raw:
        raise CliError("modec import: give at least one PATH", "see `modec import --help`", 2)
    target = path_arg(args.out) if args.out else None
    if target is not None and not target.parent.is_dir():
        raise CliError(
            f"cannot write {args.out}: folder {target.parent} does not exist",
            "create the folder first, or pass another --out",
            2,
        )
    out_name = str(target) if target else "imported.mode.yaml"
    result = import_paths(
        [path_arg(p) for p in raw], tool, args.orchestrator, args.derive_keywords, out_name=out_name
    )
    diags = result.diagnostics + result.compile_diagnostics
    if diags:
        _render(out, diags, args.format, result.sources, err=True)
    if not result.text:
        return 1
    if target is None and result.parts:
        raise CliError(
            f"the mode is larger than one mode file holds; it extends {len(result.parts)} "
            "part file(s)",
            "give --out FILE",
            2,
        )
    if target is None:
        out.stdout.write(result.text)
    else:
        try:
            write_files(target.parent, {target.name: result.text, **result.parts})
        except OSError as exc:
            raise CliError(
                f"cannot write {target}: {exc.strerror or exc}",
                "check that the folder is writable",
                2,
            ) from exc
    kinds = ", ".join(FORMATS[f] for f in result.formats)
    made = sum(not r.synthetic for r in result.roles)
    out.err(
        f"imported {made} role(s) from {kinds} (+ task_orchestrator"
        f"{', built-in roles' if made < len(result.roles) else ''}; default specialist "
        f"{result.default_specialist!r})"
        + (f" → {target}" if target else "")
        + (f" (+ {', '.join(result.parts)})" if result.parts else "")
    )
    if args.derive_keywords:
        for role, hits, total in score_keywords(result, out_name):
            share = f"{100 * hits // total}%" if total else "n/a"
            out.err(
                f"  derived keywords for {role}: {hits}/{total} held-apart sentences "
                f"of its prompt route to it ({share})"
            )
    return 1 if has_errors(diags) else 0


def export_command(args: argparse.Namespace, out: Output) -> int:
    from modec.diagnostics import render_text
    from modec.interop.export import export_mode

    result = export_mode(args.mode, args.to, args.out)
    if result.diagnostics:
        out.err(render_text(result.diagnostics, color=out.color_err))
    if not result.ok:
        return 1
    for path in result.written:
        out.out(f"wrote {path}")
    return 0


def lint_foreign(out: Output, paths: list[Path], fmt: str) -> int:
    """``modec lint`` on another tool's files, through their importers; the exit code."""
    from modec.diagnostics import has_errors
    from modec.interop.importer import harvest_paths
    from modec.interop.lint import lint_foreign as lint

    diags = lint(paths)
    sources = harvest_paths(paths).texts if fmt == "text" else {}
    _render(out, diags, fmt, sources, err=False)
    return 1 if has_errors(diags) else 0
