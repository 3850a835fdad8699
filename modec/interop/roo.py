"""Roo Code and Kilo Code modes: ``.roomodes``, ``custom_modes.yaml|json``, ``.kilocodemodes``.

The reference is Roo Code's own loader: ``CustomModesManager`` parses the file as YAML (JSON is
YAML) and validates it with ``customModesSettingsSchema`` (``packages/types/src/mode.ts``).
If validation fails, Roo Code loads **none** of the file's modes; modec reports each reason
(MC705, located) and the whole-file rejection (MC703), and still imports every mode it can
read. zod drops unknown keys silently; modec keeps them under ``x_roo`` and warns (MC706).
The deprecated ``browser`` group is stripped before validation, as Roo does.

Roo's orchestrator is the mode with slug ``orchestrator`` (built in unless the file overrides
it) and its fallback is the built-in ``code`` mode: both become roles, synthetic when the
file does not define them. Kilo Code reads the same schema from ``.kilocodemodes``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from modec.compiler.source import YNode
from modec.diagnostics import Diagnostic, Related, Span
from modec.interop.model import ForeignRole, Harvest, Tool, delegation_rule, marker_rules, point
from modec.interop.reading import Text, describe, is_string, load_yaml, plain, text_of
from modec.interop.routing_text import split_rules

__all__ = ["BUILTIN_MODES", "add_builtins", "harvest"]

_GROUPS: Final = frozenset({"read", "edit", "command", "mcp", "modes"})
_DEPRECATED_GROUPS: Final = frozenset({"browser"})
_KEYS: Final = (
    "slug",
    "name",
    "roleDefinition",
    "whenToUse",
    "description",
    "customInstructions",
    "groups",
    "source",
)
#: Keys of the export format's JSON Schema that the settings schema does not define.
_EXPORT_KEYS: Final = frozenset({"rulesFiles"})
_SLUG: Final = re.compile(r"^[a-zA-Z0-9-]+$")

#: Roo Code's built-in modes that an import needs when the file does not override them
#: (``DEFAULT_MODES`` in packages/types/src/mode.ts): the orchestrator and the fallback.
BUILTIN_MODES: Final[dict[str, dict[str, Any]]] = {
    "orchestrator": {
        "name": "🪃 Orchestrator",
        "roleDefinition": "You are Roo, a strategic workflow orchestrator who coordinates "
        "complex tasks by delegating them to appropriate specialized modes. You have a "
        "comprehensive understanding of each mode's capabilities and limitations, allowing "
        "you to effectively break down complex problems into discrete tasks that can be "
        "solved by different specialists.",
        "whenToUse": "Use this mode for complex, multi-step projects that require "
        "coordination across different specialties. Ideal when you need to break down large "
        "tasks into subtasks, manage workflows, or coordinate work that spans multiple "
        "domains or expertise areas.",
        "groups": [],
    },
    "code": {
        "name": "💻 Code",
        "roleDefinition": "You are Roo, a highly skilled software engineer with extensive "
        "knowledge in many programming languages, frameworks, design patterns, and best "
        "practices.",
        "whenToUse": "Use this mode when you need to write, modify, or refactor code. Ideal "
        "for implementing features, fixing bugs, creating new files, or making code "
        "improvements across any programming language or framework.",
        "groups": ["read", "edit", "command", "mcp"],
    },
}


class _File:
    """One file's harvest in progress: ``rejects`` are the reasons Roo refuses the file."""

    def __init__(self, text: Text, tool: Tool) -> None:
        self.text = text
        self.tool = tool
        self.label = "Kilo Code" if tool == "kilo" else "Roo Code"
        self.harvest = Harvest(tool, files=[text.path], texts={text.path: text.text})
        self.rejects: list[Diagnostic] = []
        #: modes with neither whenToUse nor description, and where they are
        self.undescribed: dict[str, Span] = {}

    def reject(self, span: Span, message: str, hint: str | None = None) -> None:
        d = Diagnostic.make("MC705", span, f"{self.label} rejects this file: {message}", hint)
        self.rejects.append(d)

    def ignored(self, span: Span, message: str, hint: str | None = None) -> None:
        self.harvest.diagnostics.append(Diagnostic.make("MC706", span, message, hint))


def harvest(text: Text, tool: Tool = "roo") -> Harvest:
    """Read one Roo Code or Kilo Code custom modes file."""
    f = _File(text, tool)
    root, problems = load_yaml(text.text, text.path)
    f.harvest.diagnostics += problems
    if root is None:
        return f.harvest
    modes = root.get("customModes")
    for key, _ in root.items:
        if key.raw != "customModes":
            f.ignored(
                key.span,
                f"{f.label} ignores the top-level key {key.raw!r}",
                "the file holds one key, customModes",
            )
    if modes is None:
        f.reject(root.span, "there is no customModes list", "write customModes: [ ... ]")
    elif modes.kind != "seq":
        f.reject(modes.span, f"customModes is {describe(modes)}, not a list")
    else:
        seen: dict[str, Span] = {}
        for item in modes.children:
            role = _mode(f, item)
            if role is None:
                continue
            slug = role.name
            if slug in seen:
                f.reject(
                    item.span,
                    f"duplicate mode slug {slug!r}",
                    "Roo Code refuses duplicate slugs: rename one",
                )
                continue
            seen[slug] = item.span
            f.harvest.roles.append(role)
    _delegation_tables(f)
    if f.rejects:
        f.harvest.diagnostics += f.rejects
        f.harvest.diagnostics.append(
            Diagnostic.make(
                "MC703",
                point(text.path, 1, 1),
                f"{f.label} loads none of this file's modes ({len(f.rejects)} problem(s) below); "
                f"modec imported the {len(f.harvest.roles)} mode(s) it could read",
                "fix the problems so that the tool and modec read the same modes",
                related=[
                    Related(span=d.span, message=d.message)
                    for d in f.rejects[:5]
                    if d.span is not None
                ],
            )
        )
    return f.harvest


def _mode(f: _File, item: YNode) -> ForeignRole | None:
    if item.kind != "map":
        f.reject(item.span, f"a mode is {describe(item)}, not a mapping")
        return None
    values, extras = _split_keys(f, item)
    strings = {k: _string(f, k, v) for k, v in values.items() if k != "groups"}
    slug = _required(f, item, values, strings)
    name = strings.get("name")
    role_definition = strings.get("roleDefinition")
    groups = _groups(f, slug, values.get("groups"), item)
    source = strings.get("source")
    if source is not None and source not in ("global", "project"):
        f.reject(values["source"].span, f"source {source!r} is neither 'global' nor 'project'")
    when_to_use, routing = split_rules(strings.get("whenToUse") or "")
    description = when_to_use or strings.get("description") or ""
    prompt = role_definition or description or name or slug
    for known in _KEYS:
        if known in strings and known not in ("roleDefinition", "whenToUse"):
            extras[known] = strings[known]
    if when_to_use:
        extras["whenToUse"] = when_to_use
    if groups is not None:
        extras["groups"] = groups
    extras = {k: extras[k] for k in sorted(extras, key=_key_order)}
    role = ForeignRole(
        name=slug,
        span=item.span,
        tool=f.tool,
        prompt=prompt.strip(),
        description=description.strip(),
        extras=extras,
        kind="orchestrator"
        if slug == "orchestrator"
        else "fallback"
        if slug == "code"
        else "specialist",
    )
    if not description:
        f.undescribed[slug] = values.get("slug", item).span
    if role.kind == "specialist":
        f.harvest.rules.append(delegation_rule(role, "mode", "Roo Code's new_task(mode=…)"))
    at = values.get("whenToUse", item).span
    marker_rules(f.harvest, role, routing, at, "whenToUse")
    return role


_TABLE_LINE: Final = re.compile(
    r"^[^\S\n]*(?:[-*•]|\d+[.)])?[^`\n]{0,8}`(?P<slug>[A-Za-z0-9-]+)`[^\S\n]*(?:[-–—:]|→|=>)"
    r"[^\S\n]*(?P<text>[^\n]{3,300})$",
    re.MULTILINE,
)


def _delegation_tables(f: _File) -> None:
    """A mode without whenToUse or description takes the line another mode's instructions
    wrote for it in a delegation table (`` `slug` - what it is for ``): what the author told
    the delegating mode. Modes with neither stay MC710."""
    for role in f.harvest.roles:
        text = "\n".join(str(role.extras.get(k) or "") for k in ("customInstructions",))
        text += "\n" + role.prompt
        for match in _TABLE_LINE.finditer(text):
            slug = match.group("slug")
            target = next((r for r in f.harvest.roles if r.name == slug), None)
            if target is None or slug not in f.undescribed or target is role:
                continue
            target.description = match.group("text").strip()
            target.extras["modec_description_from"] = f"the delegation table of {role.name!r}"
            del f.undescribed[slug]
    for slug, span in f.undescribed.items():
        f.harvest.diagnostics.append(
            Diagnostic.make(
                "MC710",
                span,
                f"mode {slug!r} has neither whenToUse nor description: the orchestrator "
                "chooses it from its roleDefinition alone",
                "add whenToUse: 'Use this mode when …'",
            )
        )


def _split_keys(f: _File, item: YNode) -> tuple[dict[str, YNode], dict[str, Any]]:
    """The schema's keys (nodes), and every other key as plain data (unknown ones warned)."""
    values: dict[str, YNode] = {}
    extras: dict[str, Any] = {}
    for key, value in item.items:
        field = str(key.raw)
        if field in _KEYS:
            values[field] = value
            continue
        extras[field] = plain(value)
        if field not in _EXPORT_KEYS:
            f.ignored(
                key.span,
                f"{f.label} silently drops the unknown mode key {field!r}",
                f"known keys: {', '.join(_KEYS)}",
            )
    return values, extras


def _required(
    f: _File, item: YNode, values: dict[str, YNode], strings: dict[str, str | None]
) -> str:
    """The mode's slug (recovered from its name when missing); missing required keys reject."""
    slug = strings.get("slug")
    name = strings.get("name")
    if slug is None:
        f.reject(item.span, "a mode has no slug", "add slug: a-name-with-dashes")
        slug = _slugify(name or "") or f"mode-{item.span.line}"
    elif not _SLUG.match(slug):
        f.reject(values["slug"].span, f"slug {slug!r} may hold only letters, digits and dashes")
    if not name:
        f.reject(values.get("name", item).span, f"mode {slug!r} has no name")
    if not strings.get("roleDefinition"):
        f.reject(
            values.get("roleDefinition", item).span,
            f"mode {slug!r} has no roleDefinition",
            "Roo Code requires a roleDefinition",
        )
    return slug


def _key_order(key: str) -> tuple[int, str]:
    order = ("slug", "name", "description", "whenToUse", "customInstructions", "groups", "source")
    return (order.index(key), "") if key in order else (len(order), key)


def _string(f: _File, key: str, node: YNode) -> str | None:
    if is_string(node):
        return str(node.value)
    f.reject(node.span, f"{key} is {describe(node)}, not a string")
    return text_of(node)


def _groups(f: _File, slug: str, node: YNode | None, item: YNode) -> list[Any] | None:
    if node is None:
        f.reject(item.span, f"mode {slug!r} has no groups", "add groups: [read] (or [])")
        return None
    if node.kind != "seq":
        f.reject(node.span, f"groups of {slug!r} is {describe(node)}, not a list")
        return None
    seen: set[str] = set()
    for entry in node.children:
        head = entry.children[0] if entry.kind == "seq" and entry.children else entry
        group = text_of(head) if head.kind == "scalar" else None
        if group in _DEPRECATED_GROUPS:
            continue
        if group not in _GROUPS:
            f.reject(
                entry.span,
                f"{describe(entry) if group is None else repr(group)} is not a tool group",
                f"groups are {', '.join(sorted(_GROUPS))}",
            )
        elif group in seen:
            f.reject(entry.span, f"group {group!r} appears twice in {slug!r}")
        else:
            seen.add(group)
        if entry.kind == "seq":
            _group_options(f, entry)
    return list(plain(node))


def _group_options(f: _File, entry: YNode) -> None:
    if len(entry.children) != 2 or entry.children[1].kind != "map":
        f.reject(entry.span, "a group with options is [group, {fileRegex, description}]")
        return
    for key, value in entry.children[1].items:
        if key.raw not in ("fileRegex", "description"):
            f.ignored(key.span, f"{f.label} drops the unknown group option {key.raw!r}")
        elif not is_string(value):
            f.reject(value.span, f"{key.raw} is {describe(value)}, not a string")
        elif key.raw == "fileRegex":
            try:
                re.compile(str(value.value))
            except re.error as error:
                f.reject(
                    value.locate(0, len(str(value.value))),
                    f"fileRegex is not a valid regular expression: {error}",
                )


def _slugify(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", name).strip("-").lower()


def add_builtins(h: Harvest, tool: Tool) -> None:
    """Add Roo's built-in orchestrator and ``code`` modes unless ``h`` defines them."""
    have = {r.name for r in h.roles if r.tool in ("roo", "kilo")}
    where = h.files[0] if h.files else "<input>"
    for slug, mode in BUILTIN_MODES.items():
        if slug in have:
            continue
        h.roles.append(
            ForeignRole(
                name=slug,
                span=point(where, 1, 1),
                tool=tool,
                prompt=str(mode["roleDefinition"]),
                description=str(mode["whenToUse"]),
                kind="orchestrator" if slug == "orchestrator" else "fallback",
                extras={
                    "slug": slug,
                    "name": mode["name"],
                    "groups": mode["groups"],
                    "builtin": True,
                },
                synthetic=True,
            )
        )
