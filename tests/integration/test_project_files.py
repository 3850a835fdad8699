"""Hands off the host's files: bundled modes are read in place, nothing is copied into
``roles/`` unless asked, and the project's own role file is its default mode.

MCP Task Orchestrator 1.8.0 (the PyPI wheel) loads the first ``*.yaml`` of
``.task_orchestrator/roles/`` and, finding none, writes ``roles/project_roles.yaml`` from its
built-in template (``role_loader.create_project_roles_file``: the wheel ships no
``config/default_roles.yaml``). That template is the corpus file used here, byte for byte.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modec.compiler.build import bundled_mode_names, bundled_mode_path
from modec.diagnostics import ModeFileNotFoundError
from modec.runtime.lifecycle import ResumeOutcome
from modec.runtime.project import (
    PROJECT_ROLES_FILE,
    ProjectLayout,
    default_mode_name,
    read_backup,
    resolve_default_mode,
)
from tests.integration import lifecycle_support as support
from tests.integration.lifecycle_support import (
    MIGRATION_TASK,
    TEAM_MODE,
    RuntimeFactory,
    write_mode,
)

project = support.project
make_runtime = support.make_runtime

CORPUS = Path(__file__).resolve().parents[1] / "conformance" / "corpus"
#: What ``mcp-task-orchestrator==1.8.0`` writes into a project without role files.
ORCHESTRATOR_ROLES = CORPUS / (
    "EchoingVesper__vespera-atelier__archive__v1-database-archives__20250818-044220__"
    "monorepo-root-vespera_scriptorium__roles__project_roles.yaml"
)


def _entries(layout: ProjectLayout) -> list[str]:
    return sorted(p.name for p in layout.roles.iterdir()) if layout.roles.is_dir() else []


def _bundled_bytes(name: str) -> bytes:
    path = bundled_mode_path(name)
    assert path is not None
    return path.read_bytes()


def test_sessions_read_bundled_modes_in_place_and_write_no_mode_file(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    layout = runtime.project
    ctx = runtime.initialize_session()
    assert (ctx.mode_file, _entries(layout)) == ("development_mode.yaml", [])
    sid = ctx.session_id
    for name in bundled_mode_names():
        assert runtime.switch(sid, name).context.mode_file == name
    assert _entries(layout) == []
    assert runtime.route(sid, "Audit the session cookies").specialist

    # status, listing, backups and resume all handle a mode bound in place
    [info] = runtime.status()
    assert info.mode_info is not None and info.mode_info["mode_file"] == bundled_mode_names()[-1]
    listed = {m.name: m for m in runtime.list_modes()}
    assert listed[bundled_mode_names()[-1]].bundled
    assert listed[bundled_mode_names()[-1]].sessions == (sid,)
    backup = runtime.backup(sid)
    assert read_backup(backup.path)[1] == _bundled_bytes(backup.mode_file)
    resumed = runtime.resume(sid)
    assert resumed.outcome is ResumeOutcome.UNCHANGED
    assert runtime.terminate(sid).backup is not None
    assert _entries(layout) == []


def test_a_project_file_named_like_a_bundled_mode_takes_over_at_resume(
    make_runtime: RuntimeFactory,
) -> None:
    """A name is resolved the same way at every bind and resume: ``roles/`` first, then the
    bundled mode. A project customizes a bundled mode by writing a file of its name."""
    runtime = make_runtime()
    sid = runtime.initialize_session(mode_file="research_mode.yaml").session_id
    bundled_hash = runtime.context(sid).mode_hash
    write_mode(runtime, "research_mode.yaml", TEAM_MODE)
    rebound = runtime.resume(sid)
    assert rebound.outcome is ResumeOutcome.REBOUND
    assert rebound.context.mode_file == "research_mode.yaml"
    assert rebound.context.mode_hash != bundled_hash
    assert runtime.route(sid, MIGRATION_TASK).specialist == "auditor"
    (runtime.project.roles / "research_mode.yaml").unlink()
    back = runtime.resume(sid)  # the bundled mode of that name again, still validated
    assert back.outcome is ResumeOutcome.REBOUND and back.context.mode_hash == bundled_hash


def test_the_projects_own_role_file_is_its_default_mode(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    layout = runtime.project
    layout.ensure()
    shutil.copyfile(ORCHESTRATOR_ROLES, layout.roles / PROJECT_ROLES_FILE)
    assert runtime.default_mode() == PROJECT_ROLES_FILE
    ctx = runtime.initialize_session()
    assert ctx.mode_file == PROJECT_ROLES_FILE
    assert set(ctx.specialist_roles) == {
        "architect",
        "implementer",
        "debugger",
        "documenter",
        "reviewer",
        "tester",
        "researcher",
    }
    # the classic keyword behaviour on the orchestrator's own file: a task type by keyword,
    # the classic default specialist for it, as the file has no routing rules
    decision = runtime.route(ctx.session_id, "Write the documentation for the API")
    assert (decision.task_type, decision.specialist) == ("documentation_tasks", "implementer")
    assert _entries(layout) == [PROJECT_ROLES_FILE]  # nothing written beside it


def test_default_mode_precedence(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    layout = ProjectLayout.at(root)
    chosen = resolve_default_mode(root)
    assert (chosen.name, chosen.bundled) == ("development_mode.yaml", True)  # read in place
    assert not layout.base.exists()
    layout.copy_templates(["default_roles.yaml"])
    assert (resolve_default_mode(root).name, resolve_default_mode(root).bundled) == (
        "default_roles.yaml",
        False,
    )
    layout.copy_templates(["development_mode.yaml"])
    assert (resolve_default_mode(root).name, resolve_default_mode(root).bundled) == (
        "development_mode.yaml",
        False,
    )
    shutil.copyfile(ORCHESTRATOR_ROLES, layout.roles / PROJECT_ROLES_FILE)
    assert layout.default_mode().name == PROJECT_ROLES_FILE
    assert layout.default_mode().path == (layout.roles / PROJECT_ROLES_FILE).resolve()

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "README.md").write_text("# docs\n")
    assert default_mode_name(docs) == "documentation_mode.yaml"
    assert default_mode_name(tmp_path / "empty") == "default_roles.yaml"


def test_an_unreadable_project_role_file_is_never_passed_over(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    roles = runtime.project.roles
    (roles / PROJECT_ROLES_FILE).symlink_to(PROJECT_ROLES_FILE)  # a loop
    assert runtime.default_mode() == PROJECT_ROLES_FILE  # a name: nothing fails to list
    assert not next(m for m in runtime.list_modes() if m.name == PROJECT_ROLES_FILE).valid
    with pytest.raises(ModeFileNotFoundError, match=r"project_roles\.yaml' cannot be read"):
        runtime.initialize_session()
    assert runtime.sessions.list_sessions() == []


def test_templates_are_copied_only_when_asked_and_never_over_a_file(tmp_path: Path) -> None:
    layout = ProjectLayout.at(tmp_path)
    written = layout.ensure()
    assert [p.name for p in written] == [".gitignore"] and _entries(layout) == []
    with pytest.raises(ModeFileNotFoundError) as unknown:
        layout.copy_templates(["research_mode.yaml", "no_such_mode.yaml"])
    assert "no_such_mode.yaml" in unknown.value.message
    assert unknown.value.suggestion and "research_mode.yaml" in unknown.value.suggestion
    assert _entries(layout) == []  # nothing copied for a request naming an unknown mode
    assert layout.copy_templates(["research_mode.yaml"]) == [layout.roles / "research_mode.yaml"]
    edited = layout.roles / "research_mode.yaml"
    edited.write_text(edited.read_text() + "\n# mine\n")
    copied = layout.ensure(templates=True)
    assert sorted(p.name for p in copied) == sorted(
        n for n in bundled_mode_names() if n != "research_mode.yaml"
    )
    assert edited.read_text().endswith("# mine\n")
    assert layout.ensure(templates=True) == []


def test_restoring_a_backup_of_a_bundled_binding_writes_the_project_file_asked_for(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    ctx = runtime.initialize_session(mode_file="research_mode.yaml")
    ended = runtime.terminate(ctx.session_id)
    assert ended.backup is not None and _entries(runtime.project) == []
    fresh = runtime.initialize_session(session_id="next")
    restored = runtime.restore(ended.backup.name, activate=True, session_id="next")
    assert (restored.mode_file, restored.mode_hash) == ("research_mode.yaml", ctx.mode_hash)
    assert _entries(runtime.project) == ["research_mode.yaml"]  # asked for: a project file now
    assert restored.path.read_bytes() == _bundled_bytes("research_mode.yaml")
    assert restored.context is not None and restored.context.session_id == fresh.session_id
    assert not runtime.resolve_mode("research_mode.yaml").bundled
