"""``modec analyse`` (row analysis) and ``modec diff`` (impact of a mode change)."""

from __future__ import annotations

import argparse

from modec.cli.inputs import collect_mode_files, path_arg, print_compilation_errors
from modec.cli.output import CliError, Output, Reported

TYPE_CHECKING = False  # typing is not imported at run time: `modec --help` pays for it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from modec.compiler.pipeline import Compilation
    from modec.runtime.router import Router, Task

__all__ = ["register"]


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    from modec.cli.program import add_format

    p = sub.add_parser(
        "analyse",
        aliases=["analyze"],
        parents=[common],
        help="row analysis: dead rows, overlaps, keyword traps",
        description="Row analysis: which rows can fire, dead rows, overlaps, "
        "keyword traps, and the bounds.",
    )
    p.add_argument("paths", nargs="+", type=path_arg, metavar="PATH", help="mode files or folders")
    p.add_argument(
        "--builtins",
        action="store_true",
        help="also report findings about the classic builtin keyword lists, which "
        "version-1 files get without writing them",
    )
    p.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    add_format(p)
    p.set_defaults(handler=analyse_command)

    p = sub.add_parser(
        "diff",
        parents=[common],
        help="impact of a mode change on routing",
        description="Impact of a mode change: every task whose task type or specialist changes.",
    )
    p.add_argument("old", type=path_arg, metavar="OLD", help="the mode file as it was")
    p.add_argument("new", type=path_arg, metavar="NEW", help="the mode file as it is now")
    p.add_argument(
        "--tasks",
        metavar="FILE",
        help="JSON lines of tasks to route through both; without it, witness "
        "tasks are synthesized for every changed row",
    )
    p.add_argument(
        "--fail-on-change",
        action="store_true",
        help="exit 1 when any task changes type or specialist",
    )
    p.add_argument(
        "--examples",
        type=int,
        default=3,
        metavar="N",
        help="examples shown per change (default: 3)",
    )
    add_format(p)
    p.set_defaults(handler=diff_command)


# --------------------------------------------------------------------------- analyse


def _analysis_doc(f: Path, report: Any, diags: list[Any]) -> dict[str, Any]:
    from modec.diagnostics import sort_diagnostics

    return {
        "file": str(f),
        "rows": [
            {
                "name": v.name,
                "status": v.status,
                "covered_by": list(v.covered_by),
                "reason": v.reason,
            }
            for v in report.rows
        ],
        "fallback_reachable": report.fallback_reachable,
        "overlaps": [
            {"rows": [o.first, o.second], "witness": o.witness.to_dict()} for o in report.overlaps
        ],
        "skipped": report.skipped,
        "stats": report.stats,
        "diagnostics": [d.to_dict() for d in sort_diagnostics(diags)],
    }


def _analysis_summary(out: Output, f: Path, report: Any) -> None:
    counts = {s: sum(v.status == s for v in report.rows) for s in ("fires", "never", "unknown")}
    stats = report.stats
    out.out(
        f"{f}: {len(report.rows)} rows ({counts['fires']} can fire, {counts['never']} never "
        f"fire, {counts['unknown']} undecided); fallback "
        f"{'reachable' if report.fallback_reachable else 'unreachable'}; "
        f"{int(stats['queries'])} SAT queries over {int(stats['atoms'])} atoms in "
        f"{stats['seconds'] * 1000:.0f} ms"
    )
    out.out("  skipped: " + ("; ".join(report.skipped) if report.skipped else "nothing"))


def analyse_command(args: argparse.Namespace, out: Output) -> int:
    from modec.compiler.analysis import AnalysisOptions, analyse
    from modec.compiler.checks import run_checks
    from modec.compiler.pipeline import compile_path
    from modec.diagnostics import Severity, render_text

    found = collect_mode_files(args.paths)
    failed = found.warn_empty(out)
    for f in found.files:
        c = compile_path(f, until="build", display=str(f))
        if c.mode is None:
            print_compilation_errors(out, c)
            failed = True
            continue
        report = analyse(c.mode, c.sources, AnalysisOptions(builtins=args.builtins))
        diags = [*c.diagnostics, *run_checks(c.mode), *report.diagnostics]
        errors = any(d.is_error for d in diags)
        failed |= errors or (args.strict and any(d.severity is Severity.WARNING for d in diags))
        if args.format == "json":
            out.json(_analysis_doc(f, report, diags), indent=None)
            continue
        if diags:
            out.out(render_text(diags, c.sources, color=out.color))
        _analysis_summary(out, f, report)
    return 1 if failed else 0


# --------------------------------------------------------------------------- diff


def _decide(router: Router) -> Any:
    from modec.runtime.router import AmbiguousRouteError

    def decide(task: Task) -> tuple[str, str]:
        try:
            d = router.route(task)
        except AmbiguousRouteError:
            return ("<ambiguous>", "-")
        return (d.task_type, d.specialist or "-")

    return decide


def _shown(task: Task) -> dict[str, Any]:
    """A task as the diff's examples show it: its non-empty fields."""
    return {k: v for k, v in task.model_dump(mode="json").items() if v}


def _compiled(out: Output, path: Path) -> Compilation:
    from modec.compiler.pipeline import compile_path

    c = compile_path(path, display=str(path))
    if not c.ok or c.mode is None or c.artifact is None:
        print_compilation_errors(out, c)
        out.err(f"{path}: does not compile")
        raise Reported(1)
    return c


def _print_diff(out: Output, args: argparse.Namespace, doc: dict[str, Any]) -> None:
    import json

    out.out(f"old {args.old}  {doc['old']['mode_hash']}")
    out.out(f"new {args.new}  {doc['new']['mode_hash']}")
    out.out(
        "rows changed: "
        + (
            ", ".join(f"{r['name']} ({', '.join(r['changes'])})" for r in doc["rows_changed"])
            or "none"
        )
    )
    total, changed = doc["tasks"], doc["changed"]
    share = 100.0 * changed / total if total else 0.0
    out.out(f"{total} tasks ({doc['tasks_from']}): {changed} changed ({share:.1f}%)")
    for pair in doc["pairs"]:
        was, now = pair["from"], pair["to"]
        out.out(
            f"  {was['task_type']} -> {now['task_type']}   "
            f"{was['specialist']} -> {now['specialist']}   {pair['count']} task(s)"
        )
        for shown in pair["examples"]:
            text = (
                json.dumps(shown["description"], ensure_ascii=False)
                if set(shown) == {"description"}
                else json.dumps(shown, ensure_ascii=False, allow_nan=False)
            )
            out.out(f"      {text}")


def diff_command(args: argparse.Namespace, out: Output) -> int:
    from modec.compiler.analysis import changed_rows, impact, synthesize_tasks
    from modec.runtime.router import Task, load_router
    from modec.runtime.taskfile import read_task_file

    if args.examples < 0:
        raise CliError("--examples must be 0 or more", code=2)
    a, b = _compiled(out, args.old), _compiled(out, args.new)
    assert a.mode is not None and b.mode is not None and a.artifact and b.artifact
    rows = changed_rows(a.mode, b.mode)
    batch: list[tuple[Task, dict[str, Any]]]
    if args.tasks is not None:
        batch = [(task, _shown(task)) for task in read_task_file(args.tasks)]
        source = str(args.tasks)
    else:
        batch = []
        for w, why in synthesize_tasks(a.mode, b.mode):
            shown = w.to_dict()
            batch.append((Task.model_validate(shown), {**shown, "why": why}))
        source = "synthesized from the changed rows"
    report = impact(batch, _decide(load_router(a.artifact)), _decide(load_router(b.artifact)))
    doc = {
        "old": {"file": str(args.old), "mode_hash": a.artifact.mode_hash},
        "new": {"file": str(args.new), "mode_hash": b.artifact.mode_hash},
        "tasks_from": source,
        "rows_changed": [{"name": r.name, "changes": list(r.changes)} for r in rows],
        **report.to_dict(args.examples),
    }
    if args.format == "json":
        out.json(doc, indent=None)
    else:
        _print_diff(out, args, doc)
    return 1 if args.fail_on_change and report.changed else 0
