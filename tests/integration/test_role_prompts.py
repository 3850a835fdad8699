"""Public prompts (issue 12, item 5): a session's context gives every role of its bound mode
(definition, expertise, approach, output format, the orchestrator's one-liner), so a host
builds a specialist prompt from the bound mode alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from modec.compiler.build import bundled_mode_path
from modec.diagnostics import ModecError
from modec.runtime.context import RolePrompt, UnknownRoleError
from modec.runtime.lifecycle import ModeRuntime
from modec.runtime.sessions import sqlite_url
from tests.integration.lifecycle_support import write_mode

CORPUS = Path(__file__).resolve().parents[1] / "conformance" / "corpus"
#: The orchestrator's own default_roles.yaml: ``tester`` listed without a definition.
ORCHESTRATOR_DEFAULTS = CORPUS / "EchoingVesper__mcp-task-orchestrator__config__default_roles.yaml"

EXTENDING_MODE = """\
mode_metadata:
  name: data_mode
  extends: default_roles.yaml
data_scientist:
  role_definition: "You analyse data."
  description: "Data analysis"
  expertise:
    - "statistics"
    - |-
      experiment design
      and power analysis
architect:
  role_definition: "You design data platforms."
task_routing_rules:
  data_tasks:
    keywords: [dataset]
    required_specialist: data_scientist
"""


@pytest.fixture
def runtime(tmp_path: Path) -> ModeRuntime:
    root = tmp_path / "project"
    root.mkdir()
    with ModeRuntime(root, sqlite_url(tmp_path / "modec.db"), tmp_path / "cache") as opened:
        yield opened  # type: ignore[misc]


def _yaml(name: str) -> dict[str, object]:
    path = bundled_mode_path(name)
    assert path is not None
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_bundled_development_mode_gives_every_role_with_its_prompt(
    runtime: ModeRuntime,
) -> None:
    ctx = runtime.initialize_session(mode_file="development_mode.yaml")
    own, parent = _yaml("development_mode.yaml"), _yaml("default_roles.yaml")
    defined = {
        name: doc
        for source in (parent, own)
        for name, doc in source.items()
        if isinstance(doc, dict) and "role_definition" in doc
    }
    assert set(ctx.roles) == set(defined)
    assert "task_orchestrator" in ctx.roles and "performance_optimizer" in ctx.roles
    listed = parent["task_orchestrator"]["specialist_roles"]  # type: ignore[index]
    for name, doc in defined.items():
        role = ctx.role(name)
        assert role is ctx.roles[name]
        assert (role.name, role.definition) == (name, doc["role_definition"])
        assert role.expertise == tuple(doc.get("expertise", ()))
        assert role.approach == tuple(doc.get("approach", ()))
        assert role.output_format == doc.get("output_format")
        assert role.description == listed.get(name)  # the orchestrator's one-liner
    assert ctx.role("architect").description == "System design and architecture planning"

    performance = own["performance_optimizer"]
    assert isinstance(performance, dict)
    assert ctx.role("performance_optimizer").prompt() == (
        "# performance_optimizer\n\n"
        f"{performance['role_definition']}\n\n"
        "## Expertise\n\n"
        "- Profiling CPU, memory and I/O\n"
        "- Algorithmic complexity and caching\n\n"
        "## Approach\n\n"
        "- Measure, change one thing, measure again\n\n"
        "## Output format\n\n"
        f"{performance['output_format']}\n"
    )

    # JSON-ready, and the same in a context rebuilt from the database
    doc = json.loads(json.dumps(ctx.to_dict()))
    assert doc["roles"]["architect"] == ctx.role("architect").to_dict()
    assert set(doc["roles"]["architect"]) == {
        "name",
        "definition",
        "expertise",
        "approach",
        "output_format",
        "description",
    }
    again = runtime.context(ctx.session_id, refresh=True)
    assert again is not ctx and again.roles == ctx.roles
    assert [r.prompt() for r in again.roles.values()] == [r.prompt() for r in ctx.roles.values()]


def test_a_mode_that_extends_another_gets_the_parents_roles(runtime: ModeRuntime) -> None:
    write_mode(runtime, "data_mode.yaml", EXTENDING_MODE)
    ctx = runtime.initialize_session(mode_file="data_mode.yaml")
    parent = runtime.initialize_session(mode_file="default_roles.yaml")
    assert set(parent.roles) < set(ctx.roles)
    assert set(ctx.roles) - set(parent.roles) == {"data_scientist"}
    for name in set(parent.roles) - {"architect"}:
        assert ctx.role(name) == parent.role(name)  # inherited as the parent defines them
    assert ctx.role("architect").definition == "You design data platforms."  # overridden
    scientist = ctx.role("data_scientist")
    assert scientist.description == "Data analysis"  # its own key: it is a custom role
    assert scientist.expertise == ("statistics", "experiment design\nand power analysis")
    assert "- experiment design\n  and power analysis\n" in scientist.prompt()
    assert "## Approach" not in scientist.prompt() and "## Output format" not in scientist.prompt()
    assert runtime.route(ctx.session_id, "clean the dataset").specialist == "data_scientist"


def test_unknown_roles_are_a_clear_error_naming_the_known_ones(runtime: ModeRuntime) -> None:
    runtime.project.ensure()
    shutil.copyfile(ORCHESTRATOR_DEFAULTS, runtime.project.roles / "default_roles.yaml")
    ctx = runtime.initialize_session(mode_file="default_roles.yaml")
    with pytest.raises(UnknownRoleError) as unknown:
        ctx.role("nobody")
    error = unknown.value
    assert isinstance(error, KeyError) and isinstance(error, ModecError) and error.suggestion
    assert str(error) == error.message
    assert "'nobody'" in error.message and "architect" in error.message
    assert all(name in error.message for name in ctx.roles)
    with pytest.raises(KeyError, match=r"listed in the specialist_roles .* no role definition"):
        ctx.role("tester")  # listed by the orchestrator, defined nowhere
    assert "tester" in ctx.specialist_roles and "tester" not in ctx.roles


def test_role_prompt_renders_only_what_the_role_has() -> None:
    bare = RolePrompt("scribe", "  You take notes.\n")
    assert bare.prompt() == "# scribe\n\nYou take notes.\n"
    assert bare.to_dict() == {
        "name": "scribe",
        "definition": "  You take notes.\n",
        "expertise": [],
        "approach": [],
        "output_format": None,
        "description": None,
    }
    with pytest.raises(AttributeError):
        bare.name = "other"  # type: ignore[misc]
