"""The canonical IR is written directly, byte for byte as ``canonical_json(_canon(doc))``.

:func:`modec.compiler.artifact.canonical_ir` writes the IR's own types (models, tuples, text,
whole numbers, booleans, null, dicts) without building the JSON-ready copy first, and sends
anything else through ``_canon`` and ``json.dumps``. The mode hash is of those bytes, so they
must equal the copy's JSON on every mode and every odd value a mode can hold.
"""

from __future__ import annotations

import collections
import enum
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from benchmarks.compile import mode_text
from modec.compiler import artifact
from modec.compiler.build import bundled_mode_path
from modec.compiler.pipeline import compile_path, compile_text
from tests.conftest import CASES, CORPUS

MODES = Path(str(bundled_mode_path("default_roles.yaml"))).parent
FILES = sorted([*MODES.glob("*.yaml"), *CASES.glob("*.yaml"), *CORPUS.glob("*.yaml")])

ODD = """\
mode_metadata:
  name: odd
  x_data: {1: one, 2.5: [1.0, 1.5, .inf, -.inf, .nan, true, null, "\\u00e9\\u2028"]}
mode_configuration:
  my_setting: {b: 1.0, a: [2.0, {z: null, "": 0}], true: yes, 3: -0.0}
  other: 1e400
task_orchestrator:
  role_definition: "x \\"quoted\\" \\\\ and \\t tab"
  x_free: {nested: {deeper: [0.1, 10.0, 1e16]}}
  specialist_roles: {b_role: "B", a_role: "A"}
task_routing_rules:
  z_tasks:
    keywords: ["zé", "ß"]
    x_note: 2.0
  a_tasks:
    when: 'metadata.score >= 1.5 and metadata.name == "n" or complexity in [1, 2]'
tests:
  - task: {title: t, metadata: {f: 1.25, g: 3.0, h: true}}
    expect_type: a_tasks
"""


def _old(mode: Any) -> bytes:
    return artifact.canonical_json(artifact._canon(artifact._ir_doc(mode)))


def test_every_mode_of_the_suite_writes_as_the_copy() -> None:
    checked = 0
    for path in FILES:
        if not path.is_file():
            continue  # a dangling link of the golden cases
        c = compile_path(path, until="build")
        if c.mode is not None:
            assert artifact.canonical_ir(c.mode) == _old(c.mode), path.name
            checked += 1
    bench = compile_text(mode_text(), "bench.yaml", until="build")
    assert bench.mode is not None
    assert artifact.canonical_ir(bench.mode) == _old(bench.mode)
    assert checked > 40


def test_odd_values_write_as_the_copy() -> None:
    c = compile_text(ODD, "odd.yaml", until="build")
    assert c.mode is not None, c.diagnostics
    assert c.mode.configuration.settings["my_setting"]["b"] == 1.0  # floats made it in
    assert artifact.canonical_ir(c.mode) == _old(c.mode)


class Colour(enum.StrEnum):
    RED = "red"


class Mixed(str, enum.Enum):  # noqa: UP042 - on purpose: its str() is "Mixed.BLUE"
    BLUE = "blue"


class Level(enum.IntEnum):
    HIGH = 3


class Pair(NamedTuple):
    a: int
    b: str


class Text(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        Colour.RED,
        Mixed.BLUE,
        Level.HIGH,
        Pair(1, "x"),
        Text("t"),
        collections.OrderedDict([("b", 1), ("a", 2.0)]),
        {Mixed.BLUE: 1, "blue": 2, 1: "i", None: "n"},
        {True: "t", 2: "two", "2": "text"},
        {"k": [Level.HIGH, Colour.RED, (1.0, 0.5), {3: float("inf")}]},
        [float("nan"), -0.0, 1e16, 2.5e-8, 10**30],
        [],
        {},
        "\ud800 surrogate and \x00 nul and \u2028",
    ],
)
def test_values_outside_the_ir_types_write_as_the_copy(value: Any) -> None:
    out: list[str] = []
    artifact._write(value, out)
    written = "".join(out).encode("utf-8", "surrogatepass")
    assert written == artifact.canonical_json(artifact._canon(value))
