"""What an importer recovers from another tool's files, before it becomes a mode document.

Each tool module turns its files into a :class:`Harvest`: the roles with their original names
and places, the routing rules the files state explicitly, the routing examples the authors
wrote, and the diagnostics of what the tool itself would accept, drop or reject. The mode
writer (:mod:`modec.interop.document`) names, merges and writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from modec.diagnostics import Diagnostic, Span
from modec.interop.routing_text import Routing

__all__ = [
    "FORMATS",
    "ForeignRole",
    "ForeignRule",
    "ForeignTest",
    "Harvest",
    "RoleKind",
    "Tool",
    "delegation_rule",
    "point",
]

Tool = Literal["roo", "kilo", "claude", "copilot", "opencode", "crewai", "bmad"]

#: Every format ``modec import`` reads, with the tool's name as people write it.
FORMATS: dict[str, str] = {
    "roo": "Roo Code",
    "kilo": "Kilo Code",
    "claude": "Claude Code",
    "copilot": "GitHub Copilot",
    "opencode": "opencode",
    "crewai": "crewAI",
    "bmad": "BMAD",
}

RoleKind = Literal["specialist", "orchestrator", "fallback"]


def point(file: str, line: int, column: int = 1) -> Span:
    return Span.point(file, line, column)


@dataclass
class ForeignRole:
    """One agent, mode or crew member as the tool defines it.

    ``name`` is the tool's own identifier (a Roo slug, a Claude agent name, a crewAI key);
    ``description`` is the text the tool's LLM router reads to choose the role; ``prompt`` is
    the role's instructions. ``extras`` are the tool-only fields, kept verbatim under
    ``x_<tool>``. ``synthetic`` roles stand for something built into the tool (Roo's ``code``
    mode, Claude Code's main thread) that the files do not define.
    """

    name: str
    span: Span
    tool: Tool
    prompt: str
    description: str = ""
    kind: RoleKind = "specialist"
    expertise: list[str] = field(default_factory=list)
    approach: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    synthetic: bool = False
    #: Text that invokes the role explicitly in the tool (``@name``), if the tool has one.
    mention: str | None = None


@dataclass
class ForeignRule:
    """A routing rule the files state: ``when`` is a condition in modec's language."""

    name: str
    role: str
    when: str
    span: Span
    comment: str
    priority: int = 0
    heuristic: bool = False


@dataclass
class ForeignTest:
    """A routing example the author wrote: a task and the role (original name) it goes to."""

    task: str | dict[str, Any]
    role: str
    span: Span


@dataclass
class Harvest:
    """Everything recovered from the files of one tool."""

    tool: Tool
    files: list[str] = field(default_factory=list)
    roles: list[ForeignRole] = field(default_factory=list)
    rules: list[ForeignRule] = field(default_factory=list)
    tests: list[ForeignTest] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: display path -> decoded text, for rendering diagnostics with snippets.
    texts: dict[str, str] = field(default_factory=dict)
    #: names of other agents the files refer to (handoffs, permission.task, crewAI tasks),
    #: with where and what refers: checked once every file is read (MC711).
    references: list[tuple[str, Span, str]] = field(default_factory=list)

    def extend(self, other: Harvest) -> None:
        self.files += other.files
        self.roles += other.roles
        self.rules += other.rules
        self.tests += other.tests
        self.diagnostics += other.diagnostics
        self.texts.update(other.texts)
        self.references += other.references


def delegation_rule(role: ForeignRole, key: str, call: str) -> ForeignRule:
    """``metadata.<key> == "<name>"``: the tool's own delegation call names this role.

    Roo's ``new_task`` takes the target ``mode``; Claude Code's and opencode's Task tool take
    a ``subagent_type``; a host that forwards that argument as task metadata gets the role
    the tool would run, whatever the prose says.
    """
    from modec.grammar.printer import format_string

    value = format_string(role.name)
    return ForeignRule(
        name=f"{role.name}_delegated",
        role=role.name,
        when=f"metadata.{key} == {value}",
        span=role.span,
        comment=f"{call} names {role.name!r}",
    )


def marker_rules(h: Harvest, role: ForeignRole, routing: Routing, span: Span, where: str) -> None:
    """The rules of ``modec routes here …`` lines (an exported mode read back) for ``role``;
    the default-specialist line makes the role the fallback."""
    for i, (when, priority) in enumerate(routing.conditions):
        h.rules.append(
            ForeignRule(
                name=f"{role.name}_tasks" + (f"_{i + 1}" if i else ""),
                role=role.name,
                when=when,
                span=span,
                comment=f"written in {where} of {role.name!r}",
                priority=priority,
            )
        )
    if routing.default and role.kind == "specialist":
        role.kind = "fallback"
