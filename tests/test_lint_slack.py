"""`/pipeline lint` and the help of `/deal`, `/advance` and `/pipeline`, through signed requests into the app."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.mrkdwn import MESSAGE_BLOCK_LIMIT, SECTION_TEXT_LIMIT, escape
from bot.slash_grammar import ADVANCE_USAGE
from commands.pipeline.lint import lint_pipeline
from commands.pipeline.loading import load_pipeline
from storage.models import Deal, MoveRequest
from tests.conftest import (
    MANAGER,
    SQLITE_PREFIX,
    RunningBot,
    migrate,
    running_bot,
)
from tests.fakes.slack_api import FakeSlack
from tests.test_slack_flows import mrkdwn_texts, shown

BAD_PIPELINE = """\
stages:
  - key: demo
    name: Demo
    exit_criteria:
      - "Buyer is interested <!channel> & <https://evil.example|invoice>"
    evidence_prompt: Tell me how it went.
  - key: contract-signed
    name: Contract signed
    exit_criteria:
      - Buyer signed the contract
    evidence_prompt: Show me the signed contract.
    won: true
"""


def many_findings(stages: int) -> str:
    """A pipeline whose every stage is a name without a past tense, an opinion, and a prompt naming nothing."""
    lines = ["stages:"]
    for number in range(1, stages + 1):
        lines += [
            f"  - key: s{number}",
            f"    name: Stage number {number} of a long and winding pipeline",
            "    exit_criteria:",
            f"      - Buyer is interested in option {number} and very keen on the long list of other options",
            f"    evidence_prompt: Tell me about how number {number} went, in as many words as you like.",
        ]
    lines.append("    won: true")
    return "\n".join(lines) + "\n"


@contextmanager
def bot_running(database_url: str, slack: FakeSlack, pipeline_file: Path, template: Path) -> Iterator[RunningBot]:
    """The app as `python app.py` builds it with PIPELINE_FILE set, served on a free port."""
    if database_url.startswith(SQLITE_PREFIX):
        migrate(database_url, template)
    with running_bot(database_url, slack, managers=MANAGER, pipeline_file=pipeline_file) as running:
        yield running
    assert slack.violations == [], "the bot sent something Slack would refuse"


@pytest.fixture
def linted(database_url: str, slack: FakeSlack, sqlite_template: Path, tmp_path: Path) -> Iterator[RunningBot]:
    pipeline_file = tmp_path / "pipeline.yaml"
    pipeline_file.write_text(BAD_PIPELINE, encoding="utf-8")
    with bot_running(database_url, slack, pipeline_file, sqlite_template) as running:
        yield running


def blocks_within_limits(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = message["blocks"]
    assert len(blocks) <= MESSAGE_BLOCK_LIMIT
    for block in blocks:
        texts = [block["text"]] if "text" in block else block.get("elements", [])
        assert all(len(text["text"]) <= SECTION_TEXT_LIMIT for text in texts)
    return blocks


def test_the_default_pipeline_has_no_findings(bot: RunningBot) -> None:
    response = bot.command("/pipeline", "lint")

    assert shown(response) == (
        ":white_check_mark: No findings: the pipeline's 7 stages are required, factual, inspectable and buyer-centric."
    )


def test_lint_lists_the_findings_of_the_pipeline_the_app_runs_with(linted: RunningBot) -> None:
    message = linted.command("/pipeline", "lint").json()

    assert message["text"] == "Pipeline lint: 3 findings in 2 stages"
    blocks = blocks_within_limits(message)
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": message["text"], "emoji": True}}
    findings = "\n".join(mrkdwn_texts(message))
    assert (
        "• *stage 'demo', name* (buyer-centric): 'Demo' names what the seller does, not what the buyer has done.\n"
        "    → Rename it 'Product evaluated'."
    ) in findings
    assert "• *stage 'demo', exit criterion 1* (factual): 'Buyer is interested &lt;!channel&gt; &amp; " in findings
    assert "• *stage 'demo', evidence_prompt* (inspectable): 'Tell me how it went.'" in findings
    assert all("<!channel>" not in text and "<https://evil" not in text for text in mrkdwn_texts(message))


def test_lint_stays_within_block_kit_limits_and_counts_the_rest(
    database_url: str, slack: FakeSlack, sqlite_template: Path, tmp_path: Path
) -> None:
    pipeline_file = tmp_path / "pipeline.yaml"
    pipeline_file.write_text(many_findings(300), encoding="utf-8")
    total = len(lint_pipeline(load_pipeline(pipeline_file)))
    assert total == 900

    with bot_running(database_url, slack, pipeline_file, sqlite_template) as running:
        message = running.command("/pipeline", "lint").json()

    blocks = blocks_within_limits(message)
    listed = sum(block["text"]["text"].count("• *stage '") for block in blocks if block["type"] == "section")
    more = blocks[-1]["elements"][0]["text"]
    assert (
        more
        == f"and {total - listed} more not shown: run `salesbot lint FILE` on the pipeline file to see every finding"
    )
    assert 0 < listed < total


def test_lint_takes_no_words(linted: RunningBot) -> None:
    refused = shown(linted.command("/pipeline", "lint pipeline.yaml"))
    assert "Unexpected 'pipeline.yaml' after /pipeline lint." in refused


# --- help ------------------------------------------------------------------------------------------


def test_advance_help_is_the_usage_and_changes_nothing(bot: RunningBot) -> None:
    bot.command("/deal", "new Acme")
    response = bot.command("/advance", "help")

    text = shown(response)
    assert text.startswith("How to use `/advance`:")
    assert "Example: `/advance deal-42 evidence:https://mail.example.com/buyer-reply note:CFO confirmed budget`" in text
    assert ":no_entry_sign:" not in text
    assert text == escape(str(ADVANCE_USAGE))
    bot.settle()
    with bot.services.sessions() as session:
        assert session.exec(select(MoveRequest)).all() == []
        assert [deal.stage_key for deal in session.exec(select(Deal)).all()] == ["meeting-booked"]


@pytest.mark.parametrize(
    ("command", "text", "expected"),
    [
        ("/deal", "help", ["How to use `/deal`:", "Example: `/deal list all stage:proposal-received`"]),
        ("/pipeline", "help", ["`/pipeline lint` checks the stages", "Example: `/pipeline managers add @Dana`"]),
    ],
)
def test_help_gives_the_grammar_with_examples(bot: RunningBot, command: str, text: str, expected: list[str]) -> None:
    message = json.dumps(bot.command(command, text).json(), ensure_ascii=False)
    for part in expected:
        assert part in message


@pytest.mark.parametrize(
    ("command", "text", "suggestion"),
    [
        ("/deal", "lsit all", "'lsit' is not part of /deal. Did you mean `/deal list`?"),
        ("/pipeline", "lnit", "'lnit' is not part of /pipeline. Did you mean `/pipeline lint`?"),
        ("/advance", "hlep", "'hlep' is not part of /advance. Did you mean `/advance help`?"),
    ],
)
def test_an_unknown_subcommand_suggests_the_closest(bot: RunningBot, command: str, text: str, suggestion: str) -> None:
    refused = shown(bot.command(command, text))

    assert refused.startswith(f":no_entry_sign: {suggestion}\n*Usage:* How to use `{command}`:")
    with bot.services.sessions() as session:
        assert session.exec(select(Deal)).all() == []
