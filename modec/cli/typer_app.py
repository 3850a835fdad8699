"""The command line as a Typer app: ``typer.testing.CliRunner().invoke(app, [...])`` runs
exactly what the ``modec`` command runs (:func:`modec.cli.program.run`), arguments untouched.

The console script never imports this module (Typer costs more start-up time than the whole
``modec --help`` budget); it exists for tests and for programs that embed modec's command
line in a Typer or Click application.
"""

from __future__ import annotations

import typer

from modec.cli.program import run

__all__ = ["app"]

app = typer.Typer(name="modec", add_completion=False, pretty_exceptions_enable=False)


@app.command(
    context_settings={
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "allow_interspersed_args": False,
        "help_option_names": [],
    }
)
def modec(ctx: typer.Context) -> None:
    """modec, the mode compiler (every argument is passed to :func:`modec.cli.program.run`)."""
    raise SystemExit(run(list(ctx.args)))
