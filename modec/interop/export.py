"""``export_mode``: one mode file becomes another tool's agent files.

Each specialist becomes one agent of the tool (Roo Code: one ``customModes`` entry of
``.roomodes``; Claude Code: ``.claude/agents/<name>.md``; Copilot:
``.github/agents/<name>.agent.md``; opencode: ``.opencode/agent/<name>.md``). The text the
tool's own LLM router reads (Roo's ``whenToUse``, the others' ``description``) is the role's
description followed by one ``modec routes here when: <condition>`` line per rule that routes
to the role (:mod:`modec.interop.routing_text`), so the tool's router and modec's are told the
same rules, and ``modec import`` reads them back. Fields kept under ``x_<tool>`` by an import
are written back; roles that stand for something built into a tool (``synthetic``) are not.

Files are written atomically as a set: every file is first written to a temporary file beside
its target, and only when all are written are they moved into place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from modec.compiler.ir import ModeFile, Role
from modec.compiler.pipeline import compile_path
from modec.compiler.table import default_specialist, ordered_rules
from modec.diagnostics import Diagnostic, Span, has_errors
from modec.grammar.printer import format_expr
from modec.interop.document import dump_yaml, one_line
from modec.interop.files import write_files
from modec.interop.routing_text import with_rules

__all__ = ["TARGETS", "ExportResult", "export_mode", "render_export"]

Target = Literal["roo", "claude", "copilot", "opencode"]
TARGETS: Final[tuple[Target, ...]] = ("roo", "claude", "copilot", "opencode")
_ROO_GROUPS: Final = ["read", "edit", "command", "mcp"]


@dataclass
class ExportResult:
    """The files written (relative path → text) and the diagnostics; nothing is written when
    there are errors."""

    files: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


@dataclass
class _Agent:
    name: str
    role: Role
    description: str
    conditions: list[tuple[str, int]]
    extras: dict[str, Any]
    orchestrator: bool = False
    default: bool = False


def _tool_extras(role: Role, tool: str) -> dict[str, Any]:
    """The fields an import kept for ``tool`` (Kilo Code's are Roo Code's schema)."""
    for key in (f"x_{tool}", "x_kilo") if tool == "roo" else (f"x_{tool}",):
        value = role.extras.get(key)
        if isinstance(value, dict):
            return dict(value)
    return {}


def _unique(wanted: str, fallback: str, taken: set[str]) -> str:
    """``wanted`` unless another agent took it (two imports of one name), else ``fallback``."""
    name = wanted if wanted not in taken else fallback
    taken.add(name)
    return name


def _is_synthetic(role: Role) -> bool:
    return any(
        isinstance(v, dict) and v.get("synthetic") is True
        for k, v in role.extras.items()
        if k.startswith("x_")
    )


def _agents(mode: ModeFile, tool: str) -> list[_Agent]:
    # Each row is written with the priority that keeps modec's row order on import.
    rows = [
        r
        for r in ordered_rules(mode.rules)
        if r.condition is not None and r.required_specialist is not None
    ]
    conditions: dict[str, list[tuple[str, int]]] = {}
    for i, rule in enumerate(rows):
        assert rule.condition is not None and rule.required_specialist is not None
        conditions.setdefault(rule.required_specialist, []).append(
            (format_expr(rule.condition), len(rows) - i)
        )
    fallback = default_specialist(mode)
    listed = mode.specialist_roles
    out: list[_Agent] = []
    for name, role in mode.roles.items():
        if _is_synthetic(role):
            continue
        extras = _tool_extras(role, tool)
        description = listed.get(name, "")
        original = _original_routing_text(extras, tool)
        if original and one_line(original) == description:
            description = original
        if not description:
            description = one_line(role.role_definition.split("\n", 1)[0])
        out.append(
            _Agent(
                name,
                role,
                description,
                conditions.get(name, []),
                extras,
                orchestrator=name == "task_orchestrator",
                default=name == fallback,
            )
        )
    return out


def _original_routing_text(extras: dict[str, Any], tool: str) -> str:
    key = "whenToUse" if tool == "roo" else "description"
    value = extras.get(key)
    return value if isinstance(value, str) else ""


def _hyphen(name: str) -> str:
    return name.replace("_", "-")


def render_export(mode: ModeFile, to: Target) -> dict[str, str]:
    """The tool's files for ``mode`` (relative path → text), without writing anything."""
    agents = _agents(mode, to)
    if to == "roo":
        _keep_order_without_priorities([a for a in agents if not a.orchestrator or a.extras])
        return {".roomodes": _roo(agents)}
    placed: list[tuple[str, str, _Agent]] = []
    taken: set[str] = set()
    for agent in agents:
        if agent.orchestrator and to != "opencode":
            continue
        name = _unique(
            str(agent.extras.get("name") or _hyphen(agent.name)), _hyphen(agent.name), taken
        )
        if agent.orchestrator:
            name = "orchestrator"
        path = {
            "claude": f".claude/agents/{name}.md",
            "copilot": f".github/agents/{name}.agent.md",
            "opencode": f".opencode/agent/{name}.md",
        }[to]
        placed.append((path, name, agent))
    placed.sort(key=lambda item: item[0])  # the order `modec import` reads the files in
    _keep_order_without_priorities([agent for _, _, agent in placed])
    return {path: _markdown(agent, to, name, agents) for path, name, agent in placed}


def _keep_order_without_priorities(read_order: list[_Agent]) -> None:
    """Drop the priorities when reading the files in ``read_order`` gives modec's row order
    anyway (each role's rows together, roles in the order their rows come)."""
    as_read = [(a.name, c, p) for a in read_order for c, p in a.conditions]
    if [p for _, _, p in as_read] == sorted((p for _, _, p in as_read), reverse=True):
        for agent in read_order:
            agent.conditions = [(c, 0) for c, _ in agent.conditions]


def _roo(agents: list[_Agent]) -> str:
    modes: list[dict[str, Any]] = []
    taken: set[str] = set()
    for agent in agents:
        if agent.orchestrator and not agent.extras:
            continue
        x = agent.extras
        slug = (
            "orchestrator"
            if agent.orchestrator
            else _unique(str(x.get("slug") or _hyphen(agent.name)), _hyphen(agent.name), taken)
        )
        entry: dict[str, Any] = {
            "slug": slug,
            "name": str(x.get("name") or agent.name.replace("_", " ").title()),
            "roleDefinition": agent.role.role_definition,
        }
        when = with_rules(agent.description, agent.conditions, agent.default)
        if when:
            entry["whenToUse"] = when
        for key in ("description", "customInstructions"):
            if isinstance(x.get(key), str):
                entry[key] = x[key]
        entry["groups"] = x.get("groups", list(_ROO_GROUPS))
        if x.get("source") in ("global", "project"):
            entry["source"] = x["source"]
        modes.append(entry)
    return dump_yaml({"customModes": modes})


def _markdown(agent: _Agent, to: Target, name: str, agents: list[_Agent]) -> str:
    front: dict[str, Any] = {}
    if to in ("claude", "copilot"):
        front["name"] = name
    front["description"] = with_rules(agent.description, agent.conditions, agent.default)
    skip = {"name", "description", "prompt", "synthetic", "builtin"}
    for key, value in agent.extras.items():
        if key not in skip and value is not None:
            front[key] = value
    if to == "opencode":
        front["mode"] = "primary" if agent.orchestrator else front.get("mode", "subagent")
        if agent.orchestrator:
            front["permission"] = {
                "task": {_hyphen(a.name): "allow" for a in agents if not a.orchestrator}
            }
    body = agent.role.role_definition.rstrip("\n")
    return "---\n" + dump_yaml(front) + "---\n\n" + body + "\n"


def export_mode(mode_path: str | Path, to: Target, out_dir: str | Path) -> ExportResult:
    """Compile ``mode_path`` and write its ``to`` files under ``out_dir`` (atomically).

    A mode with errors writes nothing (its diagnostics are returned); a failure to write is
    MC715 and leaves every target as it was.
    """
    if to not in TARGETS:
        raise ValueError(f"unknown export target {to!r}; targets: {', '.join(TARGETS)}")
    c = compile_path(mode_path, until="check")
    result = ExportResult(diagnostics=c.sorted_diagnostics())
    if c.mode is None or not c.ok:
        return result
    result.files = render_export(c.mode, to)
    try:
        result.written = write_files(Path(out_dir), result.files)
    except OSError as error:
        result.diagnostics.append(
            Diagnostic.make(
                "MC715",
                Span.point(str(out_dir), 1, 1),
                f"cannot write the {to} files under {out_dir}: {error.strerror or error}",
                "check that the folder is writable; nothing was changed",
            )
        )
    return result
