"""Spans (YAML lines, code points) to LSP positions (LSP lines, UTF-16), through offsets."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp

from modec.lsp.diagnose import lsp_diagnostics
from modec.lsp.documents import analyse_document
from modec.lsp.positions import LineIndex


def test_a_yaml_only_line_break_does_not_shift_the_client_lines(tmp_path: Path) -> None:
    # U+2028 breaks a YAML line (the loader counts it) but not an LSP line (the client's).
    text = (
        "task_orchestrator:\n  role_definition: o\n  specialist_roles: {a: x}\n"
        'a:\n  role_definition: "one\u2028two 😀"\n'
        "task_routing_rules:\n  r_tasks:\n    keywords: [x]\n    required_specialist: b\n"
    )
    analysis = analyse_document((tmp_path / "m.yaml").as_uri(), text, 1, {})
    (d,) = [d for d in lsp_diagnostics(analysis) if d.code == "MC206"]
    client_lines = text.split("\n")
    line = next(i for i, t in enumerate(client_lines) if "required_specialist: b" in t)
    assert d.range.start == lsp.Position(line=line, character=len("    required_specialist: "))
    assert d.range.end.character - d.range.start.character == 1


def test_round_trips_through_offsets() -> None:
    text = "a: '😀'\r\nb:\u2028 c\rd: e\n"
    index = LineIndex(text)
    for offset in range(len(text) + 1):
        if text[offset - 1 : offset + 1] == "\r\n":
            continue  # inside a CRLF: no position of its own
        assert index.to_offset(index.lsp_at(offset)) == offset
        line, column = index.position(offset)
        assert index.offset(line, column) == offset
