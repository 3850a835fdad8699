"""A command's run builds only its own group's parsers, and parses and helps exactly as the
whole command tree does."""

from __future__ import annotations

import argparse

import pytest

from modec.cli.output import CliError
from modec.cli.program import COMMAND_GROUPS, build_parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_is_mapped_to_its_group() -> None:
    assert set(COMMAND_GROUPS) == set(_commands(build_parser()))
    for command, group in COMMAND_GROUPS.items():
        assert command in _commands(build_parser(command)), (command, group)


@pytest.mark.parametrize("command", sorted(COMMAND_GROUPS))
def test_a_command_alone_helps_as_in_the_whole_tree(command: str) -> None:
    whole = _commands(build_parser())[command]
    alone = _commands(build_parser(command))[command]
    assert alone.format_help() == whole.format_help()
    for sub in _commands(whole) if whole._subparsers is not None else {}:
        assert _commands(alone)[sub].format_help() == _commands(whole)[sub].format_help()


def test_an_unknown_or_optioned_start_builds_the_whole_tree() -> None:
    assert set(_commands(build_parser("rout"))) == set(COMMAND_GROUPS)
    assert set(_commands(build_parser("--color"))) == set(COMMAND_GROUPS)
    with pytest.raises(CliError, match="invalid choice"):
        build_parser("rout").parse_args(["rout"])


def test_a_command_alone_parses_as_in_the_whole_tree() -> None:
    argv = ["route", "--mode", "m.modec", "--tag", "ui", "text", "--complexity", "2"]
    assert vars(build_parser("route").parse_args(argv)) == vars(build_parser().parse_args(argv))
    for bad in (["route"], ["route", "--mode"], ["route", "--mode", "m", "--nope"]):
        with pytest.raises(CliError) as whole:
            build_parser().parse_args(bad)
        with pytest.raises(CliError) as alone:
            build_parser("route").parse_args(bad)
        assert (alone.value.message, alone.value.hint) == (whole.value.message, whole.value.hint)
