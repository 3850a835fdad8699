"""modec diagnostics as LSP diagnostics, quick fixes from their fixes, semantic tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from lsprotocol import types as lsp

from modec.diagnostics import Diagnostic, Severity
from modec.grammar.tokens import condition_tokens
from modec.lsp.documents import DocumentAnalysis

__all__ = [
    "CODE_DOCS",
    "TOKEN_TYPES",
    "code_actions",
    "lsp_diagnostics",
    "semantic_tokens",
]

#: Where a code is documented: the README's diagnostic table, one anchor per code.
CODE_DOCS: Final = "https://modec.dev/docs/diagnostics#{code}"

_SEVERITY: Final = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.NOTE: lsp.DiagnosticSeverity.Information,
}

#: Semantic token legend (indices are the token type numbers sent to the client).
TOKEN_TYPES: Final = ("property", "operator", "keyword", "string", "number", "regexp", "enumMember")
_TOKEN_INDEX: Final = {
    "field": 0,
    "operator": 1,
    "keyword": 2,
    "string": 3,
    "number": 4,
    "regex": 5,
    "value": 6,
}


def _message(d: Diagnostic) -> str:
    text = d.message
    if d.hint:
        text += f"\nhelp: {d.hint}"
    if d.fix is not None:
        text += f"\nfix available: {d.fix.description}"
    return text


def _related(analysis: DocumentAnalysis, d: Diagnostic) -> list[lsp.DiagnosticRelatedInformation]:
    out = []
    for rel in d.related:
        path = analysis.path_of(rel.span)
        if analysis.is_local(rel.span):
            uri, rng = analysis.uri, analysis.index.range(rel.span)
        elif path is not None:
            from modec.lsp.positions import span_to_range

            uri = path.resolve().as_uri()
            rng = span_to_range(rel.span, analysis.source_text(rel.span))
        else:
            continue
        out.append(
            lsp.DiagnosticRelatedInformation(
                location=lsp.Location(uri=uri, range=rng), message=rel.message
            )
        )
    return out


def to_lsp(analysis: DocumentAnalysis, d: Diagnostic) -> lsp.Diagnostic:
    """One diagnostic of this buffer (a span elsewhere, or none, lands on line 1)."""
    if d.span is not None and analysis.is_local(d.span):
        rng = analysis.index.range(d.span)
    else:
        zero = lsp.Position(line=0, character=0)
        rng = lsp.Range(start=zero, end=zero)
    return lsp.Diagnostic(
        range=rng,
        message=_message(d)
        if analysis.is_local(d.span) or d.span is None
        else f"{d.span.file}:{d.span.line}:{d.span.column}: {_message(d)}",
        severity=_SEVERITY[d.severity],
        code=d.code,
        code_description=lsp.CodeDescription(href=CODE_DOCS.format(code=d.code.lower())),
        source="modec",
        related_information=_related(analysis, d) or None,
        data={"index": _key(d)},
    )


def _key(d: Diagnostic) -> str:
    span = d.span
    where = f"{span.line}:{span.column}" if span is not None else ""
    return f"{d.code}@{where}"


def lsp_diagnostics(analysis: DocumentAnalysis) -> list[lsp.Diagnostic]:
    """The buffer's diagnostics, sorted as the compiler sorts them."""
    return [to_lsp(analysis, d) for d in analysis.compilation.sorted_diagnostics()]


def _overlaps(a: lsp.Range, b: lsp.Range) -> bool:
    def key(p: lsp.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _fixable(analysis: DocumentAnalysis) -> Iterable[Diagnostic]:
    for d in analysis.compilation.sorted_diagnostics():
        if d.fix is not None and all(analysis.is_local(e.span) for e in d.fix.edits):
            yield d


def _edit(analysis: DocumentAnalysis, d: Diagnostic) -> lsp.WorkspaceEdit:
    assert d.fix is not None
    edits = [
        lsp.TextEdit(range=analysis.index.range(e.span), new_text=e.new_text) for e in d.fix.edits
    ]
    return lsp.WorkspaceEdit(changes={analysis.uri: edits})


def code_actions(
    analysis: DocumentAnalysis, rng: lsp.Range, only: Iterable[str] | None = None
) -> list[lsp.CodeAction]:
    """Quick fixes for the fixable diagnostics in ``rng``, and one fix-all source action."""
    kinds = set(only) if only is not None else None
    actions: list[lsp.CodeAction] = []
    fixable = list(_fixable(analysis))
    if kinds is None or lsp.CodeActionKind.QuickFix in kinds:
        for d in fixable:
            assert d.fix is not None and d.span is not None
            if not _overlaps(analysis.index.range(d.span), rng):
                continue
            actions.append(
                lsp.CodeAction(
                    title=f"{d.fix.description} ({d.code})",
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[to_lsp(analysis, d)],
                    edit=_edit(analysis, d),
                    is_preferred=True,
                )
            )
    fix_all = "source.fixAll.modec"
    if fixable and (kinds is None or fix_all in kinds or lsp.CodeActionKind.SourceFixAll in kinds):
        chosen: list[lsp.TextEdit] = []
        taken: list[lsp.Range] = []
        for d in fixable:
            assert d.fix is not None
            ranges = [analysis.index.range(e.span) for e in d.fix.edits]
            if any(_overlaps(r, t) for r in ranges for t in taken):
                continue  # a later pass (or the next save) applies it
            taken.extend(ranges)
            chosen.extend(
                lsp.TextEdit(range=r, new_text=e.new_text)
                for r, e in zip(ranges, d.fix.edits, strict=True)
            )
        actions.append(
            lsp.CodeAction(
                title=f"modec: apply {len(chosen)} fix(es)",
                kind=fix_all,
                edit=lsp.WorkspaceEdit(changes={analysis.uri: chosen}),
            )
        )
    return actions


def semantic_tokens(analysis: DocumentAnalysis) -> lsp.SemanticTokens:
    """Tokens of every ``when:`` condition of this buffer, LSP-encoded (relative positions)."""
    root = analysis.root
    found: list[tuple[int, int, int, int]] = []  # line, start char, length, type
    rules = root.get("task_routing_rules") if root is not None else None
    if rules is not None and rules.kind == "map":
        for _, body in rules.items:
            when = body.get("when") if body.kind == "map" else None
            if when is None or not isinstance(when.raw, str):
                continue
            for token in condition_tokens(when.raw):
                span = when.locate(token.start, token.end)
                if span.line != span.end_line:
                    continue  # LSP tokens cannot span lines
                rng = analysis.index.range(span)
                found.append(
                    (
                        rng.start.line,
                        rng.start.character,
                        rng.end.character - rng.start.character,
                        _TOKEN_INDEX[token.kind],
                    )
                )
    found.sort()
    data: list[int] = []
    last_line = last_char = 0
    for line, char, length, kind in found:
        delta_line = line - last_line
        delta_char = char - last_char if delta_line == 0 else char
        data += [delta_line, delta_char, max(length, 0), kind, 0]
        last_line, last_char = line, char
    return lsp.SemanticTokens(data=data)
