"""Issue 15 item 8: every protocol line `modec serve` cannot parse or validate is answered.

Over the real stdin/stdout pipes of a `modec serve` subprocess: each hostile line gets one
JSON-RPC error (-32700 parse error, -32600 invalid request) carrying the request's id when
it can be recovered, and a valid call right after it succeeds. Then a seeded fuzz of raw
protocol lines, bounded by count: every line gets exactly one answer.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from modec.mcp_server.transport import MAX_DEPTH, MAX_MESSAGE_BYTES, check_line
from tests.integration.mcp_harness import RawServer

PARSE, INVALID = -32700, -32600


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawServer]:
    project = tmp_path_factory.mktemp("project")
    state = tmp_path_factory.mktemp("state")
    with RawServer(project, state) as server:
        reply = server.request(
            "tools/call",
            {"name": "orchestrator_mode_select", "arguments": {"mode_file": "default_roles.yaml"}},
        )
        assert reply["result"]["structuredContent"]["success"] is True, reply
        yield server
    assert "Traceback" not in server.log()


def call(request_id: Any, arguments: str = "{}", name: str = "orchestrator_get_status") -> str:
    return (
        f'{{"jsonrpc": "2.0", "id": {json.dumps(request_id)}, "method": "tools/call", '
        f'"params": {{"name": "{name}", "arguments": {arguments}}}}}'
    )


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


HOSTILE: list[tuple[str, bytes, list[tuple[int, Any]]]] = [
    ("lone-surrogate", call(1, '{"x": "a \\ud800 b"}').encode(), [(PARSE, 1)]),
    ("lone-low-surrogate-key", call(2, '{"\\udc00": 1}').encode(), [(PARSE, 2)]),
    ("5000-digit-int", call(3, '{"n": ' + "7" * 5000 + "}").encode(), [(INVALID, 3)]),
    ("5000-digit-float", call(4, '{"n": 0.' + "1" * 5000 + "}").encode(), [(INVALID, 4)]),
    ("float-overflow", call(5, '{"n": 1e999}').encode(), [(INVALID, 5)]),
    ("nesting-200", call(6, '{"a": ' + nested(200) + "}").encode(), [(INVALID, 6)]),
    ("nesting-100000", call(7, '{"a": ' + nested(100_000) + "}").encode(), [(INVALID, 7)]),
    ("bom", b"\xef\xbb\xbf" + call(8).encode(), [(PARSE, 8)]),
    (
        "batch",
        ("[" + call(9) + ", " + call("ten") + "]").encode(),
        [(INVALID, 9), (INVALID, "ten")],
    ),
    ("empty-batch", b"[]", [(INVALID, None)]),
    ("batch-of-junk", b"[1, 2]", [(INVALID, None)]),
    ("not-json", b"this is not JSON", [(PARSE, None)]),
    ("truncated", call(11).encode()[:-3], [(PARSE, 11)]),
    ("not-utf8", call(12, '{"x": "\xff"}').encode("latin-1"), [(PARSE, 12)]),
    ("nan", call(13, '{"n": NaN}').encode(), [(PARSE, 13)]),
    ("scalar", b"42", [(INVALID, None)]),
    ("id-true", b'{"jsonrpc": "2.0", "id": true, "method": "ping"}', [(INVALID, None)]),
    ("id-null", b'{"jsonrpc": "2.0", "id": null, "method": "ping"}', [(INVALID, None)]),
    ("id-float", b'{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}', [(INVALID, None)]),
    ("method-number", b'{"jsonrpc": "2.0", "id": 14, "method": 5}', [(INVALID, 14)]),
    ("wrong-version", b'{"jsonrpc": "1.0", "id": 15, "method": "ping"}', [(INVALID, 15)]),
    (
        "params-array",
        b'{"jsonrpc": "2.0", "id": 16, "method": "tools/call", "params": []}',
        [(INVALID, 16)],
    ),
    (
        "id-first",
        b'{"id": "s-17", "jsonrpc": "2.0", "method": "ping", "params": '
        + nested(100).encode()
        + b"}",
        [(INVALID, "s-17")],
    ),
]


@pytest.mark.parametrize(
    ("line", "expected"), [(c[1], c[2]) for c in HOSTILE], ids=[c[0] for c in HOSTILE]
)
def test_every_hostile_line_is_answered(
    raw: RawServer, line: bytes, expected: list[tuple[int, Any]]
) -> None:
    raw.send_line(line)
    replies = raw.receive(len(expected))
    got = sorted(((r["error"]["code"], r["id"]) for r in replies), key=repr)
    assert got == sorted(expected, key=repr), replies
    for reply in replies:
        assert reply["jsonrpc"] == "2.0" and set(reply) == {"jsonrpc", "id", "error"}
        assert reply["error"]["message"].startswith(("Parse error: ", "Invalid Request: "))
        assert len(reply["error"]["message"]) < 1000  # never an echo of the line
    raw.status_works()


def test_a_line_over_the_size_limit_is_answered_and_skipped(raw: RawServer) -> None:
    padding = "x" * (MAX_MESSAGE_BYTES + 10)
    raw.send_line(call(21, json.dumps({"pad": padding})).encode())
    [reply] = raw.receive()
    assert reply["id"] == 21 and reply["error"]["code"] == INVALID
    assert f"at most {MAX_MESSAGE_BYTES} allowed" in reply["error"]["message"]
    raw.status_works()


def test_blank_lines_and_valid_notifications_get_no_answer(raw: RawServer) -> None:
    raw.send_line(b"")
    raw.send_line(b"   ")
    raw.send_line(
        b'{"jsonrpc": "2.0", "method": "notifications/progress", '
        b'"params": {"progressToken": 1, "progress": 1}}'
    )
    raw.status_works()  # the next message read is this call's answer, nothing before it


def test_the_checker_passes_what_the_sdk_reader_would_accept() -> None:
    """Depths up to the limit reach the SDK's model; the limit itself is refused here."""
    import mcp_types

    def validate(text: str) -> Any:
        return mcp_types.jsonrpc_message_adapter.validate_json(text, by_name=False)

    ok = call(1, '{"a": ' + nested(MAX_DEPTH - 4) + "}").encode()
    message, rejections = check_line(ok, validate)
    assert rejections == [] and message is not None
    too_deep = call(1, '{"a": ' + nested(MAX_DEPTH) + "}").encode()
    assert check_line(too_deep, validate)[1][0].code == INVALID


# --------------------------------------------------------------------------- the fuzz

FUZZ_SEED = 20261201
FUZZ_LINES = 300
_PREFIX = '{"jsonrpc": "2.0", "id": '
_ATOMS = [
    '"\\ud800"',
    '"\\udfff"',
    "1" * 400,
    "1e999",
    "NaN",
    "-0",
    "true",
    "null",
    "[]",
    "{}",
    nested(70),
    '"\\u202e"',
    '"\\u0000"',
    '"' + "é" * 50 + '"',
    "0.5",
]
_BODIES = [
    '"method": "tools/call", "params": {"name": "orchestrator_get_status", "arguments": {}}}',
    '"method": "tools/call", "params": {"name": "orchestrator_route_task", "arguments": '
    '{"session_id": "s", "description": "audit the login"}}}',
    '"method": "ping"}',
    '"method": "tools/list", "params": {}}',
    '"method": "resources/list"}',
    '"method": "no/such/method", "params": {"x": 1}}',
]


def _mutate(body: str, rng: random.Random) -> bytes:
    """A request body (after the id) damaged in one of several ways."""
    kind = rng.randrange(7)
    if kind == 0:  # an atom where a value was
        at = body.find(":", rng.randrange(len(body)))
        if at > 0:
            body = body[: at + 1] + " " + rng.choice(_ATOMS) + ", " + body[at + 1 :]
    elif kind == 1:  # a byte flipped
        data = bytearray(body.encode())
        data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    elif kind == 2:  # truncated
        body = body[: rng.randrange(len(body))]
    elif kind == 3:  # a character inserted
        at = rng.randrange(len(body))
        body = body[:at] + rng.choice('{}[],:"\\\ufeff\u2028\x00 ') + body[at:]
    elif kind == 4:  # a member of another type
        body = body.replace('"method": ', '"method": ' + rng.choice(["5", "null", "[", "{}"]), 1)
    elif kind == 5:  # deeper nesting than allowed
        depth = rng.choice([MAX_DEPTH + 1, 199, 200, 1000])
        body = body.replace('"arguments": {}', '"arguments": {"a": ' + nested(depth) + "}")
    return body.encode("utf-8", errors="surrogatepass")


def test_fuzzed_protocol_lines_each_get_one_answer(raw: RawServer) -> None:
    """Every fuzzed line keeps its id first (so the line is a request, never a notification):
    it gets exactly one answer (a result, or an error with its id or null), and the server
    answers a valid call after it."""
    rng = random.Random(FUZZ_SEED)
    answered = 0
    for i in range(FUZZ_LINES):
        request_id = f"fuzz-{i}"
        line = (_PREFIX + json.dumps(request_id) + ", ").encode() + _mutate(
            rng.choice(_BODIES), rng
        )
        raw.send_line(line.replace(b"\n", b" ").replace(b"\r", b" "))
        [reply] = raw.receive()
        assert reply.get("id") in (request_id, None), (line[:300], reply)
        assert ("result" in reply) != ("error" in reply), reply
        answered += 1
        if i % 25 == 0:
            raw.status_works()
    assert answered == FUZZ_LINES
    raw.status_works()


def test_the_server_log_has_no_crash(raw: RawServer) -> None:
    raw.status_works()
    assert "Traceback" not in raw.log()
