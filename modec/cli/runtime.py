"""``modec init``, ``modec modes`` and ``modec session …``: the runtime's commands.

The runtime (SQLAlchemy, diskcache) is imported only when one of them runs. Read-only
commands (``modes``, ``session list``) never create a database or ``.task_orchestrator/``.
"""

from __future__ import annotations

import argparse
import os
from contextlib import contextmanager

from modec.cli.inputs import add_task_options, path_arg, task_from_options
from modec.cli.output import CliError, Output

TYPE_CHECKING = False  # typing is not imported at run time: `modec --help` pays for it
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import Any, TypeAlias

    from modec.runtime.context import ModeContext
    from modec.runtime.lifecycle import ModeRuntime

    _Sub: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["register"]


def _project(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--project",
        "-p",
        type=path_arg,
        default=".",
        metavar="DIR",
        help="project root, holding .task_orchestrator/ (default: .)",
    )
    p.add_argument(
        "--db",
        metavar="URL",
        default=os.environ.get("MODEC_DATABASE_URL"),
        help="session database URL (default: $MODEC_DATABASE_URL, else the "
        "project's .task_orchestrator/modec.db)",
    )


def _session_parsers(sub: _Sub, common: argparse.ArgumentParser) -> None:
    from modec.cli.program import add_format

    def command(
        name: str, summary: str, handler: Any, *, sid: str | None = "required", formats: bool = True
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(
            name, parents=[common], help=summary, description=summary
        )
        if sid == "required":
            p.add_argument("session_id", metavar="SESSION", help="session id")
        elif sid == "optional":
            p.add_argument("session_id", nargs="?", metavar="SESSION", help="session id")
        _project(p)
        if formats:
            add_format(p)
        p.set_defaults(handler=handler)
        return p

    p = command(
        "start",
        "Start a session bound to a mode (creates .task_orchestrator/ if needed).",
        session_start,
        sid=None,
    )
    p.add_argument(
        "mode",
        nargs="?",
        metavar="MODE",
        help="mode name (in roles/, or bundled); default: by project type",
    )
    p.add_argument(
        "--id", dest="session_id", metavar="SESSION", help="session id (default: a new one)"
    )
    p = command("bind", "Bind a session to a mode (validated first).", session_bind)
    p.add_argument("mode", metavar="MODE", help="mode name (in roles/, or bundled)")
    p = command(
        "switch",
        "Switch a session to another mode, backing up the current binding first.",
        session_switch,
    )
    p.add_argument("mode", metavar="MODE", help="mode name (in roles/, or bundled)")
    p = command(
        "show",
        "Show a session's mode: specialists, custom roles, routing rules, recent history.",
        session_show,
    )
    p.add_argument(
        "--history", type=int, default=10, metavar="N", help="show N history rows (default: 10)"
    )
    p = command("route", "Route a task with the mode the session is bound to.", session_route)
    add_task_options(p)
    p.add_argument("--explain", action="store_true", help="show every row: fired or not, and why")
    command(
        "resume",
        "Re-validate a session's mode file: rebind if it changed, degrade if it broke.",
        session_resume,
    )
    command("end", "Terminate a session, backing up its binding to backups/.", session_end)
    command("list", "List the active sessions with their modes.", session_list, sid=None)
    p = command(
        "backup",
        "Back up a session's binding (or a mode file) to backups/.",
        session_backup,
        sid="optional",
    )
    p.add_argument("--mode", metavar="MODE", help="back up this mode file instead")
    p.add_argument("--name", metavar="NAME", help="backup file name")
    command("backups", "List the backups in backups/, newest first.", session_backups, sid=None)
    p = command(
        "restore",
        "Restore a backup's mode file into roles/ (validated first), optionally activating it.",
        session_restore,
        sid=None,
    )
    p.add_argument("backup", metavar="BACKUP", help="backup file name in backups/")
    p.add_argument(
        "--activate", action="store_true", help="switch the session to the restored mode"
    )
    p.add_argument(
        "--session", dest="session_id", metavar="SESSION", help="session to activate it for"
    )
    p.add_argument("--as", dest="as_mode", metavar="MODE", help="restore under this mode name")


def register(sub: _Sub, common: argparse.ArgumentParser) -> None:
    from modec.cli.program import add_format

    p = sub.add_parser(
        "init",
        parents=[common],
        help="create .task_orchestrator/ in a project",
        description="Create .task_orchestrator/ (roles/, backups/) in a project. Bundled "
        "modes are read in place; --templates copies them into roles/ to edit.",
    )
    p.add_argument(
        "directory",
        nargs="?",
        type=path_arg,
        default=".",
        metavar="DIR",
        help="project root (default: .)",
    )
    p.add_argument(
        "--templates",
        action="store_true",
        help="also copy the bundled modes into roles/ (never replacing a file)",
    )
    add_format(p)
    p.set_defaults(handler=init_command)

    p = sub.add_parser(
        "modes",
        parents=[common],
        help="list the project's modes",
        description="List the project's modes: valid or not (first error), "
        "specialists, current sessions. Exit 1 when a mode in roles/ does not "
        "compile.",
    )
    p.add_argument(
        "directory",
        nargs="?",
        type=path_arg,
        default=".",
        metavar="DIR",
        help="project root (default: .)",
    )
    p.add_argument(
        "--db",
        metavar="URL",
        default=os.environ.get("MODEC_DATABASE_URL"),
        help="session database URL (default: $MODEC_DATABASE_URL, else the "
        "project's .task_orchestrator/modec.db)",
    )
    add_format(p)
    p.set_defaults(handler=modes_command)

    p = sub.add_parser(
        "session",
        parents=[common],
        help="sessions bound to compiled modes",
        description="Sessions bound to compiled modes: start, bind, switch, "
        "route, resume, end, back up.",
    )
    p.set_defaults(parser=p)
    _session_parsers(
        p.add_subparsers(dest="session_command", metavar="COMMAND", parser_class=type(p)), common
    )


@contextmanager
def _runtime_errors() -> Iterator[None]:
    """Database errors become one line with what to check (ModecErrors are reported by the
    caller)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as exc:
        raise CliError(
            f"database: {exc}".splitlines()[0],
            "check the --db URL (or MODEC_DATABASE_URL) and that the server is up",
        ) from exc


def _folder(path: Path, name: str = "--project") -> Path:
    """``path`` if it is an existing folder; else CliError (exit 2): nothing is created."""
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a folder"
        raise CliError(
            f"{name} {path} {what}",
            "pass the project root (the folder that holds, or will hold, .task_orchestrator/)",
            code=2,
        )
    return path


@contextmanager
def _open_runtime(project: Path, db: str | None) -> Iterator[ModeRuntime]:
    """A ModeRuntime for the command, closed on exit."""
    from modec.runtime.lifecycle import ModeRuntime

    _folder(project)
    with _runtime_errors():
        runtime = ModeRuntime(project, db)
        try:
            yield runtime
        finally:
            runtime.close()


def _has_database(project: Path, db: str | None) -> bool:
    """True when a read-only command may open the database: one is named, or it exists."""
    from modec.runtime.project import ProjectLayout

    return db is not None or ProjectLayout.at(project).database.exists()


def _echo_context(out: Output, ctx: ModeContext, verb: str) -> None:
    status = "" if ctx.validation_status == "valid" else f" [{ctx.validation_status}]"
    out.out(f"{verb} session {ctx.session_id} to {ctx.mode_file} ({ctx.mode_hash}){status}")


def init_command(args: argparse.Namespace, out: Output) -> int:
    from modec.runtime.project import ProjectLayout, default_mode_name, detect_project_type

    if not args.directory.is_dir():
        raise CliError(
            f"{args.directory} is not a folder", "create it first, or pass another one", code=2
        )
    layout = ProjectLayout.at(args.directory)
    written = layout.ensure(templates=args.templates)
    kind = detect_project_type(layout.root)
    default = default_mode_name(layout.root)
    if args.format == "json":
        out.json(
            {
                "base": str(layout.base),
                "created": [str(p) for p in written],
                "modes": layout.mode_names(),
                "project_type": kind.value,
                "default_mode": default,
            }
        )
        return 0
    for path in written:
        out.out(f"created {path}")
    out.out(
        f"{layout.base}: {len(layout.mode_names())} mode(s) in roles/; "
        f"{kind.value} project, default mode {default}"
    )
    return 0


def modes_command(args: argparse.Namespace, out: Output) -> int:
    from modec.runtime.lifecycle import list_modes
    from modec.runtime.project import ProjectLayout, default_mode_name

    layout = ProjectLayout.at(_folder(args.directory, "project"))
    if not _has_database(args.directory, args.db):
        summaries = list_modes(layout)  # no database yet: nothing is bound, create nothing
    else:
        with _open_runtime(layout.root, args.db) as runtime:
            summaries = runtime.list_modes()
    default = default_mode_name(layout.root)
    if args.format == "json":
        out.json(
            {
                "project": str(layout.root),
                "default_mode": default,
                "modes": [m.to_dict() for m in summaries],
            }
        )
    else:
        if not layout.is_initialized():
            out.out(f"{layout.roles} does not exist: bundled modes only (run `modec init`)")
        for m in summaries:
            mark = "*" if m.current else " "
            where = "bundled" if m.bundled else "roles"
            count = "-" if m.specialist_count is None else str(m.specialist_count)
            valid = "valid" if m.valid else out.paint("INVALID", "error")
            line = f"{mark} {m.name:<32} {valid:<8} {count:>3} specialists  {where}"
            if m.name == default:
                line += "  (default)"
            if m.current:
                line += f"  sessions: {', '.join(m.sessions)}"
            out.out(line)
            if m.error:
                out.out(f"      {m.error}")
    return 1 if any(not m.valid and not m.bundled for m in summaries) else 0


def session_start(args: argparse.Namespace, out: Output) -> int:
    with _open_runtime(args.project, args.db) as runtime:
        if args.session_id is not None and runtime.sessions.get_session(args.session_id):
            raise CliError(
                f"session {args.session_id!r} already exists",
                f"resume it with `modec session resume {args.session_id}`, end it "
                f"with `modec session end {args.session_id}`, or pick another --id",
            )
        ctx = runtime.initialize_session(mode_file=args.mode, session_id=args.session_id)
    if args.format == "json":
        out.json(ctx.to_dict())
    else:
        _echo_context(out, ctx, "started")
    return 0


def session_bind(args: argparse.Namespace, out: Output) -> int:
    with _open_runtime(args.project, args.db) as runtime:
        ctx = runtime.bind(args.session_id, args.mode)
    if args.format == "json":
        out.json(ctx.to_dict())
    else:
        _echo_context(out, ctx, "bound")
    return 0


def _backup_path(backup: Any) -> str | None:
    return None if backup is None else str(backup.path)


def session_switch(args: argparse.Namespace, out: Output) -> int:
    with _open_runtime(args.project, args.db) as runtime:
        result = runtime.switch(args.session_id, args.mode)
    previous = result.previous
    if args.format == "json":
        out.json(
            {
                **result.context.to_dict(),
                "backup": _backup_path(result.backup),
                "previous": None
                if previous is None
                else {"mode_file": previous.mode_file, "mode_hash": previous.mode_hash},
            }
        )
        return 0
    _echo_context(out, result.context, "switched")
    if previous is not None:
        out.out(f"previous: {previous.mode_file} ({previous.mode_hash})")
    if result.backup is not None:
        out.out(f"backup: {result.backup.path}")
    return 0


def _history(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "action": h.action_type.value,
            "mode_file": h.mode_file,
            "mode_hash": h.mode_hash,
            "timestamp": h.timestamp.isoformat(),
            "success": h.success,
            "error_message": h.error_message,
        }
        for h in rows
    ]


def session_show(args: argparse.Namespace, out: Output) -> int:
    if args.history < 0:
        raise CliError("--history must be 0 or more", code=2)
    with _open_runtime(args.project, args.db) as runtime:
        ctx = runtime.context(args.session_id, refresh=True)
        rows = runtime.history(args.session_id, limit=args.history) if args.history else []
    if args.format == "json":
        out.json({**ctx.to_dict(), "history": _history(rows)})
        return 0
    out.out(f"session {ctx.session_id}")
    out.out(f"  mode      {ctx.mode_file} ({ctx.name or 'unnamed'})")
    out.out(f"  hash      {ctx.mode_hash}")
    out.out(f"  status    {ctx.validation_status.value}, bound {ctx.bound_at.isoformat()}")
    out.out(f"  specialists ({ctx.specialist_count}): {', '.join(ctx.specialist_roles)}")
    out.out(f"  custom roles: {', '.join(ctx.custom_roles) or '-'}")
    out.out("  routing rules:")
    for rule in ctx.routing_rules:
        review = f" (review: {', '.join(rule.secondary_review)})" if rule.secondary_review else ""
        out.out(f"    {rule.task_type:<24} -> {rule.required_specialist or '-'}{review}")
    if rows:
        out.out("  history:")
        for h in rows:
            outcome = "ok" if h.success else f"FAILED: {h.error_message}"
            out.out(
                f"    {h.timestamp.isoformat()} {h.action_type.value:<9} "
                f"{h.mode_file or '-'} {outcome}"
            )
    return 0


def session_route(args: argparse.Namespace, out: Output) -> int:
    from modec.cli.compiler import emit_decision

    if not (args.text or args.title):
        raise CliError(
            "session route: no task given", "give the task text (and/or --title)", code=2
        )
    task = task_from_options(args)
    with _open_runtime(args.project, args.db) as runtime:
        router = runtime.context(args.session_id).router
        emit_decision(out, router, task, args.explain, args.format == "json")
    return 0


def session_resume(args: argparse.Namespace, out: Output) -> int:
    with _open_runtime(args.project, args.db) as runtime:
        result = runtime.resume(args.session_id)
    if args.format == "json":
        out.json(
            {**result.context.to_dict(), "outcome": result.outcome.value, "error": result.error}
        )
    else:
        _echo_context(out, result.context, f"resumed ({result.outcome.value})")
    if result.error:
        out.warning(result.error)
    return 0


def session_end(args: argparse.Namespace, out: Output) -> int:
    with _open_runtime(args.project, args.db) as runtime:
        result = runtime.terminate(args.session_id)
    if args.format == "json":
        out.json(
            {
                "session_id": args.session_id,
                "backup": _backup_path(result.backup),
                "error": result.error,
            }
        )
    else:
        out.out(f"ended session {args.session_id}")
        if result.backup is not None:
            out.out(f"backup: {result.backup.path}")
    if result.error:
        out.warning(result.error)
    return 0


def session_list(args: argparse.Namespace, out: Output) -> int:
    infos = []
    # no database: no session, and none is created
    if _has_database(_folder(args.project), args.db):
        with _open_runtime(args.project, args.db) as runtime:
            infos = runtime.status()
    if args.format == "json":
        out.json([info.to_dict() for info in infos])
        return 0
    if not infos:
        out.out("no active sessions")
    for info in infos:
        mode = info.mode_info or {}
        desc = (
            (
                f"{mode.get('mode_file')} [{mode.get('validation_status')}] "
                f"{mode.get('specialist_count', '?')} specialists"
            )
            if mode
            else "(no mode)"
        )
        if mode.get("error"):
            desc += f" error: {mode['error']}"
        out.out(f"{info.session.session_id}  {desc}")
    return 0


def session_backup(args: argparse.Namespace, out: Output) -> int:
    if (args.session_id is None) == (args.mode is None):
        raise CliError("give a session id or --mode (one of them)", code=2)
    with _open_runtime(args.project, args.db) as runtime:
        backup = runtime.backup(args.session_id, mode_file=args.mode, name=args.name)
    if args.format == "json":
        out.json(backup.to_dict())
    else:
        out.out(f"backup: {backup.path}")
    return 0


def session_backups(args: argparse.Namespace, out: Output) -> int:
    with _open_runtime(args.project, args.db) as runtime:
        found = runtime.list_backups()
    if args.format == "json":
        out.json([b.to_dict() for b in found])
        return 0
    for b in found:
        session = f" session {b.session_id}" if b.session_id else ""
        out.out(f"{b.name}  {b.created_at.isoformat()} {b.reason:<9} {b.mode_file}{session}")
    return 0


def session_restore(args: argparse.Namespace, out: Output) -> int:
    with _open_runtime(args.project, args.db) as runtime:
        result = runtime.restore(
            args.backup, args.activate, session_id=args.session_id, mode_file=args.as_mode
        )
    if args.format == "json":
        out.json(
            {
                "path": str(result.path),
                "mode_file": result.mode_file,
                "mode_hash": result.mode_hash,
                "context": None if result.context is None else result.context.to_dict(),
            }
        )
        return 0
    out.out(f"restored {result.path} ({result.mode_hash})")
    if result.context is not None:
        _echo_context(out, result.context, "switched")
    return 0
