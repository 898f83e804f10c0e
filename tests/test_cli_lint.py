"""`salesbot lint FILE`: findings on stdout (exit 1), none (exit 0), a file that does not load (exit 2)."""

import subprocess
import sys
from pathlib import Path

import pytest

from commands import __main__ as python_m_commands
from commands import cli
from commands.pipeline.loading import FieldLines

ROOT = Path(__file__).resolve().parents[1]

BAD_PIPELINE = """\
stages:
  - key: demo
    name: Demo
    exit_criteria:
      - Buyer is interested
    evidence_prompt: Tell me how it went.
  - key: contract-signed
    name: Contract signed
    exit_criteria:
      - The customer was interested
      - Buyer signed the contract
    evidence_prompt: Show me the signed contract.
    won: true
"""


@pytest.fixture
def here(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A working directory without `.env`, and a database that would be created there if anything touched one."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'untouched.db'}")
    monkeypatch.delenv("PIPELINE_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(BAD_PIPELINE, encoding="utf-8")
    return tmp_path


def test_a_clean_pipeline_exits_0(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lint", str(ROOT / "examples" / "pipeline.yaml")]) == 0
    assert capsys.readouterr() == (
        f"{ROOT / 'examples' / 'pipeline.yaml'}: no findings: its 5 stages are required, factual, inspectable "
        "and buyer-centric.\n",
        "",
    )
    assert not (here / "untouched.db").exists()


def test_findings_are_printed_with_their_stage_field_and_rewrite_and_exit_1(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["lint", "bad.yaml"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines() == [
        "bad.yaml, line 3: stage 'demo', name: 'Demo' names what the seller does, not what the buyer has done. "
        "[buyer-centric]",
        "  Suggestion: Rename it 'Product evaluated'.",
        "bad.yaml, line 5: stage 'demo', exit criterion 1: 'Buyer is interested' is an opinion ('interested'), "
        "not something the buyer did. [factual]",
        "  Suggestion: Write the buyer action that shows it, e.g. 'Buyer booked the next meeting'.",
        "bad.yaml, line 6: stage 'demo', evidence_prompt: 'Tell me how it went.' names nothing a manager can open "
        "(an email, invite, document...). [inspectable]",
        "  Suggestion: Name the document or message, e.g. 'Show me the buyer's reply to the recap email.'",
        "bad.yaml, line 10: stage 'contract-signed', exit criterion 1: 'The customer was interested' repeats "
        "exit criterion 1 of stage 'demo', which the buyer did to get there. [required]",
        "  Suggestion: Remove it, or replace it with what the buyer did after 'Demo'.",
        "bad.yaml, line 10: stage 'contract-signed', exit criterion 1: 'The customer was interested' is an opinion "
        "('interested'), not something the buyer did. [factual]",
        "  Suggestion: Write the buyer action that shows it, e.g. 'Buyer booked the next meeting'.",
        "bad.yaml: 5 findings in 2 stages.",
    ]
    assert not (here / "untouched.db").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stages: [", "salesbot lint: bad.yaml, line 1: YAML syntax error: expected the node content"),
        ("stages: []\n", "salesbot lint: bad.yaml, line 1: 'stages' is empty; a pipeline needs at least one stage."),
    ],
)
def test_a_file_that_does_not_load_exits_2_with_the_loaders_message(
    here: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (here / "bad.yaml").write_text(text, encoding="utf-8")

    assert cli.main(["lint", "bad.yaml"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_a_missing_file_exits_2(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lint", "nowhere.yaml"]) == 2
    assert capsys.readouterr() == (
        "",
        "salesbot lint: nowhere.yaml: pipeline file not found. Check the path, or use the default pipeline.\n",
    )


def test_python_m_commands_lint_is_the_same(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lint", "bad.yaml"]) == 1
    salesbot = capsys.readouterr()
    assert python_m_commands.main(["lint", "bad.yaml"]) == 1
    assert capsys.readouterr() == salesbot


def test_the_salesbot_script_lints_a_file(here: Path) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("salesbot")), "lint", "bad.yaml"],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (1, "")
    assert "bad.yaml, line 3: stage 'demo', name: 'Demo' names what the seller does" in done.stdout
    assert done.stdout.endswith("bad.yaml: 5 findings in 2 stages.\n")


def test_field_lines_point_at_what_a_finding_names() -> None:
    lines = FieldLines(BAD_PIPELINE)
    assert lines.of("contract-signed", "name") == 8
    assert lines.of("contract-signed", "exit criterion 2") == 11
    assert lines.of("contract-signed", "exit_criteria") == 10
    assert lines.of("contract-signed", "stall_after_days") == 7, "a field left to its default: the stage's line"
    assert lines.of("nowhere", "name") == 1
