"""Diagnostics about rows: MC601 (never fires), MC602 (overlap), MC603 (bounded), MC607."""

from __future__ import annotations

from collections.abc import Sequence

from modec.compiler.analysis.context import Context
from modec.compiler.analysis.report import Overlap, RowVerdict
from modec.compiler.analysis.verdicts import UNEXPLAINED
from modec.compiler.ir import FALLBACK_TYPE, Const, ModeFile, Rule
from modec.compiler.table import default_specialist, fallback_rule
from modec.diagnostics import Diagnostic, Related, Span

__all__ = ["bound_note", "reachability", "row_diagnostics"]


def _names(names: Sequence[str], limit: int = 3) -> str:
    quoted = ", ".join(repr(n) for n in names[:limit])
    return quoted + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _classic(rule: Rule) -> bool:
    """The rule's condition is a classic keyword list the author did not write."""
    return rule.source == "builtin"


def _dead(rule: Rule, verdict: RowVerdict, by_name: dict[str, Rule]) -> Diagnostic:
    if verdict.covered_by:
        message = (
            f"rule {rule.name!r} can never fire: every task it matches is taken "
            f"first by {_names(verdict.covered_by)}"
        )
        hint = (
            "give it a higher `priority`, or narrow the earlier rule(s) with "
            "`match: word` or `and not ...`"
        )
    elif verdict.reason == UNEXPLAINED:
        message = (
            f"rule {rule.name!r} can never fire: every task it matches is taken "
            "first by earlier rows"
        )
        hint = "give it a higher `priority`, or narrow the earlier rules"
    else:
        message = f"rule {rule.name!r} can never fire: its condition is never true"
        hint = "no task satisfies it; check the comparisons and `and not` parts"
    related = [
        Related(span=by_name[name].name_span, message=f"{name!r} takes its tasks first")
        for name in verdict.covered_by
        if name in by_name and not by_name[name].implicit
    ]
    return Diagnostic.make("MC601", rule.name_span, message, hint=hint, related=related)


def _overlap(first: Rule, second: Rule, ov: Overlap) -> Diagnostic:
    at = second if not second.implicit else first
    other = first if at is second else second
    hint = (
        "make the conditions exclusive (`and not ...`), or use hit_policy: first, "
        "where the earlier row wins"
    )
    if other.implicit:
        hint += "; builtin_task_types: false removes the implicit builtin rows"
    return Diagnostic.make(
        "MC602",
        at.name_span,
        f"rules {first.name!r} and {second.name!r} both match the task {ov.witness.show()}"
        ", which hit policy 'unique' refuses at routing time",
        hint=hint,
        related=[]
        if other.implicit
        else [Related(span=other.name_span, message=f"the other row, {other.name!r}")],
    )


def _possible_overlap(ra: Rule, rb: Rule) -> Diagnostic:
    at = rb if not rb.implicit else ra
    return Diagnostic.make(
        "MC603",
        at.name_span,
        f"rules {ra.name!r} and {rb.name!r} may both match a task: the analysis found a "
        "possible overlap but could not build a task that shows it (regular expressions or "
        "comparisons it does not model, or its bounds)",
        hint="route a candidate through both with `modec route --explain` to decide",
    )


def _dead_rows(
    verdicts: list[RowVerdict], by_name: dict[str, Rule], show_all: bool
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for verdict in verdicts:
        rule = by_name[verdict.name]
        # a constant condition is MC407's finding already
        if (
            verdict.status == "never"
            and (show_all or not rule.implicit)
            and not isinstance(rule.condition, Const)
        ):
            out.append(_dead(rule, verdict, by_name))
    return out


def row_diagnostics(
    ctx: Context,
    verdicts: list[RowVerdict],
    overlaps: list[Overlap],
    undecided: list[tuple[str, str]],
    fallback: bool | None,
) -> list[Diagnostic]:
    """MC601 for dead rows and an unreachable fallback, MC602 for overlaps, MC603 for
    overlaps the analysis could not show."""
    show_all = ctx.options.builtins
    by_name = {r.name: r for r in ctx.rows}
    out = _dead_rows(verdicts, by_name, show_all)
    for ov in overlaps:
        first, second = by_name[ov.first], by_name[ov.second]
        if show_all or not (_classic(first) and _classic(second)):
            out.append(_overlap(first, second, ov))
    for a, b in undecided:
        ra, rb = by_name[a], by_name[b]
        if show_all or not (_classic(ra) and _classic(rb)):
            out.append(_possible_overlap(ra, rb))
    general = fallback_rule(ctx.mode)
    if fallback is False and general is not None:
        out.append(
            Diagnostic.make(
                "MC601",
                general.name_span,
                f"{FALLBACK_TYPE} can never apply: some row matches every task",
                hint="narrow the row that matches everything, or drop the fallback rule",
            )
        )
    return out


def _reached(
    ctx: Context, verdicts: list[RowVerdict], fallback: bool | None
) -> tuple[set[str], dict[str, list[str]]]:
    """The specialists some live row (or the fallback) routes to; those only dead rows name."""
    default = default_specialist(ctx.mode)
    reached: set[str] = set()
    dead_targets: dict[str, list[str]] = {}
    for verdict, rule in zip(verdicts, ctx.rows, strict=True):
        target = rule.required_specialist or default
        if verdict.status == "never":
            if target:
                dead_targets.setdefault(target, []).append(rule.name)
            continue
        if target:
            reached.add(target)
        reached.update(rule.secondary_review)
    general = fallback_rule(ctx.mode)
    if fallback is not False:
        target = (general.required_specialist if general else None) or default
        if target:
            reached.add(target)
        if general is not None:
            reached.update(general.secondary_review)
    return reached, dead_targets


def reachability(
    ctx: Context, verdicts: list[RowVerdict], fallback: bool | None
) -> list[Diagnostic]:
    """MC607 for specialists no row that can fire, nor the fallback, routes to."""
    mode = ctx.mode
    orch = mode.orchestrator
    if orch is None or all(r.implicit for r in mode.rules):
        return []  # a role file without routing rules: the orchestrator picks specialists
    reached, dead_targets = _reached(ctx, verdicts, fallback)
    # Only specialists listed in a file that also routes: one extending default_roles.yaml
    # does not have to route to every role it inherits.
    routing_files = {r.name_span.file for r in mode.rules if not r.implicit}
    out = []
    for name in orch.specialist_roles:
        span = orch.specialist_spans.get(name, orch.name_span)
        if name in reached or name not in mode.roles or span.file not in routing_files:
            continue
        dead = dead_targets.get(name)
        why = f"; the rule(s) routing to it never fire: {_names(dead)}" if dead else ""
        out.append(
            Diagnostic.make(
                "MC607",
                span,
                f"specialist {name!r} is never routed to: no rule that can fire, nor the "
                f"fallback, names it{why}",
                hint=f"route a rule to it with `required_specialist: {name}`, or remove it from "
                "specialist_roles",
            )
        )
    return out


def bound_note(mode: ModeFile, rows: int, skipped: list[str]) -> Diagnostic:
    """MC603 at the top of the file: what the bounds cut."""
    more = f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""
    return Diagnostic.make(
        "MC603",
        Span.point(mode.path, 1, 1),
        f"the analysis of this mode's {rows} rows was bounded: " + "; ".join(skipped[:3]) + more,
        hint="the limits are in modec.compiler.analysis.AnalysisLimits; `modec analyse` "
        "lists everything that was skipped",
    )
