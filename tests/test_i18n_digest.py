"""The digest in its reader's language: the Slack message, the chart, the command line's text, and the digest
posted to a channel in the workspace's language."""

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text as FigureText

import bot.chart
from bot.app_factory import make_client
from bot.chart import render_chart
from bot.digest_blocks import digest_message, quiet_line
from bot.digest_post import own_digest_message, post_digest
from commands.__main__ import main
from commands.deals.deal import NewDeal, create_deal
from commands.deals.evidence import Evidence
from commands.digest.compute import period_ending
from commands.digest.report import (
    DealLine,
    Digest,
    Forecast,
    ForecastChange,
    ForecastReason,
    Listing,
    LostReason,
    MoveLine,
    NotableMove,
    OwnerStalls,
    PendingLine,
    RateFactor,
    SnoozeNote,
    StageForecast,
    Stalled,
    StalledLine,
    Transition,
)
from commands.digest.text import digest_text
from commands.i18n.catalogs import bundled_translators
from commands.i18n.languages import Language
from commands.i18n.translator import Translator
from commands.services import Actor, Services
from commands.workspace.settings import SetCurrency, SetLanguage, set_currency, set_language
from tests.conftest import MANAGER, REP, Clock
from tests.fakes.slack_api import FakeSlack, block_problems
from tests.test_chart import NOV_16, NOV_23, digest

TRANSLATORS = bundled_translators()
BLOCK_LIMIT = 50


def t_(language: Language) -> Translator:
    return TRANSLATORS[language]


def small() -> Digest:
    """A known small pipeline in euros: 1,234.50 in the first stage, 21% of it moving on, 25 deals in the second."""
    return replace(
        digest(
            [("Meeting booked", 3, 1_234_50), ("Proposal", 25, 90_000_00), ("Closed won", 1, 5_000_00)],
            rates=[(100, 21), (10, 5), (0, 0)],
            worst=0,
        ),
        currency="EUR",
    )


def busy() -> Digest:
    """Every section full, with long names: the largest message the digest writes."""
    base = digest(
        [(f"Stage {index} " + "with a rather long name " * 3, 40 + index, 123_456_78) for index in range(12)],
        rates=[(30, 20 - index) for index in range(12)],
        worst=3,
    )
    stages = [total.stage for total in base.by_stage]
    name = "Renewal for a customer with a very long company name " * 2
    move = MoveLine(
        7, name, stages[0], stages[2], REP, MANAGER, NOV_23, (Evidence("https://mail.example.com/a"),), "why", (), 9_00
    )
    stalled_line = StalledLine(
        8, name, REP, stages[1], NOV_16, 40, 14, 1_000_00, SnoozeNote(NOV_23 + timedelta(days=5), MANAGER, "budget")
    )
    ten = 10
    forecast_stages = tuple(
        StageForecast(s, 5, 5_000_00, 0.2, 5, (RateFactor(s, 0.5, 5), RateFactor(s, 0.4, 5)), 1.0, 1_000_00)
        for s in stages[:-1]
    )
    reasons = tuple(ForecastReason(reason, 3, 0.4, 10_000_00) for reason in ("new", "won", "lost", "moved", "rates"))
    return replace(
        base,
        currency="SEK",
        transitions=tuple(Transition(stages[i], stages[i + 1], "forward", 3) for i in range(11))
        + (Transition(stages[0], stages[3], "skip", 1), Transition(stages[4], stages[1], "back", 2)),
        notable_moves=(NotableMove(move, ("largest", "skip")), NotableMove(replace(move, reason="x"), ("back",))),
        lost_reasons=Listing(tuple(LostReason(f"reason {i} " * 10, 2, 3_00) for i in range(ten)), 14),
        approved=Listing((move,) * ten, 40),
        rejected=Listing((move,) * ten, 25),
        new_deals=Listing(tuple(DealLine(9, name, REP, stages[0], 1_00, NOV_16, None) for _ in range(ten)), 50),
        pending=Listing(tuple(PendingLine(9, name, stages[2], REP, NOV_16, "C1", "1.2", None) for _ in range(ten)), 12),
        stalled=Stalled(
            Listing((stalled_line,) * ten, 30),
            Listing((stalled_line,) * ten, 11),
            Listing(tuple(OwnerStalls(f"U{i}", 5, 2, stalled_line) for i in range(ten)), 13),
        ),
        forecast=Forecast(
            12.34, 56_789_00, 8, 16, 30, 3.2, 9_000_00, 60, 100, forecast_stages, ForecastChange(1.2, 5_000_00, reasons)
        ),
    )


def blocks_of(t: Translator, shown: Digest) -> tuple[str, str]:
    message = digest_message(t, shown)
    blocks = [block.to_dict() for block in message.blocks]
    assert block_problems(blocks, limit=BLOCK_LIMIT) == [], t
    return message.text, json.dumps(blocks, ensure_ascii=False)


def test_the_slack_digest_in_spanish_has_its_words_and_numbers() -> None:
    text, blocks = blocks_of(t_(Language.ES), small())
    assert text.startswith("Resumen del pipeline, 16–23 nov 2026 (Europe/Paris): ")
    assert "28 oportunidades abiertas por 91.234,50\u00a0€ en el pipeline" in text
    assert "ganadas: 2, perdidas: 1" in text
    assert "Meeting booked: 3 oportunidades · 1.234,50\u00a0€" in blocks
    assert "*Pipeline (oportunidades abiertas antes de ganarse)*: 28 oportunidades · 91.234,50\u00a0€" in blocks
    assert "Ganadas en el periodo: 2 · 12.500\u00a0€" in blocks
    assert "*Conversión por etapa*" in blocks and "*21\u00a0%* avanzan" in blocks
    assert "pipeline" in blocks and "Pipeline digest" not in blocks


def test_the_slack_digest_in_swedish_writes_shares_and_money_the_swedish_way() -> None:
    text, blocks = blocks_of(t_(Language.SV), small())
    assert text.startswith("Sammanfattning av pipelinen, 16–23 nov. 2026 (Europe/Paris): ")
    assert "*21\u00a0%* går vidare" in blocks
    assert "Meeting booked: 3 affärer · 1\u00a0234,50\u00a0€" in blocks
    assert "*Konvertering per steg*" in blocks


def test_the_slack_digest_in_romanian_uses_its_three_plural_forms() -> None:
    text, blocks = blocks_of(t_(Language.RO), small())
    assert text.startswith("Rezumatul pipeline-ului, ")
    assert "Proposal: 25 de tranzacții · 90.000\u00a0EUR" in blocks
    assert "Meeting booked: 3 tranzacții · 1.234,50" in blocks
    assert "Closed won (câștigată): 1 tranzacție" in blocks


def test_english_stays_as_it_was() -> None:
    text, blocks = blocks_of(t_(Language.EN), small())
    assert text.startswith("Pipeline digest, 16–23 Nov 2026 (Europe/Paris): ")
    assert "Meeting booked: 3 deals · €1,234.50" in blocks and "*21%* move on" in blocks


@pytest.mark.parametrize("language", list(Language))
def test_the_busiest_digest_fits_block_kit_in_every_language(language: Language) -> None:
    t = t_(language)
    text, blocks = blocks_of(t, busy())
    assert len(text) < 4000
    if language is not Language.EN:
        assert "Pipeline digest" not in text and "Worth a look" not in blocks and "Stalled" not in blocks


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (Language.ES, ["*Merecen un vistazo*", "se saltó una etapa", "*Estancadas* (", "pospuesta hasta el 28 nov"]),
        (Language.SV, ["*Värda en titt*", "hoppade över ett steg", "*Står still* (", "pausad till 28 nov."]),
        (Language.RO, ["*Merită o privire*", "a sărit o etapă", "*Blocate* (", "amânată până pe 28 nov."]),
    ],
)
def test_every_section_of_the_busy_digest_is_translated(language: Language, words: list[str]) -> None:
    _, blocks = blocks_of(t_(language), busy())
    for word in words:
        assert word in blocks, word


@pytest.mark.parametrize("language", list(Language))
def test_the_quiet_line_is_in_the_readers_language(language: Language) -> None:
    line = quiet_line(t_(language), small())
    expected = {
        Language.EN: "a quiet period",
        Language.ES: "un periodo tranquilo",
        Language.SV: "en lugn period",
        Language.RO: "o perioadă liniștită",
    }
    assert expected[language] in line


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Figure]]:
    """Every figure `render_chart` draws, to read its text."""
    made: list[Figure] = []

    class Recorded(Figure):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(bot.chart, "Figure", Recorded)
    yield made


def texts(figure: Figure) -> str:
    return "\n".join(item.get_text() for item in figure.findobj(FigureText))


@pytest.mark.parametrize(
    ("language", "legend", "words"),
    [
        (
            Language.EN,
            ["Open deals", "Won stage", "Lowest conversion"],
            ["Customers: 1 deal · €5,000", "→ 21%  lowest", "Won this period: 2 deals"],
        ),
        (
            Language.ES,
            ["Oportunidades abiertas", "Etapa ganada", "Menor conversión"],
            ["Clientes: 1 oportunidad · 5.000\u00a0€", "→ 21\u00a0%  la más baja", "Ganadas en el periodo"],
        ),
        (
            Language.SV,
            ["Öppna affärer", "Vunnet steg", "Lägst konvertering"],
            ["Kunder: 1 affär · 5\u00a0000\u00a0€", "→ 21\u00a0%  lägst", "Vunna under perioden"],
        ),
        (
            Language.RO,
            ["Tranzacții deschise", "Etapa câștigată", "Cea mai slabă conversie"],
            ["Clienți: 1 tranzacție · 5.000\u00a0EUR", "25 de tranzacții", "→ 21\u00a0%  cea mai slabă"],
        ),
    ],
)
def test_the_chart_is_drawn_in_every_language(
    figures: list[Figure], language: Language, legend: list[str], words: list[str]
) -> None:
    png = render_chart(t_(language), small())
    assert png.startswith(b"\x89PNG")
    [figure] = figures
    assert [text.get_text() for text in figure.legends[0].get_texts()] == legend
    written = texts(figure)
    for word in words:
        assert word in written, (word, written)


@pytest.mark.parametrize("language", list(Language))
def test_the_empty_chart_and_the_busy_chart_draw_in_every_language(figures: list[Figure], language: Language) -> None:
    empty = replace(
        small(), pipeline=replace(small().pipeline, stages=()), customers=replace(small().customers, stages=())
    )
    for shown in (empty, busy()):
        assert render_chart(t_(language), shown).startswith(b"\x89PNG")
    if language is Language.ES:
        assert "No hay oportunidades abiertas" in texts(figures[0])


@pytest.mark.parametrize("language", list(Language))
def test_the_text_digest_is_in_every_language(language: Language) -> None:
    text = digest_text(t_(language), busy())
    expected = {
        Language.EN: "Stage conversion: deals that entered",
        Language.ES: "Conversión por etapa: oportunidades que entraron",
        Language.SV: "Konvertering per steg: affärer som kom in",
        Language.RO: "Conversia pe etape: tranzacțiile intrate",
    }
    assert expected[language] in text


@pytest.fixture
def cli_database(services: Services, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("PIPELINE_FILE", raising=False)
    monkeypatch.chdir(str(tmp_path))
    create_deal(services, Actor("T1", REP), channel_id="C1", command=NewDeal("Acme", 5_000_00, "Acme", ()))
    return database_url


def test_the_command_line_digest_in_swedish(cli_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--team", "T1", "--language", "sv"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Sammanfattning av pipelinen, ")
    assert "Möte bokat: 1 affär (+0), 5\u00a0000 (+0)" in text
    assert "Prognos:" in text and "Forecast" not in text


def test_the_command_line_digest_defaults_to_the_workspaces_language_and_json_stays_english(
    cli_database: str, services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest", "--team", "T1", "--as-of", "2026-11-23", "--json"]) == 0
    english_json = capsys.readouterr().out
    set_language(services, Actor("T1", MANAGER), SetLanguage("es"))
    set_currency(services, Actor("T1", MANAGER), SetCurrency("EUR"))
    assert main(["digest", "--team", "T1"]) == 0
    text = capsys.readouterr().out
    assert (
        text.startswith("Resumen del pipeline, ")
        and "Reunión concertada: 1 oportunidad (+0), 5.000\u00a0€ (+0\u00a0€)" in text
    )
    assert main(["digest", "--team", "T1", "--language", "en"]) == 0
    assert capsys.readouterr().out.startswith("Pipeline digest, ")
    assert main(["digest", "--team", "T1", "--as-of", "2026-11-23", "--language", "sv", "--json"]) == 0
    assert capsys.readouterr().out == english_json


def test_a_bad_language_is_refused(cli_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["digest", "--team", "T1", "--language", "fr"])
    assert "--language" in capsys.readouterr().err


def test_a_digest_posted_to_a_channel_is_in_the_workspaces_language(
    services: Services, clock: Clock, slack: FakeSlack
) -> None:
    manager = Actor("T1", MANAGER)
    set_language(services, manager, SetLanguage("es"))
    set_currency(services, manager, SetCurrency("EUR"))
    create_deal(services, Actor("T1", REP), channel_id="C1", command=NewDeal("Acme", 1_234_50, None, ()))
    client = make_client(token="xoxb-test", base_url=slack.base_url)
    clock.advance(hours=1)

    post_digest(services, client, team_id="T1", channel_id="C_SALES", period=period_ending(services.clock()))

    [post] = slack.messages
    assert post["text"].startswith("Resumen del pipeline, ")
    blocks = json.dumps(post["blocks"], ensure_ascii=False)
    assert "Reunión concertada: 1 oportunidad (+1) · 1.234,50\u00a0€ (+1.234,50\u00a0€)" in blocks
    assert "*Previsión*" in blocks
    assert block_problems(post["blocks"], limit=BLOCK_LIMIT) == []
    [chart] = slack.files
    assert chart["title"].startswith("Pipeline, ") and chart["data"].startswith(b"\x89PNG")


def test_the_own_digest_is_in_the_language_it_is_given(services: Services, clock: Clock) -> None:
    set_currency(services, Actor("T1", MANAGER), SetCurrency("SEK"))
    create_deal(services, Actor("T1", REP), channel_id="C1", command=NewDeal("Acme", 1_000_00, None, ()))
    clock.advance(hours=1)
    period = period_ending(services.clock())
    message = own_digest_message(t_(Language.SV), services, team_id="T1", owner_id=REP, period=period)
    blocks = json.dumps([block.to_dict() for block in message.blocks], ensure_ascii=False)
    assert "Din sammanfattning av pipelinen" in blocks and f"Bara <@{REP}>s affärer" in blocks
    assert "1\u00a0000\u00a0kr" in blocks
