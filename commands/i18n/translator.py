"""Writing a message in one reader's language: translated through the catalogs, numbers, money and dates
written the way the reader's locale writes them (Babel, CLDR).

Two ways to write a message, both found by the catalogs' extraction (`commands.i18n.catalogs.KEYWORDS`):

- `t("Deal {deal} moved.", deal=…)` where the reader is known (the renderers in `bot/`);
- `tr("Deal {deal} moved.", deal=…)`, a `Text` kept untranslated until it is shown, where the reader is not
  known yet (a use case's refusal, raised before anyone decides who reads it).

Placeholders are `str.format` fields. A parameter that is a number is written as the reader's locale writes
numbers (`1.234` in Spanish); one that is `Localized` (a `Text`, a stage's name) is written in the reader's
language.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol, runtime_checkable

from babel import Locale
from babel.dates import format_interval, format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent

from commands.i18n.languages import Language

#: The Babel locale each language writes numbers and dates in: English as written in Europe (`1 Dec 2026`).
LOCALE_OF = {Language.EN: "en_GB", Language.ES: "es_ES", Language.SV: "sv_SE", Language.RO: "ro_RO"}


@runtime_checkable
class Localized(Protocol):
    """Something written differently in each language: a `Text`, a stage's name."""

    def in_language(self, t: Translator) -> str: ...


class Translator:
    """One language's messages and formats. Immutable; one per language, made at start-up (`Translators`)."""

    def __init__(self, language: Language, translations: gettext.NullTranslations) -> None:
        self.language = language
        self.locale = Locale.parse(LOCALE_OF[language])
        self._translations = translations

    def __repr__(self) -> str:
        return f"Translator({self.language.value!r})"

    def __call__(self, message: str, /, **params: object) -> str:
        return self._filled(self._translations.gettext(message), params)

    def n(self, singular: str, plural: str, count: int, /, **params: object) -> str:
        """The form of the message for `count` (`{count}` is written as a number), by the language's plural rules:
        Romanian has three forms."""
        return self._filled(self._translations.ngettext(singular, plural, count), {"count": count, **params})

    def ctx(self, context: str, message: str, /, **params: object) -> str:
        """A message whose English is ambiguous (a button's "Open" beside a deal's "Open" status)."""
        return self._filled(self._translations.pgettext(context, message), params)

    def show(self, text: str | Localized) -> str:
        """A `Text` (or anything `Localized`) in this language; a plain string as it is."""
        return text if isinstance(text, str) else text.in_language(self)

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float | None, *, unknown: str = "—") -> str:
        """A share as a whole percentage (`21 %` in Swedish); `unknown` where there is no basis for one."""
        return unknown if value is None else format_percent(value, locale=self.locale)

    def money(self, cents: int, currency: str | None) -> str:
        """An amount in the reader's locale: `1.234,50 €` in Spanish, `1 234,50 kr` in Swedish, `€10,000` in
        English. Whole amounts have no decimals. Without a currency (amounts typed before the workspace had one),
        the number alone."""
        value = Decimal(cents) / 100
        whole = cents % 100 == 0
        if currency is None:
            return format_decimal(value, format="#,##0" if whole else "#,##0.00", locale=self.locale)
        if not whole:
            return format_currency(value, currency, locale=self.locale)
        pattern = self.locale.currency_formats["standard"].pattern.replace(".00", "")
        return format_currency(value, currency, format=pattern, currency_digits=False, locale=self.locale)

    def day(self, day: date) -> str:
        """`1 Dec 2026`, `1 dic 2026`, `1 dec. 2026`."""
        return format_skeleton("yMMMd", day, locale=self.locale)

    def days(self, first: date, last: date) -> str:
        """The days from `first` to `last`, both included: `23–29 Nov 2026`; one day when they are the same."""
        if last <= first:
            return self.day(first)
        return format_interval(first, last, "yMMMd", locale=self.locale)

    def _filled(self, message: str, params: dict[str, object]) -> str:
        if not params:
            return message
        return message.format(**{name: self._param(value) for name, value in params.items()})

    def _param(self, value: object) -> object:
        if isinstance(value, Localized):
            return value.in_language(self)
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return self.number(value)
        return value


ENGLISH = Translator(Language.EN, gettext.NullTranslations())
"""The source language, with no catalog: what a message says before any translation (logs, tests)."""


@dataclass(frozen=True)
class Text:
    """A message kept untranslated until its reader is known: a refusal raised in a use case, shown by the
    Slack side in the language of whoever reads it. `str(text)` is its English."""

    message: str
    params: tuple[tuple[str, object], ...] = ()
    plural: str | None = None
    count: int | None = None

    def in_language(self, t: Translator) -> str:
        params = dict(self.params)
        if self.plural is not None and self.count is not None:
            return t.n(self.message, self.plural, self.count, **params)
        return t(self.message, **params)

    def __str__(self) -> str:
        return self.in_language(ENGLISH)


def tr(message: str, /, **params: object) -> Text:
    """A message to translate once its reader is known (see the module's docstring)."""
    return Text(message, tuple(params.items()))


def tr_n(singular: str, plural: str, count: int, /, **params: object) -> Text:
    """`tr` for a message with a count: its form is chosen in the reader's language."""
    return Text(singular, tuple(params.items()), plural=plural, count=count)


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "mark, do not translate yet"
    """Marks a constant for the catalogs; it is translated where it is shown (`t(CONSTANT, …)`)."""
    return message
