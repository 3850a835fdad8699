"""Spans, diagnostics, the error hierarchy and the one renderer (text, JSON, SARIF).

Every problem modec finds in a mode file is a :class:`Diagnostic`: a stable code, a severity,
a :class:`Span` pointing at the exact place in the source, a message and an optional hint.
Diagnostics are data: tests assert on codes and spans, never on message text.

>>> span = Span(file="m.yaml", line=3, column=5, end_line=3, end_column=9)
>>> d = Diagnostic(code="MC206", severity=Severity.ERROR, span=span,
...                message="unknown specialist 'archtect'", hint="did you mean 'architect'?")
>>> print(d.location())
m.yaml:3:5
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

__all__ = [
    "CODES",
    "FIX_AVAILABLE",
    "MAX_DIAGNOSTICS",
    "CodeInfo",
    "Diagnostic",
    "Edit",
    "Fix",
    "InvalidModeError",
    "ModeFileNotFoundError",
    "ModecError",
    "Related",
    "SessionNotActiveError",
    "Severity",
    "Span",
    "has_errors",
    "render",
    "render_json",
    "render_sarif",
    "render_text",
    "sort_diagnostics",
]


class Span(BaseModel):
    """A region of a source file: 1-based line and column; the end column is exclusive."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, file: str, line: int, column: int) -> Span:
        """A one-character span at ``line:column``."""
        return cls(file=file, line=line, column=column, end_line=line, end_column=column + 1)

    def sort_key(self) -> tuple[str, int, int, int, int]:
        return (self.file, self.line, self.column, self.end_line, self.end_column)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class CodeInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    title: str


def _codes(*rows: tuple[str, Severity, str]) -> dict[str, CodeInfo]:
    return {code: CodeInfo(code=code, severity=sev, title=title) for code, sev, title in rows}


E, W = Severity.ERROR, Severity.WARNING

#: Every diagnostic code modec emits, with its default severity. Codes are stable: a code is
#: never reused for another meaning. The README's table is generated from this mapping.
CODES: Final[dict[str, CodeInfo]] = _codes(
    # MC0xx: reading the file
    ("MC001", E, "file cannot be read (missing, a directory, or permission denied)"),
    ("MC002", E, "file is larger than the 1 MiB limit"),
    ("MC003", E, "file is not valid UTF-8 text"),
    ("MC004", E, "YAML syntax error"),
    ("MC005", E, "duplicate mapping key"),
    ("MC006", E, "document root is not a mapping"),
    ("MC007", E, "anchors and aliases expand past the size bound"),
    ("MC008", E, "more than one YAML document in the file"),
    ("MC009", E, "unsupported YAML tag or non-string mapping key"),
    # MC1xx: schema of the mode file
    ("MC101", E, "value has the wrong type"),
    ("MC102", E, "required key is missing"),
    ("MC103", E, "unknown key, or a free key one edit away from a known one"),
    ("MC104", E, "value is not one of the allowed choices or out of range"),
    ("MC105", E, "no task_orchestrator role"),
    ("MC106", E, "extended mode file not found"),
    ("MC107", E, "extends cycle"),
    ("MC108", E, "extended mode file is invalid"),
    # MC2xx: roles
    ("MC201", W, "specialist listed in specialist_roles without a role definition"),
    ("MC202", E, "required role is missing"),
    ("MC203", E, "specialist count outside the validation bounds"),
    ("MC204", E, "role name does not follow ^[a-z][a-z0-9_]*$"),
    ("MC205", W, "custom role is never used"),
    ("MC206", E, "rule routes to an undefined role"),
    ("MC207", E, "secondary reviewer is not a defined role"),
    ("MC208", E, "default specialist is not a defined role"),
    # MC3xx: routing rules
    ("MC301", E, "rule gives both `when` and `keywords`"),
    ("MC302", E, "rule has no condition and is not a builtin task type"),
    ("MC303", E, "empty keyword"),
    ("MC304", W, "duplicate keyword"),
    ("MC305", E, "`keywords` list is empty"),
    ("MC306", E, "`field` or `match` used without `keywords`"),
    ("MC307", E, "task type name does not follow ^[a-z][a-z0-9_]*$"),
    ("MC308", Severity.NOTE, "implicit classic rows are active beside the mode's own rules"),
    # MC4xx: the condition language
    ("MC401", E, "condition syntax error"),
    ("MC402", E, "condition type error"),
    ("MC403", E, "unknown field in condition"),
    ("MC404", E, "invalid regular expression"),
    ("MC405", E, "regular expression cannot run in linear time"),
    ("MC406", E, "invalid string escape"),
    ("MC407", W, "condition is constant"),
    # MC5xx: tests: examples
    ("MC501", E, "test example is malformed"),
    ("MC502", E, "test example expects an unknown task type or role"),
    # MC6xx: row analysis (modec.compiler.analysis)
    (
        "MC601",
        W,
        "rule can never fire (earlier rows take every task it matches, or its "
        "condition is never true)",
    ),
    ("MC602", E, "two rules both match a task under hit policy `unique` (with a witness task)"),
    ("MC603", Severity.NOTE, "analysis was bounded or undecided (what was skipped is listed)"),
    ("MC604", W, "keyword made redundant by a shorter one in the same rule"),
    ("MC605", W, "keyword always captured by an earlier rule's keyword"),
    ("MC606", W, "substring keyword matches inside common English words"),
    ("MC607", W, "specialist is never routed to"),
    # MC7xx: other tools' agent files (modec.interop: import, export, foreign lint)
    ("MC701", E, "foreign file or folder is larger than the import bound"),
    ("MC702", E, "file is not an agent file of any tool modec imports"),
    ("MC703", E, "the tool rejects the whole file (none of its modes load)"),
    ("MC704", E, "the tool drops this agent (invalid frontmatter, a required field missing)"),
    ("MC705", E, "the tool rejects this value"),
    ("MC706", W, "the tool silently ignores this key"),
    ("MC707", Severity.NOTE, "name changed to follow modec's rule (the original is kept under x_)"),
    ("MC708", W, "two agents share a name or a routing signal"),
    ("MC709", W, "tool list names a tool that does not exist, or gives no tools"),
    ("MC710", W, "description gives a router no routing signal"),
    ("MC711", W, "reference to an agent that is not defined, or an unusable rule"),
    ("MC712", Severity.NOTE, "keyword rules derived from descriptions (heuristic)"),
    ("MC713", W, "model name the tool does not know"),
    ("MC714", E, "no agent found in the input"),
    ("MC715", E, "export cannot write the tool's files"),
    (
        "MC716",
        Severity.NOTE,
        "another tool's agent file, linted through its importer "
        "(`modec import` makes a mode of it)",
    ),
    (
        "MC717",
        Severity.NOTE,
        "agent's name differs from its file name (the tool calls it by its name)",
    ),
)
del E, W

#: Default cap on the diagnostics rendered for one run ("… and N more").
MAX_DIAGNOSTICS: Final = 100


class Edit(BaseModel):
    """Replace the text of ``span`` (end exclusive; an empty span inserts) with ``new_text``."""

    model_config = ConfigDict(frozen=True)

    span: Span
    new_text: str


class Fix(BaseModel):
    """A machine-applicable change that resolves a diagnostic (``modec lint --fix``, quick fixes).

    ``edits`` never overlap and all lie in one file.
    """

    model_config = ConfigDict(frozen=True)

    description: str
    edits: tuple[Edit, ...]


class Related(BaseModel):
    """Another place that explains a diagnostic (the other row of an overlap, a shadowing row)."""

    model_config = ConfigDict(frozen=True)

    span: Span
    message: str


class Diagnostic(BaseModel):
    """One located problem. ``code`` is stable; ``message`` and ``hint`` are for people.

    ``fix`` is set when the problem has one machine-applicable correction; ``related`` points at
    other places that explain it.
    """

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    span: Span | None
    message: str
    hint: str | None = None
    fix: Fix | None = None
    related: tuple[Related, ...] = ()

    @classmethod
    def make(
        cls,
        code: str,
        span: Span | None,
        message: str,
        hint: str | None = None,
        severity: Severity | None = None,
        fix: Fix | None = None,
        related: Sequence[Related] = (),
    ) -> Diagnostic:
        """Build a diagnostic whose severity defaults to the code's registered one."""
        return cls(
            code=code,
            severity=severity or CODES[code].severity,
            span=span,
            message=message,
            hint=hint,
            fix=fix,
            related=tuple(related),
        )

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of a diagnostic (CLI ``--format json``, MCP, ``analyse``, LSP).

        >>> Diagnostic.make("MC206", Span.point("m.yaml", 3, 5), "unknown").to_dict()["span"]
        {'file': 'm.yaml', 'line': 3, 'column': 5, 'end_line': 3, 'end_column': 6}
        """
        return self.model_dump(mode="json")

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        if self.span is None:
            return "<unknown>"
        return f"{self.span.file}:{self.span.line}:{self.span.column}"

    def sort_key(self) -> tuple[tuple[str, int, int, int, int], str, str]:
        key = self.span.sort_key() if self.span else ("", 0, 0, 0, 0)
        return (key, self.code, self.message)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by position (file, line, column), then code; exact duplicates are dropped."""
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


# --------------------------------------------------------------------------- errors


class ModecError(Exception):
    """Base of every error modec raises on purpose; ``suggestion`` says how to recover."""

    suggestion: str = ""

    def __init__(self, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        if suggestion is not None:
            self.suggestion = suggestion

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidModeError(ModecError):
    """A mode file did not compile; ``diagnostics`` holds every problem found, sorted."""

    suggestion = "run `modec lint` on the file and fix the errors it reports"

    def __init__(
        self, message: str, diagnostics: Sequence[Diagnostic] = (), suggestion: str | None = None
    ) -> None:
        super().__init__(message, suggestion)
        self.diagnostics: list[Diagnostic] = sort_diagnostics(diagnostics)

    @classmethod
    def from_diagnostics(cls, path: str, diagnostics: Sequence[Diagnostic]) -> InvalidModeError:
        errors = [d for d in diagnostics if d.is_error]
        first = errors[0] if errors else None
        head = f"{path}: {len(errors)} error(s)"
        if first is not None:
            head += f"; first: {first.location()}: {first.code} {first.message}"
        return cls(head, diagnostics)


class ModeFileNotFoundError(ModecError):
    """A named mode file exists neither in the project's roles directory nor among bundled modes."""

    suggestion = "run `modec modes` to list the available modes, or `modec init` to create them"


class SessionNotActiveError(ModecError):
    """The session does not exist or is no longer active."""

    suggestion = "start a session with `modec session start` (or initialize_session) first"


# --------------------------------------------------------------------------- rendering


def _capped(diagnostics: Sequence[Diagnostic], limit: int | None) -> tuple[list[Diagnostic], int]:
    ordered = sort_diagnostics(diagnostics)
    if limit is None or len(ordered) <= limit:
        return ordered, 0
    return ordered[:limit], len(ordered) - limit


#: YAML's line breaks, as the loader counts them (modec.compiler.positions.split_lines).
_YAML_LINE_BREAK: Final = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def _source_line(sources: Mapping[str, str], span: Span) -> str | None:
    text = sources.get(span.file)
    if text is None:
        return None
    lines = _YAML_LINE_BREAK.split(text)  # not str.splitlines(): VT and FF are not breaks
    if not 1 <= span.line <= len(lines):
        return None
    return lines[span.line - 1]


_ANSI: Final = {
    Severity.ERROR: "1;31",
    Severity.WARNING: "1;33",
    Severity.NOTE: "1;36",
    "gutter": "1;34",
    "help": "1;32",
}

#: What the text output says under a diagnostic that carries a fix.
FIX_AVAILABLE: Final = "fix available: run `modec lint --fix`"


def _paint(text: str, style: Severity | str, color: bool) -> str:
    return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if color else text


def _render_one(d: Diagnostic, sources: Mapping[str, str], color: bool = False) -> str:
    head = _paint(f"{d.severity.value}[{d.code}]", d.severity, color)
    out = [f"{head}: {d.message}"]
    pad = ""
    if d.span is not None:
        s = d.span
        pad = " " * len(str(s.line))
        out.append(f"{pad}{_paint('-->', 'gutter', color)} {s.file}:{s.line}:{s.column}")
        line = _source_line(sources, s)
        if line is not None:
            shown = line.expandtabs(1)
            start = max(s.column - 1, 0)
            if s.end_line == s.line:
                width = max(s.end_column - s.column, 1)
            else:
                width = max(len(shown) - start, 1)
            width = min(width, max(len(shown) - start, 1))
            bar = _paint("|", "gutter", color)
            out.append(f"{pad} {bar}")
            out.append(f"{_paint(str(s.line), 'gutter', color)} {bar} {shown}")
            out.append(f"{pad} {bar} {' ' * start}{_paint('^' * width, d.severity, color)}")
    for rel in d.related:
        out.append(
            f"{pad} = note: {rel.message} ({rel.span.file}:{rel.span.line}:{rel.span.column})"
        )
    if d.hint:
        out.append(f"{pad} = {_paint('help', 'help', color)}: {d.hint}")
    if d.fix is not None:
        out.append(f"{pad} = {_paint(FIX_AVAILABLE, 'help', color)} ({d.fix.description})")
    return "\n".join(out)


def render_text(
    diagnostics: Sequence[Diagnostic],
    sources: Mapping[str, str] | None = None,
    limit: int | None = MAX_DIAGNOSTICS,
    color: bool = False,
) -> str:
    """rustc-style text: header, ``--> file:line:col``, the source line and a caret run, the
    hint, and whether a fix is available. ``color`` adds ANSI colours (for a terminal)."""
    shown, hidden = _capped(diagnostics, limit)
    blocks = [_render_one(d, sources or {}, color) for d in shown]
    if hidden:
        blocks.append(f"… and {hidden} more")
    errors = sum(d.is_error for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    fixable = sum(d.fix is not None for d in diagnostics)
    if diagnostics:
        summary = f"{errors} error(s), {warnings} warning(s)"
        if fixable:
            summary += f"; {fixable} fixable with `modec lint --fix`"
        blocks.append(summary)
    return "\n\n".join(blocks)


def render_json(diagnostics: Sequence[Diagnostic], limit: int | None = None) -> str:
    """A JSON object ``{"diagnostics": [...], "omitted": N, "errors": N, "warnings": N,
    "fixable": N}``; each diagnostic is its :meth:`Diagnostic.to_dict`."""
    shown, hidden = _capped(diagnostics, limit)
    doc = {
        "diagnostics": [d.to_dict() for d in shown],
        "omitted": hidden,
        "errors": sum(d.is_error for d in diagnostics),
        "warnings": sum(d.severity is Severity.WARNING for d in diagnostics),
        "fixable": sum(d.fix is not None for d in diagnostics),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def _sarif_region(span: Mapping[str, Any]) -> dict[str, int]:
    return {
        "startLine": span["line"],
        "startColumn": span["column"],
        "endLine": span["end_line"],
        "endColumn": span["end_column"],
    }


def _sarif_location(span: Mapping[str, Any], message: str | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": span["file"]},
            "region": _sarif_region(span),
        }
    }
    if message is not None:
        loc["message"] = {"text": message}
    return loc


def _sarif_result(doc: Mapping[str, Any], rule_index: int) -> dict[str, Any]:
    """One SARIF result from a diagnostic's :meth:`Diagnostic.to_dict` (the one shape)."""
    hint = doc.get("hint")
    result: dict[str, Any] = {
        "ruleId": doc["code"],
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[Severity(doc["severity"])],
        "message": {"text": doc["message"] + (f" (help: {hint})" if hint else "")},
    }
    if doc.get("span") is not None:
        result["locations"] = [_sarif_location(doc["span"])]
    if doc.get("related"):
        result["relatedLocations"] = [
            {"id": i, **_sarif_location(r["span"], r["message"])}
            for i, r in enumerate(doc["related"])
        ]
    fix = doc.get("fix")
    if fix:
        by_file: dict[str, list[dict[str, Any]]] = {}
        for edit in fix["edits"]:
            by_file.setdefault(edit["span"]["file"], []).append(
                {
                    "deletedRegion": _sarif_region(edit["span"]),
                    "insertedContent": {"text": edit["new_text"]},
                }
            )
        result["fixes"] = [
            {
                "description": {"text": fix["description"]},
                "artifactChanges": [
                    {"artifactLocation": {"uri": uri}, "replacements": reps}
                    for uri, reps in by_file.items()
                ],
            }
        ]
    return result


def render_sarif(diagnostics: Sequence[Diagnostic], tool_version: str = "0.1.0") -> str:
    """SARIF 2.1.0, one run, every code a rule; accepted by GitHub code scanning.

    Built from :meth:`Diagnostic.to_dict`, so it carries what the JSON output carries: related
    locations and fixes (as SARIF ``fixes``) included.
    """
    docs = [d.to_dict() for d in sort_diagnostics(diagnostics)]
    used = sorted({doc["code"] for doc in docs})
    rules = [
        {
            "id": code,
            "name": code,
            "shortDescription": {"text": CODES[code].title if code in CODES else code},
            "defaultConfiguration": {
                "level": _SARIF_LEVEL[CODES[code].severity] if code in CODES else "error"
            },
        }
        for code in used
    ]
    index = {code: i for i, code in enumerate(used)}
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "modec",
                        "version": tool_version,
                        "informationUri": "https://github.com/modec/modec",
                        "rules": rules,
                    }
                },
                "results": [_sarif_result(d, index[d["code"]]) for d in docs],
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def render(
    diagnostics: Sequence[Diagnostic],
    fmt: str = "text",
    sources: Mapping[str, str] | None = None,
    limit: int | None = MAX_DIAGNOSTICS,
    color: bool = False,
) -> str:
    """Render in ``fmt`` (``text``, ``json`` or ``sarif``)."""
    if fmt == "text":
        return render_text(diagnostics, sources, limit, color)
    if fmt == "json":
        return render_json(diagnostics, limit)
    if fmt == "sarif":
        from modec._version import __version__

        return render_sarif(diagnostics, tool_version=__version__)
    raise ValueError(f"unknown diagnostic format {fmt!r}; expected text, json or sarif")
