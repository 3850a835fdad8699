"""``modec serve``: the mode tools over MCP on stdin/stdout."""

from __future__ import annotations

import argparse

from modec.cli.inputs import path_arg
from modec.cli.output import CliError, Output

__all__ = ["register"]


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "serve",
        parents=[common],
        help="serve the mode tools over MCP (stdio)",
        description="Serve the mode tools over MCP on stdin/stdout (register it "
        "with an MCP client).",
    )
    p.add_argument(
        "--project",
        "-p",
        type=path_arg,
        default=".",
        metavar="DIR",
        help="project root whose .task_orchestrator/ the tools manage",
    )
    p.add_argument(
        "--db",
        metavar="URL",
        help="session database URL (default: $MODEC_DATABASE_URL, else the "
        "project's .task_orchestrator/modec.db)",
    )
    p.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace, out: Output) -> int:
    if not args.project.is_dir():
        what = "does not exist" if not args.project.exists() else "is not a folder"
        raise CliError(
            f"--project {args.project} {what}",
            "pass the project root whose .task_orchestrator/ the tools manage",
            code=2,
        )
    from modec.mcp_server import serve  # the mcp SDK loads only for `serve`

    serve(args.project, args.db)  # a ModecError is reported by the caller: exit 1
    return 0
