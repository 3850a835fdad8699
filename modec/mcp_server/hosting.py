"""modec's mode tools on a host's own MCP server, under mcp 2.x or 1.x.

A host keeps its server and adds modec's tools to it. A host on the SDK's high-level server
(mcp 2.x ``MCPServer``, 1.x ``FastMCP``) calls :func:`register`::

    from mcp.server.fastmcp import FastMCP          # mcp 1.x; MCPServer under 2.x
    from modec import ModeRuntime
    from modec.mcp_server import add_mode_info, register

    server = FastMCP("task-orchestrator")
    register(server, runtime_factory=lambda: ModeRuntime(project_root))

Each tool keeps its input schema (its typed signature) and description, and answers with
the same JSON as ``modec serve`` (structured content, and the JSON as text); a failure is the
one error shape with ``isError`` set. Blocking runtime calls run in a worker thread.
``names`` renames tools (``{"orchestrator_route_task": "modec_route_task"}``) or skips them
(``None``); a tool name the host has already registered is never replaced (skipped, and
``None`` in the returned mapping), so the host's ``orchestrator_get_status`` stays its own:
:func:`~modec.mcp_server.shapes.add_mode_info` adds modec's ``mode_info`` to its payload.
``runtime_factory`` is called once, on the first tool call.

Argument validation is the host SDK's: an argument that does not match a schema gets that
SDK's error text, as for the host's own tools.

A host on the SDK's low-level ``mcp.server.Server`` with one ``list_tools`` and one
``call_tool`` handler (MCP Task Orchestrator 1.8's ``server.app``, which composes its reboot
tools the same way) takes :func:`tool_table` instead: its ``tools`` join the host's
``list_tools`` answer, its ``handlers`` (``async (arguments) -> [TextContent]``) the host's
``call_tool`` dispatch::

    modec_tools = tool_table(lambda: ModeRuntime(project_root),
                             names={"orchestrator_get_status": None})
    # in list_tools:  return [...the host's tools...] + modec_tools.tools
    # in call_tool:   elif name in modec_tools.handlers:
    #                     return await modec_tools.handlers[name](arguments)

There the arguments are validated by modec (the same schemas; unknown arguments refused),
and a failure is the one error shape as the JSON text (``success: false``), as the host's
own tools answer. Either way, a session id modec does not know is the host's and is adopted
(``adopt_sessions``, on by default; see :class:`~modec.mcp_server.tools.ModeTools`).
"""

from __future__ import annotations

import functools
import inspect
import json
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import pydantic

from modec.mcp_server.sdk import require_sdk
from modec.mcp_server.tools import TOOLS, ModeTools
from modec.runtime.lifecycle import ModeRuntime

__all__ = ["HostTools", "register", "tool_table"]


def _sdk_types() -> tuple[type[Any], type[Any]]:
    """(CallToolResult, ToolAnnotations) of the installed SDK major."""
    if require_sdk("registering modec's tools", major=None) >= 2:
        from mcp_types import CallToolResult, ToolAnnotations
    else:
        from mcp.types import CallToolResult, ToolAnnotations  # type: ignore[no-redef,unused-ignore]
    return CallToolResult, ToolAnnotations


def _lowlevel_types() -> tuple[type[Any], type[Any]]:
    """(Tool, TextContent) of the installed SDK major."""
    if require_sdk("registering modec's tools", major=None) >= 2:
        from mcp_types import TextContent, Tool
    else:
        from mcp.types import TextContent, Tool  # type: ignore[no-redef,unused-ignore]
    return Tool, TextContent


class _LazyTools:
    """The host's :class:`ModeTools`, built from ``runtime_factory`` on first use."""

    def __init__(self, factory: Callable[[], ModeRuntime], *, adopt_sessions: bool) -> None:
        self._factory = factory
        self._adopt = adopt_sessions
        self._tools: ModeTools | None = None
        self._lock = threading.Lock()

    def get(self) -> ModeTools:
        with self._lock:
            if self._tools is None:
                self._tools = ModeTools(self._factory(), adopt_sessions=self._adopt)
            return self._tools


def _factory(runtime_factory: Callable[[], ModeRuntime] | ModeRuntime) -> Callable[[], ModeRuntime]:
    if isinstance(runtime_factory, ModeRuntime):
        return lambda: runtime_factory
    return runtime_factory


def _chosen(names: Mapping[str, str | None] | None) -> dict[str, str | None]:
    chosen = dict(names or {})
    unknown = set(chosen) - {name for name, _ in TOOLS}
    if unknown:
        raise ValueError(f"modec has no tool {', '.join(sorted(unknown))}")
    return chosen


def _hosted_tool(lazy: _LazyTools, name: str, result_type: type[Any]) -> Callable[..., Any]:
    method = getattr(ModeTools, name)
    signature = inspect.signature(method, eval_str=True)
    parameters = [p for p in signature.parameters.values() if p.name != "self"]

    def result(payload: Mapping[str, Any], is_error: bool) -> Any:
        return result_type.model_validate(
            {
                "content": [
                    {"type": "text", "text": json.dumps(payload, ensure_ascii=False, indent=2)}
                ],
                "structuredContent": dict(payload),
                "isError": is_error,
            }
        )

    async def call(**arguments: Any) -> Any:
        tools = await anyio.to_thread.run_sync(lazy.get)
        try:
            payload = await anyio.to_thread.run_sync(
                functools.partial(getattr(tools, name), **arguments)
            )
        except Exception as exc:
            failure = await anyio.to_thread.run_sync(tools.failure, exc, arguments, None)
            return result(failure, True)
        return result(payload, False)

    call.__name__ = name
    call.__qualname__ = name
    call.__doc__ = method.__doc__
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=result_type
    )
    return call


def _has_tool(server: Any, name: str) -> bool:
    manager = getattr(server, "_tool_manager", None)  # MCPServer (2.x) and FastMCP (1.x)
    get_tool = getattr(manager, "get_tool", None)
    return callable(get_tool) and get_tool(name) is not None


def register(
    server: Any,
    runtime_factory: Callable[[], ModeRuntime] | ModeRuntime,
    *,
    names: Mapping[str, str | None] | None = None,
    adopt_sessions: bool = True,
) -> dict[str, str | None]:
    """Add modec's mode tools to ``server`` (mcp 2.x ``MCPServer`` or 1.x ``FastMCP``).

    ``runtime_factory``: the project's :class:`ModeRuntime`, or a callable making it (called
    on the first tool call). ``names`` maps a modec tool name to the name to register it
    under, or to ``None`` to skip it. ``adopt_sessions``: a session id modec does not know
    is the host's and is adopted (bound to the default mode, or to the mode
    ``orchestrator_mode_select`` names) rather than refused. Returns, for every modec tool,
    the name it was registered under, or ``None`` (skipped, or the host already has a tool
    of that name).
    """
    result_type, annotations_type = _sdk_types()
    lazy = _LazyTools(_factory(runtime_factory), adopt_sessions=adopt_sessions)
    chosen = _chosen(names)
    registered: dict[str, str | None] = {}
    for name, hints in TOOLS:
        host_name = chosen.get(name, name)
        if host_name is None or _has_tool(server, host_name):
            registered[name] = None
            continue
        server.add_tool(
            _hosted_tool(lazy, name, result_type),
            name=host_name,
            description=inspect.getdoc(getattr(ModeTools, name)),
            annotations=annotations_type.model_validate(hints.as_annotations()),
        )
        registered[name] = host_name
    return registered


@dataclass(frozen=True, slots=True)
class HostTools:
    """modec's tools for a host's low-level server (see the module doc): ``tools`` (the
    SDK's ``Tool`` objects, for its ``list_tools``) and ``handlers`` (host tool name ->
    ``async (arguments) -> [TextContent]``, for its ``call_tool``)."""

    tools: list[Any]
    handlers: dict[str, Callable[[Mapping[str, Any] | None], Awaitable[list[Any]]]]


def _arguments_model(name: str) -> tuple[type[pydantic.BaseModel], tuple[str, ...]]:
    """The tool's arguments as a pydantic model (unknown arguments refused)."""
    signature = inspect.signature(getattr(ModeTools, name), eval_str=True)
    fields: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.name == "self":
            continue
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (parameter.annotation, default)
    model = pydantic.create_model(
        f"{name}_arguments", __config__=pydantic.ConfigDict(extra="forbid"), **fields
    )
    return model, tuple(fields)


def _lowlevel_handler(
    lazy: _LazyTools, name: str, text_type: type[Any]
) -> tuple[Callable[[Mapping[str, Any] | None], Awaitable[list[Any]]], dict[str, Any]]:
    model, parameters = _arguments_model(name)

    async def handle(arguments: Mapping[str, Any] | None) -> list[Any]:
        given = dict(arguments or {})
        tools = await anyio.to_thread.run_sync(lazy.get)
        try:
            parsed = model.model_validate(given)
            call = functools.partial(
                getattr(tools, name), **{key: getattr(parsed, key) for key in parameters}
            )
            payload = await anyio.to_thread.run_sync(call)
        except Exception as exc:
            payload = await anyio.to_thread.run_sync(tools.failure, exc, given, None)
        text = json.dumps(payload, ensure_ascii=False, indent=2)
        return [text_type.model_validate({"type": "text", "text": text})]

    handle.__name__ = name
    return handle, model.model_json_schema()


def tool_table(
    runtime_factory: Callable[[], ModeRuntime] | ModeRuntime,
    *,
    names: Mapping[str, str | None] | None = None,
    adopt_sessions: bool = True,
) -> HostTools:
    """modec's mode tools for a host's low-level ``mcp.server.Server`` (mcp 1.x or 2.x
    types), to join its own ``list_tools`` and ``call_tool`` handlers (see the module doc).

    ``runtime_factory``, ``names`` and ``adopt_sessions`` as for :func:`register`; a host
    with a tool of the same name skips modec's (``names={"orchestrator_get_status": None}``).
    """
    tool_type, text_type = _lowlevel_types()
    lazy = _LazyTools(_factory(runtime_factory), adopt_sessions=adopt_sessions)
    chosen = _chosen(names)
    tools: list[Any] = []
    handlers: dict[str, Callable[[Mapping[str, Any] | None], Awaitable[list[Any]]]] = {}
    for name, hints in TOOLS:
        host_name = chosen.get(name, name)
        if host_name is None:
            continue
        handler, schema = _lowlevel_handler(lazy, name, text_type)
        tools.append(
            tool_type.model_validate(
                {
                    "name": host_name,
                    "description": inspect.getdoc(getattr(ModeTools, name)),
                    "inputSchema": schema,
                    "annotations": hints.as_annotations(),
                }
            )
        )
        handlers[host_name] = handler
    return HostTools(tools, handlers)
