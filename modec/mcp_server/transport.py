"""The stdio transport of ``modec serve``: every line read gets an answer or reaches the server.

The SDK's own stdio reader hands a line it cannot validate to the server as an exception,
which the server logs and drops: a client that sent a lone surrogate, a 5,000-digit number,
200 levels of nesting, a byte order mark or a batch waits for an answer that never comes.
:func:`validated_stdio` reads the lines itself and checks each with :func:`check_line`
first. A line that is a JSON-RPC message the SDK accepts goes to the server unchanged; any
other line is answered at once with a JSON-RPC error, and the next line is read:

========  ===================  ==========================================================
code      name                 when
========  ===================  ==========================================================
-32700    parse error          not UTF-8; a byte order mark; not JSON (syntax, ``NaN``);
                               a string with a lone surrogate (not Unicode text)
-32600    invalid request      longer than :data:`MAX_MESSAGE_BYTES`; nested deeper than
                               :data:`MAX_DEPTH`; a number longer than
                               :data:`MAX_NUMBER_CHARS` or out of range; a batch (MCP has
                               none since 2025-06-18: one error per member with an id); not
                               an object; an ``id`` that is not a string or an integer; any
                               message the SDK's JSON-RPC model refuses
========  ===================  ==========================================================

The error carries the request's ``id`` when it can be recovered (from the parsed object,
else from the line's start: ``{"jsonrpc": "2.0", "id": …`` or ``{"id": …``), else ``null``.
Blank lines are skipped. Valid notifications and responses get no answer, as JSON-RPC says.

Writes are serialized (the server's replies and the reader's errors never interleave), and
while serving, file descriptors 0 and 1 point at the null device and at stderr, so nothing
else in the process can read the client's input or write into the protocol stream.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import IO, Any, Final

import anyio
import anyio.to_thread

__all__ = [
    "INVALID_REQUEST",
    "MAX_DEPTH",
    "MAX_MESSAGE_BYTES",
    "MAX_NUMBER_CHARS",
    "PARSE_ERROR",
    "Rejection",
    "check_line",
    "validated_stdio",
]

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
#: The longest line read (bytes, newline excluded); the rest of a longer line is skipped.
MAX_MESSAGE_BYTES: Final = 16 * 1024 * 1024
#: The deepest nesting of arrays and objects in a message (the SDK's parser stops near 200).
MAX_DEPTH: Final = 64
#: The longest number literal, in characters (Python refuses ints of more than 4,300 digits).
MAX_NUMBER_CHARS: Final = 100
_ID_PROBE_CHARS: Final = 4096
_MAX_REASON_CHARS: Final = 500

RequestId = int | str
_ID_AT_START = re.compile(
    r'\A\s*\{\s*(?:"jsonrpc"\s*:\s*"[^"\\]{0,16}"\s*,\s*)?"id"\s*:\s*'
    r'(?P<id>-?[0-9]{1,18}(?![0-9.eE])|"(?:[^"\\\x00-\x1f]|\\.){0,256}")\s*[,}]'
)
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Rejection:
    """The JSON-RPC error answering one line (or one member of a batch)."""

    code: int
    reason: str
    id: RequestId | None = None

    def to_message(self) -> dict[str, Any]:
        name = "Parse error" if self.code == PARSE_ERROR else "Invalid Request"
        return {
            "jsonrpc": "2.0",
            "id": self.id,
            "error": {"code": self.code, "message": f"{name}: {self.reason}"},
        }

    def to_line(self) -> bytes:
        return json.dumps(self.to_message(), ensure_ascii=False).encode("utf-8") + b"\n"


class _Refused(ValueError):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _check_number(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(
            INVALID_REQUEST,
            f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS} allowed)",
        )


def _bounded_int(text: str) -> int:
    _check_number(text)
    return int(text)


def _bounded_float(text: str) -> float:
    _check_number(text)
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(INVALID_REQUEST, f"the number {text} is out of range")
    return value


def _no_constant(text: str) -> Any:
    raise _Refused(PARSE_ERROR, f"{text} is not JSON")


def _valid_id(value: object) -> RequestId | None:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def _id_at_start(text: str) -> RequestId | None:
    """The id of a line that did not parse, when it stands at the start of the object."""
    found = _ID_AT_START.match(text[:_ID_PROBE_CHARS])
    if found is None:
        return None
    try:
        return _valid_id(json.loads(found["id"]))
    except ValueError:
        return None


def _check_tree(value: Any) -> None:
    """Depth and Unicode of a parsed value, walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise _Refused(INVALID_REQUEST, f"nested deeper than {MAX_DEPTH} levels")
            items = node.items() if isinstance(node, dict) else ((None, v) for v in node)
            for key, item in items:
                if key is not None:
                    stack.append((key, depth))
                stack.append((item, depth + 1))
        elif isinstance(node, str) and _SURROGATE.search(node):
            raise _Refused(PARSE_ERROR, "a string holds a lone surrogate (not Unicode text)")


def _sdk_problem(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        found = errors(include_url=False, include_input=False)[:3]
        text = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in found)
    else:
        text = str(exc)
    return f"not a valid JSON-RPC 2.0 message ({text})"[:_MAX_REASON_CHARS]


def check_line(line: bytes, validate: Callable[[str], Any]) -> tuple[Any, list[Rejection]]:
    """Check one line read from the client (newline stripped): ``(message, [])`` for a
    message the SDK accepts (``validate`` turns the line's text into the SDK's message),
    ``(None, rejections)`` for anything else: what to answer, one error per request.

    >>> check_line(b'{"jsonrpc": "2.0", "id": 7, "method": "ping", "x": 1' + b'9' * 200 + b'}',
    ...            str)[1]
    [Rejection(code=-32600, reason='a number of 201 characters (at most 100 allowed)', id=7)]
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        rough = line.decode("utf-8", errors="replace")
        return None, [Rejection(PARSE_ERROR, f"not UTF-8 (byte {exc.start})", _id_at_start(rough))]
    if text.startswith("\ufeff"):
        return None, [
            Rejection(
                PARSE_ERROR,
                "the line starts with a byte order mark (U+FEFF); send UTF-8 without one",
                _id_at_start(text[1:]),
            )
        ]
    try:
        parsed = json.loads(
            text, parse_int=_bounded_int, parse_float=_bounded_float, parse_constant=_no_constant
        )
    except _Refused as exc:
        return None, [Rejection(exc.code, exc.reason, _id_at_start(text))]
    except RecursionError:
        return None, [
            Rejection(INVALID_REQUEST, f"nested deeper than {MAX_DEPTH} levels", _id_at_start(text))
        ]
    except json.JSONDecodeError as exc:
        return None, [
            Rejection(PARSE_ERROR, f"not JSON: {exc.msg} at column {exc.colno}", _id_at_start(text))
        ]
    if isinstance(parsed, list):
        ids = [_valid_id(m.get("id")) for m in parsed if isinstance(m, dict)]
        reason = "batches are not part of MCP (protocol 2025-06-18): send one message a line"
        return None, [Rejection(INVALID_REQUEST, reason, i) for i in ids if i is not None] or [
            Rejection(INVALID_REQUEST, reason)
        ]
    if not isinstance(parsed, dict):
        return None, [Rejection(INVALID_REQUEST, "a message is a JSON object")]
    request_id = _valid_id(parsed.get("id"))
    try:
        _check_tree(parsed)
    except _Refused as exc:
        return None, [Rejection(exc.code, exc.reason, request_id)]
    if "id" in parsed and request_id is None:
        return None, [Rejection(INVALID_REQUEST, "the id must be a string or an integer")]
    try:
        return validate(text), []
    except Exception as exc:  # the SDK's model refused it: say so instead of dropping it
        return None, [Rejection(INVALID_REQUEST, _sdk_problem(exc), request_id)]


# --------------------------------------------------------------------------- the transport


@dataclass(frozen=True, slots=True)
class _Line:
    data: bytes
    size: int  # bytes in the whole line, newline excluded

    @property
    def complete(self) -> bool:
        return self.size == len(self.data)


def _read_line(stream: IO[bytes]) -> _Line | None:
    """The next line (``None`` at end of input); of a line over the limit, only its start."""
    line = stream.readline(MAX_MESSAGE_BYTES + 1)
    if not line:
        return None
    if line.endswith(b"\n"):
        data = line[:-1].removesuffix(b"\r")
        return _Line(data, len(data))
    if len(line) <= MAX_MESSAGE_BYTES:  # the last line, without a newline
        return _Line(line, len(line))
    size = len(line)
    while True:
        rest = stream.readline(1 << 20)
        size += len(rest)
        if not rest or rest.endswith(b"\n"):
            return _Line(line[:_ID_PROBE_CHARS], size - rest.endswith(b"\n"))


def _write(stream: IO[bytes], data: bytes) -> None:
    stream.write(data)
    stream.flush()


def _sdk_codec() -> tuple[Callable[[str], Any], Callable[[Any], Any], Callable[[Any], bytes]]:
    """(validate a line, wrap a message for the server, serialize a reply), mcp 2.x or 1.x."""
    from mcp.shared.message import SessionMessage

    try:
        from mcp_types import jsonrpc_message_adapter  # mcp 2.x
    except ImportError:  # mcp 1.x
        from mcp.types import JSONRPCMessage

        def validate(text: str) -> Any:
            return JSONRPCMessage.model_validate_json(text)  # type: ignore[attr-defined,unused-ignore]
    else:

        def validate(text: str) -> Any:
            return jsonrpc_message_adapter.validate_json(text, by_name=False)

    def serialize(message: Any) -> bytes:
        text: str = message.message.model_dump_json(by_alias=True, exclude_unset=True)
        return text.encode("utf-8") + b"\n"

    return validate, SessionMessage, serialize


@dataclass(slots=True)
class _Wire:
    stdin: IO[bytes]
    stdout: IO[bytes]
    restore: Callable[[], None]


def _claim_std_streams() -> _Wire:
    """Serve the client from private copies of fds 0 and 1; point 0 at the null device and
    1 at stderr until :attr:`_Wire.restore`."""
    sys.stdout.flush()
    wire_in, wire_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    stdout = os.fdopen(wire_out, "wb")

    def restore() -> None:
        stdout.flush()
        os.dup2(wire_out, 1)
        stdout.close()  # and wire_out with it
        os.dup2(wire_in, 0)
        # wire_in stays open: an abandoned reader thread may still be blocked on it.

    return _Wire(os.fdopen(wire_in, "rb", closefd=False), stdout, restore)


@asynccontextmanager
async def validated_stdio(
    stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None
) -> AsyncIterator[tuple[Any, Any]]:
    """The (read, write) streams of an MCP server served over stdio (default: this
    process's stdin and stdout, claimed as described above); lines are checked with
    :func:`check_line` and refused ones answered here. Works with mcp 2.x and 1.x."""
    validate, wrap, serialize = _sdk_codec()
    wire = (
        _claim_std_streams()
        if stdin is None and stdout is None
        else _Wire(stdin or sys.stdin.buffer, stdout or sys.stdout.buffer, lambda: None)
    )
    to_server, from_client = anyio.create_memory_object_stream[Any](0)
    to_client, from_server = anyio.create_memory_object_stream[Any](0)
    lock = anyio.Lock()

    async def emit(data: bytes) -> None:
        async with lock:
            await anyio.to_thread.run_sync(_write, wire.stdout, data)

    async def reader() -> None:
        async with to_server:
            while True:
                line = await anyio.to_thread.run_sync(
                    _read_line, wire.stdin, abandon_on_cancel=True
                )
                if line is None:
                    return
                if not line.complete:
                    await emit(
                        Rejection(
                            INVALID_REQUEST,
                            f"a message of {line.size} bytes (at most {MAX_MESSAGE_BYTES} allowed)",
                            _id_at_start(line.data.decode("utf-8", errors="replace")),
                        ).to_line()
                    )
                    continue
                if not line.data.strip():
                    continue
                message, rejections = check_line(line.data, validate)
                if message is not None:
                    await to_server.send(wrap(message))
                for rejection in rejections:
                    await emit(rejection.to_line())

    written = anyio.Event()

    async def writer() -> None:
        try:
            async with from_server:
                async for message in from_server:
                    await emit(serialize(message))
        finally:
            written.set()

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(reader)
            group.start_soon(writer)
            try:
                yield from_client, to_client
            finally:
                await to_client.aclose()
                await written.wait()  # every reply the server sent is on the wire
                group.cancel_scope.cancel()  # the reader may still wait for a line
    finally:
        wire.restore()
