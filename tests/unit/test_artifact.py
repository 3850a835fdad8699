"""Artifacts: canonical bytes, mode hash invariance and sensitivity, corruption refused."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest

import modec
from modec.compiler.artifact import (
    ARTIFACT_FORMAT,
    MAGIC,
    Artifact,
    CorruptArtifactError,
    build_artifact,
    canonical_ir,
    mode_hash,
)
from modec.compiler.ir import ModeFile
from modec.compiler.pipeline import compile_text
from modec.compiler.table import build_table
from modec.diagnostics import ModecError
from modec.runtime.router import load_router
from modec.testing import make_mode, make_rule

BASE = """\
# A mode used to check what the mode hash sees.
mode_metadata:
  name: hashing
  version: "1.0"
mode_configuration:
  default_complexity: moderate
  hit_policy: first
  max_subtask_depth: 3
  team_size: 4
task_orchestrator:
  role_definition: "Orchestrates"
  specialist_roles:
    implementer: "Builds"
    debugger: "Fixes"
implementer:
  role_definition: "You build"
  expertise: ["code", "tests"]
debugger:
  role_definition: "You fix"
task_routing_rules:
  hotfix_tasks:
    when: 'tags contains "hotfix" or title matches /^fix/i'
    required_specialist: debugger
  release_tasks:
    keywords: [release, changelog]
    field: text
  security_tasks:
    required_specialist: debugger
  general_tasks:
    required_specialist: implementer
"""


def compiled(text: str) -> ModeFile:
    c = compile_text(text, "m.yaml", until="check")
    assert c.ok, [d.message for d in c.diagnostics]
    assert c.mode is not None
    return c.mode


def hash_of(text: str) -> str:
    return mode_hash(compiled(text))


def artifact_of(text: str = BASE) -> Artifact:
    mode = compiled(text)
    return build_artifact(mode, build_table(mode))


# --------------------------------------------------------------------------- hash


_RELEASE_BLOCK = "  release_tasks:\n    keywords: [release, changelog]\n    field: text\n"
PRIORITISED = BASE.replace(
    "    required_specialist: debugger\n  release_tasks:",
    "    required_specialist: debugger\n    priority: 2\n  release_tasks:",
).replace("    field: text\n", "    field: text\n    priority: 1\n")
_RELEASE_BLOCK = _RELEASE_BLOCK + "    priority: 1\n"

SAME_MEANING = {
    "comments": BASE.replace("# A mode", "# Another comment\n# A mode").replace(
        "  name: hashing", "  name: hashing  # trailing comment"
    ),
    "quoting": BASE.replace('role_definition: "You fix"', "role_definition: 'You fix'")
    .replace('version: "1.0"', "version: '1.0'")
    .replace("required_specialist: implementer", 'required_specialist: "implementer"'),
    "indentation": "\n".join(line.replace("  ", "    ") for line in BASE.splitlines()) + "\n",
    "flow style": BASE.replace(
        '  expertise: ["code", "tests"]', "  expertise:\n    - code\n    - tests"
    ),
    "top-level key order": BASE.split("task_orchestrator:")[0].replace(
        "mode_configuration:\n  default_complexity: moderate\n  hit_policy: first\n"
        "  max_subtask_depth: 3\n  team_size: 4\n",
        "",
    )
    + "task_orchestrator:"
    + BASE.split("task_orchestrator:")[1]
    + "mode_configuration:\n  team_size: 4\n  max_subtask_depth: 3\n  hit_policy: first\n"
    "  default_complexity: moderate\n",
    "rule key order": BASE.replace(
        "  hotfix_tasks:\n    when: 'tags contains \"hotfix\" or title matches /^fix/i'\n"
        "    required_specialist: debugger\n",
        "  hotfix_tasks:\n    required_specialist: debugger\n"
        "    when: 'tags contains \"hotfix\" or title matches /^fix/i'\n",
    ),
    "builtin rule position": BASE.replace(
        "  security_tasks:\n    required_specialist: debugger\n", ""
    ).replace(
        "  hotfix_tasks:", "  security_tasks:\n    required_specialist: debugger\n  hotfix_tasks:"
    ),
    "order of rules with different priorities": PRIORITISED.replace(_RELEASE_BLOCK, "").replace(
        "  hotfix_tasks:", _RELEASE_BLOCK + "  hotfix_tasks:"
    ),
    "role order": BASE.replace('debugger:\n  role_definition: "You fix"\n', "").replace(
        "implementer:\n  role_definition",
        'debugger:\n  role_definition: "You fix"\nimplementer:\n  role_definition',
    ),
    "level name vs number": BASE.replace("default_complexity: moderate", "default_complexity: 3"),
    "explicit default hit policy": BASE.replace("  hit_policy: first\n", ""),
    # Under builtin_task_types: true an unnamed builtin type is the same row as a named one.
    "explicitly named builtin": BASE.replace(
        "team_size: 4", "team_size: 4\n  builtin_task_types: true"
    ).replace("  general_tasks:", "  testing_tasks: {}\n  general_tasks:"),
    "builtin types off, said or not": BASE.replace(
        "team_size: 4", "team_size: 4\n  builtin_task_types: false"
    ),
    "condition spelling": BASE.replace(
        "'tags contains \"hotfix\" or title matches /^fix/i'",
        "'(tags contains \"hotfix\")  or  title matches /^fix/i'",
    ),
}


@pytest.mark.parametrize("variant", sorted(SAME_MEANING))
def test_hash_ignores_presentation(variant: str) -> None:
    base = PRIORITISED if variant.startswith("order of rules") else BASE
    if variant == "explicitly named builtin":
        base = BASE.replace("team_size: 4", "team_size: 4\n  builtin_task_types: true")
    assert SAME_MEANING[variant] != base
    assert hash_of(SAME_MEANING[variant]) == hash_of(base)


CHANGED_MEANING = {
    "keyword": BASE.replace("[release, changelog]", "[release, changelogs]"),
    "keyword added": BASE.replace("[release, changelog]", "[release, changelog, tag]"),
    "keyword field": BASE.replace("field: text", "field: title"),
    "match kind": BASE.replace("field: text", "field: text\n    match: word"),
    "condition": BASE.replace("/^fix/i", "/^fix/"),
    "specialist": BASE.replace(
        "  security_tasks:\n    required_specialist: debugger",
        "  security_tasks:\n    required_specialist: implementer",
    ),
    "fallback specialist": BASE.replace(
        "  general_tasks:\n    required_specialist: implementer",
        "  general_tasks:\n    required_specialist: debugger",
    ),
    "order of custom rules": BASE.replace(
        "  release_tasks:\n    keywords: [release, changelog]\n    field: text\n", ""
    ).replace(
        "  hotfix_tasks:",
        "  release_tasks:\n    keywords: [release, changelog]\n    field: text\n  hotfix_tasks:",
    ),
    "priority": BASE.replace(
        "    required_specialist: debugger\n  release",
        "    required_specialist: debugger\n    priority: 1\n  release",
    ),
    "setting": BASE.replace("team_size: 4", "team_size: 5"),
    "new setting": BASE.replace("team_size: 4", "team_size: 4\n  region: eu"),
    "hit policy": BASE.replace("hit_policy: first", "hit_policy: collect"),
    "default complexity": BASE.replace(
        "default_complexity: moderate", "default_complexity: complex"
    ),
    "role text": BASE.replace("You fix", "You debug"),
    "expertise": BASE.replace('["code", "tests"]', '["code"]'),
    "metadata": BASE.replace('version: "1.0"', 'version: "1.1"'),
    # BASE has rules of its own, so the classic rows are off until it says true (DESIGN §2).
    "builtin types on": BASE.replace("team_size: 4", "team_size: 4\n  builtin_task_types: true"),
    "secondary review": BASE.replace(
        "  security_tasks:\n    required_specialist: debugger",
        "  security_tasks:\n    required_specialist: debugger\n    secondary_review: implementer",
    ),
}


@pytest.mark.parametrize("variant", sorted(CHANGED_MEANING))
def test_hash_sees_every_change_of_meaning(variant: str) -> None:
    assert hash_of(CHANGED_MEANING[variant]) != hash_of(BASE)


def test_hash_shape_and_canonical_bytes() -> None:
    mode = compiled(BASE)
    digest = mode_hash(mode)
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    raw = canonical_ir(mode)
    assert digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    doc = json.loads(raw)
    assert (
        raw == json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    for needle in (b'"span"', b"m.yaml", b'"sources"', b'"extends"'):
        assert needle not in raw


def test_integral_floats_hash_as_ints() -> None:
    as_int = make_mode([make_rule("x_tasks", "metadata.n == 2")])
    as_float = make_mode([make_rule("x_tasks", "metadata.n == 2.0")])
    assert canonical_ir(as_int) == canonical_ir(as_float)
    assert mode_hash(as_int) != mode_hash(make_mode([make_rule("x_tasks", "metadata.n == 2.5")]))


def test_hash_ignores_spans_and_paths() -> None:
    a = make_mode([make_rule("x_tasks", ["a"], line=3)])
    b = make_mode([make_rule("x_tasks", ["a"], line=30)]).model_copy(update={"path": "elsewhere"})
    assert mode_hash(a) == mode_hash(b)


def test_user_keys_named_like_provenance_are_kept() -> None:
    plain = BASE.replace("team_size: 4", "span: 4")
    assert hash_of(plain) != hash_of(BASE.replace("team_size: 4", "span: 5"))


# --------------------------------------------------------------------------- artifact bytes


def test_artifact_contents() -> None:
    art = artifact_of()
    assert art.format == ARTIFACT_FORMAT == 1
    assert art.compiler_version == modec.__version__
    assert art.mode_hash == hash_of(BASE)
    assert art.name == "hashing"
    assert [s.path for s in art.sources] and all(len(s.sha256) >= 64 for s in art.sources)
    assert set(art.roles) == {"task_orchestrator", "implementer", "debugger"}
    assert art.configuration.settings == {"team_size": 4}
    assert art.table.rows[0].name == "security_tasks"


def test_artifact_round_trip_is_exact_and_deterministic() -> None:
    art = artifact_of()
    data = art.to_bytes()
    assert data.startswith(MAGIC)
    again = Artifact.from_bytes(data)
    assert again == art
    assert again.to_bytes() == data
    assert artifact_of().to_bytes() == data
    router = load_router(data)
    assert router.route({"title": "Fix: crash"}).specialist == "debugger"


def test_artifact_write_and_read(tmp_path: Path) -> None:
    art = artifact_of()
    path = art.write(tmp_path / "mode.modec")
    assert Artifact.read(path) == art
    assert [p.name for p in tmp_path.iterdir()] == ["mode.modec"]  # no temporary left behind


def test_every_truncation_is_refused() -> None:
    data = artifact_of().to_bytes()
    for size in range(len(data)):
        with pytest.raises(CorruptArtifactError):
            Artifact.from_bytes(data[:size])


def test_every_single_bit_flip_is_refused() -> None:
    data = artifact_of().to_bytes()
    for index in range(len(data)):
        for bit in (0, 7) if index > 64 else range(8):
            flipped = bytearray(data)
            flipped[index] ^= 1 << bit
            with pytest.raises(CorruptArtifactError):
                Artifact.from_bytes(bytes(flipped))


def test_corruption_messages_are_clear() -> None:
    data = artifact_of().to_bytes()
    cases = {
        "truncated": data[:-1],
        "trailing": data + b"x",
        "checksum": data[:-2] + bytes([data[-2] ^ 1]) + data[-1:],
        "bad magic": b"task_orchestrator:\n  role_definition: x\n" * 3,
        "format 2": data[:8] + struct.pack(">I", 2) + data[12:],
    }
    for needle, bad in cases.items():
        with pytest.raises(CorruptArtifactError, match=needle) as info:
            Artifact.from_bytes(bad)
        assert isinstance(info.value, ModecError) and info.value.suggestion


def test_checksummed_but_undecodable_payload_is_refused() -> None:
    def framed(body: bytes, fmt: int = ARTIFACT_FORMAT) -> bytes:
        return MAGIC + struct.pack(">IQ", fmt, len(body)) + hashlib.sha256(body).digest() + body

    for body in (b"{not json", b"[]", b'{"format": 1}', json.dumps({"format": 2}).encode()):
        with pytest.raises(CorruptArtifactError):
            Artifact.from_bytes(framed(body))


def test_load_router_refuses_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.modec"
    path.write_bytes(artifact_of().to_bytes()[:100])
    with pytest.raises(CorruptArtifactError, match="truncated"):
        load_router(path)
