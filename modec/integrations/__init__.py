"""Adapters for host orchestrators that embed modec, above the runtime, below the shells.

A host keeps its own sessions, tasks, tables and role files; modec adopts the host's session
ids, reads the host's task objects, and gives each role's prompt from the bound mode.

- :mod:`modec.integrations.status`: the seed's ``mode_info`` in a host's own status payload
  (:func:`~modec.integrations.status.add_mode_info`);
- :mod:`modec.integrations.task_orchestrator`: MCP Task Orchestrator 1.8's specialist choice
  and specialist prompts from the session's mode
  (:class:`~modec.integrations.task_orchestrator.ModecSpecialists`).

Nothing here imports a host: an adapter reads the host's objects by their attributes.
"""

from __future__ import annotations

from modec.integrations.status import add_mode_info, seed_mode_info

__all__ = ["add_mode_info", "seed_mode_info"]
