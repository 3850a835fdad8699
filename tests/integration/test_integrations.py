"""The host adapter without a host: :mod:`modec.integrations.task_orchestrator` on duck-typed
task objects (attributes, mappings, enums) over a real SQLite runtime, and its diagnostics.

The real MCP Task Orchestrator runs in ``test_task_orchestrator.py``; this covers the
contracts any host relies on, in this environment.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

import pytest

from modec import ModecError, ModeRuntime
from modec.integrations.task_orchestrator import (
    InvalidSubtasksError,
    ModecSpecialists,
    UnassignableSpecialistError,
    session_id_of,
)


class Specialist(str, Enum):  # noqa: UP042  # as the orchestrator's SpecialistType is
    ARCHITECT = "architect"
    IMPLEMENTER = "implementer"


class HostTask:  # a host's task model: its own fields, and some modec does not know
    def __init__(self, task_id: str, title: str, description: str, **extra: object) -> None:
        self.task_id, self.title, self.description = task_id, title, description
        self.dependencies: list[str] = []
        self.estimated_effort = "1h"
        self.specialist_type: object = None
        for key, value in extra.items():
            setattr(self, key, value)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[ModeRuntime]:
    with ModeRuntime(tmp_path / "project", f"sqlite:///{tmp_path / 'm.db'}") as runtime:
        yield runtime


def adapter(runtime: ModeRuntime, **kwargs: object) -> ModecSpecialists:
    return ModecSpecialists(
        runtime,
        "host-1",
        mode_file="development_mode.yaml",
        specialist_types=None,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_host_task_gets_the_modes_specialist_and_role_prompt(runtime: ModeRuntime) -> None:
    specialists = adapter(runtime)
    task = HostTask("t1", "Speed", "profile the slow endpoint", dependencies=["t0"])
    assignment = specialists.assign(task)
    assert assignment.chosen_by == "mode"
    assert assignment.specialist == assignment.decision.specialist == "performance_optimizer"
    role = specialists.context().role("performance_optimizer")
    assert role.prompt() in assignment.prompt
    for line in ("**Task ID:** t1", "**Title:** Speed", "**Dependencies:** t0"):
        assert line in assignment.prompt
    assert runtime.binding("host-1") is not None  # adopted: the host's id, no start call


def test_the_hosts_explicit_choice_is_kept(runtime: ModeRuntime) -> None:
    specialists = adapter(runtime)
    task = HostTask("t2", "Speed", "profile it slowly", specialist_type=Specialist.ARCHITECT)
    assignment = specialists.assign(task)
    assert (assignment.specialist, assignment.chosen_by) == ("architect", "host")
    routed = assignment.decision.specialist
    assert routed != "architect"
    assert f"(the mode would route this task to {routed})" in assignment.prompt
    prompt = asyncio.run(specialists.get_specialist_prompt(Specialist.IMPLEMENTER, task))
    assert specialists.context().role("implementer").prompt() in prompt


def test_fill_subtasks_fills_only_what_the_llm_left_out(runtime: ModeRuntime) -> None:
    specialists = adapter(runtime)
    sent = [
        {"title": "A", "description": "profile the slow endpoint"},
        {"title": "B", "description": "profile it", "specialist_type": "architect"},
        {"title": "C", "description": "security audit", "specialist_type": ""},
    ]
    filled = json.loads(specialists.fill_subtasks(json.dumps(sent), complexity="complex"))
    assert [s["specialist_type"] for s in filled] == [
        "performance_optimizer",
        "architect",
        specialists.route(sent[2]).specialist,
    ]
    assert [s["title"] for s in filled] == ["A", "B", "C"]  # nothing else changed


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"title": "x"}',
        "[1, 2]",
        '[{"a": 1}, "x"]',
        "[" * 100_000 + "]" * 100_000,  # deeper than json can read
        '[{"title": 5, "description": "x"}]',  # not a task
        '[{"description": "x", "complexity": "galactic"}]',
    ],
)
def test_fill_subtasks_refuses_anything_but_a_list_of_objects(
    runtime: ModeRuntime, text: str
) -> None:
    with pytest.raises(InvalidSubtasksError) as caught:
        adapter(runtime).fill_subtasks(text)
    assert caught.value.suggestion


def test_a_specialist_the_host_cannot_take_is_refused(runtime: ModeRuntime) -> None:
    specialists = ModecSpecialists(
        runtime, "host-2", mode_file="development_mode.yaml", specialist_types={"architect"}
    )
    with pytest.raises(UnassignableSpecialistError, match="performance_optimizer"):
        specialists.fill_subtasks(json.dumps([{"description": "profile the slow endpoint"}]))
    kept = specialists.assign({"description": "profile it", "specialist_type": "architect"})
    assert kept.specialist == "architect"  # the host's own choice is its business


def test_metadata_is_read_from_modec_metadata(runtime: ModeRuntime) -> None:
    specialists = adapter(runtime)
    task = HostTask("t3", "x", "y", metadata=object(), modec_metadata='{"team": "core"}')
    assert specialists.assign(task).specialist  # the row's own `metadata` is not modec's


def test_add_mode_info_adds_the_sessions_seed_shape(runtime: ModeRuntime) -> None:
    status = adapter(runtime).add_mode_info({"tasks": []})
    assert status["tasks"] == []
    assert status["mode_info"]["mode_file"] == "development_mode.yaml"
    assert type(status["mode_info"]["routing_rules"]) is int


def test_synthesis_needs_the_hosts_manager(runtime: ModeRuntime) -> None:
    with pytest.raises(ModecError, match="specialist manager"):
        asyncio.run(adapter(runtime).synthesize_task_results("p", []))


def test_session_ids_of_initialize_answers() -> None:
    one = session_id_of(json.dumps({"orchestrator_path": "/work/p/.task_orchestrator"}))
    assert one == session_id_of({"working_directory": "/work/p"})  # the same project
    assert one != session_id_of({"working_directory": "/work/q"})
    assert len(one) <= 128
    enhanced = {"orchestrator_context": {"context_continuity": {"session_id": "abc"}}}
    assert session_id_of(enhanced) == "abc"
    for bad in ("nope", "[]", {}):
        with pytest.raises(ModecError) as caught:
            session_id_of(bad)
        assert caught.value.suggestion
