"""The artifact store's tiers on real parts: a diskcache directory, the SQL table on a SQLite
file and on PostgreSQL, and the compiler. Corrupt and stale entries are evicted and rebuilt,
never returned."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import diskcache
import pytest

from modec.compiler.artifact import ARTIFACT_FORMAT, Artifact
from modec.compiler.build import bundled_mode_path
from modec.compiler.pipeline import compile_mode, compile_path
from modec.diagnostics import InvalidModeError
from modec.runtime.router import load_router
from modec.runtime.sessions import SessionBindingStore
from modec.runtime.store import ArtifactNotFoundError, ArtifactStore, disk_key
from tests.integration.lifecycle_support import MIGRATION_TASK, TEAM_MODE, TEAM_MODE_EDITED


class CountingCompiler:
    """The real compiler, counting its calls."""

    def __init__(self) -> None:
        self.calls: list[Path] = []

    def __call__(self, path: Path, name: str) -> Artifact:
        self.calls.append(path)
        compilation = compile_path(path, display=name)
        compilation.raise_for_errors()
        assert compilation.artifact is not None
        return compilation.artifact


@pytest.fixture
def team_mode(tmp_path: Path) -> Path:
    path = tmp_path / "roles" / "team.yaml"
    path.parent.mkdir()
    path.write_text(TEAM_MODE)
    return path


@pytest.fixture
def compiler() -> CountingCompiler:
    return CountingCompiler()


def _open(
    sessions: SessionBindingStore | None,
    cache: Path | None,
    compiler: CountingCompiler | None = None,
    **options: int,
) -> ArtifactStore:
    return ArtifactStore(sessions, cache, compiler=compiler, **options)


# --------------------------------------------------------------------------- tiers


def test_get_goes_down_the_tiers_and_fills_each_on_the_way_back(
    store: SessionBindingStore, tmp_path: Path, team_mode: Path, compiler: CountingCompiler
) -> None:
    first = _open(store, tmp_path / "cache", compiler)
    artifact = first.compile(team_mode)
    mode_hash = artifact.mode_hash
    assert len(compiler.calls) == 1
    assert first.get(mode_hash) is artifact
    assert first.stats.memory == 1

    # a new process on the same machine: the diskcache answers, then its own memory
    same_machine = _open(store, tmp_path / "cache", compiler)
    assert same_machine.get(mode_hash) == artifact
    assert same_machine.get(mode_hash) == artifact
    assert (same_machine.stats.disk, same_machine.stats.memory) == (1, 1)

    # another machine (empty diskcache): the SQL table answers and fills its diskcache
    elsewhere = _open(store, tmp_path / "cache-2", compiler)
    assert elsewhere.get(mode_hash) == artifact
    assert (elsewhere.stats.sql, elsewhere.stats.disk) == (1, 0)
    elsewhere.close()
    disk_only = _open(None, tmp_path / "cache-2")
    assert disk_only.get(mode_hash) == artifact
    assert disk_only.stats.disk == 1

    # nothing stored anywhere: only the source can rebuild it, and it refills SQL
    assert store.delete_artifact(mode_hash)
    bare = _open(store, tmp_path / "cache-3", compiler)
    with pytest.raises(ArtifactNotFoundError) as missing:
        bare.get(mode_hash)
    assert missing.value.suggestion
    assert bare.get(mode_hash, team_mode) == artifact
    assert bare.stats.compiled == 1
    assert store.get_artifact(mode_hash) == (ARTIFACT_FORMAT, artifact.to_bytes())
    assert len(compiler.calls) == 2
    assert load_router(bare.get(mode_hash)).route(MIGRATION_TASK).specialist == "auditor"


def test_the_memory_tier_is_bounded(tmp_path: Path) -> None:
    store = _open(None, tmp_path / "cache", memory_size=1)
    a = store.compile(bundled_mode_path("default_roles.yaml"))  # type: ignore[arg-type]
    b = store.compile(bundled_mode_path("research_mode.yaml"))  # type: ignore[arg-type]
    assert store.get(b.mode_hash) is b
    assert store.get(a.mode_hash) == a
    assert (store.stats.memory, store.stats.disk) == (1, 1)


# --------------------------------------------------------------------------- corruption


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _damaged(kind: str, good: bytes, other: bytes) -> object:
    return {
        "flipped payload byte": _flip(good, len(good) - 10),
        "flipped header byte": _flip(good, 3),
        "truncated": good[: len(good) // 2],
        "garbage": b"not an artifact at all",
        "not bytes": 12345,
        "another mode's artifact": other,
    }[kind]


DAMAGE = [
    "flipped payload byte",
    "flipped header byte",
    "truncated",
    "garbage",
    "not bytes",
    "another mode's artifact",
]


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_corrupt_diskcache_entry_is_evicted_and_rebuilt_from_sql(
    store: SessionBindingStore,
    tmp_path: Path,
    team_mode: Path,
    kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = tmp_path / "cache"
    writer = _open(store, cache)
    artifact = writer.compile(team_mode)
    other = compile_mode(bundled_mode_path("default_roles.yaml"))  # type: ignore[arg-type]
    writer.close()
    with diskcache.Cache(str(cache)) as dc:
        dc.set(disk_key(artifact.mode_hash), _damaged(kind, artifact.to_bytes(), other.to_bytes()))

    reader = _open(store, cache)
    with caplog.at_level(logging.WARNING, logger="modec.runtime.store"):
        got = reader.get(artifact.mode_hash)
    assert got == artifact
    assert (reader.stats.evicted, reader.stats.disk, reader.stats.sql) == (1, 0, 1)
    assert "evicting disk cache entry" in caplog.text
    reader.close()
    with diskcache.Cache(str(cache)) as dc:  # rebuilt: the entry is intact again
        assert dc.get(disk_key(artifact.mode_hash)) == artifact.to_bytes()


def _big_mode(path: Path) -> Path:
    """A mode whose artifact is over diskcache's 32 KiB threshold: stored as a file."""
    roles = "\n".join(f'    worker_{i}: "{"does things " * 8}"' for i in range(80))
    bodies = "\n".join(f'worker_{i}:\n  role_definition: "{"x" * 300}"' for i in range(80))
    path.write_text(
        f"task_orchestrator:\n  role_definition: lead\n  specialist_roles:\n{roles}\n{bodies}\n"
    )
    return path


def test_a_corrupt_diskcache_value_file_is_evicted_and_rebuilt(
    store: SessionBindingStore, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    writer = _open(store, cache)
    artifact = writer.compile(_big_mode(tmp_path / "big.yaml"))
    assert len(artifact.to_bytes()) > 2**15
    writer.close()
    files = [p for p in cache.rglob("*.val")]
    assert len(files) == 1, "the artifact should live in a value file"
    data = files[0].read_bytes()
    files[0].write_bytes(_flip(data, len(data) // 2))  # bit rot on disk

    reader = _open(store, cache)
    assert reader.get(artifact.mode_hash) == artifact
    assert (reader.stats.evicted, reader.stats.sql) == (1, 1)
    reader.close()
    again = _open(None, cache)
    assert again.get(artifact.mode_hash) == artifact
    assert again.stats.disk == 1


@pytest.mark.parametrize(
    "kind",
    ["flipped payload byte", "truncated", "garbage", "another mode's artifact", "obsolete format"],
)
def test_a_corrupt_sql_artifact_is_evicted_and_rebuilt_from_source(
    store: SessionBindingStore, tmp_path: Path, team_mode: Path, kind: str
) -> None:
    artifact = _open(store, None).compile(team_mode)
    mode_hash = artifact.mode_hash
    other = compile_mode(bundled_mode_path("default_roles.yaml"))  # type: ignore[arg-type]
    assert store.delete_artifact(mode_hash)
    if kind == "obsolete format":
        store.put_artifact(mode_hash, ARTIFACT_FORMAT - 1, artifact.to_bytes())
    else:
        damaged = _damaged(kind, artifact.to_bytes(), other.to_bytes())
        assert isinstance(damaged, bytes)
        store.put_artifact(mode_hash, ARTIFACT_FORMAT, damaged)

    # without a source the damaged row is evicted, never returned
    blind = _open(store, tmp_path / "cache-a")
    with pytest.raises(ArtifactNotFoundError):
        blind.get(mode_hash)
    assert blind.stats.evicted == 1
    assert store.get_artifact(mode_hash) is None

    # a second damage, then a reader with the source: rebuilt and written back
    store.put_artifact(mode_hash, ARTIFACT_FORMAT, b"\x89MDC\r\n\x1a\n" + b"\0" * 60)
    reader = _open(store, tmp_path / "cache-b")
    assert reader.get(mode_hash, team_mode) == artifact
    assert (reader.stats.evicted, reader.stats.compiled) == (1, 1)
    assert store.get_artifact(mode_hash) == (ARTIFACT_FORMAT, artifact.to_bytes())


def test_an_artifact_of_a_newer_format_is_left_alone(
    store: SessionBindingStore, tmp_path: Path, team_mode: Path
) -> None:
    artifact = _open(None, None).compile(team_mode)
    store.put_artifact(artifact.mode_hash, ARTIFACT_FORMAT + 1, b"from a newer modec")
    reader = _open(store, tmp_path / "cache")
    with pytest.raises(ArtifactNotFoundError):
        reader.get(artifact.mode_hash)
    assert reader.stats.evicted == 0
    assert store.get_artifact(artifact.mode_hash) == (ARTIFACT_FORMAT + 1, b"from a newer modec")


def test_a_source_that_changed_or_broke_does_not_rebuild_the_old_hash(
    store: SessionBindingStore, tmp_path: Path, team_mode: Path
) -> None:
    old = _open(store, None).compile(team_mode)
    store.delete_artifact(old.mode_hash)

    team_mode.write_text(TEAM_MODE_EDITED)
    changed = _open(store, tmp_path / "cache-a")
    with pytest.raises(ArtifactNotFoundError, match="changed"):
        changed.get(old.mode_hash, team_mode)
    assert store.get_artifact(old.mode_hash) is None
    new_hash = compile_mode(team_mode).mode_hash
    assert store.get_artifact(new_hash) is not None  # the new artifact was kept, under its hash

    team_mode.write_text("task_orchestrator: [")
    broken = _open(store, tmp_path / "cache-b")
    with pytest.raises(ArtifactNotFoundError) as info:
        broken.get(old.mode_hash, team_mode)
    assert isinstance(info.value.__cause__, InvalidModeError)


def test_a_damaged_diskcache_directory_disables_the_tier_instead_of_failing(
    store: SessionBindingStore,
    tmp_path: Path,
    team_mode: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    artifact = _open(store, None).compile(team_mode)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "cache.db").write_bytes(b"this is not a SQLite database" * 100)
    with caplog.at_level(logging.WARNING, logger="modec.runtime.store"):
        reader = _open(store, cache)
        assert reader.get(artifact.mode_hash) == artifact
    assert reader.stats.sql == 1
    assert "unusable" in caplog.text


# --------------------------------------------------------------------------- source index


def _project_modes(tmp_path: Path, folder: str = "") -> Path:
    roles = tmp_path / "roles" / folder
    roles.mkdir(parents=True, exist_ok=True)
    for name in ("development_mode.yaml", "default_roles.yaml"):
        source = bundled_mode_path(name)
        assert source is not None
        shutil.copy(source, roles / name)
    return roles / "development_mode.yaml"


# Mode files compiled by path, or under a name (as the runtime does), at the top of roles/
# or in a folder: the index maps the names the compiler records back to files.
NAMED = pytest.mark.parametrize(
    ("folder", "name"),
    [("", None), ("", "development_mode.yaml"), ("team", "team/development_mode.yaml")],
)


@NAMED
def test_compile_skips_the_compiler_for_unchanged_sources_across_processes(
    tmp_path: Path, compiler: CountingCompiler, folder: str, name: str | None
) -> None:
    mode = _project_modes(tmp_path, folder)  # extends default_roles.yaml beside it
    first = _open(None, tmp_path / "cache", compiler).compile(mode, name)
    second_store = _open(None, tmp_path / "cache", compiler)
    assert second_store.compile(mode, name) == first
    assert second_store.stats.source_index == 1
    assert len(compiler.calls) == 1

    # the extended file changes: recompiled, new hash
    parent = mode.with_name("default_roles.yaml")
    parent.write_text(parent.read_text().replace("Senior Software Architect", "Architect"))
    third = _open(None, tmp_path / "cache", compiler).compile(mode, name)
    assert len(compiler.calls) == 2
    assert third.mode_hash != first.mode_hash
    # a comment-only edit of the file itself recompiles but keeps the hash
    mode.write_text("# a comment\n" + mode.read_text())
    assert _open(None, tmp_path / "cache", compiler).compile(mode, name).mode_hash == (
        third.mode_hash
    )
    assert len(compiler.calls) == 3


@NAMED
def test_a_local_file_shadowing_a_bundled_parent_invalidates_the_index(
    tmp_path: Path, compiler: CountingCompiler, folder: str, name: str | None
) -> None:
    mode = _project_modes(tmp_path, folder)
    mode.with_name("default_roles.yaml").unlink()  # the parent now resolves to the bundled one
    first = _open(None, tmp_path / "cache", compiler).compile(mode, name)
    assert _open(None, tmp_path / "cache", compiler).compile(mode, name) == first
    assert len(compiler.calls) == 1

    bundled = bundled_mode_path("default_roles.yaml")
    assert bundled is not None
    shadow = bundled.read_text().replace("Senior Software Architect", "Local Architect")
    mode.with_name("default_roles.yaml").write_text(shadow)
    shadowed = _open(None, tmp_path / "cache", compiler).compile(mode, name)
    assert len(compiler.calls) == 2
    assert shadowed.mode_hash != first.mode_hash


def test_a_named_compile_names_the_files_in_diagnostics_and_sources(tmp_path: Path) -> None:
    mode = _project_modes(tmp_path, "team")
    store = _open(None, tmp_path / "cache")
    artifact = store.compile(mode, "team/development_mode.yaml")
    assert [s.path for s in artifact.sources] == [
        "team/development_mode.yaml",
        "team/default_roles.yaml",
    ]
    assert artifact.mode_hash == store.compile(mode).mode_hash  # names are not meaning

    # errors in the file and in the file it extends, and a missing file: named, never absolute
    parent = mode.with_name("default_roles.yaml")
    parent.write_text("task_orchestrator: [")
    with pytest.raises(InvalidModeError) as broken_parent:
        _open(None, None).compile(mode, "team/development_mode.yaml")
    mode.write_text("task_orchestrator: [")
    with pytest.raises(InvalidModeError) as broken:
        _open(None, None).compile(mode, "team/development_mode.yaml")
    with pytest.raises(InvalidModeError) as missing:
        store.compile(mode.with_name("gone.yaml"), "team/gone.yaml")
    assert {d.span.file for d in broken_parent.value.diagnostics if d.span} == {
        "team/default_roles.yaml",
        "team/development_mode.yaml",
    }
    assert broken.value.diagnostics[0].span is not None
    assert broken.value.diagnostics[0].span.file == "team/development_mode.yaml"
    assert broken.value.message.startswith(
        "team/development_mode.yaml: 1 error(s); first: team/development_mode.yaml:1:"
    )
    assert missing.value.message.startswith("team/gone.yaml: 1 error(s)")
    for error in (broken_parent.value, broken.value, missing.value):
        text = error.message + "".join(f"{d.message}{d.hint}{d.span}" for d in error.diagnostics)
        assert str(tmp_path) not in text

    # get() recompiling a file names it too
    with pytest.raises(ArtifactNotFoundError) as lost:
        _open(None, None).get(artifact.mode_hash, mode, "team/development_mode.yaml")
    assert str(tmp_path) not in lost.value.message
    assert "team/development_mode.yaml no longer compiles" in lost.value.message


def test_an_indexed_compile_still_stores_the_artifact_in_a_new_database(
    store: SessionBindingStore, tmp_path: Path, team_mode: Path, compiler: CountingCompiler
) -> None:
    with SessionBindingStore("sqlite://") as old_database:
        first = _open(old_database, tmp_path / "cache", compiler).compile(team_mode)
    assert store.get_artifact(first.mode_hash) is None
    # same diskcache, another database: no compile, but the SQL tier gets its copy
    reused = _open(store, tmp_path / "cache", compiler)
    assert reused.compile(team_mode) == first
    assert (reused.stats.source_index, len(compiler.calls)) == (1, 1)
    assert store.get_artifact(first.mode_hash) == (ARTIFACT_FORMAT, first.to_bytes())


def test_a_damaged_source_index_entry_means_compiling_again(
    tmp_path: Path, team_mode: Path, compiler: CountingCompiler
) -> None:
    first = _open(None, tmp_path / "cache", compiler).compile(team_mode)
    with diskcache.Cache(str(tmp_path / "cache")) as dc:
        keys = [k for k in dc.iterkeys() if isinstance(k, tuple) and k[0] == "source-index"]
        assert len(keys) == 1
        dc.set(keys[0], b"{not json")
    assert _open(None, tmp_path / "cache", compiler).compile(team_mode) == first
    assert len(compiler.calls) == 2


def test_compile_reports_a_missing_or_invalid_file_with_diagnostics(tmp_path: Path) -> None:
    store = _open(None, tmp_path / "cache")
    with pytest.raises(InvalidModeError) as missing:
        store.compile(tmp_path / "nowhere.yaml")
    assert [d.code for d in missing.value.diagnostics] == ["MC001"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("task_orchestrator: [")
    with pytest.raises(InvalidModeError) as invalid:
        store.compile(broken)
    assert invalid.value.diagnostics and invalid.value.diagnostics[0].is_error
