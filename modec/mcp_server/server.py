"""``modec serve``: the mode tools on the official ``mcp`` SDK 2.x (:class:`MCPServer`), over
the validating stdio transport (:mod:`modec.mcp_server.transport`).

Every failed tool call returns the one error shape (:mod:`modec.mcp_server.errors`) as a
tool result with ``isError`` set, so the server keeps answering whatever the previous call
did: a :class:`~modec.diagnostics.ModecError` from the runtime (its ``suggestion`` leads the
recovery suggestions; an :class:`~modec.diagnostics.InvalidModeError` also lists every
located diagnostic), arguments that do not match a tool's schema (wrong types, missing or
unknown fields, oversized strings), unknown tools and unexpected crashes.
``fallback_mode`` is the mode the session concerned keeps routing with (its current
binding), else the mode a new session of the project would get.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations

from modec._version import __version__
from modec.mcp_server.tools import (
    INSTRUCTIONS,
    SERVER_NAME,
    TOOLS,
    ModeTools,
    refusal,
    tool_parameters,
)
from modec.mcp_server.transport import validated_stdio
from modec.runtime.lifecycle import ModeRuntime

__all__ = ["SERVER_NAME", "ModeServer", "build_server", "serve_stdio"]


def _failure_result(payload: Mapping[str, Any]) -> CallToolResult:
    text = json.dumps(payload, ensure_ascii=False, indent=2)
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=dict(payload),
        is_error=True,
    )


class ModeServer(MCPServer[Any]):
    """An :class:`MCPServer` whose every failed tool call returns the error shape.

    The SDK reports arguments that fail the input schema, unknown tools and exceptions
    from a tool as bare error text; :meth:`call_tool` turns each into
    :func:`~modec.mcp_server.errors.error_payload` instead, and also refuses arguments a
    tool does not take (a misspelt ``sesion_id`` would otherwise be dropped silently).
    Over stdio it answers every line it cannot parse with a JSON-RPC error
    (:func:`~modec.mcp_server.transport.validated_stdio`).
    """

    def __init__(self, tools: ModeTools) -> None:
        super().__init__(
            SERVER_NAME,
            title="modec: the mode compiler",
            version=__version__,
            instructions=INSTRUCTIONS,
            log_level="WARNING",
        )
        self.tools = tools
        for name, hints in TOOLS:
            method: Callable[..., dict[str, Any]] = getattr(tools, name)
            self.add_tool(
                method,
                name=name,
                structured_output=True,
                annotations=ToolAnnotations.model_validate(hints.as_annotations()),
            )
        self._parameters = tool_parameters()

    async def run_stdio_async(self) -> None:
        """Serve over this process's stdin and stdout through the validating reader."""
        lowlevel = self._lowlevel_server
        async with validated_stdio() as (read_stream, write_stream):
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Run the tool; any failure comes back as :func:`error_payload` with ``isError``."""
        refused = refusal(self._parameters, name, arguments)
        if refused is not None:
            return await self._failure(*refused, arguments)
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            # Bad arguments: ToolError from the ValidationError; a failing tool: the
            # UnexpectedToolError wrapper around what it raised.
            return await self._failure(exc.__cause__ or exc, None, arguments)

    async def _failure(
        self, exc: BaseException, error_type: str | None, arguments: Mapping[str, Any]
    ) -> CallToolResult:
        payload = await anyio.to_thread.run_sync(self.tools.failure, exc, arguments, error_type)
        return _failure_result(payload)


def build_server(runtime: ModeRuntime) -> ModeServer:
    """The MCP server of ``runtime``'s project (run it with ``.run("stdio")``)."""
    return ModeServer(ModeTools(runtime))


def serve_stdio(
    project_root: str | os.PathLike[str] = ".", database_url: str | None = None
) -> None:
    """Serve the project's mode tools on stdin/stdout until the client disconnects."""
    with ModeRuntime(project_root, database_url) as runtime:
        build_server(runtime).run("stdio")
