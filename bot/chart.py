"""The digest's pipeline funnel as a PNG, drawn with matplotlib's Agg canvas.

`pyplot` is never imported: it keeps global figure state and is not thread-safe, and the scheduler
and listeners may render charts concurrently. Every text call passes `parse_math=False` because
stage names are user text and a pair of `$` would otherwise switch on mathtext.
"""

import io

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch

from commands.digest.report import Digest, StageConversion, StageTotal
from commands.formats import clip, format_amount, period_label, plural

DPI = 100
WIDTH_IN = 10.0
MIN_HEIGHT_IN = 6.0
ROW_HEIGHT_IN = 0.45
TOP_IN = 1.0  # title and subtitle
BOTTOM_IN = 0.7  # won/lost footer and legend
LEFT_IN = 2.7  # stage names
RIGHT_IN = 0.3
NAME_LIMIT = 32
LABEL_PAD_PT = 8
LABEL_SIZE = 10
BAR_HEIGHT = 0.58
X_HEADROOM = 1.5  # room right of the longest bar for its label

OPEN_COLOR = "#4a78b5"
WON_COLOR = "#2e9e5b"
WORST_COLOR = "#c0392b"
TEXT_COLOR = "#222222"
MUTED_COLOR = "#6b6b6b"

# PNG metadata defaults to the matplotlib version; leaving it out keeps the bytes stable across upgrades.
PNG_METADATA: dict[str, str | None] = {"Software": None}


def render_chart(digest: Digest) -> bytes:
    rows = digest.by_stage
    empty = all(total.deals == 0 for total in rows)
    height = MIN_HEIGHT_IN if empty else max(MIN_HEIGHT_IN, TOP_IN + BOTTOM_IN + ROW_HEIGHT_IN * len(rows))

    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    figure.subplots_adjust(
        left=LEFT_IN / WIDTH_IN,
        right=1 - RIGHT_IN / WIDTH_IN,
        top=1 - TOP_IN / height,
        bottom=BOTTOM_IN / height,
    )
    axes = figure.add_subplot()

    figure.text(
        0.02,
        1 - 0.3 / height,
        f"Pipeline, {period_label(digest.period)}",
        fontsize=16,
        fontweight="bold",
        color=TEXT_COLOR,
        va="center",
        parse_math=False,
    )
    figure.text(
        0.02,
        1 - 0.65 / height,
        subtitle(digest),
        fontsize=10,
        color=MUTED_COLOR,
        va="center",
        parse_math=False,
    )
    figure.text(
        0.02,
        0.3 / height,
        outcome_line(digest),
        fontsize=10,
        color=TEXT_COLOR,
        va="center",
        parse_math=False,
    )

    if empty:
        _draw_empty(figure, axes)
    else:
        conversion = {entry.stage.key: entry for entry in digest.conversion}
        _draw_funnel(axes, rows, conversion, canvas.get_renderer())
        figure.legend(
            handles=_legend(rows, conversion),
            loc="center right",
            bbox_to_anchor=(1 - RIGHT_IN / WIDTH_IN, 0.3 / height),
            ncols=3,
            frameon=False,
            fontsize=9,
        )

    buffer = io.BytesIO()
    canvas.print_png(buffer, metadata=PNG_METADATA)
    return buffer.getvalue()


def _draw_funnel(
    axes: Axes,
    rows: tuple[StageTotal, ...],
    conversion: dict[str, StageConversion],
    renderer: RendererAgg,
) -> None:
    positions = range(len(rows))
    worst = {key for key, entry in conversion.items() if entry.worst}
    widest = max(total.deals for total in rows)

    bars = axes.barh(
        positions,
        [total.deals for total in rows],
        height=BAR_HEIGHT,
        color=[WON_COLOR if total.stage.won else OPEN_COLOR for total in rows],
        edgecolor=[WORST_COLOR if total.stage.key in worst else "none" for total in rows],
        linewidth=2,
    )
    axes.set_xlim(0, widest * X_HEADROOM)
    axes.set_ylim(len(rows) - 0.5, -0.5)  # pipeline order reads top to bottom

    pad = widest * 0.012
    for bar, total in zip(bars, rows, strict=True):
        axes.text(
            bar.get_width() + pad,
            bar.get_y() + bar.get_height() / 2,
            bar_label(total),
            fontsize=9.5,
            color=TEXT_COLOR,
            va="center",
            ha="left",
            parse_math=False,
        )

    for position, total in enumerate(rows[:-1]):
        entry = conversion.get(total.stage.key)
        axes.text(
            pad,
            position + 0.5,
            conversion_label(entry),
            fontsize=8.5,
            va="center",
            ha="left",
            parse_math=False,
            color=WORST_COLOR if entry is not None and entry.worst else MUTED_COLOR,
            fontweight="bold" if entry is not None and entry.worst else "normal",
        )

    axes.set_yticks(list(positions))
    # Room left of the axes, less the tick pad and a small margin from the image's edge.
    room = LEFT_IN * DPI - LABEL_PAD_PT * DPI / 72 - 12
    marked = [total.stage.key in worst or total.stage.won for total in rows]
    names = [_fit(total.stage.name, bold, room, renderer) for total, bold in zip(rows, marked, strict=True)]
    labels = axes.set_yticklabels(names, fontsize=LABEL_SIZE, parse_math=False)
    for label, total, bold in zip(labels, rows, marked, strict=True):
        if bold:
            label.set_color(WORST_COLOR if total.stage.key in worst else WON_COLOR)
            label.set_fontweight("bold")
    axes.tick_params(axis="y", length=0, pad=LABEL_PAD_PT)
    axes.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    axes.spines["left"].set_color("#bbbbbb")


def _legend(rows: tuple[StageTotal, ...], conversion: dict[str, StageConversion]) -> list[Patch]:
    handles = [Patch(facecolor=OPEN_COLOR, label="Open deals")]
    if any(total.stage.won for total in rows):
        handles.append(Patch(facecolor=WON_COLOR, label="Won stage"))
    if any(entry.worst for entry in conversion.values()):
        handles.append(Patch(facecolor="white", edgecolor=WORST_COLOR, linewidth=2, label="Lowest conversion"))
    return handles


def _fit(name: str, bold: bool, room_px: float, renderer: RendererAgg) -> str:
    """The longest shortening of a stage name that fits left of the axes at the label's weight."""
    font = FontProperties(size=LABEL_SIZE, weight="bold" if bold else "normal")
    limit = NAME_LIMIT
    while limit > 4 and renderer.get_text_width_height_descent(shorten(name, limit), font, ismath=False)[0] > room_px:
        limit -= 1
    return shorten(name, limit)


def _draw_empty(figure: Figure, axes: Axes) -> None:
    axes.set_axis_off()
    # Centred on the image, not the axes, which sit right of the room kept for stage names.
    figure.text(
        0.5,
        0.55,
        "No open deals",
        fontsize=22,
        color=MUTED_COLOR,
        ha="center",
        va="center",
        parse_math=False,
    )
    figure.text(
        0.5,
        0.45,
        "Add one with /deal new to see the funnel here.",
        fontsize=11,
        color=MUTED_COLOR,
        ha="center",
        va="center",
        parse_math=False,
    )


def bar_label(total: StageTotal) -> str:
    return f"{plural(total.deals, 'deal')} · {format_amount(total.value_cents)}"


def conversion_label(entry: StageConversion | None) -> str:
    rate = None if entry is None else entry.current.next_rate
    text = "→ —" if rate is None else f"→ {rate:.0%}"
    return f"{text}  lowest" if entry is not None and entry.worst else text


def outcome_line(digest: Digest) -> str:
    won, lost = digest.won_in_period, digest.lost_in_period
    return (
        f"Won this period: {plural(won.deals, 'deal')} · {format_amount(won.value_cents)}"
        f"      Lost: {plural(lost.deals, 'deal')} · {format_amount(lost.value_cents)}"
    )


def subtitle(digest: Digest) -> str:
    """What the bars and arrows mean, and the forecast in one phrase."""
    forecast = digest.forecast
    expected = (
        f" · forecast: about {forecast.expected_wins:.1f} wins (80% likely {forecast.wins_low}–{forecast.wins_high})"
        if forecast.open_deals
        else ""
    )
    return f"Open deals by stage · → share that moves on{expected} · dates in {digest.period.tz}"


def shorten(name: str, limit: int = NAME_LIMIT) -> str:
    return clip(" ".join(name.split()), limit)
