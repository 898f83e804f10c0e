"""The digest and its schedule, end to end through signed Slack requests and the fake Web API."""

import json
from typing import Any

from sqlmodel import select

from commands.deals.deal import NewDeal, create_deal
from commands.deals.evidence import Evidence
from commands.deals.moves import Advance, decide_move, request_move
from commands.deals.results import MoveRequested
from commands.services import Actor
from storage.models import DigestSchedule
from tests.conftest import MANAGER, REP, RunningBot

CHANNEL = "C_SALES"


def digest_posts(bot: RunningBot) -> list[dict[str, Any]]:
    return [m for m in bot.slack.messages if m["text"].startswith("Pipeline digest")]


def seed(bot: RunningBot, deals: int = 3, name: str = "Acme") -> None:
    rep, manager = Actor("T1", REP), Actor("T1", MANAGER)
    for index in range(deals):
        deal = create_deal(
            bot.services, rep, channel_id=CHANNEL, command=NewDeal(f"{name} {index}", 10_000_00, None, ())
        )
        move = request_move(
            bot.services, rep, Advance(deal.number, (Evidence(f"https://mail.example.com/{index}"),), None, None)
        )
        assert isinstance(move, MoveRequested)
        decide_move(bot.services, manager, move_id=move.move.id, approve=True)


def test_pipeline_digest_posts_the_digest_and_its_chart(bot: RunningBot) -> None:
    seed(bot)
    response = bot.command("/pipeline", "digest")
    assert "Posting the pipeline digest" in response.json()["text"]
    post = bot.slack.wait_for(lambda: digest_posts(bot))[0]
    assert post["channel"] == CHANNEL
    text = json.dumps(post["blocks"], ensure_ascii=False)
    assert "*Pipeline (open deals before the win)*: 3 deals (+3) · 30,000 (+30,000)" in text
    assert "Needs confirmed: 3 deals (+3) · 30,000 (+30,000)" in text
    assert "*Customers (the won stage and after)*: 0 deals (+0) · 0 (+0)" in text
    assert "*Moved* (3), per transition\\nMeeting booked → Needs confirmed: 3" in text
    assert "*Worth a look*" in text and "https://mail.example.com/0" in text
    assert "Stage conversion" in text and "Forecast" in text
    uploaded = bot.slack.wait_for(lambda: bot.slack.files)[0]
    assert uploaded["channel_id"] == CHANNEL and uploaded["data"].startswith(b"\x89PNG")


def test_digest_text_stands_when_the_chart_upload_fails(bot: RunningBot) -> None:
    seed(bot, deals=1)
    bot.slack.fail_next("files.getUploadURLExternal", status=500, times=20)
    bot.command("/pipeline", "digest")
    bot.slack.wait_for(lambda: digest_posts(bot))
    bot.slack.wait_for(lambda: bot.slack.failures_served >= 4, timeout=30)  # first try + 3 retries with backoff
    assert bot.slack.files == []


def test_a_huge_pipeline_still_fits_one_message(bot: RunningBot) -> None:
    seed(bot, deals=25, name="N" * 300 + " <!channel>")
    bot.command("/pipeline", "digest")
    post = bot.slack.wait_for(lambda: digest_posts(bot))[0]
    assert len(post["blocks"]) <= 50
    text = json.dumps(post["blocks"], ensure_ascii=False)
    assert "and 15 more" in text  # 25 new deals, 10 listed
    assert "<!channel>" not in text


def test_schedule_weekly_with_a_zone_then_show_then_off(bot: RunningBot) -> None:
    set_reply = bot.command("/pipeline", "schedule weekly mon 09:00 tz:Europe/Berlin", user=MANAGER).json()["text"]
    assert "every Monday at 09:00 (Europe/Berlin)" in set_reply and "Next:" in set_reply
    shown = bot.command("/pipeline", "schedule").json()["text"]
    assert "every Monday at 09:00 (Europe/Berlin)" in shown
    assert "off" in bot.command("/pipeline", "schedule off", user=MANAGER).json()["text"]
    assert "No digest is scheduled" in bot.command("/pipeline", "schedule").json()["text"]


def test_schedule_defaults_to_the_callers_slack_time_zone(bot: RunningBot) -> None:
    bot.slack.user_timezones[MANAGER] = "Asia/Tokyo"
    reply = bot.command("/pipeline", "schedule daily 08:30", user=MANAGER).json()["text"]
    assert "every day at 08:30 (Asia/Tokyo)" in reply
    assert bot.slack.calls_to("users.info")


def test_bad_schedules_and_non_managers_are_refused_and_store_nothing(bot: RunningBot) -> None:
    for text in (
        "schedule weekly funday 09:00",
        "schedule daily 25:00",
        "schedule daily 09:00 tz:Mars/Base",
        "schedule hourly",
    ):
        reply = bot.command("/pipeline", text, user=MANAGER).json()["text"]
        assert reply.startswith(":no_entry_sign:"), (text, reply)
    refused = bot.command("/pipeline", "schedule daily 09:00", user=REP).json()["text"]
    assert "Only a sales manager" in refused
    with bot.services.sessions() as session:
        assert session.exec(select(DigestSchedule)).all() == []


def test_the_digest_joins_a_public_channel_to_share_its_chart(bot: RunningBot) -> None:
    seed(bot, deals=1)
    bot.slack.add_public_channel(CHANNEL, members=[MANAGER])
    bot.command("/pipeline", "digest")
    uploaded = bot.slack.wait_for(lambda: bot.slack.files)[0]
    assert uploaded["channel_id"] == CHANNEL
    assert [call.args["channel"] for call in bot.slack.calls_to("conversations.join")] == [CHANNEL]
    assert len(digest_posts(bot)) == 1
