"""The modes of a project: listing them (compiled, valid or not) and checking new names."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

from modec.compiler.build import bundled_mode_names
from modec.compiler.pipeline import compile_path
from modec.diagnostics import ModeFileNotFoundError
from modec.runtime.lifecycle.errors import UnsafeModeNameError
from modec.runtime.lifecycle.results import ModeSummary, first_error
from modec.runtime.project import ProjectLayout, ResolvedMode, resolve_mode, scan_modes

__all__ = ["RESERVED_ROLE_NAMES", "check_mode_name", "list_modes"]

_NAME_PUNCTUATION: Final = frozenset("_-./")
#: Letters of other scripts drawn like Latin ones (from Unicode's confusables.txt): a name
#: made of Latin lookalikes impersonates a Latin name even in a single script.
_LATIN_LOOKALIKES: Final = frozenset(
    "аеорсухіјѕԁһԛԝвкмнтАВЕКМНОРСТХІЈЅ"  # Cyrillic
    "οαρνυτκιχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"  # Greek
)
_MAX_NAME: Final = 200

#: Names :meth:`ModeRuntime.create_mode` refuses for custom roles: the sections of a mode
#: file, and the orchestrator role that the template provides.
RESERVED_ROLE_NAMES: Final = frozenset(
    {
        "mode_metadata",
        "mode_configuration",
        "task_routing_rules",
        "validation_rules",
        "tests",
        "task_orchestrator",
    }
)


#: Alphabets whose letters look alike: a name mixing two of them is refused as a homoglyph
#: (Han, kana or Hangul beside Latin, as in ``日本語_mode``, is no such risk).
_CONFUSABLE_SCRIPTS: Final = frozenset(
    {"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"}
)


def check_mode_name(name: str) -> str:
    """``name`` if it is a safe name for a new mode file, else :class:`UnsafeModeNameError`.

    Safe: at most 200 characters, NFC and unchanged by NFKC (no fullwidth or ligature
    lookalikes), only letters, digits and ``_ - . /`` (no controls, format characters such
    as bidi overrides and zero-width joiners, spaces or other symbols), letters of one
    script among the alphabets that look alike (Latin, Cyrillic, Greek, …; Han or kana beside
    Latin is fine), and not a name spelled in another script's Latin lookalikes (``rеsearch``
    with a Cyrillic ``е``, or an all-lookalike name). Path confinement is checked separately.

    >>> check_mode_name("team_mode.yaml")
    'team_mode.yaml'
    """
    if not name or len(name) > _MAX_NAME:
        raise UnsafeModeNameError(f"mode name must be 1 to {_MAX_NAME} characters")
    if unicodedata.normalize("NFC", name) != name:
        raise UnsafeModeNameError(f"mode name {name!r} is not in Unicode normal form NFC")
    if unicodedata.normalize("NFKC", name) != name:
        raise UnsafeModeNameError(
            f"mode name {name!r} has compatibility characters (fullwidth, ligatures, …) that "
            "look like others"
        )
    scripts: set[str] = set()
    for char in name:
        category = unicodedata.category(char)
        if category[0] == "L":
            scripts.add(unicodedata.name(char, "UNKNOWN").split(" ")[0])
            continue
        if category == "Nd":
            continue
        if char not in _NAME_PUNCTUATION:
            raise UnsafeModeNameError(
                f"mode name {name!r} contains {_describe_char(char)}; mode names use letters, "
                "digits, '_', '-', '.' and '/'"
            )
    lookalikes = scripts & _CONFUSABLE_SCRIPTS
    if len(lookalikes) > 1:
        raise UnsafeModeNameError(
            f"mode name {name!r} mixes scripts ({', '.join(sorted(lookalikes))}): one of its "
            "letters may be a lookalike of another"
        )
    if (
        scripts
        and scripts != {"LATIN"}
        and all(c in _LATIN_LOOKALIKES or not unicodedata.category(c).startswith("L") for c in name)
    ):
        raise UnsafeModeNameError(
            f"mode name {name!r} is spelled in letters that look like Latin ones"
        )
    return name


def _describe_char(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'an unnamed character')}"


def _summarize(resolved: ResolvedMode, bundled: bool, sessions: tuple[str, ...]) -> ModeSummary:
    compilation = compile_path(resolved.path, display=resolved.name)
    diagnostics = compilation.sorted_diagnostics()
    first = first_error(diagnostics)
    warnings = sum(1 for d in diagnostics if not d.is_error)
    mode = compilation.mode
    artifact = compilation.artifact
    try:
        modified: datetime | None = datetime.fromtimestamp(resolved.path.stat().st_mtime, UTC)
    except OSError:
        modified = None
    return ModeSummary(
        name=resolved.name,
        path=resolved.path,
        bundled=bundled,
        valid=first is None and artifact is not None,
        error=first,
        warnings=warnings,
        specialist_count=len(mode.specialist_roles) if mode is not None else None,
        description=mode.metadata.description if mode is not None else None,
        mode_hash=artifact.mode_hash if artifact is not None else None,
        last_modified=modified,
        sessions=sessions,
    )


def list_modes(
    project: ProjectLayout, bound: Mapping[str, Sequence[str]] | None = None
) -> list[ModeSummary]:
    """Every mode file in the project's ``roles/`` and every bundled mode not copied there,
    compiled: valid or not (with the first error), specialist count, description; ``bound``
    maps mode names to the sessions bound to them. Entries of ``roles/`` that cannot be read
    (a symlink loop, no permission) are listed as invalid with the reason, by their name
    relative to ``roles/``; nothing inside ``roles/`` makes the listing fail. Reads no
    database."""
    local, unreadable = scan_modes(project.roles)
    names = [(n, False) for n in local]
    names += [(n, True) for n in bundled_mode_names() if n not in local and n not in unreadable]
    out = []
    for name, bundled in names:
        try:
            resolved = resolve_mode(project.roles, name)
        except ModeFileNotFoundError:
            continue  # e.g. a symlink leaving roles/: never read
        except OSError as exc:  # raced with a change that made it unreadable
            unreadable[name] = exc.strerror or str(exc)
            continue
        sessions = tuple((bound or {}).get(resolved.name, ()))
        out.append(_summarize(resolved, bundled, sessions))
    out += [_unreadable(project, name, reason) for name, reason in unreadable.items()]
    return sorted(out, key=lambda m: (m.bundled, m.name))


def _unreadable(project: ProjectLayout, name: str, reason: str) -> ModeSummary:
    return ModeSummary(
        name=name,
        path=project.roles / name,
        bundled=False,
        valid=False,
        error=f"{name}: cannot be read: {reason}",
        warnings=0,
        specialist_count=None,
        description=None,
        mode_hash=None,
        last_modified=None,
        sessions=(),
    )
