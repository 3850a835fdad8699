"""Seeded mutation fuzzing of mode files, through the compiler and through `modec lint`.

Seeds are real files (the bundled modes, the golden cases, the conformance corpus); each case
applies a few mutations chosen by a seeded generator (line edits, byte noise, truncation and
the hostile values of issue 15: integers past Python's digit limit, sexagesimal chains, deep
nesting, alias bombs, pathological regexes, huge keywords, NUL and broken UTF-8). The work is
bounded by counts, never by time; every case must end in diagnostics, never an exception,
with every span inside the file. A failure prints the seed file and the case number, so it
can be replayed with ``case(seed_index, n)``.
"""

from __future__ import annotations

import io
import random
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Final

import pytest

from modec.cli import run
from modec.compiler.pipeline import compile_text
from modec.compiler.positions import split_lines

ROOT = Path(__file__).resolve().parents[2]
SEEDS: Final = sorted(
    p
    for p in [
        *(ROOT / "modec" / "modes").glob("*.yaml"),
        *(ROOT / "tests" / "cases").glob("*.yaml"),
        *(ROOT / "tests" / "conformance" / "corpus").glob("*.yaml"),
    ]
    if p.is_file()  # not the dangling-link case
)
SEED: Final = 20261201
CASES: Final = 2000
CLI_CASES: Final = 150

HOSTILE: Final[tuple[bytes, ...]] = (
    b"    priority: 0x" + b"f" * 3600 + b"\n",
    b"    complexity_boost: " + b"1:" * 5000 + b"1\n",
    b"mode_configuration:\n  max_subtask_depth: " + b"9" * 5000 + b"\n",
    b"x: " + b"[" * 400 + b"]" * 400 + b"\n",
    b"a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
    b"    when: 'title matches /(a+)+$/ and title matches /(?=x)y/'\n",
    b"    keywords: [" + b"a" * 100_000 + b"]\n",
    b"    when: '" + b"(" * 200 + b"true" + b")" * 200 + b"'\n",
    b"\x00\x01\x02",
    b"\xff\xfe\xed\xa0\x80",
    b"\t- tab: indented\n",
    b"key: 'unclosed\n",
    b"mode_metadata:\n  extends: " + b"x" * 5000 + b".yaml\n",
    b"mode_metadata:\n  extends: ../../../../etc/passwd\n",
    b"!!python/object/apply:os.system ['true']\n",
    b"\x0b\x0c\r\x85",
    b"---\n---\n",
    b"? [a, b]\n: c\n",
)


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rnd.randint(1, 4)):
        kind = rnd.randrange(8)
        if kind == 0 and len(lines) > 1:
            del lines[rnd.randrange(len(lines))]
        elif kind == 1 and lines:
            i = rnd.randrange(len(lines))
            lines.insert(i, lines[i])
        elif kind == 2 and len(lines) > 1:
            i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 3:
            lines.insert(rnd.randrange(len(lines) + 1), rnd.choice(HOSTILE).rstrip(b"\n"))
        elif kind == 4 and lines:
            i = rnd.randrange(len(lines))
            line = bytearray(lines[i])
            if line:
                line[rnd.randrange(len(line))] = rnd.randrange(256)
            lines[i] = bytes(line)
        elif kind == 5 and lines:
            i = rnd.randrange(len(lines))
            lines[i] = b" " * rnd.randrange(7) + lines[i].lstrip()
        elif kind == 6:
            joined = b"\n".join(lines)
            lines = joined[: rnd.randrange(len(joined) + 1)].split(b"\n")
        else:
            lines.append(rnd.choice(HOSTILE))
    return b"\n".join(lines)


def case(seed_index: int, n: int) -> bytes:
    """The ``n``-th fuzz case made from ``SEEDS[seed_index]`` (reproducible)."""
    rnd = random.Random(f"{SEED}:{seed_index}:{n}")
    return _mutate(SEEDS[seed_index].read_bytes(), rnd)


def _plan(count: int, salt: int) -> list[tuple[int, int]]:
    rnd = random.Random(SEED + salt)
    return [(rnd.randrange(len(SEEDS)), n) for n in range(count)]


def _check_spans(data: bytes, diagnostics: list[object]) -> None:
    text = data.decode("utf-8", "replace")
    lines = len(split_lines(text))
    for d in diagnostics:
        span = getattr(d, "span", None)
        if span is None or span.file != "fuzz.yaml":
            continue
        assert 1 <= span.line <= lines + 1, (span, lines)
        assert (span.line, span.column) <= (span.end_line, span.end_column), span


def test_seeds_are_there() -> None:
    assert len(SEEDS) > 50


@pytest.mark.parametrize("chunk", range(8))
def test_mutated_mode_files_compile_to_diagnostics(chunk: int, tmp_path: Path) -> None:
    plan = _plan(CASES, 0)
    for seed_index, n in plan[chunk::8]:
        data = case(seed_index, n)
        try:
            c = compile_text(data, "fuzz.yaml", base_dir=tmp_path)
        except Exception as exc:  # pragma: no cover - a failure is the finding
            pytest.fail(f"case({seed_index}, {n}) from {SEEDS[seed_index].name}: {exc!r}")
        _check_spans(data, c.diagnostics)
        if c.ok:
            assert c.artifact is not None


def test_mutated_mode_files_through_the_command_line(tmp_path: Path) -> None:
    for seed_index, n in _plan(CLI_CASES, 1):
        path = tmp_path / f"case_{n}.yaml"
        path.write_bytes(case(seed_index, n))
        for argv in (
            ["lint", str(path)],
            ["lint", "--format", "json", str(path)],
            ["compile", str(path), "--out", str(tmp_path) + "/"],
        ):
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = run(argv)
            where = f"case({seed_index}, {n}) {argv[0]}"
            assert code in (0, 1, 2), where
            assert "Traceback" not in err.getvalue(), where
            assert "internal error" not in err.getvalue(), (where, err.getvalue()[-500:])
