"""Shared test configuration: Hypothesis profiles and paths."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=200,
    derandomize=True,
)
settings.load_profile("ci" if os.environ.get("CI") else "default")

TESTS = Path(__file__).resolve().parent
CASES = TESTS / "cases"
CORPUS = TESTS / "conformance" / "corpus"
