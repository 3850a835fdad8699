"""Issue 12, "Must show": the real MCP Task Orchestrator 1.8.0 routes through modec, unpatched.

The orchestrator comes from PyPI (``mcp-task-orchestrator==1.8.0``) into its own venv, built
by the test setup and cached (:func:`tests.integration.venvs.test_venv`; never skipped: a
failed build fails the test), with modec installed from this checkout with its ``mcp``
extra beside the orchestrator's pins (``mcp<2``: its server does not import under mcp 2).
:mod:`tests.integration.orchestrator_scenario` runs in that venv: a session initialised by
the orchestrator's own ``orchestrator_initialize_session`` handler (which writes its role
file, ``project_roles.yaml``), subtasks planned and executed by its own ``TaskOrchestrator``
(``SubTask`` objects, ``subtasks`` rows, a ``TaskBreakdown``), each routed through the
shipped adapter (:mod:`modec.integrations.task_orchestrator`); nothing of modec is patched
and nothing outside the adapter converts anything. The test judges what it recorded.

The orchestrator's own file has no routing rules, so the classic keyword behaviour holds:
each task's type is ``classify_task_type`` of its description, and the specialist the
default (``implementer``, defined in the file); a second project adds routing rules to the
same file, and the mode's choice reaches the orchestrator's subtasks and prompts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from modec import __version__
from modec.testing import classic_classify as classify_task_type
from tests.integration.orchestrator_scenario import SUBTASKS
from tests.integration.venvs import test_venv

ORCHESTRATOR = "mcp-task-orchestrator==1.8.0"
SCENARIO = Path(__file__).with_name("orchestrator_scenario.py")
#: The orchestrator repository's own ``config/default_roles.yaml`` (the corpus copy, byte for
#: byte; the 1.8.0 wheel does not ship it).
DEFAULT_ROLES = (
    Path(__file__).parents[1]
    / "conformance"
    / "corpus"
    / "EchoingVesper__mcp-task-orchestrator__config__default_roles.yaml"
)


@pytest.fixture(scope="session")
def orchestrator_python() -> Path:
    return test_venv("task-orchestrator", [ORCHESTRATOR, "mcp>=1.10,<2"], extras="mcp")


@pytest.fixture(scope="module")
def recorded(orchestrator_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("orchestrator")
    project, routed, home = base / "project", base / "routed", base / "home"
    repo_defaults = base / "repo_defaults"
    for folder in (project, routed, home, repo_defaults):
        folder.mkdir()
    target = base / "out.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCP_TASK_", "MODEC_"))}
    env["HOME"] = str(home)  # the orchestrator creates ~/.mcp_task_orchestrator on import
    proc = subprocess.run(
        [
            str(orchestrator_python),
            str(SCENARIO),
            str(project),
            str(routed),
            str(target),
            str(repo_defaults),
            str(DEFAULT_ROLES),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-6000:])
    return json.loads(target.read_text())


def test_the_venv_has_the_real_orchestrator_beside_modec_mcp(orchestrator_python: Path) -> None:
    proc = subprocess.run(
        [
            str(orchestrator_python),
            "-c",
            "import importlib.metadata as m, sys; import modec.integrations.task_orchestrator; "
            "assert not [n for n in sys.modules if n.startswith('mcp')], 'imports a host'; "
            "print(m.version('mcp-task-orchestrator'), m.version('mcp'), m.version('modec'))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    orchestrator, mcp, modec = proc.stdout.split()
    assert orchestrator == "1.8.0" and modec == __version__
    assert mcp.startswith("1.")  # modec[mcp] resolved to the 1.x the orchestrator runs on


def test_the_session_is_the_orchestrators_and_its_role_file_is_the_mode(recorded: Any) -> None:
    assert recorded["initialized"]["session_initialized"] is True
    # The orchestrator wrote its own role file; modec bound it and copied nothing beside it.
    assert recorded["roles_after_initialize"] == ["project_roles.yaml"]
    assert recorded["mode_file"] == "project_roles.yaml"
    assert recorded["roles_at_end"] == ["project_roles.yaml"]
    assert recorded["session_id"].startswith("task-orchestrator:")


def test_modecs_tables_sit_in_the_orchestrators_database_prefixed(recorded: Any) -> None:
    tables = set(recorded["tables"])
    assert {"task_breakdowns", "subtasks"} <= tables  # the orchestrator's own
    modec = {t for t in tables if t.startswith("modec_")}
    assert {"modec_sessions", "modec_session_mode_bindings", "modec_mode_usage_history"} <= modec
    assert not tables & {"sessions", "session_mode_bindings", "mode_usage_history"}
    assert "modec.db" not in recorded["task_orchestrator_dir"]  # no second database


def test_without_the_adapter_the_host_refuses_unassigned_subtasks(recorded: Any) -> None:
    assert "specialist_type" in recorded["unfilled_plan_error"]


def role_lines(role: dict[str, Any]) -> list[str]:
    return [role["role_definition"], *role.get("expertise", ()), *role.get("approach", ())]


def test_each_subtask_gets_the_modes_specialist_and_prompt(recorded: Any) -> None:
    roles = recorded["host_roles"]["project_roles.yaml"]
    listed = roles["task_orchestrator"]["specialist_roles"]
    assert len(recorded["subtasks"]) == 7
    for task in recorded["subtasks"]:
        expected_type = classify_task_type(task["description"])
        assert task["task_type"] == expected_type, task
        # No routing rules in the orchestrator's file: every type goes to the default.
        assert task["mode_specialist"] == "implementer", task
        if task["sent_specialist"] is None:
            assert task["host_specialist"] == "implementer", task  # filled in by the mode
        else:
            assert task["host_specialist"] == task["sent_specialist"], task  # the LLM's kept
        assert task["specialist"] == task["host_specialist"]
        prompt = task["prompt"]
        assert prompt == task["assignment_prompt"]  # the host's own code path, unchanged
        specialist = task["host_specialist"]
        if specialist in roles:
            for line in role_lines(roles[specialist]):
                assert line in prompt, (specialist, line)
        else:  # listed without a definition: its one-line description
            assert listed[specialist] in prompt
        assert f"**Task ID:** {task['task_id']}" in prompt
        assert task["description"] in prompt
        assert f"**Task type:** {expected_type} (mode project_roles.yaml)" in prompt
    kept = [t for t in recorded["subtasks"] if t["sent_specialist"]]
    assert [t["host_specialist"] for t in kept] == ["reviewer", "architect"]
    assert all("(the mode would route this task to implementer)" in t["prompt"] for t in kept)


def test_database_rows_and_the_breakdown_route_as_their_models(recorded: Any) -> None:
    by_id = {t["task_id"]: t for t in recorded["subtasks"]}
    assert set(recorded["rows"]) == set(by_id)
    for task_id, row in recorded["rows"].items():
        assert row == {
            "specialist": by_id[task_id]["host_specialist"],
            "task_type": by_id[task_id]["task_type"],
        }
    assert recorded["breakdown"] == {"task_type": "general_tasks", "complexity": 3}


def test_the_hosts_status_gets_the_seeds_mode_info(recorded: Any) -> None:
    status = recorded["status"]
    assert status["pending_tasks"] + status["active_tasks"] == 7  # the host's own fields
    info = status["mode_info"]
    assert set(info) == {"mode_file", "specialist_count", "custom_roles", "routing_rules", "modec"}
    assert info["mode_file"] == "project_roles.yaml"
    assert info["specialist_count"] == 7 and info["custom_roles"] == 0
    assert info["routing_rules"] == len(info["modec"]["routing_rules"]) == 5


def test_a_specialist_the_host_cannot_take_is_refused(recorded: Any) -> None:
    refused = recorded["unassignable"]
    assert "'implementer', which the host cannot assign" in refused["message"]
    assert "architect, reviewer" in refused["message"]
    assert refused["suggestion"]


def test_the_projects_routing_rules_choose_the_specialists(recorded: Any) -> None:
    routed = recorded["routed"]
    roles = recorded["host_roles"]["project_roles.yaml"]
    assert routed["mode_file"] == "project_roles.yaml"
    assert routed["roles_at_end"] == ["project_roles.yaml"]
    expected = {
        "security_tasks": "architect",
        "performance_tasks": "debugger",
        "documentation_tasks": "documenter",
        "testing_tasks": "implementer",
        "general_tasks": "implementer",
    }
    chosen = {}
    for task in routed["subtasks"]:
        chosen[task["description"]] = task["host_specialist"]
        assert task["task_type"] == classify_task_type(task["description"])
        specialist = task["host_specialist"]
        if specialist in roles:
            assert roles[specialist]["role_definition"] in task["prompt"]
    assert chosen == {
        "Audit the login flow for security vulnerabilities": expected["security_tasks"],
        "Find the bottleneck in the dashboard query": expected["performance_tasks"],
        "Add unit tests for the password reset": expected["testing_tasks"],
        "Write the readme section on signing in": expected["documentation_tasks"],
        "Build the login form": expected["general_tasks"],
        "Security review of the session cookie code": "reviewer",  # the LLM's choice
        "Write the design document for single sign-on": "architect",  # the LLM's choice
    }
    [audit] = [t for t in routed["subtasks"] if t["description"].startswith("Audit")]
    assert audit["secondary_review"] == ["debugger"]
    assert "**Secondary review:** debugger" in audit["prompt"]


# --------------------------------------------------------------------------- one MCP server

#: The orchestrator's own MCP tools and modec's on one low-level server, composed the way the
#: orchestrator composes its reboot tools (its handlers, called as they are).
HOST_SERVER = """
import os, sys
import anyio
from mcp.server import Server
from mcp.server.stdio import stdio_server
from mcp_task_orchestrator import server as orchestrator
from modec import ModeRuntime
from modec.mcp_server import tool_table

project = sys.argv[1]
os.chdir(project)
modec_tools = tool_table(lambda: ModeRuntime(project),
                         names={"orchestrator_get_status": None,
                                "orchestrator_route_task": "modec_route_task"})
app = Server("task-orchestrator")

@app.list_tools()
async def list_tools():
    return await orchestrator.list_tools() + modec_tools.tools

@app.call_tool()
async def call_tool(name, arguments):
    if name in modec_tools.handlers:
        return await modec_tools.handlers[name](arguments)
    return await orchestrator.call_tool(name, arguments)

async def main():
    async with stdio_server() as (read, write):
        await app.run(read, write, app.create_initialization_options())

anyio.run(main)
"""

HOST_CLIENT = """
import json, sys
import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from modec.integrations.task_orchestrator import session_id_of

async def main():
    params = StdioServerParameters(command=sys.executable, args=sys.argv[1:3],
                                   env={"HOME": sys.argv[3],
                                        "MCP_TASK_ORCHESTRATOR_LOG_LEVEL": "WARNING"})
    out = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            out["tools"] = sorted(t.name for t in (await session.list_tools()).tools)
            init = await session.call_tool("orchestrator_initialize_session",
                                           {"working_directory": sys.argv[2]})
            sid = session_id_of(init.content[0].text)
            out["session_id"] = sid
            for key, description in (("security", "Audit the login for vulnerabilities"),
                                     ("general", "Build the login form")):
                routed = await session.call_tool(
                    "modec_route_task", {"session_id": sid, "description": description})
                out[key] = json.loads(routed.content[0].text)
            listed = await session.call_tool("orchestrator_mode_list",
                                             {"scan_config_directory": True,
                                              "include_invalid": True})
            out["listed"] = json.loads(listed.content[0].text)
            status = await session.call_tool("orchestrator_get_status", {})
            out["status"] = json.loads(status.content[0].text)
    print(json.dumps(out))

anyio.run(main)
"""


def test_one_server_serves_the_orchestrators_tools_and_modecs(
    orchestrator_python: Path, tmp_path: Path
) -> None:
    (tmp_path / "host.py").write_text(HOST_SERVER)
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    home.mkdir()
    proc = subprocess.run(
        [
            str(orchestrator_python),
            "-c",
            HOST_CLIENT,
            str(tmp_path / "host.py"),
            str(project),
            str(home),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    tools = out["tools"]
    assert "orchestrator_initialize_session" in tools and "orchestrator_plan_task" in tools
    assert {"modec_route_task", "orchestrator_mode_select", "orchestrator_mode_list"} <= set(tools)
    assert tools.count("orchestrator_get_status") == 1  # the host's own, not shadowed
    # modec adopted the orchestrator's session and bound the orchestrator's own role file.
    for key, task_type in (("security", "security_tasks"), ("general", "general_tasks")):
        assert out[key]["success"] is True, out[key]
        assert out[key]["session_id"] == out["session_id"]
        assert out[key]["mode_file"] == "project_roles.yaml"
        assert out[key]["decision"]["task_type"] == task_type
        assert out[key]["decision"]["specialist"] == "implementer"
    assert set(out["status"]) >= {"active_tasks", "pending_tasks", "tasks"}  # the host's
    listed = out["listed"]  # the spec's scan_config_directory, through modec's own schema
    assert listed["success"] is True, listed
    assert [m["filename"] for m in listed["available_modes"]] == ["project_roles.yaml"]
    assert "project_roles.yaml" in json.dumps(listed["config_directory"])
    assert sorted(p.name for p in (project / ".task_orchestrator" / "roles").iterdir()) == [
        "project_roles.yaml"
    ]


# --------------------------------------------------------------------------- the README

README = Path(__file__).resolve().parents[2] / "README.md"
README_MARKER = (
    "<!-- tested: tests/integration/test_task_orchestrator.py::test_the_readme_example_runs -->"
)


def readme_example() -> str:
    after = README.read_text(encoding="utf-8").split(README_MARKER, 1)[1]
    found = re.match(r"\s*```python\n(.*?)```", after, flags=re.S)
    assert found, "the README's task_orchestrator example must follow its marker"
    return found.group(1)


def test_the_readme_example_runs(orchestrator_python: Path, tmp_path: Path) -> None:
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    home.mkdir()
    code = (
        readme_example()
        + "\nimport asyncio, sys\n"
        + "print('PROMPT ' + json.dumps(asyncio.run(first_prompt(sys.argv[1]))))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MCP_TASK_", "MODEC_"))}
    env.update(HOME=str(home), MCP_TASK_ORCHESTRATOR_LOG_LEVEL="WARNING")
    proc = subprocess.run(
        [str(orchestrator_python), "-c", code, str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    [line] = [x for x in proc.stdout.splitlines() if x.startswith("PROMPT ")]
    prompt = json.loads(line.removeprefix("PROMPT "))
    roles = yaml.safe_load((project / ".task_orchestrator/roles/project_roles.yaml").read_text())
    assert roles["implementer"]["role_definition"] in prompt
    assert "Audit the login flow for vulnerabilities" in prompt
    assert "**Task type:** security_tasks" in prompt


def test_the_repositorys_default_roles_route_by_the_classic_keywords(recorded: Any) -> None:
    """The orchestrator's own ``default_roles.yaml`` as the project's role file: it is the
    session's mode (nothing copied beside it), every task's type is the classic keyword
    classifier's, an unnamed specialist is the file's default, the LLM's own choices stay,
    and each prompt carries the chosen role's definition from that file."""
    run = recorded["repo_defaults"]
    roles = yaml.safe_load(DEFAULT_ROLES.read_text())
    assert run["mode_file"] == "default_roles.yaml"
    assert run["roles_at_end"] == ["default_roles.yaml"]
    named = {t["description"]: t.get("specialist_type") for t in SUBTASKS}
    assert len(run["subtasks"]) == len(named)
    for task in run["subtasks"]:
        assert task["task_type"] == classify_task_type(task["description"]), task
        chosen = named[task["description"]]
        assert task["host_specialist"] == (chosen or "implementer"), task
        role = roles[task["host_specialist"]]
        assert role["role_definition"] in task["prompt"], task["host_specialist"]
    assert {t["task_type"] for t in run["subtasks"]} == {
        "security_tasks",
        "performance_tasks",
        "testing_tasks",
        "documentation_tasks",
        "general_tasks",
    }
