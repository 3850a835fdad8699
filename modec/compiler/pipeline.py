"""The compiler as a sequence of named stages.

:data:`STAGES` is the whole pipeline, ``load → build → check → table → artifact``; each stage
reads and fills one :class:`Compilation` and may stop it by leaving errors behind. A test can
stop after any stage (``until=``) and a profile names them (``Compilation.timings``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from modec.compiler.build import build_mode
from modec.compiler.checks import run_checks
from modec.compiler.ir import ModeFile
from modec.compiler.source import LoadResult, load_bytes, load_path
from modec.compiler.surface import extends_fix
from modec.diagnostics import Diagnostic, InvalidModeError, has_errors, sort_diagnostics

if TYPE_CHECKING:
    from modec.compiler.artifact import Artifact
    from modec.compiler.table import DecisionTable

__all__ = ["STAGES", "Compilation", "Stage", "compile_mode", "compile_path", "compile_text", "run"]


@dataclass
class Compilation:
    """Everything one compilation knows so far; stages fill it in order."""

    path: str
    file_path: Path | None = None
    data: bytes | None = None
    loaded: LoadResult | None = None
    mode: ModeFile | None = None
    table: DecisionTable | None = None
    artifact: Artifact | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no stage reported an error."""
        return not has_errors(self.diagnostics)

    @property
    def warnings(self) -> list[Diagnostic]:
        """The diagnostics that are not errors (warnings and notes), sorted by position."""
        return [d for d in sort_diagnostics(self.diagnostics) if not d.is_error]

    def sorted_diagnostics(self) -> list[Diagnostic]:
        return sort_diagnostics(self.diagnostics)

    def raise_for_errors(self) -> None:
        """Raise :class:`InvalidModeError` carrying every diagnostic when there are errors."""
        if not self.ok:
            raise InvalidModeError.from_diagnostics(self.path, self.diagnostics)


def stage_load(c: Compilation) -> None:
    if c.data is not None:
        c.loaded = load_bytes(c.data, c.path)
    else:
        c.loaded = load_path(c.file_path or Path(c.path), display=c.path)
    if c.loaded.source is not None:
        c.sources[c.loaded.source.path] = c.loaded.source.text
    c.diagnostics.extend(c.loaded.diagnostics)


def stage_build(c: Compilation) -> None:
    assert c.loaded is not None
    result = build_mode(c.loaded, c.file_path)
    c.sources.update(result.sources)
    c.diagnostics.extend(result.diagnostics)
    c.mode = result.mode


def _with_pack_fix(c: Compilation, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Give MC105 (a role pack) its fix: extend default_roles.yaml in this file."""
    loaded = c.loaded
    if loaded is None or loaded.root is None or loaded.source is None:
        return diagnostics
    out = []
    for d in diagnostics:
        if d.code == "MC105" and d.fix is None:
            fix = extends_fix(loaded.root, loaded.source.text)
            if fix is not None:
                d = d.model_copy(update={"fix": fix})
        out.append(d)
    return out


def stage_check(c: Compilation) -> None:
    from modec.compiler.analysis import analyse

    assert c.mode is not None
    c.diagnostics.extend(_with_pack_fix(c, run_checks(c.mode)))
    c.diagnostics.extend(analyse(c.mode, c.sources).diagnostics)


def stage_table(c: Compilation) -> None:
    from modec.compiler.table import build_table

    assert c.mode is not None
    c.table = build_table(c.mode)


def stage_artifact(c: Compilation) -> None:
    from modec.compiler.artifact import build_artifact

    assert c.mode is not None and c.table is not None
    c.artifact = build_artifact(c.mode, c.table)


Stage = tuple[str, Callable[[Compilation], None]]

#: The pipeline, in order.
STAGES: Final[tuple[Stage, ...]] = (
    ("load", stage_load),
    ("build", stage_build),
    ("check", stage_check),
    ("table", stage_table),
    ("artifact", stage_artifact),
)
_NAMES: Final = tuple(name for name, _ in STAGES)


def run(c: Compilation, until: str = "artifact") -> Compilation:
    """Run the stages in order up to and including ``until``; stop early on errors."""
    if until not in _NAMES:
        raise ValueError(f"unknown stage {until!r}; stages are {', '.join(_NAMES)}")
    for name, stage in STAGES:
        start = time.perf_counter()
        stage(c)
        c.timings[name] = time.perf_counter() - start
        if name == until or not c.ok or (name == "build" and c.mode is None):
            break
    return c


def compile_path(
    path: str | Path, until: str = "artifact", display: str | None = None
) -> Compilation:
    """Compile the mode file at ``path``; never raises for a bad file (see ``diagnostics``)."""
    p = Path(path)
    return run(Compilation(path=display or str(path), file_path=p), until)


def compile_text(
    text: str | bytes, path: str = "<string>", until: str = "artifact", base_dir: Path | None = None
) -> Compilation:
    """Compile a mode file given as text; ``extends`` resolves from ``base_dir`` (default cwd).

    >>> c = compile_text("task_orchestrator:\\n  role_definition: x\\n", "m.yaml", until="check")
    >>> c.ok, sorted(c.mode.roles)
    (True, ['task_orchestrator'])
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    file_path = (base_dir or Path.cwd()) / Path(path).name
    return run(Compilation(path=path, file_path=file_path, data=data), until)


def compile_mode(path: str | Path, warnings: list[Diagnostic] | None = None) -> Artifact:
    """Compile the mode file at ``path`` into an artifact.

    Raises :class:`~modec.diagnostics.InvalidModeError` carrying every diagnostic when the
    file has errors (a missing file is the MC001 diagnostic inside it). The warnings and notes
    of a successful compile are appended to ``warnings`` when a list is given (the whole
    :class:`Compilation` is :func:`compile_path`'s result).

    >>> from modec.compiler.extends import bundled_mode_path
    >>> found: list[Diagnostic] = []
    >>> artifact = compile_mode(bundled_mode_path("development_mode.yaml"), warnings=found)
    >>> found
    []
    """
    c = compile_path(path)
    c.raise_for_errors()
    assert c.artifact is not None
    if warnings is not None:
        warnings.extend(c.warnings)
    return c.artifact
