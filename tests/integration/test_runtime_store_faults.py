"""Regressions of the artifact store under faults (issue 15 items 1 and 6).

* A misfiled source-index entry bound a session to another mode, silently: the diskcache
  entry mapping a mode file to its compiled hash was used unverified.
* A damaged diskcache database stopped the runtime from opening (``UnicodeDecodeError`` was
  not among the handled disk errors) instead of disabling the tier with a warning.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import diskcache
import pytest

from modec.runtime.sessions import SessionBindingStore
from modec.runtime.store import ArtifactStore
from tests.integration.lifecycle_support import (
    TEAM_MODE,
    RuntimeFactory,
    make_runtime,
    project,
)

__all__ = ["make_runtime", "project"]  # fixtures

PROFILE = "profile the slow endpoint"


def _index_entries(cache: Path) -> dict[str, Any]:
    """Source-index entries of the diskcache at ``cache``, by the file name they are for."""
    with diskcache.Cache(str(cache)) as disk:
        return {
            os.path.basename(key[3]): (key, disk[key])
            for key in disk.iterkeys()
            if isinstance(key, tuple) and key[0] == "source-index"
        }


def test_cross_wired_source_index_entries_never_choose_the_mode(
    make_runtime: RuntimeFactory, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    runtime = make_runtime(cache=cache)
    sid = runtime.initialize_session(mode_file="research_mode.yaml").session_id
    runtime.switch(sid, "development_mode.yaml")
    expected = runtime.context(sid).mode_hash
    runtime.switch(sid, "research_mode.yaml")
    runtime.close()

    entries = _index_entries(cache)
    (dev_key, dev_value), (research_key, research_value) = (
        entries["development_mode.yaml"],
        entries["research_mode.yaml"],
    )
    with diskcache.Cache(str(cache)) as disk:  # swap the two entries
        disk[dev_key], disk[research_key] = research_value, dev_value

    fresh = make_runtime(cache=cache)  # a new process: empty memory tiers
    switched = fresh.switch(sid, "development_mode.yaml")
    assert switched.context.mode_hash == expected
    assert fresh.route(sid, PROFILE).specialist == "performance_optimizer"
    assert fresh.artifacts.stats.compiled == 1 and fresh.artifacts.stats.evicted >= 1
    assert fresh.resume(sid).outcome.value == "unchanged"


def test_a_forged_index_entry_naming_the_file_but_another_hash_is_refused(
    make_runtime: RuntimeFactory, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    runtime = make_runtime(cache=cache)
    sid = runtime.initialize_session(mode_file="development_mode.yaml").session_id
    dev_hash = runtime.context(sid).mode_hash
    research_hash = runtime.prepare_mode("research_mode.yaml")[1].mode_hash
    runtime.close()
    entries = _index_entries(cache)
    key, value = entries["development_mode.yaml"]
    forged = value.replace(dev_hash.encode(), research_hash.encode())
    assert forged != value
    with diskcache.Cache(str(cache)) as disk:
        disk[key] = forged  # names the right file, points at research_mode's artifact

    fresh = make_runtime(cache=cache)
    assert fresh.switch(sid, "development_mode.yaml").context.mode_hash == dev_hash
    assert fresh.route(sid, PROFILE).specialist == "performance_optimizer"
    assert fresh.artifacts.stats.evicted == 1


def _break_a_value(cache: Path, how: str) -> None:
    with diskcache.Cache(str(cache)) as disk:
        key = next(k for k in disk.iterkeys() if isinstance(k, tuple) and k[0] != "source-index")
    db = sqlite3.connect(cache / "cache.db")
    try:
        rowid = next(
            r
            for (r, k) in db.execute("SELECT rowid, key FROM Cache")
            if isinstance(k, bytes) and key[1].encode() in k
        )
        if how == "undecodable text":  # a text value file that is not UTF-8
            (cache / "bad.val").write_bytes(b"\xff\xfe\xfa not utf-8")
            db.execute(
                "UPDATE Cache SET mode = 3, filename = 'bad.val', value = NULL WHERE rowid = ?",
                (rowid,),
            )
        else:  # a pickled value that does not unpickle
            db.execute(
                "UPDATE Cache SET mode = 4, value = ? WHERE rowid = ?",
                (b"\x80\x05\xff garbage", rowid),
            )
        db.commit()
    finally:
        db.close()


@pytest.mark.parametrize("how", ["undecodable text", "unpicklable value"])
def test_any_exception_of_a_damaged_diskcache_disables_the_tier_with_a_warning(
    make_runtime: RuntimeFactory, tmp_path: Path, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    runtime = make_runtime(cache=cache)
    sid = runtime.initialize_session(mode_file="development_mode.yaml").session_id
    runtime.close()
    _break_a_value(cache, how)
    with caplog.at_level(logging.WARNING, logger="modec.runtime.store"):
        fresh = make_runtime(cache=cache)
        assert fresh.route(sid, PROFILE).specialist == "performance_optimizer"
    assert not fresh.artifacts.disk_enabled
    assert "running without it" in caplog.text
    assert fresh.artifacts.stats.sql == 1  # answered by the database instead


def test_a_cache_directory_that_is_a_file_disables_the_tier(
    store: SessionBindingStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "not-a-dir"
    cache.write_text("a file")
    with caplog.at_level(logging.WARNING, logger="modec.runtime.store"):
        artifacts = ArtifactStore(store, cache)
    assert not artifacts.disk_enabled and "running without it" in caplog.text
    path = tmp_path / "team.yaml"
    path.write_text(TEAM_MODE)
    assert artifacts.compile(path).mode_hash
    artifacts.close()
