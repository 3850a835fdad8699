"""GitHub Copilot custom chat modes and agents: ``*.chatmode.md``, ``*.agent.md``.

VS Code reads the frontmatter (``description``, ``tools``, ``model``; agents also ``name``,
``handoffs``, ``target``, ``argument-hint``, ``mcp-servers``) and uses the body as the
instructions; the name is ``name`` or the file name without ``.chatmode.md``/``.agent.md``.
Copilot has no router of its own between custom agents (a person picks one), so the only
explicit routing signal is a ``modec routes here when:`` line; ``handoffs`` are kept under
``x_copilot`` and checked (MC711). Copilot's built-in Agent mode is the fallback.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Final

from modec.diagnostics import Diagnostic
from modec.interop.frontmatter import read_agent_file
from modec.interop.model import ForeignRole, Harvest, delegation_rule, marker_rules
from modec.interop.reading import Text
from modec.interop.routing_text import split_rules

__all__ = ["FALLBACK", "harvest", "role_name"]

FALLBACK: Final = (
    "agent",
    "GitHub Copilot's built-in Agent mode: every task no custom agent is chosen for.",
)
_FIELDS: Final = frozenset(
    {
        "name",
        "description",
        "tools",
        "model",
        "handoffs",
        "target",
        "argument-hint",
        "mcp-servers",
        "infer",
    }
)


def role_name(path: str) -> str:
    """The agent's name from its file name (flattened corpus names keep the last part)."""
    name = PurePath(path).name.split("__")[-1]
    for suffix in (".chatmode.md", ".agent.md", ".md"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def harvest(text: Text) -> Harvest:
    """Read one Copilot chat mode or agent file."""
    h = Harvest("copilot", files=[text.path], texts={text.path: text.text})
    agent = read_agent_file(text)
    h.diagnostics += agent.diagnostics
    if agent.present and not agent.valid:
        h.diagnostics.append(
            Diagnostic.make(
                "MC704",
                agent.span(),
                "GitHub Copilot cannot read this frontmatter (not valid "
                "YAML): the mode loses its description and tools; modec recovered them",
                "fix the YAML between the --- lines",
            )
        )
    name = agent.fields.get("name")
    name = name.strip() if isinstance(name, str) and name.strip() else role_name(text.path)
    description = agent.fields.get("description")
    description = description if isinstance(description, str) else ""
    prose, routing = split_rules(description)
    extras: dict[str, Any] = {"name": name}
    for key, value in agent.fields.items():
        if key == "description" or key == "name":
            continue
        extras[key] = value
        if key not in _FIELDS:
            h.diagnostics.append(
                Diagnostic.make(
                    "MC706",
                    agent.span(key),
                    f"GitHub Copilot ignores the frontmatter key {key!r}",
                    "keys: " + ", ".join(sorted(_FIELDS)),
                )
            )
    tools = agent.fields.get("tools")
    if tools is not None and not isinstance(tools, list):
        h.diagnostics.append(
            Diagnostic.make(
                "MC709",
                agent.span("tools"),
                "tools is not a list of tool names",
                "write tools: ['codebase', 'search']",
            )
        )
    if not prose.strip():
        h.diagnostics.append(
            Diagnostic.make(
                "MC710",
                agent.span("description"),
                f"{name!r} has no description: nothing tells "
                "a router (or a person) when to pick it",
                "add description: '…'",
            )
        )
    role = ForeignRole(
        name=name,
        span=agent.span("description"),
        tool="copilot",
        prompt=agent.body.strip() or prose,
        description=prose.strip(),
        extras=extras,
    )
    h.roles.append(role)
    h.rules.append(delegation_rule(role, "agent", "a Copilot handoff (agent: …)"))
    marker_rules(h, role, routing, agent.span("description"), "the description")
    handoffs = agent.fields.get("handoffs")
    if isinstance(handoffs, list):
        for item in handoffs:
            if isinstance(item, dict) and isinstance(item.get("agent"), str):
                h.references.append((item["agent"], agent.span("handoffs"), f"handoff of {name!r}"))
    return h
