"""Tasks from JSON lines: the one reader of task files (``modec route --input``, ``modec diff
--tasks``, anything else that takes a batch of tasks).

Each non-blank line is one task: a JSON string (the description) or a JSON object with the
:class:`~modec.runtime.router.Task` fields. Numbers must be finite: ``NaN``, ``Infinity`` and
literals that overflow a float (``1e999``) are refused, so a task read here can always be
written back as strict JSON.

>>> [(t.number, t.task and t.task.description, t.error)
...  for t in iter_task_lines(['"write the guide"', '', '[1]'])]
[(1, 'write the guide', None), (3, None, 'expected a string or an object, got list')]
>>> [t.error for t in iter_task_lines(['{"description": "x", "complexity": NaN}'])]
['NaN is not a finite JSON number']
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modec.diagnostics import ModecError
from modec.runtime.router import Task

__all__ = [
    "TaskFileError",
    "TaskLine",
    "iter_task_lines",
    "loads_finite",
    "read_task_file",
    "task_from_json",
    "validation_message",
]


class TaskFileError(ModecError):
    """A task file cannot be read, or one of its lines is not a task."""

    suggestion = "write one task per line: a JSON string, or an object with Task fields"


@dataclass(frozen=True, slots=True)
class TaskLine:
    """One non-blank line of a task file: its task, or why it is not one."""

    number: int
    task: Task | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"line": N, "error": reason}`` for a bad line, ``{"line": N, "task": {...}}``
        otherwise."""
        if self.task is None:
            return {"line": self.number, "error": self.error}
        return {"line": self.number, "task": self.task.model_dump(mode="json")}


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite JSON number")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite JSON number")


def loads_finite(text: str) -> Any:
    """``json.loads`` that refuses ``NaN``, ``Infinity`` and float overflow (ValueError)."""
    return json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)


def validation_message(exc: ValidationError) -> str:
    """A pydantic error as one line: ``field: reason; field: reason``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'task'}: {e['msg']}" for e in exc.errors()
    )


def task_from_json(raw: object) -> Task:
    """A task from a decoded JSON value: a string is a description. ValueError if invalid."""
    if isinstance(raw, str):
        return Task(description=raw)
    if not isinstance(raw, dict):
        raise ValueError(f"expected a string or an object, got {type(raw).__name__}")
    try:
        return Task.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(validation_message(exc)) from exc


def iter_task_lines(lines: Iterable[str]) -> Iterator[TaskLine]:
    """Every non-blank line as a :class:`TaskLine`; a bad line is reported, never raised."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            task = task_from_json(loads_finite(line))
        except ValueError as exc:
            yield TaskLine(number, None, str(exc))
            continue
        yield TaskLine(number, task)


def read_task_file(path: str | Path) -> list[Task]:
    """Every task of the file at ``path``; :class:`TaskFileError` names the first bad line
    (``path:N: …``), or says why the file cannot be read."""
    shown = str(path)
    try:
        with Path(path).open(encoding="utf-8", errors="strict") as handle:
            out = []
            for item in iter_task_lines(handle):
                if item.task is None:
                    raise TaskFileError(f"{shown}:{item.number}: not a task: {item.error}")
                out.append(item.task)
            return out
    except UnicodeDecodeError as exc:
        raise TaskFileError(f"{shown} is not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise TaskFileError(f"cannot read {shown}: {exc.strerror or exc}") from exc
