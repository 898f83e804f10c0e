"""manifest.yml is a valid Slack app manifest and matches what the code does."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from slack_bolt import App
from slack_sdk import WebClient
from sqlmodel import select

from bot.app_factory import create_app
from bot.blocks import APPROVE_ACTION
from commands.services import Services
from storage.models import MoveRequest
from tests.conftest import MANAGER, RunningBot, drain_listeners
from tests.fakes.slack_api import BOT_USER_ID, FakeSlack, method_facts
from tests.slack_requests import SIGNING_SECRET

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


class Registered:
    """The slash commands and events the real app factory registers listeners for, as it registers them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.commands: set[str] = set()
        self.events: set[str] = set()
        monkeypatch.setattr(App, "command", self._recording(App.command, self.commands))
        monkeypatch.setattr(App, "event", self._recording(App.event, self.events))

    @staticmethod
    def _recording(register: Callable[..., Any], names: set[str]) -> Callable[..., Any]:
        def recording(app: App, name: object, *args: Any, **kw: Any) -> Any:
            names.add(str(name))
            return register(app, name, *args, **kw)

        return recording


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch, services: Services, slack: FakeSlack) -> Registered:
    found = Registered(monkeypatch)
    client = WebClient(token="xoxb-test", base_url=slack.base_url)
    create_app(services=services, signing_secret=SIGNING_SECRET, client=client)
    return found


def test_the_manifests_commands_are_those_the_app_answers_and_are_escaped(
    manifest: dict[str, Any], registered: Registered
) -> None:
    declared = {command["command"]: command for command in manifest["features"]["slash_commands"]}
    assert set(declared) == registered.commands
    # The parser expects Slack's escaped forms of mentions and links (it accepts raw text too).
    assert all(command["should_escape"] is True for command in declared.values())


def test_socket_mode_interactivity_and_the_events_the_app_answers_are_on(
    manifest: dict[str, Any], registered: Registered
) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == registered.events


def use_every_web_api_method(bot: RunningBot) -> None:
    """Drive the bot through what calls Slack: a deal's card and thread, a decision, the Home tab, a schedule in
    the manager's time zone, a digest with its chart in a public channel the bot must join, an invitation."""
    bot.slack.add_public_channel("C_SALES", members=[MANAGER])
    assert "Created deal-1" in bot.command("/deal", "new Acme").json()["text"]
    bot.command("/advance", "deal-1 evidence:https://mail.example.com/1")
    move = bot.slack.wait_for(lambda: moves_posted(bot))[0]
    bot.sender.action(APPROVE_ACTION, str(move.id), user_id=MANAGER, message_ts=move.message_ts)
    bot.sender.send_event({"type": "app_home_opened", "user": MANAGER, "tab": "home", "channel": "D1"})
    bot.command("/pipeline", "schedule daily 09:00", user=MANAGER)
    bot.command("/pipeline", "digest", user=MANAGER)
    bot.slack.add_public_channel("C_OTHER", members=[MANAGER, BOT_USER_ID])
    invited = {"type": "member_joined_channel", "user": BOT_USER_ID, "channel": "C_OTHER", "channel_type": "C"}
    bot.sender.send_event(invited, event_id="EvJoin")
    drain_listeners(bot.runtime)  # every call the bot makes after its acks has been made


def moves_posted(bot: RunningBot) -> list[MoveRequest]:
    with bot.services.sessions() as session:
        return [move for move in session.exec(select(MoveRequest)).all() if move.message_ts]


def test_scopes_are_exactly_those_the_bot_uses(manifest: dict[str, Any], bot: RunningBot) -> None:
    use_every_web_api_method(bot)
    called = {call.method for call in bot.slack.calls if call.method in METHODS}
    assert {
        "chat.postMessage",
        "chat.update",
        "views.publish",
        "users.info",
        "conversations.join",
        "files.getUploadURLExternal",
    } <= called
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    used = set()
    for method in called:
        scopes = set(METHODS[method]["bot_scopes"])
        assert not scopes or scopes & granted, f"{method} needs one of {sorted(scopes)}; none is granted"
        used |= scopes & granted
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        used |= EVENT_SCOPES.get(event, set())
    assert used <= granted
    assert granted - used <= SCOPES_WITHOUT_A_METHOD
