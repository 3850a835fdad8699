"""BMAD agents: ``*.agent.yaml`` (``agent: {metadata, persona, critical_actions, menu}``).

The agent's name is the stem of ``metadata.id`` (else the file name); ``persona.role`` and
``identity`` make the role definition, ``principles`` its approach. Every ``menu`` item's
``trigger`` is an explicit routing signal (a person types it to start that workflow): the
rule ``text mentions "<trigger>"`` sends such a task to this agent. A trigger on several
agents is routed to the first (MC708).
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from modec.compiler.source import YNode
from modec.diagnostics import Diagnostic
from modec.grammar.printer import format_string
from modec.interop.model import ForeignRole, ForeignRule, Harvest
from modec.interop.reading import Text, describe, load_yaml, plain, text_of

__all__ = ["harvest"]


def harvest(text: Text) -> Harvest:
    """Read one BMAD agent file."""
    h = Harvest("bmad", files=[text.path], texts={text.path: text.text})
    root, problems = load_yaml(text.text, text.path)
    h.diagnostics += problems
    if root is None:
        return h
    agent = root.get("agent")
    if agent is None or agent.kind != "map":
        h.diagnostics.append(
            Diagnostic.make(
                "MC704",
                (agent or root).span,
                "BMAD cannot load this file: there is no agent "
                f"mapping{'' if agent is None else ' (it is ' + describe(agent) + ')'}",
                "write agent: {metadata: …, persona: …, menu: […]}",
            )
        )
        return h
    meta = _map(agent.get("metadata"))
    persona = _map(agent.get("persona"))
    ident = str(meta.get("id") or "")
    stem = (
        PurePath(ident).name.removesuffix(".md")
        if ident
        else PurePath(text.path).name.split("__")[-1].removesuffix(".agent.yaml")
    )
    name = re.sub(r"\.agent$", "", stem) or "agent"
    role_text = str(persona.get("role") or meta.get("title") or name)
    identity = str(persona.get("identity") or "")
    principles = persona.get("principles")
    approach = (
        [str(p) for p in principles]
        if isinstance(principles, list)
        else [line.strip("- ").strip() for line in str(principles).splitlines() if line.strip()]
        if principles
        else []
    )
    title = str(meta.get("title") or "")
    extras: dict[str, Any] = {str(k.raw): plain(v) for k, v in agent.items}
    role = ForeignRole(
        name=name,
        span=agent.span,
        tool="bmad",
        prompt="\n\n".join(p for p in (role_text, identity) if p),
        description=f"{title}: {role_text}" if title else role_text,
        approach=approach,
        extras=extras,
    )
    h.roles.append(role)
    _menu(h, role, agent.get("menu"))
    return h


def _map(node: YNode | None) -> dict[str, Any]:
    value = plain(node)
    return value if isinstance(value, dict) else {}


def _menu(h: Harvest, role: ForeignRole, menu: YNode | None) -> None:
    if menu is None:
        h.diagnostics.append(
            Diagnostic.make(
                "MC710",
                role.span,
                f"BMAD agent {role.name!r} has no menu: no trigger routes to it",
                "add menu: [{trigger: …, workflow: …, description: …}]",
            )
        )
        return
    if menu.kind != "seq":
        h.diagnostics.append(
            Diagnostic.make("MC704", menu.span, f"menu is {describe(menu)}, not a list of items")
        )
        return
    for item in menu.children:
        trigger = text_of(item.get("trigger")) if item.kind == "map" else None
        if not trigger:
            h.diagnostics.append(
                Diagnostic.make(
                    "MC704", item.span, "a menu item has no trigger: BMAD cannot offer it"
                )
            )
            continue
        word = trigger.strip().lstrip("*").lower()
        what = text_of(item.get("description")) or trigger
        h.rules.append(
            ForeignRule(
                f"{role.name}_{word}",
                role.name,
                f"text mentions {format_string(word)}",
                item.span,
                f"BMAD menu trigger {trigger!r} of {role.name!r}: {what}",
            )
        )
