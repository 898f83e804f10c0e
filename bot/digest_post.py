"""Compute a digest and post it to a channel: the message first (it stands on its own), then the chart."""

import logging
from collections.abc import Callable
from dataclasses import replace

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import Message
from bot.chart import chart_title, render_chart
from bot.digest_blocks import PermalinkKey, digest_message, quiet_line
from bot.mrkdwn import escape, section
from commands.digest.compute import compute_digest
from commands.digest.report import Digest, Period
from commands.digest.schedules import DueDigest, quiet_choice
from commands.i18n.translator import Translator
from commands.services import Services
from commands.workspace.settings import workspace_settings, workspace_translator

logger = logging.getLogger(__name__)


def post_digest(
    services: Services, client: WebClient, *, team_id: str, channel_id: str, period: Period
) -> tuple[str, bool]:
    """Post the digest; returns (message ts, whether the chart was uploaded).

    A failed message raises (the caller records it and retries); a failed chart is logged and
    reported as not uploaded, because the message already says everything the chart shows. Written in the
    workspace's language, as every channel post.
    """
    t = workspace_translator(services, team_id)
    return _post_full(t, client, _computed(services, team_id=team_id, period=period), channel_id)


def own_digest_message(t: Translator, services: Services, *, team_id: str, owner_id: str, period: Period) -> Message:
    """The digest narrowed to `owner_id`'s deals, without the chart: it is answered ephemerally, and an
    ephemeral message cannot carry a file. In the language of `t`, its reader's."""
    return digest_message(t, _computed(services, team_id=team_id, period=period, owner_id=owner_id))


def _computed(services: Services, *, team_id: str, period: Period, owner_id: str | None = None) -> Digest:
    """The digest, with the workspace's currency its amounts are written in."""
    digest = compute_digest(services, team_id=team_id, period=period, owner_id=owner_id)
    return replace(digest, currency=workspace_settings(services, team_id).currency)


def _post_full(t: Translator, client: WebClient, digest: Digest, channel_id: str) -> tuple[str, bool]:
    message = digest_message(t, digest, permalinks=_permalinks(client, digest))
    response = client.chat_postMessage(channel=channel_id, text=message.text, blocks=message.blocks)
    return str(response["ts"]), _upload_chart(t, client, digest, channel_id)


def post_scheduled_digest(services: Services, client: WebClient, due: DueDigest) -> tuple[str | None, bool]:
    """Post a scheduled digest; for a quiet period (`Digest.quiet`), what the schedule's `quiet` says: one line
    without a chart (`short`), nothing (`skip`: returns no message ts) or the whole digest (`full`)."""
    t = workspace_translator(services, due.team_id)
    digest = _computed(services, team_id=due.team_id, period=due.period)
    choice = quiet_choice(services, team_id=due.team_id, channel_id=due.channel_id) if digest.quiet else "full"
    if choice == "skip":
        logger.info("quiet period, digest skipped: team=%s channel=%s", due.team_id, due.channel_id)
        return None, False
    if choice == "short":
        line = quiet_line(t, digest)
        response = client.chat_postMessage(channel=due.channel_id, text=line, blocks=[section(escape(line))])
        return str(response["ts"]), False
    return _post_full(t, client, digest, due.channel_id)


def digest_deliverer(services: Services, client: WebClient) -> Callable[[DueDigest], tuple[str | None, bool]]:
    """What the scheduler calls for each due digest."""

    def deliver(due: DueDigest) -> tuple[str | None, bool]:
        return post_scheduled_digest(services, client, due)

    return deliver


def _permalinks(client: WebClient, digest: Digest) -> dict[PermalinkKey, str]:
    links = {}
    for pending in digest.pending.items:
        ts = pending.message_ts or pending.thread_ts
        if ts is None:
            continue
        try:
            links[(pending.channel_id, ts)] = str(
                client.chat_getPermalink(channel=pending.channel_id, message_ts=ts)["permalink"]
            )
        except (SlackApiError, OSError) as error:
            logger.warning("no permalink for %s/%s: %r", pending.channel_id, ts, error)
    return links


def _upload_chart(t: Translator, client: WebClient, digest: Digest, channel_id: str, *, may_join: bool = True) -> bool:
    """Upload the chart beside the message. The bot posts in any public channel without joining it, but Slack
    shares a file only into a channel the bot is in (`not_in_channel`): then it joins the public channel and
    uploads again. (A private channel it is not in refused the message already.)"""
    try:
        _upload(t, client, digest, channel_id)
    except (SlackApiError, OSError) as error:
        not_in = isinstance(error, SlackApiError) and error.response.get("error") == "not_in_channel"
        if may_join and not_in and _joined(client, channel_id):
            return _upload_chart(t, client, digest, channel_id, may_join=False)
        logger.error("digest chart upload failed: channel=%s error=%r", channel_id, error)
        return False
    return True


def _upload(t: Translator, client: WebClient, digest: Digest, channel_id: str) -> None:
    client.files_upload_v2(
        channel=channel_id,
        file=render_chart(t, digest),
        filename="pipeline.png",
        title=chart_title(t, digest),
        alt_txt=t("Bar chart of open deals and value per stage, with the conversion between stages."),
    )


def _joined(client: WebClient, channel_id: str) -> bool:
    try:
        client.conversations_join(channel=channel_id)
    except (SlackApiError, OSError) as error:
        logger.warning("could not join %s to share the digest chart: %r", channel_id, error)
        return False
    logger.info("joined %s to share the digest chart", channel_id)
    return True
