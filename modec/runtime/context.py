"""What a session's bound mode means to an orchestrator, and a TTL cache of it per session.

A :class:`ModeContext` is built once from a binding and its compiled artifact: the specialist
roles (listed by ``task_orchestrator.specialist_roles``), the custom roles (other role
definitions), the routing rules in row order, the configuration, the mode hash, and the
router that routes the session's tasks, and every role's prompt (:class:`RolePrompt`: its
definition, expertise, approach and output format, so a host builds a specialist prompt from
the bound mode alone). What depends on the artifact alone is a :class:`ModeShape`, built
once per mode hash (the runtime keeps it beside the mode's router) and shared by the
contexts of every binding to that mode. :class:`ModeContextCache` keeps one per session for a
time to live (30 minutes by default, as in MCP Task Orchestrator) on an injectable clock
(a ``cachetools.TTLCache``, least recently used entries dropped beyond ``max_entries``); the
runtime invalidates an entry whenever it binds, switches, resumes or terminates the session.

The cache is per process, so an entry also records when it was last checked against the
database: once ``check_interval`` (1 second by default) has passed, the runtime compares the
binding's version and the session's status in one indexed read
(:meth:`~modec.runtime.sessions.SessionBindingStore.probe`) before trusting it. A session
terminated or rebound by another process stops routing on the old mode within that
interval; ``ModeRuntime.context(..., refresh=True)`` reads it at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

import cachetools

from modec.compiler.artifact import Artifact
from modec.compiler.ir import Role
from modec.diagnostics import ModecError
from modec.runtime.router import Decision, Router, TaskLike
from modec.runtime.sessions import BindingRecord, ValidationStatus

__all__ = [
    "DEFAULT_CHECK_INTERVAL",
    "DEFAULT_TTL",
    "FreshRoute",
    "ModeContext",
    "ModeContextCache",
    "ModeShape",
    "RolePrompt",
    "RoutingRule",
    "UnknownRoleError",
]

#: Seconds a cached context lives (30 minutes).
DEFAULT_TTL: Final = 30 * 60.0
#: Seconds a cached context is trusted before its binding version is checked again.
DEFAULT_CHECK_INTERVAL: Final = 1.0
_DEFAULT_MAX_ENTRIES: Final = 4096


class UnknownRoleError(ModecError, KeyError):
    """A role name the bound mode does not define (also a :class:`KeyError`)."""

    suggestion = "ask for one of the mode's roles (ModeContext.roles)"

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


def _bullets(items: tuple[str, ...]) -> list[str]:
    """Markdown bullets; an item's further lines are indented under it."""
    return ["- " + item.strip().replace("\n", "\n  ") for item in items]


@dataclass(frozen=True, slots=True)
class RolePrompt:
    """What a host needs to prompt one role of the bound mode: the role's ``definition``
    (its ``role_definition``), ``expertise``, ``approach`` and ``output_format`` as the mode
    file gives them (``extends`` resolved), and ``description``, the orchestrator's one-line
    summary of it in ``task_orchestrator.specialist_roles`` (else the role's own
    ``description`` key, if it has one)."""

    name: str
    definition: str
    expertise: tuple[str, ...] = ()
    approach: tuple[str, ...] = ()
    output_format: str | None = None
    description: str | None = None

    @classmethod
    def of(cls, role: Role, description: str | None = None) -> RolePrompt:
        """The prompt of an IR role; ``description`` defaults to its ``description`` key."""
        if description is None:
            own = role.extras.get("description")
            description = own if isinstance(own, str) else None
        return cls(
            name=role.name,
            definition=role.role_definition,
            expertise=tuple(role.expertise),
            approach=tuple(role.approach),
            output_format=role.output_format,
            description=description,
        )

    def prompt(self) -> str:
        """The role as a specialist prompt, in Markdown: ``# <name>``, the definition, then
        ``## Expertise`` and ``## Approach`` (bullets) and ``## Output format``, each section
        left out when the role has none. Deterministic: the same role, the same text.

        >>> print(RolePrompt("reviewer", "You review code.", ("style",), (), "A list").prompt())
        # reviewer
        <BLANKLINE>
        You review code.
        <BLANKLINE>
        ## Expertise
        <BLANKLINE>
        - style
        <BLANKLINE>
        ## Output format
        <BLANKLINE>
        A list
        <BLANKLINE>
        """
        parts = [f"# {self.name}", self.definition.strip()]
        if self.expertise:
            parts += ["## Expertise", "\n".join(_bullets(self.expertise))]
        if self.approach:
            parts += ["## Approach", "\n".join(_bullets(self.approach))]
        if self.output_format:
            parts += ["## Output format", self.output_format.strip()]
        return "\n\n".join(parts) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: name, definition, expertise, approach, output_format, description."""
        return {
            "name": self.name,
            "definition": self.definition,
            "expertise": list(self.expertise),
            "approach": list(self.approach),
            "output_format": self.output_format,
            "description": self.description,
        }


def _role_prompts(artifact: Artifact, listed: Mapping[str, str]) -> Mapping[str, RolePrompt]:
    return MappingProxyType(
        {name: RolePrompt.of(role, listed.get(name)) for name, role in artifact.roles.items()}
    )


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """One row of the session's decision table, as an orchestrator sees it."""

    task_type: str
    required_specialist: str | None
    secondary_review: tuple[str, ...] = ()
    complexity_boost: int = 0
    parallel_execution: bool | None = None
    priority: int = 0
    implicit: bool = False
    fallback: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "required_specialist": self.required_specialist,
            "secondary_review": list(self.secondary_review),
            "complexity_boost": self.complexity_boost,
            "parallel_execution": self.parallel_execution,
            "priority": self.priority,
            "implicit": self.implicit,
            "fallback": self.fallback,
        }


_CONTAINERS: Final = (Mapping, list)


def _copy_json(value: Any) -> Any:
    """A copy of a JSON-like value whose dicts and lists are new (so no context shares a
    mutable container with another)."""
    if isinstance(value, Mapping):
        return {k: _copy_json(v) if isinstance(v, _CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) if isinstance(v, _CONTAINERS) else v for v in value]
    return value


@dataclass(frozen=True, slots=True)
class ModeShape:
    """The part of a :class:`ModeContext` that depends on the artifact alone: built once
    per mode hash (:meth:`of`) and shared by the contexts of every binding to it (the
    runtime keeps it beside the mode's router). Immutable; :meth:`ModeContext.build` gives
    each context its own copy of the configuration's containers."""

    mode_hash: str
    name: str | None
    specialist_roles: Mapping[str, str]
    custom_roles: tuple[str, ...]
    routing_rules: tuple[RoutingRule, ...]
    configuration: Mapping[str, Any]
    default_specialist: str | None
    roles: Mapping[str, RolePrompt]

    @classmethod
    def of(cls, artifact: Artifact) -> ModeShape:
        """The roles, routing rules and configuration of ``artifact``, as contexts show them."""
        orchestrator = artifact.roles.get("task_orchestrator")
        listed = dict(orchestrator.specialist_roles) if orchestrator else {}
        custom = tuple(n for n in artifact.roles if n != "task_orchestrator" and n not in listed)
        table = artifact.table
        rules = [
            RoutingRule(
                task_type=row.name,
                required_specialist=row.specialist,
                secondary_review=row.secondary_review,
                complexity_boost=row.complexity_boost,
                parallel_execution=row.parallel_execution,
                priority=row.priority,
                implicit=row.implicit,
            )
            for row in table.rows
        ]
        fb = table.fallback
        rules.append(
            RoutingRule(
                task_type=fb.name,
                required_specialist=fb.specialist,
                secondary_review=fb.secondary_review,
                complexity_boost=fb.complexity_boost,
                parallel_execution=fb.parallel_execution,
                fallback=True,
            )
        )
        config = artifact.configuration.model_dump(
            mode="json", exclude={"span", "default_specialist_span"}
        )
        return cls(
            mode_hash=artifact.mode_hash,
            name=artifact.name,
            specialist_roles=MappingProxyType(listed),
            custom_roles=custom,
            routing_rules=tuple(rules),
            configuration=MappingProxyType(config),
            default_specialist=table.default_specialist,
            roles=_role_prompts(artifact, listed),
        )


@dataclass(frozen=True, slots=True)
class ModeContext:
    """A session's bound mode, ready to route: immutable, cheap to share between threads."""

    session_id: str
    mode_file: str
    mode_hash: str
    validation_status: ValidationStatus
    bound_at: datetime
    name: str | None
    specialist_roles: Mapping[str, str]
    custom_roles: tuple[str, ...]
    routing_rules: tuple[RoutingRule, ...]
    configuration: Mapping[str, Any]
    default_specialist: str | None
    router: Router = field(repr=False, compare=False)
    binding_version: int = 0
    #: Every role the mode defines (``task_orchestrator`` included), in the mode's order.
    roles: Mapping[str, RolePrompt] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )

    @classmethod
    def build(
        cls,
        binding: BindingRecord,
        artifact: Artifact,
        router: Router,
        shape: ModeShape | None = None,
    ) -> ModeContext:
        """The context of ``binding``, whose mode hash ``artifact`` (and ``router``) carry.

        ``shape`` is :meth:`ModeShape.of` ``artifact``, built once and shared by every
        context of that mode (default: built here)."""
        if artifact.mode_hash != binding.mode_hash or router.mode_hash != binding.mode_hash:
            raise ValueError(
                f"binding of {binding.session_id!r} is to {binding.mode_hash}, not to "
                f"{artifact.mode_hash}"
            )
        if shape is None:
            shape = ModeShape.of(artifact)
        elif shape.mode_hash != artifact.mode_hash:
            raise ValueError(f"the shape of {shape.mode_hash} is not of {artifact.mode_hash}")
        return cls(
            session_id=binding.session_id,
            mode_file=binding.mode_file,
            mode_hash=binding.mode_hash,
            validation_status=binding.validation_status,
            bound_at=binding.bound_at,
            name=shape.name,
            specialist_roles=shape.specialist_roles,
            custom_roles=shape.custom_roles,
            routing_rules=shape.routing_rules,
            configuration=MappingProxyType(_copy_json(shape.configuration)),
            default_specialist=shape.default_specialist,
            router=router,
            binding_version=binding.version,
            roles=shape.roles,
        )

    def role(self, name: str) -> RolePrompt:
        """The prompt of the role ``name``; :class:`UnknownRoleError` (a ``KeyError``)
        naming the mode's roles when it defines none of that name."""
        try:
            return self.roles[name]
        except KeyError:
            pass
        known = ", ".join(self.roles) or "none"
        listed = self.specialist_roles.get(name)
        where = f"the mode {self.mode_file!r}"
        message = (
            f"{name!r} is listed in the specialist_roles of {where} ({listed!r}) but has no "
            f"role definition; its roles: {known}"
            if listed is not None
            else f"{where} has no role {name!r}; its roles: {known}"
        )
        raise UnknownRoleError(
            message,
            suggestion=f"ask for one of its roles, or define {name!r} in the mode file",
        ) from None

    @property
    def specialist_count(self) -> int:
        return len(self.specialist_roles)

    @property
    def degraded(self) -> bool:
        """True when the session routes on its last good artifact (its mode file broke)."""
        return self.validation_status is ValidationStatus.DEGRADED

    def mode_info(self) -> dict[str, Any]:
        """JSON-ready summary: mode_file, mode_hash, specialist_count, custom_roles,
        routing_rules (task type → required specialist and review) and more."""
        return {
            "mode_file": self.mode_file,
            "mode_hash": self.mode_hash,
            "name": self.name,
            "validation_status": self.validation_status.value,
            "bound_at": self.bound_at.isoformat(),
            "specialist_count": self.specialist_count,
            "specialist_roles": list(self.specialist_roles),
            "custom_roles": list(self.custom_roles),
            "routing_rules": {r.task_type: r.to_dict() for r in self.routing_rules},
            "default_specialist": self.default_specialist,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything but the router, JSON-ready."""
        info = self.mode_info()
        info["session_id"] = self.session_id
        info["specialist_roles"] = dict(self.specialist_roles)
        info["configuration"] = dict(self.configuration)
        info["roles"] = {name: role.to_dict() for name, role in self.roles.items()}
        return info


@dataclass(slots=True)
class _Entry:
    context: ModeContext
    checked: float  # when the entry was last known to match the database
    expires: float  # when its time to live ends (never later than the TTLCache's own end)


#: A fresh entry's router and the clock reading until which it may route unchecked.
FreshRoute = tuple[Callable[[TaskLike], Decision], float]


class _Entries(cachetools.TTLCache[str, _Entry]):
    """The TTL and LRU store of the entries; every entry it drops by itself (least recently
    used beyond its size, or expired) leaves the fresh index too."""

    def __init__(
        self, maxsize: int, ttl: float, timer: Callable[[], float], fresh: dict[str, FreshRoute]
    ) -> None:
        super().__init__(maxsize, ttl, timer=timer)
        self._fresh = fresh

    def popitem(self) -> tuple[str, _Entry]:
        key, entry = super().popitem()
        self._fresh.pop(key, None)
        return key, entry

    def expire(self, time: float | None = None) -> list[tuple[str, _Entry]]:
        expired: list[tuple[str, _Entry]] = super().expire(time)
        for key, _ in expired:
            self._fresh.pop(key, None)
        return expired


class ModeContextCache:
    """Session id → :class:`ModeContext`, each entry living ``ttl`` seconds on ``clock``.

    ``clock`` is any monotonic seconds function (default :func:`time.monotonic`); tests pass a
    fake one. At most ``max_entries`` sessions are kept (least recently used dropped first;
    routing through :attr:`fresh` counts as a use once per check interval). An entry is
    *due* for a check once ``check_interval`` seconds passed since it was put or
    :meth:`confirm`-ed. Thread-safe.

    The entries live in a ``cachetools.TTLCache``; :attr:`fresh` indexes those that are
    neither due nor expired by session id, as ``(route, until)``: the router's ``route``
    and the clock reading before which it may be called with no other check. Reading it
    is one dict lookup and one clock comparison, and needs no lock (it is only replaced or
    popped, under the lock): the runtime's routing hot path.

    >>> now = [0.0]
    >>> cache = ModeContextCache(ttl=10, clock=lambda: now[0])
    >>> cache.get("s1") is None
    True
    """

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = _DEFAULT_MAX_ENTRIES,
        *,
        check_interval: float = DEFAULT_CHECK_INTERVAL,
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if check_interval < 0:
            raise ValueError("check_interval must not be negative")
        self.ttl = float(ttl)
        self.check_interval = float(check_interval)
        #: The clock the deadlines of :attr:`fresh` are read on.
        self.clock = clock
        #: Session id → ``(route, until)`` of the entries trusted until ``until`` (read-only).
        self.fresh: dict[str, FreshRoute] = {}
        self._entries = _Entries(max_entries, self.ttl, clock, self.fresh)
        self._lock = threading.Lock()

    def _trust(self, session_id: str, entry: _Entry) -> None:
        until = min(entry.checked + self.check_interval, entry.expires)
        self.fresh[session_id] = (entry.context.router.route, until)

    def get(self, session_id: str) -> ModeContext | None:
        """The live context of the session, or ``None`` (an expired entry is dropped)."""
        with self._lock:
            try:  # one lookup: Cache.get would test membership first, each reading the timer
                return self._entries[session_id].context
            except KeyError:
                return None

    def lookup(self, session_id: str) -> tuple[ModeContext, bool] | None:
        """``(context, due)`` for a live entry (``due``: its check interval has passed),
        else ``None``."""
        with self._lock:
            try:
                entry = self._entries[session_id]
            except KeyError:
                self.fresh.pop(session_id, None)
                return None
            return entry.context, self.clock() >= entry.checked + self.check_interval

    def confirm(self, session_id: str) -> None:
        """Record that the session's entry was just found to match the database."""
        with self._lock:
            entry = self._entries.get(session_id)
            if entry is not None:
                entry.checked = self.clock()
                self._trust(session_id, entry)

    def put(self, context: ModeContext) -> None:
        """Cache ``context`` for its session for ``ttl`` seconds from now."""
        with self._lock:
            now = self.clock()
            entry = _Entry(context, now, now + self.ttl)
            self._entries[context.session_id] = entry
            self._trust(context.session_id, entry)

    def invalidate(self, session_id: str) -> bool:
        """Drop the session's entry; ``True`` if there was one."""
        with self._lock:
            self.fresh.pop(session_id, None)
            return self._entries.pop(session_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self.fresh.clear()
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            self._entries.expire()
            return len(self._entries)

    def __contains__(self, session_id: object) -> bool:
        return isinstance(session_id, str) and self.get(session_id) is not None
