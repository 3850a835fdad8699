"""Runtime benchmarks: activation from a warm diskcache, warm context(), binds per second.

``python -m benchmarks.runtime [--quick]`` prints a table; :func:`run_runtime_benchmarks`
returns the rows (name, median, unit, target, pass, detail) for the benchmark report.

* **activation**: a fresh :class:`~modec.ModeRuntime` (empty in-process tiers) on a
  project whose diskcache a previous runtime filled: ``bind`` + the first ``route``. The
  runtime is opened outside the timed region (opening is connecting and checking the schema);
  each sample binds a new session on a SQLite file. Target: median ≤ 20 ms.
* **context() warm**: ``context(session)`` answered by the context cache. Target ≤ 50 µs.
* **binds/s**: ``bind`` (validate the mode, write binding + history on SQLite, refresh the
  context) alternating between two modes on one session. Target ≥ 1,000 per second.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modec.runtime.lifecycle import ModeRuntime
from modec.runtime.sessions import sqlite_url

MODES = ("development_mode.yaml", "security_review_mode.yaml")
TASK = {
    "title": "fix: crash on start",
    "description": "segfault when the cache is cold",
    "tags": ["hotfix"],
}

ACTIVATION_TARGET = 0.020
CONTEXT_TARGET = 50e-6
BINDS_TARGET = 1_000.0


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _project(root: Path) -> tuple[str, Path]:
    (root / "pyproject.toml").write_text("[project]\nname = 'bench'\n")
    return sqlite_url(root / "state" / "modec.db"), root / "cache"


def activation(root: Path, samples: int) -> list[float]:
    url, cache = _project(root)
    with ModeRuntime(root, url, cache) as warm:  # fills the diskcache and the database
        warm.initialize_session(mode_file=MODES[0])
    times = []
    for _ in range(samples):
        runtime = ModeRuntime(root, url, cache)
        try:
            session = runtime.sessions.create_session(None, root)
            sid = session.session_id

            def activate(runtime: ModeRuntime = runtime, sid: str = sid) -> None:
                runtime.bind(sid, MODES[0])
                runtime.route(sid, TASK)

            times.append(_timed(activate))
            if runtime.artifacts.stats.compiled:
                raise AssertionError("activation compiled the mode: the diskcache was cold")
        finally:
            runtime.close()
    return times


def context_warm(root: Path, rounds: int, calls: int) -> list[float]:
    url, cache = _project(root)
    with ModeRuntime(root, url, cache) as runtime:
        sid = runtime.initialize_session(mode_file=MODES[0]).session_id
        context = runtime.context
        context(sid)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(calls):
                context(sid)
            times.append((time.perf_counter() - start) / calls)
    return times


def binds(root: Path, rounds: int, calls: int) -> list[float]:
    url, cache = _project(root)
    with ModeRuntime(root, url, cache) as runtime:
        sid = runtime.initialize_session(mode_file=MODES[0]).session_id
        bind = runtime.bind
        for mode in MODES:
            bind(sid, mode)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            for i in range(calls):
                bind(sid, MODES[i % 2])
            times.append((time.perf_counter() - start) / calls)
    return times


def _row(name: str, median: float, unit: str, target: str, ok: bool, detail: str) -> dict[str, Any]:
    return {
        "name": name,
        "median": median,
        "unit": unit,
        "target": target,
        "pass": ok,
        "detail": detail,
    }


def run_runtime_benchmarks(quick: bool) -> list[dict[str, Any]]:
    """Measure the three runtime targets; one row each (``median`` in the row's unit)."""
    samples, rounds, calls, bind_calls = (9, 5, 2_000, 100) if quick else (31, 9, 20_000, 500)
    rows = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        with tempfile.TemporaryDirectory(prefix="modec-bench-") as tmp:
            base = Path(tmp)
            for name in ("activation", "context", "binds"):
                (base / name).mkdir()
            act = _median(activation(base / "activation", samples))
            ctx = _median(context_warm(base / "context", rounds, calls))
            per_bind = _median(binds(base / "binds", rounds, bind_calls))
    finally:
        if enabled:
            gc.enable()
    rows.append(
        _row(
            "activation from warm diskcache (bind + first route)",
            act * 1e3,
            "ms",
            "<= 20 ms",
            act <= ACTIVATION_TARGET,
            f"median of {samples} fresh runtimes",
        )
    )
    rows.append(
        _row(
            "context() warm",
            ctx * 1e6,
            "µs",
            "<= 50 µs",
            ctx <= CONTEXT_TARGET,
            f"median of {rounds} rounds x {calls} calls",
        )
    )
    rate = 1.0 / per_bind
    rows.append(
        _row(
            "binds per second on SQLite",
            rate,
            "binds/s",
            ">= 1,000 binds/s",
            rate >= BINDS_TARGET,
            f"median of {rounds} rounds x {bind_calls} binds, {per_bind * 1e3:.3f} ms per bind",
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args(argv)
    rows = run_runtime_benchmarks(args.quick)
    print("runtime targets")
    for row in rows:
        verdict = "PASS" if row["pass"] else "MISS"
        print(
            f"  {verdict}  {row['name']}: {row['median']:,.3f} {row['unit']} "
            f"(target {row['target']}; {row['detail']})"
        )
    return 0 if all(row["pass"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
