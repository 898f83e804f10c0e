"""Replies about a workspace's settings: the language of its channel posts and the currency of its deals."""

from bot.blocks import Message
from bot.mrkdwn import mention, section
from commands.i18n.languages import Language
from commands.i18n.translator import N_, Translator
from commands.workspace.settings import CurrencySet, WorkspaceSettings, currency_name

#: Each language's name, written in that language: how its speakers look for it in a list.
LANGUAGE_NAMES = {Language.EN: "English", Language.ES: "español", Language.SV: "svenska", Language.RO: "română"}
LANGUAGE_CHANGE = N_(
    "A manager changes it with `/pipeline language en`, `es`, `sv` or `ro`. Replies, forms and the Home tab are"
    " in each person's own Slack language where the bot speaks it."
)
CURRENCY_CHANGE = N_("A manager sets it with `/pipeline currency EUR` (any ISO 4217 code).")


def language_message(t: Translator, settings: WorkspaceSettings, *, changed: bool = False) -> Message:
    """`/pipeline language`: what the channel posts are written in, and how to change it."""
    name = LANGUAGE_NAMES[settings.language]
    if changed:
        head = t("Done: the bot's posts in channels are now in *{language}*.", language=name)
    else:
        head = t("The bot's posts in channels are in *{language}*.", language=name)
    who = _set_by(t, settings.language_set_by) if not changed else ""
    text = " ".join(part for part in (head, who, t(LANGUAGE_CHANGE)) if part)
    return Message(text=text, blocks=[section(text)])


def currency_message(t: Translator, settings: WorkspaceSettings) -> Message:
    """`/pipeline currency`: the currency deal values are kept in, and how to set it."""
    if settings.currency is None:
        head = t("This workspace has no currency yet: each deal keeps the currency its value was typed in.")
    else:
        head = t(
            "Deal values are kept in *{code}* ({name}).",
            code=settings.currency,
            name=currency_name(settings.currency, t.language),
        )
    text = " ".join(part for part in (head, _set_by(t, settings.currency_set_by), t(CURRENCY_CHANGE)) if part)
    return Message(text=text, blocks=[section(text)])


def currency_set(t: Translator, result: CurrencySet) -> Message:
    code = result.settings.currency or ""
    head = t("Done: deal values are now kept in *{code}* ({name}).", code=code, name=currency_name(code, t.language))
    adopted = (
        t.n(
            "{count} value typed without a currency now counts in {code}.",
            "{count} values typed without a currency now count in {code}.",
            result.adopted,
            code=code,
        )
        if result.adopted
        else ""
    )
    text = " ".join(part for part in (head, adopted) if part)
    return Message(text=text, blocks=[section(text)])


def _set_by(t: Translator, who: str | None) -> str:
    return "" if who is None else t("Set by {who}.", who=mention(who))
