"""DESIGN §2's compatibility law, over arbitrary Unicode text.

For a version-1 role file, and for any file whose rules have no ``when``, ``keywords`` or
``priority``, the compiled router's task type is the classic ``classify_task_type`` of the
description, and its specialist is ``routing_rules[type].required_specialist``, else the
default specialist. (The law presumes the default configuration that classic files have:
builtin task types on, and a hit policy that takes the first row — ``first`` or ``collect``;
under ``unique`` overlapping classic keywords are an error by design.)
"""

from __future__ import annotations

from functools import cache

from hypothesis import event, given, settings
from hypothesis import strategies as st

from modec.compiler.build import bundled_mode_path
from modec.compiler.ir import FALLBACK_TYPE, ModeFile
from modec.compiler.pipeline import compile_text
from modec.runtime.router import Router, Task, load_router
from modec.testing import TRICKY_TEXT, classic_classify, mode_documents, task_texts

#: MCP Task Orchestrator's version-1 ``default_roles.yaml`` shape: roles only, no rules.
VERSION_1 = """\
task_orchestrator:
  role_definition: "You are a Task Orchestrator focused on breaking down complex tasks"
  expertise:
    - "Breaking down complex tasks into manageable subtasks"
  approach:
    - "Carefully analyze the requirements and context"
  output_format: "Structured task breakdown"
  specialist_roles:
    architect: "System design and architecture planning"
    implementer: "Writing code and implementing features"
    debugger: "Fixing issues and optimizing performance"
    documenter: "Creating documentation and guides"
    reviewer: "Code review and quality assurance"
    tester: "Testing and validation"

architect:
  role_definition: "You are a Senior Software Architect"
  expertise: ["System design"]
  approach: ["Think systematically"]
  output_format: "Architectural plans"

implementer:
  role_definition: "You are a Senior Software Developer"
  expertise: ["Clean code"]
  approach: ["Write readable code"]
  output_format: "Working code"

debugger:
  role_definition: "You are a Debugging Specialist"

documenter:
  role_definition: "You are a Technical Writer"

reviewer:
  role_definition: "You are a Code Reviewer"
"""

#: Arbitrary Unicode, and text built to hit (and nearly hit) the classic keywords.
UNICODE = st.one_of(
    st.text(),
    task_texts(20),
    st.lists(
        st.sampled_from(tuple("securityaudiqvnpformacedsgxlbkSECURITYAQ _-.") + TRICKY_TEXT)
    ).map("".join),
    task_texts(20),
)


def classic_specialist(mode: ModeFile, task_type: str) -> str | None:
    """``routing_rules[type].required_specialist``, else DESIGN §2's default specialist."""
    rules = {r.name: r for r in mode.rules}
    rule = rules.get(task_type)
    if rule is not None and rule.required_specialist:
        return rule.required_specialist
    if mode.configuration.default_specialist:
        return mode.configuration.default_specialist
    general = rules.get(FALLBACK_TYPE)
    if general is not None and general.required_specialist:
        return general.required_specialist
    if "implementer" in mode.roles:
        return "implementer"
    listed = list(mode.specialist_roles)
    return next((n for n in listed if n in mode.roles), listed[0] if listed else None)


@cache
def compiled(text: str) -> tuple[ModeFile, Router]:
    c = compile_text(text, "roles.yaml")
    assert c.ok and c.mode is not None and c.artifact is not None, c.diagnostics
    return c.mode, load_router(c.artifact.to_bytes())


def check_law(
    mode: ModeFile, router: Router, title: str, description: str, record: bool = True
) -> None:
    d = router.route(Task(title=title, description=description))
    expected_type = classic_classify(description)
    assert d.task_type == expected_type
    assert d.specialist == classic_specialist(mode, expected_type)
    if record:
        event(expected_type)


@settings(max_examples=400)
@given(description=UNICODE, title=st.text(max_size=20))
def test_version_1_role_file(description: str, title: str) -> None:
    mode, router = compiled(VERSION_1)
    assert not [r for r in mode.rules if not r.implicit]
    check_law(mode, router, title, description)
    assert router.route(description).specialist == "implementer"


@settings(max_examples=200)
@given(description=UNICODE)
def test_bundled_default_roles(description: str) -> None:
    path = bundled_mode_path("default_roles.yaml")
    assert path is not None
    mode, router = compiled(path.read_text(encoding="utf-8"))
    check_law(mode, router, "", description)


@st.composite
def classic_documents(draw: st.DrawFn) -> str:
    doc = draw(mode_documents(classic=True))
    extra = draw(st.sampled_from(("", "first", "collect")))
    if extra:
        doc += f"mode_configuration:\n  hit_policy: {extra}\n"
    return doc


@settings(max_examples=100)
@given(classic_documents(), st.lists(UNICODE, min_size=1, max_size=8), st.text(max_size=10))
def test_files_without_when_keywords_or_priority(
    doc: str, descriptions: list[str], title: str
) -> None:
    assert "when:" not in doc and "keywords:" not in doc and "priority:" not in doc
    mode, router = compiled(doc)
    for description in descriptions:
        check_law(mode, router, title, description)


def test_the_law_notices_a_broken_lowering() -> None:
    """The generators reach the cases where str.lower() and case folding part ways."""
    mode, router = compiled(VERSION_1)
    for text, expected in [
        ("ſecurity", "general_tasks"),
        ("\u212aQA", "testing_tasks"),
        ("TEſT", "general_tasks"),
        ("İ TEST", "testing_tasks"),
    ]:
        assert classic_classify(text) == expected
        check_law(mode, router, "", text, record=False)
