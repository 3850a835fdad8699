"""``modec serve`` on the ``mcp`` SDK 1.x (``FastMCP``), for an environment whose host pins
mcp 1.x (MCP Task Orchestrator 1.8 runs only on mcp 1.x).

The same tools, schemas and answers as :mod:`modec.mcp_server.server` on 2.x: the tools are
registered through :func:`~modec.mcp_server.hosting.register` (modec's own session ids, so an
unknown one is refused rather than adopted), a call of an unknown tool or with an argument a
tool does not take is refused with the one error shape, and stdio goes through the
validating reader (:func:`~modec.mcp_server.transport.validated_stdio`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import anyio.to_thread

from modec.mcp_server.hosting import register
from modec.mcp_server.tools import INSTRUCTIONS, SERVER_NAME, ModeTools, refusal, tool_parameters
from modec.mcp_server.transport import validated_stdio
from modec.runtime.lifecycle import ModeRuntime

__all__ = ["legacy_server", "serve_stdio"]


def legacy_server(runtime: ModeRuntime) -> Any:
    """A 1.x ``FastMCP`` serving ``runtime``'s mode tools (see the module doc); the SDK 1.x
    is imported here, so this module imports under any SDK (doctest collection too)."""
    from mcp.server.fastmcp import FastMCP  # type: ignore[attr-defined,import-not-found,unused-ignore]
    from mcp.types import CallToolResult, TextContent  # type: ignore[import-not-found,unused-ignore]

    class LegacyModeServer(FastMCP):  # type: ignore[misc,unused-ignore]
        def __init__(self) -> None:
            super().__init__(SERVER_NAME, instructions=INSTRUCTIONS, log_level="WARNING")
            self.tools = ModeTools(runtime)
            register(self, runtime, adopt_sessions=False)
            self._parameters = tool_parameters()

        async def call_tool(self, name: str, arguments: dict[str, Any]) -> Sequence[Any] | Any:
            """Refuse an unknown tool or argument with the error shape, else run the tool."""
            refused = refusal(self._parameters, name, arguments)
            if refused is None:
                return await super().call_tool(name, arguments)
            problem, error_type = refused
            payload: Mapping[str, Any] = await anyio.to_thread.run_sync(
                self.tools.failure, problem, arguments, error_type
            )
            text = json.dumps(payload, ensure_ascii=False, indent=2)
            return CallToolResult(
                content=[TextContent(type="text", text=text)],
                structuredContent=dict(payload),
                isError=True,
            )

        async def run_stdio_async(self) -> None:
            """Serve over this process's stdin and stdout through the validating reader."""
            lowlevel = self._mcp_server
            async with validated_stdio() as (read_stream, write_stream):
                await lowlevel.run(
                    read_stream, write_stream, lowlevel.create_initialization_options()
                )

    return LegacyModeServer()


def serve_stdio(
    project_root: str | os.PathLike[str] = ".", database_url: str | None = None
) -> None:
    """Serve the project's mode tools on stdin/stdout until the client disconnects."""
    with ModeRuntime(project_root, database_url) as runtime:
        legacy_server(runtime).run("stdio")
