"""What the commands read: mode files under paths, a router from a mode or an artifact, a task
from options. The compiler and the router are imported only by the functions that need them,
so ``modec --help`` loads neither (``modec route`` on an artifact usually loads neither too:
:mod:`modec.runtime.light`)."""

from __future__ import annotations

import argparse

from modec.cli.output import CliError, Output, Reported

TYPE_CHECKING = False  # typing is not imported at run time: `modec --help` pays for it
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Final

    from modec.compiler.pipeline import Compilation
    from modec.runtime.router import Router, Task

__all__ = [
    "MODE_SUFFIXES",
    "ModeFiles",
    "add_task_options",
    "collect_mode_files",
    "load_router_from",
    "metadata_options",
    "path_arg",
    "print_compilation_errors",
    "task_from_options",
]

MODE_SUFFIXES: Final = (".yaml", ".yml")


def path_arg(text: str) -> Path:
    """An option's or argument's path (argparse ``type=``; pathlib loads when one is given)."""
    from pathlib import Path

    return Path(text)


class ModeFiles:
    """The mode files under the given paths, and the folders that held none."""

    __slots__ = ("empty", "files")

    def __init__(self, files: list[Path], empty: list[Path]) -> None:
        self.files = files
        self.empty = empty

    def warn_empty(self, out: Output) -> bool:
        """Warn once per folder without a mode file; True when there was one."""
        for folder in self.empty:
            out.warning(f"{folder} holds no mode file (*.yaml, *.yml)")
        return bool(self.empty)


def collect_mode_files(paths: list[Path]) -> ModeFiles:
    """Files as given, and every ``*.yaml``/``*.yml`` below each folder, sorted, once each."""
    files: list[Path] = []
    empty: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in MODE_SUFFIXES and p.is_file())
            files.extend(found)
            if not found:
                empty.append(path)
        else:
            files.append(path)
    return ModeFiles(list(dict.fromkeys(files)), empty)


def print_compilation_errors(out: Output, c: Compilation) -> None:
    """A compilation's diagnostics on stderr, rustc style."""
    if c.diagnostics:
        from modec.diagnostics import render_text

        out.err(render_text(c.diagnostics, c.sources, color=out.color_err))


def load_router_from(out: Output, mode: Path, data: bytes | None = None) -> Router:
    """A router from a mode file (compiled now) or a compiled artifact (``.modec``, any other
    suffix; ``data``: its bytes, if already read); CliError (exit 1) when it cannot be read
    or does not compile."""
    if mode.suffix not in MODE_SUFFIXES:
        from modec.compiler.artifact import Artifact, CorruptArtifactError
        from modec.runtime.router import load_router

        try:
            if data is None:
                data = mode.read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read {mode}: {exc.strerror or exc}") from exc
        try:
            return load_router(Artifact.from_bytes(data))
        except CorruptArtifactError as exc:
            raise CliError(
                f"{mode}: {exc.message}", exc.suggestion or "recompile it with `modec compile`"
            ) from exc
    from modec.compiler.pipeline import compile_path
    from modec.runtime.router import load_router

    c = compile_path(mode, display=str(mode))
    if not c.ok or c.artifact is None:
        print_compilation_errors(out, c)
        out.err(f"{mode}: does not compile")
        raise Reported(1)
    return load_router(c.artifact)


def add_task_options(parser: argparse.ArgumentParser) -> None:
    """TEXT, --title, --tag, --complexity, --metadata: one task from the command line."""
    parser.add_argument("text", nargs="?", metavar="TEXT", help="the task description")
    parser.add_argument("--title", metavar="TEXT", help="the task title")
    parser.add_argument(
        "--tag",
        "--tags",
        dest="tags",
        action="append",
        metavar="TAG",
        help="a tag (repeat for more)",
    )
    parser.add_argument(
        "--complexity",
        metavar="LEVEL",
        help="1-5, or trivial, simple, moderate, complex, very_complex",
    )
    parser.add_argument(
        "--metadata",
        action="append",
        metavar="KEY=VALUE",
        help="a metadata entry; VALUE is JSON if it parses, else text (repeat)",
    )


def _finite(text: str) -> float:
    import math

    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite JSON number")
    return value


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not a finite JSON number")


def _scalar(text: str) -> str | int | float | bool:
    """A ``--metadata`` value: a JSON scalar if it parses as one (finite numbers only, as
    :func:`modec.runtime.taskfile.loads_finite` reads task files), else the text."""
    import json

    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_refuse)
    except ValueError:
        return text
    return value if isinstance(value, str | int | float | bool) else text


def metadata_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--metadata KEY=VALUE`` entries; CliError (exit 2) for a malformed one."""
    meta: dict[str, Any] = {}
    for item in args.metadata or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"--metadata {item!r} is not KEY=VALUE", code=2)
        meta[key] = _scalar(value)
    return meta


def task_from_options(args: argparse.Namespace) -> Task:
    """The task the options describe; CliError (exit 2) for a malformed option."""
    from pydantic import ValidationError

    from modec.runtime.router import Task
    from modec.runtime.taskfile import validation_message

    meta = metadata_options(args)
    level: int | str | None = None
    if args.complexity is not None:
        level = int(args.complexity) if args.complexity.isdigit() else args.complexity
    try:
        return Task(
            title=args.title or "",
            description=args.text or "",
            tags=tuple(args.tags or ()),
            complexity=level,
            metadata=meta,
        )
    except ValidationError as exc:
        raise CliError(f"invalid task: {validation_message(exc)}", code=2) from exc
