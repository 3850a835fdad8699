"""Compile speed of a ~300-line mode (issue 11): the load stage against PyYAML's C and
pure-Python ``safe_load`` of the same file, the whole compile, and each stage's share.

``python -m benchmarks.compile`` prints the report; :func:`run` returns its lines (``make bench``
wires it in). Targets: the whole compile ≤ 25 ms warm and ≤ 3× the C loader's ``safe_load``.
Times are medians of warm runs; nothing here is asserted by a test.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import yaml

from modec.compiler.analysis import analyse
from modec.compiler.checks import run_checks
from modec.compiler.pipeline import compile_text
from modec.compiler.source import load_bytes

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
        "    when: 'tags contains \"hotfix\" or (title matches /^fix(\\(.+\\))?:/ and"
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


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def run(runs: int = 31) -> list[str]:
    """Report lines: C and pure-Python ``safe_load``, modec's load stage, the whole compile
    (median of ``runs`` warm runs, ms), each stage's median share, and PASS/MISS lines."""
    text = mode_text()
    data = text.encode()
    base = Path.cwd()
    c_loader = getattr(yaml, "CSafeLoader", None)
    enabled = gc.isenabled()
    gc.disable()
    try:
        c_ms = (
            _median_ms(lambda: yaml.load(text, Loader=c_loader), runs)
            if c_loader is not None
            else float("nan")
        )
        py_ms = _median_ms(lambda: yaml.load(text, Loader=yaml.SafeLoader), runs)
        load_ms = _median_ms(lambda: load_bytes(data, "bench.yaml"), runs)
        stages: dict[str, list[float]] = {}
        totals: list[float] = []
        compile_text(data, "bench.yaml", base_dir=base)
        for _ in range(runs):
            start = time.perf_counter()
            c = compile_text(data, "bench.yaml", base_dir=base)
            totals.append((time.perf_counter() - start) * 1000)
            for name, seconds in c.timings.items():
                stages.setdefault(name, []).append(seconds * 1000)
        assert c.ok and c.mode is not None, [d.message for d in c.diagnostics]
        mode, sources = c.mode, c.sources
        checks_ms = _median_ms(lambda: run_checks(mode), runs)
        analysis_ms = _median_ms(lambda: analyse(mode, sources), runs)
    finally:
        if enabled:
            gc.enable()
    total_ms = statistics.median(totals)
    lines = [
        f"compile: a {text.count(chr(10))}-line mode, median of {runs} warm runs",
        f"  yaml.safe_load, C (CSafeLoader)     {c_ms:7.2f} ms",
        f"  yaml.safe_load, pure Python         {py_ms:7.2f} ms",
        f"  modec load stage (load_bytes)       {load_ms:7.2f} ms  "
        f"({load_ms / c_ms:.2f}x C safe_load)",
        f"  modec compile, whole                {total_ms:7.2f} ms",
    ]
    for name, samples in stages.items():
        share = statistics.median(samples)
        lines.append(f"    stage {name:<9}                  {share:7.2f} ms")
    lines += [
        f"      of which checks (run_checks)    {checks_ms:7.2f} ms",
        f"      of which analysis (analyse)     {analysis_ms:7.2f} ms",
    ]
    ratio = total_ms / c_ms
    lines += [
        f"  {'PASS' if total_ms <= COMPILE_BUDGET_MS else 'MISS'} compile <= "
        f"{COMPILE_BUDGET_MS:g} ms: {total_ms:.2f} ms",
        f"  {'PASS' if ratio <= C_LOADER_RATIO else 'MISS'} compile <= "
        f"{C_LOADER_RATIO:g}x C safe_load: {ratio:.2f}x",
    ]
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
