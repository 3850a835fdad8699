"""Issue 12 item 6 and issue 15 items 8, 10, 13 through the real SDK client of `modec serve`.

The seed's ``mode_info`` shape, the planned spec's extra arguments (``scan_config_directory``,
``include_completed``, ``prompt``, ``repair_if_possible``, complexity names), bounded task
sizes and answers, unreadable ``roles/`` entries, and unsafe mode names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from modec.mcp_server.arguments import MAX_TASK_CHARS
from modec.mcp_server.shapes import MAX_EVIDENCE, MAX_EXPLAIN_CHARS
from tests.integration.mcp_harness import McpServer

SEED_MODE_INFO_KEYS = {"mode_file", "specialist_count", "custom_roles", "routing_rules"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpServer]:
    project = tmp_path_factory.mktemp("project")
    state = tmp_path_factory.mktemp("state")
    with McpServer(project, state) as srv:
        yield srv


@pytest.fixture(scope="module")
def session_id(server: McpServer) -> str:
    selected = server.call("orchestrator_mode_select", mode_file="development_mode.yaml")
    return str(selected["session_id"])


def roles(server: McpServer) -> Path:
    folder = server.project / ".task_orchestrator" / "roles"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --------------------------------------------------------------------------- mode_info


def test_mode_info_has_the_seed_shape(server: McpServer, session_id: str) -> None:
    status = server.call("orchestrator_get_status")
    [session] = [s for s in status["sessions"] if s["session_id"] == session_id]
    info = session["mode_info"]
    assert SEED_MODE_INFO_KEYS | {"modec"} == set(info)
    assert info["mode_file"] == "development_mode.yaml"
    for key in ("specialist_count", "custom_roles", "routing_rules"):
        assert type(info[key]) is int, (key, info[key])
    rich = info["modec"]
    assert info["specialist_count"] == len(rich["specialist_roles"]) > 0
    assert info["custom_roles"] == len(rich["custom_roles"])
    assert info["routing_rules"] == len(rich["routing_rules"]) > 0
    assert rich["mode_hash"].startswith("sha256:")


def test_include_completed_lists_terminated_sessions(tmp_path: Path) -> None:
    project, state = tmp_path / "p", tmp_path / "s"
    project.mkdir()
    state.mkdir()
    with McpServer(project, state) as srv:
        first = srv.call("orchestrator_mode_select", mode_file="default_roles.yaml")
        from modec.runtime.lifecycle import ModeRuntime

        with ModeRuntime(project, srv.database_url) as runtime:  # another process's terminate
            runtime.terminate(first["session_id"])
        active = srv.call("orchestrator_get_status")
        assert active["sessions"] == []
        everything = srv.call("orchestrator_get_status", include_completed=True)
        [done] = everything["sessions"]
        assert done["session_id"] == first["session_id"] and done["status"] == "terminated"
        assert everything["completed_session_count"] == 1
        assert done["mode_info"]["mode_file"] == "default_roles.yaml"
        assert set(done["mode_info"]) >= SEED_MODE_INFO_KEYS


# --------------------------------------------------------------------------- spec arguments


def test_prompt_is_an_alias_of_role_definition(server: McpServer) -> None:
    created = server.call(
        "orchestrator_mode_create",
        mode_name="alias_mode",
        custom_roles=[{"role_name": "data_scientist", "prompt": "You analyse data"}],
    )
    text = (roles(server) / created["mode_created"]).read_text(encoding="utf-8")
    assert "role_definition: You analyse data" in text
    assert "data_scientist" in created["mode_details"]["custom_roles"]
    server.fail(
        "orchestrator_mode_create",
        {"mode_name": "neither", "custom_roles": [{"role_name": "r"}]},
        "invalid_arguments",
    )


@pytest.mark.parametrize(
    ("given", "written", "level"),
    [("high", "complex", 4), ("low", "simple", 2), ("very_complex", "very_complex", 5), (2, 2, 2)],
)
def test_spec_complexity_names_map_onto_modecs_scale(
    server: McpServer, given: object, written: object, level: int
) -> None:
    name = f"complexity_{given}"
    created = server.call(
        "orchestrator_mode_create", mode_name=name, mode_settings={"default_complexity": given}
    )
    assert created["mode_details"]["default_complexity"] == level
    text = (roles(server) / created["mode_created"]).read_text(encoding="utf-8")
    assert f"default_complexity: {written}" in text


def test_route_accepts_spec_complexity_names(server: McpServer, session_id: str) -> None:
    named = server.call(
        "orchestrator_route_task",
        session_id=session_id,
        title="fix: x",
        description="crash",
        complexity="easy",
    )["decision"]
    modec = server.call(
        "orchestrator_route_task",
        session_id=session_id,
        title="fix: x",
        description="crash",
        complexity="simple",
    )["decision"]
    assert named == modec and named["task_type"] == "hotfix_tasks"


def test_scan_config_directory_lists_the_roles_folder(server: McpServer) -> None:
    (roles(server) / "notes.txt").write_text("not a mode", encoding="utf-8")
    listed = server.call("orchestrator_mode_list", scan_config_directory=True)
    directory = listed["config_directory"]
    assert directory["path"] == ".task_orchestrator/roles"
    entries = {e["name"]: e for e in directory["entries"]}
    assert entries["notes.txt"]["kind"] == "other"
    assert entries["development_mode.yaml"] == {
        "name": "development_mode.yaml",
        "kind": "mode",
        "problem": None,
    }
    assert "config_directory" not in server.call("orchestrator_mode_list")


def test_repair_if_possible_applies_the_fixes(server: McpServer) -> None:
    """A misspelt specialist (MC206, 'did you mean implementer?') is repaired in place."""
    path = roles(server) / "fixable.yaml"
    path.write_text(
        'mode_metadata:\n  extends: "default_roles.yaml"\n'
        "task_routing_rules:\n  testing_tasks:\n    keywords: [flaky]\n"
        "    required_specialist: implementr\n",
        encoding="utf-8",
    )
    before = server.call("orchestrator_mode_validate", mode_file="fixable.yaml")
    assert before["is_valid"] is False and "repairs_applied" not in before
    assert path.read_text(encoding="utf-8").count("implementr") == 1  # validate alone: no write
    fixed = server.call(
        "orchestrator_mode_validate", mode_file="fixable.yaml", repair_if_possible=True
    )
    assert fixed["repairs_applied"], fixed
    assert fixed["is_valid"] is True, fixed["errors"]
    assert "required_specialist: implementer" in path.read_text(encoding="utf-8")
    bundled = server.call(
        "orchestrator_mode_validate", mode_file="research_mode.yaml", repair_if_possible=True
    )
    assert bundled["repairs_applied"] == []


# --------------------------------------------------------------------------- bounds


def test_a_million_character_task_is_refused_with_the_limit(
    server: McpServer, session_id: str
) -> None:
    error = server.fail(
        "orchestrator_route_task",
        {"session_id": session_id, "description": "audit " * 166_667},
        "invalid_arguments",
    )
    assert f"{MAX_TASK_CHARS}" in error["error_message"]
    assert error["error_details"]["arguments"][0]["argument"] == "description"
    assert len(json.dumps(error)) < 5_000


def _wide_mode(rules: int, keywords: int) -> str:
    lines = ['mode_metadata:\n  extends: "default_roles.yaml"\n', "task_routing_rules:\n"]
    for r in range(rules):
        words = ", ".join(f"kw{r}x{k}" for k in range(keywords))
        lines.append(
            f"  rule_{r}_tasks:\n    keywords: [{words}]\n"
            f"    required_specialist: implementer\n    priority: {r}\n"
        )
    return "".join(lines)


def test_the_largest_route_answer_is_bounded(server: McpServer) -> None:
    """207 rules of 30 keywords, a maximal task naming every keyword again and again:
    the answer with explain stays within the documented bound."""
    (roles(server) / "wide_mode.yaml").write_text(_wide_mode(207, 30), encoding="utf-8")
    sid = server.call("orchestrator_mode_select", mode_file="wide_mode.yaml", session_id=None)[
        "session_id"
    ]
    words = " ".join(f"kw{r}x{k}" for r in range(207) for k in range(30))
    description = (words + " ") * (MAX_TASK_CHARS // (len(words) + 1))
    description = description[:MAX_TASK_CHARS]
    plain = server.raw("orchestrator_route_task", {"session_id": sid, "description": description})
    explained = server.raw(
        "orchestrator_route_task", {"session_id": sid, "description": description, "explain": True}
    )
    sizes = [len(r.content[0].text) for r in (plain, explained)]  # type: ignore[union-attr]
    print(f"route answer sizes (chars): plain {sizes[0]}, explain {sizes[1]}")
    assert not plain.is_error and not explained.is_error
    payload = explained.structured_content
    assert payload is not None and payload["success"] is True
    assert len(payload["decision"]["evidence"]) <= MAX_EVIDENCE
    assert (
        len(payload["explanation"]["rows"]) + payload["explanation"].get("rows_omitted", 0) >= 207
    )
    compact = len(json.dumps(payload["explanation"], ensure_ascii=False))
    assert compact <= MAX_EXPLAIN_CHARS + 64 * 1024, compact  # the budget, plus the taken row
    assert sizes[1] < 3 * MAX_EXPLAIN_CHARS, sizes  # the indented text of the same JSON
    server.call("orchestrator_mode_select", mode_file="development_mode.yaml", session_id=sid)


# --------------------------------------------------------------------------- roles/ entries


@pytest.fixture
def unreadable(server: McpServer) -> Iterator[Path]:
    folder = roles(server)
    (folder / "loop.yaml").symlink_to(folder / "loop.yaml")
    (folder / "loop_a.yaml").symlink_to(folder / "loop_b.yaml")
    (folder / "loop_b.yaml").symlink_to(folder / "loop_a.yaml")
    secret = folder / "secret.yaml"
    secret.write_text("task_orchestrator: {role_definition: x}\n", encoding="utf-8")
    secret.chmod(0)
    yield folder
    secret.chmod(0o644)
    for name in ("loop.yaml", "loop_a.yaml", "loop_b.yaml", "secret.yaml"):
        (folder / name).unlink()


def test_unreadable_entries_are_listed_invalid_never_fatal(
    server: McpServer, unreadable: Path
) -> None:
    listed = server.call("orchestrator_mode_list", include_invalid=True, scan_config_directory=True)
    modes = {m["filename"]: m for m in listed["available_modes"]}
    assert modes["development_mode.yaml"]["status"] == "valid"
    for name in ("loop.yaml", "loop_a.yaml", "loop_b.yaml"):
        assert modes[name]["status"] == "invalid", modes.get(name)
        assert modes[name]["error"], modes[name]
    if os.geteuid() != 0:  # root reads a file of mode 000
        assert modes["secret.yaml"]["status"] == "invalid"
    text = json.dumps(listed)
    assert str(server.project.resolve()) not in text and str(unreadable) not in text
    entries = {e["name"]: e for e in listed["config_directory"]["entries"]}
    assert "symlink loop" in entries["loop.yaml"]["problem"]


# --------------------------------------------------------------------------- mode names


@pytest.mark.parametrize(
    "name",
    [
        "evil\nname",
        "evil\rname",
        "tab\tname",
        "nul\x00name",
        "bell\x07",
        "rtl\u202eyaml.txt",
        "zero\u200bwidth",
        "line\u2028sep",
        "p\u0430yments",  # Cyrillic а in a Latin name
        "\u0440\u0430ypal",  # Cyrillic р and а, then Latin
        "caf\u0065\u0301",  # not NFC (e + combining acute)
        "two words",
        "colon:name",
        "\uff54\uff45\uff41\uff4d",  # fullwidth "team"
        "\u0441\u043e\u0440\u0443\u0441\u0430\u0442",  # all Cyrillic Latin lookalikes
        "x" * 201,
    ],
)
def test_unsafe_mode_names_are_refused(server: McpServer, name: str) -> None:
    # The tool's argument is checked by the runtime's own check_mode_name: what it takes,
    # create_mode takes, and what create_mode would refuse is refused as an argument.
    error = server.fail("orchestrator_mode_create", {"mode_name": name}, "invalid_arguments")
    problem = error["error_details"]["arguments"][0]["problem"]
    assert "mode name" in problem or "at most 200 characters" in problem, problem
    assert not list(roles(server).glob("*evil*")) and not list(roles(server).glob("p*yments*"))


@pytest.mark.parametrize("name", ["режим", "задача.yaml", "日本語_mode", "plain-name_2"])
def test_names_of_one_script_are_accepted(server: McpServer, name: str) -> None:
    created = server.call("orchestrator_mode_create", mode_name=name)
    assert created["mode_created"] == (name if name.endswith(".yaml") else f"{name}.yaml")


# --------------------------------------------------------------------------- hosts


def test_add_mode_info_fills_a_hosts_own_status(tmp_path: Path) -> None:
    from modec.mcp_server import ModeTools, add_mode_info
    from modec.runtime.lifecycle import ModeRuntime

    (tmp_path / "pyproject.toml").write_text("")
    with ModeRuntime(tmp_path, f"sqlite:///{tmp_path / 'x.db'}") as runtime:
        sid = ModeTools(runtime).orchestrator_mode_select("development_mode.yaml")["session_id"]
        host_status = {
            "server": "host",
            "sessions": [{"session_id": sid, "tasks": 3}, {"session_id": "host-only"}],
        }
        assert add_mode_info(host_status, runtime) is host_status
    mine, theirs = host_status["sessions"]
    assert mine["tasks"] == 3 and theirs["mode_info"] is None
    assert set(mine["mode_info"]) == SEED_MODE_INFO_KEYS | {"modec"}
    assert mine["mode_info"]["mode_file"] == "development_mode.yaml"
    assert mine["mode_info"]["routing_rules"] == len(mine["mode_info"]["modec"]["routing_rules"])
