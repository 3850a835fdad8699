"""A synchronous driver for `modec serve`: the real subprocess, the SDK's stdio client.

``McpServer`` starts ``python -m modec serve --project DIR --db URL`` through
:func:`mcp.client.stdio.stdio_client`, opens a :class:`mcp.ClientSession` on it and runs the
client's event loop in a background thread (an anyio blocking portal), so plain pytest tests
can call tools one after another on one long-lived server. The server's stderr goes to
``server.log`` next to the database, shown when a test fails. ``RawServer`` drives the same
subprocess over its bare pipes, line by line, for protocol tests.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

from anyio.from_thread import start_blocking_portal
from mcp import ClientSession, StdioServerParameters, Tool, stdio_client
from mcp_types import CallToolResult, TextContent

from modec.runtime.sessions import sqlite_url

#: Keys of the one failure shape every tool returns.
ERROR_KEYS = frozenset(
    {
        "success",
        "error_type",
        "error_message",
        "error_details",
        "recovery_suggestions",
        "fallback_mode",
    }
)
#: Seconds one request may take before the test fails instead of hanging.
REQUEST_TIMEOUT = 60.0
#: Consecutive one-second polls without a byte from the server before a read gives up.
IDLE_POLLS = 60


class McpServer:
    """One `modec serve` subprocess for ``project`` and a connected client session."""

    def __init__(self, project: Path, state: Path) -> None:
        self.project = project
        self.log_path = state / "server.log"
        self.database_url = sqlite_url(state / "x.db")
        self._stack = ExitStack()
        self._session: ClientSession | None = None

    def __enter__(self) -> McpServer:
        stack = self._stack
        try:
            portal = stack.enter_context(start_blocking_portal())
            log = stack.enter_context(self.log_path.open("w", encoding="utf-8"))
            params = StdioServerParameters(
                command=sys.executable,
                args=[
                    "-m",
                    "modec",
                    "serve",
                    "--project",
                    str(self.project),
                    "--db",
                    self.database_url,
                ],
            )
            read, write = stack.enter_context(
                portal.wrap_async_context_manager(stdio_client(params, errlog=log))
            )
            self._session = stack.enter_context(
                portal.wrap_async_context_manager(
                    ClientSession(read, write, read_timeout_seconds=REQUEST_TIMEOUT)
                )
            )
            self._portal = portal
            portal.call(self._session.initialize)
        except BaseException:
            stack.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    @property
    def session(self) -> ClientSession:
        assert self._session is not None, "use McpServer as a context manager"
        return self._session

    def log(self) -> str:
        """What the server wrote to stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def tools(self) -> list[Tool]:
        return self._portal.call(self.session.list_tools).tools

    def raw(self, tool: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
        """The tool's CallToolResult as the client received it."""
        result = self._portal.call(self.session.call_tool, tool, arguments or {})
        assert isinstance(result, CallToolResult)
        return result

    def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """The structured result of a successful call (fails the test otherwise)."""
        result = self.raw(tool, arguments)
        payload = structured(result)
        assert not result.is_error and payload.get("success") is True, (
            f"{tool} failed: {json.dumps(payload, indent=2)[:4000]}"
        )
        return payload

    def fail(self, tool: str, arguments: dict[str, Any], error_type: str) -> dict[str, Any]:
        """Call a tool that must fail with ``error_type``; check the shape, return it."""
        result = self.raw(tool, arguments)
        payload = structured(result)
        assert_error_shape(result, payload)
        assert payload["error_type"] == error_type, json.dumps(payload, indent=2)[:4000]
        return payload


def structured(result: CallToolResult) -> dict[str, Any]:
    """The result's structured content, checked equal to the JSON of its text content."""
    assert result.structured_content is not None, result
    assert len(result.content) == 1 and isinstance(result.content[0], TextContent)
    assert json.loads(result.content[0].text) == result.structured_content
    return dict(result.structured_content)


def assert_error_shape(result: CallToolResult, payload: dict[str, Any]) -> None:
    """The one failure shape: exactly its keys, each of the right type; isError set."""
    assert result.is_error, payload
    assert set(payload) == ERROR_KEYS, sorted(payload)
    assert payload["success"] is False
    assert isinstance(payload["error_type"], str) and payload["error_type"]
    assert isinstance(payload["error_message"], str) and payload["error_message"]
    details = payload["error_details"]
    assert {"file", "line", "issue"} <= set(details), details
    assert details["file"] is None or isinstance(details["file"], str)
    assert details["line"] is None or isinstance(details["line"], int)
    assert isinstance(details["issue"], str) and details["issue"]
    suggestions = payload["recovery_suggestions"]
    assert suggestions and all(isinstance(s, str) and s for s in suggestions), suggestions
    assert isinstance(payload["fallback_mode"], str) and payload["fallback_mode"]


class RawServer:
    """`modec serve` driven line by line over its real stdin/stdout pipes, no SDK client:
    for protocol tests that send what no well-behaved client would."""

    def __init__(self, project: Path, state: Path) -> None:
        self.project = project
        self.log_path = state / "server.log"
        self.command = [
            sys.executable,
            "-m",
            "modec",
            "serve",
            "--project",
            str(project),
            "--db",
            sqlite_url(state / "x.db"),
        ]
        self._pending = b""
        self._next_id = 1_000_000

    def __enter__(self) -> RawServer:
        self._log = self.log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log
        )
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        reply = self.request(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        )
        assert reply["result"]["serverInfo"]["name"] == "modec", reply
        self.send_line(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}')
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=REQUEST_TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def send_line(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()

    def receive(self, count: int = 1) -> list[dict[str, Any]]:
        """The next ``count`` messages from the server (fails the test after the timeout)."""
        assert self.proc.stdout is not None
        found: list[dict[str, Any]] = []
        idle = 0  # polls that brought nothing: a hung server fails the test after IDLE_POLLS
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while len(found) < count:
                *lines, self._pending = self._pending.split(b"\n")
                found += [json.loads(line) for line in lines if line.strip()]
                if len(found) >= count:
                    break
                assert idle < IDLE_POLLS, f"no answer in {IDLE_POLLS} polls; got {found}"
                assert self.proc.poll() is None, f"server exited:\n{self.log()}"
                ready = sel.select(timeout=1)
                data = self.proc.stdout.read() if ready else None
                idle = 0 if data else idle + 1
                self._pending += data or b""
        assert len(found) == count, found
        return found

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one valid request; its reply (nothing else may arrive first)."""
        self._next_id += 1
        self.send_line(
            json.dumps(
                {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}
            ).encode()
        )
        [reply] = self.receive()
        assert reply.get("id") == self._next_id, reply
        return reply

    def status_works(self) -> None:
        """A valid tools/call after whatever came before: it must succeed."""
        reply = self.request("tools/call", {"name": "orchestrator_get_status", "arguments": {}})
        assert reply["result"]["structuredContent"]["success"] is True, reply
