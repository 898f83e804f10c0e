"""A workspace's language (of its channel posts) and currency (of its deals' values), set by a manager."""

from dataclasses import dataclass

from babel.numbers import get_currency_name, is_currency

from commands.deals.managers import require_manager
from commands.errors import CommandError
from commands.i18n.languages import DEFAULT_LANGUAGE, Language, language_named
from commands.i18n.translator import Translator, tr, tr_n
from commands.inbox.requests import Claim, claim_in
from commands.services import Actor, Services
from storage import queries, workspace_queries
from storage.db import read_only

LANGUAGE_EXAMPLE = "/pipeline language es"
CURRENCY_EXAMPLE = "/pipeline currency EUR"


@dataclass(frozen=True)
class WorkspaceSettings:
    language: Language
    currency: str | None
    """ISO 4217 code; None until a manager sets one."""
    language_set_by: str | None = None
    currency_set_by: str | None = None


@dataclass(frozen=True)
class ShowLanguage:
    pass


@dataclass(frozen=True)
class SetLanguage:
    code: str


@dataclass(frozen=True)
class ShowCurrency:
    pass


@dataclass(frozen=True)
class SetCurrency:
    code: str


@dataclass(frozen=True)
class CurrencySet:
    settings: WorkspaceSettings
    adopted: int
    """Deal values typed before the workspace had a currency, counted in it from now on."""


def workspace_settings(services: Services, team_id: str) -> WorkspaceSettings:
    with services.sessions() as session:
        read_only(session)
        row = workspace_queries.setting(session, team_id=team_id)
    if row is None:
        return WorkspaceSettings(DEFAULT_LANGUAGE, None)
    return WorkspaceSettings(
        language_named(row.language) or DEFAULT_LANGUAGE, row.currency, row.language_changed_by, row.currency_changed_by
    )


def set_language(
    services: Services, actor: Actor, command: SetLanguage, *, claim: Claim | None = None
) -> WorkspaceSettings:
    language = language_named(command.code)
    if language is None or len(command.code.strip()) > 5:
        raise CommandError(
            tr(
                "The bot speaks {languages}; `{code}` is not one of them. Choose one, like `{example}`.",
                languages=", ".join(language.value for language in Language),
                code=command.code[:16],
                example=LANGUAGE_EXAMPLE,
            )
        )
    now = services.clock()
    with services.sessions.begin() as session:
        claim_in(session, claim, now=now)
        require_manager(session, services, actor, doing=tr("change the language of the bot's posts"))
        workspace_queries.set_language(
            session, team_id=actor.team_id, language=language.value, changed_by=actor.user_id, changed_at=now
        )
    return workspace_settings(services, actor.team_id)


def set_currency(services: Services, actor: Actor, command: SetCurrency, *, claim: Claim | None = None) -> CurrencySet:
    """Deals keep the currency their value was typed in, so the pipeline's totals add one currency: the
    workspace's currency cannot change while deals hold values in another one. Values typed before the workspace
    had a currency are counted in the one set now."""
    code = command.code.strip().upper()
    if not (len(code) == 3 and code.isalpha() and is_currency(code)):
        raise CommandError(
            tr(
                "`{code}` is not a currency code. Use the three letters of ISO 4217, like `{example}`.",
                code=command.code[:16],
                example=CURRENCY_EXAMPLE,
            )
        )
    now = services.clock()
    with services.sessions.begin() as session:
        claim_in(session, claim, now=now)
        require_manager(session, services, actor, doing=tr("change the workspace's currency"))
        queries.lock_deal_numbers(session, team_id=actor.team_id)  # a deal created meanwhile waits, then sees it
        held = workspace_queries.value_currencies(session, team_id=actor.team_id)
        others = {currency: count for currency, count in held.items() if currency not in (None, code)}
        if others:
            other, count = max(others.items(), key=lambda item: item[1])
            raise CommandError(
                tr_n(
                    "{count} deal holds a value in {other}, so the currency stays as it is: a pipeline's totals add"
                    " one currency. Nothing was changed.",
                    "{count} deals hold values in {other}, so the currency stays as it is: a pipeline's totals add"
                    " one currency. Nothing was changed.",
                    count,
                    other=other,
                )
            )
        adopted = workspace_queries.adopt_currency(session, team_id=actor.team_id, currency=code)
        workspace_queries.set_currency(
            session, team_id=actor.team_id, currency=code, changed_by=actor.user_id, changed_at=now
        )
    return CurrencySet(workspace_settings(services, actor.team_id), adopted)


def currency_name(code: str, language: Language) -> str:
    return get_currency_name(code, locale=language.value)


def workspace_translator(services: Services, team_id: str) -> Translator:
    """The language the workspace's channel posts are written in."""
    return services.translators[workspace_settings(services, team_id).language]
