"""End to end: a real LSP client (pytest-lsp) talking to `python -m modec.lsp` over stdio."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from modec.compiler.build import bundled_mode_path

pytestmark = pytest.mark.asyncio(loop_scope="module")

MODE = Path(__file__).parents[2] / "modec" / "modes" / "development_mode.yaml"


def _caps(pull: bool) -> lsp.ClientCapabilities:
    markdown = [lsp.MarkupKind.Markdown, lsp.MarkupKind.PlainText]
    text = lsp.TextDocumentClientCapabilities(
        diagnostic=lsp.DiagnosticClientCapabilities(related_document_support=False)
        if pull
        else None,
        publish_diagnostics=lsp.PublishDiagnosticsClientCapabilities(related_information=True),
        hover=lsp.HoverClientCapabilities(content_format=markdown),
        completion=lsp.CompletionClientCapabilities(
            completion_item=lsp.ClientCompletionItemOptions(documentation_format=markdown)
        ),
    )
    return lsp.ClientCapabilities(text_document=text)


@pytest_lsp.fixture(
    loop_scope="module",
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "modec", "lsp"]),
)
async def client(lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
    await lsp_client.initialize_session(
        lsp.InitializeParams(capabilities=_caps(pull=True), initialization_options={"debounce": 0})
    )
    yield lsp_client
    await lsp_client.shutdown_session()


class Buffer:
    """One open document of the client, edited by whole-text changes."""

    def __init__(self, client: LanguageClient, path: Path, text: str) -> None:
        self.client, self.uri, self.text, self.version = client, path.as_uri(), text, 1
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=self.uri, language_id="yaml", version=1, text=text
                )
            )
        )

    def change(self, text: str) -> None:
        self.version += 1
        self.text = text
        self.client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def replace(self, old: str, new: str) -> None:
        assert self.text.count(old) == 1, old
        self.change(self.text.replace(old, new))

    def position(self, needle: str, offset: int = 0) -> lsp.Position:
        """The position of ``needle`` (+ offset characters) in the text; ASCII lines only."""
        index = self.text.index(needle) + offset
        line = self.text.count("\n", 0, index)
        return lsp.Position(line=line, character=index - (self.text.rfind("\n", 0, index) + 1))

    def doc(self) -> lsp.TextDocumentIdentifier:
        return lsp.TextDocumentIdentifier(uri=self.uri)

    async def diagnostics(self) -> list[lsp.Diagnostic]:
        report = await self.client.text_document_diagnostic_async(
            lsp.DocumentDiagnosticParams(text_document=self.doc())
        )
        assert isinstance(report, lsp.RelatedFullDocumentDiagnosticReport)
        return list(report.items)

    def close(self) -> None:
        self.client.text_document_did_close(
            lsp.DidCloseTextDocumentParams(text_document=self.doc())
        )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copy(MODE, tmp_path / "development_mode.yaml")
    return tmp_path


def _errors(diags: list[lsp.Diagnostic]) -> list[lsp.Diagnostic]:
    return [d for d in diags if d.severity == lsp.DiagnosticSeverity.Error]


def _at(b: Buffer, needle: str, length: int | None = None, offset: int = 0) -> lsp.Range:
    start = b.position(needle, offset)
    n = len(needle) - offset if length is None else length
    return lsp.Range(start=start, end=lsp.Position(line=start.line, character=start.character + n))


async def test_bundled_mode_is_clean(client: LanguageClient, workdir: Path) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    assert _errors(await b.diagnostics()) == []
    b.close()


MISTAKES = [
    # (replace this, with this, expected code, the text the range must cover)
    ("required_specialist: debugger", "required_specialist: debuger", "MC206", "debuger"),
    ("complexity <= simple)'", "complexity <= simple'", "MC401", None),
    (
        "keywords: [release, changelog, version bump]",
        'keywords: [release, "", changelog]',
        "MC303",
        '""',
    ),
    ("priority: 10", "priority: high", "MC101", "high"),
    ("  design_tasks:\n", "  design_tasks:\n    whenn: 'true'\n", "MC103", "whenn"),
]


@pytest.mark.parametrize(("old", "new", "code", "covered"), MISTAKES, ids=[m[2] for m in MISTAKES])
async def test_each_mistake_is_reported_at_its_range(
    client: LanguageClient, workdir: Path, old: str, new: str, code: str, covered: str | None
) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    assert _errors(await b.diagnostics()) == []
    b.replace(old, new)
    diags = [d for d in await b.diagnostics() if d.code == code]
    assert diags, f"no {code} after the edit"
    if covered is not None:
        assert diags[0].range == _at(b, covered)
    else:
        line = b.position(new).line
        assert diags[0].range.start.line == line
    assert diags[0].code_description is not None
    assert code.lower() in diags[0].code_description.href
    b.replace(new, old)
    assert _errors(await b.diagnostics()) == []
    b.close()


async def test_unclosed_quote_is_a_yaml_error(client: LanguageClient, workdir: Path) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    b.replace('version: "1.0"', 'version: "1.0')
    codes = {d.code for d in _errors(await b.diagnostics())}
    assert "MC004" in codes
    b.close()


async def test_quick_fix_gives_a_clean_file(client: LanguageClient, workdir: Path) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    b.replace("required_specialist: debugger", "required_specialist: debuger")
    diag = next(d for d in await b.diagnostics() if d.code == "MC206")
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=b.doc(),
            range=diag.range,
            context=lsp.CodeActionContext(diagnostics=[diag]),
        )
    )
    assert actions
    fix = next(
        a
        for a in actions
        if isinstance(a, lsp.CodeAction) and a.kind == lsp.CodeActionKind.QuickFix
    )
    assert fix.edit is not None and fix.edit.changes is not None
    b.change(_apply(b.text, fix.edit.changes[b.uri]))
    assert "required_specialist: debugger" in b.text
    assert _errors(await b.diagnostics()) == []
    b.close()


def _apply(text: str, edits: list[lsp.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(p: lsp.Position) -> int:
        return starts[p.line] + p.character

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


async def test_completion_lists_the_roles(client: LanguageClient, workdir: Path) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    await b.diagnostics()  # the first snapshot (roles come from it, extends included)
    b.replace("required_specialist: debugger", "required_specialist: de")
    result = await client.text_document_completion_async(
        lsp.CompletionParams(
            text_document=b.doc(), position=b.position("required_specialist: de", 23)
        )
    )
    assert result is not None
    items = result.items if isinstance(result, lsp.CompletionList) else result
    labels = {i.label for i in items}
    assert {"debugger", "implementer", "release_manager", "performance_optimizer"} <= labels
    b.close()


async def test_completion_of_rule_keys_and_when_fields(
    client: LanguageClient, workdir: Path
) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    b.replace("    priority: 10\n", "    priority: 10\n    req\n")
    result = await client.text_document_completion_async(
        lsp.CompletionParams(text_document=b.doc(), position=b.position("    req\n", 7))
    )
    items = result.items if isinstance(result, lsp.CompletionList) else result
    labels = {i.label for i in items}
    assert {"required_specialist", "secondary_review", "priority", "when"} <= labels
    b.replace("    req\n", "    when: 'title \n")
    result = await client.text_document_completion_async(
        lsp.CompletionParams(text_document=b.doc(), position=b.position("when: 'title \n", 13))
    )
    items = result.items if isinstance(result, lsp.CompletionList) else result
    labels = {i.label for i in items}
    assert {"contains", "mentions", "matches"} <= labels
    b.close()


async def test_hover_on_a_role_shows_its_definition(client: LanguageClient, workdir: Path) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    hover = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=b.doc(), position=b.position("required_specialist: release_manager", 25)
        )
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "Release Manager who ships versions safely" in hover.contents.value
    assert hover.range == _at(b, "release_manager", offset=0) or hover.range == _at(
        b, "required_specialist: release_manager", length=15, offset=21
    )
    b.close()


async def test_hover_on_a_rule_shows_its_rank(client: LanguageClient, workdir: Path) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    hover = await client.text_document_hover_async(
        lsp.HoverParams(text_document=b.doc(), position=b.position("  hotfix_tasks:", 4))
    )
    assert hover is not None and isinstance(hover.contents, lsp.MarkupContent)
    assert "row 1 of" in hover.contents.value
    assert "hit policy `first`" in hover.contents.value
    b.close()


async def test_definition_across_extends(client: LanguageClient, workdir: Path) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    local = await client.text_document_definition_async(
        lsp.DefinitionParams(
            text_document=b.doc(), position=b.position("required_specialist: release_manager", 25)
        )
    )
    assert isinstance(local, lsp.Location)
    assert local.uri == b.uri
    assert local.range == _at(b, "release_manager:\n", length=len("release_manager"))
    remote = await client.text_document_definition_async(
        lsp.DefinitionParams(
            text_document=b.doc(), position=b.position("required_specialist: implementer", 25)
        )
    )
    assert isinstance(remote, lsp.Location)
    bundled = bundled_mode_path("default_roles.yaml")
    assert bundled is not None
    assert remote.uri == bundled.resolve().as_uri()
    lines = bundled.read_text().splitlines()
    assert lines[remote.range.start.line][remote.range.start.character :].startswith("implementer:")
    b.close()


async def test_references_of_a_role(client: LanguageClient, workdir: Path) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    refs = await client.text_document_references_async(
        lsp.ReferenceParams(
            text_document=b.doc(),
            position=b.position("required_specialist: release_manager", 25),
            context=lsp.ReferenceContext(include_declaration=True),
        )
    )
    assert refs is not None
    lines = sorted(r.range.start.line for r in refs if r.uri == b.uri)
    expected = [i for i, text in enumerate(b.text.splitlines()) if "release_manager" in text]
    assert lines == expected
    b.close()


async def test_code_lens_on_tests_examples(client: LanguageClient, workdir: Path) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(text_document=b.doc()))
    assert lenses is not None and len(lenses) == 8
    titles = [lens.command.title for lens in lenses if lens.command is not None]
    assert all(t.startswith("✓ passes") for t in titles), titles
    assert "decided by hotfix_tasks (row 1)" in titles[0]
    b.replace("    expect_specialist: debugger\n", "    expect_specialist: reviewer\n")
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(text_document=b.doc()))
    assert lenses is not None
    first = lenses[0].command
    assert first is not None and first.title.startswith("✗ fails: expected specialist reviewer")
    b.close()


async def test_semantic_tokens_of_when(client: LanguageClient, workdir: Path) -> None:
    path = workdir / "development_mode.yaml"
    b = Buffer(client, path, path.read_text())
    tokens = await client.text_document_semantic_tokens_full_async(
        lsp.SemanticTokensParams(text_document=b.doc())
    )
    assert tokens is not None and len(tokens.data) % 5 == 0
    line = b.position("when: 'tags contains").line
    first = tokens.data[:5]
    assert first[0] == line  # the first token is on the hotfix rule's when: line
    assert first[1] == b.position("tags contains").character
    assert first[2] == len("tags")
    b.close()


async def test_extends_reads_the_unsaved_parent(client: LanguageClient, tmp_path: Path) -> None:
    parent = tmp_path / "team_roles.yaml"
    parent.write_text(
        "task_orchestrator:\n  role_definition: lead\n  specialist_roles:\n"
        "    coder: writes code\ncoder:\n  role_definition: You write code\n"
    )
    child = tmp_path / "team_mode.yaml"
    child.write_text(
        "mode_metadata:\n  extends: team_roles.yaml\ntask_routing_rules:\n"
        "  general_tasks:\n    required_specialist: coder\n"
    )
    p = Buffer(client, parent, parent.read_text())
    c = Buffer(client, child, child.read_text())
    assert _errors(await c.diagnostics()) == []
    p.change(p.text.replace("coder:\n  role_definition", "writer:\n  role_definition"))
    await p.diagnostics()
    for _ in range(200):  # the child is recompiled because its parent changed
        if any(d.code == "MC206" for d in await c.diagnostics()):
            break
        await asyncio.sleep(0.05)
    assert any(d.code == "MC206" for d in await c.diagnostics())
    p.close()
    c.close()


async def test_an_overlap_points_at_the_other_row(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "unique_mode.yaml"
    text = (
        "task_orchestrator:\n  role_definition: o\n  specialist_roles: {a: x, b: y}\n"
        "a:\n  role_definition: a\nb:\n  role_definition: b\n"
        "mode_configuration:\n  hit_policy: unique\n"
        "task_routing_rules:\n  one_tasks:\n    keywords: [alpha]\n    required_specialist: a\n"
        "  two_tasks:\n    keywords: [alpha beta]\n    required_specialist: b\n"
    )
    b = Buffer(client, path, text)
    (overlap,) = [d for d in await b.diagnostics() if d.code == "MC602"]
    assert overlap.range == _at(b, "two_tasks")
    assert overlap.related_information is not None
    (other,) = overlap.related_information
    assert other.location.uri == b.uri
    assert other.location.range == _at(b, "one_tasks")
    b.close()


async def test_another_tools_agent_file_is_linted_through_its_importer(
    client: LanguageClient, tmp_path: Path
) -> None:
    agents = tmp_path / ".claude" / "agents"
    agents.mkdir(parents=True)
    path = agents / "reviewer.md"
    saved = (
        "---\nname: reviewer\ndescription: Use after every change to review the diff\n"
        "---\nYou review.\n"
    )
    path.write_text(saved)
    b = Buffer(client, path, saved)
    codes = {d.code for d in await b.diagnostics()}
    assert "MC716" in codes and "MC704" not in codes
    # the unsaved buffer is what is linted: broken frontmatter is what Claude Code drops
    b.change("---\nname: [reviewer\ndescription: x\n---\nYou review.\n")
    broken = [d for d in await b.diagnostics() if d.code == "MC704"]
    assert broken and broken[0].severity == lsp.DiagnosticSeverity.Error
    b.close()
