"""A pipeline in several languages: per-language texts in the file, the fallback to the source language, stage
keys typed in any language (`Pipeline.resolve`), ambiguity refused, the linter's completeness rule, the default
pipeline in en, es, sv and ro, and `/advance … to:<Spanish slug>` through the real app."""

from pathlib import Path

import pytest

from commands import cli
from commands.deals.move_options import MoveOptions, forward_targets
from commands.pipeline.lint import lint_pipeline
from commands.pipeline.loading import FieldLines, PipelineFileError, default_pipeline, parse_pipeline
from commands.pipeline.stages import LANGUAGES, Pipeline, Stage, StageText, slug
from tests.conftest import RunningBot
from tests.test_slack_flows import create_deal, deal_row, move_row, shown

WON_STAGE = """\
  - key: contract-signed
    name: Contract signed
    exit_criteria: [Buyer signed the contract]
    evidence_prompt: Show me the signed contract.
    won: true
"""

SPANISH = """\
stages:
  - key: product-evaluated
    name:
      en: Product evaluated
      es: Producto evaluado
    exit_criteria:
      en:
        - Buyer attended the demo
        - Buyer booked the next meeting
      es:
        - El comprador asistió a la demo
        - El comprador concertó la siguiente reunión
    evidence_prompt: Show me the buyer's confirmation email.
  - key: proposal-received
    name: {en: Proposal received, es: Propuesta recibida}
    exit_criteria: {en: [Buyer acknowledged the proposal in writing]}
    evidence_prompt:
      en: Show me the buyer's acknowledgement.
      es: Muéstrame el acuse de recibo del comprador.
"""


def errors_of(text: str) -> tuple[str, ...]:
    with pytest.raises(PipelineFileError) as raised:
        parse_pipeline(text, source="team.yaml")
    return raised.value.errors


def only_error(text: str) -> str:
    errors = errors_of(text)
    assert len(errors) == 1, errors
    return errors[0]


# --- the file format -----------------------------------------------------------------------------


def test_a_plain_file_is_english_only_and_falls_back_to_it() -> None:
    pipeline = parse_pipeline("stages:\n" + WON_STAGE)
    (stage,) = pipeline.stages

    assert pipeline.languages == ("en",) and stage.language == "en"
    english = StageText("Contract signed", ("Buyer signed the contract",), "Show me the signed contract.")
    assert dict(stage.texts) == {"en": english}
    assert stage.text_in("es") == stage.text_in("en") == english


def test_a_plain_file_may_name_its_language() -> None:
    text = """\
language: sv
stages:
  - key: contract-signed
    name: Avtal signerat
    exit_criteria: [Köparen signerade avtalet]
    evidence_prompt: Visa mig det signerade avtalet.
    won: true
"""
    pipeline = parse_pipeline(text)

    assert pipeline.languages == ("sv",) and pipeline.language == "sv"
    assert pipeline.stages[0].name == "Avtal signerat"
    assert pipeline.stages[0].text_in("en").name == "Avtal signerat"


def test_texts_per_language_keep_the_source_in_the_plain_fields() -> None:
    pipeline = parse_pipeline(SPANISH + WON_STAGE)
    evaluated, proposal, _ = pipeline.stages

    assert pipeline.languages == ("en", "es")
    assert (evaluated.name, evaluated.exit_criteria) == (
        "Product evaluated",
        ("Buyer attended the demo", "Buyer booked the next meeting"),
    )
    assert evaluated.text_in("es") == StageText(
        "Producto evaluado",
        ("El comprador asistió a la demo", "El comprador concertó la siguiente reunión"),
        "Show me the buyer's confirmation email.",  # written plain: English, the fallback
    )
    assert evaluated.texts["es"].evidence_prompt == ""  # not written in Spanish: the linter reports it
    assert proposal.text_in("es").exit_criteria == ("Buyer acknowledged the proposal in writing",)
    assert proposal.text_in("sv") == proposal.text_in("en")


def test_each_text_left_out_of_a_language_falls_back_on_its_own() -> None:
    stage = Stage(
        "contract-signed",
        "Contract signed",
        ("Buyer signed the contract",),
        "Show me the signed contract.",
        texts={"ro": StageText(evidence_prompt="Arată-mi contractul semnat.")},
    )

    assert stage.text_in("ro") == StageText(
        "Contract signed", ("Buyer signed the contract",), "Arată-mi contractul semnat."
    )
    assert stage.texts["ro"].missing() == ("name", "exit_criteria")


def test_a_language_code_we_do_not_know_is_refused_naming_the_stage_the_field_and_the_codes() -> None:
    text = SPANISH.replace("      es: Producto evaluado", "      fr: Produit évalué") + WON_STAGE

    error = only_error(text)

    assert error.startswith("team.yaml, line 5, stage 'product-evaluated': 'fr' under 'name'")
    assert "en, es, sv, ro" in error


def test_an_unknown_source_language_is_refused() -> None:
    error = only_error("language: de\nstages:\n" + WON_STAGE)

    assert error.startswith("team.yaml, line 1: 'language'")
    assert "en, es, sv, ro" in error and "'de'" in error


def test_texts_per_language_must_include_the_source_language() -> None:
    text = "stages:\n" + WON_STAGE.replace("name: Contract signed", "name: {es: Contrato firmado}")

    error = only_error(text)

    assert error.startswith("team.yaml, line 3, stage 'contract-signed': 'name' is written per language")
    assert "English (en)" in error


def test_an_error_in_one_language_says_which() -> None:
    empty_first = SPANISH.replace("      es:\n        - El comprador asistió", "      es:\n        - ''\n        - x")
    error = only_error(empty_first + WON_STAGE)

    assert error.startswith("team.yaml, line 11, stage 'product-evaluated', in Spanish (es): exit criterion 1")


def test_a_mapping_that_is_no_language_is_the_wrong_kind_of_value() -> None:
    error = only_error("stages:\n" + WON_STAGE.replace("name: Contract signed", "name: {owner: Sam}"))

    assert "'name' must be text, not a mapping" in error


# --- typed stage keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Propuesta recibida", "propuesta-recibida"),
        ("Möte bokat", "mote-bokat"),
        ("Întâlnire programată", "intalnire-programata"),
        ("  Implementación -- iniciada! ", "implementacion-iniciada"),
        ("Ofertă primită (ș, ț)", "oferta-primita-s-t"),
    ],
)
def test_slug(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_resolve_takes_the_key_or_any_languages_slug_or_name() -> None:
    pipeline = default_pipeline()
    proposal = pipeline.stage("proposal-received")

    for typed in (
        "proposal-received",
        "propuesta-recibida",
        "offert-mottagen",
        "oferta-primita",
        "Propuesta recibida",
        "  PROPUESTA RECIBIDA ",
        "Oferta primita",
        "Ofertă Primită",
        "offert mottagen",
    ):
        assert pipeline.resolve(typed) == proposal, typed
    assert pipeline.resolve("mote-bokat") == pipeline.resolve("Möte bokat") == pipeline.stage("meeting-booked")
    assert pipeline.resolve("În producție") == pipeline.resolve("en-produccion") == pipeline.stage("live")


def test_resolve_refuses_what_is_no_stage_and_find_stays_for_keys() -> None:
    pipeline = default_pipeline()

    assert pipeline.resolve("propuesta") is None
    assert pipeline.resolve("nowhere") is None
    assert pipeline.resolve("") is None
    assert pipeline.find("propuesta-recibida") is None
    assert pipeline.find("proposal-received") == pipeline.stage("proposal-received")


def test_a_name_that_would_mean_two_stages_does_not_load() -> None:
    text = SPANISH.replace("es: Propuesta recibida", "es: Producto Evaluado") + WON_STAGE

    error = only_error(text)

    assert error.startswith("team.yaml, line 15, stage 'proposal-received', in Spanish (es): 'producto-evaluado'")
    assert "stage 'product-evaluated' on line 2 (its name in Spanish (es))" in error


def test_a_name_that_is_another_stages_key_does_not_load() -> None:
    text = SPANISH.replace("es: Propuesta recibida", "es: Product evaluated") + WON_STAGE

    error = only_error(text)

    assert "'product-evaluated' would mean two stages" in error
    assert "this one (its name in Spanish (es))" in error and "(its key)" in error


def test_a_pipeline_built_in_code_refuses_ambiguity_too() -> None:
    first = Stage("meeting-booked", "Meeting booked", ("Buyer booked it",), "Show me the invite.")
    second = Stage(
        "contract-signed",
        "Contract signed",
        ("Buyer signed",),
        "Show me the contract.",
        won=True,
        texts={"ro": StageText("Întâlnire programată", ("Cumpărătorul a semnat",), "Arată-mi contractul.")},
    )
    first = Stage(
        first.key,
        first.name,
        first.exit_criteria,
        first.evidence_prompt,
        texts={"sv": StageText(name="Intalnire programata")},
    )

    with pytest.raises(ValueError, match=r"'meeting-booked' .*Swedish \(sv\).*'contract-signed' .*Romanian \(ro\)"):
        Pipeline((first, second))


def test_stages_stay_hashable_and_comparable() -> None:
    pipeline = default_pipeline()
    by_stage = {stage: stage.key for stage in pipeline.stages}

    assert by_stage[pipeline.stage("live")] == "live"
    assert parse_pipeline(SPANISH + WON_STAGE) == parse_pipeline(SPANISH + WON_STAGE)
    assert hash(parse_pipeline(SPANISH + WON_STAGE)) == hash(parse_pipeline(SPANISH + WON_STAGE))


# --- the linter ----------------------------------------------------------------------------------


def test_every_language_used_must_be_complete() -> None:
    text = SPANISH + WON_STAGE
    found = lint_pipeline(parse_pipeline(text))
    lines = FieldLines(text, source="team.yaml")

    assert [(f.stage_key, f.field, f.standard, lines.of(f.stage_key, f.field)) for f in found] == [
        ("product-evaluated", "evidence_prompt in es", "complete", 13),
        ("proposal-received", "exit_criteria in es", "complete", 16),
        ("contract-signed", "name in es", "complete", 21),
        ("contract-signed", "exit_criteria in es", "complete", 22),
        ("contract-signed", "evidence_prompt in es", "complete", 23),
    ]
    assert found[0].text() == (
        "stage 'product-evaluated', evidence_prompt in es: no evidence prompt in Spanish (es), though the pipeline "
        "has texts in it: a user reading Spanish (es) sees the English (en) one. [complete]\n"
        "  Suggestion: Add 'es: …' under 'evidence_prompt', next to 'en: Show me the buyer's confirmation email.'."
    )


def test_a_language_needs_every_exit_criterion() -> None:
    text = SPANISH.replace("        - El comprador concertó la siguiente reunión\n", "") + WON_STAGE

    found = [f for f in lint_pipeline(parse_pipeline(text)) if f.stage_key == "product-evaluated"]

    assert [(f.field, f.problem) for f in found if f.field.startswith("exit")] == [
        ("exit_criteria in es", "1 exit criteria in Spanish (es) but 2 in English (en).")
    ]


def test_the_english_rules_read_the_english_texts_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    swedish = """\
language: sv
stages:
  - key: demo
    name:
      sv: Demo genomförd
      en: Demo
    exit_criteria:
      sv: [Köparen tyckte om demon]
      en: [Buyer attended the demo]
    evidence_prompt:
      sv: Visa mig köparens mejl.
      en: Show me the buyer's email.
  - key: contract-signed
    name: {sv: Avtal signerat, en: Contract signed}
    exit_criteria: {sv: [Köparen signerade avtalet], en: [Buyer signed the contract]}
    evidence_prompt: {sv: Visa mig det signerade avtalet., en: Show me the signed contract.}
    won: true
"""
    file = tmp_path / "team.yaml"
    file.write_text(swedish, encoding="utf-8")

    assert [(f.field, f.standard) for f in lint_pipeline(parse_pipeline(swedish))] == [("name in en", "buyer-centric")]
    assert cli.main(["lint", str(file)]) == 1
    assert capsys.readouterr().out.startswith(f"{file}, line 6: stage 'demo', name in en: 'Demo' names what the seller")
    assert lint_pipeline(parse_pipeline(swedish.replace("      en: Demo\n", "      en: Demo attended\n"))) == ()


# --- the default pipeline ------------------------------------------------------------------------


def test_the_default_pipeline_is_complete_in_all_four_languages() -> None:
    pipeline = default_pipeline()

    assert pipeline.languages == LANGUAGES == ("en", "es", "sv", "ro")
    assert lint_pipeline(pipeline) == ()
    for stage in pipeline.stages:
        for language in LANGUAGES:
            text = stage.texts[language]
            assert text.missing() == (), (stage.key, language)
            assert len(text.exit_criteria) == len(stage.exit_criteria), (stage.key, language)


@pytest.mark.parametrize(
    ("language", "buyer", "show_me"),
    [
        ("es", ("El comprador", "El equipo del comprador"), "Muéstrame "),
        ("sv", ("Köparen",), "Visa mig "),
        ("ro", ("Cumpărătorul", "Echipa cumpărătorului"), "Arată-mi "),
    ],
)
def test_the_default_pipeline_is_buyer_centric_in_every_language(
    language: str, buyer: tuple[str, ...], show_me: str
) -> None:
    for stage in default_pipeline().stages:
        text = stage.texts[language]
        assert all(criterion.startswith(buyer) for criterion in text.exit_criteria), (stage.key, language)
        assert text.evidence_prompt.startswith(show_me), (stage.key, language)


def test_the_default_pipelines_typed_names_are_all_distinct() -> None:
    pipeline = default_pipeline()
    typed = [name for stage in pipeline.stages for name in stage.names_typed()]

    assert len(typed) == len(set(typed))
    assert {slug(stage.texts["es"].name) for stage in pipeline.stages} >= {"propuesta-recibida", "reunion-concertada"}
    assert slug(pipeline.stage("meeting-booked").texts["ro"].name) == "intalnire-programata"


# --- through the app -----------------------------------------------------------------------------


def test_advance_to_a_spanish_slug_moves_to_that_stage(bot: RunningBot) -> None:
    create_deal(bot)
    links = " ".join(f"evidence:https://mail.example.com/m/{number}" for number in (1, 2, 3))

    response = bot.command("/advance", f"deal-1 to:propuesta-recibida {links}")

    assert response.status == 200
    assert "Proposal received" in shown(response)
    assert move_row(bot).to_stage == "proposal-received"
    assert deal_row(bot).stage_key == "meeting-booked"  # until a manager approves


def test_advance_to_a_typed_name_that_is_no_stage_lists_the_keys(bot: RunningBot) -> None:
    create_deal(bot)

    response = bot.command("/advance", "deal-1 to:propuesta evidence:https://mail.example.com/m/1")

    assert "There is no stage 'propuesta'" in shown(response)


def test_a_forms_target_may_be_typed_in_any_language() -> None:
    pipeline = default_pipeline()
    options = MoveOptions(1, "Acme", pipeline.first(), forward_targets(pipeline, pipeline.first().key))

    assert (
        options.target("Propuesta recibida")
        == options.target("proposal-received")
        == pipeline.stage("proposal-received")
    )
    assert options.target("mote-bokat") is None  # the deal is there already: not a target


def test_deal_list_takes_a_stage_typed_in_any_language(bot: RunningBot) -> None:
    create_deal(bot)

    listed = shown(bot.command("/deal", "list all stage:reunion-concertada"))

    assert listed.startswith("*Open deals at Meeting booked* (1)")
    assert "There is no stage" in shown(bot.command("/deal", "list all stage:reunion"))
