"""The lifecycle's error classes (each a :class:`~modec.diagnostics.ModecError` with a
recovery suggestion)."""

from __future__ import annotations

from modec.diagnostics import ModecError, SessionNotActiveError

__all__ = [
    "ModeFileExistsError",
    "SessionNotBoundError",
    "SessionRequiredError",
    "UnreachableTemplateError",
    "UnsafeModeNameError",
]


class SessionNotBoundError(SessionNotActiveError):
    """The session is active but has no mode bound, so it cannot route."""

    suggestion = "bind a mode first: `modec session bind SESSION MODE` (ModeRuntime.bind)"


class SessionRequiredError(ModecError, ValueError):
    """A call that acts on a session was given none and has none to default to: restoring
    a backup with activation when the backup names no session (one of a mode file alone).
    Also a :class:`ValueError`: it is a bad combination of arguments."""

    suggestion = (
        "name the session to switch to the restored mode (session_id; `modec session restore "
        "BACKUP --session ID --activate`), or restore without activating and bind the mode "
        "afterwards"
    )


class UnreachableTemplateError(ModecError, ValueError):
    """A new mode's template is a file that the new mode cannot extend from where it would
    be written: ``extends`` names a file in the mode's own folder or a bundled mode (MC104),
    so the template must be one of those. Also a :class:`ValueError`: the arguments do not
    combine."""

    suggestion = (
        "create the mode in the template's folder, or copy the template into the new mode's "
        "folder and name that copy"
    )


class ModeFileExistsError(ModecError):
    """A mode file to be created exists already; modec never replaces one."""

    suggestion = "choose another name, or edit the existing file"


class UnsafeModeNameError(ModecError, ValueError):
    """A new mode's name that people could misread: not NFC, with control or format
    characters (bidi overrides included), outside the allowed characters, or mixing
    scripts (a homoglyph). Also a :class:`ValueError`: the argument is refused."""

    suggestion = (
        "name modes with letters, digits, '_', '-', '.' and '/' of one script, for example "
        "`team_mode.yaml`"
    )
