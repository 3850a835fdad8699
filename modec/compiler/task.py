"""Tasks as the condition language sees them, read from whatever a host hands in.

A task has five fields: ``title``, ``description``, ``tags``, ``complexity`` (1–5 or a level
name) and ``metadata``. Two shapes carry them:

* :class:`Task` — the strict pydantic model, for callers who want validation up front:
  unknown fields are refused.
* :class:`TaskView` — a plain, already-checked record that :func:`read_task` builds from a
  string (the description), a mapping, or any object with task-like attributes (a host's own
  task model, a database row). Unknown fields are ignored, ``None`` means "not given", a field
  map covers hosts whose names differ, and ``metadata`` may be a JSON object in a string.
  Reading a string or a well-typed mapping builds no pydantic model; anything that is not
  well typed is handed to :class:`Task` so the error is pydantic's, field by field.

Every task is bounded (:data:`MAX_TASK_CHARS`, :data:`MAX_TASK_ITEMS`): a larger one raises
:class:`TaskTooLargeError`, which states the limit.

This module sits below the runtime on purpose: the router and the reference interpreter in
:mod:`modec.testing` both read tasks through it, and the interpreter never imports the router.

>>> view = read_task({"name": "Fix login", "body": "audit it", "metadata": '{"team": "core"}',
...                   "owner": "ana"}, fields={"title": "name", "description": "body"})
>>> view.title, view.description, view.metadata
('Fix login', 'audit it', {'team': 'core'})
>>> read_task("just a description").description
'just a description'
>>> Task(description="x", complexity="complex").complexity
4
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modec.compiler.ir import COMPLEXITY_NAMES
from modec.compiler.semantics import compose_text  # the owner of the `text` rule
from modec.diagnostics import ModecError

__all__ = [
    "MAX_TASK_CHARS",
    "MAX_TASK_ITEMS",
    "TASK_FIELDS",
    "AmbiguousRouteError",
    "Task",
    "TaskLike",
    "TaskTooLargeError",
    "TaskView",
    "compose_text",
    "description_only",
    "read_task",
]

#: The fields of a task, in the order hosts usually list them.
TASK_FIELDS: Final = ("title", "description", "tags", "complexity", "metadata")
#: The most characters a task may carry: title, description, tags and metadata text together.
MAX_TASK_CHARS: Final = 4_000_000
#: The most tags plus metadata entries a task may carry.
MAX_TASK_ITEMS: Final = 10_000

_VALID_COMPLEXITY: Final = "1–5 or one of " + ", ".join(COMPLEXITY_NAMES)


class TaskTooLargeError(ModecError, ValueError):
    """A task over :data:`MAX_TASK_CHARS` characters or :data:`MAX_TASK_ITEMS` items."""

    suggestion = (
        f"route at most {MAX_TASK_CHARS:,} characters and {MAX_TASK_ITEMS:,} tags and metadata "
        "entries; send a summary or the relevant part of a longer text"
    )


class AmbiguousRouteError(ModecError):
    """Under hit policy ``unique``, a task matched more than one row."""

    suggestion = (
        "make the rows' conditions exclusive, or use hit_policy: first (earlier rows win) "
        "or collect"
    )

    def __init__(self, first: str, second: str, first_source: str, second_source: str) -> None:
        super().__init__(
            f"task matches both {first!r} ({first_source}) and {second!r} ({second_source}) "
            "under hit policy 'unique'"
        )
        self.rows = (first, second)


def _check_text(value: str) -> str:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"text contains a lone surrogate at index {exc.start}; it is not valid Unicode"
            ) from exc
    return value


def _complexity(value: object) -> int | None:
    """1–5 from an int or a level name; ValueError naming the valid values otherwise."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if 1 <= value <= 5:
            return value
    elif isinstance(value, str):
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        if key in COMPLEXITY_NAMES:
            return COMPLEXITY_NAMES[key]
        if key.isdigit() and 1 <= int(key) <= 5:
            return int(key)
    raise ValueError(f"complexity must be {_VALID_COMPLEXITY}, not {value!r}")


def _check_size(
    title: str, description: str, tags: tuple[str, ...], metadata: Mapping[str, Any]
) -> None:
    items = len(tags) + len(metadata)
    if items > MAX_TASK_ITEMS:
        raise TaskTooLargeError(
            f"task has {items:,} tags and metadata entries; the limit is {MAX_TASK_ITEMS:,}"
        )
    size = len(title) + len(description)
    if tags:
        size += sum(map(len, tags))
    if metadata:
        size += sum(len(v) for v in metadata.values() if isinstance(v, str))
    if size > MAX_TASK_CHARS:
        raise TaskTooLargeError(f"task has {size:,} characters; the limit is {MAX_TASK_CHARS:,}")


class Task(BaseModel):
    """A task to route. ``complexity`` is 1–5 or a level name (``trivial`` … ``very_complex``).

    Strict: an unknown field is an error (:func:`read_task` ignores them instead).

    >>> Task(description="x", complexity="complex").complexity
    4
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    complexity: int | None = Field(default=None, ge=1, le=5)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("title", "description")
    @classmethod
    def _valid_text(cls, value: str) -> str:
        return _check_text(value)

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for tag in value:
            _check_text(tag)
        return value

    @field_validator("complexity", mode="before")
    @classmethod
    def _level_names(cls, value: Any) -> Any:
        return _complexity(value)

    @model_validator(mode="after")
    def _bounded(self) -> Task:
        _check_size(self.title, self.description, self.tags, self.metadata)
        return self


class TaskView:
    """A checked task record (the fields of :class:`Task`), cheap to build; see :func:`read_task`.

    ``task()`` gives the equivalent :class:`Task`.
    """

    __slots__ = ("complexity", "description", "metadata", "tags", "title")

    def __init__(
        self,
        title: str,
        description: str,
        tags: tuple[str, ...],
        complexity: int | None,
        metadata: dict[str, Any],
    ) -> None:
        self.title = title
        self.description = description
        self.tags = tags
        self.complexity = complexity
        self.metadata = metadata

    def task(self) -> Task:
        """The strict :class:`Task` with these fields."""
        return Task(
            title=self.title,
            description=self.description,
            tags=self.tags,
            complexity=self.complexity,
            metadata=self.metadata,
        )

    def __repr__(self) -> str:
        return (
            f"TaskView(title={self.title!r}, description={self.description!r}, "
            f"tags={self.tags!r}, complexity={self.complexity!r}, "
            f"metadata={self.metadata!r})"
        )


#: What ``route()`` accepts: a Task, a TaskView, a description string, a mapping, or any
#: object with task-like attributes.
TaskLike: TypeAlias = "Task | TaskView | str | Mapping[str, Any] | object"

_UNSET: Final = object()


def _metadata(value: object) -> object:
    if isinstance(value, str | bytes | bytearray):
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise ValueError(f"metadata is text but not JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise ValueError(
                f"metadata given as JSON must be an object, not {type(parsed).__name__}"
            )
        return parsed
    return value


def _gather(task: object, fields: Mapping[str, str] | None) -> dict[str, Any]:
    """The task fields found on a mapping or an object (unknown ones ignored, None = unset)."""
    names = TASK_FIELDS if fields is None else tuple(fields.get(f, f) for f in TASK_FIELDS)
    found: dict[str, Any] = {}
    if isinstance(task, Mapping):
        for name, key in zip(TASK_FIELDS, names, strict=True):
            value = task.get(key)
            if value is not None:
                found[name] = value
        return found
    seen = False
    for name, key in zip(TASK_FIELDS, names, strict=True):
        value = getattr(task, key, _UNSET)
        if value is _UNSET:
            continue
        seen = True
        if value is not None:
            found[name] = value
    if not seen:
        raise TypeError(
            f"cannot route a {type(task).__name__}: give a Task, a description string, a "
            "mapping, or an object with title/description/tags/complexity/metadata attributes "
            "(a field map names attributes that differ)"
        )
    return found


def description_only(task: dict[str, Any]) -> str | None:
    """The description of a plain dict that gives no other task field (no title, tags,
    complexity or metadata; empty ones count as not given): such a dict routes exactly as
    that string. None when the dict gives more, or a description that is not text."""
    get = task.get
    description = get("description")
    if type(description) is not str:
        return "" if description is None and not task else None
    if len(task) == 1:
        return description
    title, tags, metadata = get("title"), get("tags"), get("metadata")
    if get("complexity") is not None or not (title is None or title == ""):
        return None
    if not (tags is None or (type(tags) in (list, tuple) and not tags)):
        return None
    if not (metadata is None or (type(metadata) is dict and not metadata)):
        return None
    return description


def _tags_of(tags: object) -> tuple[str, ...] | None:
    """Tags as a checked tuple of text, or None when they are not a list or tuple of text."""
    if type(tags) is not list and type(tags) is not tuple:
        return None
    for tag in tags:
        if type(tag) is not str:
            return None
        if not tag.isascii():
            _check_text(tag)
    return tuple(tags)


def _level(value: object) -> int | None:
    if value is None or (type(value) is int and 1 <= value <= 5):
        return value
    return _complexity(value)


def _fast_view(found: dict[str, Any]) -> TaskView | None:
    """The view of well-typed fields without pydantic, or None to let :class:`Task` judge."""
    get = found.get
    title = get("title", "")
    description = get("description", "")
    tags = _tags_of(get("tags", ()))
    metadata = get("metadata", {})
    if (
        type(title) is not str
        or type(description) is not str
        or tags is None
        or type(metadata) is not dict
    ):
        return None
    complexity = _level(get("complexity"))
    if not title.isascii():
        _check_text(title)
    if not description.isascii():
        _check_text(description)
    if metadata or len(tags) > 64 or len(title) + len(description) > MAX_TASK_CHARS // 2:
        _check_size(title, description, tags, metadata)
    return TaskView(title, description, tags, complexity, metadata)


def _read_dict(task: dict[str, Any]) -> TaskView:
    """A plain dict's view: well-typed fields are read without building a dict or a model;
    anything else goes to :class:`Task`, so the error is pydantic's."""
    get = task.get
    title = get("title")
    description = get("description")
    tags = get("tags")
    metadata = get("metadata")
    if metadata is None:
        metadata = {}
    elif type(metadata) is not dict:
        metadata = _metadata(metadata)
    if title is None:
        title = ""
    if description is None:
        description = ""
    checked = () if tags is None else _tags_of(tags)
    if (
        type(title) is not str
        or type(description) is not str
        or checked is None
        or type(metadata) is not dict
    ):
        found = {name: value for name in TASK_FIELDS if (value := get(name)) is not None}
        if "metadata" in found:
            found["metadata"] = metadata
        return _strict_view(found)
    complexity = _level(get("complexity"))
    if not title.isascii():
        _check_text(title)
    if not description.isascii():
        _check_text(description)
    if metadata or len(checked) > 64 or len(title) + len(description) > MAX_TASK_CHARS // 2:
        _check_size(title, description, checked, metadata)
    return TaskView(title, description, checked, complexity, metadata)


def _read_text(text: str) -> TaskView:
    _check_text(text)
    if len(text) > MAX_TASK_CHARS:
        raise TaskTooLargeError(
            f"task has {len(text):,} characters; the limit is {MAX_TASK_CHARS:,}"
        )
    return TaskView("", text, (), None, {})


def read_task(task: object, fields: Mapping[str, str] | None = None) -> Task | TaskView:
    """The task in ``task``: a :class:`Task` or :class:`TaskView` unchanged (no field map), a
    string as the description, or the task fields of a mapping or an object.

    ``fields`` maps task field names to the host's names (``{"description": "body"}``); the
    others keep their names. Unknown keys and attributes are ignored; a ``None`` value means
    the field is not given. ``metadata`` may be a JSON object in a string. Raises
    :class:`TypeError` for something that is not a task, :class:`pydantic.ValidationError`
    (a :class:`ValueError`) for a field of the wrong type or value, and
    :class:`TaskTooLargeError` over the size limits.
    """
    kind = type(task)
    if fields is None and (kind is Task or kind is TaskView):
        return task  # type: ignore[return-value]
    if kind is dict and fields is None:
        return _read_dict(task)  # type: ignore[arg-type]
    if kind is str:
        return _read_text(task)  # type: ignore[arg-type]
    if isinstance(task, bytes | bytearray | int | float | bool):
        raise TypeError(
            f"cannot route a {kind.__name__}: give a Task, a description string, a mapping, or "
            "an object with task-like attributes"
        )
    found = _gather(task, fields)
    if "metadata" in found:
        found["metadata"] = _metadata(found["metadata"])
    view = _fast_view(found)
    return view if view is not None else _strict_view(found)


def _strict_view(found: dict[str, Any]) -> TaskView:
    """The view after :class:`Task` validated (or refused) ``found``."""
    strict = Task.model_validate(found)
    return TaskView(
        strict.title, strict.description, strict.tags, strict.complexity, strict.metadata
    )
