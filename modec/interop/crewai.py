"""crewAI crews: ``config/agents.yaml`` with its sibling ``config/tasks.yaml``.

crewAI's ``@CrewBase`` reads both files: each agent key maps to ``role``, ``goal`` and
``backstory`` (all three required by ``Agent``) plus settings (``llm``, ``tools``,
``allow_delegation``, …); each task key maps to ``description`` and ``expected_output``
(required) and the ``agent`` that runs it. A task is an explicit routing signal: the rule
``metadata.crew_task == "<task>"`` sends it to its agent, and the task itself becomes a
``tests:`` example. An agent named ``manager`` (or whose role is a manager that may delegate)
is the orchestrator, else a synthetic one stands for crewAI's hierarchical manager; the agent
of the first task is the fallback (crewAI's sequential process starts there).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from modec.compiler.source import YNode
from modec.diagnostics import Diagnostic
from modec.grammar.printer import format_string
from modec.interop.model import ForeignRole, ForeignRule, ForeignTest, Harvest
from modec.interop.reading import Text, describe, is_string, load_yaml, plain

__all__ = ["harvest"]

_AGENT_REQUIRED: Final = ("role", "goal", "backstory")
_TASK_REQUIRED: Final = ("description", "expected_output")


def harvest(agents: Text | None, tasks: Text | None) -> Harvest:
    """Read a crew's agents file and, when there is one, its tasks file."""
    h = Harvest("crewai")
    if agents is not None:
        _agents(h, agents)
    if tasks is not None:
        _tasks(h, tasks)
    if h.roles:
        first_task_agent = next((r.role for r in h.rules if "crew_task" in r.when), None)
        fallback = next((r for r in h.roles if r.name == first_task_agent), None)
        if fallback is not None and fallback.kind == "specialist":
            fallback.kind = "fallback"
    return h


def _root(h: Harvest, text: Text) -> YNode | None:
    h.files.append(text.path)
    h.texts[text.path] = text.text
    root, problems = load_yaml(text.text, text.path)
    h.diagnostics += problems
    return root


def _entries(
    h: Harvest, text: Text, kind: str, required: tuple[str, ...], what: str
) -> Iterator[tuple[str, YNode, dict[str, YNode]]]:
    """Each ``name: {fields}`` entry of a crew file, as crewAI's ``@CrewBase`` reads it: an
    entry that is not a mapping is MC704 and skipped; one missing a required text field is
    MC704 and still read (modec recovers what is there)."""
    root = _root(h, text)
    if root is None:
        return
    for key, value in root.items:
        name = str(key.raw)
        if value.kind != "map":
            h.diagnostics.append(
                Diagnostic.make(
                    "MC704",
                    value.span,
                    f"crewAI cannot build {kind} {name!r}: it is {describe(value)}, not a mapping",
                )
            )
            continue
        fields = {str(k.raw): v for k, v in value.items}
        missing = [k for k in required if not is_string(fields.get(k))]
        if missing:
            h.diagnostics.append(
                Diagnostic.make(
                    "MC704",
                    key.span,
                    f"crewAI cannot build {kind} {name!r}: "
                    f"{', '.join(missing)} missing or not text; modec recovered what is there",
                    f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} needs {what}",
                )
            )
        yield name, key, fields


def _agents(h: Harvest, text: Text) -> None:
    for name, key, fields in _entries(
        h, text, "agent", _AGENT_REQUIRED, "role, goal and backstory"
    ):
        role, goal, backstory = (_text(fields.get(k)) for k in _AGENT_REQUIRED)
        extras: dict[str, Any] = {"key": name}
        extras.update({k: plain(v) for k, v in fields.items()})
        manager = name == "manager" or (
            "manager" in role.lower()
            and fields.get("allow_delegation") is not None
            and plain(fields["allow_delegation"]) is True
        )
        prompt = "\n\n".join(p for p in (role, backstory) if p)
        member = ForeignRole(
            name=name,
            span=key.span,
            tool="crewai",
            prompt=prompt or goal or name,
            description=goal or role,
            extras=extras,
            kind="orchestrator" if manager else "specialist",
        )
        h.roles.append(member)
        if role and not manager:
            h.rules.append(
                ForeignRule(
                    f"{name}_delegated",
                    name,
                    f"metadata.coworker == {format_string(role)}",
                    key.span,
                    f"crewAI's delegation tool (coworker=…) names the role {role!r}",
                )
            )


def _text(node: YNode | None) -> str:
    return str(node.value).strip() if is_string(node) and node is not None else ""


def _tasks(h: Harvest, text: Text) -> None:
    for name, key, fields in _entries(
        h, text, "task", _TASK_REQUIRED, "description and expected_output"
    ):
        agent = _text(fields.get("agent"))
        if not agent:
            h.diagnostics.append(
                Diagnostic.make(
                    "MC710",
                    key.span,
                    f"task {name!r} names no agent: crewAI gives it to the "
                    "manager (hierarchical) or fails (sequential); modec has no rule for it",
                    "add agent: <an agents.yaml key>",
                )
            )
            continue
        h.references.append((agent, fields["agent"].span, f"the agent of task {name!r}"))
        when = f"metadata.crew_task == {format_string(name)}"
        h.rules.append(
            ForeignRule(
                name, agent, when, key.span, f"crewAI task {name!r} runs on agent {agent!r}"
            )
        )
        description = " ".join(_text(fields.get("description")).split())
        h.tests.append(
            ForeignTest(
                {"description": description[:300], "metadata": {"crew_task": name}}, agent, key.span
            )
        )
