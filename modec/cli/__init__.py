"""The ``modec`` command line: a thin shell over the compiler and the runtime.

One module per command group (:mod:`~modec.cli.lint`, :mod:`~modec.cli.compiler`,
:mod:`~modec.cli.analysis`, :mod:`~modec.cli.schema`, :mod:`~modec.cli.runtime`,
:mod:`~modec.cli.serve`, :mod:`~modec.cli.completion`); the parser and the exit codes live in
:mod:`~modec.cli.program`, what is written and how in :mod:`~modec.cli.output`.

``run(argv)`` returns the exit code; ``main()`` is the console script. ``app`` is the same
command line as a Typer app, for ``typer.testing.CliRunner`` and for embedding in a Typer
program (loaded on first use; needs Typer, which the ``test`` extra installs).
"""

from __future__ import annotations

from modec.cli.program import build_parser, main, run

TYPE_CHECKING = False  # typing is not imported at run time: `modec --help` pays for it
if TYPE_CHECKING:
    from typing import Any

__all__ = ["app", "build_parser", "main", "run"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from modec.cli.typer_app import app

        return app
    raise AttributeError(f"module 'modec.cli' has no attribute {name!r}")
