"""Shared test configuration: Hypothesis profiles and paths."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
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

# `modec lint`'s result cache (modec.cli.lint_cache), for this session and every subprocess
# it starts: never the user's ~/.cache
os.environ["MODEC_CACHE_DIR"] = tempfile.mkdtemp(prefix="modec-test-cache-")
atexit.register(shutil.rmtree, os.environ["MODEC_CACHE_DIR"], ignore_errors=True)

TESTS = Path(__file__).resolve().parent
CASES = TESTS / "cases"
CORPUS = TESTS / "conformance" / "corpus"
