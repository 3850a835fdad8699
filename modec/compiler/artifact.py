"""Artifacts: canonical bytes, the mode hash, and a checksum verified on load.

``mode_hash`` is ``sha256:`` of :func:`canonical_ir`: the resolved IR with every span, source
path and file hash left out, rules in their final row order (so only order that changes
routing changes the hash), sorted keys, fixed separators, and integral floats written as
ints. Comments, key order, quoting and indentation therefore never change it; any change of
meaning (a keyword, an order-relevant rule position, a specialist, a setting) does.

An :class:`Artifact` is what a compiled mode ships as. Its bytes are a fixed header (magic,
format, payload length, sha256 of the payload) followed by the canonical JSON payload;
:meth:`Artifact.from_bytes` refuses anything truncated, altered or of another format with
:class:`CorruptArtifactError`. The frame itself (header and checksum) is
:mod:`modec.compiler.framing`'s, which a routing-only process reads without pydantic.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError

from modec._version import __version__
from modec.compiler.framing import (
    ARTIFACT_FORMAT,
    MAGIC,
    FrameError,
    decode_payload,
    frame,
    unframe,
)
from modec.compiler.ir import (
    ModeConfiguration,
    ModeFile,
    ModeMetadata,
    Role,
    SourceRef,
)
from modec.compiler.table import DecisionTable, default_specialist, fallback_rule, ordered_rules
from modec.diagnostics import ModecError
from modec.fs import write_atomic

__all__ = [
    "ARTIFACT_FORMAT",
    "MAGIC",
    "Artifact",
    "CorruptArtifactError",
    "build_artifact",
    "canonical_ir",
    "canonical_json",
    "mode_hash",
]

#: Fields that say where something came from, not what it means.
_PROVENANCE: Final = frozenset(
    {
        "span",
        "name_span",
        "required_specialist_span",
        "secondary_review_spans",
        "default_specialist_span",
        "specialist_spans",
        "implicit",
    }
)
#: Per-model fields left out of the canonical IR.
_OMIT: Final[dict[type[BaseModel], frozenset[str]]] = {
    ModeMetadata: frozenset({"extends"}),  # resolved: the merged content is what counts
}


class CorruptArtifactError(ModecError):
    """Bytes that are not an intact artifact of this format (truncated, altered, foreign)."""

    suggestion = "recompile the mode file (`modec compile`); stores evict and rebuild bad entries"


#: Per model type, the fields of its canonical form (filled on first use; a model type's
#: fields never change).
_CANON_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {}
_SCALARS: Final = frozenset({str, int, bool, type(None)})


def _canon_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    fields = _CANON_FIELDS.get(cls)
    if fields is None:
        omit = _OMIT.get(cls, frozenset())
        fields = tuple(n for n in cls.model_fields if n not in _PROVENANCE and n not in omit)
        _CANON_FIELDS[cls] = fields
    return fields


def _canon(value: Any) -> Any:
    """JSON-ready value: models without provenance fields, tuples as lists, int-valued floats
    as ints."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    # The IR's own classes by exact type first (a model type met before, a tuple, a dict):
    # the common cases without ``isinstance`` against unions; subclasses take the general
    # path below and come out alike.
    fields = _CANON_FIELDS.get(cls)
    if fields is None and isinstance(value, BaseModel):
        fields = _canon_fields(cls)
    if fields is not None:
        attrs = value.__dict__
        out = {}
        for name in fields:
            item = attrs[name]
            out[name] = item if type(item) in _SCALARS else _canon(item)
        return out
    if cls is tuple or cls is list:
        return [v if type(v) in _SCALARS else _canon(v) for v in value]
    if cls is dict or isinstance(value, dict):
        return {str(k): v if type(v) in _SCALARS else _canon(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) in _SCALARS else _canon(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot canonicalise a {type(value).__name__}")


def canonical_json(doc: Any) -> bytes:
    """Sorted keys, ``(",", ":")`` separators, UTF-8 without ASCII escapes."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def _ir_doc(mode: ModeFile) -> dict[str, Any]:
    """What :func:`canonical_ir` writes, with the IR nodes in it as they are."""
    return {
        "ir": 1,
        "metadata": mode.metadata,
        "configuration": mode.configuration,
        "roles": mode.roles,
        "rules": ordered_rules(mode.rules),
        "fallback": fallback_rule(mode),
        "default_specialist": default_specialist(mode),
        "validation": mode.validation,
        "tests": mode.tests,
    }


def canonical_ir(mode: ModeFile) -> bytes:
    """The canonical bytes of a resolved mode's meaning (what :func:`mode_hash` hashes)."""
    out: list[str] = []
    _write(_ir_doc(mode), out)
    return "".join(out).encode("utf-8", "surrogatepass")


#: Per model type, its canonical fields in key order, each with the text before its value:
#: ``{"name":`` for the first, ``,"name":`` for the others (filled on first use).
_WRITE_PLANS: dict[type[BaseModel], tuple[tuple[str, str], ...]] = {}
_encode_text: Final = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses


def _write_plan(cls: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    names = sorted(_CANON_FIELDS.get(cls) or _canon_fields(cls))
    plan = tuple(
        (("{" if i == 0 else ",") + _encode_text(name) + ":", name) for i, name in enumerate(names)
    )
    _WRITE_PLANS[cls] = plan
    return plan


def _write(value: Any, out: list[str]) -> None:
    """Append the text of ``canonical_json(_canon(value))`` to ``out``, written directly: the
    IR's own types (models, tuples, text, whole numbers, booleans, null, dicts of text keys)
    without the intermediate copy; anything else through ``_canon`` and ``json.dumps``."""
    cls = type(value)
    if cls is str:
        out.append(_encode_text(value))
    elif value is None:
        out.append("null")
    elif cls is bool:
        out.append("true" if value else "false")
    elif cls is int:
        out.append(int.__repr__(value))
    elif cls is tuple or cls is list:
        if not value:
            out.append("[]")
            return
        sep = "["
        for item in value:
            out.append(sep)
            _write(item, out)
            sep = ","
        out.append("]")
    elif cls is dict:
        if not value:
            out.append("{}")
            return
        entries = (
            value if all(type(k) is str for k in value) else {str(k): v for k, v in value.items()}
        )
        sep = "{"
        for key in sorted(entries):
            out.append(sep + _encode_text(key) + ":")
            _write(entries[key], out)
            sep = ","
        out.append("}")
    else:
        plan = _WRITE_PLANS.get(cls)
        if plan is None and isinstance(value, BaseModel):
            plan = _write_plan(cls)
        if plan is None:  # a float, a subclass: the general path
            out.append(canonical_json(_canon(value)).decode("utf-8", "surrogatepass"))
        elif not plan:
            out.append("{}")
        else:
            attrs = value.__dict__
            for before, name in plan:
                out.append(before)
                _write(attrs[name], out)
            out.append("}")


def mode_hash(mode: ModeFile) -> str:
    """``sha256:<hex>`` of :func:`canonical_ir`."""
    return "sha256:" + hashlib.sha256(canonical_ir(mode)).hexdigest()


class Artifact(BaseModel):
    """A compiled mode: everything a router and a runtime need, nothing from the YAML."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = ARTIFACT_FORMAT
    compiler_version: str
    mode_hash: str
    name: str | None = None
    sources: tuple[SourceRef, ...]
    roles: dict[str, Role]
    configuration: ModeConfiguration
    table: DecisionTable

    def payload(self) -> bytes:
        """The canonical JSON of the artifact (what the checksum covers)."""
        return canonical_json(self.model_dump(mode="json"))

    def to_bytes(self) -> bytes:
        """Header (magic, format, length, sha256) followed by the canonical payload."""
        return frame(self.payload(), self.format)

    @classmethod
    def from_bytes(cls, data: bytes) -> Artifact:
        """Verify magic, format, length and checksum, then decode; else CorruptArtifactError."""
        try:
            doc = decode_payload(unframe(bytes(data)))
        except FrameError as exc:
            raise CorruptArtifactError(str(exc)) from exc
        try:
            return cls.model_validate(doc)
        except ValidationError as exc:
            raise CorruptArtifactError(f"artifact payload cannot be decoded: {exc}") from exc

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the bytes atomically and durably (:func:`modec.fs.write_atomic`)."""
        return write_atomic(path, self.to_bytes())

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Artifact:
        """Read and verify an artifact file."""
        return cls.from_bytes(Path(path).read_bytes())


def build_artifact(mode: ModeFile, table: DecisionTable) -> Artifact:
    """The artifact of a resolved mode and its table (the compiler's ``artifact`` stage)."""
    return Artifact(
        format=ARTIFACT_FORMAT,
        compiler_version=__version__,
        mode_hash=mode_hash(mode),
        name=mode.metadata.name,
        sources=mode.sources,
        roles=mode.roles,
        configuration=mode.configuration,
        table=table,
    )
