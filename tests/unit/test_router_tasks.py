"""Tasks in: strings, mappings, host objects with other fields, field maps, JSON metadata,
the size limit, and the strict Task for callers who want it (DESIGN §5 "Tasks in")."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import modec.runtime.router as router_module
from modec.compiler import task as task_module
from modec.compiler.table import build_table
from modec.compiler.task import (
    MAX_TASK_CHARS,
    MAX_TASK_ITEMS,
    Task,
    TaskTooLargeError,
    TaskView,
    read_task,
)
from modec.runtime.router import Router
from modec.testing import make_mode, make_rule


def router() -> Router:
    rules = [
        make_rule(
            "hotfix_tasks",
            'tags contains "hotfix" and metadata.team == "core"',
            required_specialist="debugger",
        ),
        make_rule(
            "design_tasks",
            'title mentions "design" and complexity >= complex',
            required_specialist="architect",
        ),
    ]
    mode = make_mode(rules, specialists=("implementer", "debugger", "architect"))
    return Router(build_table(mode), "sha256:test")


@dataclasses.dataclass
class HostTask:
    """A host's own task record: more fields than modec knows, some of them None."""

    id: int
    title: str
    description: str | None
    tags: list[str]
    complexity: str | None
    metadata: str  # stored as JSON text, as a database row would
    status: str = "pending"
    parent_id: int | None = None


class HostModel(BaseModel):
    name: str
    body: str
    labels: list[str] = []
    extra: dict[str, Any] = {}
    assignee: str | None = None


def test_a_host_object_with_unknown_fields_routes_without_conversion() -> None:
    r = router()
    row = HostTask(7, "Hotfix the login", None, ["HotFix"], None, '{"team": "core"}')
    d = r.route(row)
    assert (d.task_type, d.specialist) == ("hotfix_tasks", "debugger")
    assert d.task == Task(title="Hotfix the login", tags=("HotFix",), metadata={"team": "core"})


def test_a_mapping_with_unknown_keys_and_none_values_routes() -> None:
    r = router()
    d = r.route(
        {
            "title": "Design the API",
            "description": None,
            "complexity": "complex",
            "status": "open",
            "owner": {"id": 3},
        }
    )
    assert d.task_type == "design_tasks" and d.complexity == 4


def test_a_field_map_names_the_hosts_fields() -> None:
    r = router()
    model = HostModel(
        name="Design review", body="all of it", labels=["ui"], extra={"team": "web"}, assignee="ana"
    )
    fields = {"title": "name", "description": "body", "tags": "labels", "metadata": "extra"}
    view = read_task(model, fields)
    assert isinstance(view, TaskView)
    assert (view.title, view.description, view.tags, view.metadata) == (
        "Design review",
        "all of it",
        ("ui",),
        {"team": "web"},
    )
    assert r.route(view).task_type == "general_tasks"  # complexity defaults to 3
    assert (
        r.route(read_task({"name": "design", "body": "", "complexity": 5}, fields)).task_type
        == "design_tasks"
    )


def test_metadata_given_as_json_text_is_parsed_and_checked() -> None:
    r = router()
    d = r.route({"tags": ["hotfix"], "metadata": '{"team": "Core"}'})
    assert d.task_type == "hotfix_tasks"
    with pytest.raises(ValueError, match="not JSON"):
        r.route({"metadata": "{team: core"})
    with pytest.raises(ValueError, match="must be an object"):
        r.route({"metadata": "[1, 2]"})


def test_what_is_not_a_task_is_refused_with_a_type_error() -> None:
    r = router()
    for bad in (42, 1.5, b"bytes", object()):
        with pytest.raises(TypeError, match="cannot route"):
            r.route(bad)


def test_badly_typed_fields_are_refused_field_by_field() -> None:
    r = router()
    with pytest.raises(ValidationError) as info:
        r.route({"title": 5, "tags": "not-a-list"})
    fields = {e["loc"][0] for e in info.value.errors()}
    assert fields == {"title", "tags"}
    for falsy in ({"title": 0}, {"tags": ""}, {"description": False}, {"metadata": 0}):
        with pytest.raises(ValidationError):
            r.route(falsy)


def test_a_bad_complexity_says_which_values_are_valid() -> None:
    with pytest.raises(ValidationError, match="1–5 or one of trivial, simple, moderate"):
        Task(complexity="huge")
    with pytest.raises(ValueError, match="very_complex, not 'huge'"):
        router().route({"description": "x", "complexity": "huge"})
    for bad in (0, 6, True):
        with pytest.raises(ValueError, match="complexity must be 1–5"):
            read_task({"complexity": bad})
    assert read_task({"complexity": "Very Complex"}).complexity == 5
    assert read_task({"complexity": "2"}).complexity == 2


def test_the_strict_task_still_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        Task(owner="x")  # type: ignore[call-arg]


def test_tasks_over_the_size_limit_are_refused_with_the_limit() -> None:
    r = router()
    huge = "x" * (MAX_TASK_CHARS + 1)
    with pytest.raises(ValidationError, match="the limit is 4,000,000"):
        Task(description=huge)  # the strict model says it as a validation error
    for attempt in (
        lambda: r.route(huge),
        lambda: r.route({"title": huge}),
        lambda: r.route({"tags": ["a"] * (MAX_TASK_ITEMS + 1)}),
    ):
        with pytest.raises(TaskTooLargeError) as info:
            attempt()
        assert f"{MAX_TASK_CHARS:,}" in str(info.value) or f"{MAX_TASK_ITEMS:,}" in str(info.value)
    assert r.route("x" * MAX_TASK_CHARS).task_type == "general_tasks"  # the limit itself


def test_lone_surrogates_are_refused_on_every_path() -> None:
    r = router()
    classic = Router(build_table(make_mode()))
    for route in (r.route, classic.route):
        for bad in ("\ud800 audit", {"description": "é\udfff"}, "é" * 20_000 + "\ud800"):
            with pytest.raises(ValueError, match="surrogate"):
                route(bad)


def test_a_decision_builds_its_strict_task_only_when_asked() -> None:
    for r in (router(), Router(build_table(make_mode()))):
        d = r.route("plain text")
        assert not isinstance(d._task, Task)  # no pydantic model on the hot path
        assert d.task == Task(description="plain text")
        assert isinstance(d._task, Task)
    assert Router(build_table(make_mode())).route("qa")._task == "qa"  # the string itself


def test_decision_to_dict_carries_the_evidence_and_source() -> None:
    d = router().route({"tags": ["hotfix"], "metadata": {"team": "core"}})
    out = d.to_dict()
    assert out["source"] == "mode.yaml:1"
    assert out["evidence"] == [
        {
            "field": "tags[0]",
            "op": "contains",
            "value": "hotfix",
            "start": 0,
            "end": 6,
            "text": "hotfix",
        }
    ]
    assert "evidence" not in d.to_dict(evidence=False)
    json.dumps(out)


def test_task_and_the_routing_errors_live_below_the_router() -> None:
    assert router_module.Task is task_module.Task
    assert router_module.AmbiguousRouteError is task_module.AmbiguousRouteError
    assert router_module.TaskView is task_module.TaskView


def test_the_reference_interpreter_imports_nothing_from_the_runtime() -> None:
    code = (
        "import sys, modec.testing; "
        "bad = sorted(m for m in sys.modules if m.startswith('modec.runtime')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_modec_testing_without_hypothesis_names_the_extra() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'hypothesis' or name.startswith('hypothesis.'):\n"
        "            raise ImportError('No module named hypothesis')\n"
        "sys.meta_path.insert(0, Block())\n"
        "try:\n"
        "    import modec.testing\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(0)\n"
        "sys.exit(1)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "modec[testing]" in done.stdout
