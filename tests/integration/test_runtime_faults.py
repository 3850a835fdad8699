"""Regressions of the runtime under faults and growth (issue 15 items 6, 10, 11, 13; issue
10 item 5; issue 9 item 5), on real files, real processes and both databases."""

from __future__ import annotations

import inspect
import os
import sqlite3
import time
from pathlib import Path

import pytest

from modec.diagnostics import ModeFileNotFoundError
from modec.runtime.lifecycle import AsyncModeRuntime, ModeRuntime, UnsafeModeNameError
from modec.runtime.project import BackupRetention, prune_backups, read_backup
from modec.runtime.sessions import SessionBindingStore
from tests.integration.lifecycle_support import (
    TEAM_MODE,
    TEAM_MODE_EDITED,
    RuntimeFactory,
    make_runtime,
    project,
    run_worker,
    write_mode,
)

__all__ = ["make_runtime", "project"]  # fixtures


# --------------------------------------------------------------------------- full disk


def test_a_full_disk_does_not_fail_read_only_commands(tmp_path: Path, project: Path) -> None:
    """Writes limited to 0 bytes (``RLIMIT_FSIZE`` in a real subprocess): SQLite cannot even
    create its WAL index. Listing, status, routing, history and backups still answer."""
    with ModeRuntime(project) as runtime:
        sid = runtime.initialize_session().session_id
        runtime.switch(sid, "research_mode.yaml")
    out = run_worker("read-only", str(project), "", str(project / ".task_orchestrator/cache"), "0")
    assert out["status"] == [sid]
    assert out["route"] == "researcher"
    assert out["history"] == 2 and out["backups"] == 1
    assert "research_mode.yaml" in out["modes"]
    # a write is refused with the reason, and the binding is untouched
    assert out["write_error"].startswith("ModecError: the session database is open read-only")
    with ModeRuntime(project) as runtime:
        assert runtime.binding(sid).mode_file == "research_mode.yaml"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- retries


def test_the_retry_path_runs_while_another_connection_holds_the_sqlite_lock(
    sqlite_file_url: str,
) -> None:
    with SessionBindingStore(sqlite_file_url) as setup:
        setup.create_session("s", "/project")
    holder = sqlite3.connect(sqlite_file_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a real writer holding the lock
    retries: list[int] = []

    def release_after_two(attempt: int, exc: BaseException) -> None:
        retries.append(attempt)
        if len(retries) == 2:
            holder.execute("COMMIT")

    store = SessionBindingStore(sqlite_file_url, busy_timeout=0.01, on_retry=release_after_two)
    try:
        binding = store.bind("s", "a.yaml", "sha256:" + "1" * 64)
        assert retries == [1, 2]  # two attempts failed on the lock, the third bound
        assert store.get_binding("s") == binding
        assert [h.action_type.value for h in store.history("s")] == ["bind"]  # once
    finally:
        store.dispose()
        holder.close()


def test_retries_are_bounded_and_the_last_error_is_raised(sqlite_file_url: str) -> None:
    with SessionBindingStore(sqlite_file_url) as setup:
        setup.create_session("s", "/project")
    holder = sqlite3.connect(sqlite_file_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    retries: list[int] = []
    store = SessionBindingStore(
        sqlite_file_url,
        busy_timeout=0.01,
        max_attempts=3,
        on_retry=lambda attempt, exc: retries.append(attempt),
    )
    try:
        with pytest.raises(Exception, match="locked"):
            store.bind("s", "a.yaml", "sha256:" + "1" * 64)
        assert retries == [1, 2]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        store.dispose()


# --------------------------------------------------------------------------- roles/


def test_unreadable_roles_entries_are_listed_as_invalid_never_fatal(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    roles = runtime.project.roles
    (roles / "loop.yaml").symlink_to("loop.yaml")
    (roles / "ping.yaml").symlink_to("pong.yaml")
    (roles / "pong.yaml").symlink_to("ping.yaml")
    (roles / "team").mkdir()
    (roles / "team" / "spin.yaml").symlink_to("spin.yaml")
    modes = {m.name: m for m in runtime.list_modes()}
    for name in ("loop.yaml", "ping.yaml", "pong.yaml", "team/spin.yaml"):
        assert not modes[name].valid
        assert modes[name].error and modes[name].error.startswith(f"{name}: cannot be read")
        assert str(roles) not in modes[name].error
    assert modes["default_roles.yaml"].valid
    sid = runtime.initialize_session().session_id  # starting a session works too
    assert runtime.route(sid, "profile the slow endpoint").specialist
    # a loop where the default mode would be: a clear error naming it, no traceback
    (roles / "development_mode.yaml").symlink_to("development_mode.yaml")
    with pytest.raises(ModeFileNotFoundError, match=r"development_mode\.yaml' cannot be read"):
        runtime.initialize_session()
    with pytest.raises(ModeFileNotFoundError):
        runtime.bind(sid, "loop.yaml")
    assert not next(m for m in runtime.list_modes() if m.name == "development_mode.yaml").valid


# --------------------------------------------------------------------------- growth


def test_stray_temporary_files_of_killed_writers_are_cleaned(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    old = time.time() - 2 * 3600
    stale = [runtime.project.roles / ".team.yaml.x1.tmp", runtime.project.backups / ".b.yaml.x.tmp"]
    for path in stale:
        path.write_bytes(b"half a file")
        os.utime(path, (old, old))
    live = runtime.project.roles / ".other.yaml.x2.tmp"  # a writer may still be at it
    live.write_bytes(b"being written")
    reopened = make_runtime()
    assert reopened.project.roles.is_dir()
    assert [p.exists() for p in stale] == [False, False]
    assert live.exists()


def test_a_long_switch_loop_keeps_a_bounded_number_of_backups(
    make_runtime: RuntimeFactory,
) -> None:
    runtime = make_runtime(retention=BackupRetention(max_count=25))
    sid = runtime.initialize_session().session_id
    modes = ["research_mode.yaml", "development_mode.yaml", "default_roles.yaml"]
    counts = []
    for i in range(300):
        runtime.switch(sid, modes[i % 3])
        counts.append(len(list(runtime.project.backups.iterdir())))
    assert max(counts) == 25 and counts[-1] == 25
    names = sorted(p.name for p in runtime.project.backups.iterdir())
    newest = runtime.list_backups()[0]
    assert newest.name in names and newest.binding_version == runtime.history(sid)[-2].id
    print(f"\nbackups after 300 switches with max_count=25: {counts[-1]}")


def test_backups_older_than_the_retention_age_are_pruned(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    for stamp in ("20200101_000000_000000", "20991231_000000_000000"):
        (folder / f"mode_backup_{stamp}_s1.yaml").write_text("x")
    (folder / "manual-before-cleanup.yaml").write_text("kept: named by a person")
    (folder / "session_mode_backup_s1.yaml").write_text("kept: one per session")
    removed = prune_backups(folder, BackupRetention())  # the seed's 30 days
    assert [p.name for p in removed] == ["mode_backup_20200101_000000_000000_s1.yaml"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "manual-before-cleanup.yaml",
        "mode_backup_20991231_000000_000000_s1.yaml",
        "session_mode_backup_s1.yaml",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "evil\nname",  # a newline
        "report\u202egnp.yaml",  # a right-to-left override
        "rеsearch_mode",  # a Cyrillic "е"
        "сорусат",  # all Cyrillic, every letter a Latin lookalike
        "cafe\u0301",  # not NFC
        "ｔｅａｍ",  # fullwidth
        "zero\u200bwidth",  # a zero-width space
        "two words",
        "сорусат.yaml",  # all lookalikes, the file type aside
        "режим_mode.yaml",  # Cyrillic beside Latin in the name itself
    ],
)
def test_create_mode_refuses_names_people_could_misread(
    make_runtime: RuntimeFactory, name: str
) -> None:
    runtime = make_runtime()
    with pytest.raises(UnsafeModeNameError):
        runtime.create_mode(name)
    assert not runtime.project.base.exists()  # nothing written, not even the layout


@pytest.mark.parametrize(
    "name",
    ["team_mode", "team/analytics", "données", "команда", "v1.2-x", "режим.yaml", "日本語.yml"],
)
def test_create_mode_accepts_plain_names_of_one_script(
    make_runtime: RuntimeFactory, name: str
) -> None:
    created = make_runtime().create_mode(name)
    assert created.path.is_file()


# --------------------------------------------------------------------------- restore


def test_restore_backs_up_a_mode_file_edited_since_the_backup(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    runtime.project.ensure()
    path = write_mode(runtime, "team.yaml", TEAM_MODE)
    taken = runtime.backup(mode_file="team.yaml")
    path.write_text(TEAM_MODE_EDITED)  # edited after the backup
    runtime.restore(taken)
    assert path.read_text() == TEAM_MODE
    kept = [b for b in runtime.list_backups() if b.reason == "restore"]
    assert len(kept) == 1 and read_backup(kept[0].path)[1] == TEAM_MODE_EDITED.encode()
    runtime.restore(taken)  # unchanged since: nothing more to keep
    assert len([b for b in runtime.list_backups() if b.reason == "restore"]) == 1


# --------------------------------------------------------------------------- asyncio facade


def test_the_async_runtime_mirrors_every_public_method_of_the_runtime() -> None:
    def public(cls: type) -> dict[str, inspect.Signature]:
        return {
            name: inspect.signature(member)
            for name, member in vars(cls).items()
            if callable(member) and not name.startswith("_")
        }

    sync, coro = public(ModeRuntime), public(AsyncModeRuntime)
    missing = sorted(set(sync) - set(coro))
    assert missing == [], f"AsyncModeRuntime lacks {missing}"
    for name, signature in sync.items():
        assert inspect.iscoroutinefunction(getattr(AsyncModeRuntime, name)), name
        assert list(coro[name].parameters) == list(signature.parameters), name
        for param, expected in signature.parameters.items():
            got = coro[name].parameters[param]
            assert (got.kind, got.default) == (expected.kind, expected.default), (name, param)
