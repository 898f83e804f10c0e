"""`python -m commands digest` (also `salesbot digest`): the same computation as the Slack digest, as JSON or text."""

import json
from datetime import date

import pytest

from commands.__main__ import main
from commands.deals.deal import NewDeal, create_deal
from commands.digest.compute import compute_digest, local_midnight, period_ending
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
    assert printed["by_stage"][0] == {
        "stage": "meeting-booked",
        "deals": 1,
        "value_cents": 500000,
        "change": {"deals": 0, "value_cents": 0},
    }
    assert printed["period"]["start"] == "2026-11-15T23:00:00+00:00"


def test_text_reads_like_the_digest(cli_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--team", "T1"]) == 0
    text = capsys.readouterr().out
    assert "Meeting booked: 1 deal (+0), 5,000 (+0)" in text and "Forecast:" in text


def test_ambiguous_workspace_and_bad_zone_are_clear_errors(
    cli_database: str, services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    create_deal(services, Actor("T2", REP), channel_id="C9", command=NewDeal("Other", None, None, ()))
    assert main(["digest"]) == 1
    assert "choose one with --team" in capsys.readouterr().err
    assert main(["digest", "--team", "T1", "--tz", "Mars/Base"]) == 2
    assert "Mars/Base" in capsys.readouterr().err


@pytest.fixture
def empty_database(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("PIPELINE_FILE", raising=False)
    monkeypatch.chdir(str(tmp_path))
    return database_url


@pytest.mark.parametrize("as_json", [False, True])
def test_an_empty_database_answers_one_line_saying_there_is_nothing_yet(
    empty_database: str, as_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest", *(["--json"] if as_json else [])]) == 0
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err == (
        "python -m commands digest: no digest: the database holds no deals yet "
        "(create one with /deal new in Slack, or import a CRM export with `python -m commands import`)\n"
    )


def test_an_unknown_team_is_told_it_has_no_data(
    empty_database: str, services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest", "--team", "T9"]) == 1
    assert capsys.readouterr() == (
        "",
        "python -m commands: workspace T9 has no data in this database (it holds no deals yet); check --team\n",
    )
    create_deal(services, Actor("T1", REP), channel_id="C1", command=NewDeal("Acme", None, None, ()))
    assert main(["digest", "--team", "T9", "--json"]) == 1
    assert capsys.readouterr() == (
        "",
        "python -m commands: workspace T9 has no data in this database (it holds T1); check --team\n",
    )


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("--days", "0", "0 days is out of range: give 1 to 366 days (the period's length)"),
        ("--days", "-7", "-7 days is out of range: give 1 to 366 days (the period's length)"),
        ("--days", "100000", "100000 days is out of range: give 1 to 366 days (the period's length)"),
        ("--days", "week", "'week' is not a whole number of days (the period's length)"),
        ("--window", "0", "0 days is out of range: give 1 to 3650 days (the conversion window)"),
        ("--window", "-90", "-90 days is out of range: give 1 to 3650 days (the conversion window)"),
        ("--window", "100000", "100000 days is out of range: give 1 to 3650 days (the conversion window)"),
        ("--window", "1.5", "'1.5' is not a whole number of days (the conversion window)"),
    ],
)
def test_bad_days_or_window_are_refused_with_a_message(
    cli_database: str, option: str, value: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["digest", "--team", "T1", f"{option}={value}"])
    assert refused.value.code == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err == (
        f"python -m commands digest: error: argument {option}: {problem}. See `python -m commands digest --help`.\n"
    )


def test_the_widest_days_and_window_still_answer(cli_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--team", "T1", "--days", "366", "--window", "3650", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["window_days"] == 3650 and printed["by_stage"][0]["deals"] == 1
