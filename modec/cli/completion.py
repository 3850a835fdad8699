"""``modec completion bash|zsh|tcsh``: a shell completion script, generated from the parser
by shtab (``eval "$(modec completion bash)"``, or save it where the shell loads completions)."""

from __future__ import annotations

import argparse

from modec.cli.output import Output

__all__ = ["SHELLS", "register"]

SHELLS = ("bash", "zsh", "tcsh")


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "completion",
        parents=[common],
        help="print a shell completion script",
        description="Print a shell completion script for modec. Bash: "
        'eval "$(modec completion bash)" in ~/.bashrc; zsh: save the output '
        "as _modec in a folder of $fpath.",
    )
    p.add_argument("shell", choices=SHELLS, metavar="|".join(SHELLS), help="the shell")
    p.set_defaults(handler=completion_command)


def completion_command(args: argparse.Namespace, out: Output) -> int:
    import shtab

    from modec.cli.program import build_parser

    out.out(shtab.complete(build_parser(), shell=args.shell).rstrip("\n"))
    return 0
