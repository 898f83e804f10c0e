"""The errors a Slack user may be told about, and which failure is which.

One hierarchy: `SalesbotError` is what a person can be told; its subclasses say what kind of thing
happened. Use cases raise them; the Slack side renders them in one place (`bot.error_boundary`).
Anything else that escapes a use case is a bug: the person is told something broke on our side.
"""

import logging

from storage.db import is_outage


class SalesbotError(Exception):
    """Something the person who acted should be told, as plain text in `message`; logged at `log_level`."""

    log_level = logging.INFO

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CommandError(SalesbotError):
    """A refusal the user can act on: what was wrong, and (optionally) the right usage.

    `message` and `usage` are plain text as the user should read it; renderers escape them.
    Nothing was changed.
    """

    log_level = logging.DEBUG

    def __init__(self, message: str, usage: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage


class FieldErrors(CommandError):
    """A form with fields that are wrong: for each field (by its name in the form), what is wrong with it.

    Nothing was changed; the form stays open with each message under its field.
    """

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(" ".join(fields.values()))
        self.fields = fields


class DatabaseUnavailable(SalesbotError):
    """The database did not answer (unreachable, timed out, locked too long): nothing was changed."""

    log_level = logging.WARNING

    def __init__(self) -> None:
        super().__init__(
            "The pipeline's database did not answer, so nothing was changed. Please try again in a minute."
        )


def explained(error: BaseException) -> SalesbotError | None:
    """What to tell the person about `error`, or None when it is a bug they cannot act on.

    Only a database that really did not answer becomes `DatabaseUnavailable`; a constraint
    violation or bad SQL is a bug and is not dressed up as an outage.
    """
    if isinstance(error, SalesbotError):
        return error
    if is_outage(error):
        return DatabaseUnavailable()
    return None
