"""The languages the bot speaks, and which one each reader gets."""

from enum import StrEnum


class Language(StrEnum):
    """A language the bot speaks; its value is the gettext and Babel locale code."""

    EN = "en"
    ES = "es"
    SV = "sv"
    RO = "ro"


DEFAULT_LANGUAGE = Language.EN

#: Slack's own interface languages among ours: a reader whose Slack is in one of these chose it there.
SLACK_OFFERS = frozenset({Language.EN, Language.ES})


def language_named(code: str) -> Language | None:
    """The language for a code like `es`, `ES` or `sv-SE`; None when the bot does not speak it."""
    head = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return next((language for language in Language if language.value == head), None)


def reader_language(slack_locale: str | None, workspace: Language) -> Language:
    """The language a person reads their own replies, forms and Home tab in.

    Their Slack locale (`users.info` with `include_locale`) when the bot speaks it, except that an English
    Slack counts only where Slack offers the workspace's language: Slack has no Swedish or Romanian interface,
    so a Swede's English Slack says nothing about what they would rather read, and they get the workspace's
    language. Anything else (no locale, a language the bot does not speak) gets the workspace's language.
    """
    spoken = language_named(slack_locale) if slack_locale else None
    if spoken is None:
        return workspace
    if spoken is Language.EN and workspace not in SLACK_OFFERS:
        return workspace
    return spoken
