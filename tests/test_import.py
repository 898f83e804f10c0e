"""Importing a pipeline's history from a CRM export: our CSV format, HubSpot's and Pipedrive's, the CLI."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from bot.blocks import deal_detail
from commands.__main__ import main
from commands.crm.exports import ImportedDeal, ImportRefused, StageMapError, load_stage_map, parse_stage_map, read_deals
from commands.crm.import_deals import IMPORT_ACTOR, import_deals
from commands.deals.deal import NewDeal, create_deal, show_deal
from commands.i18n.translator import ENGLISH
from commands.pipeline.loading import default_pipeline
from commands.services import Actor, Services
from storage import spells
from storage.models import Announcement, Deal, DealEvent, DealSequence, StageSpell
from tests.conftest import REP, Clock, RunningBot
from tests.test_slack_flows import CHANNEL, all_text, move_row, request_move, shown, ts

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TEAM = "T1"
PIPELINE = default_pipeline()
STAGES = ",".join(f"entered {key}" for key in PIPELINE.keys)
HEADER = f"id,name,company,value,owner,channel,created,lost,lost_reason,{STAGES}"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def write(tmp_path: Path, text: str, name: str = "deals.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def our_file(tmp_path: Path, *rows: str) -> Path:
    return write(tmp_path, "\n".join([HEADER, *rows]) + "\n")


def example_deals(name: str = "deals.csv", file_format: str = "ours", **options: Any) -> list[ImportedDeal]:
    return read_deals(EXAMPLES / name, file_format=file_format, pipeline=PIPELINE, now=NOW, **options)


def stage_map() -> Any:
    return load_stage_map(EXAMPLES / "stage-map.yaml", stage_keys=PIPELINE.keys)


def run_import(services: Services, deals: list[ImportedDeal], *, dry_run: bool = False) -> Any:
    return import_deals(services, team_id=TEAM, deals=deals, source="CSV deals.csv", dry_run=dry_run)


def counts(services: Services) -> dict[str, int]:
    with services.sessions() as session:
        return {
            model.__name__: session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Deal, DealEvent, StageSpell, Announcement, DealSequence)
        }


def deals_by_crm_id(services: Services) -> dict[str, Deal]:
    with services.sessions() as session:
        return {deal.crm_id or "": deal for deal in session.execute(select(Deal)).scalars()}


def history(services: Services, crm_id: str) -> list[tuple[Any, ...]]:
    with services.sessions() as session:
        rows = session.execute(
            select(DealEvent)
            .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
            .where(col(Deal.crm_id) == crm_id)
            .order_by(col(DealEvent.id))
        ).scalars()
        return [(e.kind, e.at, e.from_stage, e.to_stage, e.note) for e in rows]


def differences(services: Services) -> list[spells.Difference]:
    with services.sessions() as session:
        return list(spells.compare(session, stage_keys=PIPELINE.keys))


# ------------------------------------------------------------------ our format


def test_the_example_file_becomes_deals_events_and_spells(services: Services) -> None:
    summary = run_import(services, example_deals(default_channel="C0999OTHER"))
    assert (summary.imported, summary.already_imported, summary.lost, summary.events) == (6, 0, 1, 19)
    assert summary.open_by_stage == (
        ("meeting-booked", 1),
        ("needs-confirmed", 1),
        ("product-evaluated", 2),
        ("live", 1),
    )
    assert (summary.first_number, summary.last_number) == (1, 6)

    deals = deals_by_crm_id(services)
    acme = deals["CRM-1001"]
    assert (acme.number, acme.name, acme.company, acme.value_cents, acme.owner_id) == (
        1,
        "Acme renewal",
        "Acme Corp",
        50_000_00,
        "U0123ABCD",
    )
    assert (acme.stage_key, acme.status, acme.channel_id, acme.thread_ts) == (
        "product-evaluated",
        "open",
        "C0123SALES",
        None,
    )
    assert acme.created_at == at("2026-03-02T00:00:00+00:00")
    assert acme.stage_entered_at == at("2026-03-20T10:00:00+00:00")
    assert history(services, "CRM-1001") == [
        ("created", at("2026-03-02T00:00:00+00:00"), None, "meeting-booked", "Imported from CSV deals.csv"),
        ("approved", at("2026-03-09T13:30:00+00:00"), "meeting-booked", "needs-confirmed", None),
        ("approved", at("2026-03-20T10:00:00+00:00"), "needs-confirmed", "product-evaluated", None),
    ]

    globex = deals["CRM-1002"]
    assert (globex.status, globex.lost_reason, globex.stage_key, globex.channel_id) == (
        "lost",
        "Went with a competitor",
        "needs-confirmed",
        "C0999OTHER",  # its row names no channel: the default one
    )
    assert history(services, "CRM-1002")[-1] == (
        "lost",
        at("2026-04-28T00:00:00+00:00"),
        "needs-confirmed",
        None,
        "Went with a competitor",
    )
    # Entered out of pipeline order: a skip forward, then a move back.
    assert [event[0] for event in history(services, "CRM-1005")] == ["created", "approved", "moved_back"]
    assert history(services, "CRM-1005")[2][2:] == ("product-evaluated", "needs-confirmed", "Imported: moved back")
    assert deals["CRM-1005"].stage_key == "needs-confirmed"
    # No entered column at all: created at the first stage.
    assert deals["CRM-1006"].stage_key == "meeting-booked" and deals["CRM-1006"].value_cents is None
    assert deals["CRM-1003"].stage_key == "live"

    with services.sessions() as session:
        events = session.execute(select(DealEvent)).scalars().all()
        assert {(e.actor_id, e.team_id) for e in events} == {(IMPORT_ACTOR, TEAM)}
        assert all(e.evidence == [] and e.move_id is None for e in events)
        hooli_spells = session.execute(
            select(col(StageSpell.stage_key), col(StageSpell.ended))
            .where(col(StageSpell.deal_id) == deals["CRM-1005"].id)
            .order_by(col(StageSpell.entered_at), col(StageSpell.id))
        ).all()
    assert [tuple(row) for row in hooli_spells] == [
        ("meeting-booked", "moved_on"),
        ("needs-confirmed", "skipped"),
        ("product-evaluated", "moved_back"),
        ("needs-confirmed", "open"),
    ]
    assert differences(services) == []
    assert counts(services)["Announcement"] == 0  # nothing is posted to Slack


def test_deal_rows_agree_with_their_events(services: Services) -> None:
    run_import(services, example_deals(default_channel="C0999OTHER"))
    for deal in deals_by_crm_id(services).values():
        events = history(services, deal.crm_id or "")
        changes = [event for event in events if event[0] != "lost"]
        assert deal.created_at == events[0][1]
        assert deal.stage_key == changes[-1][3]
        assert deal.stage_entered_at == changes[-1][1]
        assert (deal.status == "lost") == (events[-1][0] == "lost")


def test_same_instant_entries_keep_their_order(services: Services, tmp_path: Path) -> None:
    """Bare dates put several stages on one midnight: their events and spells keep the pipeline's order."""
    path = our_file(
        tmp_path,
        "A1,Same day,,100,U0123ABCD,C0123SALES,2026-03-02,2026-03-02,Gone,2026-03-02,2026-03-02,2026-03-02,,,,",
        "A2,Two days,,100,U0123ABCD,C0123SALES,2026-03-02,,,2026-03-02,2026-03-02,,2026-03-03,,,",
    )
    run_import(services, read_deals(path, file_format="ours", pipeline=PIPELINE, now=NOW))
    assert [event[0] for event in history(services, "A1")] == ["created", "approved", "approved", "lost"]
    assert deals_by_crm_id(services)["A1"].stage_key == "product-evaluated"
    assert differences(services) == []


def test_a_second_import_of_the_same_file_changes_nothing(services: Services) -> None:
    deals = example_deals(default_channel="C0999OTHER")
    run_import(services, deals)
    before = counts(services)
    summary = run_import(services, deals)
    assert (summary.imported, summary.already_imported, summary.events) == (0, 6, 0)
    assert counts(services) == before


def test_only_new_deals_of_a_grown_file_are_imported_after_the_existing_ones(services: Services) -> None:
    create_deal(services, Actor(TEAM, REP), channel_id="C1", command=NewDeal("Made in Slack", None, None, ()))
    deals = example_deals(default_channel="C0999OTHER")
    run_import(services, deals[:2])
    summary = run_import(services, deals)
    assert (summary.imported, summary.already_imported) == (4, 2)
    assert (summary.first_number, summary.last_number) == (4, 7)
    numbers = sorted(deal.number for deal in deals_by_crm_id(services).values())
    assert numbers == list(range(1, 8))
    assert differences(services) == []


def test_dry_run_counts_and_writes_nothing(services: Services) -> None:
    before = counts(services)
    summary = run_import(services, example_deals(default_channel="C0999OTHER"), dry_run=True)
    assert (summary.imported, summary.events, summary.lost, summary.dry_run) == (6, 19, 1, True)
    assert "would be imported" in summary.text(PIPELINE) and "nothing was written" in summary.text(PIPELINE)
    assert counts(services) == before


def test_every_bad_row_is_listed_with_its_line(tmp_path: Path) -> None:
    path = our_file(
        tmp_path,
        "B1,Good,,100,U0123ABCD,C0123SALES,2026-03-02,,,2026-03-02,,,,,,",
        "B2,Bad month,,100,U0123ABCD,C0123SALES,2026-03-02,,,2026-03-02,2026-13-01,,,,,",
        "B3,Negative,,-5,U0123ABCD,C0123SALES,2026-03-02,,,,,,,,,",
        "B4,Owner,,100,rep@example.com,C0123SALES,2026-03-02,,,,,,,,,",
        "B1,Twice,,100,U0123ABCD,C0123SALES,2026-03-02,,,,,,,,,",
        "B6,Early,,100,U0123ABCD,C0123SALES,2026-03-02,,,2026-03-01,,,,,,",
        "B7,Lost early,,100,U0123ABCD,C0123SALES,2026-03-02,2026-03-03,Budget,2026-03-02,2026-03-05,,,,,",
        "B8,Future,,100,U0123ABCD,C0123SALES,2026-12-24,,,,,,,,,",
        "B9,No offset,,100,U0123ABCD,C0123SALES,2026-03-02T10:00:00,,,,,,,,,",
        ",,,1.234,U0123ABCD,#sales,2026-03-02,,,,,,,,,",
        f"B11,{'x' * 201},,100,U0123ABCD,C0123SALES,2026-03-02,,,,,,,,,",
        "B12,Reason only,,100,U0123ABCD,C0123SALES,2026-03-02,,Budget,,,,,,,",
        '"B13","Multi\nline name",,100,U0123ABCD,C0123SALES,2026-03-02,,,,,,,,,',
        "B14,After multi-line,,abc,U0123ABCD,C0123SALES,2026-03-02,,,,,,,,,",
    )
    with pytest.raises(ImportRefused) as refused:
        read_deals(path, file_format="ours", pipeline=PIPELINE, now=NOW)
    problems = refused.value.problems
    assert (
        "line 3: 'entered needs-confirmed' is '2026-13-01', not a date "
        "(use ISO 8601: 2026-03-04 or 2026-03-04T10:15:00+01:00)"
    ) in problems
    assert "line 4: 'value' is '-5', a negative value: a deal is worth 0 or more" in problems
    assert "line 5: 'owner' is 'rep@example.com', not a Slack id like U0123ABCD" in problems
    assert "line 6: 'id' B1 is also on line 2: one row per deal" in problems
    assert "line 7: 'entered meeting-booked' (2026-03-01) is before 'created' (2026-03-02)" in problems
    assert "line 8: 'lost' (2026-03-03) is before 'entered needs-confirmed' (2026-03-05)" in problems
    assert "line 9: 'created' is '2026-12-24', in the future" in problems
    assert any(p.startswith("line 10: 'created' is '2026-03-02T10:00:00', a date-time without a UTC") for p in problems)
    assert {
        "line 11: 'id' is empty",
        "line 11: 'name' is empty",
        "line 11: 'value' is '1.234', an amount with more than 2 decimals",
        "line 11: 'channel' is '#sales', not a Slack id like C0123ABCD",
    } <= set(problems)
    assert "line 12: 'name' is 201 characters long; at most 200 fit" in problems
    assert any(p.startswith("line 13: 'lost_reason' is set but 'lost' is empty") for p in problems)
    assert any(p.startswith("line 16: 'value' is 'abc', not an amount") for p in problems)  # after a 2-line row
    assert not any(p.startswith(("line 2:", "line 14:")) for p in problems)
    assert str(refused.value).startswith("deals.csv: refused, nothing was imported (15 problems):")
    assert len(problems) == 15  # one per problem above, nothing else


def test_cells_follow_the_same_character_rules_as_slack(tmp_path: Path) -> None:
    nul = our_file(tmp_path, "C1,Acme\x00 deal,,100,U0123ABCD,C0123SALES,2026-03-02,,,,,,,,,")
    with pytest.raises(ImportRefused) as refused:
        read_deals(nul, file_format="ours", pipeline=PIPELINE, now=NOW)
    assert list(refused.value.problems) == ["line 2: 'name' holds a NUL character (U+0000), which cannot be stored"]
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    spoofed = our_file(hidden, "C2,\u202eAcme\u200b deal,\u200b\u200b,100,U0123ABCD,C0123SALES,2026-03-02,,,,,,,,,")
    (deal,) = read_deals(spoofed, file_format="ours", pipeline=PIPELINE, now=NOW)
    assert (deal.name, deal.company) == ("Acme deal", None)  # bidi and zero-width removed; nothing visible is empty


def test_header_problems_name_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name,value,entered demo-done,lost_reasn\nX1,Deal,1,2026-03-02,\n")
    with pytest.raises(ImportRefused) as refused:
        read_deals(path, file_format="ours", pipeline=PIPELINE, now=NOW)
    text = str(refused.value)
    assert "line 1 (header): missing columns: owner, created" in text
    assert "'entered demo-done' is not a stage of the pipeline; the stage columns are 'entered meeting-booked'" in text
    assert "unknown column 'lost_reasn'" in text
    assert "no channel: add a channel column or --channel C…" in text
    with pytest.raises(ImportRefused, match="the file is empty"):
        read_deals(write(tmp_path, ""), file_format="ours", pipeline=PIPELINE, now=NOW)


def test_a_byte_order_mark_and_crlf_lines_are_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    text = f'{HEADER}\r\nE1,Excel,,"1,234.50",U0123ABCD,C0123SALES,2026-03-02,,,,,,,,,\r\n'
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    [deal] = read_deals(path, file_format="ours", pipeline=PIPELINE, now=NOW)
    assert (deal.crm_id, deal.value_cents, deal.entries) == ("E1", 1_234_50, (("meeting-booked", at("2026-03-02")),))


# ------------------------------------------------------------------ HubSpot and Pipedrive


def test_hubspot_example_with_the_stage_map(services: Services) -> None:
    deals = example_deals("hubspot-deals.csv", "hubspot", stage_map=stage_map())
    summary = run_import(services, deals)
    assert (summary.imported, summary.lost) == (4, 1)
    stored = deals_by_crm_id(services)
    acme = stored["8012345001"]
    assert (acme.owner_id, acme.channel_id, acme.stage_key, acme.value_cents) == (
        "U0123ABCD",
        "C0123SALES",
        "proposal-received",
        50_000_00,
    )
    assert [(kind, when, to) for kind, when, _, to, _ in history(services, "8012345001")] == [
        ("created", at("2026-03-02T09:15:00+00:00"), "meeting-booked"),  # plain HubSpot times are UTC
        ("approved", at("2026-03-09T14:30:00+00:00"), "needs-confirmed"),
        ("approved", at("2026-03-20T10:00:00+00:00"), "product-evaluated"),
        ("approved", at("2026-04-02T16:00:00+00:00"), "proposal-received"),
    ]
    globex = stored["8012345002"]
    assert (globex.status, globex.stage_key, globex.lost_reason) == (
        "lost",
        "needs-confirmed",
        "Went with a competitor",
    )
    assert history(services, "8012345002")[-1][:2] == ("lost", at("2026-04-28T17:45:00+00:00"))
    assert stored["8012345003"].stage_key == "contract-signed"  # Closed Won is our won stage
    assert stored["8012345004"].stage_key == "meeting-booked"
    assert differences(services) == []


def test_pipedrive_example_moves_each_deal_once_at_its_last_stage_change(services: Services) -> None:
    deals = example_deals("pipedrive-deals.csv", "pipedrive", stage_map=stage_map())
    run_import(services, deals)
    stored = deals_by_crm_id(services)
    assert [(kind, when, to) for kind, when, _, to, _ in history(services, "101")] == [
        ("created", at("2026-03-02T09:15:00+00:00"), "meeting-booked"),
        ("approved", at("2026-03-20T10:00:00+00:00"), "product-evaluated"),
    ]
    assert (stored["102"].status, stored["102"].stage_key) == ("lost", "needs-confirmed")
    assert [(kind, to) for kind, _, _, to, _ in history(services, "103")] == [
        ("created", "meeting-booked"),
        ("approved", "proposal-received"),
        ("approved", "contract-signed"),  # won: on to our won stage at the won time
    ]
    assert stored["103"].stage_entered_at == at("2026-03-01T12:00:00+00:00")
    assert stored["104"].stage_key == "meeting-booked" and len(history(services, "104")) == 1
    assert differences(services) == []


def test_unknown_labels_and_owners_name_the_map_file(tmp_path: Path) -> None:
    text = (EXAMPLES / "hubspot-deals.csv").read_text()
    text = text.replace("Contract Sent,Jane Doe", "Verbal Yes,Nobody Known")
    path = write(tmp_path, text, "hubspot.csv")
    with pytest.raises(ImportRefused) as refused:
        read_deals(path, file_format="hubspot", pipeline=PIPELINE, now=NOW, stage_map=stage_map())
    map_name = str(EXAMPLES / "stage-map.yaml")
    assert refused.value.problems == (
        f"line 2: 'Deal Stage': the stage 'Verbal Yes' is not in {map_name}: add it under `stages:`",
        f"line 2: 'Deal owner': the owner 'Nobody Known' is not in {map_name}: add it under `owners:` "
        "or set `default_owner:`",
    )


def test_a_stage_map_is_checked(tmp_path: Path) -> None:
    assert stage_map().stage_for("closed won (Sales Pipeline)") == "contract-signed"
    with pytest.raises(StageMapError, match="not valid YAML"):
        parse_stage_map("stages: [unclosed", name="map.yaml", stage_keys=PIPELINE.keys)
    with pytest.raises(StageMapError) as invalid:
        parse_stage_map(
            "stages:\n  Demo: demo-done\n  Won: contract-signed\nowners:\n  Jane: jane@example.com\n"
            "channel: general\ncolour: blue\n",
            name="map.yaml",
            stage_keys=PIPELINE.keys,
        )
    text = str(invalid.value)
    assert "stages: 'Demo' maps to 'demo-done', which is not one of our stages (meeting-booked" in text
    assert "owners: 'Jane' maps to 'jane@example.com', which is not a Slack member id" in text
    assert "channel: 'general' is not a Slack id like C0123ABCD" in text
    assert "unknown field 'colour'" in text


# ------------------------------------------------------------------ after the import, in Slack


def imported(bot: RunningBot, *deals: tuple[str, str, tuple[tuple[str, str], ...]]) -> None:
    records = [
        ImportedDeal(
            line=number + 2,
            crm_id=crm_id,
            name=name,
            company=None,
            value_cents=None,
            owner_id=REP,
            channel_id=CHANNEL,
            created_at=at(entries[0][1]),
            lost_at=None,
            lost_reason=None,
            entries=tuple((key, at(when)) for key, when in entries),
        )
        for number, (crm_id, name, entries) in enumerate(deals)
    ]
    import_deals(bot.services, team_id=TEAM, deals=records, source="CSV deals.csv", dry_run=False)


def test_an_imported_deal_gets_its_card_when_first_moved(bot: RunningBot) -> None:
    imported(
        bot,
        ("H1", "Imported Acme", (("meeting-booked", "2026-03-02T00:00:00+00:00"),)),
        (
            "H2",
            "Imported Globex",
            (("meeting-booked", "2026-03-02T00:00:00+00:00"), ("product-evaluated", "2026-03-09T00:00:00+00:00")),
        ),
    )
    assert bot.slack.messages == []  # the import posted nothing

    request_move(bot, "deal-1 evidence:<https://mail.example.com/m/1|Buyer's reply>")
    move = move_row(bot)
    card = bot.slack.wait_for(lambda: [m for m in bot.slack.messages if "Imported Acme" in m["text"]])[0]
    assert card["channel"] == CHANNEL and card.get("thread_ts") is None
    posted = bot.slack.message(CHANNEL, ts(move.message_ts))
    assert posted is not None and posted["thread_ts"] == card["ts"]

    back = bot.command("/advance", "deal-2 to:needs-confirmed note:The buyer's budget owner changed")
    assert back.status == 200 and "back" in shown(back)
    card2 = bot.slack.wait_for(lambda: [m for m in bot.slack.messages if "Imported Globex" in m["text"]])[0]
    reply = bot.slack.wait_for(lambda: bot.slack.thread(CHANNEL, card2["ts"]))
    assert "moved" in reply[0]["text"] and "budget owner changed" in reply[0]["text"]
    with bot.services.sessions() as session:
        cards = session.execute(select(col(Announcement.deal_id)).where(col(Announcement.kind) == "card")).all()
    assert len(cards) == 2  # one card each, not one per move


def test_an_imported_deal_marked_lost_first_gets_its_card_and_the_loss_in_its_thread(bot: RunningBot) -> None:
    imported(bot, ("H9", "Imported Initech", (("meeting-booked", "2026-03-02T00:00:00+00:00"),)))
    lost = bot.command("/deal", "lost deal-1 reason:Chose a competitor")
    assert lost.status == 200
    card = bot.slack.wait_for(lambda: [m for m in bot.slack.messages if "Imported Initech" in m["text"]])[0]
    reply = bot.slack.wait_for(lambda: bot.slack.thread(CHANNEL, card["ts"]))
    assert "Chose a competitor" in reply[0]["text"]


def test_history_names_the_import_not_a_user(services: Services, clock: Clock) -> None:
    run_import(services, example_deals(default_channel="C0999OTHER"))
    message = deal_detail(ENGLISH, show_deal(services, Actor(TEAM, REP), number=1))
    text = all_text({"text": message.text, "blocks": [block.to_dict() for block in message.blocks]})
    assert "the import created it at Meeting booked" in text and "the import approved the move" in text
    assert "Imported from CSV deals.csv" in text
    assert "<@import>" not in text


# ------------------------------------------------------------------ the command line


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("PIPELINE_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cli_imports_each_format_once(cli: Path, services: Services, capsys: pytest.CaptureFixture[str]) -> None:
    ours = ["import", str(EXAMPLES / "deals.csv"), "--team", TEAM, "--channel", "C0999OTHER"]
    assert main(ours) == 0
    out = capsys.readouterr().out
    assert "CSV deals.csv into T1: 6 deals imported, 0 skipped as already imported." in out
    assert "Numbered deal-1 to deal-6." in out and "Events written: 19. Lost: 1." in out
    assert "Open by stage: Meeting booked 1, Needs confirmed 1, Product evaluated 2, Live 1." in out
    for file_format in ("hubspot", "pipedrive"):
        command = ["import", str(EXAMPLES / f"{file_format}-deals.csv"), "--team", TEAM, "--format", file_format]
        assert main([*command, "--stage-map", str(EXAMPLES / "stage-map.yaml")]) == 0
    before = counts(services)
    assert main(ours) == 0
    assert "0 deals imported, 6 skipped as already imported" in capsys.readouterr().out
    assert counts(services) == before
    assert counts(services)["Deal"] == 14
    with services.sessions() as session:
        notes = session.execute(select(col(DealEvent.note)).where(col(DealEvent.kind) == "created")).scalars().all()
    assert {
        "Imported from HubSpot export hubspot-deals.csv",
        "Imported from Pipedrive export pipedrive-deals.csv",
    } <= set(notes)


def test_cli_refuses_a_bad_file_with_exit_1_and_writes_nothing(
    cli: Path, services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    path = our_file(
        cli,
        "B1,Good,,100,U0123ABCD,C0123SALES,2026-03-02,,,,,,,,,",
        "B2,Bad,,100,U0123ABCD,C0123SALES,yesterday,,,,,,,,,",
        "B3,Bad too,,100,U0123ABCD,,2026-03-02,,,,,,,,,",
    )
    before = counts(services)
    assert main(["import", str(path), "--team", TEAM]) == 1
    err = capsys.readouterr().err
    assert "python -m commands import: deals.csv: refused, nothing was imported (2 problems):" in err
    assert "line 3: 'created' is 'yesterday', not a date" in err
    assert "line 4: no channel: add a channel column or --channel C…" in err
    assert counts(services) == before

    assert main(["import", str(path), "--team", TEAM, "--dry-run", "--channel", "C0123SALES"]) == 1
    assert main(["import", str(our_file(cli, "B1,Good,,100,U0123ABCD,,2026-03-02,,,,,,,,,")), "--team", TEAM,
                 "--dry-run", "--channel", "C0123SALES"]) == 0  # fmt: skip
    assert "1 deal would be imported" in capsys.readouterr().out
    assert counts(services) == before


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["import", "missing.csv", "--team", TEAM], "missing.csv: no such file (the file to import)"),
        (["import", "{deals}", "--team", "t-1"], "--team 't-1' is not a Slack workspace id"),
        (["import", "{deals}", "--team", TEAM, "--channel", "#sales"], "--channel '#sales' is not a Slack channel id"),
        (["import", "{deals}", "--team", TEAM, "--format", "hubspot"], "--format hubspot needs --stage-map FILE"),
        (
            ["import", "{deals}", "--team", TEAM, "--format", "pipedrive", "--stage-map", "nope.yaml"],
            "nope.yaml: no such file (the stage map)",
        ),
        (["check", "--team", "T9"], "There is no workspace T9 in the database"),
    ],
)
def test_cli_bad_arguments_exit_2(
    cli: Path, services: Services, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    run_import(services, example_deals(default_channel="C0999OTHER"))
    arguments = [argument.replace("{deals}", str(EXAMPLES / "deals.csv")) for argument in arguments]
    assert main(arguments) == 2
    assert message in capsys.readouterr().err


def test_cli_bad_format_is_an_argument_error(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["import", str(EXAMPLES / "deals.csv"), "--team", TEAM, "--format", "salesforce"])
    assert exited.value.code == 2
    assert "invalid choice: 'salesforce'" in capsys.readouterr().err


def test_cli_invalid_stage_map_exits_1(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = write(cli, "stages:\n  Closed Won: [contract-signed\n", "map.yaml")
    command = ["import", str(EXAMPLES / "hubspot-deals.csv"), "--team", TEAM, "--format", "hubspot"]
    assert main([*command, "--stage-map", str(broken)]) == 1
    assert "map.yaml: not valid YAML" in capsys.readouterr().err


def test_cli_prints_progress_on_large_files(
    cli: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("commands.crm.import_deals.BATCH_DEALS", 2)
    monkeypatch.setattr("commands.crm.import_deals.PROGRESS_EVERY", 4)
    rows = [f"P{n},Deal {n},,100,U0123ABCD,C0123SALES,2026-03-02,,,2026-03-02,2026-03-03,,,,," for n in range(9)]
    assert main(["import", str(our_file(cli, *rows)), "--team", TEAM]) == 0
    err = capsys.readouterr().err
    assert "read 9 deals from deals.csv" in err
    assert "imported 4 of 9 deals" in err and "imported 8 of 9 deals" in err


def test_import_counts_only_rows_of_this_workspace(services: Services) -> None:
    deals = example_deals(default_channel="C0999OTHER")
    import_deals(services, team_id="T2", deals=deals, source="CSV deals.csv", dry_run=False)
    summary = run_import(services, deals)
    assert (summary.imported, summary.first_number) == (6, 1)  # the same CRM ids are new in another workspace


def test_imported_values_are_counted_in_the_workspaces_currency(services: Services) -> None:
    from commands.workspace.settings import SetCurrency, set_currency

    set_currency(services, Actor(TEAM, "U_MGR"), SetCurrency("SEK"))
    run_import(services, example_deals(default_channel="C0999OTHER"))
    with services.sessions() as session:
        rows = session.execute(
            select(col(Deal.value_cents), col(Deal.value_currency)).where(col(Deal.team_id) == TEAM)
        ).all()
    assert rows and all(currency == ("SEK" if cents is not None else None) for cents, currency in rows)
