"""Issue 12: modec's tools on a host's server adopt the host's session ids, through the SDK.

A host's LLM passes the host's own session ids to modec's tools; registered on a host's
server (:func:`modec.mcp_server.register`, ``adopt_sessions`` on by default), a session id
modec does not know is adopted (bound to the default mode, or to the mode
``orchestrator_mode_select`` names) instead of refused with ``session_not_active``; with
``adopt_sessions=False`` (and under ``modec serve``) it is refused as before. Run with the
real SDK client over stdio, on mcp 2.x (this environment) and 1.x (FastMCP, in its own venv,
as :mod:`tests.integration.test_mcp_venvs` builds it); the answers carry the seed's
``mode_info`` shape.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.integration.venvs import test_venv

HOST_SERVER = """
import sys
try:
    from mcp.server.mcpserver import MCPServer as Host  # mcp 2.x
except ImportError:
    from mcp.server.fastmcp import FastMCP as Host  # mcp 1.x
from modec import ModeRuntime
from modec.mcp_server import register

server = Host("host")
register(server, runtime_factory=lambda: ModeRuntime(sys.argv[1], sys.argv[2]),
         names={"orchestrator_get_status": "modec_get_status"},
         adopt_sessions=sys.argv[3] == "adopt")
server.run("stdio")
"""

HOST_CLIENT = """
import json, sys
import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

def field(obj, name2, name1):  # mcp 2.x names fields in snake_case, 1.x in camelCase
    return getattr(obj, name2) if hasattr(obj, name2) else getattr(obj, name1)

async def main():
    params = StdioServerParameters(command=sys.executable, args=sys.argv[1:5])
    out = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()

            async def call(key, tool, arguments):
                result = await session.call_tool(tool, arguments)
                out[key] = field(result, "structured_content", "structuredContent")
                out[key + "_error"] = field(result, "is_error", "isError")

            await call("route_new", "orchestrator_route_task",
                       {"session_id": "host-session-1", "description": "write the readme"})
            await call("select_new", "orchestrator_mode_select",
                       {"session_id": "host-session-2", "mode_file": "development_mode.yaml"})
            await call("route_selected", "orchestrator_route_task",
                       {"session_id": "host-session-2",
                        "description": "profile the slow endpoint", "complexity": "high"})
            await call("route_again", "orchestrator_route_task",
                       {"session_id": "host-session-1", "description": "write the readme"})
            await call("status", "modec_get_status", {})
    print(json.dumps(out))

anyio.run(main)
"""

SEED_KEYS = {"mode_file", "specialist_count", "custom_roles", "routing_rules", "modec"}


@pytest.fixture(scope="module")
def mcp1_python() -> Path:
    return test_venv("mcp1", ["mcp>=1.10,<2"])


def hosted(python: Path, tmp_path: Path, mode: str) -> dict[str, Any]:
    (tmp_path / "host.py").write_text(HOST_SERVER)
    project = tmp_path / "project"
    project.mkdir()
    database = f"sqlite:///{tmp_path / 'x.db'}"
    proc = subprocess.run(
        [str(python), "-c", HOST_CLIENT, str(tmp_path / "host.py"), str(project), database, mode],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("major", [1, 2])
def test_a_hosts_session_ids_are_adopted(
    major: int, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    python = request.getfixturevalue("mcp1_python") if major == 1 else Path(sys.executable)
    out = hosted(python, tmp_path, "adopt")
    assert out["route_new_error"] is False, out["route_new"]
    default_mode = out["route_new"]["mode_file"]
    assert out["route_new"]["decision"]["task_type"] == "documentation_tasks"
    assert out["select_new_error"] is False, out["select_new"]
    assert out["select_new"]["session_id"] == "host-session-2"
    assert out["select_new"]["mode_activated"] == "development_mode.yaml"
    assert out["select_new"]["previous_mode"] is None
    assert out["route_selected"]["decision"]["specialist"] == "performance_optimizer"
    assert out["route_selected"]["decision"]["complexity"] == 4  # the spec's 'high'
    assert out["route_again"]["mode_file"] == default_mode  # adopted once, then known
    sessions = {s["session_id"]: s for s in out["status"]["sessions"]}
    assert set(sessions) == {"host-session-1", "host-session-2"}
    for session in sessions.values():
        info = session["mode_info"]
        assert set(info) == SEED_KEYS
        for key in ("specialist_count", "custom_roles", "routing_rules"):
            assert type(info[key]) is int, (key, info)
    assert sessions["host-session-1"]["mode_info"]["mode_file"] == default_mode
    assert sessions["host-session-2"]["mode_info"]["mode_file"] == "development_mode.yaml"


def test_without_adoption_unknown_ids_are_refused(tmp_path: Path) -> None:
    out = hosted(Path(sys.executable), tmp_path, "refuse")
    for key in ("route_new", "select_new", "route_selected"):
        assert out[key + "_error"] is True, out[key]
        assert out[key]["error_type"] == "session_not_active", out[key]
    assert out["status"]["sessions"] == []


def test_the_low_level_tool_table_validates_and_adopts(tmp_path: Path) -> None:
    """:func:`modec.mcp_server.tool_table` (the orchestrator's low-level server runs it over
    stdio in ``test_task_orchestrator.py``): its handlers, called as a host's call_tool
    calls them, on this environment's mcp 2.x types."""
    import asyncio

    from modec import ModeRuntime
    from modec.mcp_server import tool_table

    project = tmp_path / "project"
    project.mkdir()
    with ModeRuntime(project, f"sqlite:///{tmp_path / 'x.db'}") as runtime:
        table = tool_table(runtime, names={"orchestrator_get_status": None})
        assert [t.name for t in table.tools] == list(table.handlers)
        assert "orchestrator_get_status" not in table.handlers
        route = table.handlers["orchestrator_route_task"]
        schema = next(t for t in table.tools if t.name == "orchestrator_route_task").input_schema
        assert schema["additionalProperties"] is False
        assert schema["properties"]["description"]["maxLength"] == 100_000

        def call(arguments: dict[str, Any]) -> dict[str, Any]:
            [content] = asyncio.run(route(arguments))
            answer: dict[str, Any] = json.loads(content.text)
            return answer

        missing = call({"session_id": "h1"})
        assert (missing["success"], missing["error_type"]) == (False, "invalid_arguments")
        misspelt = call({"session_id": "h1", "description": "x", "complexty": 2})
        assert misspelt["error_type"] == "invalid_arguments"
        routed = call({"session_id": "h1", "description": "write the readme"})
        assert routed["success"] is True
        assert routed["decision"]["task_type"] == "documentation_tasks"
        assert runtime.binding("h1") is not None  # adopted
