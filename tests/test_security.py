"""What users type never turns into Slack markup, secrets never reach the logs, every request is logged once."""

import logging

import pytest
from sqlmodel import select

from bot.mrkdwn import escape, link
from commands.deals.evidence import Evidence
from storage.models import MoveRequest
from tests.conftest import MANAGER, RunningBot
from tests.slack_requests import SIGNING_SECRET, slash_command


def test_escape_neutralises_mentions_and_links() -> None:
    assert escape("<!channel> & <https://evil.example|Invoice>") == (
        "&lt;!channel&gt; &amp; &lt;https://evil.example|Invoice&gt;"
    )


@pytest.mark.parametrize(
    ("evidence", "shown"),
    [
        (
            Evidence("https://mail.example.com/m?a=1&b=2", "Buyer's reply"),
            "<https://mail.example.com/m?a=1&amp;b=2|Buyer's reply>",
        ),
        (Evidence("https://x.example/a", "<!here> | fake"), "<https://x.example/a|&lt;!here&gt; ¦ fake>"),
        (Evidence("https://x.example/a|b>c", None), "<https://x.example/a%7Cb%3Ec|x.example/a¦b&gt;c>"),
    ],
)
def test_evidence_links_have_escaped_labels(evidence: Evidence, shown: str) -> None:
    assert link(evidence) == shown


def test_each_request_is_logged_once_with_its_outcome(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="salesbot.requests")
    bot.command("/deal", "new Logged deal")
    bot.command("/deal", "show deal-99")
    bot.command("/pipeline", "", user=MANAGER)
    logged = [r.getMessage() for r in caplog.records if r.name == "salesbot.requests"]
    lines = [line for line in logged if line.startswith("request ")]
    assert len(lines) == 3
    assert "kind=command team=T1 user=U_REP what=/deal status=200 outcome=ok" in lines[0]
    assert "user=U_MGR what=/pipeline" in lines[2]
    assert all(" ms=" in line for line in lines)
    # commands are answered after their ack (bot.after_ack): a refusal is logged when it is told
    assert [line for line in logged if not line.startswith("request ")] == [
        "answer kind=command team=T1 user=U_REP what=/deal outcome=refused error=CommandError"
    ]
    assert not any("Logged deal" in line for line in logged)  # no typed text in request logs


def test_a_request_refused_before_bolt_reads_it_is_logged_once_without_what_its_body_claims(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="salesbot.requests")
    forged = slash_command("/deal", "new Forged", user_id=MANAGER)
    bot.sender.post(forged, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    lines = [r.getMessage() for r in caplog.records if r.name == "salesbot.requests"]
    assert len(lines) == 1
    assert "request kind=- team=- user=- what=- status=401 outcome=error ms=" in lines[0]


def test_secrets_never_reach_the_logs(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot.command("/deal", "new Secretive deal")
    bot.slack.wait_for(lambda: bot.slack.messages)
    bot.sender.post(slash_command("/deal", "new Forged"), headers={"X-Slack-Signature": "v0=" + "0" * 64})
    text = caplog.text
    assert "xoxb-test" not in text
    assert SIGNING_SECRET not in text


def test_two_workspaces_never_see_each_others_deals(bot: RunningBot) -> None:
    bot.command("/deal", "new Team one deal", team_id="T1")
    bot.command("/advance", "deal-1 evidence:https://mail.example.com/1", team_id="T1")
    bot.slack.wait_for(lambda: [m for m in bot.slack.messages if "asks to move" in m["text"]])
    assert "no deal-1" in bot.command("/deal", "show deal-1", team_id="T2").json()["text"]
    assert "None" in bot.command("/deal", "list all", team_id="T2").json()["text"]
    assert "Created deal-1" in bot.command("/deal", "new Team two deal", team_id="T2").json()["text"]
    with bot.services.sessions() as session:
        move = session.exec(select(MoveRequest)).one()
    bot.sender.action("move_approve", str(move.id), user_id=MANAGER, team_id="T2", message_ts="1.0")
    refusal = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals if e["user"] == MANAGER])
    assert "does not exist" in refusal[0]["text"]
    with bot.services.sessions() as session:
        assert session.exec(select(MoveRequest)).one().status == "pending"
    board_two = bot.command("/pipeline", "", team_id="T2").json()
    assert "1 open deal " in board_two["text"]
