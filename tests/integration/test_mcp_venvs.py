"""Issue 12 item 1: the MCP server is an extra, and the tools register on mcp 1.x and 2.x.

Real virtual environments, created by the test setup (pip's own cache makes a rebuild
quick; never skipped):

- without ``mcp``: ``pip install`` of modec with no extras; the library imports, compiles,
  routes and runs sessions, and ``modec serve`` says which extra to install;
- with ``mcp>=1.10,<2``: a tiny FastMCP host server registers modec's tools
  (:func:`modec.mcp_server.register`), and the real SDK client of that venv calls them over
  stdio.

The venvs live under ``$MODEC_TEST_VENV_CACHE`` (default: the system temp dir), keyed by
this checkout and the requirements, and are reused across runs (modec is installed editable).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modec.mcp_server.tools import TOOLS
from tests.integration.venvs import test_venv


def _venv(name: str, requirements: list[str]) -> Path:
    """A venv with modec (editable, no extras) and ``requirements``; built once, reused."""
    return test_venv(name, requirements)


def run(python: Path, code: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
        **kwargs,
    )  # type: ignore[call-overload]


# --------------------------------------------------------------------------- without mcp


@pytest.fixture(scope="session")
def plain_python() -> Path:
    return _venv("plain", [])


def test_the_plain_install_has_no_mcp(plain_python: Path, tmp_path: Path) -> None:
    proc = run(plain_python, "import mcp", tmp_path)
    assert proc.returncode != 0 and "No module named 'mcp'" in proc.stderr, proc.stderr


LIBRARY_WITHOUT_MCP = """
import sys
import modec
from modec import ModeRuntime, Task, compile_mode, load_router
from importlib.resources import files

mode = files("modec") / "modes" / "development_mode.yaml"
router = load_router(compile_mode(str(mode)))
decision = router.route(Task(title="fix: crash", description="segfault on start",
                             complexity="simple"))
with ModeRuntime(".") as runtime:
    context = runtime.initialize_session(mode_file="development_mode.yaml")
    routed = runtime.route(context.session_id, "profile the slow endpoint")
import modec.mcp_server  # the package imports; only serving needs the SDK
assert "mcp" not in sys.modules, sorted(m for m in sys.modules if m.startswith("mcp"))
print(decision.task_type, routed.specialist)
"""


def test_the_library_runs_without_mcp(plain_python: Path, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    proc = run(plain_python, LIBRARY_WITHOUT_MCP, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["hotfix_tasks", "performance_optimizer"], proc.stdout


def test_serve_without_the_extra_names_it(plain_python: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(plain_python), "-m", "modec", "serve", "--project", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "pip install 'modec[mcp]'" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- mcp 1.x


HOST_SERVER = """
import sys
try:
    from mcp.server.mcpserver import MCPServer as Host  # mcp 2.x
except ImportError:
    from mcp.server.fastmcp import FastMCP as Host  # mcp 1.x, as MCP Task Orchestrator
from modec import ModeRuntime
from modec.mcp_server import register

server = Host("host")

@server.tool()
def orchestrator_get_status() -> str:
    '''The host's own status tool: modec must not shadow it.'''
    return "host status"

names = register(server, runtime_factory=lambda: ModeRuntime(sys.argv[1], sys.argv[2]),
                 names={"orchestrator_mode_backup": None,
                        "orchestrator_route_task": "modec_route_task"})
assert names["orchestrator_get_status"] is None and names["orchestrator_mode_backup"] is None
server.run("stdio")
"""

HOST_CLIENT = """
import json, sys
import anyio
import mcp
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

def field(obj, name2, name1):  # mcp 2.x names fields in snake_case, 1.x in camelCase
    return getattr(obj, name2) if hasattr(obj, name2) else getattr(obj, name1)

async def main():
    params = StdioServerParameters(command=sys.executable,
                                   args=[sys.argv[1], sys.argv[2], sys.argv[3]])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = {t.name: t for t in (await session.list_tools()).tools}
            out = {"tools": sorted(tools),
                   "route_schema": field(tools["modec_route_task"], "input_schema", "inputSchema")}
            selected = await session.call_tool("orchestrator_mode_select",
                                               {"mode_file": "development_mode.yaml"})
            sid = field(selected, "structured_content", "structuredContent")["session_id"]
            routed = await session.call_tool("modec_route_task", {
                "session_id": sid, "description": "profile the slow endpoint"})
            out["routed"] = field(routed, "structured_content", "structuredContent")
            out["routed_error"] = field(routed, "is_error", "isError")
            missing = await session.call_tool("orchestrator_mode_validate",
                                              {"mode_file": "nope.yaml"})
            out["missing"] = field(missing, "structured_content", "structuredContent")
            out["missing_error"] = field(missing, "is_error", "isError")
            status = await session.call_tool("orchestrator_get_status", {})
            out["status"] = status.content[0].text
            print(json.dumps(out))

anyio.run(main)
"""


@pytest.fixture(scope="session")
def mcp1_python() -> Path:
    return _venv("mcp1", ["mcp>=1.10,<2"])


@pytest.mark.parametrize("major", [1, 2])
def test_tools_register_on_a_host_server(
    major: int, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """mcp 1.x: FastMCP in its own venv; mcp 2.x: MCPServer in this test environment."""
    python = request.getfixturevalue("mcp1_python") if major == 1 else Path(sys.executable)
    version = run(python, "import importlib.metadata as m; print(m.version('mcp'))", tmp_path)
    assert version.stdout.startswith(f"{major}."), version
    (tmp_path / "host.py").write_text(HOST_SERVER)
    project = tmp_path / "project"
    project.mkdir()
    database = f"sqlite:///{tmp_path / 'x.db'}"
    proc = subprocess.run(
        [str(python), "-c", HOST_CLIENT, str(tmp_path / "host.py"), str(project), database],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["tools"] == sorted(
        [
            "orchestrator_get_status",
            "orchestrator_mode_select",
            "orchestrator_mode_list",
            "orchestrator_mode_validate",
            "orchestrator_mode_create",
            "orchestrator_mode_restore",
            "modec_route_task",
        ]
    )
    assert out["route_schema"]["properties"]["description"]["maxLength"] == 100_000
    assert out["routed_error"] is False
    assert out["routed"]["decision"]["specialist"] == "performance_optimizer"
    assert out["missing_error"] is True
    assert out["missing"]["success"] is False
    assert out["missing"]["error_type"] == "mode_file_not_found"
    assert out["status"] == "host status"


SERVE_CLIENT = """
import json, sys
import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

async def main():
    params = StdioServerParameters(command=sys.executable, args=[
        "-m", "modec", "serve", "--project", sys.argv[1], "--db", sys.argv[2]])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            out = {"tools": sorted(t.name for t in (await session.list_tools()).tools)}
            selected = await session.call_tool("orchestrator_mode_select",
                                               {"mode_file": "development_mode.yaml"})
            sid = selected.structuredContent["session_id"]
            routed = await session.call_tool("orchestrator_route_task", {
                "session_id": sid, "description": "profile the slow endpoint"})
            out["routed"] = routed.structuredContent["decision"]["specialist"]
            typo = await session.call_tool("orchestrator_route_task", {
                "sesion_id": sid, "description": "x"})
            out["typo"] = [typo.isError, typo.structuredContent["error_type"],
                           typo.structuredContent["recovery_suggestions"]]
            stranger = await session.call_tool("orchestrator_route_task", {
                "session_id": "not-a-session", "description": "x"})
            out["stranger"] = [stranger.isError, stranger.structuredContent["error_type"]]
            print(json.dumps(out))

anyio.run(main)
"""


def test_serve_runs_on_mcp_1(mcp1_python: Path, tmp_path: Path) -> None:
    """A host that pins mcp 1.x (MCP Task Orchestrator 1.8) still gets ``modec serve``: the
    same tools over FastMCP, unknown arguments refused, modec's own session ids checked."""
    project = tmp_path / "project"
    project.mkdir()
    proc = subprocess.run(
        [str(mcp1_python), "-c", SERVE_CLIENT, str(project), f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["tools"] == sorted(name for name, _ in TOOLS)
    assert out["routed"] == "performance_optimizer"
    is_error, error_type, suggestions = out["typo"]
    assert (is_error, error_type) == (True, "invalid_arguments")
    assert any("did you mean 'session_id'" in s for s in suggestions), suggestions
    assert out["stranger"] == [True, "session_not_active"]
