"""The ``modec`` parser and the one place a command's failure becomes a message and an exit code.

The command line is :mod:`argparse` (the standard library): ``modec --help`` must start in a
few times the interpreter's own start-up, and Typer with Rich and Click takes longer to import
than that whole budget. Each command group is a module with ``register(subparsers)``; the
heavy parts (compiler, router, database) are imported by the command that runs, never by the
parser.

Exit codes: 0 clean (or warnings only), 1 a problem found (diagnostics with errors, failed
tests, warnings with ``--strict``), 2 usage (a bad option, an output that cannot be written),
130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys

from modec._version import __version__
from modec.cli.output import COLOR_CHOICES, CliError, Output, Reported

TYPE_CHECKING = False  # typing is not imported at run time: `modec --help` pays for it
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, Final, NoReturn, TypeAlias

    Handler: TypeAlias = Callable[[argparse.Namespace, Output], int]

__all__ = ["COMMAND_GROUPS", "Parser", "add_format", "build_parser", "main", "run"]


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` gives it, without importing
    shutil (and the compression modules it loads) on every start."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno() if sys.__stdout__ else 1).columns
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(
            prog,
            indent_increment,
            max_help_position,
            width if width is not None else max(_columns() - 2, 40),
        )


class Parser(argparse.ArgumentParser):
    """argparse with modec's error line (one line, exit 2, no usage dump), and positionals
    taken anywhere among a command's options."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    _intermixing = False

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{self.prog}: {message}", f"see `{self.prog} --help`", code=2)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """A command's own parser takes positionals anywhere among its options
        (``route --title x --json "text"``); plain argparse stops at the first option."""
        if self._subparsers is not None or self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def add_format(parser: argparse.ArgumentParser, *choices: str) -> None:
    """``--format`` (first choice is the default) and ``--json`` as its alias."""
    kinds = choices or ("text", "json")
    parser.add_argument(
        "--format",
        "-f",
        dest="format",
        choices=kinds,
        default=kinds[0],
        metavar="|".join(kinds),
        help=f"output format (default: {kinds[0]})",
    )
    parser.add_argument(
        "--json", dest="format", action="store_const", const="json", help="same as --format json"
    )


def _common() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    common.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default=argparse.SUPPRESS,
        metavar="|".join(COLOR_CHOICES),
        help="colour: on a terminal unless NO_COLOR is set (default: auto)",
    )
    return common


#: Each command, by the module of its group (a test holds this to the groups' registrations).
COMMAND_GROUPS: Final = {
    "lint": "lint",
    "compile": "compiler",
    "route": "compiler",
    "table": "compiler",
    "test": "compiler",
    "analyse": "analysis",
    "analyze": "analysis",
    "diff": "analysis",
    "import": "interop",
    "export": "interop",
    "schema": "schema",
    "init": "runtime",
    "modes": "runtime",
    "session": "runtime",
    "serve": "serve",
    "lsp": "editor",
    "completion": "completion",
}
_GROUPS: Final = (
    "lint",
    "compiler",
    "analysis",
    "interop",
    "schema",
    "runtime",
    "serve",
    "editor",
    "completion",
)


def build_parser(command: str | None = None) -> Parser:
    """The whole command tree (cheap: no command module imports the compiler at load).

    With ``command``, the name of a command, only the group that holds it is registered: the
    command parses and prints its help exactly as in the whole tree, and a cold start does
    not build the other two dozen parsers.
    """
    from importlib import import_module

    common = _common()
    parser = Parser(
        prog="modec",
        parents=[common],
        description="modec, the mode compiler: lint, test, compile and explain "
        "orchestrator mode files; run sessions bound to compiled modes.",
    )
    parser.add_argument("--version", action="version", version=f"modec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    group = COMMAND_GROUPS.get(command) if command is not None else None
    for name in _GROUPS if group is None else (group,):
        import_module(f"modec.cli.{name}").register(sub, common)
    return parser


def _report(out: Output, exc: BaseException) -> int:
    """A failure as one error line (and its recovery hint); the exit code it deserves."""
    from modec.diagnostics import InvalidModeError, ModecError, render_text

    if isinstance(exc, InvalidModeError):
        if exc.diagnostics:
            out.err(render_text(exc.diagnostics, limit=10, color=out.color_err))
        out.error(exc.message, exc.suggestion)
        return 1
    if isinstance(exc, ModecError):  # a ModecError that is also a ValueError is a usage error
        out.error(exc.message, exc.suggestion or None)
        return 2 if isinstance(exc, ValueError) else 1
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        out.error(f"{where}{exc.strerror or exc}")
        return 2
    out.error(
        f"internal error: {type(exc).__name__}: {exc}",
        "this is a bug in modec; please report it with the command you ran "
        "(MODEC_TRACEBACK=1 shows the traceback)",
    )
    return 2


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv[0] if argv else None)
    try:
        args = parser.parse_args(argv)
    except CliError as exc:
        Output().error(exc.message, exc.hint)
        return exc.code
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    out = Output(getattr(args, "color", "auto"))
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        group = getattr(args, "parser", None)
        if group is None:  # bare `modec`: what it can do
            parser.print_help(out.stdout)
            return 2
        out.error(f"{group.prog}: a command is required", f"see `{group.prog} --help`")
        return 2
    try:
        return handler(args, out)
    except CliError as exc:
        out.error(exc.message, exc.hint)
        return exc.code
    except Reported as exc:
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        raise
    except Exception as exc:
        if os.environ.get("MODEC_TRACEBACK"):
            raise
        return _report(out, exc)


def main() -> NoReturn:
    """Console entry point (``modec``, ``python -m modec``)."""
    try:
        code = run()
        sys.stdout.flush()
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # `modec … | head`: stop quietly, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 1
    sys.exit(code)
