"""``import_paths``: other tools' agent files (files or folders) → one mode file.

Files are collected in sorted order (folders walked without following symlinks, bounded by
:data:`~modec.interop.reading.MAX_FOLDER_FILES` and ``MAX_FOLDER_BYTES``), each is read by its
tool's module, the harvests are merged, and :func:`~modec.interop.document.write_document`
writes the mode. The result is compiled (up to the checks) so that every warning the mode
would get is reported with the import's own diagnostics.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from modec.compiler.pipeline import compile_text
from modec.diagnostics import Diagnostic, Related, Span, has_errors, sort_diagnostics
from modec.interop import bmad, claude, copilot, crewai, opencode, roo
from modec.interop.detect import detect, detect_path
from modec.interop.document import write_document
from modec.interop.keywords import derive_rules
from modec.interop.model import FORMATS, ForeignRole, ForeignRule, Harvest, Tool
from modec.interop.reading import (
    MAX_FOLDER_BYTES,
    MAX_FOLDER_FILES,
    Text,
    read_bytes,
    read_text,
)

__all__ = ["ImportResult", "ImportedRole", "collect", "harvest_paths", "import_paths"]

_SKIP_DIRS: Final = frozenset({".git", "node_modules", ".venv", "__pycache__", ".hg"})
_CANDIDATE_ENDINGS: Final = (".md", ".yaml", ".yml", ".json", ".jsonc")


@dataclass(frozen=True)
class ImportedRole:
    """One role of the written mode and where it came from."""

    name: str
    tool: str
    original: str
    file: str
    line: int
    synthetic: bool


@dataclass
class ImportResult:
    """What ``import_paths`` made.

    ``text`` is the mode file (empty when nothing could be recovered); ``diagnostics`` are the
    import's own (what the tools would reject or drop, names changed); ``compile_diagnostics``
    are what the compiler says of ``text`` (warnings only, when the importer is right);
    ``held_apart`` maps each role with derived keywords to texts not used to derive them.
    """

    text: str
    diagnostics: list[Diagnostic]
    compile_diagnostics: list[Diagnostic]
    roles: list[ImportedRole]
    sources: dict[str, str] = field(default_factory=dict)
    formats: list[str] = field(default_factory=list)
    held_apart: dict[str, list[str]] = field(default_factory=dict)
    default_specialist: str = ""
    #: part files the mode extends (name next to the mode → text), for very large imports
    parts: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when a mode was written and it compiles without errors."""
        return bool(self.text) and not has_errors(self.compile_diagnostics)


def collect(paths: list[Path]) -> tuple[list[tuple[Path, str]], list[Diagnostic]]:
    """The files to read (path, display name), in a deterministic order, within the bounds."""
    out: list[tuple[Path, str]] = []
    diagnostics: list[Diagnostic] = []
    total = 0
    for given in paths:
        if not given.is_dir():
            out.append((given, str(given)))
            continue
        found: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(given):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS or d == ".github")
            for name in sorted(filenames):
                p = Path(dirpath) / name
                if p.is_symlink():
                    continue
                if detect_path(str(p)) is not None or name.lower().endswith(_CANDIDATE_ENDINGS):
                    found.append(p)
        for p in sorted(found):
            if len(out) >= MAX_FOLDER_FILES:
                diagnostics.append(
                    Diagnostic.make(
                        "MC701",
                        Span.point(str(given), 1, 1),
                        f"{given} holds more than {MAX_FOLDER_FILES:,} candidate files; the rest "
                        "are not read",
                        "import a smaller folder",
                    )
                )
                return out, diagnostics
            with contextlib.suppress(OSError):
                total += p.stat().st_size
            if total > MAX_FOLDER_BYTES:
                diagnostics.append(
                    Diagnostic.make(
                        "MC701",
                        Span.point(str(p), 1, 1),
                        f"the files read reach {MAX_FOLDER_BYTES:,} bytes; {p} and the rest are "
                        "not read",
                        "import a smaller folder",
                    )
                )
                return out, diagnostics
            out.append((p, str(p)))
    return out, diagnostics


def _read(path: Path, display: str) -> tuple[Text | None, list[Diagnostic]]:
    data, problem = read_bytes(path, display)
    if data is None:
        return None, [problem] if problem else []
    text, bad = read_text(data, display)
    return text, [bad] if bad else []


def _crew_pairs(
    texts: dict[str, Text], tools: dict[str, Tool]
) -> list[tuple[Text | None, Text | None]]:
    pairs: list[tuple[Text | None, Text | None]] = []
    used: set[str] = set()
    for shown, text in texts.items():
        if tools.get(shown) != "crewai" or shown in used:
            continue
        if shown.lower().endswith(("agents.yaml", "agents.yml")):
            base = (
                shown[: -len("agents.yaml")]
                if shown.lower().endswith("yaml")
                else shown[: -len("agents.yml")]
            )
            sibling = next(
                (
                    s
                    for s in (base + "tasks.yaml", base + "tasks.yml")
                    if s in texts or Path(s).is_file()
                ),
                None,
            )
            tasks = texts.get(sibling) if sibling else None
            if sibling and tasks is None:
                tasks, _ = _read(Path(sibling), sibling)
            used.update({shown, sibling or ""})
            pairs.append((text, tasks))
    for shown, text in texts.items():
        if tools.get(shown) != "crewai" or shown in used:
            continue
        agents: Text | None = None
        for ending in ("tasks.yaml", "tasks.yml"):
            if shown.lower().endswith(ending):
                sibling = shown[: -len(ending)] + "agents" + ending[len("tasks") :]
                if Path(sibling).is_file():
                    agents, _ = _read(Path(sibling), sibling)
        pairs.append((agents, text))
    return pairs


def harvest_paths(paths: list[Path], fmt: str | None = None) -> Harvest:
    """Read every file under ``paths`` into one merged harvest (no mode written yet)."""
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    files, diagnostics = collect(paths)
    merged = Harvest(tool="roo")
    merged.diagnostics += diagnostics
    texts: dict[str, Text] = {}
    tools: dict[str, Tool] = {}
    explicit = {str(p) for p in paths if not p.is_dir()}
    for path, shown in files:
        text, problems = _read(path, shown)
        if text is None or problems:
            merged.diagnostics += problems
            if text is not None:
                merged.texts[shown] = text.text
            continue
        tool: Tool | None = fmt if fmt is not None else detect(shown, text.text)  # type: ignore[assignment]
        if tool is None:
            if shown in explicit:
                merged.diagnostics.append(
                    Diagnostic.make(
                        "MC702",
                        Span.point(shown, 1, 1),
                        f"{shown} is not an agent file of any tool modec imports",
                        "name the format: modec import FORMAT PATH (formats: "
                        + ", ".join(FORMATS)
                        + ")",
                    )
                )
            continue
        texts[shown] = text
        tools[shown] = tool
    for shown, text in texts.items():
        tool = tools[shown]
        if tool == "crewai":
            continue
        merged.extend(_harvest_one(tool, text))
    for agents, tasks in _crew_pairs(texts, tools):
        merged.extend(crewai.harvest(agents, tasks))
    if merged.roles:
        merged.tool = merged.roles[0].tool
        _finish(merged)
    return merged


_FALLBACKS: Final[dict[str, tuple[str, str]]] = {
    "claude": claude.FALLBACK,
    "copilot": copilot.FALLBACK,
    "opencode": opencode.FALLBACK,
}


def _finish(h: Harvest) -> None:
    """Add the tools' built-in roles, check references between agents, drop repeated rules."""
    tools = list(dict.fromkeys(r.tool for r in h.roles))
    roo_like = next((t for t in tools if t in ("roo", "kilo")), None)
    if roo_like is not None:
        roo.add_builtins(h, roo_like)
    if not any(r.kind == "fallback" for r in h.roles):
        tool = next((t for t in tools if t in _FALLBACKS), None)
        if tool is not None:
            name, text = _FALLBACKS[tool]
            h.roles.append(
                ForeignRole(
                    name=name,
                    span=Span.point(h.files[0], 1, 1),
                    tool=tool,
                    prompt=text,
                    description=text,
                    kind="fallback",
                    synthetic=True,
                    extras={"builtin": True},
                )
            )
    names = {r.name for r in h.roles}
    for name, span, what in h.references:
        if name not in names:
            h.diagnostics.append(
                Diagnostic.make(
                    "MC711",
                    span,
                    f"{what} names {name!r}, which no imported file defines",
                    "agents: " + ", ".join(sorted(names)),
                )
            )
    first: dict[str, ForeignRule] = {}
    kept: list[ForeignRule] = []
    for rule in h.rules:
        earlier = first.get(rule.when)
        if earlier is not None and earlier.role == rule.role:
            # the same signal written twice (an exported mode read back): one rule, and the
            # priority the export gave it
            earlier.priority = max(earlier.priority, rule.priority)
            continue
        if earlier is not None:
            h.diagnostics.append(
                Diagnostic.make(
                    "MC708",
                    rule.span,
                    f"{rule.comment}: {earlier.role!r} has the same signal "
                    f"({rule.when}); it routes there, not to {rule.role!r}",
                    related=[Related(span=earlier.span, message=earlier.comment)],
                )
            )
            continue
        first.setdefault(rule.when, rule)
        kept.append(rule)
    h.rules = kept


def _harvest_one(tool: Tool, text: Text) -> Harvest:
    if tool in ("roo", "kilo"):
        return roo.harvest(text, tool)
    if tool == "claude":
        return claude.harvest(text)
    if tool == "copilot":
        return copilot.harvest(text)
    if tool == "opencode":
        return opencode.harvest(text)
    return bmad.harvest(text)


def _check(text: str, parts: dict[str, str], out_name: str) -> list[Diagnostic]:
    """What the compiler says of the written mode (its parts are resolved from a scratch
    folder, since ``extends`` reads files)."""
    if not parts:
        return compile_text(text, out_name, until="check").sorted_diagnostics()
    with tempfile.TemporaryDirectory(prefix="modec-import-") as scratch:
        base = Path(scratch)
        for name, part in parts.items():
            (base / name).write_text(part, encoding="utf-8")
        return compile_text(text, out_name, until="check", base_dir=base).sorted_diagnostics()


def import_paths(
    paths: list[Path] | list[str],
    fmt: str | None = None,
    orchestrator: str | None = None,
    derive_keywords: bool = False,
    out_name: str = "imported.mode.yaml",
) -> ImportResult:
    """Import other tools' agent files into one mode file (see the module docstring).

    Never raises on bad input files (a bad ``fmt`` is a ``ValueError``): what the tools would
    reject or drop is in ``diagnostics``, and whatever could be recovered is in ``text``.
    """
    harvest = harvest_paths([Path(p) for p in paths], fmt)
    diagnostics = list(harvest.diagnostics)
    if not harvest.roles:
        shown = str(paths[0]) if paths else "<input>"
        diagnostics.append(
            Diagnostic.make(
                "MC714",
                Span.point(shown, 1, 1),
                "no agent, mode or crew member was found",
                "pass agent files of a supported tool: " + ", ".join(FORMATS.values()),
            )
        )
        return ImportResult("", sort_diagnostics(diagnostics), [], [], dict(harvest.texts))
    held: dict[str, list[str]] = {}
    if derive_keywords:
        doc = write_document(harvest, orchestrator)
        rules, held, notes = derive_rules(harvest, doc)
        harvest.rules += rules
        diagnostics += notes
    doc = write_document(harvest, orchestrator, out_name=out_name)
    diagnostics += doc.diagnostics
    compiled = _check(doc.text, doc.parts, out_name)
    roles = [
        ImportedRole(modec, r.tool, r.name, r.span.file, r.span.line, r.synthetic)
        for modec, r in doc.roles
    ]
    formats: list[str] = list(dict.fromkeys(r.tool for r in harvest.roles))
    sources = dict(harvest.texts)
    sources[out_name] = doc.text
    sources.update(doc.parts)
    sources.update(doc.parts)
    return ImportResult(
        doc.text,
        sort_diagnostics(diagnostics),
        compiled,
        roles,
        sources,
        formats,
        held,
        doc.default_specialist,
        dict(doc.parts),
    )
