"""opencode agents: ``.opencode/agent(s)/*.md`` and the ``agent`` map of ``opencode.json``.

An agent is named by its file stem (or its key in ``opencode.json``); its frontmatter has
``description`` (required for subagents: the primary agent picks a subagent by it), ``mode``
(``primary``, ``subagent`` or ``all``, default ``all``), ``model``, ``temperature``,
``tools`` (a map of tool name → bool), ``permission`` and ``prompt``. Explicit routing
signals: ``@name`` mentions (how a user calls a subagent) and ``permission.task``, which
names the subagents a primary agent may start: that agent is the orchestrator. opencode's
default primary agent ``build`` is the fallback (synthetic when the files do not define it).
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any, Final

from modec.diagnostics import Diagnostic, Span
from modec.interop.claude import mention_rule
from modec.interop.frontmatter import read_agent_file
from modec.interop.model import ForeignRole, Harvest, delegation_rule, marker_rules
from modec.interop.reading import Text, describe, load_yaml, plain
from modec.interop.routing_text import split_rules

__all__ = ["FALLBACK", "KNOWN_TOOLS", "harvest"]

FALLBACK: Final = (
    "build",
    "opencode's default primary agent: every task no subagent is chosen for.",
)
#: opencode's built-in tools; MCP tools are ``server_tool`` names, usually given as globs.
KNOWN_TOOLS: Final = frozenset(
    {
        "bash",
        "edit",
        "write",
        "read",
        "grep",
        "glob",
        "list",
        "patch",
        "todowrite",
        "todoread",
        "webfetch",
        "websearch",
        "task",
        "lsp",
        "skill",
        "multiedit",
        "codesearch",
    }
)
_FIELDS: Final = frozenset(
    {
        "description",
        "mode",
        "model",
        "temperature",
        "top_p",
        "tools",
        "permission",
        "prompt",
        "disable",
        "color",
        "maxSteps",
        "name",
        "options",
        "hidden",
    }
)
_MODES: Final = ("primary", "subagent", "all")


def harvest(text: Text) -> Harvest:
    """Read an opencode agent Markdown file or an ``opencode.json``."""
    if PurePath(text.path).name.lower().endswith((".json", ".jsonc")):
        return _harvest_json(text)
    h = Harvest("opencode", files=[text.path], texts={text.path: text.text})
    agent = read_agent_file(text)
    h.diagnostics += agent.diagnostics
    if agent.present and not agent.valid:
        h.diagnostics.append(
            Diagnostic.make(
                "MC704",
                agent.span(),
                "opencode cannot load this agent: its frontmatter is not "
                "valid YAML; modec recovered what it could",
                "fix the YAML between the --- lines",
            )
        )
    name = PurePath(text.path).name.split("__")[-1].removesuffix(".md")
    fields = dict(agent.fields)
    if agent.body.strip():
        fields.setdefault("prompt", agent.body.strip())
    _agent(h, name, fields, {k: agent.span(k) for k in fields} | {"": agent.span()})
    return h


def _harvest_json(text: Text) -> Harvest:
    h = Harvest("opencode", files=[text.path], texts={text.path: text.text})
    root, problems = load_yaml(_strip_jsonc(text.text), text.path)
    h.diagnostics += problems
    if root is None:
        return h
    agents = root.get("agent")
    if agents is None or agents.kind != "map":
        if agents is not None:
            h.diagnostics.append(
                Diagnostic.make(
                    "MC705",
                    agents.span,
                    f"opencode rejects this config: agent is {describe(agents)}, not a mapping",
                )
            )
        return h
    for key, value in agents.items:
        if value.kind != "map":
            h.diagnostics.append(
                Diagnostic.make(
                    "MC705",
                    value.span,
                    f"opencode rejects agent {key.raw!r}: it is {describe(value)}, not a mapping",
                )
            )
            continue
        spans: dict[str, Span] = {str(k.raw): k.span for k, _ in value.items}
        spans[""] = key.span
        _agent(h, str(key.raw), plain(value), spans)
    return h


def _strip_jsonc(text: str) -> str:
    """``//`` line comments blanked (same length, so positions hold), as opencode.jsonc."""
    return re.sub(
        r'("(?:\\.|[^"\\])*")|//[^\n]*', lambda m: m.group(1) or " " * len(m.group(0)), text
    )


def _agent(h: Harvest, name: str, fields: dict[str, Any], spans: dict[str, Span]) -> None:
    at = spans[""]
    description = fields.get("description")
    description = description if isinstance(description, str) else ""
    prose, routing = split_rules(description)
    mode = fields.get("mode", "all")
    if mode not in _MODES:
        h.diagnostics.append(
            Diagnostic.make(
                "MC705",
                spans.get("mode", at),
                f"opencode rejects mode {mode!r} of {name!r}",
                "mode is primary, subagent or all",
            )
        )
    if not prose.strip() and mode != "primary":
        h.diagnostics.append(
            Diagnostic.make(
                "MC710",
                spans.get("description", at),
                f"subagent {name!r} has no description: "
                "the primary agent cannot know when to call it",
                "add description: '…'",
            )
        )
    extras: dict[str, Any] = {"name": name}
    for key, value in fields.items():
        if key in ("description", "prompt"):
            continue
        extras[key] = value
        if key not in _FIELDS:
            h.diagnostics.append(
                Diagnostic.make(
                    "MC706",
                    spans.get(key, at),
                    f"opencode ignores the agent key {key!r}",
                    "keys: " + ", ".join(sorted(_FIELDS)),
                )
            )
    _check_tools(h, fields.get("tools"), spans.get("tools", at))
    delegates = _task_permission(h, name, fields.get("permission"), spans.get("permission", at))
    prompt = fields.get("prompt")
    role = ForeignRole(
        name=name,
        span=at,
        tool="opencode",
        prompt=prompt.strip() if isinstance(prompt, str) and prompt.strip() else prose,
        description=prose.strip(),
        extras=extras,
        mention="@" + name,
        kind="orchestrator" if delegates else "fallback" if name == "build" else "specialist",
    )
    h.roles.append(role)
    if mode != "primary":
        h.rules.append(mention_rule(role, [f"@{name}"], f"an explicit @{name} mention"))
        h.rules.append(
            delegation_rule(role, "subagent_type", "opencode's task tool (subagent_type=…)")
        )
    marker_rules(h, role, routing, spans.get("description", at), "the description")


def _check_tools(h: Harvest, tools: Any, at: Span) -> None:
    if tools is None:
        return
    if not isinstance(tools, dict):
        h.diagnostics.append(
            Diagnostic.make(
                "MC709",
                at,
                "tools is not a map of tool name to true/false",
                "write tools: {write: false, bash: true}",
            )
        )
        return
    for tool, on in tools.items():
        if not isinstance(on, bool):
            h.diagnostics.append(Diagnostic.make("MC709", at, f"tools.{tool} is not true or false"))
        elif "*" not in tool and "_" not in tool and tool not in KNOWN_TOOLS:
            h.diagnostics.append(
                Diagnostic.make(
                    "MC709",
                    at,
                    f"opencode has no tool {tool!r}",
                    "built-in tools: " + ", ".join(sorted(KNOWN_TOOLS)),
                )
            )


def _task_permission(h: Harvest, name: str, permission: Any, at: Span) -> list[str]:
    """The subagents ``permission.task`` allows (exact names; globs are kept, not expanded)."""
    if not isinstance(permission, dict):
        return []
    task = permission.get("task")
    if not isinstance(task, dict):
        return []
    allowed = [k for k, v in task.items() if v in ("allow", "ask") and "*" not in k]
    for other in allowed:
        h.references.append((other, at, f"permission.task of {name!r}"))
    return allowed
