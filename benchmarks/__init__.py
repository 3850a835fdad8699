"""modec's router against its peers, side by side: ``python -m benchmarks`` (``make bench``).

* :mod:`benchmarks.workload` — the seeded rule sets (20, 1,000, 10,000 keywords) and the seeded
  corpus of task texts (50, 300, 2,000 characters);
* :mod:`benchmarks.engines` — the same rules as modec, the classic ``any(k in t)`` chain, a
  hand-written Python table, zen-engine, rule-engine and cel-python;
* :mod:`benchmarks.timing` — medians of repeated timed passes;
* :mod:`benchmarks.report` — the run: tables of medians and ratios, targets PASS/MISS.

Timings are never unit tests: ``tests/unit/test_router.py`` only runs ``--quick`` as a smoke test.
"""
