"""Child process for the lifecycle tests (run as a script, never imported).

Each mode opens its own :class:`~modec.runtime.lifecycle.ModeRuntime` and prints one JSON
object as the last line of stdout. ``ops`` prints ``ready`` once set up and waits for a ``go``
line on stdin, so the parent can release every child at the same instant; ``switch-loop``
prints ``ready`` and switches until it is killed.

    lifecycle_worker.py route PROJECT URL CACHE SESSION TASK_JSON
        route one task for a session bound elsewhere; report the decision and which
        artifact tier answered
    lifecycle_worker.py ops PROJECT URL CACHE SEED N SESSIONS MODES
        N random bind/switch operations through ModeRuntime on the comma-separated sessions,
        choosing among the comma-separated modes
    lifecycle_worker.py switch-loop PROJECT URL CACHE SESSION MODES
        switch SESSION round the modes forever
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from dataclasses import asdict


def _route(project: str, url: str, cache: str, session: str, task: str) -> dict[str, object]:
    from modec.runtime.lifecycle import ModeRuntime

    with ModeRuntime(project, url, cache) as runtime:
        decision = runtime.route(session, json.loads(task))
        return {"decision": decision.to_dict(), "stats": asdict(runtime.artifacts.stats)}


def _ops(
    project: str, url: str, cache: str, seed: int, count: int, sessions: list[str], modes: list[str]
) -> dict[str, object]:
    from modec.runtime.lifecycle import ModeRuntime

    rng = random.Random(seed)
    done: Counter[str] = Counter()
    errors: list[str] = []
    with ModeRuntime(project, url, cache) as runtime:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("expected 'go' on stdin")
        started = time.perf_counter()
        for _ in range(count):
            sid = rng.choice(sessions)
            mode = rng.choice(modes)
            action = rng.choice(("bind", "switch"))
            try:
                if action == "bind":
                    ctx = runtime.bind(sid, mode)
                else:
                    ctx = runtime.switch(sid, mode).context
                runtime.route(sid, "audit the payment flow for security issues")
            except Exception as exc:  # reported to the parent, which fails the test
                errors.append(f"{sid} {action} {mode}: {type(exc).__name__}: {exc}")
                continue
            if ctx.mode_file != mode:
                errors.append(f"{sid} {action} returned a context of {ctx.mode_file}")
            done[f"{sid}/{action}"] += 1
        elapsed = time.perf_counter() - started
    return {"done": dict(done), "errors": errors, "elapsed": elapsed}


def _switch_loop(project: str, url: str, cache: str, session: str, modes: list[str]) -> None:
    from modec.runtime.lifecycle import ModeRuntime

    runtime = ModeRuntime(project, url, cache)
    runtime.context(session)
    print("ready", flush=True)
    index = 0
    while True:
        runtime.switch(session, modes[index % len(modes)])
        index += 1


def main(argv: list[str]) -> None:
    mode, project, url, cache, *rest = argv
    if mode == "route":
        session, task = rest
        result = _route(project, url, cache, session, task)
    elif mode == "ops":
        seed, count, sessions, modes = rest
        result = _ops(
            project, url, cache, int(seed), int(count), sessions.split(","), modes.split(",")
        )
    elif mode == "switch-loop":
        session, modes = rest
        _switch_loop(project, url, cache, session, modes.split(","))
        return
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
