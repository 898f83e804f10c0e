import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from matplotlib.image import imread

from bot.chart import OPEN_COLOR, WON_COLOR, conversion_label, render_chart, shorten, subtitle
from commands.digest.report import (
    Conversion,
    Digest,
    Forecast,
    Listing,
    Period,
    StageConversion,
    StageGroup,
    StageTotal,
    Stalled,
    Total,
)
from commands.formats import period_days
from commands.i18n.translator import ENGLISH
from commands.pipeline.stages import Stage

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOV_16 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
NOV_23 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def stage(index: int, name: str, *, won: bool = False) -> Stage:
    return Stage(key=f"stage-{index}", name=name, exit_criteria=("x",), evidence_prompt="y", won=won)


def conversion_of(entered: int, moved_on: int) -> Conversion:
    """Stays that all ended: `moved_on` of `entered` moved on, the rest were lost."""
    return Conversion(
        entered=entered,
        moved_on=moved_on,
        skipped=0,
        dropped_out=entered - moved_on,
        lost=entered - moved_on,
        moved_back=0,
        still_open=0,
        next_rate=moved_on / entered if entered else None,
        next_rate_raw=moved_on / entered if entered else None,
        rate_basis=entered,
        won_rate=None,
        median_days=None,
        watched_days=0.0,
    )


def digest(
    rows: list[tuple[str, int, int]],
    *,
    rates: list[tuple[int, int]] | None = None,
    worst: int | None = None,
    period: Period | None = None,
) -> Digest:
    """A digest whose last stage is the won stage; `rates` are (entered, reached_next) per stage."""
    stages = [stage(index, name, won=index == len(rows) - 1) for index, (name, _, _) in enumerate(rows)]
    totals = tuple(StageTotal(s, count, cents) for s, (_, count, cents) in zip(stages, rows, strict=True))
    rates = rates or [(0, 0)] * len(rows)
    conversion = tuple(
        StageConversion(
            stage=s,
            current=conversion_of(entered, reached),
            previous=conversion_of(0, 0),
            worst=index == worst,
        )
        for index, (s, (entered, reached)) in enumerate(zip(stages, rates, strict=True))
    )
    empty: Listing[Any] = Listing((), 0)
    return Digest(
        team_id="T1",
        as_of=NOV_23,
        period=period or Period(start=NOV_16, end=NOV_23, tz="Europe/Paris"),
        window_days=7,
        by_stage=totals,
        won_in_period=StageTotal(stages[-1], 2, 1_250_000),
        lost_in_period=Total(1, 300_000),
        week_earlier=NOV_16,
        pipeline=StageGroup(totals[:-1]),
        customers=StageGroup(totals[-1:]),
        transitions=(),
        notable_moves=(),
        lost_reasons=empty,
        approved=empty,
        rejected=empty,
        new_deals=empty,
        lost_deals=empty,
        pending=empty,
        stalled=Stalled(empty, empty, empty),
        conversion=conversion,
        forecast=Forecast(0.0, 0, 0, 0, 30, 0.0, 0, 0, 0, ()),
    )


def typical() -> Digest:
    return digest(
        [
            ("Problem acknowledged", 14, 4_200_000_00),
            ("Discovery call held with the economic buyer and champion", 9, 3_150_000_00),
            ("Proposal requested", 5, 1_800_000_50),
            ("Verbal commit", 2, 900_000_00),
            ("Closed won", 3, 1_250_000_00),
        ],
        rates=[(20, 12), (12, 5), (6, 3), (3, 0), (0, 0)],
        worst=1,
    )


def decode(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_SIGNATURE)
    return imread(io.BytesIO(png))


def test_typical_pipeline_is_a_slack_sized_png() -> None:
    image = decode(render_chart(ENGLISH, typical()))

    height, width = image.shape[:2]
    assert width == 1000
    assert height == 600


def test_empty_pipeline_renders_a_note_instead_of_bars() -> None:
    empty = digest([("Problem acknowledged", 0, 0), ("Proposal requested", 0, 0), ("Closed won", 0, 0)])

    image = decode(render_chart(ENGLISH, empty))

    assert image.shape[:2] == (600, 1000)
    assert render_chart(ENGLISH, empty) != render_chart(ENGLISH, typical())


def test_single_stage_pipeline() -> None:
    image = decode(render_chart(ENGLISH, digest([("Closed won", 4, 100)])))

    assert image.shape[:2] == (600, 1000)


def test_thirty_stages_with_long_names_grow_the_image() -> None:
    rows = [(f"{index} " + "Very long stage name $with$ dollars " * 6, index, index * 12_345) for index in range(30)]
    rows = [(name[:200], count, cents) for name, count, cents in rows]
    assert all(len(name) == 200 for name, _, _ in rows)

    image = decode(render_chart(ENGLISH, digest(rows, rates=[(10, index % 10) for index in range(30)], worst=7)))

    height, width = image.shape[:2]
    assert width == 1000
    assert height > 1000
    # Names are shortened to fit, so no label runs off the image's left edge.
    assert np.all(image[:, :4, :3] == 1.0)


def test_same_input_gives_the_same_bytes() -> None:
    assert render_chart(ENGLISH, typical()) == render_chart(ENGLISH, typical())


def test_concurrent_renders_do_not_interfere() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        charts = list(pool.map(lambda _: render_chart(ENGLISH, typical()), range(8)))

    assert set(charts) == {render_chart(ENGLISH, typical())}


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (NOV_16, NOV_23, "16–23 Nov 2026"),
        (datetime(2026, 11, 15, 23, 0, tzinfo=UTC), datetime(2026, 11, 22, 23, 0, tzinfo=UTC), "16–22 Nov 2026"),
        (datetime(2026, 11, 28, 8, 0, tzinfo=UTC), datetime(2026, 12, 5, 8, 0, tzinfo=UTC), "28 Nov – 5 Dec 2026"),
        (datetime(2026, 12, 28, 8, 0, tzinfo=UTC), datetime(2027, 1, 4, 8, 0, tzinfo=UTC), "28 Dec 2026 – 4 Jan 2027"),
        (datetime(2026, 11, 23, 8, 0, tzinfo=UTC), datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "23 Nov 2026"),
    ],
)
def test_period_days_uses_local_days_with_an_exclusive_end(start: datetime, end: datetime, expected: str) -> None:
    assert period_days(ENGLISH, Period(start=start, end=end, tz="Europe/Paris")) == expected


def test_conversion_label() -> None:
    worst = typical().conversion[1]
    unknown = typical().conversion[-1]

    assert conversion_label(ENGLISH, typical().conversion[0]) == "→ 60%"
    assert conversion_label(ENGLISH, worst) == "→ 42%  lowest"
    assert conversion_label(ENGLISH, unknown) == "→ —"
    assert conversion_label(ENGLISH, None) == "→ —"


def test_shorten_keeps_short_names_and_ellipsises_long_ones() -> None:
    assert shorten("Proposal requested") == "Proposal requested"
    assert shorten("a  b\nc") == "a b c"
    long = shorten("x" * 200)
    assert len(long) == 32
    assert long.endswith("…")


def test_subtitle_says_what_the_arrows_mean_and_gives_the_forecast() -> None:
    quiet = typical()
    assert subtitle(ENGLISH, quiet) == (
        "Open deals by stage, each panel on its own scale · → share that moves on · dates in Europe/Paris"
    )
    forecast = Forecast(4.56, 100, 3, 6, 30, 1.0, 10, 8, 14, ())
    assert subtitle(ENGLISH, replace(quiet, forecast=forecast)) == (
        "Open deals by stage, each panel on its own scale · → share that moves on · forecast: about 4.6 wins "
        "(80% likely 3–6) · dates in Europe/Paris"
    )


def longest_run(image: np.ndarray, color: str) -> int:
    """The longest horizontal run of pixels of `color` (a bar's length in pixels)."""
    rgb = np.array([int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    matches = np.all(np.abs(image[:, :, :3] - rgb) < 0.01, axis=2)
    longest = 0
    for row in matches:
        padded = np.concatenate(([0], row.astype(int), [0]))
        edges = np.flatnonzero(np.diff(padded))
        if edges.size:
            longest = max(longest, int((edges[1::2] - edges[::2]).max()))
    return longest


def test_pipeline_and_customers_have_their_own_scales() -> None:
    """A thousand customers in the won stage do not flatten a ten-deal pipeline: each panel's widest bar spans
    most of the axes (700 px wide)."""
    image = decode(
        render_chart(ENGLISH, digest([("Meeting booked", 10, 100), ("Proposal", 4, 40), ("Won", 1000, 10_000)]))
    )

    assert longest_run(image, OPEN_COLOR) > 300
    assert longest_run(image, WON_COLOR) > 300
