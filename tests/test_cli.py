"""`python -m commands digest`: the same computation as the Slack digest, as JSON or text."""

import json
from datetime import date

import pytest

from commands.__main__ import main
from commands.deals import create_deal
from commands.digest import compute_digest, local_midnight, period_ending
from commands.parsing import NewDeal
from commands.services import Actor, Services
from tests.conftest import REP


@pytest.fixture
def cli_database(services: Services, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("PIPELINE_FILE", raising=False)
    monkeypatch.chdir(str(tmp_path))
    create_deal(services, Actor("T1", REP), channel_id="C1", command=NewDeal("Acme", 5_000_00, "Acme", ()))
    return database_url


def test_json_is_the_digest_computation(
    cli_database: str, services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest", "--as-of", "2026-11-23", "--tz", "Europe/Berlin", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    period = period_ending(local_midnight(date(2026, 11, 23), "Europe/Berlin"), tz="Europe/Berlin")
    assert printed == compute_digest(services, team_id="T1", period=period).to_json()
    assert printed["by_stage"][0] == {"stage": "meeting-booked", "deals": 1, "value_cents": 500000}
    assert printed["period"]["start"] == "2026-11-15T23:00:00+00:00"


def test_text_reads_like_the_digest(cli_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--team", "T1"]) == 0
    text = capsys.readouterr().out
    assert "Meeting booked: 1 deals, 5,000" in text and "Forecast:" in text


def test_ambiguous_workspace_and_bad_zone_are_clear_errors(
    cli_database: str, services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    create_deal(services, Actor("T2", REP), channel_id="C9", command=NewDeal("Other", None, None, ()))
    assert main(["digest"]) == 1
    assert "choose one with --team" in capsys.readouterr().err
    assert main(["digest", "--team", "T1", "--tz", "Mars/Base"]) == 2
    assert "Mars/Base" in capsys.readouterr().err
