"""Which ``mcp`` SDK is installed: the server is an extra (``pip install 'modec[mcp]'``)."""

from __future__ import annotations

from importlib import metadata
from typing import Final

from modec.diagnostics import ModecError

__all__ = ["EXTRA", "MissingSdkError", "require_sdk", "sdk_major"]

#: The pip extra that installs the MCP SDK modec serves with.
EXTRA: Final = "modec[mcp]"


class MissingSdkError(ModecError):
    """The ``mcp`` SDK is not installed (or not a version modec can serve with)."""

    suggestion = f"install the MCP extra: pip install '{EXTRA}'"


def sdk_major() -> int | None:
    """The major version of the installed ``mcp`` distribution (None if absent)."""
    try:
        version = metadata.version("mcp")
    except metadata.PackageNotFoundError:
        return None
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def require_sdk(purpose: str = "modec serve", *, major: int | None = 2) -> int:
    """The installed SDK's major version; :class:`MissingSdkError` naming the extra to install
    when ``mcp`` is absent, or not ``major`` (any major when ``major`` is None).

    >>> isinstance(require_sdk(major=None), int)
    True
    """
    found = sdk_major()
    if found is None:
        raise MissingSdkError(
            f"{purpose} needs the MCP SDK (the 'mcp' package), which is not installed"
        )
    try:
        import mcp  # noqa: F401
    except ImportError as exc:
        raise MissingSdkError(
            f"{purpose} needs the MCP SDK, and 'mcp' does not import: {exc}"
        ) from exc
    if major is not None and found != major:
        raise MissingSdkError(
            f"{purpose} needs mcp {major}.x; this environment has mcp {found}.x",
            suggestion=f"install the MCP extra in its own environment: pip install '{EXTRA}'"
            " (a host on another major registers the tools on its own server: "
            "modec.mcp_server.register(server, runtime_factory=...))",
        )
    return found
