"""The bytes of an artifact around its payload: magic, format, length, sha256; no pydantic.

This module owns the artifact's frame (what :class:`~modec.compiler.artifact.Artifact` writes
and verifies): the fixed header, then the canonical JSON payload. It imports only the
standard library, so a process that only routes (``modec route`` on a compiled artifact,
:mod:`modec.runtime.light`) can verify an artifact without loading the compiler's models.
"""

from __future__ import annotations

import hashlib
import json
import struct

TYPE_CHECKING = False  # typing is not imported at run time: a cold `modec route` pays for it
if TYPE_CHECKING:
    from typing import Any, Final

__all__ = ["ARTIFACT_FORMAT", "MAGIC", "FrameError", "decode_payload", "frame", "unframe"]

#: Version of the artifact layout; an artifact of another format is refused, not guessed at.
ARTIFACT_FORMAT: Final = 1
#: First bytes of every artifact (PNG-style: a high byte, CR LF and ^Z catch text-mode damage).
MAGIC: Final = b"\x89MDC\r\n\x1a\n"
_HEADER: Final = struct.Struct(">8sIQ32s")  # magic, format, payload length, sha256(payload)


class FrameError(ValueError):
    """Bytes that are not an intact artifact frame; the message says what is wrong."""


def frame(body: bytes, fmt: int = ARTIFACT_FORMAT) -> bytes:
    """Header (magic, format, length, sha256) followed by ``body``."""
    return _HEADER.pack(MAGIC, fmt, len(body), hashlib.sha256(body).digest()) + body


def unframe(data: bytes) -> bytes:
    """The payload of intact artifact bytes: magic, format, length and checksum verified;
    else :class:`FrameError`."""
    if len(data) < _HEADER.size:
        if not MAGIC.startswith(data[: len(MAGIC)]):
            raise FrameError("not a modec artifact: bad magic bytes")
        raise FrameError(
            f"artifact is truncated: {len(data)} bytes, shorter than its {_HEADER.size}-byte header"
        )
    magic, fmt, length, digest = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise FrameError(
            "not a modec artifact: bad magic bytes (is this a mode file? compile it first)"
        )
    if fmt != ARTIFACT_FORMAT:
        raise FrameError(
            f"artifact format {fmt} is not supported: this modec reads format {ARTIFACT_FORMAT}"
        )
    body = data[_HEADER.size :]
    if len(body) < length:
        raise FrameError(f"artifact is truncated: payload has {len(body)} of {length} bytes")
    if len(body) > length:
        raise FrameError(f"artifact has {len(body) - length} unexpected trailing bytes")
    if hashlib.sha256(body).digest() != digest:
        raise FrameError("artifact checksum mismatch: the payload was altered")
    return body


def decode_payload(body: bytes) -> dict[str, Any]:
    """The JSON object of a verified payload, whose ``format`` is this modec's; else
    :class:`FrameError`."""
    try:
        doc = json.loads(body.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameError(f"artifact payload cannot be decoded: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != ARTIFACT_FORMAT:
        raise FrameError("artifact payload does not match its header format")
    return doc
