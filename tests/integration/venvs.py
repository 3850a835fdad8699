"""Real virtual environments for tests that need other package sets than this one's.

:func:`test_venv` builds a venv with modec installed editable from this checkout (with
``extras``) beside ``requirements``, once: it lives under ``$MODEC_TEST_VENV_CACHE`` (default:
the system temp dir's ``modec-test-venvs``), keyed by this checkout, the Python version, the
requirements and ``pyproject.toml``, and is reused while they stay the same (modec being
editable, code changes need no rebuild). A build that fails raises (never a skip: CI has
PyPI); one that did not finish is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIP_TIMEOUT = 900


def venv_cache() -> Path:
    return Path(
        os.environ.get("MODEC_TEST_VENV_CACHE", Path(tempfile.gettempdir()) / "modec-test-venvs")
    )


def test_venv(name: str, requirements: Sequence[str], *, extras: str = "") -> Path:
    """The python of a venv with modec (editable, ``[extras]``) and ``requirements``."""
    key = hashlib.sha256(
        json.dumps(
            [
                str(ROOT),
                sys.version,
                list(requirements),
                extras,
                (ROOT / "pyproject.toml").read_text(),
            ]
        ).encode()
    )
    target = venv_cache() / f"{name}-{key.hexdigest()[:12]}"
    python = target / "bin" / "python"
    if (target / ".complete").exists():
        return python
    shutil.rmtree(target, ignore_errors=True)  # a build that did not finish
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, timeout=PIP_TIMEOUT)
    modec = f"{ROOT}[{extras}]" if extras else str(ROOT)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-e",
            modec,
            *requirements,
        ],
        check=True,
        timeout=PIP_TIMEOUT,
    )
    (target / ".complete").write_text("ok")
    return python


test_venv.__test__ = False  # type: ignore[attr-defined]  # a helper, not a pytest test
