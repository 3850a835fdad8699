"""The static part of a session's context (roles, routing rules, configuration: what depends
on the artifact alone) is built once per mode hash and shared by every bind to that mode;
what is per binding (session, version, bound_at) and the configuration's containers are
each context's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modec.compiler.artifact import Artifact
from modec.diagnostics import ModeFileNotFoundError
from modec.runtime.context import ModeShape
from modec.runtime.project import UnsafeModePathError, find_in, resolve_mode
from tests.integration import lifecycle_support as support
from tests.integration.lifecycle_support import RuntimeFactory

project = support.project
make_runtime = support.make_runtime

MODES = ("development_mode.yaml", "security_review_mode.yaml")


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the mode hash of every :meth:`ModeShape.of` call (the real one runs)."""
    built: list[str] = []
    real = ModeShape.of.__func__  # type: ignore[attr-defined]

    def of(cls: type[ModeShape], artifact: Artifact) -> Any:
        built.append(artifact.mode_hash)
        return real(cls, artifact)

    monkeypatch.setattr(ModeShape, "of", classmethod(of))
    return built


def test_shape_built_once_per_mode_across_binds(
    make_runtime: RuntimeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = _counting(monkeypatch)
    runtime = make_runtime()
    first = runtime.initialize_session(mode_file=MODES[0]).session_id
    second = runtime.initialize_session(mode_file=MODES[1]).session_id
    contexts = []
    for i in range(40):
        contexts.append(runtime.bind(first, MODES[i % 2]))
        contexts.append(runtime.bind(second, MODES[(i + 1) % 2]))
    hashes = {c.mode_hash for c in contexts}
    assert len(hashes) == 2
    assert sorted(built) == sorted(hashes)  # one shape per mode, over 82 contexts
    for mode_hash in hashes:
        same = [c for c in contexts if c.mode_hash == mode_hash]
        assert len({id(c.routing_rules) for c in same}) == 1
        assert len({id(c.roles) for c in same}) == 1
        assert len({id(c.specialist_roles) for c in same}) == 1
        assert len({id(c.router) for c in same}) == 1
        # the configuration is equal but never a shared mutable container
        assert all(c.configuration == same[0].configuration for c in same)
        assert len({id(c.configuration["settings"]) for c in same}) == len(same)
    versions = [c.binding_version for c in contexts if c.session_id == first]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


def test_shaped_context_equals_one_built_alone(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    sid = runtime.initialize_session(mode_file=MODES[0]).session_id
    runtime.bind(sid, MODES[1])
    shared = runtime.bind(sid, MODES[0])  # the second bind to it: the cached shape
    binding = runtime.binding(sid)
    assert binding is not None
    artifact = runtime.artifacts.get(binding.mode_hash)
    alone = type(shared).build(binding, artifact, shared.router)
    assert shared.to_dict() == alone.to_dict()
    assert shared == alone


def test_a_shape_of_another_mode_is_refused(make_runtime: RuntimeFactory) -> None:
    runtime = make_runtime()
    sid = runtime.initialize_session(mode_file=MODES[0]).session_id
    ctx = runtime.context(sid)
    binding = runtime.binding(sid)
    assert binding is not None
    other = runtime.prepare_mode(MODES[1])[1]
    with pytest.raises(ValueError, match="shape"):
        type(ctx).build(
            binding, runtime.artifacts.get(binding.mode_hash), ctx.router, ModeShape.of(other)
        )


# ---------------------------------------------------------------- mode name resolution


def test_resolution_edges_of_the_fast_paths(tmp_path: Path) -> None:
    """An absent one-part name is not resolved (the bundled mode answers); every entry that
    exists, even a dangling symlink, is resolved and confined as before."""
    roles = tmp_path / "roles"
    roles.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    found = resolve_mode(roles, MODES[0])
    assert found.bundled and found.name == MODES[0]
    assert find_in(roles, "missing.yaml") is None
    (roles / "dangling.yaml").symlink_to(outside / "nowhere.yaml")
    with pytest.raises(UnsafeModePathError, match="outside the roles directory"):
        find_in(roles, "dangling.yaml")
    (roles / "sub").symlink_to(outside)
    with pytest.raises(UnsafeModePathError, match="outside the roles directory"):
        find_in(roles, "sub/missing.yaml")  # a missing file through a symlink out
    (roles / "loop.yaml").symlink_to(roles / "loop.yaml")
    with pytest.raises(ModeFileNotFoundError, match="a symlink loop"):
        find_in(roles, "loop.yaml")
    (roles / "dir.yaml").mkdir()
    assert find_in(roles, "dir.yaml") is None  # not a file
    (outside / "real.yaml").write_text("x")
    (roles / "inner").mkdir()
    (roles / "inner" / "m.yaml").write_text("x")
    (roles / "alias.yaml").symlink_to(roles / "inner" / "m.yaml")
    assert find_in(roles, "alias") == ("alias.yaml", (roles / "inner" / "m.yaml").resolve())
    assert find_in(roles, "inner/m") == ("inner/m.yaml", (roles / "inner" / "m.yaml").resolve())
    with pytest.raises(UnsafeModePathError):
        find_in(roles, "../outside/real.yaml")
    assert find_in(tmp_path / "no-such-roles", "m.yaml") is None
