"""Markdown agent files with YAML frontmatter (Claude Code, Copilot, opencode): the shared read.

:func:`read_agent_file` splits the frontmatter, composes it with positions and, when it is not
valid YAML (the tools then drop the agent), recovers what a person meant with a line reader:
``key: value`` at column 1 starts a field, indented or unkeyed lines continue it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from modec.compiler.source import YNode
from modec.diagnostics import Diagnostic, Span
from modec.interop.reading import Text, load_yaml, plain, split_frontmatter

__all__ = ["AgentFile", "read_agent_file"]

_KEY_LINE: Final = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*)|[ \t]*)$")


@dataclass
class AgentFile:
    """``fields``: frontmatter values (plain data); ``spans``: where each key is; ``valid``:
    the frontmatter is valid YAML (the tools load the agent); ``body``: the prompt."""

    text: Text
    present: bool
    valid: bool
    fields: dict[str, Any] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)
    nodes: dict[str, YNode] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def span(self, key: str | None = None) -> Span:
        if key is not None and key in self.spans:
            return self.spans[key]
        return Span.point(self.text.path, 1, 1)


def read_agent_file(text: Text) -> AgentFile:
    """Split and read one Markdown agent file; never raises."""
    front = split_frontmatter(text.text)
    agent = AgentFile(
        text, front.present, False, body=front.body.strip("\n"), body_line=front.body_line
    )
    if not front.present:
        return agent
    if not front.closed:
        agent.diagnostics.append(
            Diagnostic.make(
                "MC004",
                Span.point(text.path, 1, 1),
                "the frontmatter's opening --- has no closing ---",
                "end the frontmatter with a line holding only ---",
            )
        )
        _recover(agent, front.yaml_text)
        return agent
    if not front.yaml_text.strip():
        agent.valid = True
        return agent
    root, problems = load_yaml(front.yaml_text, text.path)
    if root is None or any(d.is_error for d in problems):
        agent.diagnostics += problems
        _recover(agent, front.yaml_text)
        return agent
    agent.valid = True
    for key, value in root.items:
        name = str(key.raw)
        if name in agent.fields:
            continue
        agent.fields[name] = plain(value)
        agent.spans[name] = key.span
        agent.nodes[name] = value
    return agent


def _recover(agent: AgentFile, yaml_text: str) -> None:
    """The line reader used when the frontmatter is not YAML: values stay raw text."""
    current: str | None = None
    parts: dict[str, list[str]] = {}
    for number, line in enumerate(yaml_text.splitlines(), start=1):
        match = _KEY_LINE.match(line)
        if match and not line[:1].isspace():
            current = match.group(1)
            if current in parts:
                current = None
                continue
            parts[current] = [(match.group(2) or "").strip()]
            agent.spans[current] = Span(
                file=agent.text.path,
                line=number,
                column=1,
                end_line=number,
                end_column=1 + len(current),
            )
        elif current is not None:
            parts[current].append(line.strip())
    for key, chunks in parts.items():
        value = "\n".join(c for c in chunks if c).strip()
        if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1:
            value = value[1:-1]
        if value in (">", "|", ">-", "|-"):
            value = ""
        agent.fields[key] = " ".join(value.split()) if key == "description" else value
