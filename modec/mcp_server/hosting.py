"""modec's mode tools on a host's own MCP server, under mcp 2.x or 1.x.

A host (MCP Task Orchestrator first) keeps its server and adds modec's tools to it::

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
"""

from __future__ import annotations

import functools
import inspect
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

import anyio.to_thread

from modec.mcp_server.sdk import require_sdk
from modec.mcp_server.tools import TOOLS, ModeTools
from modec.runtime.lifecycle import ModeRuntime

__all__ = ["register"]


def _sdk_types() -> tuple[type[Any], type[Any]]:
    """(CallToolResult, ToolAnnotations) of the installed SDK major."""
    if require_sdk("registering modec's tools", major=None) >= 2:
        from mcp_types import CallToolResult, ToolAnnotations
    else:
        from mcp.types import CallToolResult, ToolAnnotations  # type: ignore[no-redef,unused-ignore]
    return CallToolResult, ToolAnnotations


class _LazyTools:
    """The host's :class:`ModeTools`, built from ``runtime_factory`` on first use."""

    def __init__(self, factory: Callable[[], ModeRuntime]) -> None:
        self._factory = factory
        self._tools: ModeTools | None = None
        self._lock = threading.Lock()

    def get(self) -> ModeTools:
        with self._lock:
            if self._tools is None:
                self._tools = ModeTools(self._factory())
            return self._tools


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
) -> dict[str, str | None]:
    """Add modec's mode tools to ``server`` (mcp 2.x ``MCPServer`` or 1.x ``FastMCP``).

    ``runtime_factory``: the project's :class:`ModeRuntime`, or a callable making it (called
    on the first tool call). ``names`` maps a modec tool name to the name to register it
    under, or to ``None`` to skip it. Returns, for every modec tool, the name it was
    registered under, or ``None`` (skipped, or the host already has a tool of that name).
    """
    result_type, annotations_type = _sdk_types()
    factory = runtime_factory if callable(runtime_factory) else (lambda: runtime_factory)
    lazy = _LazyTools(factory)  # type: ignore[arg-type,unused-ignore]
    chosen = dict(names or {})
    unknown = set(chosen) - {name for name, _ in TOOLS}
    if unknown:
        raise ValueError(f"modec has no tool {', '.join(sorted(unknown))}")
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
