"""The language server: pygls wiring over the compiler snapshots of :mod:`modec.lsp.documents`.

Work per keystroke is bounded: a change only (re)starts a debounced compile of that buffer,
which runs on a worker thread so the server keeps answering; a newer edit cancels the wait of
an older one, and a compile that finishes for an outdated version is dropped. Requests that
need positions (hover, definition, code lenses, semantic tokens, code actions) wait for the
snapshot of the buffer's current version; completion answers at once from the text and the
last snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, Final

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from modec._version import __version__
from modec.lsp.completion import complete
from modec.lsp.diagnose import TOKEN_TYPES, code_actions, lsp_diagnostics, semantic_tokens
from modec.lsp.documents import DocumentAnalysis, analyse_document, uri_path
from modec.lsp.navigation import code_lenses, definition, hover, references

__all__ = ["DEFAULT_DEBOUNCE", "ModecLanguageServer", "build_server"]

#: Seconds of quiet after an edit before the buffer is recompiled.
DEFAULT_DEBOUNCE: Final = 0.15


class ModecLanguageServer(LanguageServer):
    """A pygls server holding one compiled snapshot per open buffer."""

    def __init__(self) -> None:
        super().__init__("modec", __version__)
        self.analyses: dict[str, DocumentAnalysis] = {}
        self.pending: dict[str, asyncio.Task[DocumentAnalysis | None]] = {}
        self.debounce = DEFAULT_DEBOUNCE
        self.push = True
        self.markdown_hover = False
        self.markdown_completion = False

    # ------------------------------------------------------------------ snapshots

    def _overlay(self) -> dict[Path, str]:
        overlay: dict[Path, str] = {}
        for uri, doc in self.workspace.text_documents.items():
            path = uri_path(uri)
            if path is not None:
                with contextlib.suppress(OSError):
                    overlay[path.resolve()] = doc.source
        return overlay

    def schedule(self, uri: str, delay: float) -> None:
        """(Re)start the compile of ``uri`` after ``delay`` seconds of quiet."""
        old = self.pending.pop(uri, None)
        if old is not None and not old.done():
            old.cancel()
        self.pending[uri] = asyncio.ensure_future(self._refresh(uri, delay))

    async def _refresh(self, uri: str, delay: float) -> DocumentAnalysis | None:
        if delay > 0:
            await asyncio.sleep(delay)
        doc = self.workspace.get_text_document(uri)
        version, text = doc.version or 0, doc.source
        overlay = self._overlay()
        loop = asyncio.get_running_loop()
        analysis = await loop.run_in_executor(None, analyse_document, uri, text, version, overlay)
        current = self.workspace.text_documents.get(uri)
        if current is None or (current.version or 0) != version or current.source != text:
            return None  # outdated: a newer compile is on its way
        self.analyses[uri] = analysis
        if self.push:
            self.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(
                    uri=uri, diagnostics=lsp_diagnostics(analysis), version=version
                )
            )
        self._refresh_dependents(uri, analysis)
        return analysis

    def _refresh_dependents(self, uri: str, analysis: DocumentAnalysis) -> None:
        """Recompile the other open buffers that extend this one (they read its text)."""
        for other, snapshot in list(self.analyses.items()):
            if other != uri and analysis.display in snapshot.compilation.sources:
                pending = self.pending.get(other)
                if pending is None or pending.done():
                    self.schedule(other, self.debounce)

    async def current(self, uri: str) -> DocumentAnalysis | None:
        """The snapshot of the buffer's current text (waiting for its compile if need be)."""
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return None
        for attempt in range(2):
            pending = self.pending.get(uri)
            if pending is not None and not pending.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(pending)
            snapshot = self.analyses.get(uri)
            if (
                snapshot is not None
                and snapshot.version == (doc.version or 0)
                and snapshot.text == doc.source
            ):
                return snapshot
            if attempt == 0:
                self.schedule(uri, 0)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            None, analyse_document, uri, doc.source, doc.version or 0, self._overlay()
        )


def _position(analysis: DocumentAnalysis, position: lsp.Position) -> tuple[int, int]:
    offset = analysis.index.to_offset(position)
    return analysis.index.position(offset)


def build_server() -> ModecLanguageServer:
    """A fresh server with every feature registered (tests start one per process)."""
    server = ModecLanguageServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: ModecLanguageServer, params: lsp.InitializeParams) -> None:
        options: Any = params.initialization_options or {}
        if isinstance(options, dict):
            debounce = options.get("debounce")
            if isinstance(debounce, int | float) and 0 <= debounce <= 10:
                ls.debounce = float(debounce)
        text_caps = params.capabilities.text_document
        ls.push = not (text_caps is not None and text_caps.diagnostic is not None)
        if text_caps is not None:
            hover_caps = text_caps.hover
            ls.markdown_hover = bool(
                hover_caps
                and hover_caps.content_format
                and lsp.MarkupKind.Markdown in hover_caps.content_format
            )
            item = text_caps.completion.completion_item if text_caps.completion else None
            ls.markdown_completion = bool(
                item
                and item.documentation_format
                and lsp.MarkupKind.Markdown in item.documentation_format
            )

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ModecLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ModecLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, ls.debounce)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ModecLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ModecLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        ls.analyses.pop(uri, None)
        if ls.push:
            ls.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    @server.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC,
        lsp.DiagnosticOptions(inter_file_dependencies=True, workspace_diagnostics=False),
    )
    async def pull(
        ls: ModecLanguageServer, params: lsp.DocumentDiagnosticParams
    ) -> lsp.DocumentDiagnosticReport:
        analysis = await ls.current(params.text_document.uri)
        items = lsp_diagnostics(analysis) if analysis is not None else []
        return lsp.RelatedFullDocumentDiagnosticReport(items=items)

    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION,
        lsp.CompletionOptions(trigger_characters=[":", " ", "(", ".", "-"]),
    )
    def completion(ls: ModecLanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        from modec.lsp.positions import LineIndex

        index = LineIndex(doc.source)
        line, column = index.position(index.to_offset(params.position))
        items = complete(
            ls.analyses.get(params.text_document.uri),
            doc.source,
            line,
            column,
            markdown=ls.markdown_completion,
        )
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: ModecLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
        analysis = await ls.current(params.text_document.uri)
        if analysis is None:
            return None
        line, column = _position(analysis, params.position)
        return hover(analysis, line, column, markdown=ls.markdown_hover)

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    async def on_definition(
        ls: ModecLanguageServer, params: lsp.DefinitionParams
    ) -> lsp.Location | None:
        analysis = await ls.current(params.text_document.uri)
        if analysis is None:
            return None
        return definition(analysis, *_position(analysis, params.position))

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    async def on_references(
        ls: ModecLanguageServer, params: lsp.ReferenceParams
    ) -> list[lsp.Location]:
        analysis = await ls.current(params.text_document.uri)
        if analysis is None:
            return []
        line, column = _position(analysis, params.position)
        return references(analysis, line, column, params.context.include_declaration)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
    async def on_code_lens(
        ls: ModecLanguageServer, params: lsp.CodeLensParams
    ) -> list[lsp.CodeLens]:
        analysis = await ls.current(params.text_document.uri)
        return code_lenses(analysis) if analysis is not None else []

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(
            code_action_kinds=[lsp.CodeActionKind.QuickFix, "source.fixAll.modec"]
        ),
    )
    async def on_code_action(
        ls: ModecLanguageServer, params: lsp.CodeActionParams
    ) -> list[lsp.CodeAction]:
        analysis = await ls.current(params.text_document.uri)
        if analysis is None:
            return []
        return code_actions(analysis, params.range, params.context.only)

    @server.feature(
        lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
        lsp.SemanticTokensLegend(token_types=list(TOKEN_TYPES), token_modifiers=[]),
    )
    async def on_tokens(
        ls: ModecLanguageServer, params: lsp.SemanticTokensParams
    ) -> lsp.SemanticTokens:
        analysis = await ls.current(params.text_document.uri)
        return semantic_tokens(analysis) if analysis is not None else lsp.SemanticTokens(data=[])

    return server


def main() -> None:
    """Serve the Language Server Protocol on stdin/stdout until the client exits."""
    build_server().start_io()
