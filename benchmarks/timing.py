"""Medians of repeated timed passes, interleaved so that every engine sees the same load.

Time is this process's CPU time (:data:`clock`, ``time.process_time``): on a shared machine,
the time the process spends waiting for a core while other processes run does not count.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

#: The clock of every measurement: CPU seconds of this process (all its threads).
clock: Final = time.process_time


@dataclass
class Subject:
    """One engine in one cell: what to call, on what, within how many seconds."""

    fn: Callable[[Any], object]
    inputs: Sequence[Any]
    budget: float
    batch: Sequence[Any] = ()
    passes: int = 1


def interleaved(
    subjects: Sequence[Subject],
    rounds: int = 9,
    min_rounds: int = 3,
    statistic: Callable[[list[float]], float] = statistics.median,
) -> list[tuple[float, int]]:
    """Median (or ``statistic``) seconds per call of each subject, and how many distinct
    inputs it timed.

    One call sizes each subject's work: a round runs as many whole passes over its inputs as
    fit in ``budget / rounds``, or one pass over the longest prefix that fits (at least one
    input). Rounds alternate between subjects, in an order that rotates each round, so a
    burst of background load hits them all alike and none always follows the same one; a
    subject that makes several passes in a round makes one more first, untimed. Slow
    subjects (one call longer than a round's share) run ``min_rounds`` rounds.
    Garbage collection is paused while timing.
    """
    plans = []
    for subject in subjects:
        start = clock()
        subject.fn(subject.inputs[0])
        per_item = max(clock() - start, 1e-9)
        share = subject.budget / rounds
        if per_item * len(subject.inputs) <= share:
            subject.batch = list(subject.inputs)
            subject.passes = max(1, int(share / (per_item * len(subject.inputs))))
        else:
            subject.batch = list(subject.inputs[: max(1, int(share / per_item))])
            subject.passes = 1
        plans.append(rounds if per_item <= share else min_rounds)
    samples: list[list[float]] = [[] for _ in subjects]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for round_index in range(rounds):
            # The order rotates, so that no subject always follows the same one.
            shift = round_index % len(subjects)
            for index in (*range(shift, len(subjects)), *range(shift)):
                subject = subjects[index]
                if round_index >= plans[index]:
                    continue
                fn, batch = subject.fn, subject.batch
                if subject.passes > 1:
                    # One untimed pass first: the first passes after another subject run
                    # slower (5-10% of a round on the when: workload, after zen-engine or a
                    # plain Python loop alike), an effect of the order, not of the subject.
                    for item in batch:
                        fn(item)
                t0 = clock()
                for _ in range(subject.passes):
                    for item in batch:
                        fn(item)
                samples[index].append((clock() - t0) / (subject.passes * len(batch)))
    finally:
        if enabled:
            gc.enable()
    return [
        (statistic(s), len(subject.batch)) for s, subject in zip(samples, subjects, strict=True)
    ]


def once(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median seconds of ``fn()`` over ``repeat`` runs."""
    samples = []
    for _ in range(repeat):
        t0 = clock()
        fn()
        samples.append(clock() - t0)
    return statistics.median(samples)
