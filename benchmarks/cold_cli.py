"""Cold start of the command line (issue 11): each command as a fresh process, against a bare
``python -c pass`` measured in the same rounds.

Targets, medians of 15 runs each, as a ratio to ``python -c pass``:

- ``modec route --mode X.modec "…"`` (a compiled artifact) ≤ 5×
- ``modec --help`` ≤ 4×
- ``modec lint`` of a bundled mode ≤ 10×: a hook or an editor lints unchanged files again and
  again, so the row is a hit of the lint result cache (:mod:`modec.cli.lint_cache`), filled by
  the untimed round in a private ``MODEC_CACHE_DIR`` (never the user's); ``modec lint
  --no-cache``, what the first lint of a file pays, is printed beside it (not a target)

Rounds are interleaved (pass, route, help, lint, pass, …) so that a machine's load changes
every command alike. ``python -m benchmarks.cold_cli`` prints the report alone.

Every command runs with bytecode, as an installed package has it: the first, untimed round
writes it under a private ``PYTHONPYCACHEPREFIX`` (``PYTHONDONTWRITEBYTECODE`` in the calling
environment would otherwise make every timed run compile modec's sources again, a cost no
installed copy pays).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

__all__ = ["RUNS", "TARGETS", "measure", "run"]

RUNS: Final = 15

#: Command name → the most it may cost, as a multiple of ``python -c pass``.
TARGETS: Final = {"route": 5.0, "help": 4.0, "lint": 10.0}

#: What a command cannot avoid importing, measured beside it (not a target): floor name →
#: (the command it bounds, the code). ``route`` on an artifact reads it without pydantic
#: (:mod:`modec.runtime.light`); an uncached ``lint`` compiles, so it stands on the
#: compiler's models, and those on pydantic.
FLOORS: Final = {
    "import light reader": ("route", "import modec.runtime.light, modec.compiler.framing, re2"),
    "import compiler": ("lint no-cache", "import modec.compiler.pipeline"),
    "import pydantic": ("lint no-cache", "from pydantic import BaseModel"),
}


def _bundled(name: str) -> Path:
    from modec.compiler.build import bundled_mode_path

    path = bundled_mode_path(name)
    if path is None:
        raise RuntimeError(f"bundled mode {name} is missing")
    return path


def _modec() -> list[str]:
    """The installed ``modec`` console script beside this interpreter (what a user runs),
    else ``python -m modec``."""
    script = Path(sys.executable).with_name("modec")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "modec"]


def _commands(artifact: Path) -> dict[str, list[str]]:
    modec = _modec()
    return {
        "pass": [sys.executable, "-c", "pass"],
        "route": [*modec, "route", "--mode", str(artifact), "fix the crash on save"],
        # not a target: what a hook reading the decision as JSON (with evidence) pays
        "route json": [*modec, "route", "--mode", str(artifact), "--json", "fix the crash on save"],
        "help": [*modec, "--help"],
        "lint": [*modec, "lint", str(_bundled("development_mode.yaml"))],
        # not a target: the same lint without the result cache (a file's first lint)
        "lint no-cache": [*modec, "lint", "--no-cache", str(_bundled("development_mode.yaml"))],
        # floors: what the command must import whatever the shell does
        **{name: [sys.executable, "-c", code] for name, (_, code) in FLOORS.items()},
    }


def _once(argv: Sequence[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        argv,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.decode(errors='replace')}")
    return elapsed


def _check_lint_hits(argv: Sequence[str], env: dict[str, str]) -> None:
    """The timed ``lint`` rounds must be cache hits: one more untimed run of the same command,
    with ``PYTHONPROFILEIMPORTTIME`` (``-X importtime``), must not import the compiler."""
    done = subprocess.run(
        argv,
        env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.decode().splitlines()}
    if done.returncode != 0 or "modec.compiler.pipeline" in imported:
        raise RuntimeError(f"{' '.join(argv)} did not answer from the lint cache")


def measure(runs: int = RUNS) -> dict[str, float]:
    """Median wall time (seconds) of each command over ``runs`` interleaved rounds."""
    from modec.compiler.pipeline import compile_mode

    with tempfile.TemporaryDirectory() as tmp:
        artifact = compile_mode(_bundled("development_mode.yaml")).write(
            Path(tmp) / "development_mode.modec"
        )
        commands = _commands(artifact)
        drop = ("PYTHONDONTWRITEBYTECODE", "MODEC_NO_CACHE")
        env = {k: v for k, v in os.environ.items() if k not in drop}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        env["MODEC_CACHE_DIR"] = str(Path(tmp) / "cache")
        for argv in commands.values():  # warm the file cache, the bytecode, the lint cache
            _once(argv, env)
        _check_lint_hits(commands["lint"], env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                times[name].append(_once(argv, env))
    return {name: statistics.median(values) for name, values in times.items()}


def run(runs: int = RUNS) -> list[str]:
    """The report: each command's median, its ratio to ``python -c pass``, PASS or MISS."""
    medians = measure(runs)
    base = medians["pass"]
    lines = [f"cold CLI, median of {runs} interleaved runs; python -c pass {base * 1000:.1f} ms"]
    labels = {
        "route": 'modec route --mode X.modec "…"',
        "help": "modec --help",
        "lint": "modec lint development_mode.yaml (hit)",
    }
    for name, limit in TARGETS.items():
        ratio = medians[name] / base
        verdict = "PASS" if ratio <= limit else "MISS"
        lines.append(
            f"  {labels[name]:<40} {medians[name] * 1000:7.1f} ms  "
            f"{ratio:5.2f}x  (target <= {limit:g}x)  {verdict}"
        )
    for name, label in (
        ("route json", "modec route --json (not a target)"),
        ("lint no-cache", "modec lint --no-cache (not a target)"),
    ):
        lines.append(f"  {label:<40} {medians[name] * 1000:7.1f} ms  {medians[name] / base:5.2f}x")
    for floor, (command, code) in FLOORS.items():
        extra = (medians[command] - medians[floor]) * 1000
        lines.append(
            f"  floor {code:<54} {medians[floor] * 1000:7.1f} ms  "
            f"{medians[floor] / base:5.2f}x  (`{command}` takes {extra:.0f} ms more)"
        )
    return lines


if __name__ == "__main__":
    print("\n".join(run(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS)))
