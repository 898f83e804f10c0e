"""The pipeline linter's rules, each on stages whose truth is known, and its agreement with the loader's warnings."""

from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from commands.pipeline.lint import Finding, criterion_is_seller_action, gist, is_inspectable, lint_pipeline, opinion_in
from commands.pipeline.loading import default_pipeline, load_pipeline, parse_pipeline
from commands.pipeline.stages import Pipeline, Stage

EXAMPLE_FILE = Path(__file__).resolve().parents[1] / "examples" / "pipeline.yaml"
WON = Stage(
    key="contract-signed",
    name="Contract signed",
    exit_criteria=("Buyer signed the contract",),
    evidence_prompt="Show me the signed contract.",
    won=True,
)


def stage(
    key: str = "product-evaluated",
    name: str = "Product evaluated",
    criteria: tuple[str, ...] = ("Buyer attended the demo and got answers to their questions",),
    prompt: str = "Show me the buyer's confirmation email.",
) -> Stage:
    return Stage(key=key, name=name, exit_criteria=criteria, evidence_prompt=prompt)


def findings(*stages: Stage) -> tuple[Finding, ...]:
    """The findings of a pipeline of `stages` followed by a clean won stage."""
    return lint_pipeline(Pipeline(stages=(*stages, WON)))


def only_finding(*stages: Stage) -> Finding:
    found = findings(*stages)
    assert len(found) == 1, [finding.text() for finding in found]
    return found[0]


def test_the_default_and_the_example_pipelines_have_no_findings() -> None:
    assert lint_pipeline(default_pipeline()) == ()
    assert lint_pipeline(load_pipeline(EXAMPLE_FILE)) == ()


def test_a_clean_stage_has_no_findings() -> None:
    assert findings(stage()) == ()


# --- required ------------------------------------------------------------------------------------


def test_a_criterion_repeated_from_an_earlier_stage_is_found() -> None:
    first = stage(criteria=("Buyer attended the demo", "Buyer booked the next meeting"))
    second = stage(
        key="proposal-received",
        name="Proposal received",
        criteria=("Buyer received the proposal", "The next meeting was booked by the customer."),
        prompt="Show me the buyer's acknowledgement of the proposal.",
    )

    finding = only_finding(first, second)

    assert (finding.stage_key, finding.field, finding.standard) == ("proposal-received", "exit criterion 2", "required")
    assert finding.problem == (
        "'The next meeting was booked by the customer.' repeats exit criterion 2 of stage 'product-evaluated', "
        "which the buyer did to get there."
    )
    assert finding.suggestion == "Remove it, or replace it with what the buyer did after 'Product evaluated'."


def test_a_criterion_said_twice_in_one_stage_is_found() -> None:
    finding = only_finding(stage(criteria=("Buyer attended the demo", "buyer ATTENDED the demos!")))

    assert (finding.field, finding.standard) == ("exit criterion 2", "required")
    assert finding.problem == "'buyer ATTENDED the demos!' says exit criterion 1 again."


def test_a_stage_that_only_repeats_an_earlier_one_is_one_finding() -> None:
    first = stage(criteria=("Buyer attended the demo", "Buyer booked the next meeting"))
    copy = stage(
        key="demo-reviewed",
        name="Demo reviewed",
        criteria=("Buyer booked the next meeting", "Buyer attended the demo"),
        prompt="Show me the buyer's reply.",
    )

    finding = only_finding(first, copy)

    assert (finding.stage_key, finding.field, finding.standard) == ("demo-reviewed", "exit_criteria", "required")
    assert "every exit criterion repeats stage 'product-evaluated'" in finding.problem
    assert finding.suggestion == (
        "Merge it into 'product-evaluated', or list the buyer action that sets it apart, "
        "e.g. 'Buyer reviewed the demo'."
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Buyer confirmed the budget", "Buyer confirmed the timing"),
        ("Buyer signed the NDA", "Buyer signed the order form"),
        ("Buyer booked a meeting", "Buyer attended a meeting"),
    ],
)
def test_different_criteria_are_not_repeats(first: str, second: str) -> None:
    assert findings(stage(criteria=(first, second))) == ()


@given(st.lists(st.sampled_from(["budget", "timing", "contract", "team", "demo", "plan"]), min_size=1, max_size=4))
def test_the_same_words_in_another_case_order_and_punctuation_are_the_same_criterion(nouns: list[str]) -> None:
    criterion = "Buyer confirmed the " + " and the ".join(nouns)
    rewritten = "The " + ", ".join(reversed(nouns)).upper() + " WERE CONFIRMED BY THE CUSTOMER."
    assert gist(criterion) == gist(rewritten)
    assert [finding.standard for finding in findings(stage(criteria=(criterion, rewritten)))] == ["required"]


# --- factual -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criterion", "phrase", "rewrite"),
    [
        ("Buyer is interested", "interested", "Buyer booked the next meeting"),
        ("Seems ready", "ready", "Buyer confirmed the budget and the timing in writing"),
        ("Customer loved the demo", "loved", "Buyer replied confirming the product meets their needs"),
        ("We think it is a good fit", "think", "Buyer replied to the recap email confirming next steps"),
    ],
)
def test_a_feeling_or_opinion_is_not_a_fact(criterion: str, phrase: str, rewrite: str) -> None:
    finding = only_finding(stage(criteria=(criterion,)))

    assert (finding.stage_key, finding.field, finding.standard) == ("product-evaluated", "exit criterion 1", "factual")
    assert finding.problem == f"'{criterion}' is an opinion ('{phrase}'), not something the buyer did."
    assert finding.suggestion == f"Write the buyer action that shows it, e.g. '{rewrite}'."


@pytest.mark.parametrize(
    "criterion",
    ["Buyer replied that they are interested", "Buyer confirmed they are ready to sign", "Buyer opened the deck"],
)
def test_a_buyer_action_that_mentions_a_feeling_is_a_fact(criterion: str) -> None:
    assert [finding.standard for finding in findings(stage(criteria=(criterion,)))] == []


# --- inspectable ---------------------------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["Tell me how it went.", "Are you sure?", "Show me proof of progress."])
def test_an_evidence_prompt_must_name_something_a_manager_can_open(prompt: str) -> None:
    finding = only_finding(stage(criteria=("Buyer booked the next meeting",), prompt=prompt))

    assert (finding.stage_key, finding.field, finding.standard) == (
        "product-evaluated",
        "evidence_prompt",
        "inspectable",
    )
    assert finding.problem == (f"'{prompt}' names nothing a manager can open (an email, invite, document...).")
    assert finding.suggestion == (
        "Name the document or message, e.g. 'Show me the buyer's email confirming that the buyer booked the next "
        "meeting.'"
    )


@pytest.mark.parametrize(
    "prompt",
    [
        "Show me the calendar invite the buyer accepted.",
        "Link the buyer's replies.",
        "Attach the PO.",
        "Show me the purchase order.",
        "Show me the meeting notes link.",
        "Show me the signed contract.",
        "Paste the Slack message from the champion.",
    ],
)
def test_prompts_naming_a_document_or_message_are_inspectable(prompt: str) -> None:
    assert findings(stage(prompt=prompt)) == ()


# --- buyer-centric -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rename"),
    [
        ("Demo", "Product evaluated"),
        ("Proposal sent", "Proposal received"),
        ("Follow-up", "Next meeting booked"),
        ("Negotiation", "Terms agreed"),
        ("Discovery", "Needs confirmed"),
        ("Onboarding", "Implementation started"),
        ("Security review", "Security review completed"),
    ],
)
def test_a_stage_name_must_say_what_the_buyer_has_done(name: str, rename: str) -> None:
    finding = only_finding(stage(name=name))

    assert (finding.stage_key, finding.field, finding.standard) == ("product-evaluated", "name", "buyer-centric")
    assert finding.problem.startswith(f"'{name}' ")
    assert finding.suggestion == f"Rename it '{rename}'."


@pytest.mark.parametrize("name", ["Demo attended", "Plan chosen", "Subscription paid", "Live", "Terms agreed"])
def test_names_of_what_the_buyer_has_done_pass(name: str) -> None:
    assert findings(stage(name=name)) == ()


@pytest.mark.parametrize(
    ("criterion", "rewrite"),
    [
        ("Rep confirmed the budget", "Buyer confirmed the budget"),
        ("Send the proposal", "Buyer received the proposal and acknowledged it in writing"),
        ("We demoed the product", "Buyer attended the demo and got answers to their questions"),
    ],
)
def test_a_criterion_must_be_what_the_buyer_did(criterion: str, rewrite: str) -> None:
    finding = only_finding(stage(criteria=(criterion,)))

    assert (finding.field, finding.standard) == ("exit criterion 1", "buyer-centric")
    assert finding.problem == f"'{criterion}' is what the seller does, not what the buyer did."
    assert finding.suggestion == f"Write what the buyer did, e.g. '{rewrite}'."


@pytest.mark.parametrize("name", ["Demo", "Send proposal", "Follow up", "Discovery call", "Qualify", "Negotiation"])
def test_the_loader_warns_about_exactly_the_seller_names_the_linter_finds(name: str) -> None:
    text = f"""\
stages:
  - key: first
    name: {name}
    exit_criteria: [Buyer attended the demo]
    evidence_prompt: Show me the buyer's email.
    won: true
"""
    (warning,) = parse_pipeline(text).warnings
    (finding,) = lint_pipeline(parse_pipeline(text))
    rename = finding.suggestion.removeprefix("Rename it '").removesuffix("'.")
    assert f"e.g. '{rename}' instead of '{name}'" in warning


# --- the findings as text ------------------------------------------------------------------------


def test_each_finding_is_one_line_and_a_suggestion() -> None:
    found = findings(
        stage(name="Demo", criteria=("Buyer is interested", "We emailed the recap"), prompt="Tell me\nmore."),
        stage(key="again", name="Product reviewed", criteria=("Buyer is interested",)),
    )

    assert [(finding.stage_key, finding.field, finding.standard) for finding in found] == [
        ("product-evaluated", "name", "buyer-centric"),
        ("product-evaluated", "exit criterion 1", "factual"),
        ("product-evaluated", "exit criterion 2", "buyer-centric"),
        ("product-evaluated", "evidence_prompt", "inspectable"),
        ("again", "exit_criteria", "required"),
        ("again", "exit criterion 1", "factual"),
    ]
    for finding in found:
        where_and_what, suggestion = finding.text().split("\n")
        assert where_and_what.startswith(f"stage '{finding.stage_key}', {finding.field}: ")
        assert where_and_what.endswith(f"[{finding.standard}]")
        assert suggestion.startswith("  Suggestion: ")


def test_long_text_is_shortened_in_findings() -> None:
    finding = only_finding(stage(criteria=("Buyer is interested " + "very " * 100,)))
    assert len(finding.problem) < 160
    assert "…" in finding.problem


visible_text = st.text(min_size=1, max_size=300).filter(str.strip)


@given(name=visible_text, criteria=st.lists(visible_text, min_size=1, max_size=4), prompt=visible_text)
@example(name="Security\nreview", criteria=["Buyer is\r\ninterested", "We\nsent it"], prompt="Tell\nme")
def test_any_stage_text_gives_one_line_findings(name: str, criteria: list[str], prompt: str) -> None:
    for finding in findings(stage(name=name, criteria=tuple(criteria), prompt=prompt)):
        assert "\n" not in finding.problem and "\r" not in finding.problem
        assert "\n" not in finding.suggestion and "\r" not in finding.suggestion
        assert len(finding.problem) <= 300 and len(finding.suggestion) <= 300


@pytest.mark.parametrize(
    "criterion",
    [
        "The customer sent us their requirements",
        "CFO emailed budget approval",
        "Procurement submitted the vendor form",
        "Economic buyer said yes on a call",
        "Buyer shared a list of must-have features they like",
    ],
)
def test_a_buyer_role_or_an_article_first_is_still_the_buyer_acting(criterion: str) -> None:
    assert not criterion_is_seller_action(criterion)
    assert opinion_in(criterion) is None


@pytest.mark.parametrize("criterion", ["We emailed the recap", "The rep sent the proposal", "Send the proposal"])
def test_the_seller_acting_is_still_found(criterion: str) -> None:
    assert criterion_is_seller_action(criterion)


@pytest.mark.parametrize(
    "prompt",
    ["Attach the signed NDA.", "Attach the SOW.", "Upload the redlines.", "Show me their security questionnaire."],
)
def test_common_buyer_documents_are_inspectable(prompt: str) -> None:
    assert is_inspectable(prompt)


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("Contract sent", "Rename it 'Contract received'."),
        ("Proposal sent", "Rename it 'Proposal received'."),
        ("Sent", "Rename it 'Proposal received'."),
        ("Verbal commit", "Rename it 'Verbal commitment given'."),
    ],
)
def test_a_seller_stage_name_gets_the_buyer_side_of_the_same_thing(name: str, suggestion: str) -> None:
    stage = Stage(
        key="k", name=name, exit_criteria=("Buyer booked the next meeting",), evidence_prompt="Show me the invite."
    )
    won = Stage(
        key="won", name="Contract signed", exit_criteria=("Buyer signed",), evidence_prompt="The PDF.", won=True
    )
    assert [finding.suggestion for finding in lint_pipeline(Pipeline((stage, won)))] == [suggestion]
