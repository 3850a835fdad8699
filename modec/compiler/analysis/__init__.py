"""Static analysis of routing rows: dead rows, overlaps, keyword traps, reachability, coverage.

:func:`analyse` answers, before anything runs, which rows can never fire, which rows overlap,
which keywords are traps and which specialists no task can reach. It is run by the ``check``
stage (so by ``modec lint``) and, with every option, by ``modec analyse``.

**The model.** Every row condition becomes a propositional formula over *atoms* (Tseitin
encoding), solved with a CDCL SAT solver (MiniSat 2.2 through ``python-sat``):

* text atoms ``F contains|mentions|startswith|endswith "lit"`` on ``title``, ``description``,
  ``text``, ``metadata.KEY`` (a single string) and ``tags`` (some element), literals lowered;
* ``complexity`` as one of 1–5 (exactly one), so comparisons on it are exact;
* ``metadata.KEY`` compared only by equality (text) and order (numbers) as one value out of a
  finite set of representatives that is complete for the constants used (absent, booleans,
  NaN, each constant, a number in every gap, another text), so those comparisons are exact;
* anything else — regular expressions, text ordering, comparisons on text fields — as a free
  atom, which over-approximates: the solver may pick values no task has, never the opposite.

*Theory lemmas* tie text atoms together, each true of every task: a literal implies every
literal it contains (``contains "testing"`` ⇒ ``contains "test"``), a whole-word occurrence
implies the words bounded inside it (``mentions "getting started"`` ⇒ ``mentions
"started"``), ``title``/``description`` flow into ``text`` (and ``text contains "x"`` without a
line break needs one of them), ``startswith`` on ``text`` is ``startswith`` on ``title``, two
prefixes that are not prefixes of each other exclude each other. On conditions built from
text atoms on ``title``/``description``/``text``, ``tags contains``, ``complexity`` and those
``metadata`` comparisons, the encoding is complete, so the analysis is *exact* there: a row is
reported dead exactly when every task it matches is taken by earlier rows (and a live row gets
a witness task, :func:`decided_by`; the property tests check both directions). Because
atoms only over-approximate, "never fires" is *sound* everywhere (regex rows included: they
are merely reported less often). An overlap is reported only with a witness task that was
built from the solver's model and checked against the semantics (:func:`holds`).

**The bound.** :class:`AnalysisLimits`, in counts only, so that the same file gives the same
diagnostics on every machine and under any load: each SAT query stops after a conflict and a
propagation budget, the whole analysis after a number of queries, conflicts and
propagations, the theory after a number of lemma clauses and substring occurrences, the
overlap search after a number of reported pairs. Whatever a bound cut is reported as the note
MC603 and listed in :attr:`AnalysisReport.skipped`. A generous wall-clock deadline stays only
as a safety net against a pathological input on a stalled machine: it is checked between
queries, its firing is reported as MC603 too (saying that the result then depends on the
machine), and it can only leave rows undecided, never add a finding.

**Builtin rows.** The classic keyword lists come with every version-1 file without the author
writing them. Findings that are only about them (the implicit rows, or the keywords of a rule
whose condition is builtin) are left out unless ``AnalysisOptions(builtins=True)`` (``modec
analyse --builtins``), which is how the README shows the classic table's own traps.

>>> from modec.compiler.pipeline import compile_text
>>> text = '''task_orchestrator:
...   role_definition: "o"
...   specialist_roles: {implementer: "builds"}
... implementer: {role_definition: "i"}
... mode_configuration: {builtin_task_types: false}
... task_routing_rules:
...   test_tasks: {keywords: [test]}
...   unit_test_tasks: {keywords: [unit test, testing]}
... '''
>>> c = compile_text(text, "m.yaml", until="build")
>>> report = analyse(c.mode, c.sources)
>>> [(v.name, v.status, v.covered_by) for v in report.rows]
[('test_tasks', 'fires', ()), ('unit_test_tasks', 'never', ('test_tasks',))]
>>> sorted({d.code for d in report.diagnostics})
['MC601', 'MC606']

Modules, one concern each: :mod:`.theory` (the encoding) and :mod:`.lemmas` (the logic of
text literals), :mod:`.solver` (the SAT solver under counted budgets), :mod:`.sampling`
(regular-expression samples), :mod:`.witnesses` (tasks from models), :mod:`.context` (the
checked witness search), :mod:`.verdicts` (fires / never / unknown, overlaps), :mod:`.hazards`
(the English word list), :mod:`.keywords` (MC604–MC606), :mod:`.emitters` (MC601–MC603,
MC607), :mod:`.locate` (keyword spans), :mod:`.coverage`, :mod:`.impact` (diffs), and
:mod:`.run` (:func:`analyse`, :func:`decided_by`).
"""

from __future__ import annotations

from modec.compiler.analysis.coverage import CoverageReport, RowCoverage, coverage
from modec.compiler.analysis.hazards import english_words, keyword_hazards
from modec.compiler.analysis.impact import (
    ImpactReport,
    RowChange,
    changed_rows,
    impact,
    synthesize_tasks,
)
from modec.compiler.analysis.report import (
    AnalysisLimits,
    AnalysisOptions,
    AnalysisReport,
    Overlap,
    RowVerdict,
)
from modec.compiler.analysis.run import analyse, decided_by
from modec.compiler.analysis.tasks import WitnessTask, holds

__all__ = [
    "AnalysisLimits",
    "AnalysisOptions",
    "AnalysisReport",
    "CoverageReport",
    "ImpactReport",
    "Overlap",
    "RowChange",
    "RowCoverage",
    "RowVerdict",
    "WitnessTask",
    "analyse",
    "changed_rows",
    "coverage",
    "decided_by",
    "english_words",
    "holds",
    "impact",
    "keyword_hazards",
    "synthesize_tasks",
]
