"""Route one task straight from a compiled artifact's bytes, without pydantic: the cold path.

A process that routes one task and exits (``modec route --mode X.modec "…"``, a routing hook)
would spend most of its life importing pydantic and building the compiler's models. This
module reads the artifact's frame (:mod:`modec.compiler.framing`, the one owner of the
bytes), checks the payload against the artifact's shape, and evaluates the table's rows on
the task directly. It imports the standard library, :mod:`re2`, the frame's module and
the pure value functions, nothing else of modec.

It answers only what it can answer exactly as :class:`~modec.runtime.router.Router` does;
everything else is ``None``, and the caller takes the full path, which produces the
decision or the diagnostic itself:

* :func:`read_light` is None for bytes that are not an intact artifact, or whose payload is
  not exactly of the shape the artifact's models accept (a type that pydantic would coerce
  or refuse, an unknown key, a missing field): never a guess at what the models would do;
* :meth:`LightTable.route` is None for a task the strict ``Task`` could refuse (a lone
  surrogate, an unknown complexity, a task near the size limits), for a task that is
  ambiguous under hit policy ``unique`` (the error names sources the full path reports), and
  for a condition nested too deep to evaluate; a pattern the grammar refuses makes
  :func:`read_light` None, as it makes the router's load fail.

Values are compared and text atoms tested by :mod:`modec.compiler.values`, the functions
the router and the analysis use (through :mod:`modec.compiler.semantics`), and evidence is
located with its :func:`~modec.compiler.values.occurrences`, as :mod:`modec.runtime.explain`
does. ``tests/unit/test_light_route.py`` checks that every decision and its evidence equal
the router's, on the bundled modes and on generated tables and tasks, and that the shape
check names exactly the models' fields.
"""

from __future__ import annotations

from modec.compiler.values import compare, lower_map, occurrences, original_span, text_test

TYPE_CHECKING = False  # typing is not imported at run time: a cold `modec route` pays for it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final, TypeAlias

    Check: TypeAlias = Callable[[Any], bool]

__all__ = ["COMPLEXITY_NAMES", "LightDecision", "LightTable", "read_light"]

#: Complexity level names (the grammar's ``COMPLEXITY_NAMES``; a test holds them equal).
COMPLEXITY_NAMES: Final = {
    "trivial": 1,
    "simple": 2,
    "moderate": 3,
    "complex": 4,
    "very_complex": 5,
}

#: A task larger than this (characters, or tags and metadata entries) takes the full path,
#: which applies the real limits and their messages.
_SAFE_CHARS: Final = 1_000_000
_SAFE_ITEMS: Final = 1_000
_TEXT_FIELDS: Final = frozenset({"title", "description", "text"})
_MISSING: Final = object()
#: The evidence bounds of :mod:`modec.runtime.decision` (a test holds them equal).
MAX_EVIDENCE: Final = 100
MAX_ATOM_EVIDENCE: Final = 8
MAX_EVIDENCE_TEXT: Final = 120


# --------------------------------------------------------------------------- shape checks
#
# Each check is True exactly for JSON values that the artifact's pydantic field accepts and
# keeps unchanged (exact JSON types, no coercion); anything else sends the caller to the
# full path, whose models decide.


def _is_str(v: Any) -> bool:
    return type(v) is str


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_bool(v: Any) -> bool:
    return type(v) is bool


def _is_scalar(v: Any) -> bool:
    return type(v) in (str, int, float, bool)


def _is_json(v: Any) -> bool:
    return True  # dict[str, Any] values: whatever json.loads gives


def _optional(check: Check) -> Check:
    return lambda v: v is None or check(v)


def _list_of(check: Check) -> Check:
    return lambda v: type(v) is list and all(check(x) for x in v)


def _dict_of(check: Check) -> Check:
    return lambda v: type(v) is dict and all(check(x) for x in v.values())


def _one_of(*allowed: str) -> Check:
    return lambda v: type(v) is str and v in allowed


def _span(v: Any) -> bool:  # Span ignores extra keys
    return (
        type(v) is dict
        and type(v.get("file")) is str
        and all(type(v.get(k)) is int for k in ("line", "column", "end_line", "end_column"))
    )


#: Model name -> field -> (check, required). Models forbid unknown keys, except Span.
_MODELS: Final[dict[str, dict[str, tuple[Check, bool]]]] = {}


def _model(model: str, /, **fields: tuple[Check, bool]) -> Check:
    _MODELS[model] = fields

    def check(v: Any) -> bool:
        if type(v) is not dict or not v.keys() <= fields.keys():
            return False
        for key, (test, required) in fields.items():
            if key in v:
                if not test(v[key]):
                    return False
            elif required:
                return False
        return True

    return check


_STR, _OSTR = (_is_str, True), (_optional(_is_str), False)
_REQ_OSTR = (_optional(_is_str), True)
_STRS = (_list_of(_is_str), False)
_SPAN, _OSPAN = (_span, True), (_optional(_span), False)
_EXTRAS = (_dict_of(_is_json), False)


def _expr(v: Any) -> bool:
    if type(v) is not dict:
        return False
    check = _EXPRS.get(v.get("kind"))  # type: ignore[arg-type]
    return check is not None and check(v)


_EXPRS: Final[dict[str, Check]] = {
    "const": _model("Const", span=_SPAN, kind=(_is_str, False), value=(_is_bool, True)),
    "not": _model("Not", span=_SPAN, kind=(_is_str, False), operand=(_expr, True)),
    "and": _model("And", span=_SPAN, kind=(_is_str, False), operands=(_list_of(_expr), True)),
    "or": _model("Or", span=_SPAN, kind=(_is_str, False), operands=(_list_of(_expr), True)),
    "text": _model(
        "TextMatch",
        span=_SPAN,
        kind=(_is_str, False),
        field=_STR,
        op=(_one_of("contains", "mentions", "startswith", "endswith"), True),
        quantifier=(_one_of("one", "any", "all"), True),
        values=(_list_of(_is_str), True),
    ),
    "regex": _model(
        "RegexMatch",
        span=_SPAN,
        kind=(_is_str, False),
        field=_STR,
        pattern=_STR,
        flags=(_is_str, False),
    ),
    "compare": _model(
        "Compare",
        span=_SPAN,
        kind=(_is_str, False),
        field=_STR,
        op=(_one_of("==", "!=", "<", "<=", ">", ">="), True),
        value=(_is_scalar, True),
    ),
    "in": _model(
        "InList",
        span=_SPAN,
        kind=(_is_str, False),
        field=_STR,
        values=(_list_of(_is_scalar), True),
    ),
}

_HIT_POLICY = _one_of("first", "unique", "collect")
_ROW = _model(
    "Row",
    name=_STR,
    condition=(_expr, True),
    specialist=_REQ_OSTR,
    secondary_review=_STRS,
    complexity_boost=(_is_int, False),
    parallel_execution=(_optional(_is_bool), False),
    priority=(_is_int, False),
    origin=_STR,
    implicit=(_is_bool, False),
    source=_STR,
)
_FALLBACK = _model(
    "FallbackRow",
    name=(_is_str, False),
    specialist=_REQ_OSTR,
    secondary_review=_STRS,
    complexity_boost=(_is_int, False),
    parallel_execution=(_optional(_is_bool), False),
    source=_OSTR,
)
_TABLE = _model(
    "DecisionTable",
    hit_policy=(_HIT_POLICY, True),
    default_specialist=_REQ_OSTR,
    default_complexity=(_is_int, True),
    rows=(_list_of(_ROW), True),
    fallback=(_FALLBACK, True),
    scanners=(
        _list_of(
            _model(
                "ScannerPlan",
                field=_STR,
                kind=(_one_of("substring", "word"), True),
                literals=(_list_of(_is_str), True),
            )
        ),
        True,
    ),
)
_ROLE = _model(
    "Role",
    span=_SPAN,
    name=_STR,
    name_span=_SPAN,
    role_definition=_STR,
    expertise=_STRS,
    approach=_STRS,
    output_format=_OSTR,
    specialist_roles=(_dict_of(_is_str), False),
    specialist_spans=(_dict_of(_span), False),
    extras=_EXTRAS,
)
_CONFIGURATION = _model(
    "ModeConfiguration",
    span=_SPAN,
    default_complexity=(_is_int, False),
    auto_task_routing=(_optional(_is_bool), False),
    max_subtask_depth=(_optional(_is_int), False),
    progress_aggregation=_OSTR,
    hit_policy=(_HIT_POLICY, False),
    default_specialist=_OSTR,
    default_specialist_span=_OSPAN,
    builtin_task_types=(_is_bool, False),
    settings=_EXTRAS,
)
_ARTIFACT = _model(
    "Artifact",
    format=(_is_int, False),
    compiler_version=_STR,
    mode_hash=_STR,
    name=_OSTR,
    sources=(_list_of(_model("SourceRef", path=_STR, sha256=_STR)), True),
    roles=(_dict_of(_ROLE), True),
    configuration=(_CONFIGURATION, True),
    table=(_TABLE, True),
)


# --------------------------------------------------------------------------- values


class _Task:
    """The fields of one task, with lowered texts computed once."""

    __slots__ = ("complexity", "description", "lowered", "metadata", "regexes", "tags", "title")

    def __init__(
        self,
        title: str,
        description: str,
        tags: tuple[str, ...],
        complexity: int,
        metadata: dict[str, Any],
        regexes: dict[tuple[str, str], Any],
    ) -> None:
        self.regexes = regexes
        self.title = title
        self.description = description
        self.tags = tags
        self.complexity = complexity
        self.metadata = metadata
        self.lowered: dict[str, str] = {}

    def text(self, name: str) -> str:
        if name == "title":
            return self.title
        if name == "description":
            return self.description
        return self.title + "\n" + self.description

    def lower(self, name: str) -> str:
        found = self.lowered.get(name)
        if found is None:
            found = self.lowered[name] = self.text(name).lower()
        return found

    def value(self, name: str) -> Any:
        if name in _TEXT_FIELDS:
            return self.text(name)
        if name == "complexity":
            return self.complexity
        if name == "tags":
            return self.tags
        if name.startswith("metadata."):
            return self.metadata.get(name[len("metadata.") :], _MISSING)
        return _MISSING


def _regex(pattern: str, flags: str) -> Any:
    """The RE2 regexp :func:`modec.grammar.compile_regex` gives for ``matches
    /pattern/flags``, or None where it refuses the pattern (and the router's load with it).

    The grammar's module is not imported (its diagnostics cost a cold start more than the
    whole route): a pattern compiles there exactly when its flags are among ``ims``, it is
    not empty, and RE2 compiles ``(?flags)pattern``, which is what this does.
    """
    import re2

    if not pattern or any(f not in "ims" for f in flags):
        return None
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(f"(?{flags}){pattern}" if flags else pattern, options)
    except (re2.error, UnicodeEncodeError):
        return None


def _regexes(e: Any, found: dict[tuple[str, str], Any]) -> bool:
    """Compile every pattern of a checked condition into ``found``; False if one is refused."""
    kind = e["kind"]
    if kind == "regex":
        key = (e["pattern"], e.get("flags", ""))
        if key not in found:
            found[key] = _regex(*key)
        return found[key] is not None
    if kind in ("and", "or"):
        return all(_regexes(o, found) for o in e["operands"])
    if kind == "not":
        return _regexes(e["operand"], found)
    return True


def _holds(e: dict[str, Any], t: _Task) -> bool:
    kind = e["kind"]
    if kind == "text":
        field, op = e["field"], e["op"]
        values = [v.lower() for v in e["values"]]
        if field in _TEXT_FIELDS:
            subject = t.lower(field)
            results = [text_test(op, subject, v) for v in values]
        elif field == "tags":
            tags = [tag.lower() for tag in t.tags]
            if op == "contains":
                results = [v in tags for v in values]
            else:
                results = [any(text_test(op, tag, v) for tag in tags) for v in values]
        else:
            found = t.value(field)
            if not isinstance(found, str):
                return False
            lowered = found.lower()
            results = [text_test(op, lowered, v) for v in values]
        return all(results) if e["quantifier"] == "all" else any(results)
    if kind == "and":
        return all(_holds(o, t) for o in e["operands"])
    if kind == "or":
        return any(_holds(o, t) for o in e["operands"])
    if kind == "not":
        return not _holds(e["operand"], t)
    if kind == "const":
        return bool(e["value"])
    if kind == "compare":
        return compare(t.value(e["field"]), e["op"], e["value"])
    if kind == "in":
        left = t.value(e["field"])
        return any(compare(left, "==", v) for v in e["values"])
    # regex: an RE2 search of the original text
    search = t.regexes[e["pattern"], e.get("flags", "")].search
    subject = t.value(e["field"])
    if isinstance(subject, tuple):
        return any(search(tag) is not None for tag in subject)
    return isinstance(subject, str) and search(subject) is not None


# --------------------------------------------------------------------------- evidence
#
# What ``Decision.evidence`` gives (:func:`modec.runtime.explain.positive_evidence`): the
# occurrences that made the taken rows' conditions true, as ``Evidence.to_dict()`` rows.


def _excerpt(text: str) -> str:
    return text if len(text) <= MAX_EVIDENCE_TEXT else text[: MAX_EVIDENCE_TEXT - 1] + "…"


def _item(field: str, op: str, value: str, start: int, end: int, text: str) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value, "start": start, "end": end, "text": text}


def _text_evidence(t: _Task, label: str, op: str, value: str, original: str) -> list[Any]:
    lowered = t.lowered.get(label)
    if lowered is None:
        lowered = t.lowered[label] = original.lower()
    spans = occurrences(op, lowered, value.lower(), MAX_ATOM_EVIDENCE)
    if not spans:
        return []
    mapping = lower_map(original)
    out = []
    for i, j in spans:
        start, end = original_span(mapping, len(original), i, j)
        out.append(_item(label, op, value, start, end, _excerpt(original[start:end])))
    return out


def _subjects(e: dict[str, Any], t: _Task) -> list[tuple[str, str]]:
    name = e["field"]
    if name in _TEXT_FIELDS:
        return [(name, t.text(name))]
    if name == "tags":
        return [(f"tags[{i}]", tag) for i, tag in enumerate(t.tags)]
    if name.startswith("metadata."):
        found = t.metadata.get(name[len("metadata.") :])
        return [(name, found)] if isinstance(found, str) else []
    return []


def _value_evidence(e: dict[str, Any], t: _Task, value: str) -> list[Any]:
    out: list[Any] = []
    for label, text in _subjects(e, t):
        if e["kind"] == "regex":
            m = t.regexes[e["pattern"], e.get("flags", "")].search(text)
            if m is not None:
                out.append(_item(label, "matches", value, m.start(), m.end(), _excerpt(m.group(0))))
        elif e["field"] == "tags" and e["op"] == "contains":
            if text.lower() == value.lower():
                out.append(_item(label, "contains", value, 0, len(text), _excerpt(text)))
        else:
            out.extend(_text_evidence(t, label, e["op"], value, text))
        if len(out) >= MAX_ATOM_EVIDENCE:
            return out[:MAX_ATOM_EVIDENCE]
    return out


def _positive(e: dict[str, Any], t: _Task, out: list[Any]) -> bool:
    """Evaluate ``e``; when true, append the evidence of the atoms that made it true."""
    kind = e["kind"]
    if kind == "not":
        return not _positive(e["operand"], t, [])
    if kind == "and":
        collected: list[Any] = []
        for operand in e["operands"]:
            if not _positive(operand, t, collected):
                return False
        out.extend(collected)
        return True
    if kind == "or":
        any_true = False
        for operand in e["operands"]:
            any_true |= _positive(operand, t, out)
        return any_true
    if kind == "text":
        per_value = [_value_evidence(e, t, v) for v in e["values"]]
        result = all(per_value) if e["quantifier"] == "all" else any(per_value)
        if result:
            out.extend(
                sorted(
                    (x for found in per_value for x in found),
                    key=lambda x: (x["field"], x["start"], x["end"]),
                )
            )
        return result
    if kind == "regex":
        if not _subjects(e, t):
            return False
        found = _value_evidence(e, t, e["pattern"])
        out.extend(found)
        return bool(found)
    return _holds(e, t)  # const, compare, in: no evidence


# --------------------------------------------------------------------------- tables


class LightDecision:
    """What :class:`~modec.runtime.router.Decision` says, for the command line's output."""

    __slots__ = (
        "complexity",
        "evidence",
        "matches",
        "mode_hash",
        "parallel_execution",
        "secondary_review",
        "source",
        "specialist",
        "task_type",
    )

    def __init__(
        self,
        row: dict[str, Any],
        complexity: int,
        matches: tuple[str, ...],
        mode_hash: str,
        evidence: list[dict[str, Any]],
    ) -> None:
        self.evidence = evidence
        self.task_type: str = row.get("name", "general_tasks")
        self.specialist: str | None = row["specialist"]
        self.secondary_review: tuple[str, ...] = tuple(row.get("secondary_review", ()))
        boosted = complexity + row.get("complexity_boost", 0)
        self.complexity = min(5, max(1, boosted))
        self.parallel_execution: bool | None = row.get("parallel_execution")
        self.source: str | None = row.get("source")
        self.matches = matches
        self.mode_hash = mode_hash

    def to_dict(self) -> dict[str, Any]:
        """``Decision.to_dict(evidence=True)``: what ``modec route --json`` prints."""
        return {
            "task_type": self.task_type,
            "specialist": self.specialist,
            "secondary_review": list(self.secondary_review),
            "complexity": self.complexity,
            "parallel_execution": self.parallel_execution,
            "rule": self.task_type,
            "source": self.source,
            "matches": list(self.matches),
            "mode_hash": self.mode_hash,
            "evidence": self.evidence,
        }


class LightTable:
    """A checked artifact's decision table, routed by direct evaluation of its rows."""

    __slots__ = ("_default_complexity", "_fallback", "_policy", "_regexes", "_rows", "mode_hash")

    def __init__(self, doc: dict[str, Any], regexes: dict[tuple[str, str], Any]) -> None:
        self._regexes = regexes
        table = doc["table"]
        self.mode_hash: str = doc["mode_hash"]
        self._rows: list[dict[str, Any]] = table["rows"]
        self._fallback: dict[str, Any] = table["fallback"]
        self._policy: str = table["hit_policy"]
        self._default_complexity = min(5, max(1, table["default_complexity"]))

    def route(
        self,
        title: str = "",
        description: str = "",
        tags: tuple[str, ...] = (),
        complexity: int | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> LightDecision | None:
        """The decision for the task with these fields, or None when the full path must
        answer (see the module's documentation)."""
        meta = {} if metadata is None else metadata
        level = _level(complexity)
        if level is _MISSING or not _plain(title, description, tags, meta):
            return None
        given: int = level or self._default_complexity  # type: ignore[assignment]
        task = _Task(title, description, tags, given, meta, self._regexes)
        taken: list[dict[str, Any]] = []
        try:
            for row in self._rows:
                if _holds(row["condition"], task):
                    taken.append(row)
                    if self._policy == "first":
                        break
            if not taken:
                return LightDecision(self._fallback, given, (), self.mode_hash, [])
            if self._policy == "unique" and len(taken) > 1:
                return None
            evidence: list[dict[str, Any]] = []
            names = tuple(r["name"] for r in taken)
            for row in self._rows:  # as Router.evidence_of: rows named in matches, in order
                if row["name"] in names:
                    _positive(row["condition"], task, evidence)
                    if len(evidence) >= MAX_EVIDENCE:
                        break
        except RecursionError:
            return None
        return LightDecision(taken[0], given, names, self.mode_hash, evidence[:MAX_EVIDENCE])


def _level(value: int | str | None) -> int | object | None:
    """The complexity 1–5 the strict ``Task`` would keep, or ``_MISSING`` where it might
    refuse (the full path says why)."""
    if value is None:
        return None
    if type(value) is int:
        return value if 1 <= value <= 5 else _MISSING
    if type(value) is str:
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        if key in COMPLEXITY_NAMES:
            return COMPLEXITY_NAMES[key]
        if key.isdigit() and key.isascii() and 1 <= int(key) <= 5:
            return int(key)
    return _MISSING


def _valid_text(text: object) -> bool:
    if type(text) is not str:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _plain(title: str, description: str, tags: tuple[str, ...], meta: dict[str, Any]) -> bool:
    """Fields the strict ``Task`` keeps as they are, well inside its limits."""
    if len(tags) + len(meta) > _SAFE_ITEMS or type(tags) is not tuple:
        return False
    size = len(title) + len(description) + sum(len(t) for t in tags)
    for key, value in meta.items():
        if type(key) is not str or type(value) not in (str, int, float, bool):
            return False
        if type(value) is str:
            if not _valid_text(value):  # the router's RE2 would fail to encode it
                return False
            size += len(value)
    return (
        size <= _SAFE_CHARS
        and _valid_text(title)
        and _valid_text(description)
        and all(_valid_text(t) for t in tags)
    )


def read_light(data: bytes) -> LightTable | None:
    """The table of intact artifact bytes of exactly the artifact's shape, else None (the
    full path reports what is wrong, or decodes what pydantic would coerce)."""
    from modec.compiler.framing import FrameError, decode_payload, unframe

    try:
        doc = decode_payload(unframe(data))
    except (FrameError, RecursionError):
        return None
    regexes: dict[tuple[str, str], Any] = {}
    try:
        fits = _ARTIFACT(doc) and all(
            _regexes(row["condition"], regexes) for row in doc["table"]["rows"]
        )
    except RecursionError:
        return None
    return LightTable(doc, regexes) if fits else None
