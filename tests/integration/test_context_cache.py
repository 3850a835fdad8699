"""The context cache's fresh index: the routing hot path of a bound session (one dict lookup
and one clock comparison) keeps the cache's semantics: the time to live on an injected
clock, a check against the database every check interval, invalidation, LRU eviction and
thread safety."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from modec.compiler.artifact import Artifact
from modec.compiler.build import bundled_mode_path
from modec.compiler.pipeline import compile_mode
from modec.runtime.context import ModeContext, ModeContextCache
from modec.runtime.lifecycle import ModeRuntime
from modec.runtime.router import Decision, Router, TaskLike
from modec.runtime.sessions import BindingRecord, ValidationStatus
from tests.integration import lifecycle_support as support
from tests.integration.lifecycle_support import RuntimeFactory

project = support.project
make_runtime = support.make_runtime

TASK = "profile the slow endpoint"


def _artifact(name: str) -> Artifact:
    path = bundled_mode_path(name)
    assert path is not None
    return compile_mode(path)


DEVELOPMENT = _artifact("development_mode.yaml")
RESEARCH = _artifact("research_mode.yaml")


def _context(session_id: str, artifact: Artifact = DEVELOPMENT, version: int = 1) -> ModeContext:
    now = datetime.now(UTC)
    binding = BindingRecord(
        session_id, "m.yaml", artifact.mode_hash, ValidationStatus.VALID, now, now, now, version
    )
    return ModeContext.build(binding, artifact, Router(artifact.table, artifact.mode_hash))


def test_fresh_routes_last_until_the_check_interval_or_the_ttl() -> None:
    now = [100.0]
    cache = ModeContextCache(ttl=10, clock=lambda: now[0], check_interval=3)
    ctx = _context("s1")
    cache.put(ctx)
    route, until = cache.fresh["s1"]
    assert until == 103.0 and route(TASK) == ctx.router.route(TASK)
    assert cache.lookup("s1") == (ctx, False)
    now[0] = 103.0  # due: the hot path no longer trusts it, lookup says so
    assert now[0] >= cache.fresh["s1"][1] and cache.lookup("s1") == (ctx, True)
    cache.confirm("s1")
    assert cache.fresh["s1"][1] == 106.0 and cache.lookup("s1") == (ctx, False)
    now[0] = 108.0
    cache.confirm("s1")
    assert cache.fresh["s1"][1] == 110.0  # never beyond the time to live
    now[0] = 110.0
    assert cache.get("s1") is None and cache.lookup("s1") is None
    assert len(cache) == 0 and cache.fresh == {}  # the expired entry left the index too


def test_the_fresh_index_follows_invalidation_clearing_and_lru_eviction() -> None:
    now = [0.0]
    cache = ModeContextCache(ttl=60, clock=lambda: now[0], max_entries=2, check_interval=1)
    for sid in ("a", "b"):
        cache.put(_context(sid))
    assert cache.lookup("a") is not None  # a use: "b" is now the least recently used
    cache.put(_context("c"))
    assert set(cache.fresh) == {"a", "c"} and cache.get("b") is None
    assert cache.invalidate("a") and "a" not in cache.fresh and not cache.invalidate("a")
    cache.put(_context("c", RESEARCH, version=2))  # replaced: the new router routes
    assert cache.fresh["c"][0](TASK) == _context("c", RESEARCH).router.route(TASK)
    # expiry found while storing another entry drops the expired one from the index
    now[0] = 61.0
    cache.put(_context("d"))
    assert set(cache.fresh) == {"d"}
    cache.clear()
    assert cache.fresh == {} and len(cache) == 0


def test_routing_a_bound_session_keeps_the_ttl_and_the_checks(
    make_runtime: RuntimeFactory, tmp_path: Path
) -> None:
    now = [0.0]
    runtime = make_runtime(context_ttl=60, check_interval=3600, clock=lambda: now[0])
    sid = runtime.initialize_session(mode_file="development_mode.yaml").session_id
    assert runtime.route(sid, TASK).specialist == "performance_optimizer"
    assert sid in runtime.contexts.fresh
    other = make_runtime(cache=tmp_path / "other-cache")
    other.switch(sid, "research_mode.yaml")
    now[0] = 59.0
    assert runtime.route(sid, TASK).specialist == "performance_optimizer"  # cached
    now[0] = 60.0
    assert runtime.route(sid, TASK).specialist == "researcher"  # expired: read again
    runtime.switch(sid, "development_mode.yaml")  # this runtime's own switch: at once
    assert runtime.route(sid, TASK).specialist == "performance_optimizer"

    checked = make_runtime(check_interval=0.0, cache=tmp_path / "checked-cache")
    assert checked.route(sid, TASK).specialist == "performance_optimizer"
    other.switch(sid, "research_mode.yaml")
    assert checked.route(sid, TASK).specialist == "researcher"  # interval 0: every call


def test_a_subclass_keeps_its_own_route(project: Path, database_url: str, tmp_path: Path) -> None:
    # The runtime's trusted-context route is set on each instance; a subclass that defines
    # route must still get its own.
    class Counting(ModeRuntime):
        calls = 0

        def route(self, session_id: str, task: TaskLike) -> Decision:
            Counting.calls += 1
            return super().route(session_id, task)

    with Counting(project, database_url, tmp_path / "cache") as runtime:
        sid = runtime.initialize_session(mode_file="development_mode.yaml").session_id
        for _ in range(3):
            assert runtime.route(sid, TASK).specialist == "performance_optimizer"
        assert Counting.calls == 3 and sid in runtime.contexts.fresh
    with ModeRuntime(project, database_url, tmp_path / "cache") as plain:
        assert plain.route.__doc__ == ModeRuntime.route.__doc__
        assert plain.route(sid, TASK).specialist == "performance_optimizer"  # checked
        assert sid in plain.contexts.fresh
        assert plain.route(sid, TASK).specialist == "performance_optimizer"  # trusted


def test_the_hot_path_is_thread_safe_under_puts_and_invalidations() -> None:
    cache = ModeContextCache(ttl=60, check_interval=60)
    contexts = [_context("s", DEVELOPMENT), _context("s", RESEARCH, version=2)]
    expected = {c.router.route(TASK).specialist for c in contexts}
    cache.put(contexts[0])
    seen: set[str | None] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        fresh, clock = cache.fresh, cache.clock
        try:
            while not stop.is_set():
                hit = fresh.get("s")
                if hit is not None and clock() < hit[1]:
                    seen.add(hit[0](TASK).specialist)
        except BaseException as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for i in range(2000):
        cache.put(contexts[i % 2])
        if i % 3 == 0:
            cache.invalidate("s")
        if i % 7 == 0:
            cache.confirm("s")
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == [] and seen <= expected and seen
    assert set(cache.fresh) <= {"s"}
    assert ("s" in cache.fresh) == (cache.get("s") is not None)
