"""Language server latency: diagnostics after an edit of a 300-line mode, against `modec lint`.

A real ``python -m modec.lsp`` process is driven over stdio with framed JSON-RPC: the mode is
opened, then edited again and again (alternating a valid and an invalid specialist), and after
each edit the pull-diagnostics request is timed from the ``didChange`` to its answer. The peer
is the command a person runs instead, ``modec lint FILE``, timed as a whole process on the same
file in the same run, with ``--no-cache``: after an edit the file is new to the lint result
cache, so a hit is not what the person would get.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

__all__ = ["mode_text", "run"]

TARGET_RATIO = 0.2


def mode_text(roles: int = 24, rules: int = 40) -> str:
    """A valid mode of about 300 lines: roles with expertise, keyword and `when:` rules, tests."""
    out = [
        "mode_metadata:",
        "  name: bench_mode",
        "mode_configuration:",
        "  hit_policy: first",
        "task_orchestrator:",
        "  role_definition: You coordinate the specialists",
        "  specialist_roles:",
    ]
    out += [f"    role_{i}: specialist number {i}" for i in range(roles)]
    for i in range(roles):
        out += [
            f"role_{i}:",
            f"  role_definition: You are specialist {i}",
            "  expertise:",
            f"    - area {i}",
            "  approach:",
            f"    - step {i}",
        ]
    out.append("task_routing_rules:")
    for i in range(rules):
        out.append(f"  rule_{i}_tasks:")
        if i % 2:
            out.append(f"    keywords: [alpha{i}, beta{i}, gamma{i}]")
        else:
            out.append(f"    when: 'title mentions \"delta{i}\" and complexity <= complex'")
        out.append(f"    required_specialist: role_{i % roles}")
    out += [
        "  general_tasks:",
        "    required_specialist: role_0",
        "tests:",
        "  - task: alpha1 work",
        "    expect_type: rule_1_tasks",
    ]
    return "\n".join(out) + "\n"


class _Client:
    """A minimal synchronous LSP client over a subprocess's pipes."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "modec.lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.next_id = 0

    def send(self, method: str, params: Any, request: bool = False) -> int | None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        rid = None
        if request:
            self.next_id += 1
            rid = msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()
        return rid

    def _read(self) -> dict[str, Any]:
        stdout: IO[bytes] | None = self.proc.stdout
        assert stdout is not None
        length = 0
        while True:
            line = stdout.readline()
            if not line:
                raise RuntimeError("the language server exited")
            if line in (b"\r\n", b"\n"):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        result: dict[str, Any] = json.loads(stdout.read(length))
        return result

    def request(self, method: str, params: Any) -> Any:
        rid = self.send(method, params, request=True)
        while True:
            msg = self._read()
            if msg.get("id") == rid and "method" not in msg:
                return msg.get("result")

    def close(self) -> None:
        self.request("shutdown", None)
        self.send("exit", None)
        self.proc.wait(timeout=30)


def _lsp_latencies(path: Path, text: str, edits: int) -> list[float]:
    client = _Client()
    caps = {"textDocument": {"diagnostic": {"dynamicRegistration": False}}}
    client.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": None,
            "capabilities": caps,
            "initializationOptions": {"debounce": 0},
        },
    )
    client.send("initialized", {})
    uri = path.as_uri()
    client.send(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}},
    )
    doc = {"textDocument": {"uri": uri}}
    client.request("textDocument/diagnostic", doc)  # warm: imports, first compile
    broken = text.replace("required_specialist: role_3\n", "required_specialist: role_x\n", 1)
    times = []
    for version in range(2, edits + 2):
        body = broken if version % 2 else text
        start = time.perf_counter()
        client.send(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": body}]},
        )
        report = client.request("textDocument/diagnostic", doc)
        times.append(time.perf_counter() - start)
        codes = {d.get("code") for d in report.get("items", [])}
        if (version % 2 == 1) != ("MC206" in codes):
            raise AssertionError(f"edit {version}: diagnostics do not match the text: {codes}")
    client.close()
    return times


def _lint_times(path: Path, runs: int) -> list[float]:
    modec = Path(sys.executable).with_name("modec")
    command = [str(modec)] if modec.exists() else [sys.executable, "-m", "modec"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [*command, "lint", "--no-cache", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        times.append(time.perf_counter() - start)
    return times


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(edits: int = 41, lint_runs: int = 15) -> list[str]:
    """Measure and return the report lines (with PASS/MISS against the 0.2× target)."""
    text = mode_text()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_mode.yaml"
        path.write_text(text, encoding="utf-8")
        lsp_times = _lsp_latencies(path, text, edits)
        lint = _lint_times(path, lint_runs)
    median, p95 = statistics.median(lsp_times), _p95(lsp_times)
    lint_median = statistics.median(lint)
    ratio = median / lint_median
    verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
    lines = text.count("\n")
    return [
        f"language server, {lines}-line mode: diagnostics after an edit "
        f"(didChange → pull answer, {edits} edits)",
        f"  modec lsp: median {median * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms; "
        f"`modec lint --no-cache` process: median {lint_median * 1e3:.1f} ms ({lint_runs} runs)",
        f"  {verdict}  diagnostics after an edit ≤ {TARGET_RATIO}× a CLI lint: "
        f"{ratio:.2f}× (p95 {p95 / lint_median:.2f}×)",
    ]


if __name__ == "__main__":
    print("\n".join(run()))
