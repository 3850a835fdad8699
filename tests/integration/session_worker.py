"""Child process for the session-store concurrency tests (run as a script, never imported).

Every mode prints ``ready`` once it is set up, and the ``open`` and ``ops`` modes then wait
for a ``go`` line on stdin, so the parent can release all children at the same instant. The
result is one JSON object on the last line of stdout.

    session_worker.py open URL              open the store (racing migrations), report revision
    session_worker.py ops URL SEED N S H    put artifacts H, then N random bind/switch on S
    session_worker.py bind-loop URL S H     bind S forever, numbering mode files from the
                                            history length, until killed
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter


def _ready() -> None:
    print("ready", flush=True)


def _wait_for_go() -> None:
    line = sys.stdin.readline()
    if line.strip() != "go":
        raise SystemExit(f"expected 'go' on stdin, got {line!r}")


def _open(url: str) -> dict[str, object]:
    from modec.runtime.sessions import SessionBindingStore

    _ready()
    _wait_for_go()
    with SessionBindingStore(url) as store:
        return {"revision": store.schema_revision()}


def _ops(
    url: str, seed: int, count: int, sessions: list[str], hashes: list[str]
) -> dict[str, object]:
    from modec.runtime.sessions import SessionBindingStore

    rng = random.Random(seed)
    with SessionBindingStore(url) as store:
        _ready()
        _wait_for_go()
        inserted = sum(store.put_artifact(h, 1, h.encode() * 8) for h in hashes)
        done: Counter[str] = Counter()
        errors: list[str] = []
        for i in range(count):
            sid = rng.choice(sessions)
            action = rng.choice(("bind", "switch"))
            index = rng.randrange(len(hashes))
            try:
                store.bind(sid, f"mode_{index}.yaml", hashes[index], action=action)
            except Exception as exc:  # reported to the parent, which fails the test
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            done[f"{sid}/{action}"] += 1
            if i % 10 == 0 and store.get_binding(sid) is None:
                errors.append(f"binding of {sid} missing right after a bind")
    return {"inserted": inserted, "done": dict(done), "errors": errors}


def _bind_loop(url: str, session_id: str, hashes: list[str]) -> dict[str, object]:
    from modec.runtime.sessions import SessionBindingStore

    store = SessionBindingStore(url)
    index = len(store.history(session_id))
    # one committed bind before the kills start: every round has something to judge
    store.bind(session_id, f"mode_{index}.yaml", hashes[index % len(hashes)], action="switch")
    index += 1
    _ready()
    while True:
        store.bind(session_id, f"mode_{index}.yaml", hashes[index % len(hashes)], action="switch")
        index += 1


def main(argv: list[str]) -> None:
    mode, url, *rest = argv
    if mode == "open":
        result = _open(url)
    elif mode == "ops":
        seed, count, sessions, hashes = rest
        result = _ops(url, int(seed), int(count), sessions.split(","), hashes.split(","))
    elif mode == "bind-loop":
        session_id, hashes = rest
        result = _bind_loop(url, session_id, hashes.split(","))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
