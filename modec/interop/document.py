"""The common mode-document writer: a :class:`~modec.interop.model.Harvest` becomes mode YAML.

One writer for every tool, so every import has the same shape:

- the tool's orchestrator (or a synthetic one) is ``task_orchestrator``, and every other role
  is listed in its ``specialist_roles`` with the one-line text the tool's router reads;
- the tool's fallback is ``mode_configuration.default_specialist`` and ``general_tasks``;
- names follow modec's rule ``^[a-z][a-z0-9_]*$``: lower-cased, other characters become
  ``_``; a reserved name or a taken one gets a suffix (``_role``, ``_2``), reported (MC707,
  MC708); the tool's own identifier stays in ``x_<tool>``;
- ``builtin_task_types: false``: the only rows are the ones the files state, so nothing routes
  by the classic keyword table that the source tool never had;
- each role and rule is preceded by a comment naming its source file and line.

The text is deterministic: the same harvest gives the same bytes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Final

import yaml

from modec.compiler.surface import near_misses
from modec.diagnostics import Diagnostic, Span
from modec.grammar.parser import parse_condition
from modec.interop.model import FORMATS, ForeignRole, ForeignRule, Harvest

__all__ = [
    "PART_BYTES",
    "RESERVED",
    "Document",
    "dump_yaml",
    "modec_name",
    "one_line",
    "write_document",
]

#: Top-level keys of a mode file and names a role may not take.
RESERVED: Final = frozenset(
    {
        "task_orchestrator",
        "mode_metadata",
        "mode_configuration",
        "task_routing_rules",
        "validation_rules",
        "tests",
        "general_tasks",
    }
)
_ONE_LINE_MAX: Final = 600
#: Largest mode or part file written (the compiler's limit is 1 MiB; this leaves headroom).
PART_BYTES: Final = 900 * 1024


def modec_name(name: str, fallback: str = "role") -> str:
    """A name that follows ``^[a-z][a-z0-9_]*$``, as close to ``name`` as ASCII allows.

    >>> modec_name("Security-Auditor"), modec_name("📚 文档撰写者"), modec_name("3d-artist")
    ('security_auditor', 'role', 'r_3d_artist')
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    if not out:
        out = fallback
    if not out[0].isalpha():
        out = "r_" + out
    if out.startswith("x_"):
        out = "r_" + out
    return out


@dataclass
class Document:
    """The written mode: ``text``, the modec name of each role (by original name and file),
    and the diagnostics of naming and merging."""

    text: str
    names: dict[tuple[str, str], str] = field(default_factory=dict)
    roles: list[tuple[str, ForeignRole]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    default_specialist: str = ""
    #: part files (name next to the mode → text) that the mode ``extends``; empty when small.
    parts: dict[str, str] = field(default_factory=dict)


class _Dumper(yaml.SafeDumper):
    """Block style, literal block scalars for multi-line text, keys in the given order."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value.strip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: object, indent: int = 0) -> str:
    text = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    if indent:
        text = "".join(
            " " * indent + line if line.strip() else line for line in text.splitlines(keepends=True)
        )
    return text


def _comment(text: str) -> str:
    """A one-line YAML comment; characters YAML does not allow are written as escapes."""
    flat = " ".join(text.split())
    return "# " + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in flat)


def _where(span: Span) -> str:
    return f"{span.file}:{span.line}"


def one_line(text: str) -> str:
    """Whitespace collapsed; long text cut at a word with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= _ONE_LINE_MAX:
        return flat
    return flat[:_ONE_LINE_MAX].rsplit(" ", 1)[0] + " …"


class _Namer:
    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.diagnostics: list[Diagnostic] = []

    def name(self, role: ForeignRole, wanted: str | None = None) -> str:
        base = wanted or modec_name(role.name)
        out = base
        if wanted is None and (out in RESERVED or near_misses(out, RESERVED)):
            out = f"{out}_role"  # a role one edit from a section name reads as its misspelling
        n = 2
        stem = out
        while out in self.taken:
            out = f"{stem}_{n}"
            n += 1
        self.taken.add(out)
        if out != base:
            self.diagnostics.append(
                Diagnostic.make(
                    "MC708",
                    role.span,
                    f"{role.name!r} would be {base!r} in modec, a name already taken or reserved;"
                    f" it is {out!r}",
                    "rename one of the agents so that each name is unique",
                )
            )
        elif out != role.name.lower().replace("-", "_") and not role.synthetic and wanted is None:
            self.diagnostics.append(
                Diagnostic.make(
                    "MC707",
                    role.span,
                    f"{role.name!r} is {out!r} in modec (modec's names follow "
                    "^[a-z][a-z0-9_]*$); the original stays under x_",
                )
            )
        return out


def _pick(
    harvest: Harvest, orchestrator: str | None
) -> tuple[ForeignRole, ForeignRole | None, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    roles = harvest.roles
    chosen: ForeignRole | None = None
    if orchestrator is not None:
        for r in roles:
            if orchestrator in (r.name, modec_name(r.name)):
                chosen = r
                break
        else:
            diagnostics.append(
                Diagnostic.make(
                    "MC711",
                    None,
                    f"--orchestrator {orchestrator!r} names no imported agent",
                    "agents: " + ", ".join(sorted({r.name for r in roles})),
                )
            )
    if chosen is None:
        chosen = next((r for r in roles if r.kind == "orchestrator"), None)
    if chosen is None:
        tools = ", ".join(dict.fromkeys(FORMATS[r.tool] for r in roles)) or "the tool"
        chosen = ForeignRole(
            name="task_orchestrator",
            span=Span.point(harvest.files[0] if harvest.files else "<input>", 1, 1),
            tool=roles[0].tool if roles else harvest.tool,
            prompt=f"Routes each task to the {tools} agent whose description fits it; a task "
            "no rule claims goes to the default specialist.",
            synthetic=True,
            kind="orchestrator",
        )
    fallback = next((r for r in roles if r.kind == "fallback" and r is not chosen), None)
    if fallback is None:
        fallback = next((r for r in roles if r is not chosen), None)
    return chosen, fallback, diagnostics


def write_document(
    harvest: Harvest,
    orchestrator: str | None = None,
    title: str | None = None,
    out_name: str = "imported.mode.yaml",
) -> Document:
    """The mode YAML for ``harvest`` (roles in harvest order, then rules, then tests).

    A mode larger than :data:`PART_BYTES` keeps its orchestrator, rules and tests, and
    ``extends`` part files that hold the roles (``Document.parts``): the compiler reads at
    most 1 MiB per file, and real Roo Code files are larger.
    """
    chosen, fallback, diagnostics = _pick(harvest, orchestrator)
    namer = _Namer()
    doc = Document(text="", diagnostics=diagnostics)
    orch_name = namer.name(chosen, "task_orchestrator")
    doc.names[(chosen.span.file, chosen.name)] = orch_name
    for role in harvest.roles:
        if role is chosen:
            continue
        modec = namer.name(role)
        doc.names.setdefault((role.span.file, role.name), modec)
        doc.roles.append((modec, role))
    doc.diagnostics += namer.diagnostics
    default = doc.names[(fallback.span.file, fallback.name)] if fallback else ""
    doc.default_specialist = default
    rules, rule_diags = _rules(harvest.rules, doc)
    doc.diagnostics += rule_diags
    chunks: list[str] = []
    for modec, role in doc.roles:
        where = (
            f"built into {FORMATS[role.tool]} (in no file)"
            if role.synthetic
            else f"{_where(role.span)}: {FORMATS[role.tool]} agent"
        )
        chunks.append(
            _comment(f"{where} {role.name!r}") + "\n" + dump_yaml({modec: _role_body(role)})
        )
    tail = [_rule_section(rules, default)]
    tests = _tests(harvest, doc)
    if tests:
        tail.append(tests)
    orchestrator_text = _orchestrator(chosen, doc)
    doc.text = "\n".join([_header(harvest, title, default), orchestrator_text, *chunks, *tail])
    if len(doc.text.encode("utf-8")) > PART_BYTES:
        doc.parts = _parts(chunks, out_name)
        doc.text = "\n".join(
            [_header(harvest, title, default, list(doc.parts)), orchestrator_text, *tail]
        )
    return doc


def _parts(chunks: list[str], out_name: str) -> dict[str, str]:
    """Role sections packed in order into part files of at most :data:`PART_BYTES`."""
    stem = PurePath(out_name).name.removesuffix(".yaml").removesuffix(".mode")
    groups: list[list[str]] = [[]]
    size = 0
    for chunk in chunks:
        n = len(chunk.encode("utf-8")) + 1
        if groups[-1] and size + n > PART_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(chunk)
        size += n
    parts: dict[str, str] = {}
    for i, group in enumerate(groups, start=1):
        name = f"{stem}.roles-{i}.yaml"
        head = _comment(
            f"Roles {i}/{len(groups)} of {PurePath(out_name).name} (modec import): that file is "
            "the mode and extends this one; the compiler reads at most 1 MiB per file."
        )
        holder = dump_yaml(
            {
                "task_orchestrator": {
                    "role_definition": (
                        f"Holds roles of {PurePath(out_name).name}, which is the mode "
                        "and overrides this "
                        "role."
                    )
                }
            }
        )
        parts[name] = head + "\n" + holder + "\n" + "\n".join(group)
    return parts


def _header(
    harvest: Harvest, title: str | None, default: str, extends: list[str] | None = None
) -> str:
    tools = list(dict.fromkeys(r.tool for r in harvest.roles)) or [harvest.tool]
    label = " + ".join(FORMATS[t] for t in tools)
    files = sorted(set(harvest.files))
    name = title or modec_name(f"imported {'_'.join(tools)}")
    head = [
        _comment(f"Imported by `modec import` from {label}: {len(files)} file(s)."),
        _comment(
            "Routing rules come only from explicit signals in those files; every other "
            f"task goes to the default specialist {default!r}."
        ),
        "",
    ]
    meta = {
        "mode_metadata": {
            "name": name,
            "description": f"Imported from {label} ({', '.join(files)})",
            "x_import": {"formats": tools, "files": files},
        }
    }
    if extends:
        meta["mode_metadata"]["extends"] = extends
    config: dict[str, Any] = {"mode_configuration": {"builtin_task_types": False}}
    if default:
        config["mode_configuration"]["default_specialist"] = default
    return "\n".join(head) + dump_yaml(meta) + "\n" + dump_yaml(config)


def _extras(role: ForeignRole) -> dict[str, Any]:
    extras = dict(role.extras)
    if role.synthetic:
        extras["synthetic"] = True
    return {f"x_{role.tool}": extras} if extras else {}


def _role_body(role: ForeignRole) -> dict[str, Any]:
    body: dict[str, Any] = {"role_definition": role.prompt or role.description or role.name}
    if role.expertise:
        body["expertise"] = list(role.expertise)
    if role.approach:
        body["approach"] = list(role.approach)
    body.update(_extras(role))
    return body


def _orchestrator(chosen: ForeignRole, doc: Document) -> str:
    body: dict[str, Any] = {
        "role_definition": chosen.prompt or chosen.description or "Routes tasks to specialists."
    }
    body["specialist_roles"] = {
        modec: one_line(role.description) or one_line(role.prompt) or modec
        for modec, role in doc.roles
    }
    body.update(_extras(chosen))
    if chosen.synthetic:
        what = (
            "synthetic orchestrator (the tool routes by an LLM reading descriptions)"
            if chosen.name == "task_orchestrator"
            else f"built into {FORMATS[chosen.tool]} (in no file): orchestrator {chosen.name!r}"
        )
    else:
        what = f"{_where(chosen.span)}: {FORMATS[chosen.tool]} orchestrator {chosen.name!r}"
    return _comment(what) + "\n" + dump_yaml({"task_orchestrator": body})


@dataclass
class _Rule:
    name: str
    body: dict[str, Any]
    rule: ForeignRule


def _rules(rules: list[ForeignRule], doc: Document) -> tuple[list[_Rule], list[Diagnostic]]:
    out: list[_Rule] = []
    diagnostics: list[Diagnostic] = []
    by_name = {name: modec for (_, name), modec in doc.names.items()}
    taken = {"general_tasks"}  # the fallback row is written last, by _rule_section
    for rule in rules:
        target = doc.names.get((rule.span.file, rule.role)) or by_name.get(rule.role)
        if target is None:
            diagnostics.append(
                Diagnostic.make(
                    "MC711",
                    rule.span,
                    f"{rule.comment}: {rule.role!r} is not an imported agent; the rule is left out",
                )
            )
            continue
        if target == "task_orchestrator":
            diagnostics.append(
                Diagnostic.make(
                    "MC711",
                    rule.span,
                    f"{rule.comment}: {rule.role!r} is the orchestrator, which modec routes no "
                    "task to; the rule is left out",
                    "choose another --orchestrator to keep this agent's rules",
                )
            )
            continue
        span = rule.span

        def locate(start: int, end: int, span: Span = span) -> Span:
            return span

        expr, problems = parse_condition(rule.when, locate)
        if expr is None:
            diagnostics.append(
                Diagnostic.make(
                    "MC711",
                    span,
                    f"{rule.comment}: the condition {rule.when!r} is not valid "
                    f"({problems[0].message}); the rule is left out",
                )
            )
            continue
        name = modec_name(rule.name, "rule")
        stem, n = name, 2
        while name in taken:
            name = f"{stem}_{n}"
            n += 1
        taken.add(name)
        body: dict[str, Any] = {"when": rule.when, "required_specialist": target}
        if rule.priority:
            body["priority"] = rule.priority
        if rule.heuristic:
            body["x_heuristic"] = True
        out.append(_Rule(name, body, rule))
    return out, diagnostics


def _rule_section(rules: list[_Rule], default: str) -> str:
    lines = ["task_routing_rules:"]
    for r in rules:
        note = "HEURISTIC (--derive-keywords): " if r.rule.heuristic else ""
        lines.append("  " + _comment(f"{_where(r.rule.span)}: {note}{r.rule.comment}"))
        lines.append(dump_yaml({r.name: r.body}, indent=2).rstrip("\n"))
    lines.append("  " + _comment("the tool's fallback: every task no rule above claims"))
    lines.append(
        dump_yaml({"general_tasks": {"required_specialist": default}}, indent=2).rstrip("\n")
    )
    return "\n".join(lines) + "\n"


def _tests(harvest: Harvest, doc: Document) -> str:
    by_name = {name: modec for (_, name), modec in doc.names.items()}
    lines: list[str] = []
    for t in harvest.tests:
        target = doc.names.get((t.span.file, t.role)) or by_name.get(t.role)
        if target is None:
            continue
        lines.append("  " + _comment(f"{_where(t.span)}: an example the author wrote"))
        lines.append(
            dump_yaml([{"task": t.task, "expect_specialist": target}], indent=2).rstrip("\n")
        )
    return "tests:\n" + "\n".join(lines) + "\n" if lines else ""
