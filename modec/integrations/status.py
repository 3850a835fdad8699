"""modec's ``mode_info`` in a host's own status payload.

``mode_info`` (per session) has the seed's four fields as MCP Task Orchestrator's seed has
them (``mode_file``: the file name; ``specialist_count``, ``custom_roles``,
``routing_rules``: counts), and modec's richer data (the lists, mode hash, validation status,
default specialist, …) under ``modec``. :func:`add_mode_info` adds it to a host's own status
payload, so a host that embeds modec keeps its own ``orchestrator_get_status``; modec's MCP
tools (:mod:`modec.mcp_server`) answer with the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["add_mode_info", "seed_mode_info"]


def seed_mode_info(info: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The seed's ``mode_info`` of modec's (a session's :meth:`ModeContext.mode_info
    <modec.runtime.context.ModeContext.mode_info>`): the four counts, the rest under
    ``modec``.

    >>> seed_mode_info({"mode_file": "m.yaml", "specialist_count": 3,
    ...                 "custom_roles": ["a"], "routing_rules": {"x": {}, "y": {}}})["custom_roles"]
    1
    """
    if info is None:
        return None

    def count(key: str) -> int | None:
        value = info.get(key)
        return len(value) if isinstance(value, list | dict) else None

    specialists = info.get("specialist_count")
    return {
        "mode_file": info.get("mode_file"),
        "specialist_count": specialists if isinstance(specialists, int) else None,
        "custom_roles": count("custom_roles"),
        "routing_rules": count("routing_rules"),
        "modec": dict(info),
    }


def add_mode_info(
    status: MutableMapping[str, Any],
    runtime: Any,
    *,
    key: str = "mode_info",
    session_id: str | None = None,
) -> MutableMapping[str, Any]:
    """Add modec's ``mode_info`` to a host's own status payload, in place; returns ``status``.

    ``runtime`` is the host's :class:`~modec.runtime.lifecycle.ModeRuntime`. With
    ``session_id``, ``status[key]`` is :func:`seed_mode_info` of that session's binding (a
    host whose status covers one session, as MCP Task Orchestrator 1.8's per-project status
    does). Without, each mapping in ``status["sessions"]`` (or ``status["active_sessions"]``)
    with a ``session_id`` (the host's ids, bound with
    :meth:`~modec.runtime.lifecycle.ModeRuntime.adopt` or
    :meth:`~modec.runtime.lifecycle.ModeRuntime.bind`) gets ``key``. A session modec has no
    binding for gets ``None``.
    """
    infos = {info.session.session_id: info.mode_info for info in runtime.status()}
    if session_id is not None:
        status[key] = seed_mode_info(infos.get(session_id))
        return status
    for name in ("sessions", "active_sessions"):
        for session in status.get(name) or ():
            if isinstance(session, MutableMapping):
                session[key] = seed_mode_info(infos.get(str(session.get("session_id"))))
    return status
