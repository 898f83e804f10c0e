"""manifest.yml is a valid Slack app manifest and matches what the code does."""

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.fakes.slack_api import method_facts

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "data" / "manifest.schema.1.0.0.json"
METHODS = method_facts()

# Scopes no single method names: posting in public channels the bot has not joined.
SCOPES_WITHOUT_A_METHOD = {"chat:write.public", "commands"}
# Scopes an event needs (Slack's event reference): the bot hears that it was invited to a public channel with
# channels:read, to a private one with groups:read.
EVENT_SCOPES = {"member_joined_channel": {"channels:read", "groups:read"}}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slacks_schema(manifest: dict[str, Any]) -> None:
    jsonschema.validate(manifest, json.loads(SCHEMA.read_text()))


def test_every_command_the_app_handles_is_in_the_manifest_and_escaped(manifest: dict[str, Any]) -> None:
    handled = set(re.findall(r'app\.command\("(/[a-z]+)"\)', (ROOT / "bot/listeners/slash.py").read_text()))
    declared = {command["command"]: command for command in manifest["features"]["slash_commands"]}
    assert set(declared) == handled
    # The parser expects Slack's escaped forms of mentions and links (it accepts raw text too).
    assert all(command["should_escape"] is True for command in declared.values())


def test_socket_mode_interactivity_and_events_are_on(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    handled_events = set(re.findall(r'app\.event\("([a-z_]+)"\)', (ROOT / "bot/listeners/events.py").read_text()))
    assert set(settings["event_subscriptions"]["bot_events"]) == handled_events


def web_api_methods_the_bot_calls() -> set[str]:
    source = "\n".join(path.read_text() for path in (ROOT / "bot").rglob("*.py"))
    calls = re.findall(r"\b(chat|views|users|files|conversations|reactions|team)_([a-zA-Z0-9_]+)\b", source)
    methods = set()
    for family, name in calls:
        parts = name.split("_")
        camel = parts[0] + "".join(part.title() for part in parts[1:])
        methods.add(f"{family}.{camel}")
    if "files.uploadV2" in methods:  # slack_sdk's helper for Slack's three-step upload
        methods |= {"files.getUploadURLExternal", "files.completeUploadExternal"}
    return {method for method in methods if method in METHODS}


def test_scopes_are_exactly_those_the_bot_uses(manifest: dict[str, Any]) -> None:
    methods = web_api_methods_the_bot_calls()
    assert {
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "views.open",
        "views.publish",
        "users.info",
        "files.getUploadURLExternal",
    } <= methods
    needed = set()
    for method in methods:
        scopes = METHODS[method]["bot_scopes"]
        if scopes:
            needed.add(scopes[0])
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        needed |= EVENT_SCOPES.get(event, set())
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    assert needed <= granted
    assert granted - needed <= SCOPES_WITHOUT_A_METHOD
