"""The benchmark run: route times side by side, build and load times, targets PASS/MISS."""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from benchmarks import engines
from benchmarks.timing import Subject, interleaved, once
from benchmarks.workload import KEYWORD_COUNTS, ROW_WIDTH, SEED, TEXT_LENGTHS, corpus, rule_rows

MODEC = "modec route()"
CHAIN = "classic any() chain"


@dataclass
class Settings:
    counts: tuple[int, ...] = KEYWORD_COUNTS
    lengths: tuple[int, ...] = TEXT_LENGTHS
    texts: int = 200
    budget: float = 0.5  # seconds per engine per cell (slow engines: fewer calls)
    slow_budget: float = 1.5  # for engines whose single call exceeds 10 ms
    quick: bool = False


QUICK = Settings(
    counts=(20, 1_000), lengths=(50, 300), texts=40, budget=0.04, slow_budget=0.15, quick=True
)


@dataclass
class Results:
    times: dict[tuple[int, int, str], float] = field(default_factory=dict)
    timed_inputs: dict[tuple[int, int, str], int] = field(default_factory=dict)
    builds: dict[tuple[int, str], float] = field(default_factory=dict)
    loads: dict[int, tuple[float, int]] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)


def _fmt_time(seconds: float) -> str:
    us = seconds * 1e6
    if us < 10:
        return f"{us:.2f} µs"
    if us < 1000:
        return f"{us:.1f} µs"
    if us < 1e6:
        return f"{us / 1000:.2f} ms"
    return f"{us / 1e6:.2f} s"


def _say(text: str = "") -> None:
    print(text, flush=True)


def measure(settings: Settings, results: Results) -> None:
    corpora = {length: corpus(length, settings.texts) for length in settings.lengths}
    for count in settings.counts:
        rows = rule_rows(count)
        modec_engine, load, size = engines.build_modec(rows)
        results.loads[count] = (load, size)
        built = [modec_engine]
        for build in engines.PEERS:
            if build is engines.build_cel and count > 1_000:
                # cel-python needs 16 s to build and 4 s a call here: shown as n/a.
                continue
            built.append(build(rows))
        for engine in built:
            results.builds[(count, engine.name)] = engine.build_seconds
            if engine.name not in results.order:
                results.order.append(engine.name)
            if engine.note:
                results.notes[engine.name] = engine.note
        for length in settings.lengths:
            texts = corpora[length]
            reference = [modec_engine.decide(modec_engine.prepare(t)) for t in texts]
            subjects = []
            for engine in built:
                fast = engine.name in (MODEC, CHAIN, "python dict table")
                subjects.append(
                    Subject(
                        engine.timed,
                        [engine.prepare(t) for t in texts],
                        settings.budget if fast else settings.slow_budget,
                    )
                )
            measured = interleaved(subjects)
            for engine, subject, (seconds, used) in zip(built, subjects, measured, strict=True):
                inputs = subject.inputs
                key = (count, length, engine.name)
                results.times[key] = seconds
                results.timed_inputs[key] = used
                check = min(len(texts), max(used, 3))
                for text, item, want in zip(
                    texts[:check], inputs[:check], reference[:check], strict=True
                ):
                    got = engine.decide(item)
                    if got != want:
                        results.disagreements.append(
                            f"{engine.name} at {count} keywords: {got} != modec {want} "
                            f"for {text[:60]!r}"
                        )
                        break
            _say(f"  measured {count:>6,} keywords × {length:>5,} chars")


def print_route_tables(settings: Settings, results: Results) -> None:
    for length in settings.lengths:
        _say()
        _say(f"route time per task, {length:,}-character texts: median (× modec's time)")
        header = f"{'engine':<22}" + "".join(f"{f'{c:,} keywords':>24}" for c in settings.counts)
        _say(header)
        _say("-" * len(header))
        for name in results.order:
            cells = []
            for count in settings.counts:
                seconds = results.times.get((count, length, name))
                base = results.times.get((count, length, MODEC))
                if seconds is None or base is None:
                    cells.append(f"{'—':>24}")
                    continue
                ratio = seconds / base
                cells.append(f"{_fmt_time(seconds):>13} ({ratio:>7.1f}×)")
            note = f"  [{results.notes[name]}]" if name in results.notes else ""
            _say(f"{name:<22}" + "".join(cells) + note)


def print_build_tables(settings: Settings, results: Results) -> None:
    _say()
    _say("build time per engine (modec: table + artifact + load)")
    header = f"{'engine':<22}" + "".join(f"{f'{c:,} keywords':>18}" for c in settings.counts)
    _say(header)
    _say("-" * len(header))
    for name in results.order:
        cells = "".join(
            f"{_fmt_time(results.builds[(c, name)]) if (c, name) in results.builds else 'n/a':>18}"
            for c in settings.counts
        )
        _say(f"{name:<22}{cells}")
    _say()
    _say("modec artifact: load time (bytes → Router) and size")
    for count in settings.counts:
        load, size = results.loads[count]
        _say(f"  {count:>6,} keywords: load {_fmt_time(load):>10}, {size:>10,} bytes")


def print_bundled_modes(settings: Settings) -> None:
    _say()
    try:
        from modec.compiler.build import bundled_mode_names, bundled_mode_path
        from modec.compiler.pipeline import compile_path
        from modec.runtime.router import Task, load_router
    except ImportError as exc:  # the pipeline is part of the package; report, don't crash
        _say(f"bundled modes: skipped ({exc})")
        return
    names = bundled_mode_names()
    if not names:
        _say("bundled modes: none found in modec/modes, skipped")
        return
    repeat = 3 if settings.quick else 15
    texts = corpus(300, settings.texts)
    tasks = [
        Task(title=t[:40], description=t, tags=("ui",) if i % 3 else (), complexity=i % 5 + 1)
        for i, t in enumerate(texts)
    ]
    _say(
        "bundled modes: compile (YAML → artifact), load (artifact bytes → Router) and route "
        "(300-char tasks with title, tags, complexity), medians"
    )
    _say(
        f"{'mode':<28}{'policy':>8}{'rows':>6}{'bytes':>9}{'compile':>12}{'load':>12}{'route':>12}"
    )
    for name in names:
        path = bundled_mode_path(name)
        assert path is not None
        try:
            c = compile_path(path)
        except Exception as exc:  # a compiler crash is reported in the table, not hidden
            _say(f"{name:<28}  compiling raised {type(exc).__name__}: {exc}")
            continue
        if not c.ok or c.artifact is None:
            _say(f"{name:<28}  does not compile ({len(c.diagnostics)} diagnostics)")
            continue
        data = c.artifact.to_bytes()
        compile_seconds = once(partial(compile_path, path), repeat)
        load_seconds = once(partial(load_router, data), repeat)
        router = load_router(data)
        ((route_seconds, _),) = interleaved([Subject(router.route, tasks, settings.budget / 2)])
        _say(
            f"{name:<28}{router.hit_policy:>8}{len(router.rows):>6}{len(data):>9,}"
            f"{_fmt_time(compile_seconds):>12}{_fmt_time(load_seconds):>12}"
            f"{_fmt_time(route_seconds):>12}"
        )


Check = Callable[["Results", int], "tuple[bool, str] | None"]


@dataclass
class Target:
    """A target judged at 300 characters; the other lengths are shown for context."""

    label: str
    check: Check


def _ratio(results: Results, count: int, length: int, name: str) -> float | None:
    a = results.times.get((count, length, name))
    b = results.times.get((count, length, MODEC))
    return None if a is None or b is None else a / b


def _at_least(count: int, name: str, factor: float) -> Check:
    def check(results: Results, length: int) -> tuple[bool, str] | None:
        r = _ratio(results, count, length, name)
        return None if r is None else (r >= factor, f"{r:,.1f}× faster")

    return check


def _classic(results: Results, length: int) -> tuple[bool, str] | None:
    r = _ratio(results, 20, length, CHAIN)
    return None if r is None else (1 / r <= 0.5, f"{1 / r:.2f}× the chain's time")


def _flat(results: Results, length: int) -> tuple[bool, str] | None:
    small = results.times.get((20, length, MODEC))
    large = results.times.get((10_000, length, MODEC))
    if small is None or large is None:
        return None
    return large / small <= 2, f"{large / small:.2f}× the time at 20 keywords"


TARGETS = (
    Target("classic table ≤ 0.5× the classic chain's time", _classic),
    Target("≥ 20× faster than the chain at 1,000 keywords", _at_least(1_000, CHAIN, 20)),
    Target("≥ 200× faster than the chain at 10,000 keywords", _at_least(10_000, CHAIN, 200)),
    Target("≥ 50× faster than zen-engine on the classic table", _at_least(20, "zen-engine", 50)),
    Target("≥ 10× faster than rule-engine on the classic table", _at_least(20, "rule-engine", 10)),
    Target("route at 10,000 keywords within 2× of route at 20", _flat),
)


def print_targets(settings: Settings, results: Results) -> int:
    _say()
    _say("targets (judged on 300-character texts; other lengths in brackets, for context)")
    misses = 0
    for target in TARGETS:
        outcome = target.check(results, 300)
        if outcome is None:
            _say(f"  n/a   {target.label} (not measured in this run)")
            continue
        ok, detail = outcome
        misses += not ok
        others = []
        for length in settings.lengths:
            other = target.check(results, length) if length != 300 else None
            if other is not None:
                others.append(f"{length:,} chars: {other[1]}{'' if other[0] else ' (miss)'}")
        context = f"  [{'; '.join(others)}]" if others else ""
        _say(f"  {'PASS' if ok else 'MISS'}  {target.label}: {detail}{context}")
    return misses


def print_runtime(settings: Settings) -> None:
    """The runtime targets of :mod:`benchmarks.runtime` (activation, warm context, binds)."""
    _say()
    try:
        from benchmarks.runtime import run_runtime_benchmarks
    except ImportError as exc:
        _say(f"runtime targets: skipped ({exc})")
        return
    _say("runtime targets")
    for row in run_runtime_benchmarks(settings.quick):
        verdict = "SKIP" if row["pass"] is None else "PASS" if row["pass"] else "MISS"
        _say(
            f"  {verdict}  {row['name']}: {row['median']:,.3f} "
            f"{row['unit']} (target {row['target']}; {row['detail']})"
        )


def print_scenarios(settings: Settings, results: Results) -> int:
    """The scenarios of :mod:`benchmarks.scenarios`, with their targets; the misses."""
    from benchmarks import scenarios

    outcomes: list[tuple[str, bool, str]] = []
    outcomes += scenarios.entry_points(settings.budget, settings.texts, _say, results.disagreements)
    outcomes += scenarios.long_texts(
        0.05 if settings.quick else 0.6, settings.quick, _say, results.disagreements
    )
    outcomes += scenarios.when_rules(
        settings.budget,
        settings.slow_budget,
        40 if settings.quick else 500,
        _say,
        results.disagreements,
    )
    outcomes += scenarios.batch(
        3 if settings.quick else 9, 2_000 if settings.quick else 10_000, _say, results.disagreements
    )
    if not settings.quick:
        outcomes += scenarios.memory(_say)
    _say()
    _say("targets of the scenarios (measured in this run)")
    for label, ok, detail in outcomes:
        _say(f"  {'PASS' if ok else 'MISS'}  {label}: {detail}")
    return sum(not ok for _, ok, _ in outcomes)


def print_lines_of(module: str) -> None:
    """The report lines of a benchmark module whose ``run()`` returns them (cold command
    line, compile, language server)."""
    import importlib

    _say()
    for line in importlib.import_module(module).run():
        _say(line)


def run(settings: Settings) -> int:
    """Run the benchmark and print everything; 1 if any engine disagreed with modec."""
    mode = " (--quick: smoke run, timings indicative only)" if settings.quick else ""
    _say(f"modec benchmarks{mode}")
    _say(
        f"python {platform.python_version()} on {platform.machine()} {platform.system()}; "
        f"seed {SEED}; {settings.texts} texts per length; rows of {ROW_WIDTH} keywords after "
        "the classic four; hit policy first"
    )
    _say("every engine returns (task type, specialist); decisions are checked against modec's")
    started = time.perf_counter()
    results = Results()
    measure(settings, results)
    print_route_tables(settings, results)
    print_build_tables(settings, results)
    print_bundled_modes(settings)
    print_targets(settings, results)
    print_scenarios(settings, results)
    print_runtime(settings)
    for module in ("benchmarks.cold_cli", "benchmarks.compile", "benchmarks.lsp"):
        print_lines_of(module)
    if results.disagreements:
        _say()
        _say("DISAGREEMENTS (a bug in modec or in a peer's encoding of the rules):")
        for line in results.disagreements:
            _say(f"  {line}")
    _say()
    _say(f"total {time.perf_counter() - started:.1f} s")
    return 1 if results.disagreements else 0


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: fewer sizes, texts and samples (seconds)"
    )
    args = parser.parse_args(argv)
    return run(QUICK if args.quick else Settings())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
