"""Safe pieces of Slack mrkdwn (escaped user text, links, mentions, dates) and the Block Kit blocks that hold
them, cut to Slack's size limits."""

from collections.abc import Callable
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from commands.crm.import_deals import IMPORT_ACTOR
from commands.deals.evidence import Evidence
from commands.formats import clip
from commands.i18n.translator import ENGLISH, Translator
from commands.text_rules import clean_text, host_of, label_misleads, punycode, remove_invisible, without_credentials

SECTION_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
LINK_LABEL_LIMIT = 60


def escape(text: str) -> str:
    """Escape user text for mrkdwn so `<!channel>` or `<https://evil|Invoice>` stays literal.

    Bidi controls and zero-width characters are dropped too: text stored before they were cleaned on input
    (or brought in by an import) cannot reorder or hide what is shown around it.
    """
    return remove_invisible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str, t: Translator = ENGLISH) -> str:
    """A Slack mention of the person; history brought in from a CRM names the import instead (in `t`'s language)."""
    # TRANSLATORS: who did something in a deal's history when it was brought in from a CRM import.
    return t("the import") if user_id == IMPORT_ACTOR else f"<@{user_id}>"


def link(evidence: Evidence) -> str:
    """A link whose label is escaped and never names another host than the link's; the URL cannot hold `|` or
    `>` unescaped either. A host in other than ASCII characters is followed by its `xn--…` form."""
    target = without_credentials(evidence.url)
    url = target.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    label = clean_text(evidence.label or "")
    if not label or label_misleads(label, target):
        label = target.split("://", 1)[-1]
    shown = f"<{url}|{escape(clip(label, LINK_LABEL_LIMIT)).replace('|', '¦')}>"
    ascii_host = punycode(host_of(target))
    return f"{shown} ({ascii_host})" if ascii_host else shown


def date(moment: datetime) -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short}} {{time}}|{fallback}>"


def day(moment: datetime, t: Translator | None = None) -> str:
    """The day of `moment` as Slack shows it in each reader's own time zone (and locale), with a UTC fallback
    written in `t`'s language (without `t`, in English)."""
    fallback = f"{moment:%d %b %Y}" if t is None else t.day(moment.date())
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{fallback} UTC>"


def clip_mrkdwn(text: str, limit: int) -> str:
    """Like `clip`, but never cuts a link or mention (`<…>`) in half: a cut one is dropped whole."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    opened = cut.rfind("<")
    if opened > cut.rfind(">"):
        cut = cut[:opened]
    return cut + "…"


def plain(text: str, limit: int = SECTION_TEXT_LIMIT) -> PlainTextObject:
    return PlainTextObject(text=clip(remove_invisible(text), limit), emoji=True)


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip_mrkdwn(text, SECTION_TEXT_LIMIT)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip_mrkdwn(text, SECTION_TEXT_LIMIT))])


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=plain(text, HEADER_TEXT_LIMIT))


def divider() -> DividerBlock:
    return DividerBlock()


def packed_sections(
    lines: list[str],
    *,
    max_blocks: int,
    more: str | Callable[[int], str] | None = None,
    t: Translator = ENGLISH,
) -> list[Block]:
    """Pack lines into as few sections as fit Slack's text limit, within `max_blocks` blocks.

    Lines that do not fit are dropped from the end and counted in a closing line: `more(count)`, or a `more`
    string's `{n}` filled in, or "and N more" in `t`'s language.
    """
    blocks: list[Block] = []
    current: list[str] = []
    for index, line in enumerate(lines):
        line = clip_mrkdwn(line, SECTION_TEXT_LIMIT)
        if current and len("\n".join([*current, line])) > SECTION_TEXT_LIMIT:
            if len(blocks) + 2 >= max_blocks:
                blocks.append(section("\n".join(current)))
                blocks.append(context(_more(t, more, len(lines) - index)))
                return blocks
            blocks.append(section("\n".join(current)))
            current = []
        current.append(line)
    if current:
        blocks.append(section("\n".join(current)))
    return blocks


def _more(t: Translator, more: str | Callable[[int], str] | None, count: int) -> str:
    if callable(more):
        return more(count)
    if more is not None:
        return more.format(n=count)
    return t.n("and {count} more", "and {count} more", count)
