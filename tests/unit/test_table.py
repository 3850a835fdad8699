"""The decision table: row order, fallback, default specialist, scanner plan, serialisation."""

from __future__ import annotations

import pytest

from modec.compiler.ir import BUILTIN_ORDER
from modec.compiler.pipeline import compile_text
from modec.compiler.table import (
    DecisionTable,
    Row,
    ScannerPlan,
    build_table,
    default_specialist,
)
from modec.testing import make_mode, make_rule


def names(table: DecisionTable) -> list[str]:
    return [row.name for row in table.rows]


# --------------------------------------------------------------------------- row order


def test_implicit_builtins_come_first_in_classic_order_then_file_order() -> None:
    mode = make_mode([make_rule("zeta_tasks", ["z"]), make_rule("alpha_tasks", ["a"])])
    assert names(build_table(mode)) == [*BUILTIN_ORDER, "zeta_tasks", "alpha_tasks"]


def test_named_builtins_keep_classic_rank_whatever_their_file_position() -> None:
    mode = make_mode(
        [
            make_rule("custom_tasks", ["c"], line=2),
            make_rule("documentation_tasks", line=3),
            make_rule("security_tasks", line=4, required_specialist="implementer"),
        ]
    )
    assert names(build_table(mode)) == [*BUILTIN_ORDER, "custom_tasks"]


def test_priority_beats_builtin_rank_and_file_order() -> None:
    mode = make_mode(
        [
            make_rule("low_tasks", ["l"], priority=-1),
            make_rule("plain_tasks", ["p"]),
            make_rule("hot_tasks", ["h"], priority=10),
            make_rule("warm_tasks", ["w"], priority=10),
            make_rule("testing_tasks", priority=3),
        ]
    )
    assert names(build_table(mode)) == [
        "hot_tasks",
        "warm_tasks",
        "testing_tasks",
        "security_tasks",
        "performance_tasks",
        "documentation_tasks",
        "plain_tasks",
        "low_tasks",
    ]


def test_builtin_type_with_its_own_keywords_keeps_its_classic_rank() -> None:
    # DESIGN §2: a builtin type is a builtin type by name, whatever its condition.
    mode = make_mode([make_rule("custom_tasks", ["c"]), make_rule("security_tasks", ["breach"])])
    assert names(build_table(mode)) == [
        "security_tasks",
        "performance_tasks",
        "testing_tasks",
        "documentation_tasks",
        "custom_tasks",
    ]


def test_no_builtins_when_the_builder_adds_none() -> None:
    mode = make_mode([make_rule("only_tasks", ["x"])], builtin_task_types=False)
    assert names(build_table(mode)) == ["only_tasks"]


def test_general_tasks_without_condition_is_the_fallback_not_a_row() -> None:
    mode = make_mode(
        [
            make_rule(
                "general_tasks",
                required_specialist="implementer",
                secondary_review=("architect",),
                complexity_boost=1,
                line=9,
            )
        ],
        specialists=("implementer", "architect"),
    )
    table = build_table(mode)
    assert "general_tasks" not in names(table)
    assert table.fallback.specialist == "implementer"
    assert table.fallback.secondary_review == ("architect",)
    assert table.fallback.complexity_boost == 1
    assert table.fallback.source == "mode.yaml:9"


def test_general_tasks_with_a_condition_is_a_row_and_the_fallback_remains() -> None:
    mode = make_mode(
        [make_rule("general_tasks", 'title startswith "misc"', required_specialist="architect")],
        specialists=("implementer", "architect"),
    )
    table = build_table(mode)
    assert "general_tasks" in names(table)
    assert table.fallback.name == "general_tasks"
    assert table.fallback.specialist == "architect"  # general_tasks' specialist is the default
    assert table.fallback.source is None


def test_row_fields_and_default_specialist_for_unnamed_rows() -> None:
    mode = make_mode(
        [
            make_rule(
                "hot_tasks",
                ["h"],
                line=7,
                required_specialist="debugger",
                secondary_review=("reviewer",),
                complexity_boost=2,
                parallel_execution=False,
                priority=4,
            )
        ],
        specialists=("implementer", "debugger", "reviewer"),
    )
    table = build_table(mode)
    hot = table.row("hot_tasks")
    assert isinstance(hot, Row)
    assert hot.specialist == "debugger"
    assert hot.secondary_review == ("reviewer",)
    assert (hot.complexity_boost, hot.parallel_execution, hot.priority) == (2, False, 4)
    assert hot.source == "mode.yaml:7"
    assert table.row("security_tasks").specialist == "implementer"
    with pytest.raises(KeyError):
        table.row("nope_tasks")


# --------------------------------------------------------------------------- default specialist


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"default_specialist": "reviewer"}, "reviewer"),
        ({"general": "architect"}, "architect"),
        ({}, "implementer"),
        (
            {"specialists": ("tester", "architect", "reviewer"), "defined": ("architect",)},
            "architect",
        ),
        ({"specialists": ("tester", "architect"), "defined": ()}, "tester"),
        ({"specialists": ()}, None),
    ],
)
def test_default_specialist_chain(kwargs: dict[str, object], expected: str | None) -> None:
    specialists = kwargs.pop("specialists", ("architect", "implementer", "reviewer"))
    defined = kwargs.pop("defined", None)
    general = kwargs.pop("general", None)
    rules = [make_rule("general_tasks", required_specialist=general)] if general else []
    mode = make_mode(rules, specialists=specialists, defined=defined, **kwargs)  # type: ignore[arg-type]
    assert default_specialist(mode) == expected
    table = build_table(mode)
    assert table.default_specialist == expected
    assert table.fallback.specialist == expected


def test_configured_default_wins_over_general_tasks() -> None:
    mode = make_mode(
        [make_rule("general_tasks", required_specialist="architect")],
        specialists=("architect", "reviewer"),
        default_specialist="reviewer",
    )
    table = build_table(mode)
    assert table.default_specialist == "reviewer"
    assert table.fallback.specialist == "architect"


# --------------------------------------------------------------------------- scanner plan


def test_scanner_plan_groups_lowered_literals_by_field_and_kind() -> None:
    mode = make_mode(
        [
            make_rule("a_tasks", 'title contains any("Fix", "BUG") and description mentions "API"'),
            make_rule(
                "b_tasks", 'text contains "fix" or title contains "bug" or title mentions "x"'
            ),
            make_rule(
                "c_tasks",
                'tags contains "hotfix" or title startswith "wip" '
                'or metadata.team contains "core" or title matches /x/',
            ),
        ],
        builtin_task_types=False,
    )
    plan = build_table(mode).scanners
    assert plan == (
        ScannerPlan(field="title", kind="substring", literals=("fix", "bug")),
        ScannerPlan(field="title", kind="word", literals=("x",)),
        ScannerPlan(field="description", kind="word", literals=("api",)),
        ScannerPlan(field="text", kind="substring", literals=("fix",)),
    )


def test_scanner_plan_lowers_with_str_lower() -> None:
    mode = make_mode(
        [make_rule("u_tasks", ["İstanbul", "KELVIN", "ſtraße"])], builtin_task_types=False
    )
    (plan,) = build_table(mode).scanners
    assert plan.literals == ("i̇stanbul", "kelvin", "ſtraße")


def test_classic_plan_is_one_scanner_of_twenty_literals() -> None:
    (plan,) = build_table(make_mode()).scanners
    assert (plan.field, plan.kind, len(plan.literals)) == ("description", "substring", 20)


# --------------------------------------------------------------------------- serialisation


def test_table_json_round_trip() -> None:
    mode = make_mode(
        [
            make_rule(
                "hot_tasks",
                'tags contains "hotfix" or (title matches '
                "/^fix(\\(.+\\))?:/i and complexity <= 2) or "
                "metadata.score >= 2.5 or metadata.team in "
                '["core", 3, true]',
                priority=10,
            )
        ]
    )
    table = build_table(mode)
    again = DecisionTable.model_validate_json(table.model_dump_json())
    assert again == table


# --------------------------------------------------------------------------- from YAML


def test_table_from_yaml_mode() -> None:
    text = """\
task_orchestrator:
  role_definition: "o"
  specialist_roles: {implementer: "i", debugger: "d"}
implementer: {role_definition: "i"}
debugger: {role_definition: "d"}
task_routing_rules:
  release_tasks:
    keywords: [Release, changelog]
    field: text
  hotfix_tasks:
    when: 'tags contains "hotfix"'
    required_specialist: debugger
    priority: 10
  testing_tasks: {}
"""
    c = compile_text(text, "m.yaml", until="table")
    assert c.ok, c.diagnostics
    assert c.table is not None
    # No hidden rows (DESIGN §2): only the rows the file names, the builtin one at its rank.
    assert names(c.table) == ["hotfix_tasks", "testing_tasks", "release_tasks"]
    assert c.table.row("hotfix_tasks").source == "m.yaml:10"
    assert c.table.row("release_tasks").specialist == "implementer"
    assert ScannerPlan(field="text", kind="substring", literals=("release", "changelog")) in (
        c.table.scanners
    )


def test_builtin_task_types_true_brings_the_classic_rows_back_with_a_note() -> None:
    text = """\
mode_configuration:
  builtin_task_types: true
task_orchestrator:
  role_definition: "o"
  specialist_roles: {implementer: "i"}
implementer: {role_definition: "i"}
task_routing_rules:
  release_tasks:
    keywords: [release]
  testing_tasks: {}
"""
    c = compile_text(text, "m.yaml", until="table")
    assert c.ok, c.diagnostics
    assert c.table is not None
    assert names(c.table) == [*BUILTIN_ORDER, "release_tasks"]
    assert [r.implicit for r in c.table.rows] == [True, True, False, True, False]
    notes = [d for d in c.diagnostics if d.code == "MC308"]
    assert len(notes) == 1
    assert notes[0].span is not None and (notes[0].span.line, notes[0].span.column) == (2, 23)
    for name in ("security_tasks", "performance_tasks", "documentation_tasks"):
        assert name in notes[0].message
    assert "testing_tasks" not in notes[0].message.split("(")[0]


@pytest.mark.parametrize(
    ("setting", "rows"),
    [
        ("", ["testing_tasks"]),  # only builtin names, no condition of its own: classic law
        ("  builtin_task_types: false\n", ["testing_tasks"]),
    ],
)
def test_builtin_rows_without_custom_conditions(setting: str, rows: list[str]) -> None:
    text = (
        "mode_configuration:\n  hit_policy: first\n"
        + setting
        + "task_orchestrator:\n  role_definition: o\n  specialist_roles: {implementer: i}\n"
        "implementer: {role_definition: i}\n"
        "task_routing_rules:\n  testing_tasks: {required_specialist: implementer}\n"
    )
    c = compile_text(text, "m.yaml", until="table")
    assert c.ok, c.diagnostics
    assert c.table is not None
    expected = [*BUILTIN_ORDER] if not setting else rows
    assert names(c.table) == expected
    assert not [d for d in c.diagnostics if d.code == "MC308"]
