"""The generated JSON Schema and the compiler agree (issue 9).

The schema accepts every document the ``modec.testing`` strategies generate and every file the
compiler accepts without errors, and rejects every file the compiler rejects with MC101 (wrong
type) or MC103 (unknown key). Checked with a real validator (``jsonschema``).
"""

from __future__ import annotations

from typing import Any

import jsonschema
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from modec.compiler.ir import ModeFile
from modec.compiler.pipeline import compile_text
from modec.compiler.schema import mode_file_schema
from modec.compiler.source import load_bytes
from modec.compiler.surface import (
    ConfigurationSurface,
    MetadataSurface,
    OrchestratorSurface,
    RuleSurface,
    TaskSurface,
    TestSurface,
    ValidationSurface,
    mode_document,
    to_plain,
)
from modec.testing import mode_documents, modes

VALIDATOR = jsonschema.Draft202012Validator(mode_file_schema())


def instance(text: str) -> Any:
    loaded = load_bytes(text.encode("utf-8", "surrogatepass"), "doc.yaml")
    assert loaded.root is not None
    return to_plain(loaded.root)


def codes(text: str) -> set[str]:
    c = compile_text(text, "doc.yaml", until="build")
    return {d.code for d in c.diagnostics if d.is_error}


@given(mode_documents())
def test_schema_accepts_every_generated_document(text: str) -> None:
    assert VALIDATOR.is_valid(instance(text)), list(VALIDATOR.iter_errors(instance(text)))
    assert not codes(text) & {"MC101", "MC103", "MC104"}


@settings(max_examples=60)
@given(modes())
def test_schema_accepts_the_document_of_every_generated_mode(mode: ModeFile) -> None:
    text = yaml.safe_dump(mode_document(mode), allow_unicode=True, sort_keys=False)
    assert VALIDATOR.is_valid(instance(text)), list(VALIDATOR.iter_errors(instance(text)))
    assert not codes(text) & {"MC101", "MC103", "MC104"}


# A valid mode, then one section replaced by arbitrary keys and values: known keys, near
# misses, x_ keys and strangers, with values of every YAML type.
def _keys(*models: type[Any]) -> list[str]:
    known = [k for m in models for k in m.model_fields]
    typos = [k[:-1] for k in known] + [k[0] + k[2] + k[1] + k[3:] for k in known if len(k) > 3]
    return sorted(set(known + typos + ["x_" + k for k in known[:3]] + ["owner", "note"]))


VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-6, 6),
        st.floats(-9.5, 9.5),
        st.sampled_from(
            [
                "",
                " ",
                "word",
                "first",
                "unique",
                "moderate",
                "word",
                "substring",
                "title",
                "default_roles.yaml",
                "implementer",
                'title contains "x"',
                "a, b",
                "../x.yaml",
            ]
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "title", "x_y"]), inner, max_size=2),
    ),
    max_leaves=6,
)
SECTIONS = {
    "mode_configuration": _keys(ConfigurationSurface),
    "mode_metadata": [k for k in _keys(MetadataSurface) if k != "extends"],
    "validation_rules": _keys(ValidationSurface),
    "rule": _keys(RuleSurface),
    "role": _keys(OrchestratorSurface),
    "test": _keys(TestSurface),
    "task": _keys(TaskSurface),
}
BASE: dict[str, Any] = {
    "task_orchestrator": {"role_definition": "o", "specialist_roles": {"implementer": "i"}},
    "implementer": {"role_definition": "i"},
}


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    section = draw(st.sampled_from(sorted(SECTIONS)))
    body = draw(st.dictionaries(st.sampled_from(SECTIONS[section]), VALUES, max_size=4))
    doc = {k: dict(v) for k, v in BASE.items()}
    if section == "rule":
        doc["task_routing_rules"] = {"testing_tasks": body}
    elif section == "role":
        doc["reviewer"] = {"role_definition": "r", **body}
        doc["task_orchestrator"]["specialist_roles"]["reviewer"] = "r"
    elif section == "test":
        doc["tests"] = [{"task": "t", **body}]
    elif section == "task":
        doc["tests"] = [{"task": body, "expect_type": "general_tasks"}]
    else:
        doc[section] = body
    return section, yaml.safe_dump(doc, allow_unicode=True)


#: Compiler errors the schema cannot see: meaning (a condition, an undefined role, bounds
#: that contradict each other, `field` without `keywords`, a task expecting nothing).
_SEMANTIC = {
    "MC104",
    "MC206",
    "MC207",
    "MC208",
    "MC202",
    "MC203",
    "MC301",
    "MC302",
    "MC303",
    "MC305",
    "MC306",
    "MC401",
    "MC402",
    "MC403",
    "MC404",
    "MC405",
    "MC406",
    "MC501",
    "MC502",
    "MC106",
    "MC108",
    "MC204",
    "MC205",
}


@settings(max_examples=300)
@given(mutated())
def test_schema_and_compiler_agree(case: tuple[str, str]) -> None:
    section, text = case
    found = codes(text)
    valid = VALIDATOR.is_valid(instance(text))
    if not found:
        event(f"{section}: compiler accepts")
        assert valid, (text, list(VALIDATOR.iter_errors(instance(text))))
    if found & {"MC101", "MC103"}:
        event(f"{section}: MC101/MC103")
        assert not valid, (text, found)
