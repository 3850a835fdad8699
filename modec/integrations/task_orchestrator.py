"""MCP Task Orchestrator 1.8 (PyPI ``mcp-task-orchestrator``) takes its specialists from modec.

The orchestrator chooses a specialist in two places; :class:`ModecSpecialists` serves both
from the session's bound mode, and changes nothing else of the host:

1. **Planning** (``orchestrator_plan_task``): the host's LLM sends the subtasks as JSON, each
   with a ``specialist_type``, and ``TaskOrchestrator.plan_task`` refuses a subtask without
   one (``Invalid subtasks JSON format: 'specialist_type'``). Before handing the JSON on, the
   host calls :meth:`ModecSpecialists.fill_subtasks`: every subtask the LLM left without a
   specialist gets the one the mode routes it to; a choice the LLM made is kept.
2. **Execution** (``orchestrator_execute_subtask``): ``TaskOrchestrator.get_specialist_context``
   asks its specialist manager for ``get_specialist_prompt(specialist_type, subtask)``.
   :class:`ModecSpecialists` has that method (and ``synthesize_task_results``, handed to
   the host's own manager), so the host gives it to ``TaskOrchestrator`` in place of its
   ``SpecialistManager``: the prompt is the mode's role (its definition, expertise, approach
   and output format, :meth:`ModeContext.role <modec.runtime.context.ModeContext.role>`)
   with the subtask's details and the routing decision.

::

    from mcp_task_orchestrator.orchestrator import SpecialistManager, StateManager, TaskOrchestrator
    from modec import ModeRuntime
    from modec.integrations.task_orchestrator import ModecSpecialists, session_id_of

    runtime = ModeRuntime(project_dir)                    # or engine=..., table_prefix=...
    specialists = ModecSpecialists(runtime, session_id_of(initialized),
                                   host=SpecialistManager(project_dir=project_dir))
    orchestrator = TaskOrchestrator(StateManager(base_dir=project_dir), specialists, project_dir)
    breakdown = await orchestrator.plan_task(
        description, complexity, specialists.fill_subtasks(subtasks_json, complexity=complexity))
    prompt = await orchestrator.get_specialist_context(breakdown.subtasks[0].task_id)

The session is the host's: ``session_id`` is adopted on first use
(:meth:`ModeRuntime.adopt <modec.runtime.lifecycle.ModeRuntime.adopt>`: bound to ``mode_file``,
by default the project's own role file, when modec does not know it yet). Orchestrator 1.8's
server has no session id of its own; :func:`session_id_of` gives one for what its
``orchestrator_initialize_session`` answered. Host tasks are read as they come (a
``SubTask``, a ``TaskBreakdown``, a database row, the LLM's JSON objects), unknown fields
ignored (:data:`ORCHESTRATOR_FIELDS`; ``fields=`` maps names for other hosts). Nothing of
``mcp_task_orchestrator`` is imported until :func:`orchestrator_specialist_types` is called
(modec does not depend on it).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import ValidationError

from modec.compiler.task import read_task
from modec.diagnostics import ModecError
from modec.integrations.status import add_mode_info

if TYPE_CHECKING:
    from modec.runtime.context import ModeContext
    from modec.runtime.lifecycle import ModeRuntime
    from modec.runtime.router import Decision

__all__ = [
    "ORCHESTRATOR_FIELDS",
    "Assignment",
    "InvalidSubtasksError",
    "ModecSpecialists",
    "UnassignableSpecialistError",
    "orchestrator_specialist_types",
    "session_id_of",
]

#: modec's task fields under the orchestrator's names (the field map of
#: :func:`~modec.compiler.task.read_task`). ``title``, ``description`` and ``complexity``
#: keep theirs (its ``SubTask`` and ``subtasks`` rows have the first two, its
#: ``TaskBreakdown`` a ``description`` and a ``complexity`` in modec's names). Its tasks carry
#: no metadata, and on its database rows ``metadata`` is SQLAlchemy's table ``MetaData``, so
#: modec's ``metadata`` is read from ``modec_metadata`` (a mapping or JSON text a host may
#: add to a task). ``TaskBreakdown.context`` is free text, not metadata; the v2
#: ``GenericTask`` (whose ``context`` would be) does not import under pydantic 2 in 1.8.0.
ORCHESTRATOR_FIELDS: Final[Mapping[str, str]] = MappingProxyType({"metadata": "modec_metadata"})

#: The prefix of the session ids :func:`session_id_of` derives from a project directory.
SESSION_PREFIX: Final = "task-orchestrator:"


class UnassignableSpecialistError(ModecError, ValueError):
    """The mode routes a task to a specialist the host cannot take (or to none)."""

    suggestion = (
        "route the task type to one of the host's specialist types in the mode file, or name "
        "the specialist in the task itself"
    )


def _first_problem(exc: ValueError) -> str:
    """A task's first problem in one line: where, and what."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    [first, *rest] = exc.errors()
    where = ".".join(map(str, first["loc"])) or "the task"
    more = f" (and {len(rest)} more)" if rest else ""
    return f"{where}: {first['msg']}{more}"


class InvalidSubtasksError(ModecError, ValueError):
    """The subtasks given to :meth:`ModecSpecialists.fill_subtasks` are not a JSON list of
    objects."""

    suggestion = (
        'send subtasks_json as a JSON array of objects, e.g. [{"title": "...", '
        '"description": "..."}]'
    )


@dataclass(frozen=True, slots=True)
class Assignment:
    """Who takes a host task, and the prompt they work from.

    ``specialist``: the host's own choice when the task named one (``chosen_by="host"``),
    else the mode's (``chosen_by="mode"``). ``decision``: the mode's routing of the task
    either way (task type, the mode's specialist, secondary review, evidence).
    """

    specialist: str
    prompt: str
    decision: Decision
    chosen_by: Literal["host", "mode"]


def orchestrator_specialist_types() -> frozenset[str] | None:
    """The values of the orchestrator's ``SpecialistType`` enum (the only specialists its
    ``SubTask`` accepts), or None when ``mcp_task_orchestrator`` is not installed."""
    try:
        models = importlib.import_module("mcp_task_orchestrator.orchestrator.models")
    except ImportError:
        return None
    return frozenset(str(member.value) for member in models.SpecialistType)


def _load_json(text: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(text, Mapping):
        return text
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ModecError(
            f"the initialize answer is not JSON: {exc}",
            suggestion="pass the text of orchestrator_initialize_session's answer, or its "
            "parsed mapping",
        ) from exc
    if not isinstance(data, Mapping):
        raise ModecError(
            f"the initialize answer is a JSON {type(data).__name__}, not an object",
            suggestion="pass the text of orchestrator_initialize_session's answer",
        )
    return data


def session_id_of(initialized: str | bytes | Mapping[str, Any]) -> str:
    """modec's session id for an orchestrator session, from what
    ``orchestrator_initialize_session`` answered (its JSON text or the parsed mapping), or
    from ``TaskOrchestrator.initialize_session()``'s mapping.

    The enhanced orchestrator names its session (``context_continuity.session_id``): that id.
    Orchestrator 1.8's default server does not; its session is the project's
    ``.task_orchestrator`` directory, so the id is :data:`SESSION_PREFIX` plus a hash of
    ``orchestrator_path`` (or ``working_directory``): the same project gets the same session,
    across restarts of the host.

    >>> session_id_of({"orchestrator_path": "/p/.task_orchestrator"})[:18]
    'task-orchestrator:'
    >>> session_id_of({"orchestrator_context": {"context_continuity": {"session_id": "s-1"}}})
    's-1'
    """
    data = _load_json(initialized)
    for scope in (data, data.get("orchestrator_context")):
        if isinstance(scope, Mapping):
            continuity = scope.get("context_continuity")
            if isinstance(continuity, Mapping) and isinstance(continuity.get("session_id"), str):
                return str(continuity["session_id"])
    path = data.get("orchestrator_path")
    if not isinstance(path, str):
        working = data.get("working_directory")
        path = os.path.join(working, ".task_orchestrator") if isinstance(working, str) else None
    if path is None:
        raise ModecError(
            "the initialize answer names no session: no context_continuity.session_id, "
            "orchestrator_path or working_directory",
            suggestion="pass orchestrator_initialize_session's answer, or give "
            "ModecSpecialists the host's session id directly",
        )
    digest = hashlib.sha256(os.path.normpath(path).encode("utf-8", "surrogatepass")).hexdigest()
    return SESSION_PREFIX + digest[:32]


def _field(task: object, name: str) -> Any:
    if isinstance(task, Mapping):
        return task.get(name)
    return getattr(task, name, None)


def _name(value: object) -> str | None:
    """A specialist (or other) name given by the host: an enum's value, a non-empty string."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


class ModecSpecialists:
    """MCP Task Orchestrator's specialist manager, answered from a modec session's mode.

    ``runtime``: the project's :class:`~modec.runtime.lifecycle.ModeRuntime` (it may share the
    host's database: ``engine=``, ``table_prefix=``, ``schema=``). ``session_id``: the host's
    session, adopted on first use, bound to ``mode_file`` (default: the project's default
    mode, its own role file first) if modec does not know it. ``host``: the host's own
    ``SpecialistManager``, for what the orchestrator asks its manager besides prompts
    (``synthesize_task_results``). ``fields``: modec's task fields under the host's names
    (:data:`ORCHESTRATOR_FIELDS`); ``specialist_field``, ``id_field`` and
    ``dependencies_field``: where a host task keeps its specialist, id and dependencies.
    ``specialist_types``: the specialists the host accepts (default: the orchestrator's
    ``SpecialistType`` values when it is installed, else any); a mode that routes a task
    elsewhere raises :class:`UnassignableSpecialistError` rather than misroute it.

    Thread-safe as the runtime is; the async methods run the runtime in a worker thread.
    """

    def __init__(
        self,
        runtime: ModeRuntime,
        session_id: str,
        *,
        mode_file: str | None = None,
        host: Any = None,
        fields: Mapping[str, str] = ORCHESTRATOR_FIELDS,
        specialist_field: str = "specialist_type",
        id_field: str = "task_id",
        dependencies_field: str = "dependencies",
        specialist_types: Collection[str] | None = None,
    ) -> None:
        self.runtime = runtime
        self.session_id = session_id
        self.mode_file = mode_file
        self.host = host
        self.fields = dict(fields)
        self.specialist_field = specialist_field
        self.id_field = id_field
        self.dependencies_field = dependencies_field
        self._specialist_types = (
            frozenset(specialist_types) if specialist_types is not None else None
        )
        self._types_read = specialist_types is not None
        self._adopted = False

    def __repr__(self) -> str:
        return f"ModecSpecialists({self.runtime!r}, {self.session_id!r})"

    # ------------------------------------------------------------------ the mode

    def context(self) -> ModeContext:
        """The session's mode context; the first call adopts the host's session."""
        if not self._adopted:
            context = self.runtime.adopt(self.session_id, self.mode_file)
            self._adopted = True
            return context
        return self.runtime.context(self.session_id)

    @property
    def specialist_types(self) -> frozenset[str] | None:
        """The specialists the host accepts (None: any)."""
        if not self._types_read:
            self._specialist_types = orchestrator_specialist_types()
            self._types_read = True
        return self._specialist_types

    def route(self, task: object, *, complexity: object = None) -> Decision:
        """The mode's decision for a host task; ``complexity`` stands in for a task that
        gives none (a subtask of a plan has the plan's ``complexity_level``)."""
        return self._route(self.context(), task, complexity)

    def _route(self, context: ModeContext, task: object, complexity: object) -> Decision:
        view = read_task(task, self.fields)
        if complexity is not None and view.complexity is None:
            return context.router.route(
                {
                    "title": view.title,
                    "description": view.description,
                    "tags": list(view.tags),
                    "complexity": complexity,
                    "metadata": view.metadata,
                }
            )
        return context.router.route(view)

    # ------------------------------------------------------------------ assigning

    def _choose(
        self, context: ModeContext, task: object, specialist: object, complexity: object
    ) -> tuple[str, Literal["host", "mode"], Decision]:
        decision = self._route(context, task, complexity)
        given = _name(specialist) or _name(_field(task, self.specialist_field))
        if given is not None:
            return given, "host", decision
        chosen = decision.specialist or context.default_specialist
        title = _name(_field(task, "title")) or _name(_field(task, self.id_field)) or "the task"
        if chosen is None:
            raise UnassignableSpecialistError(
                f"mode {context.mode_file} routes {title!r} ({decision.task_type}) to no "
                "specialist and has no default specialist"
            )
        accepted = self.specialist_types
        if accepted is not None and chosen not in accepted:
            raise UnassignableSpecialistError(
                f"mode {context.mode_file} routes {title!r} ({decision.task_type}) to "
                f"{chosen!r}, which the host cannot assign (its specialists: "
                f"{', '.join(sorted(accepted))})"
            )
        return chosen, "mode", decision

    def assign(
        self, task: object, *, specialist: object = None, complexity: object = None
    ) -> Assignment:
        """Who takes ``task`` (a host task object or mapping) and the prompt they work from.

        The specialist is ``specialist``, else the one the task names (its
        ``specialist_type``), else the mode's routing of the task. The prompt is the mode's
        role for that specialist (:meth:`prompt`).
        """
        context = self.context()
        chosen, chosen_by, decision = self._choose(context, task, specialist, complexity)
        return Assignment(
            chosen, self._prompt(context, chosen, chosen_by, task, decision), decision, chosen_by
        )

    def fill_subtasks(self, subtasks_json: str | bytes, *, complexity: object = None) -> str:
        """The LLM's subtasks (``orchestrator_plan_task``'s ``subtasks_json``) with a
        specialist for every subtask that names none; the others unchanged. Returns JSON.

        ``complexity``: the plan's ``complexity_level``, for subtasks that give none.
        Raises :class:`InvalidSubtasksError` for anything but a JSON list of objects, and
        :class:`UnassignableSpecialistError` when the mode routes a subtask to a specialist
        the host cannot take.
        """
        try:
            subtasks = json.loads(subtasks_json)
        except ValueError as exc:
            raise InvalidSubtasksError(f"subtasks_json is not JSON: {exc}") from exc
        except RecursionError as exc:
            raise InvalidSubtasksError("subtasks_json is nested too deeply to read") from exc
        if not isinstance(subtasks, list) or not all(isinstance(s, dict) for s in subtasks):
            raise InvalidSubtasksError(
                f"subtasks_json must be a list of objects, not {_shape(subtasks)}"
            )
        context = self.context()
        for index, subtask in enumerate(subtasks):
            if _name(subtask.get(self.specialist_field)) is None:
                try:
                    chosen, _, _ = self._choose(context, subtask, None, complexity)
                except ModecError:
                    raise
                except ValueError as exc:  # pydantic's ValidationError is one too
                    raise InvalidSubtasksError(
                        f"subtask {index} is not a task: {_first_problem(exc)}"
                    ) from exc
                subtask[self.specialist_field] = chosen
        return json.dumps(subtasks, ensure_ascii=False)

    # ------------------------------------------------------------------ prompts

    def prompt(self, specialist: str, task: object, *, complexity: object = None) -> str:
        """The prompt for ``specialist`` working on ``task``: the mode's role (definition,
        expertise, approach, output format), then the task's id, title, description and
        dependencies, how the mode routed it, and what to hand back.

        A specialist the mode lists without a definition gets its one-line description; one
        the mode does not know, a line naming it.
        """
        context = self.context()
        decision = self._route(context, task, complexity)
        return self._prompt(context, specialist, "host", task, decision)

    def _role_text(self, context: ModeContext, specialist: str) -> str:
        role = context.roles.get(specialist)
        if role is not None:
            return role.prompt()
        described = context.specialist_roles.get(specialist)
        head = f"# {specialist}"
        return f"{head}\n\n{described}" if described else head

    def _prompt(
        self,
        context: ModeContext,
        specialist: str,
        chosen_by: str,
        task: object,
        decision: Decision,
    ) -> str:
        lines = [self._role_text(context, specialist).rstrip(), "", "## Task", ""]
        task_id = _field(task, self.id_field)
        if task_id is not None:
            lines.append(f"**Task ID:** {task_id}")
        view = read_task(task, self.fields)
        if view.title:
            lines.append(f"**Title:** {view.title}")
        lines.append(f"**Description:** {view.description}")
        dependencies = _field(task, self.dependencies_field)
        if (
            isinstance(dependencies, Sequence)
            and not isinstance(dependencies, str | bytes)
            and dependencies
        ):
            lines.append(f"**Dependencies:** {', '.join(map(str, dependencies))}")
        lines += [
            "",
            "## Routing",
            "",
            f"**Task type:** {decision.task_type} (mode {context.mode_file})",
        ]
        if chosen_by == "host" and decision.specialist not in (None, specialist):
            lines.append(
                f"**Assigned by the orchestrator:** {specialist} (the mode would route this "
                f"task to {decision.specialist})"
            )
        if decision.secondary_review:
            lines.append(f"**Secondary review:** {', '.join(decision.secondary_review)}")
        lines += [
            "",
            "## Instructions",
            "",
            f"Complete this task as the {specialist} specialist, within your expertise. When "
            "you are done, give:",
            "1. A summary of what you did",
            "2. The artifacts or deliverables you created",
            "3. Recommended next steps",
        ]
        return "\n".join(lines)

    # ------------------------------------------------------------------ the host's manager

    async def get_specialist_prompt(self, specialist_type: object, subtask: object) -> str:
        """``SpecialistManager.get_specialist_prompt``: the prompt of :meth:`assign` for the
        subtask, with ``specialist_type`` (the subtask's own) as the specialist."""
        assignment = await asyncio.to_thread(self.assign, subtask, specialist=specialist_type)
        return assignment.prompt

    async def synthesize_task_results(
        self, parent_task_id: str, completed_subtasks: list[Any]
    ) -> Any:
        """``SpecialistManager.synthesize_task_results``, answered by the host's manager."""
        if self.host is None:
            raise ModecError(
                "synthesize_task_results needs the host's own specialist manager",
                suggestion="pass host=SpecialistManager(project_dir=...) to ModecSpecialists",
            )
        return await self.host.synthesize_task_results(parent_task_id, completed_subtasks)

    # ------------------------------------------------------------------ status

    def add_mode_info(self, status: dict[str, Any], *, key: str = "mode_info") -> dict[str, Any]:
        """The host's status payload (``orchestrator_get_status``'s) with this session's
        ``mode_info`` in the seed's shape under ``key``, in place
        (:func:`~modec.integrations.status.add_mode_info`)."""
        self.context()  # adopted: the status shows the session's binding
        add_mode_info(status, self.runtime, key=key, session_id=self.session_id)
        return status


def _shape(value: object) -> str:
    if isinstance(value, list):
        kinds = sorted({type(v).__name__ for v in value if not isinstance(v, dict)})
        return f"a list holding {', '.join(kinds)}"
    return f"a JSON {type(value).__name__}"
