"""``modec lsp``: the language server on stdin/stdout (the ``lsp`` extra)."""

from __future__ import annotations

import argparse

from modec.cli.output import Output

__all__ = ["register"]


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "lsp",
        parents=[common],
        help="run the language server for mode files (stdio)",
        description="Run the Language Server Protocol server on stdin/stdout: diagnostics as "
        "you type, quick fixes, completion, hover, definition, references, code lenses. "
        "Point your editor's LSP client at `modec lsp`.",
    )
    p.set_defaults(handler=lsp_command)


def lsp_command(args: argparse.Namespace, out: Output) -> int:
    from modec.lsp import main  # pygls loads only for `lsp`; a missing extra is a ModecError

    main()
    return 0
