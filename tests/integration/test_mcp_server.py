"""`modec serve` end to end: the real subprocess driven by the MCP SDK's stdio client.

One server per module serves the error, confinement and malformed-argument tests (each checks
that the server still answers afterwards); the full select → route → switch → status → backup
→ restore flow gets a fresh project and server of its own, so "the project's current session"
is known exactly.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modec.mcp_server import ERROR_TYPES, RECOVERY_HINTS, error_payload
from modec.runtime.sessions import sqlite_url
from tests.integration.mcp_harness import ERROR_KEYS, McpServer

TOOLS = {
    "orchestrator_mode_select",
    "orchestrator_mode_list",
    "orchestrator_mode_validate",
    "orchestrator_mode_create",
    "orchestrator_mode_backup",
    "orchestrator_mode_restore",
    "orchestrator_get_status",
    "orchestrator_route_task",
}
TEN_MB = "x" * (10 * 1024 * 1024)

BROKEN_MODE = """\
task_orchestrator:
  role_definition: "orchestrates"
  specialist_roles:
    implementer: "writes code"
implementer:
  role_definition: "writes code"
task_routing_rules:
  security_tasks:
    required_specialist: securty_auditor
"""
BROKEN_LINE = 9  # the unknown specialist above: MC206

OUTSIDE_MODE = """\
# a valid mode file outside the project's roles directory: never to be read by the server
task_orchestrator:
  role_definition: "SECRET-OUTSIDE-ROLE"
"""


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory outside the project holding a valid mode file."""
    directory = tmp_path_factory.mktemp("outside")
    (directory / "secret.yaml").write_text(OUTSIDE_MODE, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, outside: Path) -> Iterator[McpServer]:
    """One server for the module, on a project with a broken mode and two symlinks out."""
    project = tmp_path_factory.mktemp("project")
    state = tmp_path_factory.mktemp("state")
    with McpServer(project, state) as srv:
        srv.call("orchestrator_mode_select", mode_file="default_roles.yaml")
        roles = project / ".task_orchestrator" / "roles"
        (roles / "broken.yaml").write_text(BROKEN_MODE, encoding="utf-8")
        (roles / "escape.yaml").symlink_to(outside / "secret.yaml")
        (roles / "linkdir").symlink_to(outside, target_is_directory=True)
        yield srv


@pytest.fixture(scope="module")
def session_id(server: McpServer) -> str:
    sid = server.call("orchestrator_get_status")["current_session"]
    assert isinstance(sid, str)
    return sid


def still_serving(server: McpServer) -> None:
    status = server.call("orchestrator_get_status")
    assert status["active_session_count"] >= 1


# --------------------------------------------------------------------------- tools/list


def test_tools_are_listed_with_typed_input_schemas(server: McpServer) -> None:
    tools = {tool.name: tool for tool in server.tools()}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 80, tool.name
        assert tool.input_schema["type"] == "object"
    select = tools["orchestrator_mode_select"].input_schema
    assert select["required"] == ["mode_file"]
    assert select["properties"]["mode_file"]["type"] == "string"
    assert select["properties"]["mode_file"]["maxLength"] == 1024
    assert select["properties"]["validate_first"] == {
        "default": True,
        "title": "Validate First",
        "type": "boolean",
    }
    for flag in ("auto_copy_if_missing", "backup_current"):
        assert select["properties"][flag]["default"] is True
    route = tools["orchestrator_route_task"].input_schema
    assert sorted(route["required"]) == ["description", "session_id"]
    assert route["properties"]["tags"]["type"] == "array"
    assert route["properties"]["explain"]["default"] is False
    create = tools["orchestrator_mode_create"].input_schema
    assert create["required"] == ["mode_name"]
    assert create["properties"]["template_source"]["default"] == "default_roles.yaml"
    role = create["$defs"]["CustomRole"]
    # role_definition or its alias prompt (the spec's name): one of them, checked by the model
    assert role["required"] == ["role_name"]
    assert {"role_definition", "prompt"} <= set(role["properties"])
    assert route["properties"]["description"]["maxLength"] == 100_000
    assert "100,000" in route["properties"]["description"]["description"]
    assert role["properties"]["role_name"]["pattern"] == "^[a-z][a-z0-9_]*$"
    assert tools["orchestrator_mode_restore"].input_schema["required"] == ["backup_file"]
    assert "required" not in tools["orchestrator_get_status"].input_schema
    for name in ("orchestrator_mode_list", "orchestrator_get_status", "orchestrator_route_task"):
        annotations = tools[name].annotations
        assert annotations is not None and annotations.read_only_hint is True, name
    # validate writes the fixed file with repair_if_possible: not read-only, not destructive
    validate = tools["orchestrator_mode_validate"].annotations
    assert validate is not None and validate.read_only_hint is False
    assert validate.destructive_hint is False


# --------------------------------------------------------------------------- the full flow


def test_select_route_switch_status_backup_restore(tmp_path: Path) -> None:
    project, state = tmp_path / "project", tmp_path / "state"
    project.mkdir()
    state.mkdir()
    with McpServer(project, state) as srv:
        # nothing yet: no session to back up, and bundled modes are not copied when told not to
        assert srv.call("orchestrator_get_status")["sessions"] == []
        srv.fail("orchestrator_mode_backup", {}, "session_not_active")
        srv.fail(
            "orchestrator_mode_select",
            {"mode_file": "development_mode.yaml", "auto_copy_if_missing": False},
            "mode_file_not_found",
        )
        assert not (project / ".task_orchestrator" / "roles" / "development_mode.yaml").exists()

        # select: no session yet, so one is started for the project
        first = srv.call("orchestrator_mode_select", mode_file="default_roles.yaml")
        sid = first["session_id"]
        assert first["mode_activated"] == "default_roles.yaml"
        assert first["previous_mode"] is None and first["backup_location"] is None
        assert first["mode_hash"].startswith("sha256:")
        assert "architect" in first["mode_details"]["specialist_roles"]
        assert (project / ".task_orchestrator" / "roles" / "default_roles.yaml").is_file()

        # route with the classic keyword semantics of default_roles.yaml
        routed = srv.call(
            "orchestrator_route_task",
            session_id=sid,
            description="Audit the encryption of stored tokens",
        )
        assert routed["decision"]["task_type"] == "security_tasks"
        assert routed["decision"]["mode_hash"] == first["mode_hash"]
        assert routed["mode_file"] == "default_roles.yaml"
        assert routed["decision"]["evidence"]

        # switch: the same session onto another mode, the old binding backed up first
        switched = srv.call(
            "orchestrator_mode_select", mode_file="development_mode.yaml", session_id=sid
        )
        assert switched["session_id"] == sid
        assert switched["previous_mode"] == "default_roles.yaml"
        assert switched["mode_hash"] != first["mode_hash"]
        backup_location = switched["backup_location"]
        assert backup_location.startswith(".task_orchestrator/backups/")
        assert (project / backup_location).is_file()
        assert "performance_optimizer" in switched["mode_details"]["custom_roles"]

        decision = srv.call(
            "orchestrator_route_task", session_id=sid, description="profile the slow endpoint"
        )["decision"]
        assert decision["specialist"] == "performance_optimizer"
        assert decision["mode_hash"] == switched["mode_hash"]
        explained = srv.call(
            "orchestrator_route_task",
            session_id=sid,
            title="fix: crash",
            description="segfault on start",
            tags=["hotfix"],
            complexity="simple",
            metadata={"team": "core"},
            explain=True,
        )
        assert explained["decision"]["task_type"] == "hotfix_tasks"
        rows = explained["explanation"]["rows"]
        assert rows and any(row["fired"] for row in rows)

        # status: the session and the mode it is bound to
        status = srv.call("orchestrator_get_status")
        assert status["current_session"] == sid
        assert status["project_root"] == str(project.resolve())
        [session] = status["sessions"]
        info = session["mode_info"]
        assert session["session_id"] == sid and session["status"] == "active"
        # the seed's shape: mode_file and three counts; modec's lists under "modec"
        assert set(info) == {
            "mode_file",
            "specialist_count",
            "custom_roles",
            "routing_rules",
            "modec",
        }
        rich = info["modec"]
        assert info["mode_file"] == rich["mode_file"] == "development_mode.yaml"
        assert rich["mode_hash"] == switched["mode_hash"]
        assert info["specialist_count"] == len(switched["mode_details"]["specialist_roles"])
        assert rich["custom_roles"] == switched["mode_details"]["custom_roles"]
        assert info["custom_roles"] == len(rich["custom_roles"]) > 0
        assert info["routing_rules"] == len(rich["routing_rules"]) > 0
        assert rich["routing_rules"]["performance_tasks"]["required_specialist"] == (
            "performance_optimizer"
        )

        listed = srv.call("orchestrator_mode_list")
        assert listed["active_session"] == sid
        assert listed["current_mode"] == "development_mode.yaml"
        current = [m for m in listed["available_modes"] if m["is_current"]]
        assert [m["filename"] for m in current] == ["development_mode.yaml"]

        # backup, then break the mode file and move the session elsewhere
        backup = srv.call("orchestrator_mode_backup", backup_name="before_edit")
        assert backup["backup_created"] == "before_edit.yaml"
        assert backup["backed_up_mode"] == "development_mode.yaml"
        assert backup["session_id"] == sid and backup["mode_hash"] == switched["mode_hash"]
        assert backup["backup_size"] == (project / backup["backup_path"]).stat().st_size
        srv.fail("orchestrator_mode_backup", {"backup_name": "before_edit"}, "backup_failed")

        dev_file = project / ".task_orchestrator" / "roles" / "development_mode.yaml"
        original = dev_file.read_bytes()
        dev_file.write_text("task_orchestrator: [not, a, role]\n", encoding="utf-8")
        moved = srv.call(
            "orchestrator_mode_select",
            mode_file="research_mode.yaml",
            session_id=sid,
            backup_current=False,
        )
        assert moved["previous_mode"] == "development_mode.yaml"
        assert moved["backup_location"] is None

        # restore: the file comes back and the backup's session is switched to it again
        restored = srv.call(
            "orchestrator_mode_restore", backup_file="before_edit.yaml", activate_after_restore=True
        )
        assert restored["restored_mode"] == "development_mode.yaml"
        assert restored["mode_hash"] == switched["mode_hash"]
        assert restored["mode_activated"] is True and restored["session_id"] == sid
        assert restored["session_binding_restored"] is True
        assert dev_file.read_bytes() == original
        info = srv.call("orchestrator_get_status")["sessions"][0]["mode_info"]
        assert info["mode_file"] == "development_mode.yaml"
        assert info["modec"]["mode_hash"] == switched["mode_hash"]
        decision = srv.call(
            "orchestrator_route_task", session_id=sid, description="profile the slow endpoint"
        )["decision"]
        assert decision["specialist"] == "performance_optimizer"

        # restore without activation only writes the file
        only_file = srv.call("orchestrator_mode_restore", backup_file="before_edit.yaml")
        assert only_file["mode_activated"] is False and only_file["session_id"] is None
        assert "Traceback" not in srv.log()


def test_create_then_select_a_new_mode(server: McpServer, session_id: str) -> None:
    created = server.call(
        "orchestrator_mode_create",
        mode_name="analytics_mode",
        template_source="development_mode.yaml",
        custom_roles=[
            {
                "role_name": "data_scientist",
                "role_definition": "You analyse data.",
                "description": "Data analysis",
                "expertise": ["statistics"],
            }
        ],
        mode_settings={"default_complexity": "complex", "task_distribution": "specialized"},
    )
    assert created["mode_created"] == "analytics_mode.yaml"
    assert created["file_path"] == ".task_orchestrator/roles/analytics_mode.yaml"
    details = created["mode_details"]
    assert "data_scientist" in details["custom_roles"]
    assert "performance_optimizer" in details["custom_roles"]  # inherited from the template
    assert details["default_complexity"] == 4
    path = server.project / created["file_path"]
    assert "extends: development_mode.yaml" in path.read_text(encoding="utf-8")

    validated = server.call("orchestrator_mode_validate", mode_file="analytics_mode.yaml")
    assert validated["is_valid"] is True and validated["mode_hash"] == created["mode_hash"]
    selected = server.call(
        "orchestrator_mode_select", mode_file="analytics_mode", session_id=session_id
    )
    assert selected["mode_hash"] == created["mode_hash"]
    decision = server.call(
        "orchestrator_route_task", session_id=session_id, description="profile the slow endpoint"
    )["decision"]
    assert decision["specialist"] == "performance_optimizer"
    assert decision["complexity"] == 4

    # an existing file is never replaced
    again = server.fail(
        "orchestrator_mode_create", {"mode_name": "analytics_mode"}, "already_exists"
    )
    assert again["error_details"]["file"] == "analytics_mode"
    assert path.read_text(encoding="utf-8").count("data_scientist") == 1


# --------------------------------------------------------------------------- error shapes


def test_invalid_mode_is_refused_with_located_diagnostics(
    server: McpServer, session_id: str
) -> None:
    before = server.call("orchestrator_get_status")["sessions"]
    bound = {s["session_id"]: s["mode_info"]["mode_file"] for s in before}[session_id]
    error = server.fail(
        "orchestrator_mode_select",
        {"mode_file": "broken.yaml", "session_id": session_id},
        "validation_failed",
    )
    details = error["error_details"]
    assert details["file"] == "broken.yaml" and details["line"] == BROKEN_LINE
    assert details["issue"].startswith("MC206")
    assert error["error_message"].startswith(
        f"mode file broken.yaml has 1 error(s); first: broken.yaml:{BROKEN_LINE}:"
    )
    assert str(server.project) not in json.dumps(error)
    assert details["diagnostics"][0]["code"] == "MC206"  # errors come first
    assert [d["code"] for d in details["diagnostics"] if d["severity"] == "error"] == ["MC206"]
    assert any("securty_auditor" in d["message"] for d in details["diagnostics"])
    assert any("modec lint" in s for s in error["recovery_suggestions"])
    assert error["fallback_mode"] == bound
    after = server.call("orchestrator_route_task", session_id=session_id, description="x")
    assert after["mode_file"] == bound

    report = server.call("orchestrator_mode_validate", mode_file="broken.yaml")
    assert report["is_valid"] is False and report["mode_hash"] is None
    [problem] = report["errors"]
    assert (problem["code"], problem["file"], problem["line"]) == (
        "MC206",
        "broken.yaml",
        BROKEN_LINE,
    )
    assert problem["column"] >= 1
    assert report["validation_details"]["yaml_syntax_valid"] is True
    assert report["validation_details"]["role_definitions_complete"] is False
    assert report["repair_suggestions"]
    good = server.call("orchestrator_mode_validate", mode_file="development_mode.yaml")
    assert good["is_valid"] is True and good["errors"] == []
    assert set(good["validation_details"].values()) == {True}

    listed = server.call("orchestrator_mode_list")
    assert "broken.yaml" not in {m["filename"] for m in listed["available_modes"]}
    assert listed["invalid_modes_hidden"] >= 1
    everything = server.call("orchestrator_mode_list", include_invalid=True, show_details=True)
    [broken] = [m for m in everything["available_modes"] if m["filename"] == "broken.yaml"]
    assert broken["status"] == "invalid" and "MC206" in broken["error"]
    assert broken["error"].startswith(f"broken.yaml:{BROKEN_LINE}:")  # a name, not a path
    assert "mode_hash" in broken and "bound_sessions" in broken


def test_invalid_create_writes_nothing(server: McpServer) -> None:
    error = server.fail(
        "orchestrator_mode_create",
        {"mode_name": "bad_policy", "mode_settings": {"hit_policy": "bogus"}},
        "validation_failed",
    )
    assert error["error_details"]["diagnostics"]
    assert not (server.project / ".task_orchestrator" / "roles" / "bad_policy.yaml").exists()
    server.fail(
        "orchestrator_mode_create",
        {"mode_name": "orphan", "template_source": "no_such_template.yaml"},
        "mode_file_not_found",
    )
    # a mode in a folder cannot extend the project's default_roles.yaml at the top
    unreachable = server.fail(
        "orchestrator_mode_create", {"mode_name": "nested/orphan"}, "invalid_request"
    )
    assert unreachable["error_details"]["file"] == "nested/orphan"
    assert any("template's folder" in s for s in unreachable["recovery_suggestions"])
    assert not (server.project / ".task_orchestrator" / "roles" / "nested").exists()


@pytest.mark.parametrize(
    ("tool", "arguments", "error_type"),
    [
        ("orchestrator_mode_select", {"mode_file": "no_such_mode.yaml"}, "mode_file_not_found"),
        ("orchestrator_mode_validate", {"mode_file": "no_such_mode"}, "mode_file_not_found"),
        (
            "orchestrator_route_task",
            {"session_id": "no-such-session", "description": "x"},
            "session_not_active",
        ),
        (
            "orchestrator_mode_select",
            {"mode_file": "default_roles.yaml", "session_id": "no-such-session"},
            "session_not_active",
        ),
        ("orchestrator_mode_backup", {"session_id": "no-such-session"}, "session_not_active"),
        ("orchestrator_mode_restore", {"backup_file": "no_such_backup.yaml"}, "backup_failed"),
        ("orchestrator_mode_backup", {"backup_name": "not/plain"}, "backup_failed"),
        ("orchestrator_no_such_tool", {}, "unknown_tool"),
    ],
)
def test_error_shapes(
    server: McpServer, tool: str, arguments: dict[str, Any], error_type: str
) -> None:
    error = server.fail(tool, arguments, error_type)
    if error_type == "mode_file_not_found":
        assert error["error_details"]["file"] == arguments["mode_file"]
        assert any("orchestrator_mode_list" in s for s in error["recovery_suggestions"])
    still_serving(server)


def test_every_error_type_has_a_recovery_hint() -> None:
    kinds = {*ERROR_TYPES.values(), "unknown_tool", "internal_error"}
    assert kinds <= set(RECOVERY_HINTS)


def test_unexpected_exceptions_get_the_shape_too() -> None:
    crash = error_payload(RuntimeError("boom"), fallback_mode="default_roles.yaml")
    assert set(crash) == ERROR_KEYS and crash["error_type"] == "internal_error"
    assert crash["error_message"] == "internal error (RuntimeError): boom"
    assert crash["recovery_suggestions"] == [RECOVERY_HINTS["internal_error"]]
    denied = error_payload(
        PermissionError(13, "Permission denied", "/p/.task_orchestrator"),
        fallback_mode="default_roles.yaml",
    )
    assert denied["error_type"] == "io_error"
    assert denied["error_message"] == "Permission denied: /p/.task_orchestrator"


def test_restore_of_a_backup_without_session_needs_one(server: McpServer) -> None:
    backups = server.project / ".task_orchestrator" / "backups"
    server.call("orchestrator_mode_backup", backup_name="mode_only", include_session_binding=False)
    assert (backups / "mode_only.yaml").is_file()
    error = server.fail(
        "orchestrator_mode_restore",
        {"backup_file": "mode_only.yaml", "activate_after_restore": True},
        "invalid_request",
    )
    assert "session" in error["error_message"]
    assert any("session_id" in s for s in error["recovery_suggestions"])
    restored = server.call(
        "orchestrator_mode_restore",
        backup_file="mode_only.yaml",
        activate_after_restore=True,
        restore_session_binding=False,
    )
    assert restored["mode_activated"] is True
    assert restored["session_binding_restored"] is False


# --------------------------------------------------------------------------- confinement


def _traversal_names(outside: Path) -> list[str]:
    return [
        "../../etc/passwd",
        "../roles/default_roles.yaml",
        "sub/../../modec.db",
        "..\\..\\etc\\passwd",
        "/etc/passwd",
        str(outside / "secret.yaml"),
        "escape.yaml",  # a symlink in roles/ to the file outside
        "escape",
        "linkdir/secret.yaml",  # a symlinked directory leading outside
    ]


@pytest.mark.parametrize("index", range(9))
@pytest.mark.parametrize(
    ("tool", "key"),
    [
        ("orchestrator_mode_select", "mode_file"),
        ("orchestrator_mode_validate", "mode_file"),
        ("orchestrator_mode_create", "template_source"),
    ],
)
def test_mode_names_leaving_roles_are_refused(
    server: McpServer, outside: Path, session_id: str, tool: str, key: str, index: int
) -> None:
    name = _traversal_names(outside)[index]
    arguments: dict[str, Any] = {key: name}
    if tool == "orchestrator_mode_select":
        arguments["session_id"] = session_id
    if tool == "orchestrator_mode_create":
        arguments["mode_name"] = f"from_outside_{index}"
    error = server.fail(tool, arguments, "path_not_allowed")
    assert "SECRET-OUTSIDE-ROLE" not in json.dumps(error)
    assert error["error_details"]["file"] == name
    assert any("roles/" in s for s in error["recovery_suggestions"])
    roles = server.project / ".task_orchestrator" / "roles"
    assert not list(roles.glob("from_outside_*"))
    still_serving(server)


@pytest.mark.parametrize("name", ["../../evil", "/tmp/evil_mode", "linkdir/evil", "a/../../evil"])
def test_created_modes_stay_in_roles(server: McpServer, outside: Path, name: str) -> None:
    server.fail("orchestrator_mode_create", {"mode_name": name}, "path_not_allowed")
    assert not (outside / "evil.yaml").exists()
    assert not (server.project / "evil.yaml").exists()
    assert not Path("/tmp/evil_mode.yaml").exists()


def test_a_windows_separator_in_a_new_modes_name_is_refused_before_any_path(
    server: McpServer, outside: Path
) -> None:
    # The runtime's name check is the tool's argument check: a backslash is no character of
    # a mode name, so "..\\evil" is refused as an argument, before a path is formed.
    error = server.fail("orchestrator_mode_create", {"mode_name": "..\\evil"}, "invalid_arguments")
    assert "U+005C REVERSE SOLIDUS" in error["error_details"]["arguments"][0]["problem"]
    assert not (outside / "evil.yaml").exists()
    assert not (server.project / "evil.yaml").exists()
    assert not list(server.project.rglob("*evil*"))


@pytest.mark.parametrize(
    "name", ["../roles/default_roles.yaml", "../../../../etc/passwd", "/etc/passwd", "../modec.db"]
)
def test_backup_names_leaving_backups_are_refused(server: McpServer, name: str) -> None:
    error = server.fail("orchestrator_mode_restore", {"backup_file": name}, "path_not_allowed")
    assert "root:" not in json.dumps(error)


def test_listing_skips_symlinks_leaving_roles(server: McpServer) -> None:
    listed = server.call("orchestrator_mode_list", include_invalid=True, show_details=True)
    names = {m["filename"] for m in listed["available_modes"]}
    assert "default_roles.yaml" in names
    assert not {n for n in names if n.startswith(("escape", "linkdir"))}
    assert "SECRET-OUTSIDE-ROLE" not in json.dumps(listed)


# --------------------------------------------------------------------------- malformed input


MALFORMED: list[tuple[str, dict[str, Any]]] = [
    ("orchestrator_mode_select", {}),
    ("orchestrator_mode_select", {"mode_file": 5}),
    ("orchestrator_mode_select", {"mode_file": None}),
    ("orchestrator_mode_select", {"mode_file": ""}),
    ("orchestrator_mode_select", {"mode_file": ["default_roles.yaml"]}),
    ("orchestrator_mode_select", {"mode_file": "default_roles.yaml", "validate_first": "maybe"}),
    ("orchestrator_mode_select", {"mode_file": "default_roles.yaml", "sesion_id": "typo"}),
    ("orchestrator_mode_list", {"include_invalid": {"yes": True}}),
    ("orchestrator_route_task", {"description": "no session"}),
    ("orchestrator_route_task", {"session_id": "s", "description": ["a", "b"]}),
    ("orchestrator_route_task", {"session_id": "s", "description": "x", "complexity": 9}),
    ("orchestrator_route_task", {"session_id": "s", "description": "x", "complexity": "huge"}),
    ("orchestrator_route_task", {"session_id": "s", "description": "x", "tags": "not a list"}),
    (
        "orchestrator_route_task",
        {"session_id": "s", "description": "x", "metadata": {"k": {"nested": 1}}},
    ),
    ("orchestrator_route_task", {"session_id": "s", "description": "x", "explain": "verbose"}),
    ("orchestrator_mode_create", {"mode_name": "m", "custom_roles": "data_scientist"}),
    (
        "orchestrator_mode_create",
        {"mode_name": "m", "custom_roles": [{"role_name": "Bad Name", "role_definition": "x"}]},
    ),
    (
        "orchestrator_mode_create",
        {"mode_name": "m", "custom_roles": [{"role_name": "tests", "role_definition": "x"}]},
    ),
    (
        "orchestrator_mode_create",
        {
            "mode_name": "m",
            "custom_roles": [
                {"role_name": "twin", "role_definition": "x"},
                {"role_name": "twin", "role_definition": "y"},
            ],
        },
    ),
    (
        "orchestrator_mode_create",
        {
            "mode_name": "m",
            "custom_roles": [{"role_name": "r", "role_definition": "x", "prompt": "unknown field"}],
        },
    ),
    ("orchestrator_mode_create", {"mode_name": "m", "mode_settings": ["not", "a", "map"]}),
    ("orchestrator_mode_backup", {"backup_name": ""}),
    ("orchestrator_mode_restore", {"backup_file": 3.5}),
    # 10 MB strings, wherever a string goes
    ("orchestrator_mode_select", {"mode_file": TEN_MB}),
    ("orchestrator_mode_validate", {"mode_file": TEN_MB}),
    ("orchestrator_mode_create", {"mode_name": TEN_MB}),
    (
        "orchestrator_mode_create",
        {"mode_name": "m", "custom_roles": [{"role_name": "r", "role_definition": TEN_MB}]},
    ),
    ("orchestrator_mode_restore", {"backup_file": TEN_MB}),
    ("orchestrator_mode_backup", {"backup_name": TEN_MB}),
    ("orchestrator_route_task", {"session_id": TEN_MB, "description": "x"}),
    ("orchestrator_route_task", {"session_id": "s", "description": TEN_MB}),
    ("orchestrator_route_task", {"session_id": "s", "description": "x", "title": TEN_MB}),
    ("orchestrator_route_task", {"session_id": "s", "description": "x", "tags": [TEN_MB]}),
    ("orchestrator_route_task", {"session_id": "s", "description": "x", "metadata": {"k": TEN_MB}}),
    ("orchestrator_get_status", {"unexpected": TEN_MB}),
]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    MALFORMED,
    ids=[f"{i}-{tool.removeprefix('orchestrator_')}" for i, (tool, _) in enumerate(MALFORMED)],
)
def test_malformed_arguments_get_the_error_shape(
    server: McpServer, tool: str, arguments: dict[str, Any]
) -> None:
    error = server.fail(tool, arguments, "invalid_arguments")
    assert len(json.dumps(error)) < 20_000  # the rejected value is never echoed back
    problems = error["error_details"].get("arguments")
    if problems is not None:
        assert problems and all(p["argument"] and p["problem"] for p in problems)
    still_serving(server)


def test_protocol_level_garbage_does_not_stop_the_server(tmp_path: Path) -> None:
    """Lines that are not a valid tools/call never reach a tool, each is answered (the
    validating reader answers what the SDK would drop: issue 15 item 8), and the server goes
    on answering. test_mcp_protocol.py covers every kind of such line."""
    command = [
        sys.executable,
        "-m",
        "modec",
        "serve",
        "--project",
        str(tmp_path),
        "--db",
        sqlite_url(tmp_path / "x.db"),
    ]
    with (
        (tmp_path / "server.log").open("w") as log,
        subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
        ) as proc,
    ):
        assert proc.stdin is not None and proc.stdout is not None
        stdin, stdout = proc.stdin, proc.stdout
        os.set_blocking(stdout.fileno(), False)
        pending = b""

        def send(line: str) -> None:
            stdin.write(line.encode("utf-8") + b"\n")
            stdin.flush()

        def responses(wanted: set[int]) -> dict[int, dict[str, Any]]:
            nonlocal pending
            found: dict[int, dict[str, Any]] = {}
            deadline = time.monotonic() + 60
            with selectors.DefaultSelector() as sel:
                sel.register(stdout, selectors.EVENT_READ)
                while not wanted <= set(found) and time.monotonic() < deadline:
                    sel.select(timeout=1)
                    pending += stdout.read() or b""
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        message = json.loads(line)
                        if isinstance(message.get("id"), int):
                            found[message["id"]] = message
            assert wanted <= set(found), found
            return found

        def call(request_id: int, arguments: str) -> str:
            return (
                f'{{"jsonrpc": "2.0", "id": {request_id}, "method": "tools/call", '
                f'"params": {{"name": "orchestrator_get_status", "arguments": {arguments}}}}}'
            )

        send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-06-18",
                        "capabilities": {},
                        "clientInfo": {"name": "raw", "version": "0"},
                    },
                }
            )
        )
        assert responses({1})[1]["result"]["serverInfo"]["name"] == "modec"
        send('{"jsonrpc": "2.0", "method": "notifications/initialized"}')
        send("this is not JSON")
        send(call(2, '{"unexpected": "lone \\ud800 surrogate"}'))  # JSON the SDK cannot parse
        send(call(3, '["not", "an", "object"]'))
        send('{"jsonrpc": "2.0", "id": 4, "method": "tools/call"}')
        send(call(5, "{}"))
        found = responses({2, 3, 4, 5})
        assert found[2]["error"]["code"] == -32700  # was dropped without an answer
        assert found[3]["error"]["code"] == found[4]["error"]["code"] == -32602
        assert found[5]["result"]["structuredContent"]["success"] is True
        assert proc.poll() is None
        stdin.close()
        assert proc.wait(timeout=30) == 0


def test_server_log_has_no_crash(server: McpServer) -> None:
    still_serving(server)
    assert "Traceback" not in server.log()


# --------------------------------------------------------------------------- the command


def test_serve_refuses_a_missing_project(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "modec", "serve", "--project", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "--project" in proc.stderr
