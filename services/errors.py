"""Domain errors: each front end (page, CLI, API) turns these into a clear message."""

from typing import Any


class KaizenError(Exception):
    """A problem the user can fix; its message is shown to them as is."""

    def details(self) -> dict[str, Any]:
        """Facts a front end can offer the user to fix it (kept with a failed job)."""
        return {}


class NotFound(KaizenError):
    """The thing asked for does not exist."""


class InvalidInput(KaizenError):
    """The input cannot be used; the message says what is wrong and what to do."""


class ColumnNamesNeedFixing(InvalidInput):
    """Blank or repeated column names; `suggested` holds usable names to offer."""

    def __init__(self, message: str, *, suggested: list[str]) -> None:
        super().__init__(message)
        self.suggested = suggested

    def details(self) -> dict[str, Any]:
        return {"suggested_names": self.suggested}


class SheetChoiceRequired(InvalidInput):
    """A workbook with several sheets was given without saying which one to read."""

    def __init__(self, message: str, *, sheets: list[str]) -> None:
        super().__init__(message)
        self.sheets = sheets

    def details(self) -> dict[str, Any]:
        return {"sheets": self.sheets}


class Forbidden(KaizenError):
    """The caller's role does not allow this action."""


class SignInFailed(KaizenError):
    """Wrong name or password, a locked or disabled account: the message says which it may be."""


class Misconfigured(KaizenError):
    """The installation's settings are unusable; the message says what to fix."""


class Conflict(KaizenError):
    """Someone else changed the same thing meanwhile; reload and decide again."""


class Unavailable(KaizenError):
    """A service Kaizen relies on (the MLflow registry) failed; nothing was changed."""
