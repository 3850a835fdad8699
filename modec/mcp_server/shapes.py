"""Response shapes shared with hosts: the seed's ``mode_info`` and bounded route answers.

``mode_info`` (per session, in ``orchestrator_get_status``) is
:func:`~modec.integrations.status.seed_mode_info`, owned by :mod:`modec.integrations.status`
(a host adds it to its own status payload with :func:`add_mode_info`, so a host that
registers modec's tools keeps its own ``orchestrator_get_status``); it is re-exported here.

Route answers are bounded whatever the task and the mode: a decision lists at most
:data:`MAX_EVIDENCE` evidence entries and an explanation at most :data:`MAX_ATOMS` atoms a
row, :data:`MAX_ATOM_EVIDENCE` evidence entries an atom, texts cut at :data:`MAX_SNIPPET`
characters (marked ``…``), and rows until the explanation reaches
:data:`MAX_EXPLAIN_CHARS` of JSON (the taken row always); what was left out is counted
(``evidence_omitted``, ``atoms_omitted``, ``rows_omitted``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from modec.integrations.status import add_mode_info, seed_mode_info

__all__ = [
    "MAX_EVIDENCE",
    "MAX_EXPLAIN_CHARS",
    "add_mode_info",
    "bounded_decision",
    "bounded_explanation",
    "seed_mode_info",
]

MAX_EVIDENCE: Final = 50
MAX_ATOMS: Final = 20
MAX_ATOM_EVIDENCE: Final = 5
MAX_SNIPPET: Final = 200
MAX_EXPLAIN_CHARS: Final = 256 * 1024


def _cut(value: Any, limit: int = MAX_SNIPPET) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def _evidence(entries: Iterable[Mapping[str, Any]], limit: int) -> tuple[list[dict[str, Any]], int]:
    listed = list(entries)
    kept = [{k: _cut(v) for k, v in e.items()} for e in listed[:limit]]
    return kept, len(listed) - len(kept)


def bounded_decision(decision: Mapping[str, Any]) -> dict[str, Any]:
    """A decision's JSON with at most :data:`MAX_EVIDENCE` evidence entries, texts cut."""
    out = dict(decision)
    if "evidence" in out:
        out["evidence"], omitted = _evidence(out["evidence"], MAX_EVIDENCE)
        if omitted:
            out["evidence_omitted"] = omitted
    return out


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: _cut(v, 1000) for k, v in row.items() if k != "atoms"}
    atoms = list(row.get("atoms", ()))
    out["atoms"] = []
    for atom in atoms[:MAX_ATOMS]:
        shown = {k: _cut(v, 1000) for k, v in atom.items() if k != "evidence"}
        shown["evidence"], omitted = _evidence(atom.get("evidence", ()), MAX_ATOM_EVIDENCE)
        if omitted:
            shown["evidence_omitted"] = omitted
        out["atoms"].append(shown)
    if len(atoms) > MAX_ATOMS:
        out["atoms_omitted"] = len(atoms) - MAX_ATOMS
    return out


def bounded_explanation(explanation: Mapping[str, Any]) -> dict[str, Any]:
    """An explanation's JSON (without its decision) within :data:`MAX_EXPLAIN_CHARS`."""
    out = {k: v for k, v in explanation.items() if k != "rows"}
    rows: list[dict[str, Any]] = []
    used = len(json.dumps(out))
    omitted = 0
    for row in explanation.get("rows", ()):
        shown = _row(row)
        size = len(json.dumps(shown, ensure_ascii=False))
        if used + size > MAX_EXPLAIN_CHARS and not row.get("taken"):
            omitted += 1
            continue
        rows.append(shown)
        used += size
    out["rows"] = rows
    if omitted:
        out["rows_omitted"] = omitted
    return out
