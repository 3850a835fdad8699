"""What every command writes: text and JSON on stdout, the one error printer on stderr, colour.

Conventions, the same on every command:

- ``--format text|json|…`` chooses the output, ``--json`` is ``--format json``.
- JSON is strict: never ``NaN`` or ``Infinity`` (``allow_nan=False``; the values are made
  finite where they are read).
- Errors are one line, ``error: <message>``, and at most one ``  = help: <what to do>`` line.
- Colour on a terminal, off when piped or under ``NO_COLOR``; ``--color always|never``.

This module imports nothing heavy: ``modec --help`` loads only it and :mod:`argparse`.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing is not imported at run time: `modec --help` pays for it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import IO, Final

__all__ = [
    "COLOR_CHOICES",
    "CliError",
    "Output",
    "Reported",
    "output_target",
    "use_color",
]

COLOR_CHOICES: Final = ("auto", "always", "never")

_STYLES: Final = {"error": "1;31", "warning": "1;33", "note": "1;36", "ok": "32", "bold": "1"}


class CliError(Exception):
    """A failure the command reports as one line (and a hint), exiting with ``code``.

    ``code`` is 1 for a problem found (bad input, a failed check), 2 for usage: a bad option,
    or an output the command cannot write.
    """

    def __init__(self, message: str, hint: str | None = None, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code


class Reported(Exception):
    """The problem is already on stderr (diagnostics, then a plain summary line): exit with
    ``code`` and print nothing more, so one mistake gives one error line."""

    def __init__(self, code: int = 1) -> None:
        super().__init__(code)
        self.code = code


def use_color(choice: str, stream: IO[str]) -> bool:
    """``always``/``never`` as said; ``auto``: a terminal, ``NO_COLOR`` unset, not ``TERM=dumb``."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Output:
    """The streams of one command run (looked up when it starts, so tests can swap them)."""

    def __init__(self, color: str = "auto") -> None:
        self.stdout: IO[str] = sys.stdout
        self.stderr: IO[str] = sys.stderr
        self.color = use_color(color, self.stdout)
        self.color_err = use_color(color, self.stderr)

    def paint(self, text: str, style: str, *, err: bool = False) -> str:
        """``text`` in ``style`` (error, warning, note, ok, bold) when colour is on."""
        on = self.color_err if err else self.color
        return f"\x1b[{_STYLES[style]}m{text}\x1b[0m" if on else text

    def out(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def err(self, text: str = "") -> None:
        self.stderr.write(text + "\n")

    def json(self, doc: object, *, indent: int | None = 2) -> None:
        """One JSON document on stdout: strict (no NaN/Infinity), UTF-8 as is."""
        import json

        self.out(json.dumps(doc, ensure_ascii=False, indent=indent, allow_nan=False, default=str))

    def json_err(self, doc: object) -> None:
        """One compact JSON document on stderr (the per-line errors of a batch)."""
        import json

        self.err(json.dumps(doc, ensure_ascii=False, allow_nan=False, default=str))

    def error(self, message: str, hint: str | None = None) -> None:
        """The one error printer: ``error: message`` and an optional ``= help:`` line."""
        first = message.splitlines()[0] if message else "failed"
        self.err(f"{self.paint('error', 'error', err=True)}: {first}")
        if hint:
            self.err(f"  = help: {hint}")

    def warning(self, message: str) -> None:
        self.err(f"{self.paint('warning', 'warning', err=True)}: {message}")


def output_target(path: str, default_name: str) -> Path:
    """Where ``--out PATH`` writes: into the folder when PATH ends in ``/`` or is a folder
    (as ``default_name``), else the file PATH. The folder must exist (CliError, exit 2)."""
    from pathlib import Path

    given = Path(path)
    if path.endswith(("/", os.sep)) or given.is_dir():
        if not given.is_dir():
            raise CliError(f"output folder {path} does not exist", "create it first", code=2)
        return given / default_name
    if not given.parent.is_dir():
        raise CliError(
            f"cannot write {path}: folder {given.parent} does not exist",
            "create the folder first, or pass another --out",
            code=2,
        )
    return given
