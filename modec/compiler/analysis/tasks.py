"""Witness tasks and their truth under a condition (through :mod:`modec.compiler.semantics`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modec.compiler.ir import Expr, Rule, Scalar
from modec.compiler.semantics import MISSING, FieldLookup, compose_text
from modec.compiler.semantics import holds as _semantics_holds

__all__ = ["WitnessTask", "first_match", "holds"]


@dataclass(frozen=True)
class WitnessTask:
    """A concrete task, as the compiler can build it (the runtime's ``Task`` has these fields)."""

    title: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    complexity: int | None = None
    metadata: tuple[tuple[str, Scalar], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The non-empty fields, ready for ``Task.model_validate`` or JSON."""
        out: dict[str, Any] = {}
        if self.title:
            out["title"] = self.title
        if self.description or not (self.title or self.tags or self.metadata):
            out["description"] = self.description
        if self.tags:
            out["tags"] = list(self.tags)
        if self.complexity is not None:
            out["complexity"] = self.complexity
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

    def show(self) -> str:
        """Compact JSON for messages."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def fields(self, default_complexity: int) -> FieldLookup:
        """This task's field values, as :func:`modec.compiler.semantics.holds` reads them."""
        values: dict[str, object] = {
            "title": self.title,
            "description": self.description,
            "text": compose_text(self.title, self.description),
            "tags": self.tags,
            "complexity": self.complexity or default_complexity,
        }
        values.update((f"metadata.{k}", v) for k, v in self.metadata)
        return lambda name: values.get(name, MISSING)


def holds(expr: Expr, task: WitnessTask, default_complexity: int = 3) -> bool:
    """The truth of a condition for a task (the router's semantics, read off the IR)."""
    return _semantics_holds(expr, task.fields(default_complexity))


def first_match(rows: Sequence[Rule], task: WitnessTask, default_complexity: int) -> int | None:
    """The index of the first row whose condition holds for ``task``, or None."""
    value = task.fields(default_complexity)
    for i, rule in enumerate(rows):
        if rule.condition is not None and _semantics_holds(rule.condition, value):
            return i
    return None
