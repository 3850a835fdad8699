"""The typed intermediate representation of a mode file.

Every node is a frozen pydantic model carrying the :class:`~modec.diagnostics.Span` it came
from. Expressions are a discriminated union on ``kind``. The IR is *resolved*: ``extends`` is
merged, ``keywords`` and builtin task types are turned into expressions, and names of
complexity levels are integers, so later stages never look at YAML again.

Spans are provenance, not meaning: :func:`modec.compiler.artifact.canonical_ir` drops them
before hashing.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from modec.diagnostics import Span

# The expression nodes live in the grammar (the layer below); re-exported for the compiler.
from modec.grammar.ast import (
    COMPLEXITY_NAMES,
    And,
    Compare,
    Const,
    Expr,
    FieldKind,
    InList,
    Node,
    Not,
    Or,
    RegexMatch,
    Scalar,
    TextMatch,
    field_kind,
)

__all__ = [
    "BUILTIN_KEYWORDS",
    "BUILTIN_ORDER",
    "COMPLEXITY_NAMES",
    "FALLBACK_TYPE",
    "And",
    "Compare",
    "Const",
    "Expr",
    "FieldKind",
    "HitPolicy",
    "InList",
    "MatchKind",
    "ModeConfiguration",
    "ModeFile",
    "ModeMetadata",
    "Node",
    "Not",
    "Or",
    "RegexMatch",
    "Role",
    "Rule",
    "Scalar",
    "SourceRef",
    "TaskSpec",
    "TestExample",
    "TextMatch",
    "ValidationRules",
    "field_kind",
]

#: The classic classifier's builtin task types, in its order, with its keyword lists.
BUILTIN_KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
    "security_tasks": ("security", "vulnerability", "audit", "compliance", "encryption"),
    "performance_tasks": ("performance", "optimization", "speed", "bottleneck", "profiling"),
    "testing_tasks": ("test", "testing", "validation", "verification", "qa"),
    "documentation_tasks": ("document", "documentation", "guide", "manual", "readme"),
}
BUILTIN_ORDER: Final[tuple[str, ...]] = tuple(BUILTIN_KEYWORDS)
FALLBACK_TYPE: Final = "general_tasks"

HitPolicy = Literal["first", "unique", "collect"]
MatchKind = Literal["substring", "word"]


# --------------------------------------------------------------------------- mode file


class SourceRef(BaseModel):
    """A file that contributed to a mode (the file itself and everything it extends)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    sha256: str


class ModeMetadata(Node):
    name: str | None = None
    description: str | None = None
    version: str | None = None
    created_by: str | None = None
    created_at: str | None = None
    compatible_versions: tuple[str, ...] = ()
    extends: tuple[str, ...] = ()
    extras: dict[str, Any] = Field(default_factory=dict)


class ModeConfiguration(Node):
    default_complexity: int = 3
    auto_task_routing: bool | None = None
    max_subtask_depth: int | None = None
    progress_aggregation: str | None = None
    hit_policy: HitPolicy = "first"
    default_specialist: str | None = None
    default_specialist_span: Span | None = None
    #: Resolved: whether implicit classic rows are on (the file's setting, else whether it
    #: declares no rule with a condition of its own; DESIGN §2).
    builtin_task_types: bool = True
    #: Keys the format does not define, kept verbatim (JSON-compatible values).
    settings: dict[str, Any] = Field(default_factory=dict)


class Role(Node):
    """A role definition. ``name_span`` locates the key; ``span`` the whole mapping."""

    name: str
    name_span: Span
    role_definition: str
    expertise: tuple[str, ...] = ()
    approach: tuple[str, ...] = ()
    output_format: str | None = None
    #: Only on ``task_orchestrator``: specialist name -> one-line description.
    specialist_roles: dict[str, str] = Field(default_factory=dict)
    specialist_spans: dict[str, Span] = Field(default_factory=dict)
    extras: dict[str, Any] = Field(default_factory=dict)


class Rule(Node):
    """A routing rule, resolved: ``condition`` is None only for the fallback ``general_tasks``.

    ``source`` says where the condition came from: the author's ``when``, their ``keywords``,
    the classic ``builtin`` keyword list, or none (``fallback``). ``implicit`` marks a builtin
    type the file does not mention but which still classifies (``builtin_task_types``).
    """

    name: str
    name_span: Span
    condition: Expr | None
    source: Literal["when", "keywords", "builtin", "fallback"]
    match: MatchKind = "substring"
    required_specialist: str | None = None
    required_specialist_span: Span | None = None
    secondary_review: tuple[str, ...] = ()
    secondary_review_spans: tuple[Span, ...] = ()
    complexity_boost: int = 0
    parallel_execution: bool | None = None
    priority: int = 0
    implicit: bool = False
    extras: dict[str, Any] = Field(default_factory=dict)


class ValidationRules(Node):
    required_roles: tuple[str, ...] = ()
    required_role_spans: tuple[Span, ...] = ()
    optional_roles: tuple[str, ...] = ()
    minimum_specialist_count: int | None = None
    maximum_specialist_count: int | None = None
    #: Where each count bound was written, keyed by the key name.
    bound_spans: dict[str, Span] = Field(default_factory=dict)


class TaskSpec(Node):
    """A task as written in a ``tests:`` example (the runtime's ``Task`` has the same fields)."""

    title: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    complexity: int | None = None
    metadata: dict[str, Scalar] = Field(default_factory=dict)


class TestExample(Node):
    __test__ = False  # not a pytest test class

    task: TaskSpec
    expect_type: str | None = None
    expect_specialist: str | None = None


class ModeFile(Node):
    """A whole resolved mode: the file, with everything it extends merged in.

    ``roles`` and ``rules`` keep file order (inherited entries first, in their files' order;
    an overriding entry takes the place of the one it overrides).
    """

    path: str
    sources: tuple[SourceRef, ...]
    metadata: ModeMetadata
    configuration: ModeConfiguration
    roles: dict[str, Role]
    rules: tuple[Rule, ...]
    validation: ValidationRules | None = None
    tests: tuple[TestExample, ...] = ()

    @property
    def orchestrator(self) -> Role | None:
        return self.roles.get("task_orchestrator")

    @property
    def specialist_roles(self) -> dict[str, str]:
        orch = self.orchestrator
        return dict(orch.specialist_roles) if orch else {}

    @property
    def custom_roles(self) -> list[str]:
        listed = self.specialist_roles
        return [n for n in self.roles if n != "task_orchestrator" and n not in listed]
