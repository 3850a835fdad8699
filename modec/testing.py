"""Property-testing support: a reference interpreter and Hypothesis strategies.

:func:`reference_route` is a plain tree-walking interpreter of the resolved IR, written for
clarity rather than speed; the compiled :class:`~modec.runtime.router.Router` must agree with
it on every task. It is independent of the router on purpose: it imports nothing from
:mod:`modec.runtime`, evaluates the IR with its own plain value semantics, and shares only
the IR, the task reader (:mod:`modec.compiler.task`) and the grammar's RE2 compiler.
Hypothesis is needed (``pip install 'modec[testing]'``). Downstream suites use it, with
:func:`tasks`, :func:`conditions`, :func:`modes` and :func:`mode_documents`, to property-test
their own modes::

    from hypothesis import given
    from modec.testing import reference_route, tasks

    @given(tasks())
    def test_my_mode(task):
        d = router.route(task)
        assert (d.task_type, d.specialist) == reference_route(mode, task)[:2]

>>> from modec.compiler.ir import ModeConfiguration, ModeFile, ModeMetadata, Role
>>> from modec.diagnostics import Span
>>> s = Span.point("m.yaml", 1, 1)
>>> orch = Role(span=s, name="task_orchestrator", name_span=s, role_definition="o",
...             specialist_roles={"implementer": "builds"})
>>> mode = ModeFile(span=s, path="m.yaml", sources=(), metadata=ModeMetadata(span=s),
...                 configuration=ModeConfiguration(span=s), roles={orch.name: orch},
...                 rules=tuple(builtin_rules(s)))
>>> reference_route(mode, "Run the QA suite")
('testing_tasks', 'implementer', ('testing_tasks',))
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator, Sequence
from typing import Any, Final

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "modec.testing needs Hypothesis, which the `testing` extra installs: "
        "pip install 'modec[testing]'"
    ) from exc

from modec.compiler.ir import (
    BUILTIN_KEYWORDS,
    BUILTIN_ORDER,
    FALLBACK_TYPE,
    And,
    Compare,
    Const,
    Expr,
    InList,
    ModeFile,
    Not,
    Or,
    RegexMatch,
    Rule,
    TaskSpec,
    TextMatch,
)
from modec.compiler.task import AmbiguousRouteError, Task, TaskView, read_task
from modec.diagnostics import Span
from modec.grammar import compile_regex

__all__ = [
    "TRICKY_TEXT",
    "VOCABULARY",
    "builtin_rules",
    "classic_classify",
    "conditions",
    "evaluate",
    "make_mode",
    "make_rule",
    "mode_documents",
    "modes",
    "reference_route",
    "task_texts",
    "tasks",
]

# --------------------------------------------------------------------------- the interpreter


def classic_classify(description: str) -> str:
    """The hardcoded classifier every mode file compiles away (DESIGN §2), verbatim."""
    t = description.lower()
    if any(k in t for k in ["security", "vulnerability", "audit", "compliance", "encryption"]):
        return "security_tasks"
    if any(k in t for k in ["performance", "optimization", "speed", "bottleneck", "profiling"]):
        return "performance_tasks"
    if any(k in t for k in ["test", "testing", "validation", "verification", "qa"]):
        return "testing_tasks"
    if any(k in t for k in ["document", "documentation", "guide", "manual", "readme"]):
        return "documentation_tasks"
    return "general_tasks"


def _task(task: Any) -> Task | TaskView:
    if isinstance(task, TaskSpec):
        return Task(
            title=task.title,
            description=task.description,
            tags=task.tags,
            complexity=task.complexity,
            metadata=dict(task.metadata),
        )
    return read_task(task)


def _rows(mode: ModeFile) -> list[Rule]:
    rows = []
    for index, rule in enumerate(mode.rules):
        if rule.name == FALLBACK_TYPE and rule.condition is None:
            continue
        # a builtin type ranks by name, whatever its condition
        rank = (0, BUILTIN_ORDER.index(rule.name)) if rule.name in BUILTIN_ORDER else (1, index)
        rows.append((-rule.priority, rank, rule))
    rows.sort(key=lambda item: (item[0], item[1]))
    return [rule for _, _, rule in rows]


def _default_specialist(mode: ModeFile) -> str | None:
    if mode.configuration.default_specialist:
        return mode.configuration.default_specialist
    for rule in mode.rules:
        if rule.name == FALLBACK_TYPE and rule.required_specialist:
            return rule.required_specialist
    if "implementer" in mode.roles:
        return "implementer"
    listed = list(mode.specialist_roles)
    for name in listed:
        if name in mode.roles:
            return name
    return listed[0] if listed else None


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _mentions(t: str, w: str) -> bool:
    for i in range(len(t) - len(w) + 1):
        j = i + len(w)
        if t[i:j] != w:
            continue
        left = i == 0 or not w or not _is_word_char(w[0]) or not _is_word_char(t[i - 1])
        right = j == len(t) or not w or not _is_word_char(w[-1]) or not _is_word_char(t[j])
        if left and right:
            return True
    return False


def _text_op(op: str, subject: str, value: str) -> bool:
    if op == "contains":
        return value in subject
    if op == "mentions":
        return _mentions(subject, value)
    if op == "startswith":
        return subject.startswith(value)
    return subject.endswith(value)


def _field(task: Task | TaskView, name: str) -> str:
    if name == "title":
        return task.title
    if name == "description":
        return task.description
    return task.title + "\n" + task.description


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _compare(left: Any, op: str, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.lower(), right.lower()
    elif _number(left) and _number(right):
        pass
    elif isinstance(left, bool) and isinstance(right, bool):
        if op not in ("==", "!="):
            return False
    else:
        return False
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


_ABSENT: Final = object()


def _value(task: Task | TaskView, name: str, complexity: int) -> Any:
    if name in ("title", "description", "text"):
        return _field(task, name)
    if name == "complexity":
        return complexity
    if name.startswith("metadata."):
        return task.metadata.get(name[len("metadata.") :], _ABSENT)
    return _ABSENT


def _text_match(expr: TextMatch, task: Task | TaskView, v: str) -> bool:
    """One value ``v`` (lowered) of a text atom."""
    if expr.field in ("title", "description", "text"):
        return _text_op(expr.op, _field(task, expr.field).lower(), v)
    if expr.field == "tags":
        if expr.op == "contains":
            return any(tag.lower() == v for tag in task.tags)
        return any(_text_op(expr.op, tag.lower(), v) for tag in task.tags)
    if expr.field.startswith("metadata."):
        found = task.metadata.get(expr.field[len("metadata.") :])
        return isinstance(found, str) and _text_op(expr.op, found.lower(), v)
    return False


def _regex_match(expr: RegexMatch, task: Task | TaskView, complexity: int) -> bool:
    regex = compile_regex(expr.pattern, expr.flags)
    if expr.field in ("title", "description", "text"):
        return regex.search(_field(task, expr.field)) is not None
    if expr.field == "tags":
        return any(regex.search(tag) is not None for tag in task.tags)
    found = _value(task, expr.field, complexity)
    return isinstance(found, str) and regex.search(found) is not None


def evaluate(expr: Expr, task: Task | TaskView, complexity: int) -> bool:
    """The truth of a condition for a task, by direct recursion over the IR."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Not):
        return not evaluate(expr.operand, task, complexity)
    if isinstance(expr, And):
        return all(evaluate(o, task, complexity) for o in expr.operands)
    if isinstance(expr, Or):
        return any(evaluate(o, task, complexity) for o in expr.operands)
    if isinstance(expr, TextMatch):
        results = [_text_match(expr, task, raw.lower()) for raw in expr.values]
        return all(results) if expr.quantifier == "all" else any(results)
    if isinstance(expr, RegexMatch):
        return _regex_match(expr, task, complexity)
    if isinstance(expr, Compare):
        return _compare(_value(task, expr.field, complexity), expr.op, expr.value)
    if isinstance(expr, InList):
        left = _value(task, expr.field, complexity)
        return any(_compare(left, "==", v) for v in expr.values)
    raise TypeError(f"unknown expression {expr!r}")


def reference_route(mode: ModeFile, task: Any) -> tuple[str, str | None, tuple[str, ...]]:
    """``(task_type, specialist, matches)`` by reading the IR directly.

    ``matches`` are the rows taken: every firing row under ``collect``, the one row under
    ``first`` and ``unique``, none when the fallback decides. Under ``unique`` a task that
    fires two rows raises :class:`~modec.compiler.task.AmbiguousRouteError`.
    """
    t = _task(task)
    complexity = t.complexity or mode.configuration.default_complexity
    default = _default_specialist(mode)
    policy = mode.configuration.hit_policy
    fired: list[Rule] = []
    for rule in _rows(mode):
        assert rule.condition is not None
        if evaluate(rule.condition, t, complexity):
            fired.append(rule)
            if policy == "first":
                break
    if policy == "unique" and len(fired) > 1:
        a, b = fired[0], fired[1]
        raise AmbiguousRouteError(
            a.name, b.name, f"line {a.name_span.line}", f"line {b.name_span.line}"
        )
    if not fired:
        general = next(
            (r for r in mode.rules if r.name == FALLBACK_TYPE and r.condition is None), None
        )
        specialist = (general.required_specialist if general else None) or default
        return FALLBACK_TYPE, specialist, ()
    first = fired[0]
    return first.name, first.required_specialist or default, tuple(r.name for r in fired)


# --------------------------------------------------------------------------- strategies

#: Characters whose lower-casing trips up naive case folding: long s, Kelvin sign, dotted
#: capital I (lowers to two code points), final sigma, combining marks, and word separators.
TRICKY_TEXT: Final = (
    "ſ",
    "K",
    "İ",
    "ı",
    "Σ",
    "ς",
    "ß",
    "ẞ",
    "\u0307",
    "\u0301",
    "é",
    "e\u0301",
    "_",
    "-",
    " ",
    "\n",
    "\t",
    "ǅ",
    "Ω",
    "Å",
    "😀",
)
#: Words the strategies draw from so that keywords actually occur in generated tasks.
VOCABULARY: Final = (
    *sorted({k for words in BUILTIN_KEYWORDS.values() for k in words}),
    "fix",
    "hotfix",
    "release",
    "design",
    "api",
    "user",
    "login",
    "slow",
    "latency",
    "SECURITY",
    "Test",
    "QA",
    "ReadMe",
    "teſt",
    "ſecurity",
    "İD",
    "id",
    "Kelvin",
)


def task_texts(max_size: int = 12) -> st.SearchStrategy[str]:
    """Text mixing vocabulary words, tricky Unicode and arbitrary characters."""
    pieces = st.one_of(
        st.sampled_from(VOCABULARY),
        st.sampled_from(TRICKY_TEXT),
        st.text(max_size=4),
        st.sampled_from((" ", ", ", ". ", "-", "_", "")),
    )
    return st.one_of(
        st.lists(pieces, max_size=max_size).map("".join),
        st.text(max_size=40),
    )


_META_KEYS: Final = ("team", "priority", "urgent", "owner")
_SCALARS: Final = st.one_of(
    st.booleans(),
    st.integers(min_value=-3, max_value=7),
    st.floats(min_value=-3, max_value=7, allow_nan=False),
    st.sampled_from(("core", "Core", "web", "ſecurity", "", "3")),
)


@st.composite
def tasks(draw: st.DrawFn) -> Task:
    """Tasks with keyword-rich, Unicode-tricky text, tags, complexity and metadata."""
    return Task(
        title=draw(task_texts(6)),
        description=draw(task_texts()),
        tags=tuple(
            draw(
                st.lists(
                    st.sampled_from(("hotfix", "HotFix", "ui", "backend", "ſecurity", "İ", "")),
                    max_size=3,
                )
            )
        ),
        complexity=draw(st.none() | st.integers(min_value=1, max_value=5)),
        metadata=draw(st.dictionaries(st.sampled_from(_META_KEYS), _SCALARS, max_size=3)),
    )


_SPAN: Final = Span.point("generated.yaml", 1, 1)
_TEXT_FIELDS: Final = ("title", "description", "text")
_LITERALS: Final = st.one_of(
    st.sampled_from(VOCABULARY),
    st.sampled_from(("s", "ſ", "k", "i̇", "i", "é", "e\u0301", "_x", "c++", "a b", "σ")),
)


def _atoms(span: Span) -> st.SearchStrategy[Expr]:
    text_match = st.builds(
        lambda f, op, q, vs: TextMatch(
            span=span,
            field=f,
            op=op,
            quantifier="one" if op in ("startswith", "endswith") else q,
            values=vs[:1] if op in ("startswith", "endswith") else tuple(vs),
        ),
        st.sampled_from((*_TEXT_FIELDS, *_TEXT_FIELDS, "tags", "metadata.team")),
        st.sampled_from(("contains", "contains", "mentions", "startswith", "endswith")),
        st.sampled_from(("one", "any", "all")),
        st.lists(_LITERALS, min_size=1, max_size=4),
    ).map(
        lambda m: (
            m
            if m.quantifier != "one" or len(m.values) == 1
            else m.model_copy(update={"values": m.values[:1]})
        )
    )
    regex = st.builds(
        lambda f, p, flags: RegexMatch(span=span, field=f, pattern=p, flags=flags),
        st.sampled_from((*_TEXT_FIELDS, "tags", "metadata.team")),
        st.sampled_from(
            (r"^fix(\(.+\))?:", r"\btest\b", r"[0-9]+", r"^$", "ſ", r"se.urity", r"(?:a|b)c")
        ),
        st.sampled_from(("", "i", "m", "s", "ims")),
    )
    compare = st.one_of(
        st.builds(
            lambda op, v: Compare(span=span, field="complexity", op=op, value=v),
            st.sampled_from(("==", "!=", "<", "<=", ">", ">=")),
            st.integers(min_value=0, max_value=6),
        ),
        st.builds(
            lambda f, op, v: Compare(span=span, field=f, op=op, value=v),
            st.sampled_from(("metadata.team", "metadata.priority", "metadata.urgent", "title")),
            st.sampled_from(("==", "!=", "<", ">=")),
            _SCALARS,
        ),
        st.builds(
            lambda f, vs: InList(span=span, field=f, values=tuple(vs)),
            st.sampled_from(("complexity", "metadata.team", "metadata.priority", "description")),
            st.lists(_SCALARS, min_size=1, max_size=3),
        ),
    )
    const = st.builds(lambda v: Const(span=span, value=v), st.booleans())
    return st.one_of(text_match, text_match, regex, compare, const)


def conditions(span: Span = _SPAN, max_leaves: int = 6) -> st.SearchStrategy[Expr]:
    """Resolved condition IR (flattened ``and``/``or``), over every field and operator."""
    return st.recursive(
        _atoms(span),
        lambda inner: st.one_of(
            st.builds(lambda o: Not(span=span, operand=o), inner),
            st.builds(
                lambda os: And(span=span, operands=tuple(_flat(And, os))),
                st.lists(inner, min_size=2, max_size=3),
            ),
            st.builds(
                lambda os: Or(span=span, operands=tuple(_flat(Or, os))),
                st.lists(inner, min_size=2, max_size=3),
            ),
        ),
        max_leaves=max_leaves,
    )


def _flat(kind: type[And] | type[Or], operands: Sequence[Expr]) -> Iterator[Expr]:
    for o in operands:
        if isinstance(o, kind):
            yield from o.operands
        else:
            yield o


def builtin_rules(span: Span = _SPAN, implicit: bool = True) -> Iterator[Rule]:
    """The four builtin rules as the builder adds them for a file that does not name them."""
    for name, words in BUILTIN_KEYWORDS.items():
        yield Rule(
            span=span,
            name=name,
            name_span=span,
            source="builtin",
            implicit=implicit,
            condition=TextMatch(
                span=span, field="description", op="contains", quantifier="any", values=words
            ),
        )


_SPECIALISTS: Final = ("implementer", "architect", "reviewer", "tester", "debugger")


def make_rule(
    name: str, condition: Expr | str | Sequence[str] | None = None, *, line: int = 1, **fields: Any
) -> Rule:
    """A resolved rule for hand-built IR.

    ``condition`` is an expression, a ``when:`` text (parsed by the grammar), a keyword list
    (``contains any`` on ``description``), or None (the builtin condition for a builtin type,
    the fallback for ``general_tasks``).
    """
    from modec.grammar import parse_condition

    span = Span.point("mode.yaml", line, 3)
    source = fields.pop("source", None)
    if isinstance(condition, str):
        expr, diagnostics = parse_condition(condition, lambda start, end: span)
        if expr is None:
            raise ValueError(f"bad condition {condition!r}: {diagnostics}")
        return Rule(
            span=span, name=name, name_span=span, condition=expr, source=source or "when", **fields
        )
    if condition is None:
        if name in BUILTIN_KEYWORDS:
            return Rule(
                span=span,
                name=name,
                name_span=span,
                source=source or "builtin",
                condition=TextMatch(
                    span=span,
                    field="description",
                    op="contains",
                    quantifier="any",
                    values=BUILTIN_KEYWORDS[name],
                ),
                **fields,
            )
        return Rule(
            span=span,
            name=name,
            name_span=span,
            condition=None,
            source=source or "fallback",
            **fields,
        )
    if not isinstance(
        condition, And | Or | Not | Const | TextMatch | RegexMatch | Compare | InList
    ):
        condition = TextMatch(
            span=span,
            field=fields.pop("field", "description"),
            op="mentions" if fields.pop("match", None) == "word" else "contains",
            quantifier="any",
            values=tuple(condition),
        )
        return Rule(
            span=span,
            name=name,
            name_span=span,
            condition=condition,
            source=source or "keywords",
            **fields,
        )
    return Rule(
        span=span, name=name, name_span=span, condition=condition, source=source or "when", **fields
    )


def make_mode(
    rules: Sequence[Rule] = (),
    *,
    specialists: Sequence[str] = ("implementer",),
    defined: Sequence[str] | None = None,
    implicit_builtins: bool = True,
    **configuration: Any,
) -> ModeFile:
    """Resolved IR of a mode for tests: an orchestrator listing ``specialists`` (defined as
    roles unless ``defined`` says which), the ``rules``, and the builtin types the rules do
    not name added as implicit rules (as the builder does)."""
    from modec.compiler.ir import ModeConfiguration, ModeMetadata, Role

    span = Span.point("mode.yaml", 1, 1)
    orch = Role(
        span=span,
        name="task_orchestrator",
        name_span=span,
        role_definition="o",
        specialist_roles={n: f"does {n}" for n in specialists},
    )
    roles = {"task_orchestrator": orch}
    for name in specialists if defined is None else defined:
        roles[name] = Role(span=span, name=name, name_span=span, role_definition=name)
    all_rules = list(rules)
    if implicit_builtins and configuration.get("builtin_task_types", True):
        named = {r.name for r in all_rules}
        all_rules.extend(
            r for r in builtin_rules(Span.point("mode.yaml", 1, 1)) if r.name not in named
        )
    return ModeFile(
        span=span,
        path="mode.yaml",
        sources=(),
        metadata=ModeMetadata(span=span),
        configuration=ModeConfiguration(span=span, **configuration),
        roles=roles,
        rules=tuple(all_rules),
    )


@st.composite
def modes(
    draw: st.DrawFn, hit_policies: Sequence[str] = ("first", "unique", "collect")
) -> ModeFile:
    """Resolved IR of a mode: builtin and custom rows, priorities, a hit policy, fallback."""
    from modec.compiler.ir import ModeConfiguration, ModeMetadata, Role

    span = _SPAN
    listed = draw(st.lists(st.sampled_from(_SPECIALISTS), unique=True, max_size=4))
    orch = Role(
        span=span,
        name="task_orchestrator",
        name_span=span,
        role_definition="o",
        specialist_roles={n: n for n in listed},
    )
    roles = {"task_orchestrator": orch}
    for name in listed:
        if draw(st.booleans()):
            roles[name] = Role(span=span, name=name, name_span=span, role_definition=name)
    maybe_specialist = st.none() | st.sampled_from(_SPECIALISTS)
    rules: list[Rule] = []
    names = draw(
        st.lists(
            st.sampled_from(
                (
                    "hotfix_tasks",
                    "release_tasks",
                    "design_tasks",
                    "ops_tasks",
                    "ui_tasks",
                    "data_tasks",
                )
            ),
            unique=True,
            max_size=5,
        )
    )
    builtins = draw(st.lists(st.sampled_from(BUILTIN_ORDER), unique=True))
    order = draw(st.permutations([*names, *builtins]))
    for line, name in enumerate(order, start=2):
        s = Span.point("generated.yaml", line, 3)
        builtin = name in BUILTIN_KEYWORDS and draw(st.booleans())
        cond = (
            TextMatch(
                span=s,
                field="description",
                op="contains",
                quantifier="any",
                values=BUILTIN_KEYWORDS[name],
            )
            if builtin
            else draw(conditions(s))
        )
        rules.append(
            Rule(
                span=s,
                name=name,
                name_span=s,
                condition=cond,
                source="builtin" if builtin else "when",
                required_specialist=draw(maybe_specialist),
                secondary_review=tuple(draw(st.lists(st.sampled_from(_SPECIALISTS), max_size=2))),
                complexity_boost=draw(st.integers(min_value=-2, max_value=2)),
                parallel_execution=draw(st.none() | st.booleans()),
                priority=draw(st.sampled_from((0, 0, 0, 1, 5, -1))),
            )
        )
    if draw(st.booleans()):
        rules.extend(r for r in builtin_rules(span) if r.name not in order)
    if draw(st.booleans()):
        rules.append(
            Rule(
                span=span,
                name=FALLBACK_TYPE,
                name_span=span,
                condition=None,
                source="fallback",
                required_specialist=draw(maybe_specialist),
            )
        )
    configuration = ModeConfiguration(
        span=span,
        hit_policy=draw(st.sampled_from(tuple(hit_policies))),
        default_complexity=draw(st.integers(min_value=1, max_value=5)),
        default_specialist=draw(st.none() | st.sampled_from(_SPECIALISTS)),
    )
    return ModeFile(
        span=span,
        path="generated.yaml",
        sources=(),
        metadata=ModeMetadata(span=span),
        configuration=configuration,
        roles=roles,
        rules=tuple(rules),
    )


# --------------------------------------------------------------------------- documents


def _yaml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted one


_DOC_WORDS: Final = st.text(
    alphabet=string.ascii_lowercase + "ſKİé ", min_size=1, max_size=10
).filter(lambda w: w.strip() != "")


def _when_text(draw: st.DrawFn) -> str:
    """A `when:` condition in the surface syntax (a subset every grammar version accepts)."""

    def atom() -> str:
        kind = draw(
            st.sampled_from(
                ("contains", "mentions", "any", "tags", "cx", "meta", "regex", "starts")
            )
        )
        field = draw(st.sampled_from(_TEXT_FIELDS))
        word = draw(st.sampled_from(VOCABULARY) | _DOC_WORDS)
        if kind in ("contains", "mentions"):
            return f"{field} {kind} {_yaml_inner(word)}"
        if kind == "any":
            words = draw(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3))
            quant = draw(st.sampled_from(("any", "all")))
            return f"{field} contains {quant}({', '.join(_yaml_inner(w) for w in words)})"
        if kind == "tags":
            return f"tags contains {_yaml_inner(draw(st.sampled_from(('hotfix', 'ui'))))}"
        if kind == "cx":
            op = draw(st.sampled_from(("<", "<=", "==", "!=", ">", ">=")))
            return f"complexity {op} {draw(st.integers(min_value=1, max_value=5))}"
        if kind == "meta":
            return f"metadata.team == {_yaml_inner(draw(st.sampled_from(('core', 'web'))))}"
        if kind == "regex":
            return f"{field} matches /{draw(st.sampled_from(('^fix', 'test[0-9]', 'a|b')))}/i"
        return f"{field} startswith {_yaml_inner(word)}"

    parts = [atom() for _ in range(draw(st.integers(min_value=1, max_value=3)))]
    glue = draw(st.sampled_from((" and ", " or ")))
    text = glue.join(parts)
    return f"not ({text})" if draw(st.integers(min_value=0, max_value=5)) == 0 else text


def _yaml_inner(word: str) -> str:
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def mode_documents(
    draw: st.DrawFn,
    hit_policies: Sequence[str] = ("first", "unique", "collect"),
    classic: bool = False,
) -> str:
    """Whole YAML mode documents (no ``extends``) as text.

    They cover roles, builtin types with and without overrides, ``keywords`` with ``field``
    and ``match``, ``when`` conditions, ``priority``, hit policies and the fallback. With
    ``classic=True`` rules have no ``when``, ``keywords`` or ``priority`` (the compatibility
    law's domain). Under ``unique`` a document whose rows overlap does not compile (MC602);
    its checked IR (``Compilation.mode``) still routes.
    """
    specialists = draw(st.lists(st.sampled_from(_SPECIALISTS), min_size=1, max_size=4, unique=True))
    lines = ["task_orchestrator:", '  role_definition: "orchestrates"', "  specialist_roles:"]
    lines += [f'    {name}: "does {name}"' for name in specialists]
    defined = [n for n in specialists if draw(st.booleans())] or specialists[:1]
    for name in defined:
        lines += [f"{name}:", f'  role_definition: "You are the {name}"']
    if not classic:
        policy = draw(st.sampled_from(tuple(hit_policies)))
        lines += ["mode_configuration:", f"  hit_policy: {policy}"]
        if draw(st.booleans()):
            lines.append(f"  default_specialist: {draw(st.sampled_from(defined))}")
    rule_lines: list[str] = []
    names = list(draw(st.lists(st.sampled_from(BUILTIN_ORDER), unique=True)))
    if not classic:
        names += draw(
            st.lists(
                st.sampled_from(("hotfix_tasks", "release_tasks", "ops_tasks")),
                unique=True,
                max_size=3,
            )
        )
    for name in draw(st.permutations(names)):
        body: list[str] = []
        if draw(st.booleans()):
            body.append(f"required_specialist: {draw(st.sampled_from(defined))}")
        custom = name not in BUILTIN_KEYWORDS
        if not classic and (custom or draw(st.integers(min_value=0, max_value=3)) == 0):
            if draw(st.booleans()):
                words = draw(
                    st.lists(
                        st.sampled_from(VOCABULARY) | _DOC_WORDS,
                        min_size=1,
                        max_size=4,
                        unique_by=str.lower,
                    )
                )
                body.append(f"keywords: [{', '.join(_yaml_str(w) for w in words)}]")
                if draw(st.booleans()):
                    body.append(f"field: {draw(st.sampled_from(_TEXT_FIELDS))}")
                if draw(st.booleans()):
                    body.append("match: word")
            else:
                body.append(f"when: {_yaml_str(_when_text(draw))}")
            if draw(st.booleans()):
                body.append(f"priority: {draw(st.integers(min_value=-2, max_value=5))}")
        if draw(st.booleans()):
            body.append(f"complexity_boost: {draw(st.integers(min_value=-2, max_value=2))}")
        rule_lines.append(f"  {name}:" + ("" if body else " {}"))
        rule_lines += [f"    {b}" for b in body]
    if draw(st.booleans()):
        rule_lines.append("  general_tasks:")
        rule_lines.append(f"    required_specialist: {draw(st.sampled_from(defined))}")
    if rule_lines:
        lines += ["task_routing_rules:", *rule_lines]
    return "\n".join(lines) + "\n"
