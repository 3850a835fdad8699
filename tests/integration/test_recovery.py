"""Recovery: the bound mode file edited, broken and deleted mid-session; no artifact left
anywhere; damaged cache and database entries; a second machine without the mode file; a
process killed in the middle of switches. SQLite file and PostgreSQL alike."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import diskcache
import pytest

from modec.compiler.artifact import ARTIFACT_FORMAT
from modec.diagnostics import ModeFileNotFoundError
from modec.runtime.lifecycle import ModeRuntime, ResumeOutcome
from modec.runtime.project import read_backup
from modec.runtime.sessions import Action, SessionBindingStore, ValidationStatus
from modec.runtime.store import ArtifactNotFoundError, ArtifactStore, disk_key
from tests.integration import lifecycle_support as support
from tests.integration.lifecycle_support import (
    MIGRATION_TASK,
    RUN_TIMEOUT,
    TEAM_MODE,
    TEAM_MODE_BROKEN,
    TEAM_MODE_EDITED,
    RuntimeFactory,
    await_ready,
    run_worker,
    spawn,
    write_mode,
)

project = support.project
make_runtime = support.make_runtime

RELEASE_TASK = "release version 2.0"


def _team_session(runtime: ModeRuntime) -> tuple[str, Path]:
    runtime.project.ensure()
    path = write_mode(runtime, "team.yaml", TEAM_MODE)
    return runtime.initialize_session(mode_file="team.yaml").session_id, path


def _last(runtime: ModeRuntime, sid: str) -> tuple[str, bool, str | None]:
    row = runtime.history(sid)[-1]
    return row.action_type.value, row.success, row.error_message


def test_an_edited_mode_file_is_recompiled_and_rebound_on_resume(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    sid, path = _team_session(runtime)
    old = runtime.context(sid)
    assert runtime.route(sid, RELEASE_TASK).specialist == "implementer"

    path.write_text(TEAM_MODE_EDITED)
    assert runtime.route(sid, RELEASE_TASK).specialist == "implementer"  # until resumed
    resumed = runtime.resume(sid)
    assert resumed.outcome is ResumeOutcome.REBOUND and resumed.error is None
    assert resumed.previous is not None and resumed.previous.mode_hash == old.mode_hash
    assert resumed.context.mode_hash != old.mode_hash
    assert runtime.route(sid, RELEASE_TASK).specialist == "release_manager"
    row = runtime.history(sid)[-1]
    assert (row.action_type, row.success, row.mode_hash) == (
        Action.RESUME,
        True,
        resumed.context.mode_hash,
    )

    # a comment-only edit changes no meaning: nothing to rebind
    path.write_text("# reviewed\n" + TEAM_MODE_EDITED)
    again = runtime.resume(sid)
    assert again.outcome is ResumeOutcome.UNCHANGED
    assert again.context.mode_hash == resumed.context.mode_hash
    assert _last(runtime, sid) == ("resume", True, None)


@pytest.mark.parametrize("damage", ["broken", "deleted"])
def test_a_broken_or_deleted_mode_file_leaves_the_session_on_its_last_good_artifact(
    make_runtime: RuntimeFactory, tmp_path: Path, damage: str
) -> None:
    runtime = make_runtime()
    sid, path = _team_session(runtime)
    good = runtime.context(sid)
    backup = runtime.backup(sid)
    if damage == "broken":
        path.write_text(TEAM_MODE_BROKEN)
    else:
        path.unlink()

    resumed = runtime.resume(sid)
    assert resumed.outcome is ResumeOutcome.DEGRADED
    assert resumed.context.mode_hash == good.mode_hash
    assert resumed.context.degraded
    expected = "MC004" if damage == "broken" else "no longer in"
    assert expected in (resumed.error or "")
    action, success, error = _last(runtime, sid)
    assert (action, success) == ("resume", False) and expected in (error or "")
    binding = runtime.sessions.get_binding(sid)
    assert binding is not None
    assert (binding.validation_status, binding.mode_hash) == (
        ValidationStatus.DEGRADED,
        good.mode_hash,
    )
    assert runtime.route(sid, MIGRATION_TASK).specialist == "auditor"

    # another process with nothing in memory and an empty diskcache routes the same way
    other = make_runtime(cache=tmp_path / "other-cache")
    assert other.route(sid, MIGRATION_TASK).specialist == "auditor"
    assert other.artifacts.stats.sql == 1 and other.artifacts.stats.compiled == 0
    assert other.status()[0].mode_info["validation_status"] == "degraded"  # type: ignore[index]

    # resuming again while still broken keeps it degraded, and records it again
    assert runtime.resume(sid).outcome is ResumeOutcome.DEGRADED
    # the file comes back (from the backup): recovered, valid again
    runtime.restore(backup.name)
    recovered = runtime.resume(sid)
    assert recovered.outcome is ResumeOutcome.RECOVERED
    assert recovered.context.validation_status is ValidationStatus.VALID
    assert recovered.context.mode_hash == good.mode_hash
    assert [h.action_type.value for h in runtime.history(sid)] == [
        "bind",
        "resume",
        "resume",
        "resume",
    ]


def test_with_no_artifact_anywhere_resume_falls_back_to_the_default_mode(
    make_runtime: RuntimeFactory, tmp_path: Path
) -> None:
    runtime = make_runtime()
    sid, path = _team_session(runtime)
    good = runtime.context(sid)
    path.write_text(TEAM_MODE_BROKEN)
    assert runtime.sessions.delete_artifact(good.mode_hash)

    fresh = make_runtime(cache=tmp_path / "fresh-cache")  # another machine: no disk copy
    with pytest.raises(ArtifactNotFoundError) as lost:
        fresh.route(sid, MIGRATION_TASK)
    assert "resume" in lost.value.suggestion
    resumed = fresh.resume(sid)
    assert resumed.outcome is ResumeOutcome.FALLBACK
    assert resumed.context.mode_file == "development_mode.yaml"  # the project's default
    assert resumed.context.validation_status is ValidationStatus.FALLBACK
    assert "MC004" in (resumed.error or "") and good.mode_hash in (resumed.error or "")
    rows = [(h.action_type.value, h.success) for h in fresh.history(sid)]
    assert rows == [("bind", True), ("resume", False), ("fallback", True)]
    assert fresh.route(sid, "profile the slow query").specialist == "performance_optimizer"

    # the fallback binding is the session's binding now: resuming confirms it as valid,
    # and once the file is fixed it can be bound again
    back = fresh.resume(sid)
    assert back.outcome is ResumeOutcome.RECOVERED
    assert back.context.validation_status is ValidationStatus.VALID
    assert back.context.mode_file == "development_mode.yaml"
    path.write_text(TEAM_MODE)
    assert fresh.bind(sid, "team.yaml").mode_hash == good.mode_hash


def test_fallback_uses_the_bundled_default_when_the_project_copy_is_broken_too(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    sid = runtime.sessions.create_session(None, runtime.project.root).session_id
    write_mode(runtime, "development_mode.yaml", TEAM_MODE_BROKEN)
    resumed = runtime.resume(sid)  # never bound, and the default is broken in roles/
    assert resumed.outcome is ResumeOutcome.FALLBACK
    assert resumed.context.mode_file == "development_mode.yaml"
    assert resumed.context.specialist_count == 7  # the bundled development mode
    assert resumed.error == "the session has no binding"


def test_damaged_cache_and_database_entries_are_rebuilt_mid_session(
    make_runtime: RuntimeFactory, database_url: str, tmp_path: Path
) -> None:
    runtime = make_runtime()
    sid, _ = _team_session(runtime)
    mode_hash = runtime.context(sid).mode_hash
    artifact_bytes = runtime.artifacts.get(mode_hash).to_bytes()
    runtime.close()
    with diskcache.Cache(str(tmp_path / "cache")) as dc:
        dc.set(disk_key(mode_hash), artifact_bytes[:-1] + b"!")
    with SessionBindingStore(database_url) as store:
        store.delete_artifact(mode_hash)
        store.put_artifact(mode_hash, ARTIFACT_FORMAT, b"garbage")

    reopened = make_runtime()  # same project, same diskcache: both copies are damaged
    assert reopened.route(sid, MIGRATION_TASK).specialist == "auditor"
    stats = reopened.artifacts.stats
    assert (stats.evicted, stats.compiled) == (2, 1)  # rebuilt from the unchanged mode file
    with SessionBindingStore(database_url) as store:
        assert store.get_artifact(mode_hash) == (ARTIFACT_FORMAT, artifact_bytes)
    with diskcache.Cache(str(tmp_path / "cache")) as dc:
        assert dc.get(disk_key(mode_hash)) == artifact_bytes


def test_a_second_machine_routes_through_the_sql_tier_without_the_mode_file(
    make_runtime: RuntimeFactory, database_url: str, tmp_path: Path
) -> None:
    runtime = make_runtime()
    sid, path = _team_session(runtime)
    path.unlink()  # not even this machine has the file any more
    elsewhere = tmp_path / "machine-b"
    elsewhere.mkdir()
    empty_cache = tmp_path / "machine-b-cache"

    answer = run_worker(
        "route",
        str(elsewhere),
        database_url,
        str(empty_cache),
        sid,
        json.dumps({"description": MIGRATION_TASK}),
    )
    assert answer["decision"]["specialist"] == "auditor"
    assert answer["decision"]["task_type"] == "migration_tasks"
    assert answer["stats"]["sql"] == 1
    assert answer["stats"]["compiled"] == answer["stats"]["disk"] == 0
    assert not (elsewhere / ".task_orchestrator" / "roles" / "team.yaml").exists()
    # and it left the artifact in that machine's diskcache for next time
    assert ArtifactStore(None, empty_cache).get(runtime.context(sid).mode_hash)


@pytest.mark.slow
def test_sigkill_in_the_middle_of_switches_leaves_a_whole_binding_and_whole_backups(
    make_runtime: RuntimeFactory, database_url: str, tmp_path: Path
) -> None:
    runtime = make_runtime()
    sid, _ = _team_session(runtime)
    modes = ["team.yaml", "default_roles.yaml", "research_mode.yaml"]
    hashes = {m: runtime.prepare_mode(m)[1].mode_hash for m in modes}
    rng = random.Random(7)
    rounds, progressed, count = 5, 0, 1
    for _ in range(rounds):
        proc = spawn(
            "switch-loop",
            str(runtime.project.root),
            database_url,
            str(tmp_path / "cache"),
            sid,
            ",".join(modes),
        )
        await_ready(proc)
        time.sleep(rng.uniform(0.05, 0.25))
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=RUN_TIMEOUT)
        assert proc.returncode == -signal.SIGKILL

        binding = runtime.sessions.get_binding(sid)
        history = runtime.history(sid)
        assert binding is not None and binding.mode_hash == hashes[binding.mode_file]
        assert (history[-1].mode_file, history[-1].mode_hash) == (
            binding.mode_file,
            binding.mode_hash,
        )
        assert all(h.success for h in history)
        assert runtime.context(sid, refresh=True).mode_hash == binding.mode_hash
        progressed += len(history) > count + 1  # beyond the switch made before "ready"
        count = len(history)
        # every backup that is visible is complete (temporary files are hidden, then renamed)
        for backup in runtime.list_backups():
            assert read_backup(backup.path)[1] is not None
        visible = [p for p in runtime.project.backups.iterdir() if not p.name.startswith(".")]
        assert len(visible) == len(runtime.list_backups())
    assert progressed >= rounds // 2, "the child was killed before switching too often to tell"
    assert runtime.switch(sid, "team.yaml").context.mode_file == "team.yaml"  # no lock left


def test_missing_mode_in_a_recovered_project_is_reported_with_a_suggestion(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    sid, path = _team_session(runtime)
    path.unlink()
    with pytest.raises(ModeFileNotFoundError) as info:
        runtime.bind(sid, "team.yaml")
    assert "team.yaml" in info.value.message and "available modes" in info.value.suggestion
    assert _last(runtime, sid)[:2] == ("bind", False)
    assert runtime.route(sid, MIGRATION_TASK).specialist == "auditor"  # still bound
