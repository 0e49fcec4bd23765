"""Server-rendered SVG charts for the coordinators' statistics page.

The console runs under ``default-src 'none'; style-src 'self'``, so a chart library in the
browser is out, and so are ``style`` attributes: the charts are inline SVG made of
presentation attributes only. Figures withheld by disclosure control (``value=None``) must
never look like a zero, so they get a dashed placeholder and their display text instead.
The viewBox is 360 units wide, a phone's width, so a font size of 12 stays 12 px there.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, FONT_SIZE, MARGIN = 360, 12, 4.0
CHAR_WIDTH = 7.0  # average advance of a sans-serif glyph at FONT_SIZE; keeps texts apart
BLUE, GRID, INK, DASH = "#1f4e79", "#999", "#333", "3 2"  # blue and ink pass WCAG AA on white
NO_FIGURES, MAX_X_LABELS = "No figures", 8
PLOT_TOP, PLOT_BOTTOM, LINE_HEIGHT = 12.0, 172.0, 200
ROW_HEIGHT, BAR_THICKNESS, PLACEHOLDER_WIDTH = 24, 16, 24.0


@dataclass(frozen=True)
class Point:
    """One figure: a period or category, its value and the text shown for it."""

    label: str
    value: int | float | None  # None: withheld by disclosure control
    display: str


@dataclass(frozen=True)
class _Plot:
    """Maps point indices and values of a line chart to viewBox coordinates."""

    left: float
    right: float
    count: int
    top_value: float

    def x(self, index: int) -> float:
        if self.count < 2:
            return (self.left + self.right) / 2
        return self.left + (self.right - self.left) * index / (self.count - 1)

    def y(self, value: float) -> float:
        return PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * value / self.top_value


def _svg(height: float, title: str, body: list[str]) -> Markup:
    # No width in units and no height: the browser scales the chart to its container and
    # keeps the aspect ratio of the viewBox.
    label = escape(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:g}"'
        f' width="100%" preserveAspectRatio="xMidYMin meet" role="img" aria-label="{label}"'
        f' font-size="{FONT_SIZE}" fill="{INK}"><title>{label}</title>{"".join(body)}</svg>'
    )


def _text(x: float, y: float, content: str, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(content)}</text>'


def _tip(point: Point) -> str:
    return f"<title>{escape(point.label)}: {escape(point.display)}</title>"


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def _nice_scale(values: Sequence[float]) -> tuple[float, int]:
    """Top of the y axis (1, 2 or 5 x 10^n) and the number of gridline intervals."""
    peak = max(values, default=0)
    if all(isinstance(value, int) for value in values):
        peak = max(peak, 5)  # counts: no gridlines at 0.2, 0.4, ...
    exponent = math.floor(math.log10(peak if peak > 0 else 1))
    for mantissa, intervals in ((1, 5), (2, 4), (5, 5)):
        top = mantissa * 10.0**exponent
        if top >= peak * (1 - 1e-9):  # log10 and powers of ten are not exact in floats
            return top, intervals
    return 10 * 10.0**exponent, 5


def _tick_label(value: float) -> str:
    value = round(value, 9)  # 0.6000000000000001 -> 0.6
    return f"{int(value):,}" if value == int(value) else f"{value:g}"


def _y_grid(plot: _Plot, intervals: int) -> list[str]:
    body = []
    for step in range(intervals + 1):
        value = plot.top_value * step / intervals
        y = plot.y(value)
        body.append(f'<line x1="{plot.left:.1f}" y1="{y:.1f}" x2="{plot.right:.1f}"'
                    f' y2="{y:.1f}" stroke="{GRID}" stroke-width="{1 if step else 1.5}"/>')
        body.append(_text(plot.left - 4, y + 4, _tick_label(value), "end"))
    return body


def _x_labels(plot: _Plot, points: Sequence[Point]) -> list[str]:
    # Labels are centred on their points: label every step-th point, the step being the
    # smallest that keeps neighbours a label's width apart and at most MAX_X_LABELS shown.
    slot = max((_text_width(point.label) for point in points), default=0) + 8
    spacing = (plot.right - plot.left) / max(len(points) - 1, 1)
    step = max(1, math.ceil(slot / spacing), math.ceil(len(points) / MAX_X_LABELS))
    return [_text(plot.x(index), PLOT_BOTTOM + 18, points[index].label, "middle")
            for index in range(0, len(points), step)]


def _runs(points: Sequence[Point]) -> list[list[int]]:
    """Indices of the stretches of consecutive points that have a value."""
    runs: list[list[int]] = [[]]
    for index, point in enumerate(points):
        if point.value is None:
            runs.append([])
        else:
            runs[-1].append(index)
    return [run for run in runs if run]


def _line(plot: _Plot, points: Sequence[Point]) -> list[str]:
    # One polyline per stretch of figures: a withheld figure breaks the line, as drawing
    # through it would invent a value. Every figure also gets a dot carrying its title.
    body = []
    for run in _runs(points):
        xy = " ".join(f"{plot.x(i):.1f},{plot.y(points[i].value or 0):.1f}" for i in run)
        if len(run) > 1:
            body.append(f'<polyline points="{xy}" fill="none" stroke="{BLUE}"'
                        ' stroke-width="2" stroke-linejoin="round"/>')
    radius = 3 if len(points) <= 24 else 2
    body += [f'<circle cx="{plot.x(index):.1f}" cy="{plot.y(point.value):.1f}" r="{radius}"'
             f' fill="{BLUE}">{_tip(point)}</circle>'
             for index, point in enumerate(points) if point.value is not None]
    return body


def _withheld_markers(plot: _Plot, points: Sequence[Point]) -> list[str]:
    # A hollow dashed ring above the axis, not on it, so it does not read as a zero; its
    # text is written only where it does not run into the previous one.
    body, free_from, ring_y = [], -math.inf, PLOT_BOTTOM - 10
    for index, point in enumerate(points):
        if point.value is not None:
            continue
        x, width = plot.x(index), _text_width(point.display)
        body.append(f'<circle cx="{x:.1f}" cy="{ring_y:.1f}" r="3.5" fill="none"'
                    f' stroke="{BLUE}" stroke-dasharray="2 1.5">{_tip(point)}</circle>')
        if x - width / 2 >= free_from:
            body.append(_text(x, ring_y - 7, point.display, "middle"))
            free_from = x + width / 2 + 4
    return body


def line_chart(points: list[Point], *, title: str) -> Markup:
    """A time series, points in order from left to right, y from zero to a round number."""
    values = [point.value for point in points if point.value is not None]
    top_value, intervals = _nice_scale(values)
    ticks_width = _text_width(_tick_label(top_value)) + 8
    half_label = max((_text_width(point.label) for point in points), default=0) / 2
    plot = _Plot(left=max(ticks_width, half_label, 24.0), right=WIDTH - max(half_label, 8.0),
                 count=len(points), top_value=top_value)
    body = _y_grid(plot, intervals) + _x_labels(plot, points)
    if not values:
        body.append(_text((plot.left + plot.right) / 2, (PLOT_TOP + PLOT_BOTTOM) / 2,
                          NO_FIGURES, "middle"))
    body += _line(plot, points) + _withheld_markers(plot, points)
    return _svg(LINE_HEIGHT, title, body)


def _fit(label: str, width: float) -> str:
    """The label, cut with an ellipsis if wider than width (the row's title keeps it whole)."""
    fits = _text_width(label) <= width
    return label if fits else label[: max(1, int(width // CHAR_WIDTH) - 1)] + "…"


def _bar(x: float, y: float, length: float | None) -> str:
    # A withheld figure gets an empty dashed box of fixed length: it must neither read as a
    # zero nor hint at a size.
    place = f'x="{x:.1f}" y="{y:.1f}" height="{BAR_THICKNESS}"'
    if length is None:
        return (f'<rect {place} width="{PLACEHOLDER_WIDTH:g}" fill="none" stroke="{BLUE}"'
                f' stroke-dasharray="{DASH}"/>')
    return f'<rect {place} width="{length:.1f}" fill="{BLUE}"/>'


def _bar_row(point: Point, y: float, label_width: float, length: float | None) -> str:
    # The row is a group titled with the figure, so the label, the bar and the value all
    # show it on hover or long press, even when the bar itself is zero wide.
    x = MARGIN + label_width + 8
    end = x + (PLACEHOLDER_WIDTH if length is None else length)
    text_y = y + BAR_THICKNESS - 4
    return (f"<g>{_tip(point)}{_text(x - 8, text_y, _fit(point.label, label_width), 'end')}"
            f"{_bar(x, y, length)}{_text(end + 4, text_y, point.display)}</g>")


def bar_chart(points: list[Point], *, title: str) -> Markup:
    """Horizontal bars in the given order, each as long as its share of the largest value."""
    if not points:
        return _svg(40, title, [_text(WIDTH / 2, 24, NO_FIGURES, "middle")])
    # Labels get at most a third of the width; longer ones are cut with an ellipsis.
    label_width = min(max(_text_width(point.label) for point in points), 120.0)
    value_width = max(_text_width(point.display) for point in points) + 8
    room = WIDTH - 2 * MARGIN - label_width - 8 - value_width
    peak = max((point.value for point in points if point.value is not None), default=0)
    rows = [_bar_row(point, 8 + row * ROW_HEIGHT, label_width,
                     None if point.value is None else room * max(point.value, 0) / max(peak, 1e-9))
            for row, point in enumerate(points)]
    return _svg(16 + len(points) * ROW_HEIGHT, title, rows)
