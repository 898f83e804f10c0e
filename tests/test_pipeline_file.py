from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest

from commands.pipeline.loading import (
    SELLER_ACTION_WORDS,
    PipelineFileError,
    default_pipeline,
    load_pipeline,
    parse_pipeline,
)
from commands.pipeline.stages import Approval, Pipeline, Stage

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_FILE = REPO_ROOT / "examples" / "pipeline.yaml"
DEFAULT_FILE = REPO_ROOT / "commands" / "pipeline" / "default_pipeline.yaml"

# Lines 1-6; the stage under test starts on line 7 (key), then name 8, exit_criteria 9,
# evidence_prompt 10, and any extra field on line 11.
WON_STAGE = """\
stages:
  - key: contract-signed
    name: Contract signed
    exit_criteria: [Buyer signed the contract]
    evidence_prompt: Show me the signed contract.
    won: true
"""
GOOD_FIELDS: dict[str, str] = {
    "key": "product-evaluated",
    "name": "Product evaluated",
    "exit_criteria": "[Buyer attended the demo and got answers]",
    "evidence_prompt": "Show me the buyer's confirmation email.",
}


def stage_block(**fields: str | None) -> str:
    """One stage in YAML; a field given as None is left out, extra fields follow the usual four."""
    merged = {**GOOD_FIELDS, **fields}
    lines = [f"{name}: {value}" for name, value in merged.items() if value is not None]
    return "  - " + "\n    ".join(lines) + "\n"


def with_won_stage(*blocks: str) -> str:
    return WON_STAGE + "".join(blocks)


def errors_of(text: str, *, source: str = "team.yaml") -> tuple[str, ...]:
    with pytest.raises(PipelineFileError) as raised:
        parse_pipeline(text, source=source)
    return raised.value.errors


def only_error(text: str) -> str:
    errors = errors_of(text)
    assert len(errors) == 1, errors
    return errors[0]


# --- the default pipeline ---------------------------------------------------------------------


def test_default_pipeline_has_the_seven_buyer_centric_stages_in_order() -> None:
    pipeline = default_pipeline()

    assert pipeline.keys == (
        "meeting-booked",
        "needs-confirmed",
        "product-evaluated",
        "proposal-received",
        "contract-signed",
        "implementation-started",
        "live",
    )
    assert [stage.name for stage in pipeline.stages] == [
        "Meeting booked",
        "Needs confirmed",
        "Product evaluated",
        "Proposal received",
        "Contract signed",
        "Implementation started",
        "Live",
    ]


def test_default_pipeline_loads_without_warnings() -> None:
    assert default_pipeline().warnings == ()


def test_default_pipeline_has_exactly_one_won_stage_contract_signed() -> None:
    pipeline = default_pipeline()

    assert [stage.key for stage in pipeline.stages if stage.won] == ["contract-signed"]
    assert pipeline.won_stage().name == "Contract signed"


def test_default_pipeline_criteria_are_buyer_actions_with_evidence_prompts() -> None:
    for stage in default_pipeline().stages:
        assert stage.exit_criteria
        assert all(criterion.startswith("Buyer") for criterion in stage.exit_criteria), stage
        assert stage.evidence_prompt.startswith("Show me")


def test_default_pipeline_stage_details() -> None:
    pipeline = default_pipeline()

    assert len(pipeline.stage("needs-confirmed").exit_criteria) == 4
    assert len(pipeline.stage("product-evaluated").exit_criteria) == 3
    assert pipeline.stage("product-evaluated").evidence_prompt == "Show me the buyer's confirmation email."
    assert pipeline.stage("meeting-booked").evidence_prompt == ("Show me the calendar invite the buyer accepted.")
    assert pipeline.stage("implementation-started").stall_after_days == 30
    assert all(stage.stall_after_days >= 1 for stage in pipeline.stages)


def test_default_pipeline_is_the_packaged_yaml_file() -> None:
    assert default_pipeline().stages == load_pipeline(DEFAULT_FILE).stages


# --- navigation -------------------------------------------------------------------------------


def test_stage_returns_the_stage_or_raises_key_error() -> None:
    pipeline = default_pipeline()

    assert pipeline.stage("proposal-received").name == "Proposal received"
    with pytest.raises(KeyError, match="demo"):
        pipeline.stage("demo")


def test_find_ignores_case_and_returns_none_when_missing() -> None:
    pipeline = default_pipeline()

    found = pipeline.find("Product-Evaluated")
    assert found is not None
    assert found.key == "product-evaluated"
    assert pipeline.find("demo") is None
    assert pipeline.find("lost") is None


def test_index_first_and_next_after() -> None:
    pipeline = default_pipeline()

    assert pipeline.index("meeting-booked") == 0
    assert pipeline.index("live") == 6
    assert pipeline.first().key == "meeting-booked"
    next_stage = pipeline.next_after("product-evaluated")
    assert next_stage is not None
    assert next_stage.key == "proposal-received"
    assert pipeline.next_after("live") is None
    with pytest.raises(KeyError):
        pipeline.index("nope")


def test_between_is_strictly_after_from_and_up_to_and_including_to() -> None:
    pipeline = default_pipeline()

    skipped = pipeline.between("meeting-booked", "proposal-received")

    assert [stage.key for stage in skipped] == ["needs-confirmed", "product-evaluated", "proposal-received"]
    assert [stage.key for stage in pipeline.between("meeting-booked", "needs-confirmed")] == ["needs-confirmed"]
    assert pipeline.between("product-evaluated", "product-evaluated") == ()
    assert pipeline.between("proposal-received", "meeting-booked") == ()


def test_is_after_win() -> None:
    pipeline = default_pipeline()

    assert pipeline.is_after_win("implementation-started")
    assert pipeline.is_after_win("live")
    assert not pipeline.is_after_win("contract-signed")
    assert not pipeline.is_after_win("meeting-booked")


def test_stages_and_pipelines_are_immutable() -> None:
    pipeline = default_pipeline()

    with pytest.raises(FrozenInstanceError):
        pipeline.stages[0].name = "Demo"  # type: ignore[misc]
    copy = replace(pipeline.stages[0])
    assert copy is not pipeline.stages[0]
    assert {pipeline.stages[0]: "found"}[copy] == "found"  # equal stages hash alike: usable as keys


def test_pipeline_refuses_to_be_built_without_exactly_one_won_stage() -> None:
    stage = Stage(key="a", name="A", exit_criteria=("Buyer did a",), evidence_prompt="Show me a.")

    with pytest.raises(ValueError, match="won"):
        Pipeline(stages=(stage,))


def test_stage_refuses_reserved_or_malformed_keys() -> None:
    for key in ("lost", "Product evaluated", ""):
        with pytest.raises(ValueError):
            Stage(key=key, name="X", exit_criteria=("Buyer did x",), evidence_prompt="Show me x.")


# --- loading files ------------------------------------------------------------------------------


def test_example_pipeline_loads_without_warnings() -> None:
    pipeline = load_pipeline(EXAMPLE_FILE)

    assert len(pipeline.stages) >= 3
    assert pipeline.keys != default_pipeline().keys
    assert pipeline.warnings == ()
    assert sum(stage.won for stage in pipeline.stages) == 1


def test_approval_defaults_to_one_manager_and_is_read_as_written() -> None:
    pipeline = parse_pipeline(
        with_won_stage(
            stage_block(approval="none"), stage_block(key="terms-agreed", name="Terms agreed", approval="two")
        )
    )

    assert [stage.approval.needed for stage in pipeline.stages] == [1, 0, 2]
    assert all(stage.approval.needed == 1 for stage in default_pipeline().stages)


def test_a_move_needs_the_approvals_of_the_strictest_stage_it_enters() -> None:
    pipeline = parse_pipeline(
        "stages:\n"
        + stage_block(key="a", name="A booked")
        + stage_block(key="b", name="B booked", approval="none")
        + stage_block(key="c", name="C booked", approval="two")
        + stage_block(key="d", name="D booked", approval="none", won="true")
    )

    assert pipeline.approvals_needed("a", "b") == 0
    assert pipeline.approvals_needed("a", "c") == 2
    assert pipeline.approvals_needed("c", "d") == 0
    assert pipeline.approvals_needed("b", "d") == 2


def test_example_pipeline_shows_every_approval_policy() -> None:
    assert {stage.approval for stage in load_pipeline(EXAMPLE_FILE).stages} == set(Approval)


def test_load_pipeline_reads_a_path_or_a_string(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(with_won_stage(stage_block(stall_after_days="9")), encoding="utf-8")

    from_path = load_pipeline(path)
    from_string = load_pipeline(str(path))

    assert from_path == from_string
    assert from_path.keys == ("contract-signed", "product-evaluated")
    assert from_path.stage("product-evaluated").stall_after_days == 9
    assert from_path.stage("contract-signed").stall_after_days == 14


def test_load_pipeline_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(with_won_stage(stage_block(key="Bad Key")), encoding="utf-8")

    with pytest.raises(PipelineFileError) as raised:
        load_pipeline(path)

    assert str(raised.value).startswith(f"{path}, line 7, stage 'Bad Key':")


def test_missing_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"

    with pytest.raises(PipelineFileError) as raised:
        load_pipeline(path)

    message = str(raised.value)
    assert str(path) in message
    assert "not found" in message


def test_unreadable_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"stages: \xff\xfe\x00")

    with pytest.raises(PipelineFileError, match="cannot read"):
        load_pipeline(path)
    with pytest.raises(PipelineFileError, match="cannot read"):
        load_pipeline(tmp_path)


# --- errors in one stage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "line", "fragments"),
    [
        pytest.param(
            stage_block(key=None),
            7,
            ["stage 'Product evaluated'", "missing 'key'", "key: product-evaluated"],
            id="missing key",
        ),
        pytest.param(stage_block(key='""'), 7, ["stage 'Product evaluated'", "'key' is empty"], id="empty key"),
        pytest.param(
            stage_block(key="Product Evaluated"),
            7,
            ["stage 'Product Evaluated'", "key 'Product Evaluated' is not valid", "key: product-evaluated"],
            id="key with capitals and space",
        ),
        pytest.param(
            stage_block(key="product_evaluated"),
            7,
            ["not valid", "lowercase letters, digits and single hyphens"],
            id="key with underscore",
        ),
        pytest.param(stage_block(key="-evaluated"), 7, ["not valid"], id="key with leading hyphen"),
        pytest.param(
            stage_block(key="lost", name="Lost"),
            7,
            ["stage 'lost'", "'lost' is reserved", "Remove this stage"],
            id="reserved key",
        ),
        pytest.param(stage_block(key="Lost", name="Lost"), 7, ["'Lost' is reserved"], id="reserved key any case"),
        pytest.param(
            stage_block(name=None),
            7,
            ["stage 'product-evaluated'", "missing 'name'", "name: Product evaluated"],
            id="missing name",
        ),
        pytest.param(stage_block(name='"  "'), 8, ["'name' is empty"], id="blank name"),
        pytest.param(stage_block(name="[Product, evaluated]"), 8, ["'name' must be text, not a list"], id="list name"),
        pytest.param(stage_block(exit_criteria=None), 7, ["missing 'exit_criteria'"], id="missing exit criteria"),
        pytest.param(stage_block(exit_criteria="[]"), 9, ["'exit_criteria' is empty"], id="empty exit criteria"),
        pytest.param(
            stage_block(exit_criteria="Buyer attended the demo"),
            9,
            ["'exit_criteria' must be a list"],
            id="exit criteria as text",
        ),
        pytest.param(
            stage_block(exit_criteria="[Buyer attended the demo, '']"),
            9,
            ["exit criterion 2 must be a non-empty"],
            id="blank exit criterion",
        ),
        pytest.param(
            stage_block(exit_criteria="[Buyer attended the demo, [nested]]"),
            9,
            ["exit criterion 2", "not a list"],
            id="nested exit criterion",
        ),
        pytest.param(
            stage_block(exit_criteria="[Buyer attended the demo, ~]"),
            9,
            ["exit criterion 2"],
            id="null exit criterion",
        ),
        pytest.param(
            stage_block(evidence_prompt=None),
            7,
            ["missing 'evidence_prompt'", "Show me"],
            id="missing evidence prompt",
        ),
        pytest.param(stage_block(evidence_prompt="''"), 10, ["'evidence_prompt' is empty"], id="empty evidence prompt"),
        pytest.param(stage_block(stall_after_days="0"), 11, ["'stall_after_days' must be a whole number"], id="zero"),
        pytest.param(stage_block(stall_after_days="-3"), 11, ["got '-3'"], id="negative days"),
        pytest.param(stage_block(stall_after_days="2.5"), 11, ["got '2.5'"], id="fractional days"),
        pytest.param(stage_block(stall_after_days="ten"), 11, ["got 'ten'"], id="days as words"),
        pytest.param(stage_block(stall_after_days='"14"'), 11, ["got '14'"], id="quoted days"),
        pytest.param(stage_block(stall_after_days="true"), 11, ["got 'true'"], id="boolean days"),
        pytest.param(stage_block(stall_after_days=""), 11, ["got nothing"], id="empty days"),
        pytest.param(stage_block(won='"yes"'), 11, ["'won' must be true or false", "got 'yes'"], id="quoted won"),
        pytest.param(stage_block(won="1"), 11, ["'won' must be true or false"], id="numeric won"),
        pytest.param(
            stage_block(approval="three"), 11, ["'approval' must be none, one or two", "got 'three'"], id="approval"
        ),
        pytest.param(stage_block(approval="2"), 11, ["'approval' must be none", "got '2'"], id="approval as a number"),
        pytest.param(stage_block(approval=""), 11, ["'approval' must be none", "got nothing"], id="empty approval"),
        pytest.param(
            stage_block(owner="Sam"),
            11,
            [
                "unknown field 'owner'",
                "Allowed fields: key, name, exit_criteria, evidence_prompt, stall_after_days, won, approval",
            ],
            id="unknown field",
        ),
        pytest.param(
            stage_block(exit_criteria=None, exit_criterion="[Buyer attended]"),
            10,
            ["unknown field 'exit_criterion'", "Did you mean 'exit_criteria'?"],
            id="misspelled field",
        ),
    ],
)
def test_each_stage_error_names_the_file_line_and_stage(block: str, line: int, fragments: list[str]) -> None:
    error = next(error for error in errors_of(with_won_stage(block)) if fragments[-1] in error)

    assert error.startswith(f"team.yaml, line {line}, stage ")
    for fragment in fragments:
        assert fragment in error


def test_stage_that_is_not_a_mapping_is_named_by_position() -> None:
    error = only_error(with_won_stage("  - Demo\n"))

    assert error.startswith("team.yaml, line 7, stage #2:")
    assert "each stage must be a mapping" in error


def test_field_given_twice_is_an_error() -> None:
    block = stage_block() + "    name: Product tested\n"

    error = only_error(with_won_stage(block))

    assert error.startswith("team.yaml, line 11, stage 'product-evaluated':")
    assert "'name' is given twice (first on line 8)" in error


def test_duplicate_key_names_both_lines() -> None:
    text = with_won_stage(stage_block(), stage_block(name="Product tested"))

    error = only_error(text)

    assert error.startswith("team.yaml, line 11, stage 'product-evaluated':")
    assert "key 'product-evaluated' is already used by the stage on line 7" in error


def test_duplicate_name_ignores_case() -> None:
    text = with_won_stage(stage_block(), stage_block(key="product-tested", name="PRODUCT EVALUATED"))

    error = only_error(text)

    assert error.startswith("team.yaml, line 12, stage 'product-tested':")
    assert "name 'PRODUCT EVALUATED' is already used by the stage on line 7" in error


def test_no_won_stage_is_an_error() -> None:
    error = only_error("stages:\n" + stage_block())

    assert error.startswith("team.yaml, line 2:")
    assert "no stage is marked 'won: true'" in error


def test_more_than_one_won_stage_is_an_error() -> None:
    error = only_error(with_won_stage(stage_block(won="true")))

    assert error.startswith("team.yaml, line 11, stage 'product-evaluated':")
    assert "only one stage may be marked 'won: true'" in error
    assert "stage 'contract-signed' on line 6" in error


def test_won_false_is_allowed() -> None:
    pipeline = parse_pipeline(with_won_stage(stage_block(won="false")))

    assert not pipeline.stage("product-evaluated").won


# --- errors in the file as a whole ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        pytest.param("", 1, "the file is empty", id="empty file"),
        pytest.param("# just a comment\n", 1, "the file is empty", id="only comments"),
        pytest.param("- key: a\n", 1, "must be a mapping, not a list", id="list at top level"),
        pytest.param("hello\n", 1, "must be a mapping, not 'hello'", id="text at top level"),
        pytest.param("stages: 3\n", 1, "'stages' must be a list of stages, not '3'", id="stages not a list"),
        pytest.param("stages:\n", 1, "'stages' must be a list of stages, not nothing", id="stages null"),
        pytest.param("stages: []\n", 1, "'stages' is empty", id="empty stages"),
        pytest.param("# comment\nstages:\n  - key: a\n   name: A\n", 4, "YAML syntax error", id="bad indentation"),
        pytest.param("stages:\n  - key: a\n\tname: A\n", 3, "YAML syntax error", id="tab"),
        pytest.param('stages:\n  - key: "unclosed\n', 3, "YAML syntax error", id="unclosed quote"),
        pytest.param("stages: []\n---\nstages: []\n", 2, "YAML syntax error", id="two documents"),
    ],
)
def test_file_level_errors_name_the_file_and_line(text: str, line: int, fragment: str) -> None:
    error = only_error(text)

    assert error.startswith(f"team.yaml, line {line}:")
    assert fragment in error


def test_missing_stages_is_reported_with_the_unknown_fields() -> None:
    errors = errors_of("# our pipeline\nsteps:\n  - key: a\n")

    assert errors[0].startswith("team.yaml, line 2:")
    assert "unknown field 'steps'" in errors[0]
    assert errors[1].startswith("team.yaml, line 2:")
    assert "missing 'stages'" in errors[1]


def test_unknown_top_level_field_lists_the_allowed_ones() -> None:
    error = only_error(with_won_stage() + "version: 2\n")

    assert error.startswith("team.yaml, line 7:")
    assert "unknown field 'version'" in error
    assert "Allowed fields: stages" in error


def test_all_errors_are_reported_together_in_line_order() -> None:
    text = with_won_stage(
        stage_block(key="Demo Stage", stall_after_days="0"),
        stage_block(key="lost", name="Lost", evidence_prompt=None),
        stage_block(key="needs-confirmed", name="Needs confirmed", exit_criteria="[]", won="true"),
    )

    with pytest.raises(PipelineFileError) as raised:
        parse_pipeline(text, source="team.yaml")

    errors = raised.value.errors
    assert len(errors) == 6
    lines = [int(error.split("line ")[1].split(",")[0]) for error in errors]
    assert lines == sorted(lines)
    message = str(raised.value)
    assert message.splitlines() == ["team.yaml has 6 problems:", *errors]
    assert "stage 'Demo Stage'" in message
    assert "stall_after_days" in message
    assert "'lost' is reserved" in message
    assert "missing 'evidence_prompt'" in message
    assert "'exit_criteria' is empty" in message
    assert "only one stage may be marked 'won: true'" in message


def test_default_source_name_is_used_when_none_is_given() -> None:
    with pytest.raises(PipelineFileError, match=r"^<pipeline>, line 1:"):
        parse_pipeline("")


# --- reading the YAML ----------------------------------------------------------------------------


def test_any_scalar_is_text_so_keys_names_and_criteria_are_kept_as_written() -> None:
    pipeline = parse_pipeline(
        with_won_stage(stage_block(key="2024", name="No", exit_criteria="[42, ' Buyer said yes ']"))
    )

    stage = pipeline.stage("2024")
    assert (stage.name, stage.exit_criteria) == ("No", ("42", "Buyer said yes"))


def test_stall_after_days_takes_any_yaml_whole_number() -> None:
    pipeline = parse_pipeline(with_won_stage(stage_block(stall_after_days="0x10")))

    assert pipeline.stage("product-evaluated").stall_after_days == 16


def test_wrong_values_are_quoted_as_written() -> None:
    error = only_error(with_won_stage(stage_block(stall_after_days="00")))

    assert "got '00'" in error


def test_field_name_that_is_not_text_lists_the_allowed_fields() -> None:
    error = only_error(with_won_stage(stage_block() + "    ? [a, b]\n    : c\n"))

    assert error.startswith("team.yaml, line 11, stage 'product-evaluated':")
    assert "field names must be plain text. Allowed fields: key, name, exit_criteria" in error


def test_unknown_field_given_twice_is_reported_as_unknown_each_time() -> None:
    errors = errors_of(with_won_stage(stage_block(owner="Sam") + "    owner: Kim\n"))

    assert [error.split(": ", 1) for error in errors] == [
        [
            f"team.yaml, line {line}, stage 'product-evaluated'",
            "unknown field 'owner'. Allowed fields: key, name, exit_criteria, evidence_prompt, stall_after_days, "
            "won, approval.",
        ]
        for line in (11, 12)
    ]


def test_mapping_where_text_belongs_is_reported_once() -> None:
    error = only_error(with_won_stage(stage_block(name="{owner: Sam}")))

    assert error.startswith("team.yaml, line 8, stage 'product-evaluated':")
    assert "'name' must be text, not a mapping" in error


def test_stages_are_compared_even_when_they_have_other_problems() -> None:
    errors = errors_of(with_won_stage(stage_block(key="contract-signed", evidence_prompt=None)))

    assert len(errors) == 2
    assert "missing 'evidence_prompt'" in errors[0]
    assert "key 'contract-signed' is already used by the stage on line 2" in errors[1]


def test_recursive_yaml_alias_is_reported_not_followed() -> None:
    text = WON_STAGE.replace("  - key: contract-signed", "  - &stage\n    key: contract-signed") + "    next: *stage\n"

    error = only_error(text)

    assert error.startswith("team.yaml, line 8, stage 'contract-signed':")
    assert "unknown field 'next'" in error


# --- seller-action warnings -----------------------------------------------------------------------


def test_seller_action_words_cover_the_common_seller_activities() -> None:
    for word in (
        "demo",
        "send",
        "follow up",
        "call",
        "pitch",
        "present",
        "email",
        "contact",
        "prospect",
        "qualify",
        "negotiate",
    ):
        assert word in SELLER_ACTION_WORDS


def test_demo_stage_warning_explains_the_rule() -> None:
    pipeline = parse_pipeline(with_won_stage(stage_block(name="Demo")))

    assert pipeline.warnings == (
        "Stage 'Demo' (line 8) describes what the seller does. Name stages for what the buyer has done, "
        "e.g. 'Product evaluated' instead of 'Demo' — a stage must be required, factual, inspectable and "
        "buyer-centric.",
    )


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("Demo", "Product evaluated"),
        ("demo", "Product evaluated"),
        ("Send proposal", "Proposal received"),
        ("Proposal sent", "Proposal received"),
        ("Follow up", "Next meeting booked"),
        ("Follow-up", "Next meeting booked"),
        ("Call", "Meeting booked"),
        ("Discovery call", "Meeting booked"),
        ("Pitch", "Product evaluated"),
        ("Presentation", "Product evaluated"),
        ("Email prospect", "Meeting booked"),
        ("Qualify", "Needs confirmed"),
        ("Negotiation", "Terms agreed"),
    ],
)
def test_seller_action_names_warn(name: str, suggestion: str) -> None:
    pipeline = parse_pipeline(with_won_stage(stage_block(name=name)))

    assert len(pipeline.warnings) == 1
    warning = pipeline.warnings[0]
    assert warning.startswith(f"Stage '{name}' (line 8) describes what the seller does.")
    assert f"e.g. '{suggestion}' instead of '{name}'" in warning
    assert "required, factual, inspectable and buyer-centric" in warning


@pytest.mark.parametrize(
    "name",
    [
        "Product evaluated",
        "Proposal received",
        "Demo attended",
        "Call booked",
        "Demo requested",
        "Prospectus read",
        "Callout approved",
        "Recalled",
    ],
)
def test_buyer_centric_names_do_not_warn(name: str) -> None:
    assert parse_pipeline(with_won_stage(stage_block(name=name))).warnings == ()


@pytest.mark.parametrize("criterion", ["Send the proposal", "We emailed the recap", "Rep confirmed the budget"])
def test_seller_action_criteria_warn(criterion: str) -> None:
    pipeline = parse_pipeline(with_won_stage(stage_block(exit_criteria=f"[{criterion}]")))

    assert len(pipeline.warnings) == 1
    assert pipeline.warnings[0].startswith(
        f"Exit criterion '{criterion}' of stage 'product-evaluated' (line 9) describes what the seller does."
    )


@pytest.mark.parametrize(
    "criterion", ["Buyer attended the demo", "Buyer replied to the email we sent", "Champion booked a call"]
)
def test_buyer_action_criteria_do_not_warn(criterion: str) -> None:
    assert parse_pipeline(with_won_stage(stage_block(exit_criteria=f"[{criterion}]"))).warnings == ()


def test_warnings_do_not_stop_the_pipeline_loading() -> None:
    pipeline = parse_pipeline(
        with_won_stage(stage_block(key="demo", name="Demo"), stage_block(key="follow-up", name="Follow up"))
    )

    assert pipeline.keys == ("contract-signed", "demo", "follow-up")
    assert [warning.split(" (")[0] for warning in pipeline.warnings] == ["Stage 'Demo'", "Stage 'Follow up'"]
