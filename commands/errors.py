"""The errors a Slack user may be told about, and which failure is which.

One hierarchy: `SalesbotError` is what a person can be told; its subclasses say what kind of thing
happened. Use cases raise them; the Slack side renders them in one place (`bot.error_boundary`).
Anything else that escapes a use case is a bug: the person is told something broke on our side.
"""

import logging
from collections.abc import Mapping

from commands.i18n.translator import Text, tr
from storage.db import is_outage


class SalesbotError(Exception):
    """Something the person who acted should be told; logged at `log_level`.

    `text` is what they are told, translated when its reader is known (`commands.i18n.translator.Text`);
    `message` is its English, for logs and for code that reads it as a string.
    """

    log_level = logging.INFO

    def __init__(self, message: str | Text) -> None:
        self.text = message if isinstance(message, Text) else Text(message)
        self.message = str(self.text)
        super().__init__(self.message)


class CommandError(SalesbotError):
    """A refusal the user can act on: what was wrong, and (optionally) the right usage.

    `message` and `usage` are plain text as the user should read it, in English; `text` and `usage_text` are
    the same to be translated for their reader. Renderers escape them.
    Nothing was changed.
    """

    log_level = logging.DEBUG

    def __init__(self, message: str | Text, usage: str | Text | None = None) -> None:
        super().__init__(message)
        self.usage_text = None if usage is None else usage if isinstance(usage, Text) else Text(usage)
        self.usage = None if self.usage_text is None else str(self.usage_text)


class FieldErrors(CommandError):
    """A form with fields that are wrong: for each field (by its name in the form), what is wrong with it.

    Nothing was changed; the form stays open with each message under its field.
    """

    def __init__(self, fields: Mapping[str, str | Text]) -> None:
        self.field_texts = {name: text if isinstance(text, Text) else Text(text) for name, text in fields.items()}
        super().__init__(" ".join(str(text) for text in self.field_texts.values()))
        self.fields = {name: str(text) for name, text in self.field_texts.items()}


class DatabaseUnavailable(SalesbotError):
    """The database did not answer (unreachable, timed out, locked too long): nothing was changed."""

    log_level = logging.WARNING

    def __init__(self) -> None:
        super().__init__(
            tr("The pipeline's database did not answer, so nothing was changed. Please try again in a minute.")
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
