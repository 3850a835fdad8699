"""Claude Code subagents: ``.claude/agents/**/*.md`` (Markdown with YAML frontmatter).

Claude Code loads an agent only when its frontmatter is valid YAML with a ``name`` and a
``description``; it drops any other file without a word. modec reports each such drop
(MC704, located) and still recovers the agent (a line reader for broken frontmatter, the file
stem for a missing name). The main conversation is Claude Code's fallback: it becomes the
synthetic default specialist ``main_thread``; the orchestrator is synthetic too (the main
thread choosing a subagent by description).

Explicit routing signals: ``@name`` / ``@agent-name`` mentions (how a user calls a subagent by
name) and ``modec routes here when:`` lines; ``<example>`` dialogues in a description become
``tests:`` entries (the user's message, expected to reach this agent).
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any, Final

from modec.diagnostics import Diagnostic, Severity
from modec.grammar.printer import format_string
from modec.interop.frontmatter import AgentFile, read_agent_file
from modec.interop.model import (
    ForeignRole,
    ForeignRule,
    ForeignTest,
    Harvest,
    delegation_rule,
    marker_rules,
)
from modec.interop.reading import Text
from modec.interop.routing_text import Routing, split_rules

__all__ = ["FALLBACK", "KNOWN_TOOLS", "MODELS", "harvest", "mention_rule", "split_examples"]

#: Claude Code's fallback: the main conversation keeps every task no subagent is chosen for.
FALLBACK: Final = (
    "main-thread",
    "Claude Code's main conversation: it keeps every task that no "
    "subagent's description claims and works on it itself.",
)

#: Claude Code's built-in tools (settings and subagent docs); ``mcp__server__tool`` names and
#: ``Tool(pattern)`` forms are accepted too.
KNOWN_TOOLS: Final = frozenset(
    {
        "Agent",
        "AskUserQuestion",
        "Bash",
        "BashOutput",
        "Edit",
        "ExitPlanMode",
        "Glob",
        "Grep",
        "KillShell",
        "LS",
        "MultiEdit",
        "NotebookEdit",
        "NotebookRead",
        "Read",
        "Skill",
        "SlashCommand",
        "Task",
        "TodoRead",
        "TodoWrite",
        "WebFetch",
        "WebSearch",
        "Write",
    }
)
MODELS: Final = frozenset({"sonnet", "opus", "haiku", "inherit", "opusplan"})
_FIELDS: Final = (
    "name",
    "description",
    "tools",
    "disallowedTools",
    "model",
    "permissionMode",
    "maxTurns",
    "skills",
    "mcpServers",
    "hooks",
    "memory",
    "background",
    "isolation",
    "color",
    "disabled",
)
_OPEN: Final = re.compile(r"<example>", re.IGNORECASE)
_CLOSE: Final = re.compile(r"</example>", re.IGNORECASE)
#: Most ``<example>`` blocks read from one description.
MAX_EXAMPLES: Final = 50
_USER: Final = re.compile(r"(?<![\w-])user:\s*(.+?)(?=\\n|\n|<|$)", re.IGNORECASE)
_TOOL_NAME: Final = re.compile(r"^(mcp__[\w-]+(__[\w-]+)?|[A-Z]\w*(\(.*\))?)$")


def _example_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each ``<example>…</example>`` block, found in one linear scan."""
    blocks: list[tuple[int, int]] = []
    pos = 0
    while len(blocks) < MAX_EXAMPLES:
        opening = _OPEN.search(text, pos)
        closing = _CLOSE.search(text, opening.end()) if opening else None
        if opening is None or closing is None:
            break
        blocks.append((opening.start(), closing.end()))
        pos = closing.end()
    return blocks


def split_examples(description: str) -> tuple[str, list[str]]:
    """The description without ``<example>`` blocks, and each example's first user message.

    >>> split_examples('Use after edits. <example>user: "review it"</example>')
    ('Use after edits.', ['review it'])
    """
    blocks = _example_blocks(description)
    tasks: list[str] = []
    for start, end in blocks:
        match = _USER.search(description, start + len("<example>"), end - len("</example>"))
        if match:
            said = match.group(1).strip().strip("\"'“”").strip()
            if said:
                tasks.append(said)
    if not tasks:
        return description.strip(), tasks
    kept, pos = [], 0
    for start, end in blocks:
        kept.append(description[pos:start])
        pos = end
    kept.append(description[pos:])
    cleaned = re.sub(r"(\\n)+", " ", " ".join(kept))
    return " ".join(cleaned.split()), tasks


def mention_rule(role: ForeignRole, names: list[str], comment: str) -> ForeignRule:
    """The rule ``text mentions any("@name", ...)`` routing explicit mentions to ``role``."""
    atoms = ", ".join(format_string(n.lower()) for n in names)
    when = (
        f"text mentions any({atoms})"
        if len(names) > 1
        else f"text mentions {format_string(names[0].lower())}"
    )
    return ForeignRule(
        name=f"{role.name}_mention", role=role.name, when=when, span=role.span, comment=comment
    )


def harvest(text: Text) -> Harvest:
    """Read one Claude Code subagent file."""
    h = Harvest("claude", files=[text.path], texts={text.path: text.text})
    agent = read_agent_file(text)
    h.diagnostics += agent.diagnostics
    stem = PurePath(text.path).name.removesuffix(".md").split("__")[-1]
    if not agent.present:
        # a README or notes file beside the agents: Claude Code skips it, and so does modec
        h.diagnostics.append(
            Diagnostic.make(
                "MC704",
                agent.span(),
                "Claude Code skips this file: it has no frontmatter, so it is no agent; modec "
                "skips it too",
                "start an agent file with --- name: …, description: … ---",
                severity=Severity.WARNING,
            )
        )
        return h
    dropped: list[str] = []
    if not agent.valid:
        dropped.append("its frontmatter is not valid YAML")
    name = agent.fields.get("name")
    if not isinstance(name, str) or not name.strip():
        dropped.append("it has no name")
        name = stem
    description = agent.fields.get("description")
    if not isinstance(description, str) or not description.strip():
        dropped.append("it has no description")
        description = "" if not isinstance(description, str) else description
    if dropped:
        h.diagnostics.append(
            Diagnostic.make(
                "MC704",
                agent.span("name" if "name" in agent.spans else None),
                f"Claude Code drops this agent: {'; '.join(dropped)}; modec recovered {name!r}",
                "fix the frontmatter: Claude Code needs valid YAML with name and description",
            )
        )
    if name.strip() != stem and "name" in agent.spans:
        h.diagnostics.append(
            Diagnostic.make(
                "MC717",
                agent.span("name"),
                f"the agent is {name.strip()!r} but its file is {stem}.md: Claude Code (and an "
                f"@-mention) calls it {name.strip()!r}",
                f"rename the file to {name.strip()}.md, or the agent to {stem!r}",
            )
        )
    extras = _extras(h, agent, name)
    prose, routing = split_rules(description)
    prose, examples = split_examples(prose)
    role = ForeignRole(
        name=name.strip(),
        span=agent.span("name"),
        tool="claude",
        prompt=agent.body.strip() or prose,
        description=prose,
        extras=extras,
        mention="@" + name.strip(),
    )
    h.roles.append(role)
    h.rules.append(
        mention_rule(
            role, [f"@{role.name}", f"@agent-{role.name}"], f"an explicit @{role.name} mention"
        )
    )
    h.rules.append(
        delegation_rule(role, "subagent_type", "Claude Code's Task tool (subagent_type=…)")
    )
    marker_rules(h, role, routing, agent.span("description"), "the description")
    for said in examples:
        h.tests.append(ForeignTest(said, role.name, agent.span("description")))
    _no_signal(h, role, agent, routing, examples)
    return h


def _extras(h: Harvest, agent: AgentFile, name: str) -> dict[str, Any]:
    extras: dict[str, Any] = {"name": name}
    for key, value in agent.fields.items():
        if key in ("name", "description"):
            continue
        extras[key] = value
        if key not in _FIELDS:
            h.diagnostics.append(
                Diagnostic.make(
                    "MC706",
                    agent.span(key),
                    f"Claude Code ignores the frontmatter key {key!r}",
                    f"subagent keys: {', '.join(_FIELDS)}",
                )
            )
    if "tools" in agent.fields:
        _check_tools(h, agent)
    model = agent.fields.get("model")
    if model is not None and not (
        isinstance(model, str) and (model in MODELS or model.startswith("claude-"))
    ):
        h.diagnostics.append(
            Diagnostic.make(
                "MC713",
                agent.span("model"),
                f"Claude Code knows no model {model!r}",
                f"use one of {', '.join(sorted(MODELS))} or a full claude-… model id",
            )
        )
    return extras


def _check_tools(h: Harvest, agent: AgentFile) -> None:
    tools = agent.fields.get("tools")
    at = agent.span("tools")
    if tools is None or tools == "":
        h.diagnostics.append(
            Diagnostic.make(
                "MC709",
                at,
                "tools: has no value; Claude Code documents a list of tools, [] for none, or no "
                "key for every tool, so this agent's tools are not what anyone can read here",
                "remove the key to give every tool, or list the tools the agent needs",
            )
        )
        return
    if tools == []:
        h.diagnostics.append(
            Diagnostic.make(
                "MC709",
                at,
                "tools: [] gives this agent no tools at all (an absent key gives all)",
                "list the tools the agent needs, or remove the key to inherit every tool",
            )
        )
        return
    names = (
        [t.strip() for t in tools.split(",")]
        if isinstance(tools, str)
        else [str(t).strip() for t in tools]
        if isinstance(tools, list)
        else None
    )
    if names is None:
        h.diagnostics.append(
            Diagnostic.make("MC709", at, "tools is neither a comma-separated string nor a list")
        )
        return
    for tool in names:
        base = tool.split("(", 1)[0]
        if tool == "*" or tool.startswith("mcp__"):
            continue
        if not _TOOL_NAME.match(tool) or base not in KNOWN_TOOLS:
            h.diagnostics.append(
                Diagnostic.make(
                    "MC709",
                    at,
                    f"Claude Code has no tool {tool!r}",
                    "built-in tools: " + ", ".join(sorted(KNOWN_TOOLS)),
                )
            )


_SIGNAL: Final = re.compile(
    r"\b(use[sd]?|when|whenever|proactively|must be used|delegat\w*|invoke[sd]?|spawn\w*|"
    r"call (?:it|on|this))\b",
    re.IGNORECASE,
)


def _no_signal(
    h: Harvest, role: ForeignRole, agent: AgentFile, routing: Routing, examples: list[str]
) -> None:
    if routing.conditions or examples or _SIGNAL.search(role.description):
        return
    h.diagnostics.append(
        Diagnostic.make(
            "MC710",
            agent.span("description"),
            f"the description of {role.name!r} says what the agent is, not when to use it: an LLM "
            "router has no routing signal",
            "say when: 'Use for …' / 'Use PROACTIVELY when …', or add an <example> dialogue",
        )
    )
