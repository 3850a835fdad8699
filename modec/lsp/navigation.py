"""Hover, go to definition, references and code lenses, read off a compiled snapshot."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from lsprotocol import types as lsp

from modec.compiler.ir import Rule
from modec.diagnostics import Span
from modec.grammar import format_expr
from modec.lsp.documents import DocumentAnalysis, RoleRef
from modec.lsp.positions import LineIndex

if TYPE_CHECKING:
    from modec.runtime.examples import ExampleResult

__all__ = ["Target", "code_lenses", "definition", "hover", "references", "target_at"]

_WORD: Final = re.compile(r"[A-Za-z_][\w.\-]*")
_FIELD_HOVER: Final[dict[str, str]] = {
    "title": "`title` — text: the task's title",
    "description": "`description` — text: the task's description",
    "text": '`text` — text: `title + "\\n" + description`',
    "tags": "`tags` — list of text; `contains` is element equality",
    "complexity": "`complexity` — integer 1–5; names trivial, simple, moderate, complex, "
    "very_complex",
}


def _inside(span: Span, line: int, column: int) -> bool:
    start = (span.line, span.column)
    end = (span.end_line, span.end_column)
    return start <= (line, column) <= end


@dataclass(frozen=True)
class Target:
    """What the cursor is on: a role (``role``), a rule (``rule``) or a `when:` field."""

    kind: str
    name: str
    span: Span


def target_at(analysis: DocumentAnalysis, line: int, column: int) -> Target | None:
    """The role, rule, keyword or field at a 1-based position of the buffer."""
    for ref in analysis.role_refs:
        if analysis.is_local(ref.span) and _inside(ref.span, line, column):
            return Target("role", ref.name, ref.span)
    for rule in analysis.rules():
        if (
            not rule.implicit
            and analysis.is_local(rule.name_span)
            and _inside(rule.name_span, line, column)
        ):
            return Target("rule", rule.name, rule.name_span)
    return _tree_target(analysis, line, column)


def _tree_target(analysis: DocumentAnalysis, line: int, column: int) -> Target | None:
    root = analysis.root
    rules = root.get("task_routing_rules") if root is not None else None
    if rules is None or rules.kind != "map":
        return None
    for _, body in rules.items:
        if body.kind != "map":
            continue
        keywords = body.get("keywords")
        if keywords is not None and keywords.kind == "seq":
            for item in keywords.children:
                if isinstance(item.raw, str) and _inside(item.span, line, column):
                    return Target("keyword", item.raw, item.span)
        when = body.get("when")
        if when is not None and isinstance(when.raw, str) and _inside(when.span, line, column):
            for m in _WORD.finditer(when.raw):
                span = when.locate(m.start(), m.end())
                if _inside(span, line, column):
                    word = m.group()
                    if word in _FIELD_HOVER or word.startswith("metadata."):
                        return Target("field", word, span)
    return None


def _rank(analysis: DocumentAnalysis, name: str) -> tuple[int, int] | None:
    ranks = analysis.row_ranks
    return (ranks[name], len(ranks)) if name in ranks else None


def _rule_hover(analysis: DocumentAnalysis, rule: Rule) -> str:
    mode = analysis.mode
    policy = mode.configuration.hit_policy if mode is not None else "first"
    lines = [f"**rule** `{rule.name}`"]
    rank = _rank(analysis, rule.name)
    if rank is not None:
        lines.append(
            f"row {rank[0]} of {rank[1]} · hit policy `{policy}` · priority {rule.priority}"
        )
    else:
        lines.append(f"the fallback: decides when no row fires · hit policy `{policy}`")
    if rule.condition is not None:
        lines.append(f"\n```\n{format_expr(rule.condition)}\n```")
    target = rule.required_specialist or "the default specialist"
    lines.append(f"\n→ {target}")
    if rule.secondary_review:
        lines.append(f"; reviewed by {', '.join(rule.secondary_review)}")
    findings = [
        d
        for d in analysis.compilation.diagnostics
        if d.code in ("MC601", "MC602", "MC603")
        and d.span is not None
        and d.span.file == rule.name_span.file
        and d.span.line == rule.name_span.line
    ]
    for d in findings:
        lines.append(f"\n**{d.code}** {d.message}")
    return "\n".join(lines)


def _role_hover(analysis: DocumentAnalysis, name: str) -> str:
    role = analysis.roles().get(name)
    if role is None:
        return f"**role** `{name}` — not defined in this mode"
    parts = [f"**role** `{name}`", "", role.role_definition.strip()]
    if role.expertise:
        parts += ["", "**Expertise:** " + "; ".join(role.expertise)]
    if role.approach:
        parts += ["", "**Approach:** " + "; ".join(role.approach)]
    if role.output_format:
        parts += ["", "**Output:** " + role.output_format.strip()]
    span = role.name_span
    if not analysis.is_local(span):
        parts += ["", f"defined in `{span.file}`:{span.line}"]
    return "\n".join(parts)


def _keyword_hover(analysis: DocumentAnalysis, word: str, span: Span) -> str:
    lines = [f"**keyword** `{word}`"]
    for d in analysis.compilation.diagnostics:
        if (
            d.span is not None
            and d.code in ("MC604", "MC605", "MC606")
            and _inside(d.span, span.line, span.column)
        ):
            lines.append(f"\n**{d.code}** {d.message}")
    if len(lines) == 1:
        from modec.compiler.analysis import keyword_hazards

        words = keyword_hazards([word]).get(word.lower(), [])
        if words:
            shown = ", ".join(f"`{w}`" for w in words[:8])
            more = f" and {len(words) - 8} more" if len(words) > 8 else ""
            lines.append(f"\nas a substring also matches {shown}{more}")
        else:
            lines.append("\nmatches inside no common English word")
    return "\n".join(lines)


def hover(
    analysis: DocumentAnalysis, line: int, column: int, markdown: bool = True
) -> lsp.Hover | None:
    """Markdown (or, for clients without it, plain text) about what is under the cursor."""
    target = target_at(analysis, line, column)
    if target is None:
        return None
    if target.kind == "role":
        text = _role_hover(analysis, target.name)
    elif target.kind == "rule":
        rule = next(r for r in analysis.rules() if r.name == target.name)
        text = _rule_hover(analysis, rule)
    elif target.kind == "keyword":
        text = _keyword_hover(analysis, target.name, target.span)
    else:
        text = _FIELD_HOVER.get(target.name) or (
            f"`{target.name}` — metadata: text, number or bool; a missing key makes every "
            "comparison on it false"
        )
    kind = lsp.MarkupKind.Markdown if markdown else lsp.MarkupKind.PlainText
    if not markdown:
        text = text.replace("**", "").replace("`", "")
    return lsp.Hover(
        contents=lsp.MarkupContent(kind=kind, value=text), range=analysis.index.range(target.span)
    )


def _location(analysis: DocumentAnalysis, span: Span) -> lsp.Location | None:
    path = analysis.path_of(span)
    if analysis.is_local(span):
        return lsp.Location(uri=analysis.uri, range=analysis.index.range(span))
    if path is None:
        return None
    text = analysis.source_text(span)
    index = LineIndex(text) if text is not None else None
    rng = index.range(span) if index is not None else analysis.index.range(span)
    return lsp.Location(uri=path.resolve().as_uri(), range=rng)


def definition(analysis: DocumentAnalysis, line: int, column: int) -> lsp.Location | None:
    """Where the role (across ``extends``) or rule under the cursor is defined."""
    target = target_at(analysis, line, column)
    if target is None:
        return None
    if target.kind == "role":
        role = analysis.roles().get(target.name)
        return _location(analysis, role.name_span) if role is not None else None
    if target.kind == "rule":
        return _location(analysis, target.span)
    return None


def references(
    analysis: DocumentAnalysis, line: int, column: int, include_declaration: bool = True
) -> list[lsp.Location]:
    """Every place the role or rule under the cursor is named (tests' expectations included)."""
    target = target_at(analysis, line, column)
    if target is None:
        return []
    spans: list[Span] = []
    if target.kind == "role":
        refs: list[RoleRef] = [r for r in analysis.role_refs if r.name == target.name]
        spans = [r.span for r in refs if include_declaration or not r.definition]
        spans += _test_refs(analysis, "expect_specialist", target.name)
    elif target.kind == "rule":
        if include_declaration:
            spans.append(target.span)
        spans += _test_refs(analysis, "expect_type", target.name)
    out = [_location(analysis, s) for s in spans]
    return [loc for loc in out if loc is not None]


def _test_refs(analysis: DocumentAnalysis, key: str, name: str) -> list[Span]:
    root = analysis.root
    tests = root.get("tests") if root is not None else None
    if tests is None or tests.kind != "seq":
        return []
    found = []
    for item in tests.children:
        node = item.get(key) if item.kind == "map" else None
        if node is not None and node.raw == name:
            found.append(node.span)
    return found


# --------------------------------------------------------------------------- code lenses


def _lens_title(analysis: DocumentAnalysis, result: ExampleResult) -> str:
    example, decision = result.example, result.decision
    if decision is None:
        return f"✗ fails: {result.error}"
    got = f"{decision.task_type} → {decision.specialist}"
    wrong = []
    if example.expect_type is not None and decision.task_type != example.expect_type:
        wrong.append(f"expected type {example.expect_type}")
    if example.expect_specialist is not None and decision.specialist != example.expect_specialist:
        wrong.append(f"expected specialist {example.expect_specialist}")
    rank = _rank(analysis, decision.rule)
    row = f" (row {rank[0]})" if rank is not None else " (fallback)"
    if wrong:
        return f"✗ fails: {', '.join(wrong)}; got {got}, decided by {decision.rule}{row}"
    return f"✓ passes: {got}, decided by {decision.rule}{row}"


def code_lenses(analysis: DocumentAnalysis) -> list[lsp.CodeLens]:
    """One lens per ``tests:`` example of this buffer: passes or fails, and the deciding row."""
    mode = analysis.mode
    if mode is None:
        return []
    router = analysis.router
    local = [e for e in mode.tests if analysis.is_local(e.span)]
    if router is None:
        titles = ["modec: fix the errors to run this example"] * len(local)
    else:
        from modec.runtime.examples import run_examples

        results = {id(r.example): r for r in run_examples(mode, router)}
        titles = [_lens_title(analysis, results[id(e)]) for e in local]
    lenses = []
    for example, title in zip(local, titles, strict=True):
        start = analysis.index.lsp_position(example.span.line, example.span.column)
        lenses.append(
            lsp.CodeLens(
                range=lsp.Range(start=start, end=start),
                command=lsp.Command(title=title, command=""),
            )
        )
    return lenses
