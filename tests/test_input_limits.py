"""Input limits and spoofing, end to end: signed requests into the real app, what is stored, what Slack is sent.

Each class of bad input (too long, NUL and other control characters, unpaired surrogates, bidi controls and
zero-width characters, credentials in links, labels that name another host) gets a clear refusal that says
what was wrong and changes nothing; what is accepted is stored clean and shown so that it cannot pass for
something else. The parser's side is in `tests/test_parsing.py`; the renderer's below.
"""

import itertools
import json
from typing import Any

import pytest
from sqlmodel import col, select

from bot.blocks import APPROVE_ACTION, REASON_BLOCK, REASON_INPUT, REJECT_VIEW
from bot.listeners.payload import slash_ids
from bot.mrkdwn import clip_mrkdwn, escape, link, plain
from commands.deals.evidence import Evidence
from commands.errors import CommandError
from commands.text_rules import (
    COMPANY_LIMIT,
    EVIDENCE_COUNT_LIMIT,
    NAME_LIMIT,
    NOTE_LIMIT,
    REASON_LIMIT,
    URL_LIMIT,
    clean_text,
    is_visible,
    label_misleads,
)
from storage.models import Announcement, Deal, MoveRequest
from tests.conftest import MANAGER, RunningBot
from tests.slack_requests import Response, block_action, view_submission
from tests.test_fuzz_requests import form, payload_of, snapshot

REFUSAL = ":no_entry_sign:"
triggers = itertools.count(1)


def command(bot: RunningBot, name: str, text: str, **kw: Any) -> Response:
    """A slash command as Slack sends it, with a trigger id of its own (each command Slack sends has one)."""
    return bot.command(name, text, trigger_id=f"trig-limits-{next(triggers)}", **kw)


SLACK_TEXT_LIMIT = 4_000  # Slack's advice for a message's `text`; it truncates at 40,000


def shown(response: Response) -> str:
    assert response.status == 200
    return str(response.json()["text"])


def refused(bot: RunningBot, name: str, text: str, **kw: Any) -> str:
    """The refusal the user sees; asserts that nothing was stored."""
    before = snapshot(bot.runtime.engine)
    answer = shown(command(bot, name, text, **kw))
    assert answer.startswith(REFUSAL), answer
    assert snapshot(bot.runtime.engine) == before
    return answer


def deal(bot: RunningBot, number: int = 1) -> Deal:
    with bot.services.sessions() as session:
        return session.exec(select(Deal).where(Deal.number == number)).one()


def pending_move(bot: RunningBot) -> MoveRequest:
    with bot.services.sessions() as session:
        return session.exec(select(MoveRequest).order_by(col(MoveRequest.id).desc()).limit(1)).one()


def posts_delivered(bot: RunningBot) -> bool:
    with bot.services.sessions() as session:
        return all(row.status == "sent" for row in session.exec(select(Announcement)).all())


def new_deal(bot: RunningBot, name: str = "Acme renewal") -> Deal:
    assert "Created deal-" in shown(command(bot, "/deal", f"new {name}"))
    bot.slack.wait_for(lambda: deal(bot).thread_ts is not None and posts_delivered(bot))
    return deal(bot)


def asked_move(bot: RunningBot, evidence: str) -> dict[str, Any]:
    """Ask to move deal-1 with `evidence`; the thread message that shows the move."""
    assert "Asked to move" in shown(command(bot, "/advance", f"deal-1 {evidence}"))
    bot.slack.wait_for(lambda: pending_move(bot).message_ts is not None and posts_delivered(bot))
    (message,) = [m for m in bot.slack.messages if "asks to move" in m["text"]]
    return message


def mrkdwn_of(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks", []), ensure_ascii=False)


# ---------------------------------------------------------------- lengths


def test_each_text_over_its_limit_is_refused_naming_the_limit(bot: RunningBot) -> None:
    assert "201 characters long; the most is 200" in refused(bot, "/deal", "new " + "n" * (NAME_LIMIT + 1))
    new_deal(bot, "n" * NAME_LIMIT)
    assert deal(bot).name == "n" * NAME_LIMIT
    refusals = {
        (
            "/deal",
            "new Acme company:" + "c" * (COMPANY_LIMIT + 1),
        ): "The company is 201 characters long; the most is 200",
        (
            "/deal",
            "lost deal-1 reason:" + "r" * (REASON_LIMIT + 1),
        ): "The reason is 1,001 characters long; the most is 1,000",
        (
            "/advance",
            "deal-1 evidence:https://x.example note:" + "n" * (NOTE_LIMIT + 1),
        ): "The note is 1,001 characters",
        (
            "/advance",
            "deal-1 " + " ".join(f"evidence:https://x.example/{i}" for i in range(EVIDENCE_COUNT_LIMIT + 1)),
        ): "11 evidence links; the most is 10",
        (
            "/advance",
            "deal-1 evidence:https://x.example/" + "a" * URL_LIMIT,
        ): "2,018 characters long; the most is 2,000",
    }
    for (name, text), said in refusals.items():
        assert said in refused(bot, name, text)
    calls = len(bot.slack.calls)
    answer = refused(bot, "/deal", "new " + "x" * 2_000_000)
    assert "2,000,004 characters long; the most is 50,000" in answer
    assert len(answer) < 2_000
    assert bot.slack.calls[calls:] == []


def test_the_longest_valid_inputs_fit_slacks_limits(bot: RunningBot) -> None:
    """A deal and a move with every field at its limit: every message's fallback `text` stays short, every
    block is within Block Kit's limits (the fake Slack checks), and no link is cut in half."""
    new_deal(bot, "N" * NAME_LIMIT + " company:" + "C" * COMPANY_LIMIT)
    links = " ".join(
        f"evidence:<https://x.example/{i}/{'p' * (URL_LIMIT - 40)}|{'L' * 100}>" for i in range(EVIDENCE_COUNT_LIMIT)
    )
    asked_move(bot, f"{links} note:{'n' * NOTE_LIMIT}")
    shown(command(bot, "/deal", "show deal-1"))
    assert "Marked deal-1" in shown(command(bot, "/deal", "lost deal-1 reason:" + "r" * REASON_LIMIT))
    bot.slack.wait_for(lambda: [m for m in bot.slack.messages if "marked" in m["text"]])
    for call in bot.slack.calls:
        text = call.args.get("text")
        assert not isinstance(text, str) or len(text) <= SLACK_TEXT_LIMIT, (call.method, len(text or ""))
    for message in bot.slack.messages:
        for block in message.get("blocks") or []:
            inner = json.dumps(block, ensure_ascii=False)
            assert inner.count("<https://") == inner.count("|L")  # every link starts and ends in one piece


# ---------------------------------------------------------------- characters that cannot be stored, invisible ones


def test_names_with_control_or_only_invisible_characters_are_refused_and_bidi_is_removed(bot: RunningBot) -> None:
    for text, said in {
        "new Acme\x00 deal": "The command has a NUL character (U+0000), which can't be stored",
        "new \x1b[31mRed": "a control character (U+001B)",
        "new \u200b\u200b": "Give the deal a name",
        "new \u202e\u2066": "Give the deal a name",
        "new \u3164\u3164": "Give the deal a name",
        "new \ufeff \u2060": "Give the deal a name",
        "new Acme company:\u200b": "company: is empty",
    }.items():
        assert said in refused(bot, "/deal", text), text
    new_deal(bot, "Invoice \u202efdp.exe\u202c for \u200bAcme")
    assert deal(bot).name == "Invoice fdp.exe for Acme"
    assert "\u202e" not in json.dumps(bot.slack.messages[0], ensure_ascii=False)


def reject(bot: RunningBot, move_id: int, reason: str) -> Response:
    body = view_submission(
        REJECT_VIEW,
        {REASON_BLOCK: {REASON_INPUT: reason}},
        private_metadata=json.dumps({"move_id": move_id, "channel_id": "C_SALES"}),
        user_id=MANAGER,
    )
    return bot.sender.post(body)


def test_a_bad_rejection_reason_keeps_the_form_open_and_a_good_one_is_stored_clean(bot: RunningBot) -> None:
    new_deal(bot)
    asked_move(bot, "evidence:https://mail.example.com/m/1")
    move = pending_move(bot)
    assert move.id is not None
    before = snapshot(bot.runtime.engine)
    for reason, said in {
        "no\x00pe": "The reason has a NUL character (U+0000)",
        "broken \ud800 text": "unpaired surrogate, U+D800",  # JSON carries one; a form cannot
        "\u200b\u202e\u3164 \u2060": "Say why the move is rejected",
        "r" * (REASON_LIMIT + 1): "1,001 characters long; the most is 1,000",
    }.items():
        answer = reject(bot, move.id, reason).json()
        assert answer["response_action"] == "errors"
        assert said in answer["errors"][REASON_BLOCK]
        assert snapshot(bot.runtime.engine) == before
    assert reject(bot, move.id, "  Not the\u202e buyer  \n\n\u200bsigned by us  ").text == ""
    assert pending_move(bot).decision_reason == "Not the buyer\nsigned by us"


def click(value: str) -> dict[str, Any]:
    return payload_of(block_action(APPROVE_ACTION, value, user_id=MANAGER, message_ts="1700000000.000100"))


def test_button_values_and_ids_with_nul_or_surrogates_change_nothing(bot: RunningBot) -> None:
    new_deal(bot)
    asked_move(bot, "evidence:https://mail.example.com/m/1")
    before = snapshot(bot.runtime.engine)
    for value in ["1\x00", "\ud800", "\x00"]:
        assert bot.sender.post(form(click(value))).status == 200
    notes = bot.slack.wait_for(lambda: [e for e in bot.slack.ephemerals if e["user"] == MANAGER], count=3)
    assert all("does not name a move" in note["text"] for note in notes)
    move_id = str(pending_move(bot).id)
    for where in ([("user", "id")], [("team", "id"), ("user", "team_id")]):  # actor_of falls back on user.team_id
        for spoiled in ("U_MGR\x00", "U_MGR\ud800", "U" * 40):
            payload = click(move_id)
            for outer, inner in where:
                payload[outer][inner] = spoiled
            assert bot.sender.post(form(payload)).status == 200
    assert snapshot(bot.runtime.engine) == before
    payload = click(move_id)
    payload["channel"]["id"] = payload["container"]["channel_id"] = "C\x00"
    assert bot.sender.post(form(payload)).status == 200  # only the channel is bad: the decision stands
    bot.slack.wait_for(lambda: pending_move(bot).status == "approved")
    assert "\\x00" not in repr(snapshot(bot.runtime.engine))


# Slack's ids are short ASCII; a NUL or 40 characters reached the database (stored on SQLite, "the database did
# not answer" on PostgreSQL) until bot/listeners/slash.py read them through `slash_ids`. Unpaired surrogates
# cannot be form-encoded, so over HTTP they cannot arrive here at all (Socket Mode's JSON can: see below).
def test_slash_command_ids_that_cannot_be_slack_ids_are_refused(bot: RunningBot) -> None:
    before = snapshot(bot.runtime.engine)
    for field in ("user_id", "team_id", "channel_id"):
        for spoiled in ("U\x00X", "U" * 40):
            fields = {"user_id": "U_REP", "trigger_id": f"trig-limits-{next(triggers)}", field: spoiled}
            response = bot.sender.command("/deal", "new Acme", **fields)
            assert "without a usable user, workspace or channel id" in shown(response)
    assert snapshot(bot.runtime.engine) == before


@pytest.mark.parametrize("field", ["user_id", "team_id", "channel_id"])
@pytest.mark.parametrize("spoiled", ["U\x00X", "U" * 40, "U\ud800", "", None, 5])
def test_slash_ids_refuse_what_is_not_a_slack_id(field: str, spoiled: Any) -> None:
    command = {"user_id": "U_REP", "team_id": "T1", "channel_id": "C_SALES", field: spoiled}
    with pytest.raises(CommandError, match="usable user, workspace or channel id"):
        slash_ids(command)
    command[field] = "X1"
    actor, channel = slash_ids(command)
    assert (actor.user_id, actor.team_id, channel) == (command["user_id"], command["team_id"], command["channel_id"])


# ---------------------------------------------------------------- links


def test_links_with_passwords_or_invisible_characters_are_refused_and_others_are_shown_honestly(
    bot: RunningBot,
) -> None:
    new_deal(bot)
    answer = refused(bot, "/advance", "deal-1 evidence:https://rep:hunter2@crm.example/deal/1")
    assert "user name or password" in answer and "crm.example/deal/1" in answer
    assert "hunter2" not in answer and "rep:" not in answer
    assert "invisible character (U+200B)" in refused(bot, "/advance", "deal-1 evidence:https://pay\u200bpal.example/x")
    message = asked_move(
        bot,
        "evidence:<https://evil.example/login|https://bank.example/statement> evidence:<https://аpple.example/po|PO>"
        " to:needs-confirmed",
    )
    text = mrkdwn_of(message)
    assert "bank.example" not in text
    assert "<https://evil.example/login|evil.example/login>" in text
    assert "<https://аpple.example/po|PO> (xn--pple-43d.example)" in text
    assert pending_move(bot).evidence[0]["label"] == "https://bank.example/statement"  # stored as given


# ---------------------------------------------------------------- the renderer (links stored before the rules)


@pytest.mark.parametrize(
    ("evidence", "shown_as"),
    [
        (Evidence("https://evil.example/a", "paypal.com"), "<https://evil.example/a|evil.example/a>"),
        (
            Evidence("https://evil.example/a", "https://paypal.com@evil.example"),
            "<https://evil.example/a|evil.example/a>",
        ),
        (Evidence("https://evil.example/a", "ｐａｙｐａｌ．ｃｏｍ"), "<https://evil.example/a|evil.example/a>"),
        (Evidence("https://evil.example/a", "10.0.0.1/login"), "<https://evil.example/a|evil.example/a>"),
        (Evidence("https://docs.acme.com/a", "acme.com"), "<https://docs.acme.com/a|acme.com>"),
        (Evidence("https://x.example/a", "signed contract.pdf"), "<https://x.example/a|signed contract.pdf>"),
        (Evidence("https://u:p@x.example/a", None), "<https://x.example/a|x.example/a>"),
        (Evidence("https://x.example/a", "\u202eFDP\u202c"), "<https://x.example/a|FDP>"),
        (Evidence("https://x.example/a", "\u200b"), "<https://x.example/a|x.example/a>"),
        (
            Evidence("https://straße.example/a", "Signed PO"),
            "<https://straße.example/a|Signed PO> (xn--strae-oqa.example)",
        ),
        (
            Evidence("https://bücher.example/a", None),
            "<https://bücher.example/a|bücher.example/a> (xn--bcher-kva.example)",
        ),
    ],
)
def test_links_never_show_another_host_or_hidden_characters(evidence: Evidence, shown_as: str) -> None:
    assert link(evidence) == shown_as


def test_shown_text_drops_bidi_controls_even_from_old_rows() -> None:
    assert escape("a\u202eb<c") == "ab&lt;c"
    assert plain("x\u2066y").text == "xy"
    assert escape("👩\u200d💻") == "👩\u200d💻"  # a joiner inside an emoji stays


def test_clipping_never_cuts_a_link_in_half() -> None:
    text = "see <https://x.example/" + "a" * 50 + "|label> and more"
    assert clip_mrkdwn(text, 30) == "see …"
    assert clip_mrkdwn(text, 1_000) == text


@pytest.mark.parametrize(
    ("label", "url", "misleads"),
    [
        ("acme.com", "http://acme.com", False),
        ("www.acme.com", "https://acme.com", True),
        ("Buyer's reply", "https://mail.example.com", False),
        ("mail.example.com/m/1", "https://mail.example.com/m/1", False),
        ("пример.рф", "https://xn--e1afmkfd.xn--p1ai/", False),
        ("пример.рф", "https://evil.example/", True),
        ("straße.example", "https://strasse.example/", True),  # browsers look these two up apart (IDNA 2008)
        ("ＡＣＭＥ.com", "https://acme.com/", False),
        ("http://10.0.0.1/", "https://evil.example/", True),
    ],
)
def test_label_misleads(label: str, url: str, misleads: bool) -> None:
    assert label_misleads(label, url) is misleads


def test_clean_text_and_visibility() -> None:
    assert clean_text("  a\u200bb\u202e  c\u3164d\n e ") == "ab c d e"
    assert clean_text("می\u200cخواهم") == "می\u200cخواهم"  # Persian needs its non-joiner
    for text in ("a\u200c\u2800", "a\u200d\u200db", "\u200da", "a\u200c \u3164"):
        assert clean_text(clean_text(text)) == clean_text(text)
    assert not is_visible("\u200b\u3164\u2800\u0301")
    assert is_visible("ok")
