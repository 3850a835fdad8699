"""``modec lsp``: the mode compiler inside the author's editor (a Language Server, pygls).

The server compiles each open buffer with the compiler's own stages and offers its
diagnostics (push or pull), quick fixes from machine-applicable suggestions, completion,
hover, definition and references for roles and rules, code lenses on ``tests:`` examples and
semantic tokens for ``when:`` conditions. It is a shell: it calls the compiler (and the
in-memory router, for code lenses), never the session runtime, cache or database.

pygls is an extra: ``pip install 'modec[lsp]'``.
"""

from __future__ import annotations

from modec.diagnostics import ModecError

__all__ = ["main", "require_pygls"]


def require_pygls() -> None:
    """Raise a :class:`ModecError` naming the extra when pygls is not installed."""
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError as exc:
        raise ModecError(
            f"the language server needs pygls ({exc.name} is not installed)",
            "install the extra: pip install 'modec[lsp]'",
        ) from exc


def main() -> None:
    """Run the language server on stdio (the ``modec lsp`` command)."""
    require_pygls()
    from modec.lsp.server import main as serve

    serve()
