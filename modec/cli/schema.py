"""``modec schema``: the JSON Schema of the mode file format (for the YAML language server)."""

from __future__ import annotations

import argparse

from modec.cli.output import CliError, Output, output_target

__all__ = ["register"]

SCHEMA_FILE = "modec.schema.json"


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "schema",
        parents=[common],
        help="print the mode file JSON Schema",
        description="Print the JSON Schema of the mode file format (for the "
        "YAML language server and editors).",
    )
    p.add_argument(
        "--out",
        "-o",
        metavar="PATH",
        help=f"write to this file, or into this folder as {SCHEMA_FILE}",
    )
    p.set_defaults(handler=schema_command)


def schema_command(args: argparse.Namespace, out: Output) -> int:
    import json

    from modec.compiler.schema import mode_file_schema

    text = json.dumps(mode_file_schema(), indent=2, allow_nan=False)
    if args.out is None:
        out.out(text)
        return 0
    from modec.fs import write_atomic

    target = output_target(args.out, SCHEMA_FILE)
    try:
        write_atomic(target, (text + "\n").encode("utf-8"))
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}", code=2) from exc
    out.err(f"wrote {target}")
    return 0
