"""ModeRuntime and AsyncModeRuntime on a real project directory, a real diskcache and the
session database (a SQLite file and PostgreSQL): initialize, bind, switch, context, route,
terminate, status, backups, and many processes at once."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from modec.compiler.build import bundled_mode_names, bundled_mode_path
from modec.compiler.pipeline import compile_path
from modec.diagnostics import InvalidModeError, ModeFileNotFoundError, SessionNotActiveError
from modec.runtime.lifecycle import (
    CHECK_GROUPS,
    AsyncModeRuntime,
    ModeFileExistsError,
    ModeRuntime,
    RoleSpec,
    SessionNotBoundError,
    SessionRequiredError,
    UnreachableTemplateError,
)
from modec.runtime.project import (
    BackupError,
    ProjectType,
    UnsafeModePathError,
    detect_project_type,
    read_backup,
)
from modec.runtime.router import Task
from modec.runtime.sessions import Action, SessionBindingStore, ValidationStatus
from modec.runtime.store import ArtifactNotFoundError, ArtifactStore
from tests.integration import lifecycle_support as support
from tests.integration.lifecycle_support import (
    MIGRATION_TASK,
    TEAM_MODE,
    TEAM_MODE_BROKEN,
    RuntimeFactory,
    assert_switches_replaced_and_backed_up_once,
    await_ready,
    result,
    spawn,
    write_mode,
)

project = support.project
make_runtime = support.make_runtime


def _actions(runtime: ModeRuntime, sid: str) -> list[tuple[str, bool]]:
    return [(h.action_type.value, h.success) for h in runtime.history(sid)]


# --------------------------------------------------------------------------- initialize


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["pyproject.toml"], ProjectType.DEVELOPMENT),
        (["package.json", "README.md"], ProjectType.DEVELOPMENT),
        (["Cargo.toml"], ProjectType.DEVELOPMENT),
        (["README.md"], ProjectType.DOCUMENTATION),
        (["readme.rst"], ProjectType.DOCUMENTATION),
        ([], ProjectType.DEFAULT),
        (["notes.txt"], ProjectType.DEFAULT),
    ],
)
def test_project_type_detection(tmp_path: Path, files: list[str], expected: ProjectType) -> None:
    for name in files:
        (tmp_path / name).write_text("x")
    assert detect_project_type(tmp_path) is expected


def test_initialize_session_creates_the_layout_and_binds_the_detected_default(
    make_runtime: RuntimeFactory, project: Path
) -> None:
    runtime = make_runtime()
    ctx = runtime.initialize_session()
    layout = runtime.project
    assert list(layout.roles.iterdir()) == []  # the bundled mode is read in place
    assert layout.backups.is_dir()
    assert "modec.db" in (layout.base / ".gitignore").read_text()
    assert ctx.mode_file == "development_mode.yaml"  # the project has a pyproject.toml
    assert ctx.validation_status is ValidationStatus.VALID
    assert _actions(runtime, ctx.session_id) == [("bind", True)]
    session = runtime.sessions.get_session(ctx.session_id)
    assert session is not None and session.project_root == str(project.resolve())

    # templates are copied when asked; a user's edit of one is never overwritten
    copied = layout.ensure(templates=True)
    assert sorted(p.name for p in layout.roles.iterdir()) == bundled_mode_names()
    assert sorted(p.name for p in copied) == bundled_mode_names()
    edited = layout.roles / "default_roles.yaml"
    edited.write_text(edited.read_text() + "\n# mine\n")
    other = runtime.initialize_session(project, "default_roles.yaml", session_id="named")
    assert other.session_id == "named"
    assert edited.read_text().endswith("# mine\n")


def test_initialize_session_with_a_bad_mode_leaves_no_session(
    make_runtime: RuntimeFactory, tmp_path: Path
) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    write_mode(runtime, "team.yaml", TEAM_MODE_BROKEN)
    with pytest.raises(InvalidModeError) as invalid:
        runtime.initialize_session(mode_file="team.yaml")
    assert invalid.value.diagnostics[0].code == "MC004"
    assert invalid.value.suggestion
    with pytest.raises(ModeFileNotFoundError) as missing:
        runtime.initialize_session(mode_file="no_such_mode.yaml")
    assert "development_mode.yaml" in missing.value.suggestion
    assert runtime.sessions.list_sessions(active_only=False) == []
    with pytest.raises(ValueError, match="serves"):
        runtime.initialize_session(tmp_path / "elsewhere")


# --------------------------------------------------------------------------- bind


def test_bind_validates_first_and_records_failures(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    sid = runtime.initialize_session().session_id
    before = runtime.sessions.get_binding(sid)
    write_mode(runtime, "team.yaml", TEAM_MODE_BROKEN)

    with pytest.raises(ModeFileNotFoundError):
        runtime.bind(sid, "missing.yaml")
    with pytest.raises(InvalidModeError):
        runtime.bind(sid, "team.yaml")
    assert runtime.sessions.get_binding(sid) == before
    assert runtime.context(sid).mode_file == "development_mode.yaml"

    write_mode(runtime, "team.yaml", TEAM_MODE)
    ctx = runtime.bind(sid, "team")  # the .yaml suffix may be left out
    assert (ctx.mode_file, ctx.specialist_count) == ("team.yaml", 2)
    history = runtime.history(sid)
    assert [(h.action_type.value, h.success) for h in history] == [
        ("bind", True),
        ("bind", False),
        ("bind", False),
        ("bind", True),
    ]
    assert "missing.yaml" in (history[1].error_message or "")
    assert "MC004" in (history[2].error_message or "")
    assert history[3].mode_hash == ctx.mode_hash


def test_invalid_modes_are_reported_by_mode_name_never_by_path(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    sid = runtime.initialize_session().session_id
    write_mode(runtime, "team/broken.yaml", TEAM_MODE_BROKEN)
    backup = runtime.backup(mode_file="team/broken.yaml")
    errors = []
    for attempt in (
        lambda: runtime.bind(sid, "team/broken"),
        lambda: runtime.initialize_session(mode_file="team/broken.yaml"),
        lambda: runtime.restore(backup, mode_file="team/again.yaml"),
    ):
        with pytest.raises(InvalidModeError) as invalid:
            attempt()
        errors.append(invalid.value)
    bound, started, restored = errors
    for error, name in (
        (bound, "team/broken.yaml"),
        (started, "team/broken.yaml"),
        (restored, "team/again.yaml"),
    ):
        assert error.message.startswith(f"{name}: 1 error(s); first: {name}:")
        assert [d.span.file for d in error.diagnostics if d.span] == [name]
        text = error.message + "".join(f"{d.message}{d.hint}" for d in error.diagnostics)
        assert str(runtime.project.root) not in text
    assert str(runtime.project.root) not in (runtime.history(sid)[-1].error_message or "?")
    summary = {m.name: m for m in runtime.list_modes()}["team/broken.yaml"]
    assert (summary.error or "").startswith("team/broken.yaml:")


def test_mode_names_never_leave_the_roles_directory(
    make_runtime: RuntimeFactory, tmp_path: Path
) -> None:
    runtime = make_runtime()
    sid = runtime.initialize_session().session_id
    roles = runtime.project.roles
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "team.yaml").write_text(TEAM_MODE)  # a valid mode: only the path is wrong
    (roles / "escape.yaml").symlink_to(outside / "team.yaml")
    (roles / "dangling.yaml").symlink_to(outside / "nothing.yaml")
    (roles / "linked_dir").symlink_to(outside, target_is_directory=True)
    for name in [
        str(outside / "team.yaml"),
        "../../outside/team.yaml",
        "sub/../../../outside/team.yaml",
        "..\\..\\outside\\team.yaml",
        "C:\\modes\\team.yaml",
        "escape.yaml",
        "dangling.yaml",
        "linked_dir/team.yaml",
        "",
        "team\x00.yaml",
    ]:
        with pytest.raises(UnsafeModePathError) as refused:
            runtime.bind(sid, name)
        assert isinstance(refused.value, ModeFileNotFoundError)
        assert refused.value.suggestion
        # a remote client learns nothing about this machine's directories
        shown = refused.value.message.replace(str(outside / "team.yaml"), "<given>")
        assert str(tmp_path) not in shown
    with pytest.raises(ModeFileNotFoundError) as missing:
        runtime.bind(sid, "no_such_mode.yaml")
    assert str(tmp_path) not in missing.value.message
    assert runtime.context(sid, refresh=True).mode_file == "development_mode.yaml"

    # links that stay inside roles/ are fine, and so are subdirectories
    (roles / "team").mkdir()
    write_mode(runtime, "team/core.yaml", TEAM_MODE)
    (roles / "alias.yaml").symlink_to(roles / "team" / "core.yaml")
    assert runtime.bind(sid, "alias.yaml").specialist_count == 2
    assert runtime.bind(sid, "team/core.yaml").mode_file == "team/core.yaml"
    assert "escape.yaml" not in runtime.project.mode_names()


def test_operations_on_sessions_that_are_not_active_raise(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    sid = runtime.initialize_session().session_id
    runtime.terminate(sid)
    for call in (
        lambda: runtime.bind(sid, "default_roles.yaml"),
        lambda: runtime.switch(sid, "default_roles.yaml"),
        lambda: runtime.context(sid),
        lambda: runtime.route(sid, "x"),
        lambda: runtime.resume(sid),
        lambda: runtime.terminate(sid),
        lambda: runtime.bind("nobody", "default_roles.yaml"),
    ):
        with pytest.raises(SessionNotActiveError) as info:
            call()
        assert info.value.suggestion
    runtime.sessions.create_session("unbound", runtime.project.root)
    with pytest.raises(SessionNotBoundError):
        runtime.context("unbound")


# --------------------------------------------------------------------------- switch


def test_switch_backs_up_the_previous_binding_first(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    first = runtime.initialize_session()
    sid = first.session_id
    write_mode(runtime, "team.yaml", TEAM_MODE)
    switched = runtime.switch(sid, "team.yaml")
    assert switched.previous is not None
    assert switched.previous.mode_hash == first.mode_hash
    assert switched.backup is not None
    backup, content = read_backup(switched.backup.path)
    previous_file = bundled_mode_path("development_mode.yaml")  # bound in place
    assert previous_file is not None and content == previous_file.read_bytes()
    assert (backup.reason, backup.session_id, backup.mode_file, backup.mode_hash) == (
        "switch",
        sid,
        "development_mode.yaml",
        first.mode_hash,
    )
    assert compile_path(switched.backup.path).ok  # a backup is itself a valid mode file
    assert _actions(runtime, sid) == [("bind", True), ("switch", True)]
    assert runtime.route(sid, MIGRATION_TASK).specialist == "auditor"


def test_switch_without_backup_is_a_bind_that_reports_the_previous_binding(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    first = runtime.initialize_session()
    sid = first.session_id
    write_mode(runtime, "team.yaml", TEAM_MODE)
    bound = runtime.switch(sid, "team.yaml", backup=False)
    assert bound.backup is None and list(runtime.project.backups.iterdir()) == []
    assert bound.previous is not None
    assert (bound.previous.mode_file, bound.previous.mode_hash) == (
        "development_mode.yaml",
        first.mode_hash,
    )
    assert bound.context is runtime.context(sid) and bound.context.mode_file == "team.yaml"
    binding = runtime.binding(sid)
    assert binding is not None and binding == runtime.sessions.get_binding(sid)
    assert (binding.mode_file, binding.mode_hash) == ("team.yaml", bound.context.mode_hash)
    write_mode(runtime, "broken.yaml", TEAM_MODE_BROKEN)
    with pytest.raises(InvalidModeError):
        runtime.switch(sid, "broken.yaml", backup=False)
    assert runtime.binding(sid) == binding  # unchanged
    assert _actions(runtime, sid) == [("bind", True), ("bind", True), ("bind", False)]

    # a session that never had a binding has no previous one
    runtime.sessions.create_session("fresh", runtime.project.root)
    assert runtime.binding("fresh") is None and runtime.binding("nobody") is None
    assert runtime.switch("fresh", "team.yaml", backup=False).previous is None
    assert runtime.switch("fresh", "default_roles.yaml").previous.mode_file == (  # type: ignore[union-attr]
        "team.yaml"
    )


def test_current_session_is_the_projects_most_recent_active_one(
    make_runtime: RuntimeFactory, tmp_path: Path
) -> None:
    runtime = make_runtime()
    assert runtime.current_session() is None
    first = runtime.initialize_session(session_id="first").session_id
    second = runtime.initialize_session(session_id="second").session_id
    assert runtime.current_session().session_id == second  # type: ignore[union-attr]

    # another project on the same database does not count, whatever its sessions' age
    other_root = tmp_path / "other"
    other_root.mkdir()
    other = make_runtime(root=other_root, cache=tmp_path / "other-cache")
    other.initialize_session(session_id="elsewhere")
    assert runtime.current_session().session_id == second  # type: ignore[union-attr]
    assert other.current_session().session_id == "elsewhere"  # type: ignore[union-attr]

    runtime.terminate(second)
    current = runtime.current_session()
    assert current is not None and current.session_id == first and current.is_active
    runtime.terminate(first)
    assert runtime.current_session() is None


def test_switch_is_refused_when_the_backup_cannot_be_written(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    sid = runtime.initialize_session().session_id
    before = runtime.sessions.get_binding(sid)
    backups = runtime.project.backups
    backups.rmdir()
    backups.write_text("a file where the directory should be")
    with pytest.raises(BackupError) as info:
        runtime.switch(sid, "default_roles.yaml")
    assert "writable" in info.value.suggestion
    assert runtime.sessions.get_binding(sid) == before
    assert _actions(runtime, sid) == [("bind", True)]

    # terminating still works: the failure is stored on the terminate row
    ended = runtime.terminate(sid)
    assert ended.backup is None and ended.error
    assert runtime.history(sid)[-1].error_message == ended.error


# --------------------------------------------------------------------------- context


def test_context_is_cached_for_its_ttl_and_invalidated_by_this_runtime(
    make_runtime: RuntimeFactory, tmp_path: Path
) -> None:
    now = [1000.0]
    # a check interval beyond the TTL: the cache alone decides, as before the version checks
    runtime = make_runtime(context_ttl=60, check_interval=3600, clock=lambda: now[0])
    ctx = runtime.initialize_session()
    sid = ctx.session_id
    assert runtime.context(sid) is ctx
    assert ctx.specialist_roles["architect"]
    assert ctx.custom_roles == ("performance_optimizer", "release_manager")
    assert ctx.configuration["default_complexity"] == 3
    assert {r.task_type for r in ctx.routing_rules} >= {"hotfix_tasks", "general_tasks"}

    # another runtime switches the session: this one sees it at expiry (or on refresh)
    other = make_runtime(cache=tmp_path / "other-cache")
    other.switch(sid, "research_mode.yaml")
    now[0] += 59
    assert runtime.context(sid) is ctx
    assert runtime.context(sid, refresh=True).mode_file == "research_mode.yaml"
    other.bind(sid, "security_review_mode.yaml")
    now[0] += 61
    assert runtime.context(sid).mode_file == "security_review_mode.yaml"

    # this runtime's own bind, switch and terminate invalidate at once
    assert runtime.bind(sid, "default_roles.yaml") is runtime.context(sid)
    assert runtime.context(sid).mode_file == "default_roles.yaml"
    assert runtime.switch(sid, "research_mode.yaml").context is runtime.context(sid)
    runtime.terminate(sid)
    assert sid not in runtime.contexts
    with pytest.raises(SessionNotActiveError):
        runtime.context(sid)


def test_the_context_ttl_is_thirty_minutes_without_sleeping(make_runtime: RuntimeFactory) -> None:
    now = [0.0]
    runtime = make_runtime(clock=lambda: now[0], check_interval=10_000)
    ctx = runtime.initialize_session()
    now[0] += 30 * 60 - 1
    assert runtime.contexts.get(ctx.session_id) is ctx
    now[0] += 2
    assert runtime.contexts.get(ctx.session_id) is None
    assert runtime.context(ctx.session_id) is not ctx  # rebuilt from the database


def test_route_uses_the_session_mode(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    write_mode(runtime, "team.yaml", TEAM_MODE)
    team = runtime.initialize_session(mode_file="team.yaml").session_id
    dev = runtime.initialize_session(mode_file="development_mode.yaml").session_id
    decision = runtime.route(team, MIGRATION_TASK)
    assert (decision.task_type, decision.specialist) == ("migration_tasks", "auditor")
    assert decision.mode_hash == runtime.context(team).mode_hash
    assert runtime.route(team, {"description": "rename a variable"}).specialist == "implementer"
    hotfix = Task(title="fix: crash", description="null pointer", tags=("hotfix",))
    assert runtime.route(dev, hotfix).specialist == "debugger"
    assert runtime.route(dev, MIGRATION_TASK).task_type != "migration_tasks"


# --------------------------------------------------------------------------- terminate, status


def test_terminate_backs_up_atomically_and_ends_the_session(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    ctx = runtime.initialize_session(session_id="team/42: odd id")
    sid = ctx.session_id
    ended = runtime.terminate(sid)
    assert ended.error is None and ended.backup is not None
    assert ended.backup.name.startswith("session_mode_backup_id-")  # a safe file name
    backup, content = read_backup(ended.backup.path)
    assert (backup.reason, backup.session_id, backup.mode_hash) == ("terminate", sid, ctx.mode_hash)
    assert content == bundled_mode_path("development_mode.yaml").read_bytes()  # type: ignore[union-attr]
    assert [p.name for p in runtime.project.backups.iterdir()] == [ended.backup.name]
    assert not ended.session.is_active
    assert runtime.history(sid)[-1].action_type is Action.TERMINATE
    assert runtime.status() == []

    plain = runtime.initialize_session(session_id="s-2").session_id
    assert runtime.terminate(plain).backup.name == "session_mode_backup_s-2.yaml"  # type: ignore[union-attr]


def test_status_reports_mode_info_of_every_active_session(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    write_mode(runtime, "team.yaml", TEAM_MODE)
    team = runtime.initialize_session(mode_file="team.yaml", session_id="team")
    runtime.initialize_session(session_id="dev")
    runtime.sessions.create_session("unbound", runtime.project.root)
    runtime.terminate(runtime.initialize_session(session_id="gone").session_id)

    fresh = make_runtime(cache=runtime.project.root / "empty-cache")  # nothing cached
    infos = {i.session.session_id: i for i in fresh.status()}
    assert sorted(infos) == ["dev", "team", "unbound"]
    info = infos["team"].mode_info
    assert info is not None
    assert (info["mode_file"], info["mode_hash"], info["specialist_count"]) == (
        "team.yaml",
        team.mode_hash,
        2,
    )
    assert info["custom_roles"] == []
    assert info["routing_rules"]["migration_tasks"]["required_specialist"] == "auditor"
    dev = infos["dev"].mode_info
    assert dev is not None and dev["custom_roles"] == ["performance_optimizer", "release_manager"]
    assert infos["unbound"].mode_info is None
    assert infos["team"].to_dict()["mode_info"] == info


# --------------------------------------------------------------------------- backups


def test_backup_list_and_restore(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    team_file = write_mode(runtime, "team.yaml", TEAM_MODE)
    sid = runtime.initialize_session(mode_file="team.yaml").session_id
    taken = runtime.backup(sid, name="before-cleanup")
    assert taken.name == "before-cleanup.yaml"
    with pytest.raises(BackupError, match="exists"):
        runtime.backup(sid, name="before-cleanup")
    with pytest.raises(BackupError):
        runtime.backup(sid, name="../escape")
    only_file = runtime.backup(mode_file="research_mode.yaml")
    assert only_file.session_id is None
    with pytest.raises(SessionRequiredError):  # it names no session to activate it for
        runtime.restore(only_file, activate=True, mode_file="research_copy.yaml")
    assert not (runtime.project.roles / "research_copy.yaml").exists()
    assert [b.name for b in runtime.list_backups()] == [only_file.name, taken.name]

    # the mode file is lost; the backup brings it back byte for byte, and can activate it
    original = team_file.read_bytes()
    team_file.unlink()
    restored = runtime.restore("before-cleanup.yaml")
    assert team_file.read_bytes() == original
    assert restored.context is None
    runtime.bind(sid, "development_mode.yaml")
    activated = runtime.restore(taken, activate=True, mode_file="team_copy.yaml")
    assert activated.context is not None
    assert (activated.context.mode_file, activated.mode_hash) == (
        "team_copy.yaml",
        restored.mode_hash,
    )
    assert runtime.history(sid)[-1].action_type is Action.SWITCH

    # refused: damaged backups, escaping names, unknown names; nothing written
    damaged = runtime.project.backups / "damaged.yaml"
    damaged.write_bytes(taken.path.read_bytes().replace(b"You audit", b"You edit"))
    with pytest.raises(BackupError, match="checksum"):
        runtime.restore("damaged.yaml")
    (runtime.project.backups / "stranger.yaml").write_text("task_orchestrator: {}\n")
    with pytest.raises(BackupError, match="not a modec backup"):
        runtime.restore("stranger.yaml")
    with pytest.raises(UnsafeModePathError):
        runtime.restore("../roles/team.yaml")
    with pytest.raises(UnsafeModePathError):
        runtime.restore("before-cleanup.yaml", mode_file="../../evil.yaml")
    with pytest.raises(BackupError, match="no backup"):
        runtime.restore("nothing-here.yaml")
    assert {b.name for b in runtime.list_backups()} == {
        only_file.name,
        taken.name,
        activated.context and runtime.list_backups()[0].name,
    }


def test_restoring_an_invalid_backup_writes_nothing(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    team_file = write_mode(runtime, "team.yaml", TEAM_MODE_BROKEN)
    broken = runtime.backup(mode_file="team.yaml")
    team_file.write_text(TEAM_MODE)
    with pytest.raises(InvalidModeError):
        runtime.restore(broken)
    assert team_file.read_text() == TEAM_MODE
    assert sorted(p.name for p in runtime.project.roles.iterdir() if p.name.startswith(".")) == []
    with pytest.raises(SessionNotActiveError):
        runtime.restore(broken, activate=True, session_id="nobody")
    with pytest.raises(SessionRequiredError, match="session") as no_session:
        runtime.restore(broken, activate=True)
    assert isinstance(no_session.value, ValueError)
    assert "--session" in no_session.value.suggestion


def test_validate_compiles_without_binding_copying_or_storing(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    # a bundled mode, in a project not initialized: nothing is created or copied
    bundled = runtime.validate("research_mode")
    assert (bundled.name, bundled.bundled, bundled.ok) == ("research_mode.yaml", True, True)
    assert bundled.mode_hash is not None and bundled.mode_hash.startswith("sha256:")
    assert not runtime.project.base.exists()

    runtime.project.ensure()
    write_mode(runtime, "team/core.yaml", TEAM_MODE)
    write_mode(
        runtime,
        "team/broken.yaml",
        TEAM_MODE.replace("required_specialist: auditor", "required_specialist: auditr"),
    )
    good = runtime.validate("team/core.yaml")
    assert (good.name, good.bundled, good.ok) == ("team/core.yaml", False, True)
    assert dict(good.specialist_roles) == {
        "implementer": "Builds features",
        "auditor": "Audits changes",
    }
    assert good.custom_roles == () and good.errors == ()
    assert set(good.checks) == set(CHECK_GROUPS) and all(good.checks.values())
    with pytest.raises(ArtifactNotFoundError):  # not stored in any tier
        runtime.artifacts.get(good.mode_hash)  # type: ignore[arg-type]
    assert good.mode_hash == runtime.prepare_mode("team/core.yaml")[1].mode_hash

    bad = runtime.validate("team/broken")
    assert not bad.ok and bad.mode_hash is None
    assert [d.code for d in bad.errors] == ["MC206", "MC206"]
    assert [d.span.file for d in bad.diagnostics if d.span] == ["team/broken.yaml"] * len(
        bad.diagnostics
    )
    assert list(bad.diagnostics) == sorted(
        bad.diagnostics, key=lambda d: (d.span.line, d.span.column) if d.span else (0, 0)
    )
    assert bad.checks["role_definitions_complete"] is False
    assert bad.checks["yaml_syntax_valid"] is bad.checks["schema_valid"] is True
    assert (bad.first_error or "").startswith("team/broken.yaml:")
    syntax = runtime.validate(write_mode(runtime, "yaml.yaml", TEAM_MODE_BROKEN).name)
    assert syntax.checks["yaml_syntax_valid"] is False and syntax.specialist_roles == {}
    with pytest.raises(UnsafeModePathError):
        runtime.validate("../modec.db")
    assert runtime.sessions.list_sessions(active_only=False) == []


def test_validate_for_a_session_records_a_validate_row(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    ctx = runtime.initialize_session()
    sid = ctx.session_id
    write_mode(runtime, "broken.yaml", TEAM_MODE_BROKEN)
    good = runtime.validate("default_roles.yaml", session_id=sid)
    bad = runtime.validate("broken.yaml", session_id=sid)
    with pytest.raises(ModeFileNotFoundError):
        runtime.validate("missing.yaml", session_id=sid)
    rows = runtime.history(sid)[1:]
    assert [(h.action_type, h.success, h.mode_file, h.mode_hash) for h in rows] == [
        (Action.VALIDATE, True, "default_roles.yaml", good.mode_hash),
        (Action.VALIDATE, False, "broken.yaml", None),
        (Action.VALIDATE, False, "missing.yaml", None),
    ]
    assert rows[0].error_message is None
    assert rows[1].error_message == bad.first_error and "MC004" in (bad.first_error or "")
    assert "missing.yaml" in (rows[2].error_message or "")
    assert runtime.context(sid, refresh=True).mode_hash == ctx.mode_hash  # still bound as was

    runtime.terminate(sid)
    for session in (sid, "nobody"):
        with pytest.raises(SessionNotActiveError):
            runtime.validate("default_roles.yaml", session_id=session)
    assert runtime.history(sid)[-1].action_type is Action.TERMINATE


def test_create_mode_extends_a_template_compiled_before_it_is_written(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    scientist = RoleSpec(
        "data_scientist",
        "You analyse data.",
        description="Data analysis",
        expertise=("statistics",),
    )
    created = runtime.create_mode(
        "analytics",
        "development_mode.yaml",
        [scientist],
        {"default_complexity": "complex", "task_distribution": "specialized"},
        created_by="a test",
    )
    target = runtime.project.roles / "analytics.yaml"
    assert (created.name, created.path, created.template) == (
        "analytics.yaml",
        target,
        "development_mode.yaml",
    )
    assert runtime.project.is_initialized()  # the project is set up once the mode compiles
    document = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert document["mode_metadata"]["extends"] == "development_mode.yaml"
    assert (document["mode_metadata"]["name"], document["mode_metadata"]["created_by"]) == (
        "analytics",
        "a test",
    )
    assert document["data_scientist"] == {
        "role_definition": "You analyse data.",
        "description": "Data analysis",
        "expertise": ["statistics"],
    }
    assert document["mode_configuration"]["task_distribution"] == "specialized"
    assert "data_scientist" in created.custom_roles
    assert "performance_optimizer" in created.custom_roles  # inherited from the template
    assert "architect" in created.specialist_roles
    assert created.configuration["default_complexity"] == 4
    assert created.role_count == len(created.specialist_roles) + len(created.custom_roles) + 1
    assert all(not d.is_error for d in created.diagnostics)
    assert runtime.validate("analytics").mode_hash == created.mode_hash
    sid = runtime.initialize_session(mode_file="analytics.yaml").session_id
    assert runtime.route(sid, "profile the slow endpoint").specialist == "performance_optimizer"

    # extends finds files beside the mode, then bundled modes: a template is taken only
    # where the new file finds that very template (never a bundled namesake of it)
    assert not (runtime.project.roles / "development_mode.yaml").exists()  # no template copied
    defaults = bundled_mode_path("default_roles.yaml")
    assert defaults is not None
    team = runtime.project.roles / "team"
    team.mkdir()
    (team / "base.yaml").write_text(
        defaults.read_text().replace(
            'architect: "System design and architecture planning"', 'architect: "Local design"'
        )
    )
    nested = runtime.create_mode("team/derived", "team/base.yaml")
    assert yaml.safe_load(nested.path.read_text())["mode_metadata"]["extends"] == "base.yaml"
    assert nested.specialist_roles["architect"] == "Local design"
    assert nested.specialist_roles == runtime.validate("team/base.yaml").specialist_roles
    (runtime.project.roles / "alias.yaml").symlink_to(team / "base.yaml")
    assert runtime.create_mode("via_alias", "alias").specialist_roles == (nested.specialist_roles)
    assert not (runtime.project.roles / "research_mode.yaml").exists()  # bundled only
    research = runtime.validate("research_mode.yaml")
    bundled = runtime.create_mode("team/research", "research_mode.yaml")
    assert research.bundled and bundled.template == "research_mode.yaml"
    assert bundled.specialist_roles == research.specialist_roles
    (team / "research_mode.yaml").write_text(TEAM_MODE)  # a namesake beside: not the template
    assert not (runtime.project.roles / "research_mode.yaml").exists()  # (create copies none)
    assert runtime.resolve_mode("research_mode.yaml").bundled
    runtime.project.copy_templates(["default_roles.yaml"])  # a project file: team/ won't see it
    for name, template in (
        ("team/defaults", "default_roles.yaml"),
        ("from_team", "team/base.yaml"),
        ("team/research_again", "research_mode.yaml"),
    ):
        with pytest.raises(UnreachableTemplateError) as unreachable:
            runtime.create_mode(name, template)
        assert isinstance(unreachable.value, ValueError) and unreachable.value.suggestion
        assert ("another file" if "research" in name else "not there") in (
            unreachable.value.message
        )
        assert not (runtime.project.roles / f"{name}.yaml").exists()


def test_create_mode_refuses_and_writes_nothing(
    make_runtime: RuntimeFactory, tmp_path: Path
) -> None:
    runtime = make_runtime()
    with pytest.raises(InvalidModeError) as invalid:
        runtime.create_mode("bad_policy", settings={"hit_policy": "bogus"})
    assert invalid.value.diagnostics
    assert {d.span.file for d in invalid.value.diagnostics if d.span} == {"bad_policy.yaml"}
    assert invalid.value.message.startswith("bad_policy.yaml: ")
    assert not runtime.project.base.exists()  # not even the project was set up

    runtime.create_mode("mine")
    assert runtime.project.mode_names() == ["mine.yaml"]  # no template copied beside it
    runtime.project.ensure(templates=True)  # copied when asked: their names are taken too
    mine = runtime.project.roles / "mine.yaml"
    before = mine.read_bytes()
    for name in ("mine", "mine.yaml", "default_roles.yaml"):
        with pytest.raises(ModeFileExistsError) as taken:
            runtime.create_mode(name, "research_mode.yaml")
        assert taken.value.suggestion
    assert mine.read_bytes() == before

    for roles in (
        [RoleSpec("tests", "x")],
        [RoleSpec("task_orchestrator", "x")],
        [RoleSpec("twin", "x"), RoleSpec("twin", "y")],
    ):
        with pytest.raises(ValueError, match=r"section|twice"):
            runtime.create_mode("with_roles", custom_roles=roles)
    with pytest.raises(ModeFileNotFoundError):
        runtime.create_mode("orphan", "no_such_template.yaml")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(TEAM_MODE)
    for name, template in (
        ("../../evil", "default_roles.yaml"),
        ("/tmp/evil", "default_roles"),
        ("ok", str(outside / "secret.yaml")),
        ("ok", "../../outside/secret"),
    ):
        with pytest.raises(UnsafeModePathError):
            runtime.create_mode(name, template)
    assert sorted(runtime.project.mode_names()) == sorted([*bundled_mode_names(), "mine.yaml"])
    assert not list(runtime.project.roles.glob(".*"))  # no temporary file left behind


def test_list_modes_reports_validity_counts_and_current_sessions(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    runtime.project.ensure(templates=True)
    write_mode(runtime, "team.yaml", TEAM_MODE)
    write_mode(runtime, "broken.yaml", TEAM_MODE_BROKEN)
    sid = runtime.initialize_session(mode_file="team.yaml").session_id
    (runtime.project.roles / "research_mode.yaml").unlink()  # back to a bundled template
    modes = {m.name: m for m in runtime.list_modes()}
    assert set(modes) == {*bundled_mode_names(), "team.yaml", "broken.yaml"}
    assert modes["team.yaml"].valid and modes["team.yaml"].specialist_count == 2
    assert modes["team.yaml"].sessions == (sid,) and modes["team.yaml"].current
    assert modes["team.yaml"].description == "A project mode with its own routing"
    assert not modes["broken.yaml"].valid
    assert "MC004" in (modes["broken.yaml"].error or "")
    assert modes["research_mode.yaml"].bundled and modes["research_mode.yaml"].valid
    assert not modes["default_roles.yaml"].bundled
    assert modes["broken.yaml"].to_dict()["status"] == "invalid"


# --------------------------------------------------------------------------- asyncio


def test_async_runtime_runs_concurrent_calls(
    project: Path, database_url: str, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with await AsyncModeRuntime.open(project, database_url, tmp_path / "cache") as rt:
            contexts = await asyncio.gather(
                *(
                    rt.initialize_session(mode_file=mode)
                    for mode in ("development_mode.yaml", "security_review_mode.yaml") * 3
                )
            )
            sids = [c.session_id for c in contexts]
            decisions = await asyncio.gather(*(rt.route(s, "audit the login flow") for s in sids))
            assert [d.specialist for d in decisions] == ["reviewer", "security_auditor"] * 3
            await asyncio.gather(*(rt.switch(s, "default_roles.yaml") for s in sids))
            assert {(await rt.context(s)).mode_file for s in sids} == {"default_roles.yaml"}
            assert len(await rt.status()) == 6
            resumed = await rt.resume(sids[0])
            assert resumed.outcome.value == "unchanged"
            assert (await rt.current_session()).session_id in sids  # type: ignore[union-attr]
            before = await rt.binding(sids[0])
            bound = await rt.switch(sids[0], "research_mode.yaml", backup=False)
            assert before is not None and bound.previous == before and bound.backup is None
            after = await rt.binding(sids[0])
            assert after is not None and after.mode_file == "research_mode.yaml"
            assert (await rt.validate("research_mode.yaml", session_id=sids[0])).ok
            created = await rt.create_mode("async_mode", "research_mode.yaml")
            assert created.template == "research_mode.yaml"
            await rt.terminate(sids[0])
            with pytest.raises(SessionNotActiveError):
                await rt.route(sids[0], "x")
            assert len(await rt.list_backups()) == 7

    asyncio.run(scenario())


# --------------------------------------------------------------------------- processes

PROCESSES = 4
OPS_PER_PROCESS = 30
SESSIONS = [f"shared-{i}" for i in range(5)]
MODES = ["default_roles.yaml", "development_mode.yaml", "security_review_mode.yaml", "team.yaml"]


@pytest.mark.slow
def test_processes_binding_and_switching_through_the_runtime_lose_and_double_nothing(
    make_runtime: RuntimeFactory, database_url: str, tmp_path: Path
) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    write_mode(runtime, "team.yaml", TEAM_MODE)
    for sid in SESSIONS:
        runtime.initialize_session(mode_file="default_roles.yaml", session_id=sid)
    cache = str(tmp_path / "cache")
    procs = [
        spawn(
            "ops",
            str(runtime.project.root),
            database_url,
            cache,
            str(seed),
            str(OPS_PER_PROCESS),
            ",".join(SESSIONS),
            ",".join(MODES),
        )
        for seed in range(PROCESSES)
    ]
    for proc in procs:
        await_ready(proc)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [result(p) for p in procs]
    assert [r["errors"] for r in results] == [[]] * PROCESSES
    done: Counter[str] = Counter()
    for r in results:
        done.update(r["done"])
    assert sum(done.values()) == PROCESSES * OPS_PER_PROCESS
    assert_switches_replaced_and_backed_up_once(runtime, results)

    hashes = {m: runtime.prepare_mode(m)[1].mode_hash for m in MODES}
    with SessionBindingStore(database_url) as sessions:
        # a reader on another machine: empty diskcache, artifacts only from SQL
        reader = ArtifactStore(sessions, tmp_path / "reader-cache")
        bindings = {b.session_id: b for b in sessions.list_bindings()}
        assert sorted(bindings) == sorted(SESSIONS)
        for sid, binding in bindings.items():
            assert binding.mode_hash == hashes[binding.mode_file]
            assert binding.validation_status is ValidationStatus.VALID
            assert reader.get(binding.mode_hash).mode_hash == binding.mode_hash
            history = sessions.history(sid)
            assert history[0].action_type is Action.BIND  # the initial bind
            for action in (Action.BIND, Action.SWITCH):
                rows = [h for h in history[1:] if h.action_type is action]
                assert len(rows) == done[f"{sid}/{action.value}"], (sid, action)
            assert len(history) == 1 + done[f"{sid}/bind"] + done[f"{sid}/switch"]
            assert all(h.success for h in history)
            assert (history[-1].mode_file, history[-1].mode_hash) == (
                binding.mode_file,
                binding.mode_hash,
            )
        assert reader.stats.sql == len({b.mode_hash for b in bindings.values()})
        reader.close()
    # every switch backed up the binding it replaced, each backup complete
    switches = sum(n for key, n in done.items() if key.endswith("/switch"))
    backups = runtime.list_backups()
    assert len(backups) == switches
    assert all(read_backup(b.path)[1] is not None for b in backups)
    stray = [p for p in runtime.project.backups.iterdir() if p.name.startswith(".")]
    assert stray == []


def test_contexts_expire_in_real_time_too(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime(context_ttl=0.05)
    ctx = runtime.initialize_session()
    assert runtime.context(ctx.session_id) is ctx
    time.sleep(0.06)
    again = runtime.context(ctx.session_id)
    assert again is not ctx and again.mode_hash == ctx.mode_hash


def test_the_database_url_comes_from_the_environment(
    project: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MODEC_DATABASE_URL", database_url)
    with ModeRuntime(project, cache_dir=tmp_path / "cache") as runtime:
        sid = runtime.initialize_session().session_id
    monkeypatch.delenv("MODEC_DATABASE_URL")
    with SessionBindingStore(database_url) as store:
        assert store.get_binding(sid) is not None
    assert not (project / ".task_orchestrator" / "modec.db").exists()
    with ModeRuntime(project, cache_dir=tmp_path / "cache") as default:
        assert default.sessions.url.endswith(os.fspath(project / ".task_orchestrator/modec.db"))
