"""`python -m benchmarks --quick` runs end to end and every engine decides like modec.

The peer engines (zen-engine, rule-engine, cel-python) are the `bench` extra, which
`make test` installs (`pip install -e '.[test,bench]'`). Without them this test fails and
says so: it is never skipped. Timings are printed by the benchmark, never asserted here.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

BENCH_ENGINES = ("zen", "rule_engine", "celpy")


def test_the_bench_extra_is_installed() -> None:
    missing = [name for name in BENCH_ENGINES if importlib.util.find_spec(name) is None]
    assert not missing, (
        f"the benchmark's peer engines {missing} are missing: install the bench extra "
        "(pip install -e '.[test,bench]', as `make test` does)"
    )


def test_benchmark_quick_mode_runs_and_engines_agree() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "DISAGREEMENTS" not in done.stdout
    for needle in (
        "modec route()",
        "classic any() chain",
        "zen-engine",
        "rule-engine",
        "cel-python",
        "targets",
        "bundled modes",
        "entry points",
        "long texts",
        "when: rules",
        "route_many",
        "python by hand",
    ):
        assert needle in done.stdout, needle
