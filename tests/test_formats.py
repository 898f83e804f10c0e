"""The shared wording: counts agree with their nouns, and shortened text keeps within its limit."""

from datetime import timedelta

import pytest

from commands.formats import clip, plural, span
from commands.i18n.translator import ENGLISH


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 open deals"), (1, "1 open deal"), (2, "2 open deals"), (1200, "1,200 open deals")]
)
def test_a_count_agrees_with_its_noun(count: int, expected: str) -> None:
    assert plural(count, "open deal") == expected


def test_an_irregular_plural_is_given_whole() -> None:
    assert plural(3, "company", "companies") == "3 companies"
    assert plural(1, "company", "companies") == "1 company"


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (timedelta(minutes=59), "less than an hour"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=23, minutes=59), "23 hours"),
        (timedelta(days=1, hours=5), "1 day"),
        (timedelta(days=12), "12 days"),
    ],
)
def test_span_is_whole_days_or_hours(length: timedelta, expected: str) -> None:
    assert span(ENGLISH, length) == expected


def test_clip_keeps_short_text_and_ends_long_text_with_an_ellipsis() -> None:
    assert clip("Acme", 4) == "Acme"
    assert clip("Acme renewal", 5) == "Acme…"
    assert len(clip("x" * 500, 60)) == 60


def test_rate_and_amount() -> None:
    assert ENGLISH.percent(0.214) == "21%"
    assert ENGLISH.percent(None) == "—"
    assert ENGLISH.percent(None, unknown="-") == "-"
    assert ENGLISH.money(1_234_550, None) == "12,345.50"
    assert ENGLISH.money(-500, None) == "-5"
