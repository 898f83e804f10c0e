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

from commands.digest.report import Digest, StageConversion, StageGroup, StageTotal
from commands.digest.text import with_change
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
X_HEADROOM = 1.2  # room right of the longest bar, at least
MIN_BAR_SHARE = 0.3  # of the axes' width, left to the longest bar however long its label
BAR_LABEL_SIZE = 9.5
ARROW_ROWS = 0.5
PANEL_GAP_IN = 0.1
TITLE_IN = 0.3
PIPELINE_LABEL = "Pipeline"
CUSTOMERS_LABEL = "Customers"

OPEN_COLOR = "#4a78b5"
WON_COLOR = "#2e9e5b"
WORST_COLOR = "#c0392b"
TEXT_COLOR = "#222222"
MUTED_COLOR = "#6b6b6b"

# PNG metadata defaults to the matplotlib version; leaving it out keeps the bytes stable across upgrades.
PNG_METADATA: dict[str, str | None] = {"Software": None}


def render_chart(digest: Digest) -> bytes:
    """Two panels, each with its own scale: the pipeline (stages before the win) above the customers (the won
    stage and after), so a large base of live customers never flattens the pipeline's bars."""
    groups = [(PIPELINE_LABEL, digest.pipeline), (CUSTOMERS_LABEL, digest.customers)]
    groups = [(label, group) for label, group in groups if group.stages]
    rows = tuple(total for _, group in groups for total in group.stages)
    empty = all(total.deals == 0 for total in rows)
    # Each panel's span in rows: its bars, and under the pipeline's last bar its arrow into the customers.
    arrows = [index == 0 and len(groups) > 1 for index in range(len(groups))]
    panel_rows = [
        len(group.stages) + (ARROW_ROWS if arrow else 0) for (_, group), arrow in zip(groups, arrows, strict=True)
    ]
    height = (
        MIN_HEIGHT_IN
        if empty
        else max(
            MIN_HEIGHT_IN,
            TOP_IN + BOTTOM_IN + ROW_HEIGHT_IN * sum(panel_rows) + (PANEL_GAP_IN + TITLE_IN) * len(groups),
        )
    )

    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    figure.subplots_adjust(
        left=LEFT_IN / WIDTH_IN,
        right=1 - RIGHT_IN / WIDTH_IN,
        top=1 - (TOP_IN + TITLE_IN) / height,
        bottom=BOTTOM_IN / height,
        hspace=(PANEL_GAP_IN + TITLE_IN) / (ROW_HEIGHT_IN * max(sum(panel_rows), 1) / max(len(groups), 1)),
    )

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
        _draw_empty(figure, figure.add_subplot())
    else:
        conversion = {entry.stage.key: entry for entry in digest.conversion}
        grid = figure.add_gridspec(len(groups), 1, height_ratios=panel_rows)
        for index, (label, group) in enumerate(groups):
            axes = figure.add_subplot(grid[index])
            _draw_funnel(axes, group.stages, conversion, canvas.get_renderer(), arrow_after_last=arrows[index])
            axes.set_title(
                panel_title(label, group), loc="left", fontsize=11, fontweight="bold", color=TEXT_COLOR, pad=6
            )
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
    *,
    arrow_after_last: bool = False,
) -> None:
    """One panel's bars on its own scale; `arrow_after_last` leaves room under the last bar for its stage's
    conversion into the next panel's first stage."""
    positions = range(len(rows))
    worst = {key for key, entry in conversion.items() if entry.worst}
    widest = max(max(total.deals for total in rows), 1)
    scale = _scale(rows, renderer)

    bars = axes.barh(
        positions,
        [total.deals for total in rows],
        height=BAR_HEIGHT,
        color=[WON_COLOR if total.stage.won else OPEN_COLOR for total in rows],
        edgecolor=[WORST_COLOR if total.stage.key in worst else "none" for total in rows],
        linewidth=2,
    )
    axes.set_xlim(0, scale)
    axes.set_ylim(len(rows) - 0.5 + (ARROW_ROWS if arrow_after_last else 0), -0.5)  # pipeline order reads top to bottom

    pad = widest * 0.012
    for bar, total in zip(bars, rows, strict=True):
        axes.text(
            bar.get_width() + pad,
            bar.get_y() + bar.get_height() / 2,
            bar_label(total),
            fontsize=BAR_LABEL_SIZE,
            color=TEXT_COLOR,
            va="center",
            ha="left",
            parse_math=False,
        )

    for position, total in enumerate(rows if arrow_after_last else rows[:-1]):
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


def _scale(rows: tuple[StageTotal, ...], renderer: RendererAgg) -> float:
    """The x-axis' end: each bar's label, right of it, ends inside the image (at least `X_HEADROOM` times the
    widest bar)."""
    axes_px = (WIDTH_IN - LEFT_IN - RIGHT_IN) * DPI
    font = FontProperties(size=BAR_LABEL_SIZE)
    scale = max(max(total.deals for total in rows), 1) * X_HEADROOM
    for total in rows:
        label_px = renderer.get_text_width_height_descent(bar_label(total), font, ismath=False)[0] + 12
        room = max(axes_px - label_px, axes_px * MIN_BAR_SHARE)
        scale = max(scale, total.deals * axes_px / room)
    return scale


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


def panel_title(label: str, group: StageGroup) -> str:
    """`Pipeline: 114 deals · 5,154,085 (scale of its own)`: the panel's totals."""
    return f"{label}: " + " · ".join(with_change(group.deals, group.value_cents, group.change, money=format_amount))


def bar_label(total: StageTotal) -> str:
    """The stage's deals and value, each with its change since a week earlier when it has one."""
    return " · ".join(with_change(total.deals, total.value_cents, total.change, money=format_amount))


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
    return (
        f"Open deals by stage, each panel on its own scale · → share that moves on{expected} · "
        f"dates in {digest.period.tz}"
    )


def shorten(name: str, limit: int = NAME_LIMIT) -> str:
    return clip(" ".join(name.split()), limit)
