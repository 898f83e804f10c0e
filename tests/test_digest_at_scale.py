"""The weekly digest of a 10,000-deal pipeline, through signed Slack requests and the command line: within
Slack's limits, pipeline apart from customers, and every summary adding up to the counts it summarises."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.simulated_pipeline import SHAPES, simulate, write_csv
from commands.__main__ import main
from commands.crm.exports import read_deals
from commands.crm.import_deals import import_deals
from tests.conftest import RunningBot

DEALS = 10_000
HISTORY_DAYS = 2_000  # the steady shape creates 5 deals a day


@pytest.fixture
def big_bot(bot: RunningBot, tmp_path: Path) -> RunningBot:
    """The bot's workspace T1 with a simulated history of about 10,000 deals up to an hour ago, imported in bulk."""
    as_of = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    path = tmp_path / "deals.csv"
    written = write_csv(simulate(SHAPES["steady"], 1, as_of, HISTORY_DAYS), path, as_of)
    assert written >= DEALS * 0.98
    deals = read_deals(
        path, file_format="ours", pipeline=bot.services.pipeline, now=datetime.now(UTC), default_channel="C0SALES1"
    )
    import_deals(bot.services, team_id="T1", deals=deals, source=path.name, dry_run=False)
    return bot


def test_a_10000_deal_digest_fits_slack_and_adds_up(
    big_bot: RunningBot, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    big_bot.command("/pipeline", "digest")
    post = big_bot.slack.wait_for(
        lambda: [m for m in big_bot.slack.messages if m["text"].startswith("Pipeline digest")]
    )[0]
    assert len(post["blocks"]) <= 50
    text = json.dumps(post["blocks"], ensure_ascii=False)
    assert "*Pipeline (open deals before the win)*" in text and "*Customers (the won stage and after)*" in text
    assert "per transition" in text and "by reason" in text and "_Since a week earlier:_" in text
    assert " · \\n" not in text and ' · "' not in text  # imported moves have no evidence: no dangling separator
    assert "*Pipeline* (" in text and "*Onboarding* (" in text and "*By owner*, most stalled first" in text
    stalled_section = text[text.index("*Stalled* (") : text.index("Stage conversion")]
    assert "· Live for" not in stalled_section  # the last stage never stalls
    assert big_bot.slack.wait_for(lambda: big_bot.slack.files)[0]["data"].startswith(b"\x89PNG")

    board = json.dumps(big_bot.command("/pipeline", "").json(), ensure_ascii=False)
    assert "*Pipeline*: " in board and "*Customers*: " in board

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("PIPELINE_FILE", raising=False)
    assert main(["digest", "--team", "T1", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["pipeline"]["deals"] + printed["customers"]["deals"] == sum(s["deals"] for s in printed["by_stage"])
    assert printed["pipeline"]["deals"] > 0 and printed["customers"]["deals"] > printed["pipeline"]["deals"]
    assert [s["stage"] for s in printed["customers"]["stages"]] == ["contract-signed", "implementation-started", "live"]
    moved = sum(t["moves"] for t in printed["transitions"])
    assert moved >= printed["approved"]["total"] > 0 and 0 < len(printed["notable_moves"]) <= 9
    assert sum(r["deals"] for r in printed["lost_reasons"]["items"]) == printed["lost_deals"]["total"] > 0
    stalled = printed["stalled"]
    listed = stalled["pipeline"]["items"] + stalled["onboarding"]["items"]
    assert stalled["pipeline"]["total"] > 0 and stalled["onboarding"]["total"] > 0
    assert stalled["total"] == stalled["pipeline"]["total"] + stalled["onboarding"]["total"]
    assert "live" not in {item["stage"] for item in listed}
    assert {item["stage"] for item in stalled["onboarding"]["items"]} <= {"contract-signed", "implementation-started"}
    owners = stalled["by_owner"]
    assert 0 < len(owners["items"]) <= 10 and owners["total"] >= len(owners["items"])
    assert [o["deals"] for o in owners["items"]] == sorted((o["deals"] for o in owners["items"]), reverse=True)
    if owners["total"] == len(owners["items"]):
        assert sum(o["deals"] for o in owners["items"]) == stalled["total"]
    assert all(o["oldest"]["owner_id"] == o["owner_id"] and o["oldest"]["stage"] != "live" for o in owners["items"])
    change = printed["forecast"]["change"]
    assert sum(r["expected_value_cents"] for r in change["reasons"]) == pytest.approx(
        change["expected_value_cents"], abs=len(change["reasons"])
    )
    assert main(["digest", "--team", "T1"]) == 0
    out = capsys.readouterr().out
    assert "Pipeline (open deals before the win): " in out
    assert f"Stalled ({stalled['total']}): {stalled['pipeline']['total']} in the pipeline, " in out
    assert "Stalled in onboarding (" in out and "stalled deals; oldest" in out
