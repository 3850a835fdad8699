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

__all__ = ["MAX_MODE_NAME_CHARS", "RESERVED_ROLE_NAMES", "check_mode_name", "list_modes"]

_NAME_PUNCTUATION: Final = frozenset("_-./")
#: Letters of other scripts drawn like Latin ones (from Unicode's confusables.txt): a name
#: made of Latin lookalikes impersonates a Latin name even in a single script.
_LATIN_LOOKALIKES: Final = frozenset(
    "аеорсухіјѕԁһԛԝвкмнтАВЕКМНОРСТХІЈЅ"  # Cyrillic
    "οαρνυτκιχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"  # Greek
)
#: The longest name :func:`check_mode_name` takes, in characters.
MAX_MODE_NAME_CHARS: Final = 200

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
    """``name`` if it is a safe name for a new mode file, else :class:`UnsafeModeNameError`
    (a :class:`ValueError`) saying why. The one check of a new mode's name: the runtime's
    ``create_mode`` and the MCP tool's argument both use it.

    Safe: at most :data:`MAX_MODE_NAME_CHARS` characters, NFC and unchanged by NFKC (no
    fullwidth or ligature lookalikes), only letters, digits and ``_ - . /`` (no controls,
    format characters such as bidi overrides and zero-width joiners, spaces or other
    symbols), letters of one script among the alphabets that look alike (Latin, Cyrillic,
    Greek, …; Han or kana beside Latin is fine), and not a name spelled in another script's
    Latin lookalikes (``rеsearch`` with a Cyrillic ``е``, or an all-lookalike name). A final
    ``.yaml`` or ``.yml`` is the file's type, not part of the name: ``режим.yaml`` is one
    script. Path confinement is checked separately.

    >>> check_mode_name("team_mode.yaml")
    'team_mode.yaml'
    >>> check_mode_name("p\u0430yments")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    modec.runtime.lifecycle.errors.UnsafeModeNameError: mode name 'pаyments' mixes Latin and ...
    """
    if not name or len(name) > MAX_MODE_NAME_CHARS:
        raise UnsafeModeNameError(f"mode name must be 1 to {MAX_MODE_NAME_CHARS} characters")
    if unicodedata.normalize("NFC", name) != name:
        raise UnsafeModeNameError(f"mode name {name!r} is not in Unicode normal form NFC")
    if unicodedata.normalize("NFKC", name) != name:
        raise UnsafeModeNameError(
            f"mode name {name!r} has compatibility characters (fullwidth, ligatures, …) that "
            "look like others"
        )
    for char in name:
        category = unicodedata.category(char)
        if category[0] != "L" and category != "Nd" and char not in _NAME_PUNCTUATION:
            raise UnsafeModeNameError(
                f"mode name {name!r} contains {_describe_char(char)}; mode names use letters, "
                "digits, '_', '-', '.' and '/'"
            )
    stem = name
    for suffix in (".yaml", ".yml"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    first: dict[str, str] = {}  # each script's first letter, in order of appearance
    for char in stem:
        if unicodedata.category(char)[0] == "L":
            first.setdefault(unicodedata.name(char, "UNKNOWN").split(" ")[0], char)
    lookalikes = [script for script in first if script in _CONFUSABLE_SCRIPTS]
    if len(lookalikes) > 1:
        odd = first[lookalikes[-1]]
        raise UnsafeModeNameError(
            f"mode name {name!r} mixes {' and '.join(s.title() for s in lookalikes)} letters "
            f"({_describe_char(odd)}): one of its letters may be a lookalike of another; use "
            "letters of one script"
        )
    if (
        first
        and set(first) != {"LATIN"}
        and all(c in _LATIN_LOOKALIKES or not unicodedata.category(c).startswith("L") for c in stem)
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
