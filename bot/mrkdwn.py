"""Safe pieces of Slack mrkdwn: escaped user text, links, mentions, dates, and size limits."""

from datetime import datetime, timedelta

from commands.import_history import IMPORT_ACTOR
from commands.parsing import Evidence, format_amount

SECTION_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
LINK_LABEL_LIMIT = 60


def escape(text: str) -> str:
    """Escape user text for mrkdwn so `<!channel>` or `<https://evil|Invoice>` stays literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    """A Slack mention of the person; history brought in from a CRM names the import instead."""
    return "the import" if user_id == IMPORT_ACTOR else f"<@{user_id}>"


def link(evidence: Evidence) -> str:
    """A link whose label is escaped; the URL cannot hold `|` or `>` unescaped either."""
    url = evidence.url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    label = evidence.label or clip(evidence.url.split("://", 1)[-1], LINK_LABEL_LIMIT)
    return f"<{url}|{escape(label).replace('|', '¦')}>"


def date(moment: datetime) -> str:
    """A date Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short}} {{time}}|{fallback}>"


def amount(cents: int | None) -> str:
    return "—" if cents is None else format_amount(cents)


def duration(span: timedelta) -> str:
    days = span.days
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = span.seconds // 3600
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return "less than an hour"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = SECTION_TEXT_LIMIT) -> dict[str, object]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT_LIMIT)}}


def context(text: str) -> dict[str, object]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, SECTION_TEXT_LIMIT)}]}


def header(text: str) -> dict[str, object]:
    return {"type": "header", "text": plain(text, HEADER_TEXT_LIMIT)}


def divider() -> dict[str, object]:
    return {"type": "divider"}


def packed_sections(lines: list[str], *, max_blocks: int, more: str = "and {n} more") -> list[dict[str, object]]:
    """Pack lines into as few sections as fit Slack's text limit, within `max_blocks` blocks.

    Lines that do not fit are dropped from the end and counted in a closing "and N more".
    """
    blocks: list[dict[str, object]] = []
    current: list[str] = []
    for index, line in enumerate(lines):
        line = clip(line, SECTION_TEXT_LIMIT)
        if current and len("\n".join([*current, line])) > SECTION_TEXT_LIMIT:
            if len(blocks) + 2 >= max_blocks:
                blocks.append(section("\n".join(current)))
                blocks.append(context(more.format(n=len(lines) - index)))
                return blocks
            blocks.append(section("\n".join(current)))
            current = []
        current.append(line)
    if current:
        blocks.append(section("\n".join(current)))
    return blocks
