"""What a cold process loads on the compiler's paths (issue 11): module lists, never times.

Each check runs in a fresh interpreter, since this one has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT = ROOT / "modec" / "modes" / "development_mode.yaml"
DOCUMENTATION = ROOT / "modec" / "modes" / "documentation_mode.yaml"


def loaded_after(code: str) -> dict[str, object]:
    """Run ``code`` in a new interpreter; the modules it left loaded, and what it printed
    (``code`` may set ``out``, a JSON-able value)."""
    script = f"import json, sys\nout = None\n{code}\nprint(json.dumps([sorted(sys.modules), out]))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
    )
    modules, out = json.loads(done.stdout.splitlines()[-1])
    return {"modules": set(modules), "out": out}


def test_asking_whether_a_path_is_foreign_loads_no_importer_and_no_exporter() -> None:
    found = loaded_after("from modec.interop import is_foreign\nis_foreign('x/.roomodes')")
    modules = found["modules"]
    assert isinstance(modules, set)
    assert "modec.interop.lint" in modules
    for heavy in (
        "modec.interop.importer",
        "modec.interop.export",
        "modec.interop.roo",
        "modec.interop.claude",
        "modec.interop.model",
        "modec.compiler.pipeline",
    ):
        assert heavy not in modules, heavy


def test_the_compiler_pipeline_loads_no_interop_analysis_or_regex_engine() -> None:
    modules = loaded_after("import modec.compiler.pipeline")["modules"]
    assert isinstance(modules, set)
    assert not {m for m in modules if m.startswith(("modec.interop", "modec.compiler.analysis"))}
    assert not {"lark", "re2", "pysat", "ahocorasick", "modec.runtime"} & modules


def test_a_mode_without_conditions_compiles_without_the_condition_parser() -> None:
    roles = ROOT / "modec" / "modes" / "default_roles.yaml"
    assert "when:" not in roles.read_text(encoding="utf-8")
    code = (
        "from pathlib import Path\n"
        "from modec.compiler.pipeline import compile_path\n"
        f"c = compile_path(Path({str(roles)!r}))\n"
        "out = c.ok and c.artifact is not None"
    )
    found = loaded_after(code)
    modules = found["modules"]
    assert isinstance(modules, set)
    assert found["out"] is True
    assert "lark" not in modules and "modec.grammar.parser" not in modules


def test_linting_loads_neither_interop_nor_the_runtime() -> None:
    code = (
        "from pathlib import Path\n"
        "from modec.compiler.pipeline import compile_path\n"
        f"c = compile_path(Path({str(DEVELOPMENT)!r}), until='check')\n"
        "out = [c.ok, sorted({d.code for d in c.diagnostics})]"
    )
    found = loaded_after(code)
    modules = found["modules"]
    assert isinstance(modules, set)
    assert found["out"] == [True, []]
    assert "modec.compiler.analysis.run" in modules
    assert not {m for m in modules if m.startswith(("modec.interop", "modec.runtime"))}


@pytest.mark.parametrize(("mode", "regex"), [(DEVELOPMENT, True), (DOCUMENTATION, False)])
def test_re2_is_loaded_only_for_a_mode_with_a_regular_expression(mode: Path, regex: bool) -> None:
    assert ("matches" in mode.read_text(encoding="utf-8")) is regex
    code = (
        "from pathlib import Path\n"
        "from modec.compiler.pipeline import compile_path\n"
        f"c = compile_path(Path({str(mode)!r}), until='check')\n"
        "out = c.ok"
    )
    found = loaded_after(code)
    modules = found["modules"]
    assert isinstance(modules, set)
    assert found["out"] is True
    assert ("re2" in modules) is regex


def test_the_condition_parser_is_loaded_from_its_tables_not_built() -> None:
    code = (
        "import lark.load_grammar as lg\n"
        "calls = []\n"
        "real = lg.load_grammar\n"
        "lg.load_grammar = lambda *a, **k: calls.append(1) or real(*a, **k)\n"
        "import lark.lark\n"
        "lark.lark.load_grammar = lg.load_grammar\n"
        "from modec.grammar.parser import parse_condition\n"
        "from modec.diagnostics import Span\n"
        "loc = lambda s, e: Span(file='m', line=1, column=1 + s, end_line=1, end_column=1 + e)\n"
        'expr, diags = parse_condition(\'title contains "a" or tags contains "b"\', loc)\n'
        "out = [expr is not None, diags == [], len(calls)]"
    )
    assert loaded_after(code)["out"] == [True, True, 0]


MODE = """\
task_orchestrator:
  role_definition: o
  specialist_roles: {implementer: b}
implementer: {role_definition: b}
task_routing_rules:
  t:
    keywords: [KEYWORD]
    match: MATCH
    required_specialist: implementer
"""


def test_the_word_list_is_read_only_for_a_lint_that_checks_substring_keywords() -> None:
    code = (
        "from modec.compiler.pipeline import compile_text\n"
        "from modec.compiler.analysis import hazards\n"
        "reads = []\n"
        "for kw, match in [('alpha', 'word'), ('test', 'substring')]:\n"
        f"    text = {MODE!r}.replace('KEYWORD', kw).replace('MATCH', match)\n"
        "    c = compile_text(text.encode(), 'm.yaml', until='check')\n"
        "    assert c.ok, c.diagnostics\n"
        "    reads.append(hazards._sections.cache_info().currsize)\n"
        "out = reads"
    )
    assert loaded_after(code)["out"] == [0, 1]
