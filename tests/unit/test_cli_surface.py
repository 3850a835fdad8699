"""The Python surface the package root offers (issue 9, item 6): `dir(modec)` lists every
public name, each resolves lazily, and `import modec` loads none of the heavy parts."""

from __future__ import annotations

import subprocess
import sys

import modec


def test_dir_lists_every_public_name() -> None:
    names = dir(modec)
    assert set(modec.__all__) <= set(names)
    assert names == sorted(names)
    for name in (
        "compile_mode",
        "load_router",
        "Task",
        "Decision",
        "ModeRuntime",
        "Diagnostic",
        "InvalidModeError",
        "__version__",
    ):
        assert name in names


def test_every_public_name_resolves() -> None:
    for name in modec.__all__:
        assert getattr(modec, name) is not None, name


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        modec.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("modec.no_such_name resolved")


def test_import_modec_and_the_cli_parser_stay_light() -> None:
    code = (
        "import sys, modec, modec.cli; modec.cli.build_parser(); dir(modec); "
        "heavy = [m for m in ('pydantic', 'lark', 'yaml', 'sqlalchemy', 'typer', 'rich', "
        "'modec.compiler.pipeline', 'modec.runtime.router') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
