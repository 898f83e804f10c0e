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
from matplotlib.legend import Legend
from matplotlib.patches import Patch
from matplotlib.text import Text

from commands.digest.report import Digest, StageConversion, StageGroup, StageTotal
from commands.digest.text import Money, amounts, deals_count, tenths, with_change
from commands.formats import clip, period_days
from commands.i18n.translator import N_, Translator
from commands.pipeline.names import StageName

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
MIN_FONT_SIZE = 7.0
FOOTER_IN = 0.3  # the won/lost line and the legend, side by side
FOOTER_HIGH_IN = 0.5  # the won/lost line, when it does not fit beside the legend
FOOTER_LOW_IN = 0.18  # the legend under it
# TRANSLATORS: the title of the chart's upper panel, the open deals before the win.
PIPELINE_LABEL = N_("Pipeline")
# TRANSLATORS: the title of the chart's lower panel, the won stage and the stages after it.
CUSTOMERS_LABEL = N_("Customers")

OPEN_COLOR = "#4a78b5"
WON_COLOR = "#2e9e5b"
WORST_COLOR = "#c0392b"
TEXT_COLOR = "#222222"
MUTED_COLOR = "#6b6b6b"

# PNG metadata defaults to the matplotlib version; leaving it out keeps the bytes stable across upgrades.
PNG_METADATA: dict[str, str | None] = {"Software": None}


def render_chart(t: Translator, digest: Digest) -> bytes:
    """Two panels, each with its own scale: the pipeline (stages before the win) above the customers (the won
    stage and after), so a large base of live customers never flattens the pipeline's bars. Every word and
    number in the reader's language."""
    money = amounts(t, digest.currency)
    groups = [(t(PIPELINE_LABEL), digest.pipeline), (t(CUSTOMERS_LABEL), digest.customers)]
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
        chart_title(t, digest),
        fontsize=16,
        fontweight="bold",
        color=TEXT_COLOR,
        va="center",
        parse_math=False,
    )
    explained = figure.text(
        0.02,
        1 - 0.65 / height,
        subtitle(t, digest),
        fontsize=10,
        color=MUTED_COLOR,
        va="center",
        parse_math=False,
    )
    _fit_width(explained, canvas.get_renderer())
    outcome = figure.text(
        0.02,
        FOOTER_IN / height,
        outcome_line(t, digest),
        fontsize=10,
        color=TEXT_COLOR,
        va="center",
        parse_math=False,
    )

    if empty:
        _draw_empty(t, figure, figure.add_subplot())
    else:
        conversion = {entry.stage.key: entry for entry in digest.conversion}
        grid = figure.add_gridspec(len(groups), 1, height_ratios=panel_rows)
        for index, (label, group) in enumerate(groups):
            axes = figure.add_subplot(grid[index])
            _draw_funnel(
                t, axes, group.stages, conversion, canvas.get_renderer(), money, arrow_after_last=arrows[index]
            )
            axes.set_title(
                panel_title(t, label, group, money), loc="left", fontsize=11, fontweight="bold", color=TEXT_COLOR, pad=6
            )
        legend = figure.legend(
            handles=_legend(t, rows, conversion),
            loc="center right",
            bbox_to_anchor=(1 - RIGHT_IN / WIDTH_IN, FOOTER_IN / height),
            ncols=3,
            frameon=False,
            fontsize=9,
        )
        _footer_apart(figure, outcome, legend, canvas.get_renderer(), height)

    buffer = io.BytesIO()
    canvas.print_png(buffer, metadata=PNG_METADATA)
    return buffer.getvalue()


def _draw_funnel(
    t: Translator,
    axes: Axes,
    rows: tuple[StageTotal, ...],
    conversion: dict[str, StageConversion],
    renderer: RendererAgg,
    money: Money,
    *,
    arrow_after_last: bool = False,
) -> None:
    """One panel's bars on its own scale; `arrow_after_last` leaves room under the last bar for its stage's
    conversion into the next panel's first stage."""
    positions = range(len(rows))
    worst = {key for key, entry in conversion.items() if entry.worst}
    widest = max(max(total.deals for total in rows), 1)
    scale = _scale(t, rows, renderer, money)

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
            bar_label(t, total, money),
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
            conversion_label(t, entry),
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
    names = [
        _fit(t.show(StageName(total.stage)), bold, room, renderer) for total, bold in zip(rows, marked, strict=True)
    ]
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


def _fit_width(text: Text, renderer: RendererAgg) -> None:
    """A smaller font for a line the language writes too long for the image's width (Swedish, Romanian)."""
    room = WIDTH_IN * DPI * (1 - 2 * 0.02)
    size = float(text.get_fontsize())
    while size > MIN_FONT_SIZE and text.get_window_extent(renderer).width > room:
        size -= 0.5
        text.set_fontsize(size)


def _footer_apart(figure: Figure, outcome: Text, legend: Legend, renderer: RendererAgg, height: float) -> None:
    """The won/lost line and the legend share the footer's row; where the language writes them too long for one
    row (Romanian, Swedish), the line goes above the legend."""
    if outcome.get_window_extent(renderer).x1 + 12 < legend.get_window_extent(renderer).x0:
        return
    outcome.set_y(FOOTER_HIGH_IN / height)
    legend.set_bbox_to_anchor((1 - RIGHT_IN / WIDTH_IN, FOOTER_LOW_IN / height), transform=figure.transFigure)


def _scale(t: Translator, rows: tuple[StageTotal, ...], renderer: RendererAgg, money: Money) -> float:
    """The x-axis' end: each bar's label, right of it, ends inside the image (at least `X_HEADROOM` times the
    widest bar)."""
    axes_px = (WIDTH_IN - LEFT_IN - RIGHT_IN) * DPI
    font = FontProperties(size=BAR_LABEL_SIZE)
    scale = max(max(total.deals for total in rows), 1) * X_HEADROOM
    for total in rows:
        label_px = renderer.get_text_width_height_descent(bar_label(t, total, money), font, ismath=False)[0] + 12
        room = max(axes_px - label_px, axes_px * MIN_BAR_SHARE)
        scale = max(scale, total.deals * axes_px / room)
    return scale


def _legend(t: Translator, rows: tuple[StageTotal, ...], conversion: dict[str, StageConversion]) -> list[Patch]:
    handles = [Patch(facecolor=OPEN_COLOR, label=t("Open deals"))]
    if any(total.stage.won for total in rows):
        handles.append(Patch(facecolor=WON_COLOR, label=t("Won stage")))
    if any(entry.worst for entry in conversion.values()):
        handles.append(Patch(facecolor="white", edgecolor=WORST_COLOR, linewidth=2, label=t("Lowest conversion")))
    return handles


def _fit(name: str, bold: bool, room_px: float, renderer: RendererAgg) -> str:
    """The longest shortening of a stage name that fits left of the axes at the label's weight."""
    font = FontProperties(size=LABEL_SIZE, weight="bold" if bold else "normal")
    limit = NAME_LIMIT
    while limit > 4 and renderer.get_text_width_height_descent(shorten(name, limit), font, ismath=False)[0] > room_px:
        limit -= 1
    return shorten(name, limit)


def _draw_empty(t: Translator, figure: Figure, axes: Axes) -> None:
    axes.set_axis_off()
    # Centred on the image, not the axes, which sit right of the room kept for stage names.
    figure.text(
        0.5,
        0.55,
        t("No open deals"),
        fontsize=22,
        color=MUTED_COLOR,
        ha="center",
        va="center",
        parse_math=False,
    )
    figure.text(
        0.5,
        0.45,
        t("Add one with /deal new to see the funnel here."),
        fontsize=11,
        color=MUTED_COLOR,
        ha="center",
        va="center",
        parse_math=False,
    )


def chart_title(t: Translator, digest: Digest) -> str:
    # TRANSLATORS: the chart's title: "Pipeline, 23–29 Nov 2026".
    return t("Pipeline, {period}", period=period_days(t, digest.period))


def panel_title(t: Translator, label: str, group: StageGroup, money: Money) -> str:
    """`Pipeline: 114 deals · 5,154,085 (scale of its own)`: the panel's totals."""
    return f"{label}: " + " · ".join(with_change(t, group.deals, group.value_cents, group.change, money=money))


def bar_label(t: Translator, total: StageTotal, money: Money) -> str:
    """The stage's deals and value, each with its change since a week earlier when it has one."""
    return " · ".join(with_change(t, total.deals, total.value_cents, total.change, money=money))


def conversion_label(t: Translator, entry: StageConversion | None) -> str:
    rate = None if entry is None else entry.current.next_rate
    text = f"→ {t.percent(rate)}"
    if entry is not None and entry.worst:
        # TRANSLATORS: on the chart, beside the stage that converts worst: "→ 42%  lowest".
        return t("{rate}  lowest", rate=text)
    return text


def outcome_line(t: Translator, digest: Digest) -> str:
    won, lost = digest.won_in_period, digest.lost_in_period
    money = amounts(t, digest.currency)
    return t(
        "Won this period: {won} · {won_value}      Lost: {lost} · {lost_value}",
        won=deals_count(t, won.deals),
        won_value=money(won.value_cents),
        lost=deals_count(t, lost.deals),
        lost_value=money(lost.value_cents),
    )


def subtitle(t: Translator, digest: Digest) -> str:
    """What the bars and arrows mean, and the forecast in one phrase."""
    forecast = digest.forecast
    if not forecast.open_deals:
        return t(
            "Open deals by stage, each panel on its own scale · → share that moves on · dates in {zone}",
            zone=digest.period.tz,
        )
    return t(
        "Open deals by stage, each panel on its own scale · → share that moves on · forecast: about {wins} wins "
        "({likely} likely {low}–{high}) · dates in {zone}",
        wins=tenths(t, forecast.expected_wins),
        likely=t.percent(0.8),
        low=forecast.wins_low,
        high=forecast.wins_high,
        zone=digest.period.tz,
    )


def shorten(name: str, limit: int = NAME_LIMIT) -> str:
    return clip(" ".join(name.split()), limit)
