"""Data flows one way: only bot/ talks to Slack; commands/ and storage/ never import it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SLACK_PACKAGES = ("slack_bolt", "slack_sdk")


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("package", ["commands", "storage"])
def test_slack_free_packages(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        slack = {m for m in imported_modules(path) if m.split(".")[0] in SLACK_PACKAGES or m.startswith("bot")}
        assert not slack, f"{path.relative_to(ROOT)} imports {slack}"


def test_storage_does_not_reach_up_into_commands() -> None:
    for path in (ROOT / "storage").rglob("*.py"):
        upward = {m for m in imported_modules(path) if m.split(".")[0] == "commands"}
        assert not upward, f"{path.relative_to(ROOT)} imports {upward}"
