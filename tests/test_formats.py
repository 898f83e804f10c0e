"""The shared wording: counts agree with their nouns, and shortened text keeps within its limit."""

from datetime import timedelta

import pytest

from commands.formats import clip, duration, format_amount, plural, rate


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 open deals"), (1, "1 open deal"), (2, "2 open deals"), (1200, "1,200 open deals")]
)
def test_a_count_agrees_with_its_noun(count: int, expected: str) -> None:
    assert plural(count, "open deal") == expected


def test_an_irregular_plural_is_given_whole() -> None:
    assert plural(3, "company", "companies") == "3 companies"
    assert plural(1, "company", "companies") == "1 company"


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (timedelta(minutes=59), "less than an hour"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=23, minutes=59), "23 hours"),
        (timedelta(days=1, hours=5), "1 day"),
        (timedelta(days=12), "12 days"),
    ],
)
def test_duration_is_whole_days_or_hours(span: timedelta, expected: str) -> None:
    assert duration(span) == expected


def test_clip_keeps_short_text_and_ends_long_text_with_an_ellipsis() -> None:
    assert clip("Acme", 4) == "Acme"
    assert clip("Acme renewal", 5) == "Acme…"
    assert len(clip("x" * 500, 60)) == 60


def test_rate_and_amount() -> None:
    assert rate(0.214) == "21%"
    assert rate(None) == "—"
    assert rate(None, unknown="-") == "-"
    assert format_amount(1_234_550) == "12,345.50"
    assert format_amount(-500) == "-5"
