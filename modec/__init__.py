"""modec, the mode compiler: mode files in, explainable routing decision tables out."""

from __future__ import annotations

__version__ = "0.1.0"
