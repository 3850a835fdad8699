"""Completion contexts read from text alone (no server), including text that is not YAML yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from modec.lsp.completion import complete, expression_items
from modec.lsp.context import cursor_context
from modec.lsp.documents import analyse_document

MODE = Path(__file__).parents[2] / "modec" / "modes" / "development_mode.yaml"


def _labels(text: str, marker: str = "‸", snapshot: str | None = None) -> set[str]:
    """Completion labels at the marker (removed from the text).

    The last compiled snapshot is the bundled development mode (for its roles and rules),
    or ``snapshot``.
    """
    offset = text.index(marker)
    text = text.replace(marker, "")
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    analysis = analyse_document(MODE.as_uri(), snapshot or MODE.read_text(), 1, {})
    return {item.label for item in complete(analysis, text, line, column)}


def test_top_level_keys() -> None:
    labels = _labels("mode_metadata:\n  name: x\nta‸")
    assert {"task_routing_rules", "task_orchestrator", "mode_configuration", "tests"} <= labels


def test_configuration_keys_and_values() -> None:
    assert "hit_policy" in _labels("mode_configuration:\n  hi‸")
    assert {"first", "unique", "collect"} <= _labels("mode_configuration:\n  hit_policy: ‸")
    assert "very_complex" in _labels("mode_configuration:\n  default_complexity: ‸")


def test_rule_names_offer_the_builtin_types() -> None:
    text = "task_orchestrator:\n  role_definition: x\ntask_routing_rules:\n  sec‸"
    labels = _labels(text, snapshot=text.replace("‸", ""))
    assert {"security_tasks", "general_tasks"} <= labels
    # rules the buffer already has are not offered again
    assert "hotfix_tasks" not in _labels("task_routing_rules:\n  ‸")
    assert "security_tasks" not in _labels("task_routing_rules:\n  ‸")


def test_role_lists_block_and_flow() -> None:
    block = _labels("validation_rules:\n  required_roles:\n    - ‸")
    flow = _labels("validation_rules:\n  required_roles: [architect, ‸")
    assert {"architect", "implementer", "release_manager"} <= block
    assert block == flow


def test_tests_items() -> None:
    assert {"expect_type", "expect_specialist", "task"} <= _labels("tests:\n  - task: x\n    ‸")
    assert "hotfix_tasks" in _labels("tests:\n  - task: x\n    expect_type: ‸")


def test_when_inside_a_block_scalar() -> None:
    text = "task_routing_rules:\n  x_tasks:\n    when: >\n      complexity >= ‸"
    assert {"simple", "very_complex"} <= _labels(text)


@pytest.mark.parametrize(
    ("prefix", "expected", "absent"),
    [
        ("", {"title", "tags", "not", "metadata."}, {"and"}),
        ("title ", {"contains", "mentions", "matches", "startswith"}, {"title"}),
        ("tags ", {"contains"}, {"matches", "<"}),
        ("complexity ", {"<=", "in"}, {"contains"}),
        ('title contains "x" ', {"and", "or"}, {"title"}),
        ("title mentions ", {"any(...)", "all(...)"}, set()),
        ("not (", {"description", "text"}, set()),
    ],
)
def test_expression_items(prefix: str, expected: set[str], absent: set[str]) -> None:
    labels = {i.label for i in expression_items(prefix)}
    assert expected <= labels
    assert not (absent & labels)


def test_context_of_a_key_being_typed_in_a_sequence_item() -> None:
    c = cursor_context("tests:\n  - expect_type: x\n    exp", 3, 8)
    assert (c.path, c.in_value, c.partial) == (("tests", "-"), False, "exp")
