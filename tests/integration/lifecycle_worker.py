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
    lifecycle_worker.py init-loop PROJECT URL CACHE
        start sessions forever (until killed)
    lifecycle_worker.py act PROJECT URL CACHE terminate SESSION | bind SESSION MODE
        one call from another process
    lifecycle_worker.py read-only PROJECT URL CACHE BYTES
        list modes, status, route, history and backups with writes limited to BYTES
"""

from __future__ import annotations

import json
import random
import sys
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
    from modec.runtime.project import BackupRetention

    rng = random.Random(seed)
    done: Counter[str] = Counter()
    errors: list[str] = []
    # every switch: [session, action, replaced version, new version, backed-up version, backup]
    switches: list[list[object]] = []
    keep_all = BackupRetention(max_age=None, max_count=None)
    with ModeRuntime(project, url, cache, retention=keep_all) as runtime:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("expected 'go' on stdin")
        for _ in range(count):
            sid = rng.choice(sessions)
            mode = rng.choice(modes)
            action = rng.choice(("bind", "switch"))
            try:
                switched = runtime.switch(sid, mode, backup=action == "switch")
                runtime.route(sid, "audit the payment flow for security issues")
            except Exception as exc:  # reported to the parent, which fails the test
                errors.append(f"{sid} {action} {mode}: {type(exc).__name__}: {exc}")
                continue
            ctx, previous, backup = switched.context, switched.previous, switched.backup
            if ctx.mode_file != mode:
                errors.append(f"{sid} {action} returned a context of {ctx.mode_file}")
            switches.append(
                [
                    sid,
                    action,
                    None if previous is None else previous.version,
                    ctx.binding_version,
                    None if backup is None else backup.binding_version,
                    None if backup is None else backup.name,
                ]
            )
            done[f"{sid}/{action}"] += 1
    return {"done": dict(done), "errors": errors, "switches": switches}


def _switch_loop(project: str, url: str, cache: str, session: str, modes: list[str]) -> None:
    from modec.runtime.lifecycle import ModeRuntime

    runtime = ModeRuntime(project, url, cache)
    runtime.switch(session, modes[0])  # one committed switch before the kills start
    print("ready", flush=True)
    index = 1
    while True:
        runtime.switch(session, modes[index % len(modes)])
        index += 1


def _init_loop(project: str, url: str, cache: str) -> None:
    from modec.runtime.lifecycle import ModeRuntime

    runtime = ModeRuntime(project, url, cache)
    runtime.initialize_session(mode_file="default_roles.yaml")  # warm before the kills start
    print("ready", flush=True)
    while True:
        runtime.initialize_session(mode_file="default_roles.yaml")


def _read_only(project: str, url: str, cache: str, limit: str) -> dict[str, object]:
    """Read-only commands with writes limited to ``limit`` bytes (RLIMIT_FSIZE): a full disk."""
    import resource
    import signal

    from modec.runtime.lifecycle import ModeRuntime

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit fails (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
    with ModeRuntime(project, url, cache) as runtime:
        current = runtime.current_session()
        sid = current.session_id if current else ""
        try:
            runtime.sessions.bind(sid, "default_roles.yaml", "sha256:" + "0" * 64)
            write_error = ""
        except Exception as exc:  # the parent checks the message
            write_error = f"{type(exc).__name__}: {exc}"
        return {
            "write_error": write_error,
            "modes": [m.name for m in runtime.list_modes()],
            "status": [info.session.session_id for info in runtime.status()],
            "route": runtime.route(sid, "audit the login flow").specialist,
            "history": len(runtime.history(sid)),
            "backups": len(runtime.list_backups()),
        }


def _act(
    project: str, url: str, cache: str, action: str, session: str, *args: str
) -> dict[str, object]:
    """One runtime call from another process: ``terminate SESSION`` or ``bind SESSION MODE``."""
    from modec.runtime.lifecycle import ModeRuntime

    with ModeRuntime(project, url, cache) as runtime:
        if action == "terminate":
            runtime.terminate(session)
        else:
            runtime.bind(session, args[0])
        return {"done": action}


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
    elif mode == "init-loop":
        _init_loop(project, url, cache)
        return
    elif mode == "act":
        result = _act(project, url, cache, *rest)
    elif mode == "read-only":
        (limit,) = rest
        result = _read_only(project, url, cache, limit)
    elif mode == "switch-loop":
        session, modes = rest
        _switch_loop(project, url, cache, session, modes.split(","))
        return
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
