"""The MCP server of modec: ``modec serve`` offers the mode tools of MCP Task Orchestrator
over stdio, and :func:`register` adds them to a host's own server.

The server is an extra (``pip install 'modec[mcp]'``): this package imports without the
``mcp`` SDK, and so does the library; :func:`serve` (and the CLI's ``modec serve``) raises
:class:`~modec.mcp_server.sdk.MissingSdkError` naming the extra when it is missing.

Modules: :mod:`~modec.mcp_server.tools` (the tools as methods over a
:class:`~modec.runtime.lifecycle.ModeRuntime`), :mod:`~modec.mcp_server.arguments` (their
bounded argument types), :mod:`~modec.mcp_server.errors` (the one failure shape),
:mod:`~modec.mcp_server.shapes` (the seed's ``mode_info``, bounded route answers),
:mod:`~modec.mcp_server.roles` (reading ``roles/``), :mod:`~modec.mcp_server.transport`
(the validating stdio reader), :mod:`~modec.mcp_server.server` (``modec serve`` on mcp
2.x), :mod:`~modec.mcp_server.server1` (``modec serve`` on 1.x) and
:mod:`~modec.mcp_server.hosting` (:func:`register` on a host's high-level server,
:func:`tool_table` for a low-level one; mcp 2.x and 1.x).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from modec.mcp_server.errors import (
    ERROR_TYPES,
    RECOVERY_HINTS,
    error_payload,
    error_type_of,
    located,
)
from modec.mcp_server.sdk import EXTRA, MissingSdkError, require_sdk
from modec.mcp_server.shapes import add_mode_info, seed_mode_info
from modec.mcp_server.tools import TOOLS, ModeTools

if TYPE_CHECKING:
    from modec.mcp_server.hosting import HostTools, register, tool_table
    from modec.mcp_server.server import SERVER_NAME, ModeServer, build_server

__all__ = [
    "ERROR_TYPES",
    "EXTRA",
    "RECOVERY_HINTS",
    "SERVER_NAME",
    "TOOLS",
    "HostTools",
    "MissingSdkError",
    "ModeServer",
    "ModeTools",
    "add_mode_info",
    "build_server",
    "error_payload",
    "error_type_of",
    "located",
    "register",
    "require_sdk",
    "seed_mode_info",
    "serve",
    "tool_table",
]

_NEEDS_SDK = {
    "SERVER_NAME": "modec.mcp_server.server",
    "ModeServer": "modec.mcp_server.server",
    "build_server": "modec.mcp_server.server",
    "register": "modec.mcp_server.hosting",
    "tool_table": "modec.mcp_server.hosting",
    "HostTools": "modec.mcp_server.hosting",
}


def __getattr__(name: str) -> Any:
    """The names that need the ``mcp`` SDK, imported on first use."""
    module = _NEEDS_SDK.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    require_sdk(f"modec.mcp_server.{name}", major=2 if module.endswith("server") else None)
    import importlib

    return getattr(importlib.import_module(module), name)


def serve(project_root: str | os.PathLike[str] = ".", database_url: str | None = None) -> None:
    """Serve the project's mode tools on stdin/stdout until the client disconnects.

    ``database_url`` defaults as in :class:`~modec.runtime.lifecycle.ModeRuntime`
    (``$MODEC_DATABASE_URL``, else the project's ``.task_orchestrator/modec.db``). Raises
    :class:`~modec.mcp_server.sdk.MissingSdkError` (naming the ``modec[mcp]`` extra) when
    the SDK is not installed.
    """
    if require_sdk("modec serve", major=None) >= 2:
        from modec.mcp_server.server import serve_stdio
    else:  # a host's mcp 1.x: FastMCP
        from modec.mcp_server.server1 import serve_stdio
    serve_stdio(project_root, database_url)
