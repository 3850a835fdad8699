"""Push diagnostics, bursts of edits and huge buffers, against `python -m modec.lsp`."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

MODE = Path(__file__).parents[2] / "modec" / "modes" / "development_mode.yaml"


@pytest_lsp.fixture(
    loop_scope="module",
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "modec", "lsp"]),
)
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    # No `diagnostic` capability: the server pushes textDocument/publishDiagnostics.
    await lsp_client.initialize_session(
        lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), initialization_options={"debounce": 0.05}
        )
    )
    yield lsp_client
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, uri: str, text: str) -> None:
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)
        )
    )


def _change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def _published(
    client: LanguageClient, uri: str, version: int
) -> lsp.PublishDiagnosticsParams:
    """The next publishDiagnostics for ``uri`` at ``version`` (older ones are skipped)."""
    for _ in range(1000):
        params = await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if params.uri == uri and params.version == version:
            return params  # type: ignore[no-any-return]
    raise AssertionError(f"no diagnostics for {uri} version {version}")


async def test_diagnostics_are_pushed_on_open_and_change(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "development_mode.yaml"
    text = MODE.read_text()
    path.write_text(text)
    uri = path.as_uri()
    _open(client, uri, text)
    first = await _published(client, uri, 1)
    assert [d for d in first.diagnostics if d.severity == lsp.DiagnosticSeverity.Error] == []
    _change(
        client,
        uri,
        2,
        text.replace("required_specialist: debugger", "required_specialist: debuger"),
    )
    second = await _published(client, uri, 2)
    assert [d.code for d in second.diagnostics if d.code == "MC206"] == ["MC206"]


async def test_a_burst_of_edits_ends_on_the_last_version(
    client: LanguageClient, tmp_path: Path
) -> None:
    path = tmp_path / "burst.yaml"
    text = MODE.read_text()
    uri = path.as_uri()
    _open(client, uri, text)
    await _published(client, uri, 1)
    broken = text.replace("required_specialist: debugger", "required_specialist: debuger")
    last = 40
    for version in range(2, last + 1):
        _change(client, uri, version, broken if version % 2 == 0 else text)
    final = await _published(client, uri, last)
    assert [d.code for d in final.diagnostics if d.code == "MC206"] == ["MC206"]


async def test_a_huge_buffer_is_refused_and_the_server_keeps_answering(
    client: LanguageClient, tmp_path: Path
) -> None:
    uri = (tmp_path / "huge.yaml").as_uri()
    _open(client, uri, "task_orchestrator:\n  role_definition: " + "x" * (1 << 21) + "\n")
    published = await _published(client, uri, 1)
    assert [d.code for d in published.diagnostics] == ["MC002"]
    result = await client.text_document_completion_async(
        lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=1, character=2),
        )
    )
    assert result is not None


async def test_binary_garbage_gives_a_diagnostic(client: LanguageClient, tmp_path: Path) -> None:
    uri = (tmp_path / "garbage.yaml").as_uri()
    _open(client, uri, "\x00\x01{[: ::\ufffe\n\t- ]")
    published = await _published(client, uri, 1)
    assert published.diagnostics
    assert all(d.source == "modec" for d in published.diagnostics)
