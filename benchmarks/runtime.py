"""Runtime benchmarks: activation from a warm diskcache, warm context(), binds per second.

``python -m benchmarks.runtime [--quick]`` prints a table; :func:`run_runtime_benchmarks`
returns the rows (name, median, unit, target, pass, detail) for the benchmark report.

* **activation**: a fresh :class:`~modec.ModeRuntime` (empty in-process tiers) on a
  project whose diskcache a previous runtime filled: ``bind`` + the first ``route``. The
  runtime is opened outside the timed region (opening is connecting and checking the schema);
  each sample binds a new session on a SQLite file. Target: median ≤ 20 ms.
* **context() warm**: ``context(session)`` answered by the context cache. Target ≤ 50 µs.
* **binds/s**: ``bind`` (validate the mode, one transaction writing binding + history,
  refresh the context) alternating between two modes on one session: on SQLite (target
  ≥ 3,000 per second) and on PostgreSQL (≥ 1,500; the server named by
  ``MODEC_BENCH_DATABASE_URL``, else ``MODEC_TEST_DATABASE_URL``, in a private schema; the
  row says "skipped" without one). A bind is one transaction: on SQLite four statements
  (precompiled, on the driver's cursor) under ``BEGIN IMMEDIATE``, on PostgreSQL one
  statement (session lock, history row and binding upsert in one ``WITH``). Commits are durable
  (SQLite ``synchronous=FULL``, PostgreSQL's default ``synchronous_commit=on``), so on a
  disk each bind waits for one fsync and the rate is bounded by its latency, which the rows
  report; the bind path itself is also measured without that wait: SQLite on ``/dev/shm``
  where it exists (fsync is free on tmpfs), PostgreSQL with ``synchronous_commit=off`` on
  the benchmark's own connections.
* **routing a bound session**: ``ModeRuntime.route(session, task)`` against a bare
  ``router.route(task)`` of the same router, interleaved rounds. Target ≤ 1.2×.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import secrets
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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
BINDS_TARGET = 3_000.0
PG_BINDS_TARGET = 1_500.0
ROUTE_RATIO_TARGET = 1.2
PG_URL_VARS = ("MODEC_BENCH_DATABASE_URL", "MODEC_TEST_DATABASE_URL")


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


def binds(root: Path, rounds: int, calls: int, url: str | None = None) -> list[float]:
    default_url, cache = _project(root)
    with ModeRuntime(root, url or default_url, cache) as runtime:
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


def database_floor(root: Path, rounds: int, calls: int) -> float | None:
    """Median seconds per bind of the SQLite database alone: the statements one bind sends
    (caught from real binds of the two modes, values included, ``BEGIN IMMEDIATE`` to
    ``COMMIT``), sent again as many times on a bare ``sqlite3`` connection to the same file
    (WAL, ``synchronous=FULL``); what a durable bind costs without modec's Python. None when
    no statement was caught."""
    url, cache = _project(root)
    with ModeRuntime(root, url, cache) as runtime:
        sid = runtime.initialize_session(mode_file=MODES[0]).session_id
        for mode in MODES:
            runtime.bind(sid, mode)
        engine = runtime.sessions.engine
        pooled = engine.raw_connection()
        driver = pooled.driver_connection
        pooled.close()  # the bind checks the same connection out again
        caught: list[str] = []
        assert driver is not None
        for mode in MODES:
            driver.set_trace_callback(caught.append)
            runtime.bind(sid, mode)
            driver.set_trace_callback(None)
        database = engine.url.database
    if not caught or database is None:
        return None
    bare = sqlite3.connect(database, isolation_level=None, timeout=30)
    times = []
    try:
        bare.execute("PRAGMA synchronous = FULL")  # the journal mode is the file's: WAL
        per_round = calls // len(MODES)
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(per_round):
                for sql in caught:
                    bare.execute(sql).fetchall()
            times.append((time.perf_counter() - start) / (per_round * len(MODES)))
    finally:
        bare.close()
    return _median(times)


def fsync_latency(folder: Path, count: int = 20) -> float:
    """Median seconds of one small write + fsync in ``folder`` (what a durable commit costs)."""
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    samples = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            os.write(fd, b"x" * 128)
            os.fsync(fd)
            samples.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()
    return _median(samples)


def route_ratio(root: Path, rounds: int, calls: int) -> tuple[float, float, float]:
    """(bound, bare, ratio): median seconds per ``runtime.route(sid, TASK)`` and per
    ``router.route(TASK)`` of the same router, measured in interleaved rounds."""
    url, cache = _project(root)
    with ModeRuntime(root, url, cache) as runtime:
        sid = runtime.initialize_session(mode_file=MODES[0]).session_id
        route, router = runtime.route, runtime.context(sid).router.route
        bound, bare = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(calls):
                route(sid, TASK)
            bound.append((time.perf_counter() - start) / calls)
            start = time.perf_counter()
            for _ in range(calls):
                router(TASK)
            bare.append((time.perf_counter() - start) / calls)
    b, r = _median(bound), _median(bare)
    return b, r, b / r


@contextlib.contextmanager
def postgres_schema(*, flush_wait: bool = True) -> Iterator[str | None]:
    """A URL on a fresh PostgreSQL schema (dropped afterwards), or None without a server.
    ``flush_wait=False`` sets ``synchronous_commit=off`` on its connections: a measurement
    of the bind path without the server's WAL fsync, never how modec runs."""
    server = next((os.environ[v] for v in PG_URL_VARS if os.environ.get(v)), None)
    if server is None:
        yield None
        return
    schema = f"modec_bench_{secrets.token_hex(6)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        options = f"-csearch_path={schema}"
        if not flush_wait:
            options += " -csynchronous_commit=off"
        url = make_url(server).update_query_dict({"options": options})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _row(
    name: str, median: float, unit: str, target: str, ok: bool | None, detail: str
) -> dict[str, Any]:
    """One runtime figure; ``ok`` is None when it could not be measured here (SKIP)."""
    return {
        "name": name,
        "median": median,
        "unit": unit,
        "target": target,
        "pass": ok,
        "detail": detail,
    }


def run_runtime_benchmarks(quick: bool) -> list[dict[str, Any]]:
    """Measure the runtime targets; one row each (``median`` in the row's unit)."""
    samples, rounds, calls, bind_calls = (9, 5, 2_000, 100) if quick else (31, 9, 20_000, 500)
    rows = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        with tempfile.TemporaryDirectory(prefix="modec-bench-") as tmp:
            base = Path(tmp)
            for name in ("activation", "context", "binds", "pg", "route"):
                (base / name).mkdir()
            act = _median(activation(base / "activation", samples))
            ctx = _median(context_warm(base / "context", rounds, calls))
            per_bind = _median(binds(base / "binds", rounds, bind_calls))
            (base / "floor").mkdir()
            floor = database_floor(base / "floor", rounds, bind_calls)
            fsync = fsync_latency(base)
            with postgres_schema() as pg_url:
                pg_bind = (
                    None
                    if pg_url is None
                    else _median(binds(base / "pg", rounds, bind_calls, pg_url))
                )
            with postgres_schema(flush_wait=False) as pg_url:
                (base / "pg-noflush").mkdir()
                pg_noflush = (
                    None
                    if pg_url is None
                    else _median(binds(base / "pg-noflush", rounds, bind_calls, pg_url))
                )
            bound, bare, ratio = route_ratio(base / "route", rounds, calls)
        shm = Path("/dev/shm")
        tmpfs_bind = None
        if shm.is_dir() and os.access(shm, os.W_OK):
            with tempfile.TemporaryDirectory(prefix="modec-bench-", dir=shm) as tmp:
                tmpfs_bind = _median(binds(Path(tmp), rounds, bind_calls))
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
            "binds per second on SQLite (durable, on disk)",
            rate,
            "binds/s",
            ">= 3,000 binds/s",
            rate >= BINDS_TARGET,
            f"median of {rounds} rounds x {bind_calls} binds, {per_bind * 1e3:.3f} ms "
            f"per bind; one fsync here takes {fsync * 1e3:.3f} ms"
            + (
                ""
                if floor is None
                else f"; the bind's own statements on a bare sqlite3 connection: "
                f"{1.0 / floor:,.0f} per second ({floor * 1e3:.3f} ms, modec's bind "
                f"{per_bind / floor:.2f}x that)"
            ),
        )
    )
    if tmpfs_bind is not None:
        rate = 1.0 / tmpfs_bind
        rows.append(
            _row(
                "binds per second on SQLite on tmpfs (the bind path itself)",
                rate,
                "binds/s",
                ">= 3,000 binds/s",
                rate >= BINDS_TARGET,
                f"{tmpfs_bind * 1e3:.3f} ms per bind, /dev/shm",
            )
        )
    if pg_bind is None:
        rows.append(
            _row(
                "binds per second on PostgreSQL",
                0.0,
                "binds/s",
                ">= 1,500 binds/s",
                None,
                f"not measured: set {PG_URL_VARS[0]}",
            )
        )
    else:
        rate = 1.0 / pg_bind
        rows.append(
            _row(
                "binds per second on PostgreSQL",
                rate,
                "binds/s",
                ">= 1,500 binds/s",
                rate >= PG_BINDS_TARGET,
                f"median of {rounds} rounds x {bind_calls} binds, {pg_bind * 1e3:.3f} ms per bind"
                f"; the server fsyncs its WAL on every commit (one fsync here: "
                f"{fsync * 1e3:.3f} ms)",
            )
        )
    if pg_noflush is not None:
        rate = 1.0 / pg_noflush
        rows.append(
            _row(
                "binds per second on PostgreSQL, commit not waiting for the WAL fsync "
                "(the bind path itself)",
                rate,
                "binds/s",
                ">= 1,500 binds/s",
                rate >= PG_BINDS_TARGET,
                f"{pg_noflush * 1e3:.3f} ms per bind; synchronous_commit=off on the "
                "benchmark's connections only, for this row",
            )
        )
    rows.append(
        _row(
            "routing a bound session / bare router.route",
            ratio,
            "x",
            "<= 1.2x",
            ratio <= ROUTE_RATIO_TARGET,
            f"{bound * 1e6:.2f} µs vs {bare * 1e6:.2f} µs, median of {rounds} "
            f"interleaved rounds x {calls} calls",
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
