"""`/pipeline lint` in every language: the findings' sentences in the reader's words, the pipeline's own words
(criteria, names, keys, the English rewrites it suggests) quoted unchanged, within Block Kit's limits; and the
English (Slack and `salesbot lint`) as before."""

from typing import Any

import pytest

from bot import blocks
from bot.mrkdwn import MESSAGE_BLOCK_LIMIT
from commands.i18n.catalogs import bundled_translators
from commands.i18n.languages import Language
from commands.i18n.translator import ENGLISH, Translator
from commands.pipeline.lint import Finding, lint_pipeline
from commands.pipeline.loading import parse_pipeline
from tests.fakes.slack_api import block_problems
from tests.test_lint_slack import many_findings

TRANSLATORS = bundled_translators()
TRANSLATED = [Language.ES, Language.SV, Language.RO]

#: Every kind of finding: a seller's name, a name not done, an opinion, a criterion said twice in a stage and
#: one repeated from an earlier stage, a seller's criterion, a prompt naming nothing, a stage asking nothing
#: new, and Spanish texts left out or short of criteria.
FLAWED = """\
stages:
  - key: demo
    name: {en: Demo, es: Demo}
    exit_criteria:
      en: [Buyer is interested <!channel> & co, Buyer signed the NDA, The buyer signed the NDA]
      es: [El comprador está interesado]
    evidence_prompt: {en: Tell me how it went.}
  - key: proposal
    name: {en: Proposal}
    exit_criteria:
      en: [We sent the proposal, The customer is interested <!channel> & co]
    evidence_prompt: {en: Show me the buyer's email., es: Muéstrame el correo del comprador.}
  - key: nda-signed
    name: {en: NDA signed, es: NDA firmado}
    exit_criteria: {en: [Buyer signed the NDA]}
    evidence_prompt: {en: Show me the signed NDA., es: Muéstrame el NDA firmado.}
    won: true
"""

#: A pipeline written in Swedish with English texts: the English rules' findings name a field "in en".
SWEDISH_SOURCE = """\
language: sv
stages:
  - key: demo
    name: {sv: Demo genomförd, en: Demo}
    exit_criteria: {sv: [Köparen deltog i demon], en: [Buyer attended the demo]}
    evidence_prompt: {sv: Visa mig köparens mejl., en: Show me the buyer's email.}
  - key: contract-signed
    name: {sv: Avtal signerat, en: Contract signed}
    exit_criteria: {sv: [Köparen signerade avtalet], en: [Buyer signed the contract, We emailed the recap]}
    evidence_prompt: {sv: Visa mig det signerade avtalet., en: Show me the signed contract.}
    won: true
"""


def lines_of(t: Translator, text: str) -> list[str]:
    """The finding lines of `/pipeline lint` on the pipeline in `text`, as `t`'s reader reads them."""
    pipeline = parse_pipeline(text)
    message = blocks.lint_report(t, lint_pipeline(pipeline), pipeline)
    sections = [block.to_dict()["text"]["text"] for block in message.blocks if block.type == "section"]
    return [line.removeprefix("• ") for line in "\n".join(sections).split("\n• ")]


def line_of(lines: list[str], start: str) -> str:
    found = [line for line in lines if line.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


def test_the_english_lines_are_as_before() -> None:
    lines = lines_of(ENGLISH, FLAWED)

    assert line_of(lines, "*stage 'demo', name*") == (
        "*stage 'demo', name* (buyer-centric): 'Demo' names what the seller does, not what the buyer has done.\n"
        "    → Rename it 'Product evaluated'."
    )
    assert line_of(lines, "*stage 'demo', exit criterion 1*") == (
        "*stage 'demo', exit criterion 1* (factual): 'Buyer is interested &lt;!channel&gt; &amp; co' is an opinion "
        "('interested'), not something the buyer did.\n"
        "    → Write the buyer action that shows it, e.g. 'Buyer booked the next meeting'."
    )
    assert line_of(lines, "*stage 'proposal', exit_criteria in es*") == (
        "*stage 'proposal', exit_criteria in es* (complete): no exit criteria in Spanish (es), though the pipeline "
        "has texts in it: a user reading Spanish (es) sees the English (en) one.\n"
        "    → Add 'es:' under 'exit_criteria', with the 2 criteria of English (en) in the same order."
    )


def test_a_finding_keeps_its_english_for_the_command_line() -> None:
    finding = next(f for f in lint_pipeline(parse_pipeline(FLAWED)) if f.field == "exit_criteria in es")

    assert finding.where == "stage 'demo', exit_criteria in es"
    assert finding.problem == "1 exit criteria in Spanish (es) but 3 in English (en)."
    assert finding.text() == (
        "stage 'demo', exit_criteria in es: 1 exit criteria in Spanish (es) but 3 in English (en). [complete]\n"
        "  Suggestion: Translate each English (en) criterion once, in the same order."
    )
    assert TRANSLATORS[Language.ES].show(finding.problem_text) == (
        "1 criterio de salida en español (es), pero 3 en inglés (en)."
    ), "the same finding, shown later to a Spanish reader"


def test_spanish_findings_quote_the_pipeline_unchanged() -> None:
    lines = lines_of(TRANSLATORS[Language.ES], FLAWED)

    assert line_of(lines, "*etapa 'demo', nombre*") == (
        "*etapa 'demo', nombre* (centrada en el comprador): 'Demo' nombra lo que hace el vendedor, no lo que ha "
        "hecho el comprador.\n    → Cámbiale el nombre a 'Product evaluated'."
    )
    assert line_of(lines, "*etapa 'demo', criterio de salida 1*") == (
        "*etapa 'demo', criterio de salida 1* (factual): 'Buyer is interested &lt;!channel&gt; &amp; co' es una "
        "opinión ('interested'), no algo que haya hecho el comprador.\n"
        "    → Escribe la acción del comprador que lo demuestra, p. ej. 'Buyer booked the next meeting'."
    )
    assert line_of(lines, "*etapa 'demo', criterio de salida 3*") == (
        "*etapa 'demo', criterio de salida 3* (necesaria): 'The buyer signed the NDA' repite el criterio de salida 2."
        "\n    → Quítalo o cámbialo por otra acción que el comprador deba haber hecho."
    )
    assert line_of(lines, "*etapa 'proposal', criterio de salida 1*") == (
        "*etapa 'proposal', criterio de salida 1* (centrada en el comprador): 'We sent the proposal' es lo que hace "
        "el vendedor, no lo que hizo el comprador.\n    → Escribe lo que hizo el comprador, p. ej. 'Buyer received "
        "the proposal and acknowledged it in writing'."
    )
    assert line_of(lines, "*etapa 'demo', petición de pruebas en es*") == (
        "*etapa 'demo', petición de pruebas en es* (completa): no hay petición de pruebas en español (es), aunque "
        "el pipeline tiene textos en ese idioma: quien lea en español (es) verá la petición en inglés (en).\n"
        "    → Añade 'es: …' bajo 'evidence_prompt', junto a 'en: Tell me how it went.'."
    )
    assert line_of(lines, "*etapa 'nda-signed', criterios de salida*") == (
        "*etapa 'nda-signed', criterios de salida* (necesaria): todos los criterios de salida repiten los de la "
        "etapa 'demo', así que llegar a 'NDA signed' no le pide nada nuevo al comprador.\n"
        "    → Fusiónala con 'demo' o indica la acción del comprador que la distingue, p. ej. 'Buyer signed the nda'."
    )


def test_swedish_findings() -> None:
    lines = lines_of(TRANSLATORS[Language.SV], FLAWED)

    assert line_of(lines, "*steg 'proposal', namn*") == (
        "*steg 'proposal', namn* (köparcentrerat): 'Proposal' säger inte vad köparen har gjort (inget verb i "
        "dåtid).\n    → Byt namn till 'Proposal received'."
    )
    assert line_of(lines, "*steg 'proposal', utgångskriterium 2* (nödvändigt)") == (
        "*steg 'proposal', utgångskriterium 2* (nödvändigt): 'The customer is interested &lt;!channel&gt; &amp; co' "
        "upprepar utgångskriterium 1 i steget 'demo', som köparen redan gjorde för att komma dit.\n"
        "    → Ta bort det, eller byt det mot vad köparen gjorde efter 'Demo'."
    )
    assert line_of(lines, "*steg 'demo', bevisfråga*") == (
        "*steg 'demo', bevisfråga* (granskningsbart): 'Tell me how it went.' nämner inget som en säljchef kan "
        "öppna (ett mejl, en inbjudan, ett dokument ...).\n    → Nämn dokumentet eller meddelandet, t.ex. 'Show me "
        "the buyer's email confirming that the buyer signed the NDA.'"
    )
    assert line_of(lines, "*steg 'demo', utgångskriterier på es*") == (
        "*steg 'demo', utgångskriterier på es* (komplett): 1 utgångskriterium på spanska (es) men 3 på engelska "
        "(en).\n    → Översätt varje kriterium på engelska (en) en gång, i samma ordning."
    )


def test_romanian_findings_and_their_plural_forms() -> None:
    lines = lines_of(TRANSLATORS[Language.RO], FLAWED)

    assert line_of(lines, "*etapa 'proposal', nume în es*") == (
        "*etapa 'proposal', nume în es* (completă): nu există nume în spaniolă (es), deși pipeline-ul are texte în "
        "această limbă: cine citește în spaniolă (es) vede numele în engleză (en).\n"
        "    → Adaugă 'es: …' sub 'name', lângă 'en: Proposal'."
    )
    assert line_of(lines, "*etapa 'nda-signed', criterii de ieșire în es*").endswith(
        "→ Adaugă 'es:' sub 'exit_criteria', cu 1 criteriu din engleză (en), în aceeași ordine."
    )
    assert line_of(lines, "*etapa 'proposal', criterii de ieșire în es*").endswith(
        "→ Adaugă 'es:' sub 'exit_criteria', cu cele 2 criterii din engleză (en), în aceeași ordine."
    )
    twenty = FLAWED.replace(
        "en: [We sent the proposal, The customer is interested <!channel> & co]",
        "en: [" + ", ".join(f"Buyer signed form {number}" for number in range(1, 21)) + "]",
    )
    assert line_of(lines_of(TRANSLATORS[Language.RO], twenty), "*etapa 'proposal', criterii de ieșire în es*").endswith(
        "→ Adaugă 'es:' sub 'exit_criteria', cu cele 20 de criterii din engleză (en), în aceeași ordine."
    )


@pytest.mark.parametrize(
    ("language", "places"),
    [
        (
            Language.EN,
            [
                "*stage 'demo', name in en* (buyer-centric)",
                "*stage 'contract-signed', exit criterion 2 in en* (buyer-centric)",
                "*stage 'contract-signed', exit_criteria in en* (complete)",
            ],
        ),
        (
            Language.ES,
            [
                "*etapa 'demo', nombre en en* (centrada en el comprador)",
                "*etapa 'contract-signed', criterio de salida 2 en en* (centrada en el comprador)",
                "*etapa 'contract-signed', criterios de salida en en* (completa)",
            ],
        ),
        (
            Language.SV,
            [
                "*steg 'demo', namn på en* (köparcentrerat)",
                "*steg 'contract-signed', utgångskriterium 2 på en* (köparcentrerat)",
                "*steg 'contract-signed', utgångskriterier på en* (komplett)",
            ],
        ),
        (
            Language.RO,
            [
                "*etapa 'demo', nume în en* (centrată pe cumpărător)",
                "*etapa 'contract-signed', criteriul de ieșire 2 în en* (centrată pe cumpărător)",
                "*etapa 'contract-signed', criterii de ieșire în en* (completă)",
            ],
        ),
    ],
)
def test_the_english_rules_name_a_field_in_english_in_every_language(language: Language, places: list[str]) -> None:
    lines = lines_of(TRANSLATORS[language], SWEDISH_SOURCE)

    assert [line.split(":", 1)[0] for line in lines] == places
    assert "'We emailed the recap'" in lines[1]
    assert "'Buyer accepted the meeting invite'" in lines[1]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_sentence_of_a_finding_is_translated(language: Language) -> None:
    t = TRANSLATORS[language]
    findings: list[Finding] = [
        *lint_pipeline(parse_pipeline(FLAWED)),
        *lint_pipeline(parse_pipeline(SWEDISH_SOURCE)),
    ]
    for finding in findings:
        for text in (finding.where_text, finding.problem_text, finding.suggestion_text):
            assert t.show(text) != ENGLISH.show(text), (finding.text(), t.show(text))
        if finding.standard != "factual":  # "factual" is the same word in Spanish
            assert t.show(finding.standard_text) != finding.standard


@pytest.mark.parametrize("language", list(Language))
def test_the_report_stays_within_block_kit_limits(language: Language) -> None:
    t = TRANSLATORS[language]
    pipeline = parse_pipeline(many_findings(300))
    findings = lint_pipeline(pipeline)

    message = blocks.lint_report(t, findings, pipeline)

    rendered: list[dict[str, Any]] = [block.to_dict() for block in message.blocks]
    assert block_problems(rendered, limit=MESSAGE_BLOCK_LIMIT) == []
    listed = sum(block["text"]["text"].count("• *") for block in rendered if block["type"] == "section")
    assert 0 < listed < len(findings)
    assert str(len(findings) - listed) in rendered[-1]["elements"][0]["text"]
    flawed = parse_pipeline(FLAWED)
    few = blocks.lint_report(t, lint_pipeline(flawed), flawed)
    assert block_problems([block.to_dict() for block in few.blocks], limit=MESSAGE_BLOCK_LIMIT) == []
