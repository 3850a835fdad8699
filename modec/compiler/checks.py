"""Semantic checks on the resolved IR: each check is a function ``ModeFile -> diagnostics``.

:data:`CHECKS` lists them in the order they run; ``run_checks`` runs them all. Row analyses
(shadowing, overlap, keyword redundancy) live in :mod:`modec.compiler.analysis`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import Final

from modec.compiler.ir import BUILTIN_KEYWORDS, FALLBACK_TYPE, ModeFile
from modec.diagnostics import Diagnostic, Edit, Fix, Span

__all__ = ["CHECKS", "Check", "did_you_mean", "role_suggestion", "run_checks"]

Check = Callable[[ModeFile], Iterable[Diagnostic]]

_NAME: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_PACK_HINT: Final = (
    "a role pack has no task_orchestrator; to make it a mode, add\n"
    "      mode_metadata:\n        extends: default_roles.yaml\n"
    "    (or define task_orchestrator with specialist_roles)"
)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or None.

    >>> did_you_mean("archtect", ["architect", "implementer"])
    "did you mean 'architect'?"
    """
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def role_suggestion(
    name: str, defined: Iterable[str], span: Span | None, fallback: str | None = None
) -> tuple[str | None, Fix | None]:
    """A hint naming the defined roles close to ``name`` (never ``name`` itself), and a fix
    that writes the one close role in place of ``name`` when there is exactly one.

    >>> hint, fix = role_suggestion("debuger", ["debugger", "implementer"], None)
    >>> hint, fix
    ("did you mean 'debugger'?", None)
    """
    close = difflib.get_close_matches(name, [d for d in defined if d != name], n=2, cutoff=0.6)
    if not close:
        return fallback, None
    if len(close) > 1:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?", None
    if span is None:
        return f"did you mean {close[0]!r}?", None
    fix = Fix(
        description=f"write {close[0]!r} for {name!r}", edits=(Edit(span=span, new_text=close[0]),)
    )
    return f"did you mean {close[0]!r}?", fix


def _start(mode: ModeFile) -> Span:
    return Span.point(mode.path, 1, 1)


def check_orchestrator(mode: ModeFile) -> Iterable[Diagnostic]:
    if mode.orchestrator is None:
        yield Diagnostic.make(
            "MC105",
            _start(mode),
            "no task_orchestrator role: this file is a role pack, not a mode",
            hint=_PACK_HINT,
        )


def check_role_names(mode: ModeFile) -> Iterable[Diagnostic]:
    for role in mode.roles.values():
        if not _NAME.match(role.name):
            yield Diagnostic.make(
                "MC204",
                role.name_span,
                f"role name {role.name!r} does not follow ^[a-z][a-z0-9_]*$",
                hint=f"rename it to {_suggest_name(role.name)!r}",
            )
    orch = mode.orchestrator
    if orch is not None:
        for name, span in orch.specialist_spans.items():
            if not _NAME.match(name):
                yield Diagnostic.make(
                    "MC204",
                    span,
                    f"specialist name {name!r} does not follow ^[a-z][a-z0-9_]*$",
                    hint=f"rename it to {_suggest_name(name)!r}",
                )


def _suggest_name(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "role_" + cleaned
    return cleaned


def check_listed_specialists(mode: ModeFile) -> Iterable[Diagnostic]:
    orch = mode.orchestrator
    if orch is None:
        return
    for name in orch.specialist_roles:
        if name not in mode.roles:
            yield Diagnostic.make(
                "MC201",
                orch.specialist_spans.get(name, orch.name_span),
                f"specialist {name!r} is listed in specialist_roles but has no role definition",
                hint=f"add a top-level `{name}:` mapping with role_definition, or remove it "
                "from specialist_roles",
            )


def check_validation_rules(mode: ModeFile) -> Iterable[Diagnostic]:
    rules = mode.validation
    if rules is None:
        return
    spans = rules.required_role_spans
    for i, name in enumerate(rules.required_roles):
        if name not in mode.roles:
            span = spans[i] if i < len(spans) else None
            hint, fix = role_suggestion(
                name, mode.roles, span, f"define a top-level `{name}:` role"
            )
            yield Diagnostic.make(
                "MC202",
                span or rules.span,
                f"required role {name!r} is missing",
                hint=hint,
                fix=fix,
            )
    count = len(mode.specialist_roles)
    lo, hi = rules.minimum_specialist_count, rules.maximum_specialist_count
    bounds = rules.bound_spans
    if lo is not None and count < lo:
        yield Diagnostic.make(
            "MC203",
            bounds.get("minimum_specialist_count", rules.span),
            f"{count} specialist(s) listed, fewer than the minimum {lo}",
            hint="list more roles in task_orchestrator.specialist_roles",
        )
    if hi is not None and count > hi:
        yield Diagnostic.make(
            "MC203",
            bounds.get("maximum_specialist_count", rules.span),
            f"{count} specialist(s) listed, more than the maximum {hi}",
            hint="remove roles from task_orchestrator.specialist_roles",
        )


def check_rule_targets(mode: ModeFile) -> Iterable[Diagnostic]:
    defined = [n for n in mode.roles if n != "task_orchestrator"]
    for rule in mode.rules:
        name = rule.name
        if not _NAME.match(name):
            yield Diagnostic.make(
                "MC307",
                rule.name_span,
                f"task type {name!r} does not follow ^[a-z][a-z0-9_]*$",
                hint=f"rename it to {_suggest_name(name)!r}",
            )
        spec = rule.required_specialist
        if spec is not None and spec not in defined:
            span = rule.required_specialist_span
            if spec in mode.specialist_roles:
                hint: str | None = (
                    f"{spec!r} is listed in specialist_roles but has no role definition"
                )
                fix = None
            else:
                hint, fix = role_suggestion(
                    spec, defined, span, f"define a top-level `{spec}:` role"
                )
            yield Diagnostic.make(
                "MC206",
                span or rule.span,
                f"rule {name!r} routes to undefined role {spec!r}",
                hint=hint,
                fix=fix,
            )
        for reviewer, rspan in zip(
            rule.secondary_review, rule.secondary_review_spans, strict=False
        ):
            if reviewer not in mode.roles:
                if reviewer in mode.specialist_roles:
                    hint = f"{reviewer!r} is listed in specialist_roles but has no role definition"
                    fix = None
                else:
                    hint, fix = role_suggestion(
                        reviewer, defined, rspan, f"define a top-level `{reviewer}:` role"
                    )
                yield Diagnostic.make(
                    "MC207",
                    rspan,
                    f"secondary reviewer {reviewer!r} of rule {name!r} is not a defined role",
                    hint=hint,
                    fix=fix,
                )
    default = mode.configuration.default_specialist
    if default is not None and default not in defined:
        span = mode.configuration.default_specialist_span
        hint, fix = role_suggestion(default, defined, span)
        yield Diagnostic.make(
            "MC208",
            span or _start(mode),
            f"default_specialist {default!r} is not a defined role",
            hint=hint,
            fix=fix,
        )


def check_unused_custom_roles(mode: ModeFile) -> Iterable[Diagnostic]:
    if mode.orchestrator is None:
        return  # a role pack: MC105 already says what to do
    used: set[str] = set()
    for rule in mode.rules:
        if rule.required_specialist:
            used.add(rule.required_specialist)
        used.update(rule.secondary_review)
    if mode.configuration.default_specialist:
        used.add(mode.configuration.default_specialist)
    if mode.validation is not None:
        used.update(mode.validation.required_roles)
        used.update(mode.validation.optional_roles)
    for name in mode.custom_roles:
        if name not in used:
            role = mode.roles[name]
            yield Diagnostic.make(
                "MC205",
                role.name_span,
                f"custom role {name!r} is neither a listed specialist nor used by any rule",
                hint="list it in task_orchestrator.specialist_roles, route a rule to it, "
                "or remove it",
            )


def check_tests(mode: ModeFile) -> Iterable[Diagnostic]:
    types = {rule.name for rule in mode.rules} | {FALLBACK_TYPE} | set(BUILTIN_KEYWORDS)
    for example in mode.tests:
        if example.expect_type is not None and example.expect_type not in types:
            yield Diagnostic.make(
                "MC502",
                example.span,
                f"test expects unknown task type {example.expect_type!r}",
                hint=did_you_mean(example.expect_type, types),
            )
        spec = example.expect_specialist
        if spec is not None and spec not in mode.roles:
            yield Diagnostic.make(
                "MC502",
                example.span,
                f"test expects undefined role {spec!r}",
                hint=did_you_mean(spec, mode.roles),
            )


#: Every check, in the order it runs.
CHECKS: Final[tuple[Check, ...]] = (
    check_orchestrator,
    check_role_names,
    check_listed_specialists,
    check_validation_rules,
    check_rule_targets,
    check_unused_custom_roles,
    check_tests,
)


def run_checks(mode: ModeFile) -> list[Diagnostic]:
    """Every diagnostic from every check, in check order (callers sort)."""
    return [d for check in CHECKS for d in check(mode)]
