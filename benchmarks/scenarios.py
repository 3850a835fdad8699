"""The scenarios beyond the keyword matrix: where users call modec.

* **entry points** — the classic table at 300 characters through ``route(str)``,
  ``route(dict)`` and ``route(Task)``, beside the classic chain and modec's own scan floor
  (encode + one RE2 ``Set.Match``), in one interleaved run;
* **long texts** — natural text (task sentences, keywords where they fall) and text with no
  keyword at 10 KB, 100 KB and 1 MB, at 20 and 10,000 keywords, against the chain;
* **when:** — :mod:`benchmarks.when` against hand-written Python, rule-engine and zen-engine;
* **batch** — ``route_many`` over 10,000 tasks against a loop of ``route``;
* **memory** — the RSS of a fresh process holding a 10,000-keyword router.

Each returns the lines it prints and its targets as ``(label, passed, detail)``.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import engines, when
from benchmarks.timing import Subject, clock, interleaved
from benchmarks.workload import _FILLER, SEED, corpus, rule_rows

Outcome = tuple[str, bool, str]
Say = Callable[[str], None]


def _fmt(seconds: float) -> str:
    us = seconds * 1e6
    if us < 10:
        return f"{us:.2f} µs"
    if us < 1000:
        return f"{us:.1f} µs"
    if us < 1e6:
        return f"{us / 1000:.2f} ms"
    return f"{us / 1e6:.2f} s"


def _router(rows: Sequence[Any]) -> Any:
    from modec.compiler.artifact import build_artifact
    from modec.compiler.ir import BUILTIN_KEYWORDS
    from modec.compiler.table import build_table
    from modec.runtime.router import load_router
    from modec.testing import make_mode, make_rule

    rules = [
        make_rule(
            r.name,
            None if r.name in BUILTIN_KEYWORDS else list(r.keywords),
            line=i + 2,
            required_specialist=r.specialist,
        )
        for i, r in enumerate(rows)
    ]
    specialists = sorted({engines.DEFAULT_SPECIALIST, *(r.specialist for r in rows)})
    mode = make_mode(rules, specialists=specialists, default_specialist=engines.DEFAULT_SPECIALIST)
    return load_router(build_artifact(mode, build_table(mode)).to_bytes())


def _decided(d: Any) -> tuple[str, str]:
    return d.task_type, d.specialist or ""


def _agree(
    name: str,
    got: Sequence[tuple[str, str]],
    want: Sequence[tuple[str, str]],
    disagreements: list[str],
) -> None:
    for index, (a, b) in enumerate(zip(got, want, strict=True)):
        if a != b:
            disagreements.append(f"{name}: {a} != modec {b} (input {index})")
            return


# --------------------------------------------------------------------------- entry points


def entry_points(budget: float, texts: int, say: Say, disagreements: list[str]) -> list[Outcome]:
    from modec.runtime.router import Task

    rows = rule_rows(20)
    router = _router(rows)
    chain = engines.build_chain(rows)
    corpus_texts = corpus(300, texts)
    as_tasks = [Task(description=t) for t in corpus_texts]
    as_dicts = [{"description": t} for t in corpus_texts]
    literals = router._literals
    folded, lowered = literals.match_ascii, literals.match_lowered

    def floor(text: str) -> object:
        return folded(text.encode()) if text.isascii() else lowered(text.lower().encode())

    want = [_decided(router.route(t)) for t in as_tasks]
    _agree("route(str)", [_decided(router.route(t)) for t in corpus_texts], want, disagreements)
    _agree("route(dict)", [_decided(router.route(t)) for t in as_dicts], want, disagreements)
    _agree("classic any() chain", [chain.decide(t) for t in as_tasks], want, disagreements)
    subjects = [
        Subject(chain.timed, as_tasks, budget),
        Subject(router.route, corpus_texts, budget),
        Subject(router.route, as_dicts, budget),
        Subject(router.route, as_tasks, budget),
        Subject(floor, corpus_texts, budget),
    ]
    (c, _), (s, _), (d, _), (t, _), (f, _) = interleaved(subjects, rounds=15, statistic=min)
    say("")
    say(
        "entry points: classic table, 300-character texts, least of 15 interleaved rounds "
        "(ratio to the classic chain; to the scan floor)"
    )
    for label, seconds in (
        ("classic any() chain", c),
        ("modec route(str)", s),
        ("modec route(dict)", d),
        ("modec route(Task)", t),
        ("scan floor (encode + Set.Match)", f),
    ):
        say(
            f"  {label:<34}{_fmt(seconds):>12}  ({seconds / c:5.2f}× chain, "
            f"{seconds / f:5.2f}× floor)"
        )
    return [
        ("route(str) ≤ 0.4× the classic chain", s / c <= 0.4, f"{s / c:.2f}×"),
        ("route(dict) ≤ 0.4× the classic chain", d / c <= 0.4, f"{d / c:.2f}×"),
        ("route(Task) ≤ 0.3× the classic chain", t / c <= 0.3, f"{t / c:.2f}×"),
        ("route(Task) ≤ 1.25× modec's scan floor", t / f <= 1.25, f"{t / f:.2f}×"),
    ]


# --------------------------------------------------------------------------- long texts


def natural_text(length: int, seed: int = SEED) -> str:
    """Task sentences (the corpus's 300-character texts) joined, cut to ``length``."""
    sentences = corpus(300, length // 290 + 2, seed + length)
    return ". ".join(sentences)[:length]


def plain_text(length: int, seed: int = SEED) -> str:
    """Ordinary task words with no keyword of any table (classic or generated)."""
    from modec.compiler.ir import BUILTIN_KEYWORDS

    classic = [k for words in BUILTIN_KEYWORDS.values() for k in words]
    words = [w for w in _FILLER if not any(k in w.lower() for k in classic)]
    rng = random.Random(seed + length)
    out: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(words)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:length]


def _best_of(fn: Callable[[Any], object], item: Any, budget: float) -> float:
    """The least time per call of ``fn(item)`` over samples of as many calls as fill about a
    millisecond (at least one call), taken until ``budget`` is spent.

    A sample of a single call of a few microseconds is at the mercy of the CPU-time clock
    (on a shared virtual machine it now and then reads a fraction of the true time, and the
    least sample is then that outlier); a millisecond of calls is not."""
    start = clock()
    fn(item)
    calls = max(1, int(1e-3 / max(clock() - start, 1e-9)))
    best = float("inf")
    spent = 0.0
    while True:
        t0 = clock()
        for _ in range(calls):
            fn(item)
        elapsed = clock() - t0
        best = min(best, elapsed / calls)
        spent += elapsed
        if spent >= budget:
            return best


LONG_LENGTHS = (10_000, 100_000, 1_000_000)


def long_texts(budget: float, quick: bool, say: Say, disagreements: list[str]) -> list[Outcome]:
    from modec.runtime.router import Task

    counts = (20,) if quick else (20, 10_000)
    lengths = LONG_LENGTHS[:2] if quick else LONG_LENGTHS
    times: dict[tuple[str, int, int, str], float] = {}
    for count in counts:
        rows = rule_rows(count)
        router = _router(rows)
        chain = engines.build_chain(rows)
        for kind, make in (("natural", natural_text), ("no keyword", plain_text)):
            for length in lengths:
                text = make(length)
                task = Task(description=text)
                want = _decided(router.route(text))
                _agree(
                    f"chain on {kind} {length:,} chars", [chain.decide(task)], [want], disagreements
                )
                times[(kind, count, length, "modec")] = _best_of(router.route, text, budget)
                times[(kind, count, length, "chain")] = _best_of(chain.timed, task, budget)
    say("")
    say("long texts: route(str) against the classic chain (least of repeated calls)")
    say(f"  {'text':<12}{'keywords':>9}" + "".join(f"{f'{n:,} chars':>26}" for n in lengths))
    for kind in ("natural", "no keyword"):
        for count in counts:
            cells = []
            for length in lengths:
                m = times[(kind, count, length, "modec")]
                c = times[(kind, count, length, "chain")]
                cells.append(f"{_fmt(m):>10} vs {_fmt(c):>9} ({m / c:.2f}×)")
            say(f"  {kind:<12}{count:>9,}" + "".join(f"{cell:>26}" for cell in cells))
    out: list[Outcome] = []
    for kind, bound in (("natural", 0.5), ("no keyword", 0.2)):
        for count in counts:
            for length in (10_000, 1_000_000):
                if length not in lengths:
                    continue
                r = times[(kind, count, length, "modec")] / times[(kind, count, length, "chain")]
                out.append(
                    (
                        f"{kind} text, {length:,} chars, {count:,} keywords ≤ {bound}× the chain",
                        r <= bound,
                        f"{r:.2f}×",
                    )
                )
    big, small = lengths[-1], lengths[-2]
    for count in counts:
        r = (
            times[("no keyword", count, big, "modec")]
            / times[("no keyword", count, small, "modec")]
        )
        out.append(
            (
                f"linear: {big:,} chars ≤ {big // small * 1.2:.0f}× {small:,} chars "
                f"({count:,} keywords)",
                r <= big / small * 1.2,
                f"{r:.1f}×",
            )
        )
    return out


# --------------------------------------------------------------------------- when:


def when_rules(
    budget: float, slow_budget: float, texts: int, say: Say, disagreements: list[str]
) -> list[Outcome]:
    from modec.runtime.router import Task

    tasks = when.tasks(texts)
    route, decide = when.build_modec()
    as_tasks = [Task(**t) for t in tasks]
    want = [decide(t) for t in as_tasks]
    _agree("modec route(dict) on when:", [decide(t) for t in tasks], want, disagreements)
    peers = [when.build_python(), when.build_rule_engine(), when.build_zen()]
    prepared = [[peer.prepare(t) for t in tasks] for peer in peers]
    for peer, inputs in zip(peers, prepared, strict=True):
        _agree(f"{peer.name} on when:", [peer.decide(i) for i in inputs], want, disagreements)
    subjects = [Subject(route, as_tasks, budget), Subject(route, tasks, budget)]
    subjects += [
        Subject(peer.timed, inputs, budget if i == 0 else slow_budget)
        for i, (peer, inputs) in enumerate(zip(peers, prepared, strict=True))
    ]
    measured = [seconds for seconds, _ in interleaved(subjects, rounds=15, statistic=min)]
    task_time, dict_time, python, rule, zen = measured
    say("")
    say(
        "when: rules (tags, complexity, regex, metadata, not; 6 rows, hit policy first), "
        f"{texts} tasks"
    )
    for label, seconds in (
        ("modec route(Task)", task_time),
        ("modec route(dict)", dict_time),
        ("python by hand (dict)", python),
        ("rule-engine", rule),
        ("zen-engine", zen),
    ):
        say(f"  {label:<26}{_fmt(seconds):>12}  ({seconds / task_time:7.1f}× modec(Task))")
    return [
        (
            "when: route(Task) ≤ 1.0× hand-written Python",
            task_time / python <= 1.0,
            f"{task_time / python:.2f}× (route(dict) {dict_time / python:.2f}×)",
        ),
        ("when: ≥ 20× faster than rule-engine", rule / task_time >= 20, f"{rule / task_time:.1f}×"),
        ("when: ≥ 60× faster than zen-engine", zen / task_time >= 60, f"{zen / task_time:.1f}×"),
    ]


# --------------------------------------------------------------------------- batch


def batch(rounds: int, count: int, say: Say, disagreements: list[str]) -> list[Outcome]:
    """``route_many`` against a loop, on distinct texts and on a backlog with repeats."""
    import gc

    router = _router(rule_rows(20))
    route, many = router.route, router.route_many
    workloads = {
        "distinct": corpus(300, count, SEED + 5),
        "repeats": (corpus(300, count // 5) * 5)[:count],
    }
    say("")
    say(f"batch: {count:,} plain strings of 300 characters, classic table, least of {rounds}")
    ratios = {}
    for name, texts in workloads.items():
        if [_decided(d) for d in many(texts)] != [_decided(route(t)) for t in texts]:
            disagreements.append(f"route_many differs from a loop of route ({name})")
        samples: dict[str, list[float]] = {"loop": [], "many": []}
        gc.disable()
        try:
            for _ in range(rounds):
                t0 = clock()
                [route(t) for t in texts]
                samples["loop"].append(clock() - t0)
                t0 = clock()
                many(texts)
                samples["many"].append(clock() - t0)
        finally:
            gc.enable()
        a, b = min(samples["loop"]), min(samples["many"])
        ratios[name] = a / b
        say(
            f"  {name:<9} (each text {'once' if name == 'distinct' else '5 times'}): loop "
            f"{_fmt(a):>10}, route_many {_fmt(b):>10} ({a / b:.2f}× faster)"
        )
    return [
        (
            f"route_many over {count:,} distinct tasks ≥ 1.5× faster than a loop of route",
            ratios["distinct"] >= 1.5,
            f"{ratios['distinct']:.2f}× (with repeats: {ratios['repeats']:.2f}×)",
        )
    ]


# --------------------------------------------------------------------------- memory

_RSS_PROBE = """
import gc, sys
from modec.runtime.router import load_router
router = load_router(sys.argv[1])
for text in sys.argv[2:]:
    router.route(text)
gc.collect()
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        print(int(line.split()[1]))
"""


def memory(say: Say) -> list[Outcome]:
    from modec.compiler.artifact import build_artifact
    from modec.compiler.ir import BUILTIN_KEYWORDS
    from modec.compiler.table import build_table
    from modec.testing import make_mode, make_rule

    if not Path("/proc/self/status").exists():
        say("memory: skipped (no /proc on this system)")
        return []
    rows = rule_rows(10_000)
    rules = [
        make_rule(
            r.name,
            None if r.name in BUILTIN_KEYWORDS else list(r.keywords),
            line=i + 2,
            required_specialist=r.specialist,
        )
        for i, r in enumerate(rows)
    ]
    mode = make_mode(
        rules,
        specialists=sorted({"implementer", *(r.specialist for r in rows)}),
        default_specialist="implementer",
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "k10000.modec"
        build_artifact(mode, build_table(mode)).write(path)
        texts = corpus(300, 200)
        done = subprocess.run(
            [sys.executable, "-c", _RSS_PROBE, str(path), *texts],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        say(f"memory: the probe failed: {done.stderr.strip()[-300:]}")
        return [
            ("RSS of a process holding a 10,000-keyword router ≤ 45 MiB", False, "probe failed")
        ]
    mib = int(done.stdout.split()[-1]) / 1024
    say("")
    say(
        f"memory: a fresh process that loaded a 10,000-keyword artifact and routed 200 texts "
        f"(ASCII and not): RSS {mib:.1f} MiB"
    )
    return [
        ("RSS of a process holding a 10,000-keyword router ≤ 45 MiB", mib <= 45, f"{mib:.1f} MiB")
    ]
