"""One open buffer, compiled: the state every editor feature reads.

:func:`analyse_document` runs the compiler's own :data:`~modec.compiler.pipeline.STAGES` on
the buffer's text (not the file on disk), resolving ``extends`` against the other open
buffers first and the file system second, and keeps what the features need: the compilation
(diagnostics, resolved IR, table, artifact), a line index for position conversions, and the
places where roles and rules are defined and named.

The analysis is a snapshot: it never changes after it is built, so a feature may read an
older one while a newer one is being computed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from modec.compiler.build import build_mode, bundled_mode_path
from modec.compiler.ir import FALLBACK_TYPE, ModeFile, Role, Rule
from modec.compiler.pipeline import STAGES, Compilation
from modec.compiler.source import LoadResult, YNode, load_bytes, load_path
from modec.diagnostics import Span
from modec.lsp.positions import LineIndex

if TYPE_CHECKING:
    from modec.runtime.router import Router

__all__ = ["DocumentAnalysis", "Overlay", "RoleRef", "analyse_document", "uri_path"]

#: Open buffers by resolved path: their unsaved text wins over the file on disk.
Overlay = Mapping[Path, str]


def uri_path(uri: str) -> Path | None:
    """The local path of a ``file:`` URI, else None (untitled buffers)."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


@dataclass(frozen=True)
class RoleRef:
    """A place where a role is named: its definition, or a use of its name."""

    name: str
    span: Span
    definition: bool


def _overlay_loader(overlay: Overlay) -> Callable[[Path, str], LoadResult]:
    def load(path: Path, display: str) -> LoadResult:
        try:
            text = overlay.get(path.resolve())
        except OSError:
            text = None
        if text is not None:
            return load_bytes(text.encode("utf-8", "surrogatepass"), display)
        return load_path(path, display=display)

    return load


def _compile(text: str, display: str, path: Path, overlay: Overlay) -> Compilation:
    """The pipeline's stages on ``text``; ``build`` reads extended files through the overlay."""
    c = Compilation(path=display, file_path=path, data=text.encode("utf-8", "surrogatepass"))
    loader = _overlay_loader(overlay)
    for name, stage in STAGES:
        if name == "build":
            assert c.loaded is not None
            result = build_mode(c.loaded, c.file_path, loader=loader)
            c.sources.update(result.sources)
            c.diagnostics.extend(result.diagnostics)
            c.mode = result.mode
        else:
            stage(c)
        if not c.ok or (name == "build" and c.mode is None):
            break
    return c


@dataclass(frozen=True)
class DocumentAnalysis:
    """A compiled snapshot of one buffer (see the module docstring)."""

    uri: str
    version: int
    text: str
    display: str
    compilation: Compilation
    index: LineIndex = field(repr=False)

    @property
    def mode(self) -> ModeFile | None:
        return self.compilation.mode

    @property
    def root(self) -> YNode | None:
        loaded = self.compilation.loaded
        return loaded.root if loaded is not None else None

    def is_local(self, span: Span | None) -> bool:
        """Does ``span`` lie in this buffer (not in a file it extends)?"""
        return span is not None and span.file == self.display

    def path_of(self, span: Span) -> Path | None:
        """The file a span lies in: this buffer, a neighbour, or a bundled mode."""
        if span.file == self.display:
            return uri_path(self.uri)
        bundled = bundled_mode_path(span.file)
        if bundled is not None and not Path(span.file).is_absolute():
            return bundled
        return Path(span.file)

    def source_text(self, span: Span) -> str | None:
        return self.compilation.sources.get(span.file)

    # ------------------------------------------------------------------ roles and rules

    @cached_property
    def role_refs(self) -> tuple[RoleRef, ...]:
        """Every definition and every named use of a role, in the resolved mode."""
        mode = self.mode
        if mode is None:
            return ()
        return tuple(_role_refs(mode))

    def roles(self) -> dict[str, Role]:
        return dict(self.mode.roles) if self.mode is not None else _roles_from_tree(self.root)

    def rules(self) -> tuple[Rule, ...]:
        return self.mode.rules if self.mode is not None else ()

    @cached_property
    def row_ranks(self) -> dict[str, int]:
        """Each row's 1-based place in the decision table (the fallback is not a row)."""
        from modec.compiler.table import ordered_rules

        rows = [r for r in ordered_rules(self.rules()) if r.condition is not None]
        return {row.name: i for i, row in enumerate(rows, 1)}

    def task_types(self) -> list[str]:
        names = [r.name for r in self.rules()]
        if FALLBACK_TYPE not in names:
            names.append(FALLBACK_TYPE)
        return names

    @cached_property
    def router(self) -> Router | None:
        """The compiled router of a buffer without errors (built once, on first use)."""
        artifact = self.compilation.artifact
        if artifact is None:
            return None
        from modec.runtime.router import load_router

        return load_router(artifact)


def _role_refs(mode: ModeFile) -> Iterator[RoleRef]:
    for role in mode.roles.values():
        yield RoleRef(role.name, role.name_span, True)
        for listed, span in role.specialist_spans.items():
            yield RoleRef(listed, span, False)
    for rule in mode.rules:
        if rule.implicit:
            continue
        if rule.required_specialist and rule.required_specialist_span is not None:
            yield RoleRef(rule.required_specialist, rule.required_specialist_span, False)
        for name, span in zip(rule.secondary_review, rule.secondary_review_spans, strict=False):
            yield RoleRef(name, span, False)
    config = mode.configuration
    if config.default_specialist and config.default_specialist_span is not None:
        yield RoleRef(config.default_specialist, config.default_specialist_span, False)
    if mode.validation is not None:
        for name, span in zip(
            mode.validation.required_roles, mode.validation.required_role_spans, strict=False
        ):
            yield RoleRef(name, span, False)


def _roles_from_tree(root: YNode | None) -> dict[str, Role]:
    """Roles of a buffer that does not build: top-level mappings with ``role_definition``."""
    roles: dict[str, Role] = {}
    if root is None:
        return roles
    for key, value in root.items:
        definition = value.get("role_definition") if value.kind == "map" else None
        if key.raw and definition is not None and isinstance(definition.value, str):
            roles[key.raw] = Role(
                span=value.span, name=key.raw, name_span=key.span, role_definition=definition.value
            )
    return roles


def _is_foreign(path: Path | None) -> bool:
    if path is None or (path.suffix in (".yaml", ".yml") and path.parent.name == "roles"):
        return False
    from modec.interop import is_foreign

    try:
        return is_foreign(path)
    except (OSError, ValueError):
        return False


def _lint_foreign(text: str, path: Path, display: str) -> Compilation:
    """Another tool's agent file (``.roomodes``, ``.claude/agents/*.md`` …), linted through
    its importer as ``modec lint`` does; the buffer's text is what is linted."""
    import tempfile

    from modec.interop import lint_foreign

    with tempfile.TemporaryDirectory(prefix="modec-lsp-") as scratch:
        tail = Path(*path.parts[-4:]) if len(path.parts) > 4 else Path(*path.parts[1:])
        mirror = Path(scratch) / tail
        mirror.parent.mkdir(parents=True, exist_ok=True)
        mirror.write_text(text, encoding="utf-8", errors="surrogatepass")
        found = lint_foreign([mirror])
    c = Compilation(path=display, file_path=path)
    c.sources[display] = text
    for d in found:
        if d.span is not None and d.span.file == str(mirror):
            d = d.model_copy(update={"span": d.span.model_copy(update={"file": display})})
        c.diagnostics.append(d)
    return c


def analyse_document(uri: str, text: str, version: int, overlay: Overlay) -> DocumentAnalysis:
    """Compile one buffer (never raises for a bad buffer: problems are diagnostics).

    A mode file goes through the compiler's stages; another tool's agent file through its
    importer's lint (diagnostics only).
    """
    path = uri_path(uri)
    display = str(path) if path is not None else uri
    file_path = path if path is not None else Path.cwd() / "untitled.yaml"
    if path is not None and _is_foreign(path):
        compilation = _lint_foreign(text, path, display)
    else:
        compilation = _compile(text, display, file_path, overlay)
    return DocumentAnalysis(
        uri=uri,
        version=version,
        text=text,
        display=display,
        compilation=compilation,
        index=LineIndex(text),
    )
