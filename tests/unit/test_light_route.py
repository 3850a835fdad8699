"""The cold route (:mod:`modec.runtime.light`) decides exactly as the router, or defers to it.

Every decision the light reader gives is compared with :class:`~modec.runtime.router.Router`'s
on the bundled modes and on generated tables and tasks; payloads the artifact's models would
coerce or refuse make it defer (None); its shape check names the models' own fields; and a
routing command on an artifact never imports pydantic (counted in a real subprocess).
"""

from __future__ import annotations

import copy
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from modec.cli.inputs import _scalar
from modec.compiler.artifact import Artifact, build_artifact
from modec.compiler.build import bundled_mode_path
from modec.compiler.framing import frame
from modec.compiler.ir import COMPLEXITY_NAMES, ModeConfiguration, Role, SourceRef
from modec.compiler.pipeline import compile_mode, compile_path
from modec.compiler.table import DecisionTable, FallbackRow, Row, ScannerPlan, build_table
from modec.grammar import ast
from modec.runtime import decision, light
from modec.runtime.router import AmbiguousRouteError, Task, load_router
from modec.runtime.taskfile import loads_finite
from modec.testing import VOCABULARY, modes, tasks

LIGHT, VALUES = "modec.runtime.light", "modec.compiler.values"
DEV = Path(bundled_mode_path("development_mode.yaml") or "")
BUNDLED = sorted(DEV.parent.glob("*.yaml"))


def _fields(d: Any) -> tuple[Any, ...]:
    return (
        d.task_type,
        d.specialist,
        d.complexity,
        tuple(d.secondary_review),
        d.matches,
        d.parallel_execution,
        d.source,
        d.mode_hash,
    )


def _agree(data: bytes, task: Task) -> str:
    """Light and router agree on ``task``; what happened ("light" or "deferred")."""
    table = light.read_light(data)
    assert table is not None
    router = load_router(data)
    got = table.route(task.title, task.description, task.tags, task.complexity, task.metadata)
    try:
        want = router.route(task)
    except AmbiguousRouteError:
        assert got is None, "the light route decided a task the router finds ambiguous"
        return "deferred"
    assert got is not None
    assert _fields(got) == _fields(want)
    assert got.to_dict() == want.to_dict(evidence=True)
    return "light"


def _artifact(path: Path) -> bytes:
    return compile_mode(path).to_bytes()


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_modes_route_alike(path: Path) -> None:
    data = _artifact(path)
    texts = ["", "fix the crash on save", "Fix: login", "security audit", "slow latency"]
    texts += [f"{a} {b}" for a, b in itertools.pairwise(VOCABULARY)]
    texts += ["security audit test docs slow " * 40, "İstanbul SECURITY ſecurity TEST"]
    for title in ("", "fix: crash", "feat(ui): button", f"fix({'x' * 300}): İİ long"):
        for text in texts:
            for tags, level in (((), None), (("hotfix",), 2), (("UI", "docs"), 5)):
                task = Task(title=title, description=text, tags=tags, complexity=level)
                assert _agree(data, task) == "light"


@settings(max_examples=200, deadline=None)
@given(modes(), st.lists(tasks(), min_size=1, max_size=4))
def test_generated_tables_route_alike(mode: Any, batch: list[Task]) -> None:
    data = build_artifact(mode, build_table(mode)).to_bytes()
    for task in batch:
        _agree(data, task)


def _doc(data: bytes) -> dict[str, Any]:
    return json.loads(data[52:])


def _framed(doc: dict[str, Any]) -> bytes:
    return frame(json.dumps(doc).encode())


def test_only_the_canonical_shape_is_read() -> None:
    data = _artifact(BUNDLED[0])
    assert light.read_light(data) is not None
    assert light.read_light(_framed(_doc(data))) is not None
    assert light.read_light(data[:-1]) is None  # truncated
    assert light.read_light(data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]) is None  # checksum
    assert light.read_light(b"task_orchestrator: {}\n") is None  # a mode file
    mutations = {
        "coerced int": lambda d: d["table"].__setitem__("default_complexity", "3"),
        "bool for int": lambda d: d["table"]["rows"][0].__setitem__("complexity_boost", True),
        "unknown key": lambda d: d["table"].__setitem__("extra", 1),
        "missing field": lambda d: d["table"]["rows"][0].pop("origin"),
        "unknown kind": lambda d: d["table"]["rows"][0]["condition"].__setitem__("kind", "xor"),
        "bad policy": lambda d: d["table"].__setitem__("hit_policy", "last"),
        "bad span": lambda d: d["configuration"]["span"].__setitem__("line", "1"),
        "role extra": lambda d: next(iter(d["roles"].values())).__setitem__("x", 1),
        "source": lambda d: d["sources"][0].__setitem__("sha256", None),
        "tuple": lambda d: d["table"]["rows"][0].__setitem__("secondary_review", "reviewer"),
    }
    for name, mutate in mutations.items():
        doc = _doc(data)
        mutate(doc)
        assert light.read_light(_framed(doc)) is None, name


def test_a_pattern_the_grammar_refuses_is_deferred() -> None:
    doc = _doc(_artifact(DEV))
    regex = doc["table"]["rows"][0]["condition"]["operands"][1]["operands"][0]
    assert regex["kind"] == "regex"
    for pattern, flags in (("(?=a)b", ""), ("", ""), ("a", "x"), ("\ud800", "")):
        bad = copy.deepcopy(doc)
        bad["table"]["rows"][0]["condition"]["operands"][1]["operands"][0].update(
            pattern=pattern, flags=flags
        )
        assert light.read_light(_framed(bad)) is None, pattern
    good = copy.deepcopy(doc)
    good["table"]["rows"][0]["condition"]["operands"][1]["operands"][0]["flags"] = "i"
    assert light.read_light(_framed(good)) is not None


def test_tasks_the_strict_task_could_refuse_are_deferred() -> None:
    table = light.read_light(_artifact(BUNDLED[0]))
    assert table is not None
    assert table.route("", "x") is not None
    assert table.route("", "x", complexity="Very-Complex") is not None
    assert table.route("", "x", complexity=" 4 ") is not None
    for level in (0, 6, True, "huge", "٣"):
        assert table.route("", "x", complexity=level) is None  # type: ignore[arg-type]
    assert table.route("\ud800", "x") is None  # a lone surrogate
    assert table.route("", "x", tags=("\udcff",)) is None
    assert table.route("", "x" * 1_000_001) is None  # near the size limit
    assert table.route("", "x", metadata={"k": [1]}) is None
    assert table.route("", "x", metadata={"k": "\udc80"}) is None
    assert table.route("", "x", metadata={"k": "v", "n": 2.5, "b": True}) is not None


def test_the_shape_check_names_the_models_fields() -> None:
    models: dict[str, type[BaseModel]] = {
        "Artifact": Artifact,
        "SourceRef": SourceRef,
        "Role": Role,
        "ModeConfiguration": ModeConfiguration,
        "DecisionTable": DecisionTable,
        "Row": Row,
        "FallbackRow": FallbackRow,
        "ScannerPlan": ScannerPlan,
        **{
            name: getattr(ast, name)
            for name in (
                "Const",
                "Not",
                "And",
                "Or",
                "TextMatch",
                "RegexMatch",
                "Compare",
                "InList",
            )
        },
    }
    assert set(light._MODELS) == set(models)
    for name, model in models.items():
        want = {f: info.is_required() for f, info in model.model_fields.items()}
        got = {f: required for f, (_, required) in light._MODELS[name].items()}
        assert got == want, name
        assert model.model_config.get("extra") == "forbid", name


def test_constants_are_their_owners() -> None:
    assert light.COMPLEXITY_NAMES == COMPLEXITY_NAMES
    assert (light.MAX_EVIDENCE, light.MAX_ATOM_EVIDENCE, light.MAX_EVIDENCE_TEXT) == (
        decision.MAX_EVIDENCE,
        decision.MAX_ATOM_EVIDENCE,
        decision.MAX_EVIDENCE_TEXT,
    )


def _cold(*argv: str) -> tuple[str, set[str]]:
    """Run the command line in a fresh interpreter; its output and the modules it loaded."""
    code = (
        "import contextlib, io, json, sys\n"
        "from modec.cli.program import run\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        f"    code = run({list(argv)!r})\n"
        "print(json.dumps([code, buf.getvalue(), sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    rc, out, loaded = json.loads(done.stdout)
    assert rc == 0, done.stderr
    return out, set(loaded)


def test_a_cold_route_on_an_artifact_loads_no_model(tmp_path: Path) -> None:
    path = tmp_path / "dev.modec"
    compile_mode(DEV).write(path)
    task = ["--title", "fix: boom", "--complexity", "2", "crash"]
    out, loaded = _cold("route", "--mode", str(path), *task)
    assert not {m.split(".")[0] for m in loaded} & {"pydantic", "lark", "yaml", "sqlalchemy"}
    ours = {m for m in loaded if m.startswith(("modec.compiler", "modec.grammar", "modec.run"))}
    assert ours == {"modec.compiler", "modec.compiler.framing", VALUES, "modec.runtime", LIGHT}
    # the full path prints the same line
    router = load_router(path)
    d = router.route(Task(title="fix: boom", description="crash", complexity=2))
    review = ", ".join(d.secondary_review) or "-"
    assert out == f"{d.task_type} -> {d.specialist} (complexity {d.complexity}, review {review})\n"
    out, loaded = _cold("route", "--mode", str(path), "--json", *task)
    assert json.loads(out) == d.to_dict(evidence=True) and "pydantic" not in loaded
    # what the light path leaves to the full one still works there
    out, loaded = _cold("route", "--mode", str(path), "--explain", *task)
    assert "hotfix_tasks" in out and "pydantic" in loaded


def test_collected_evidence_is_cut_where_the_routers_is(tmp_path: Path) -> None:
    rules = "\n".join(
        f'  r{i}_tasks:\n    when: \'description contains any("a", "b") or tags contains "t"\''
        for i in range(20)
    )
    doc = f"mode_configuration:\n  hit_policy: collect\n\ntask_routing_rules:\n{rules}\n"
    path = tmp_path / "collect.yaml"
    path.write_text(DEV.with_name("default_roles.yaml").read_text() + "\n" + doc)
    c = compile_path(path)
    assert c.ok and c.artifact is not None, c.diagnostics
    data = c.artifact.to_bytes()
    task = Task(title="x", description="ab " * 50 + "İ" * 3 + "ab", tags=("T", "t"))
    assert _agree(data, task) == "light"
    got = light.read_light(data)
    assert got is not None
    d = got.route(task.title, task.description, task.tags)
    assert d is not None and len(d.evidence) == 100 and len(d.matches) == 20


@pytest.mark.parametrize(
    "text", ["core", "2", "-1.5e3", "true", "null", '"q"', "[1]", "{}", "NaN", "1e999", "", "0x1"]
)
def test_metadata_values_read_as_task_files_read_them(text: str) -> None:
    try:
        value = loads_finite(text)
        want = value if isinstance(value, str | int | float | bool) else text
    except ValueError:
        want = text
    got = _scalar(text)
    assert (type(got), got) == (type(want), want)


def test_a_metadata_rule_routes_alike_from_the_command_line(tmp_path: Path) -> None:
    rules = "  team_tasks:\n    when: 'metadata.team == \"core\" and metadata.n > 1'\n"
    mode = tmp_path / "meta.yaml"
    mode.write_text(
        DEV.with_name("default_roles.yaml").read_text() + "\ntask_routing_rules:\n" + rules
    )
    c = compile_path(mode)
    assert c.ok and c.artifact is not None, c.diagnostics
    path = c.artifact.write(tmp_path / "meta.modec")
    for meta, want in (
        (["team=Core", "n=2"], "team_tasks"),
        (["team=core", "n=1"], "general_tasks"),
    ):
        opts = [a for m in meta for a in ("--metadata", m)]
        out, loaded = _cold("route", "--mode", str(path), "x", "--json", *opts)
        assert json.loads(out)["task_type"] == want and "pydantic" not in loaded
