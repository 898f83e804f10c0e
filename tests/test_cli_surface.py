"""The command line: `salesbot` and `python -m commands`, their help, one-line refusals of bad arguments."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from commands import __main__ as python_m_commands
from commands import cli

ROOT = Path(__file__).resolve().parents[1]
SUBCOMMANDS = ("digest", "import", "check", "lint")


@pytest.fixture
def nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A working directory without `.env`, and a database that would be created there if anything touched one."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'untouched.db'}")
    monkeypatch.delenv("PIPELINE_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def help_of(argv: list[str], capsys: pytest.CaptureFixture[str], *, prog: str = cli.PROG) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv, prog=prog)
    assert exited.value.code == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    return printed.out


def test_every_subcommand_is_listed_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps help to the terminal's width
    assert tuple(cli.build_parser().subcommands) == SUBCOMMANDS
    text = help_of(["--help"], capsys)
    assert text.startswith("usage: salesbot [-h] COMMAND ...\n")
    listing = text.split("commands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split()[0] for line in listing[1:]] == list(SUBCOMMANDS)  # one line each, after "COMMAND"
    assert "`python -m commands` is the same command line." in text
    assert "Run `salesbot COMMAND --help`" in text and "DATABASE_URL" in text


@pytest.mark.parametrize(
    ("subcommand", "options"),
    [
        ("digest", ["--team", "--as-of", "--tz", "--days", "--window", "--json"]),
        ("import", ["FILE", "--team", "--format", "--stage-map", "--channel", "--dry-run"]),
        ("check", ["--team", "--fix"]),
        ("lint", ["FILE"]),
    ],
)
def test_each_subcommand_has_help_with_a_description_and_examples(
    subcommand: str, options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of([subcommand, "--help"], capsys)
    assert text.startswith(f"usage: salesbot {subcommand} ")
    description = text.split("\n\n")[1]
    assert len(description.split()) >= 20  # a description, not just the usage
    examples = text.split("examples:\n", 1)[1].splitlines()
    assert examples and all(line.startswith(("  salesbot ", "      ")) for line in examples)
    assert any(line.startswith(f"  salesbot {subcommand}") for line in examples)
    assert all(option in text for option in options)


def test_help_names_the_command_as_typed(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of(["import", "--help"], capsys, prog="python -m commands")
    assert text.startswith("usage: python -m commands import ")
    assert "  python -m commands import examples/deals.csv --team T0123ABCD" in text
    assert "salesbot" not in text
    assert "`salesbot` is the same command line." in help_of(["--help"], capsys, prog="python -m commands")


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        ([], "salesbot: error: no command given: choose digest, import, check or lint. See `salesbot --help`."),
        (
            ["report"],
            "salesbot: error: argument COMMAND: invalid choice: 'report' "
            "(choose from 'digest', 'import', 'check', 'lint'). See `salesbot --help`.",
        ),
        (
            ["digest", "--teams", "T1"],
            "salesbot digest: error: unrecognized arguments: --teams T1. See `salesbot digest --help`.",
        ),
        (
            ["digest", "--as-of", "2026-13-01"],
            "salesbot digest: error: argument --as-of: '2026-13-01' is not a date: give YYYY-MM-DD, like 2026-11-23."
            " See `salesbot digest --help`.",
        ),
        (
            ["digest", "--days", "0"],
            "salesbot digest: error: argument --days: 0 days is out of range: give 1 to 366 days (the period's length)."
            " See `salesbot digest --help`.",
        ),
        (
            ["import", "deals.csv"],
            "salesbot import: error: the following arguments are required: --team. See `salesbot import --help`.",
        ),
        (
            ["import", "--team", "T1"],
            "salesbot import: error: the following arguments are required: FILE. See `salesbot import --help`.",
        ),
        (
            ["import", "deals.csv", "--team", "T1", "--format", "salesforce"],
            "salesbot import: error: argument --format: invalid choice: 'salesforce' "
            "(choose from 'ours', 'hubspot', 'pipedrive'). See `salesbot import --help`.",
        ),
        (["check", "--fix", "yes"], "salesbot check: error: unrecognized arguments: yes. See `salesbot check --help`."),
        (["lint"], "salesbot lint: error: the following arguments are required: FILE. See `salesbot lint --help`."),
    ],
)
def test_argparse_refusals_are_one_line_with_exit_2(
    nowhere: Path, argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        cli.main(argv)
    assert refused.value.code == 2
    assert capsys.readouterr() == ("", line + "\n")
    assert not (nowhere / "untouched.db").exists()


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["digest", "--tz", "Mars/Base"],
            "salesbot digest: --tz 'Mars/Base' is not a time zone: give an IANA name like Europe/Berlin or UTC",
        ),
        (["import", "missing.csv", "--team", "T1"], "salesbot import: missing.csv: no such file (the file to import)"),
        (
            ["import", "{file}", "--team", "t-1"],
            "salesbot import: --team 't-1' is not a Slack workspace id (like T0123ABCD)",
        ),
        (
            ["import", "{file}", "--team", "T1", "--format", "hubspot"],
            "salesbot import: --format hubspot needs --stage-map FILE: a YAML file mapping their stage labels to "
            "our stage keys (see examples/stage-map.yaml)",
        ),
    ],
)
def test_arguments_refused_by_the_command_are_one_line_with_exit_2(
    nowhere: Path, argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (nowhere / "deals.csv").write_text("id\n", encoding="utf-8")
    assert cli.main([argument.replace("{file}", "deals.csv") for argument in argv]) == 2
    assert capsys.readouterr() == ("", line + "\n")
    assert not (nowhere / "untouched.db").exists()


def test_salesbot_messages_name_salesbot(nowhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["digest"]) == 0
    assert capsys.readouterr().err == (
        "salesbot digest: no digest: the database holds no deals yet "
        "(create one with /deal new in Slack, or import a CRM export with `salesbot import`)\n"
    )


def test_python_m_commands_is_the_same_command_line(nowhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert python_m_commands.PROG == "python -m commands"
    assert python_m_commands.main(["check"]) == 0
    assert capsys.readouterr() == ("No differences: every deal's stage spells are what its events say.\n", "")
    with pytest.raises(SystemExit) as refused:
        python_m_commands.main(["digest", "--json", "yes"])
    assert refused.value.code == 2
    assert capsys.readouterr().err == (
        "python -m commands digest: error: unrecognized arguments: yes. See `python -m commands digest --help`.\n"
    )


@pytest.mark.parametrize(
    ("command", "prog"),
    [
        ([sys.executable, "-m", "commands"], "python -m commands"),
        # `pip install -e .` puts the console script declared in pyproject.toml beside the interpreter.
        ([str(Path(sys.executable).with_name("salesbot"))], "salesbot"),
    ],
)
def test_the_command_line_lists_every_subcommand_one_line_each(command: list[str], prog: str) -> None:
    done = subprocess.run(
        [*command, "--help"],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "80"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(f"usage: {prog} [-h] COMMAND ...")
    listing = done.stdout.split("commands:\n  COMMAND\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split()[0] for line in listing] == list(SUBCOMMANDS)
