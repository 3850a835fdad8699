"""Compile speed of a ~300-line mode (issue 11): the load stage against PyYAML's C and
pure-Python ``safe_load`` of the same file, the whole compile, and each stage's share.

``python -m benchmarks.compile`` prints the report; :func:`run` returns its lines (``make bench``
wires it in). Targets: the whole compile ≤ 25 ms warm and ≤ 3× the C loader's ``safe_load``.
Times are medians of warm runs (see :func:`run`); no test asserts any of them.

*Warm* is a recompile of the same file in a process that compiled it before: the condition
cache (:func:`modec.grammar.parser.condition_cache`) answers every ``when:``. Two colder
figures are printed beside it: the same compile with that cache emptied before each run (every
condition parsed; imports and the parser's tables warm), and the first compile in a fresh
interpreter (imports, the parser's tables and every condition), as separate subprocesses; and
what an uncached ``modec lint`` of a bundled mode spends on the compiler, first in a fresh
interpreter (its imports, then the compile until the checks).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import yaml

from modec.compiler.analysis import analyse
from modec.compiler.checks import run_checks
from modec.compiler.pipeline import STAGES, Compilation, compile_text
from modec.compiler.source import load_bytes
from modec.grammar.parser import condition_cache

__all__ = ["COMPILE_BUDGET_MS", "C_LOADER_RATIO", "mode_text", "run"]

#: The issue's targets for the whole compile of the generated mode.
COMPILE_BUDGET_MS: Final = 25.0
C_LOADER_RATIO: Final = 3.0

_SPECIALISTS: Final = (
    ("architect", "System design and architecture planning"),
    ("implementer", "Writing code and implementing features"),
    ("debugger", "Fixing issues and finding root causes"),
    ("documenter", "Creating documentation and guides"),
    ("reviewer", "Code review and quality assurance"),
    ("tester", "Testing and validation"),
    ("researcher", "Research and information gathering"),
    ("performance_optimizer", "Profiling and making things fast"),
    ("release_manager", "Shipping versions safely"),
    ("security_auditor", "Threat models and vulnerability review"),
    ("data_engineer", "Pipelines, schemas and migrations"),
    ("ux_designer", "Interfaces, flows and accessibility"),
)
_TOPICS: Final = (
    ("parser", ["parser", "grammar", "tokenizer"]),
    ("storage", ["database", "storage", "index", "migration"]),
    ("network", ["socket", "http", "latency", "timeout"]),
    ("ui", ["button", "layout", "dark theme", "accessibility"]),
    ("docs", ["readme", "tutorial", "guide"]),
    ("release", ["release", "changelog", "version bump"]),
    ("perf", ["performance", "profiling", "slow", "throughput"]),
    ("security", ["vulnerability", "cve", "secret", "token leak"]),
    ("data", ["etl", "pipeline", "schema", "warehouse"]),
    ("tests", ["flaky", "coverage", "unit test"]),
)


def mode_text() -> str:
    """A self-contained, valid mode of about 300 lines: 13 roles, 22 rules (keyword and
    ``when:`` rules), 24 tests."""
    out = [
        "# A generated mode for the compile benchmark: many roles, rules and tests.",
        "mode_metadata:",
        "  name: benchmark_mode",
        '  description: "Generated: roles, keyword and condition rules, and tests"',
        '  version: "1.0"',
        "mode_configuration:",
        "  default_complexity: moderate",
        "  hit_policy: first",
        "  default_specialist: implementer",
        "task_orchestrator:",
        '  role_definition: "You are a Task Orchestrator who splits work into subtasks"',
        "  expertise:",
        '    - "Breaking down complex tasks"',
        '    - "Assigning specialists"',
        "  approach:",
        '    - "Analyse the requirements first"',
        '  output_format: "Task breakdown with owners and dependencies"',
        "  specialist_roles:",
    ]
    out += [f'    {name}: "{what}"' for name, what in _SPECIALISTS]
    for name, what in _SPECIALISTS:
        out += [
            f"{name}:",
            f'  role_definition: "You are a specialist in {what.lower()}"',
            "  expertise:",
            f'    - "{what}"',
            "    - 'Clear, reviewed work'",
            f"    - Knowing when {name.replace('_', ' ')} work is done",
            "  approach:",
            "    - Measure, change one thing, measure again",
            '    - "State what was checked, and how"',
            f'  output_format: "Results of {name.replace("_", " ")} work, with evidence"',
        ]
    out.append("task_routing_rules:")
    names = [name for name, _ in _SPECIALISTS]
    for index, (topic, words) in enumerate(_TOPICS):
        owner = names[index % len(names)]
        out += [
            f"  {topic}_tasks:",
            f"    keywords: [{', '.join(words)}]",
            "    match: word",
            f"    required_specialist: {owner}",
            f"    priority: {index + 1}",
        ]
        out += [
            f"  {topic}_hard_tasks:",
            f"    when: 'tags contains \"{topic}\" and complexity >= complex'",
            f"    required_specialist: {names[(index + 3) % len(names)]}",
            "    secondary_review: reviewer",
        ]
    out += [
        "  hotfix_tasks:",
        '    when: \'tags contains "hotfix" or (title matches /^fix(\\(.+\\))?:/ and'
        " complexity <= simple)'",
        "    required_specialist: debugger",
        "  general_tasks:",
        "    required_specialist: implementer",
        "tests:",
    ]
    for index, (topic, words) in enumerate(_TOPICS):
        owner = names[index % len(names)]
        out += [
            f'  - task: "Something about the {words[0]} in module {index}"',
            f"    expect_type: {topic}_tasks",
            f"    expect_specialist: {owner}",
            f'  - task: {{title: "Rework {topic}", tags: [{topic}], complexity: very_complex}}',
            f"    expect_type: {topic}_hard_tasks",
        ]
    out += [
        '  - task: {title: "fix(io): crash on save", complexity: simple}',
        "    expect_type: hotfix_tasks",
        '  - task: "Add a settings page"',
        "    expect_type: general_tasks",
        "    expect_specialist: implementer",
    ]
    return "\n".join(out) + "\n"


_Clock = Callable[[], float]


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """One call of ``fn``: (CPU seconds, wall seconds)."""
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def _staged(data: bytes, base: Path) -> dict[str, float]:
    """One compile through :data:`STAGES`, as ``compile_text`` runs it: CPU seconds per stage."""
    c = Compilation(path="bench.yaml", file_path=base / "bench.yaml", data=data)
    spent: dict[str, float] = {}
    for name, stage in STAGES:
        start = time.process_time()
        stage(c)
        spent[name] = time.process_time() - start
        if not c.ok or (name == "build" and c.mode is None):
            raise RuntimeError(f"the benchmark mode stopped at {name}: {c.diagnostics}")
    return spent


def _cold(data: bytes, base: Path) -> Compilation:
    """One compile with the condition cache emptied first: every ``when:`` is parsed, as in
    a process that never saw the file's conditions."""
    condition_cache().clear()
    return compile_text(data, "bench.yaml", base_dir=base)


_FRESH: Final = """
import time
t0 = time.process_time()
from pathlib import Path
from modec.compiler.pipeline import compile_text
t1 = time.process_time()
c = compile_text(DATA, "bench.yaml", base_dir=Path.cwd())
t2 = time.process_time()
assert c.ok, c.diagnostics
print(t1 - t0, t2 - t1)
"""

#: What ``modec lint`` of a bundled mode does when no cached result answers: the compiler and
#: the foreign-file test imported, then one compile until the checks.
_FRESH_LINT: Final = """
import time
t0 = time.process_time()
from pathlib import Path
from modec.compiler.build import bundled_mode_path
from modec.compiler.pipeline import compile_path
from modec.interop import is_foreign
t1 = time.process_time()
path = bundled_mode_path("development_mode.yaml")
assert path is not None and not is_foreign(path)
c = compile_path(path, until="check")
t2 = time.process_time()
assert c.ok, c.diagnostics
print(t1 - t0, t2 - t1)
"""


def fresh_process(runs: int = 5, code: str | None = None) -> tuple[float, float]:
    """Medians over ``runs`` new interpreters: (import seconds, first compile seconds), CPU.

    ``code`` prints the two figures (default: the generated mode's compile). Each interpreter
    reads bytecode, as an installed package has it: the first, untimed run writes it under a
    private ``PYTHONPYCACHEPREFIX`` (``PYTHONDONTWRITEBYTECODE`` in the calling environment
    would otherwise make every run compile modec's sources again).
    """
    source = code if code is not None else _FRESH.replace("DATA", repr(mode_text().encode()))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    imports, compiles = [], []
    with tempfile.TemporaryDirectory() as tmp:
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        for i in range(runs + 1):
            out = subprocess.run(
                [sys.executable, "-c", source], capture_output=True, text=True, check=True, env=env
            ).stdout.split()
            if i:  # the first run writes the bytecode
                imports.append(float(out[0]))
                compiles.append(float(out[1]))
    return statistics.median(imports), statistics.median(compiles)


def run(runs: int = 31) -> list[str]:
    """Report lines: C and pure-Python ``safe_load``, modec's load stage, the whole compile,
    each stage's share and the analysis' share, then PASS/MISS against the targets.

    Every figure is the median of ``runs`` warm runs, taken in interleaved rounds (one run of
    each subject per round, so a burst of load on a shared machine hits them all alike), in
    CPU time (``time.process_time``: the work done, not the time other processes took; the
    wall-clock medians are shown beside). The verdicts use the CPU medians.
    """
    text = mode_text()
    data = text.encode()
    base = Path.cwd()
    c_loader = getattr(yaml, "CSafeLoader", None)
    if c_loader is None:
        return ["compile: MISS PyYAML is built without libyaml; no C safe_load to compare with"]
    check = compile_text(data, "bench.yaml", base_dir=base)
    if not check.ok or check.mode is None:
        raise RuntimeError(f"the benchmark mode does not compile: {check.diagnostics}")
    mode, sources = check.mode, check.sources
    subjects: dict[str, Callable[[], object]] = {
        "c": lambda: yaml.load(text, Loader=c_loader),
        "python": lambda: yaml.load(text, Loader=yaml.SafeLoader),
        "load": lambda: load_bytes(data, "bench.yaml"),
        "compile": lambda: compile_text(data, "bench.yaml", base_dir=base),
        "cold": lambda: _cold(data, base),
        "checks": lambda: run_checks(mode),
        "analysis": lambda: analyse(mode, sources),
    }
    cpu: dict[str, list[float]] = {name: [] for name in subjects}
    wall: dict[str, list[float]] = {name: [] for name in subjects}
    stages: dict[str, list[float]] = {name: [] for name, _ in STAGES}
    for fn in subjects.values():
        fn()  # warm: imports, caches, the parser's tables
    _staged(data, base)
    for _ in range(runs):
        for name, fn in subjects.items():
            spent_cpu, spent_wall = _timed(fn)
            cpu[name].append(spent_cpu)
            wall[name].append(spent_wall)
        for name, seconds in _staged(data, base).items():
            stages[name].append(seconds)

    def ms(samples: list[float]) -> float:
        return statistics.median(samples) * 1000

    c_ms, load_ms, total_ms = ms(cpu["c"]), ms(cpu["load"]), ms(cpu["compile"])
    cold_ms, analysis_ms = ms(cpu["cold"]), ms(cpu["analysis"])
    import_s, first_s = fresh_process()
    lint_import_s, lint_first_s = fresh_process(code=_FRESH_LINT)

    def row(label: str, name: str) -> str:
        return f"  {label:<36} {ms(cpu[name]):8.2f} ms   (wall {ms(wall[name]):8.2f})"

    lines = [
        f"compile: a {text.count(chr(10))}-line mode; medians of {runs} warm interleaved runs, "
        "CPU ms",
        row("yaml.safe_load, C (CSafeLoader)", "c"),
        row("yaml.safe_load, pure Python", "python"),
        row("modec load stage (load_bytes)", "load") + f"  {load_ms / c_ms:.2f}x C safe_load",
        row("modec compile, whole (warm)", "compile") + f"  {total_ms / c_ms:.2f}x C safe_load",
        row("modec compile, condition cache empty", "cold")
        + f"  {cold_ms / c_ms:.2f}x C safe_load",
        f"  {'modec compile, first in a new process':<36} {first_s * 1000:8.2f} ms   "
        f"(imports before it {import_s * 1000:.0f} ms; medians of 5 processes)",
        f"  {'lint development_mode.yaml, uncached':<36} {lint_first_s * 1000:8.2f} ms   "
        f"(imports before it {lint_import_s * 1000:.0f} ms; compile until the checks, "
        "first in a new process)",
    ]
    for name, samples in stages.items():
        lines.append(f"    stage {name:<30} {ms(samples):8.2f} ms")
    lines += [
        row("  of which checks (run_checks)", "checks"),
        row("  of which the analysis (analyse)", "analysis")
        + f"  {analysis_ms / total_ms:.0%} of the warm compile",
        f"  {'PASS' if total_ms <= COMPILE_BUDGET_MS else 'MISS'} compile <= "
        f"{COMPILE_BUDGET_MS:g} ms: {total_ms:.2f} ms",
        f"  {'PASS' if total_ms <= C_LOADER_RATIO * c_ms else 'MISS'} compile <= "
        f"{C_LOADER_RATIO:g}x C safe_load: {total_ms / c_ms:.2f}x",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
