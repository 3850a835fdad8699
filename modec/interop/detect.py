"""Which tool a file belongs to: by its path first, then by its content.

>>> detect_path(".roomodes"), detect_path("x/.claude/agents/review.md")
('roo', 'claude')
>>> detect_path("plan.chatmode.md"), detect_path("config/agents.yaml"), detect_path("a.txt")
('copilot', 'crewai', None)
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from modec.interop.model import Tool

__all__ = ["FOREIGN_SUFFIXES", "detect", "detect_content", "detect_path"]

#: File names and endings that belong to a foreign tool whatever their content.
FOREIGN_SUFFIXES: Final[tuple[tuple[str, Tool], ...]] = (
    (".roomodes", "roo"),
    ("custom_modes.yaml", "roo"),
    ("custom_modes.yml", "roo"),
    ("custom_modes.json", "roo"),
    (".kilocodemodes", "kilo"),
    (".chatmode.md", "copilot"),
    (".agent.md", "copilot"),
    (".agent.yaml", "bmad"),
    (".agent.yml", "bmad"),
    ("opencode.json", "opencode"),
    ("opencode.jsonc", "opencode"),
    ("agents.yaml", "crewai"),
    ("agents.yml", "crewai"),
    ("tasks.yaml", "crewai"),
    ("tasks.yml", "crewai"),
)
_DIRS: Final[tuple[tuple[tuple[str, ...], Tool], ...]] = (
    ((".claude", "agents"), "claude"),
    ((".opencode", "agent"), "opencode"),
    ((".opencode", "agents"), "opencode"),
    ((".config", "opencode", "agent"), "opencode"),
    ((".github", "agents"), "copilot"),
    ((".github", "chatmodes"), "copilot"),
)
_FRONT_KEY: Final = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*)$", re.MULTILINE)


def detect_path(path: str) -> Tool | None:
    """The tool a path names, from its file name and folders alone, or None."""
    p = PurePath(path)
    name = p.name.lower()
    for suffix, tool in FOREIGN_SUFFIXES:
        if name.endswith(suffix):
            return tool
    if name.endswith(".md"):
        parts = tuple(part.lower() for part in p.parts[:-1])
        for folders, tool in _DIRS:
            n = len(folders)
            if any(parts[i : i + n] == folders for i in range(len(parts) - n + 1)):
                return tool
    return None


def detect_content(text: str) -> Tool | None:
    """The tool whose files look like ``text``, or None (used when the path says nothing)."""
    head = text[:65536]
    if re.search(r"^customModes\s*:|\"customModes\"\s*:", head, re.MULTILINE):
        return "roo"
    if re.match(r"\ufeff?---[ \t]*\r?\n", head):
        keys = dict(_FRONT_KEY.findall(head.split("\n---", 1)[0]))
        if (
            keys.get("mode", "").strip().strip("'\"") in ("primary", "subagent", "all")
            or "temperature" in keys
            or (
                ("tools" in keys)
                and keys["tools"].strip() == ""
                and "name" not in keys
                and "permission" in keys
            )
        ):
            return "opencode"
        if "name" in keys and "description" in keys:
            return "claude"
        if "description" in keys:
            return "copilot"
        return None
    if re.search(r"^agent\s*:\s*$", head, re.MULTILINE) and re.search(
        r"^\s+(persona|menu|metadata)\s*:", head, re.MULTILINE
    ):
        return "bmad"
    if re.search(r"^\s*\"agent\"\s*:\s*\{", head, re.MULTILINE) or re.search(
        r"\"\$schema\"\s*:\s*\"https://opencode\.ai", head
    ):
        return "opencode"
    if re.search(
        r"^\S[^:\n]*:\s*\n(\s+)(role|goal|backstory)\s*:", head, re.MULTILINE
    ) or re.search(r"^\S[^:\n]*:\s*\n(\s+)(description|expected_output)\s*:", head, re.MULTILINE):
        return "crewai"
    return None


def detect(path: str, text: str) -> Tool | None:
    """Path first (a name is a promise), then content. ``.roomodes`` content decides Kilo/Roo."""
    by_path = detect_path(path)
    if by_path is not None:
        return by_path
    return detect_content(text)
