"""The statistics page's SVG charts, read back as XML the way a browser would see them."""

import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest
from jinja2 import Environment
from markupsafe import Markup

from app.stats.charts import Point, bar_chart, line_chart

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = 'Kazakhstan <script>alert("x")</script> & "Co"'


def parse(chart: Markup) -> ET.Element:
    return ET.fromstring(str(chart))


def months(count: int) -> list[Point]:
    return [Point(f"{2021 + i // 12}-{i % 12 + 1:02d}", 10 + i, str(10 + i))
            for i in range(count)]


def texts(svg: ET.Element) -> list[ET.Element]:
    return list(svg.iter(f"{NS}text"))


def text_contents(svg: ET.Element) -> list[str]:
    return [element.text or "" for element in texts(svg)]


def bar_rects(svg: ET.Element) -> list[ET.Element]:
    return [group.find(f"{NS}rect") for group in svg.iter(f"{NS}g")]


def polyline_xs(svg: ET.Element) -> list[list[float]]:
    return [[float(pair.split(",")[0]) for pair in line.get("points").split()]
            for line in svg.iter(f"{NS}polyline")]


def baseline_y(svg: ET.Element) -> float:
    return max(float(line.get("y1")) for line in svg.iter(f"{NS}line"))


def withheld_markers(svg: ET.Element) -> list[ET.Element]:
    return [circle for circle in svg.iter(f"{NS}circle") if circle.get("fill") == "none"]


ALL_CHARTS = [
    line_chart(months(12), title="Calls"),
    line_chart([Point("2026-01", None, "<10"), Point("2026-02", 40, "40")], title="Calls"),
    line_chart([], title="Calls"),
    bar_chart([Point("Kazakhstan", 100, "100"), Point("Tajikistan", None, "<10")], title="By"),
    bar_chart([], title="By country"),
]


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_charts_pass_the_pages_content_security_policy(chart):
    svg = parse(chart)
    elements = list(svg.iter())
    assert not [element for element in elements if "style" in element.attrib]
    tags = {element.tag.removeprefix(NS) for element in elements}
    assert not tags & {"style", "script", "image", "foreignObject", "use", "a"}
    assert not [element for element in elements
                if any("href" in name for name in element.attrib)]


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_charts_scale_to_a_phone_screen(chart):
    svg = parse(chart)
    assert svg.get("width") == "100%"
    assert svg.get("height") is None
    assert svg.get("preserveAspectRatio", "").endswith("meet")
    _, _, view_width, view_height = (float(n) for n in svg.get("viewBox").split())
    assert view_height > 0
    # At 360 px wide the text must still be at least 10 px high.
    assert float(svg.get("font-size")) * 360 / view_width >= 10


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_charts_are_announced_as_images_with_their_title(chart):
    svg = parse(chart)
    assert svg.get("role") == "img"
    assert svg.get("aria-label") == svg.find(f"{NS}title").text
    assert svg.find(f"{NS}title").text in {"Calls", "By", "By country"}


@pytest.mark.parametrize("chart_function", [line_chart, bar_chart])
def test_hostile_labels_and_titles_come_out_as_text(chart_function):
    points = [Point(HOSTILE, 5, "5 <b>&</b>"), Point("Tajikistan", None, "<10")]
    chart = chart_function(points, title=HOSTILE)
    assert "<script>" not in chart and "<b>" not in chart
    svg = parse(chart)
    assert not list(svg.iter(f"{NS}script"))
    assert svg.find(f"{NS}title").text == HOSTILE
    assert svg.get("aria-label") == HOSTILE
    tips = [title.text for title in svg.iter(f"{NS}title")]
    assert f"{HOSTILE}: 5 <b>&</b>" in tips
    assert "Tajikistan: <10" in tips


def test_chart_is_inserted_as_is_by_an_autoescaping_template():
    chart = bar_chart([Point("A & B", 3, "3")], title="T")
    assert isinstance(chart, Markup)
    page = Environment(autoescape=True).from_string("<main>{{ chart }}</main>").render(chart=chart)
    assert page == f"<main>{chart}</main>"
    assert "A &amp; B" in page and "&amp;amp;" not in page


def test_bar_lengths_are_proportional_to_values():
    points = [Point("Kazakhstan", 100, "100"), Point("Uzbekistan", 50, "50"),
              Point("Kyrgyzstan", 25, "25")]
    widths = [float(rect.get("width")) for rect in bar_rects(parse(bar_chart(points, title="T")))]
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.1)
    assert widths[2] == pytest.approx(widths[0] / 4, abs=0.1)


def test_percentages_are_drawn_in_proportion_too():
    points = [Point("Answered", 85.5, "85.5%"), Point("Missed", 14.25, "14.25%")]
    widths = [float(rect.get("width")) for rect in bar_rects(parse(bar_chart(points, title="T")))]
    assert widths[1] / widths[0] == pytest.approx(14.25 / 85.5, rel=0.01)


def test_bars_keep_the_given_order_one_row_each_with_its_figure():
    points = [Point("Uzbekistan", 50, "50"), Point("Kazakhstan", 100, "100"),
              Point("Kyrgyzstan", 0, "0")]
    svg = parse(bar_chart(points, title="T"))
    rows = list(svg.iter(f"{NS}g"))
    assert [row.find(f"{NS}title").text for row in rows] == [
        "Uzbekistan: 50", "Kazakhstan: 100", "Kyrgyzstan: 0"]
    assert [[text.text for text in row.iter(f"{NS}text")] for row in rows] == [
        ["Uzbekistan", "50"], ["Kazakhstan", "100"], ["Kyrgyzstan", "0"]]
    ys = [float(rect.get("y")) for rect in bar_rects(svg)]
    assert ys == sorted(ys) and len(set(ys)) == 3


def test_value_text_sits_at_the_end_of_its_bar():
    svg = parse(bar_chart([Point("A", 100, "100"), Point("B", 40, "40")], title="T"))
    for row in svg.iter(f"{NS}g"):
        rect, value = row.find(f"{NS}rect"), row.findall(f"{NS}text")[-1]
        bar_end = float(rect.get("x")) + float(rect.get("width"))
        assert bar_end < float(value.get("x")) < bar_end + 10


def test_more_rows_make_a_taller_chart():
    def height(count: int) -> float:
        chart = bar_chart([Point(f"Country {i}", i, str(i)) for i in range(count)], title="T")
        return float(parse(chart).get("viewBox").split()[3])

    assert height(1) < height(5) < height(20)


def test_a_withheld_bar_is_an_outlined_placeholder_not_a_zero():
    points = [Point("Kazakhstan", 100, "100"), Point("Tajikistan", None, "<10"),
              Point("Turkmenistan", 0, "0")]
    svg = parse(bar_chart(points, title="T"))
    full, withheld, zero = bar_rects(svg)
    assert float(withheld.get("width")) > 0 and float(withheld.get("height")) > 0
    assert withheld.get("fill") == "none"
    assert withheld.get("stroke-dasharray")
    assert full.get("fill") not in (None, "none")
    assert float(zero.get("width")) == 0
    assert "<10" in text_contents(svg)


def test_a_withheld_bar_does_not_hint_at_its_size():
    small = parse(bar_chart([Point("A", 1000, "1,000"), Point("B", None, "<10")], title="T"))
    large = parse(bar_chart([Point("A", 20, "20"), Point("B", None, "<10")], title="T"))
    assert bar_rects(small)[1].get("width") == bar_rects(large)[1].get("width")


def test_all_withheld_bars_still_show_their_rows():
    points = [Point("A", None, "<10"), Point("B", None, "<10")]
    svg = parse(bar_chart(points, title="T"))
    assert all(rect.get("fill") == "none" for rect in bar_rects(svg))
    assert text_contents(svg).count("<10") == 2


def test_a_long_label_is_shortened_on_screen_but_whole_in_the_tooltip():
    label = "United Arab Emirates, including transit through Dubai airport"
    svg = parse(bar_chart([Point(label, 7, "7")], title="T"))
    shown = texts(svg)[0].text
    assert shown.endswith("…") and len(shown) < len(label)
    assert svg.find(f"{NS}g/{NS}title").text == f"{label}: 7"


def test_line_is_broken_around_a_withheld_point():
    points = [Point("2026-01", 30, "30"), Point("2026-02", 40, "40"),
              Point("2026-03", None, "<10"), Point("2026-04", 20, "20"),
              Point("2026-05", 25, "25")]
    svg = parse(line_chart(points, title="T"))
    segments = polyline_xs(svg)
    assert len(segments) == 2
    (marker,) = withheld_markers(svg)
    gap_x = float(marker.get("cx"))
    assert max(segments[0]) < gap_x < min(segments[1])
    assert marker.find(f"{NS}title").text == "2026-03: <10"
    assert "<10" in text_contents(svg)


def test_a_withheld_point_is_not_drawn_at_zero():
    points = [Point("2026-01", 30, "30"), Point("2026-02", None, "<10")]
    svg = parse(line_chart(points, title="T"))
    (marker,) = withheld_markers(svg)
    assert float(marker.get("cy")) != baseline_y(svg)
    assert len([c for c in svg.iter(f"{NS}circle") if c.get("fill") != "none"]) == 1


def test_a_zero_is_drawn_on_the_axis():
    points = [Point("2026-01", 30, "30"), Point("2026-02", 0, "0"), Point("2026-03", 10, "10")]
    svg = parse(line_chart(points, title="T"))
    dots = list(svg.iter(f"{NS}circle"))
    assert float(dots[1].get("cy")) == baseline_y(svg)
    assert polyline_xs(svg) and len(polyline_xs(svg)) == 1
    assert [dot.find(f"{NS}title").text for dot in dots] == [
        "2026-01: 30", "2026-02: 0", "2026-03: 10"]


@pytest.mark.parametrize(("values", "top_label"), [
    ([1234, 800], "2,000"), ([7, 3], "10"), ([85.5, 60.0], "100"), ([0.37, 0.1], "0.5"),
    ([0, 0], "5"), ([50_000, 1], "50,000"), ([1000, 10], "1,000"),
])
def test_y_axis_runs_from_zero_to_a_round_number(values, top_label):
    points = [Point(f"2026-0{i + 1}", value, str(value)) for i, value in enumerate(values)]
    svg = parse(line_chart(points, title="T"))
    ticks = [text for text in texts(svg) if text.get("text-anchor") == "end"]
    ticks.sort(key=lambda text: float(text.get("y")))
    assert ticks[0].text == top_label and ticks[-1].text == "0"
    gridlines = len(list(svg.iter(f"{NS}line"))) - 1  # the axis itself is not a gridline
    assert 3 <= gridlines <= 5


def test_sixty_months_get_at_most_eight_x_labels_that_do_not_overlap():
    points = months(60)
    svg = parse(line_chart(points, title="T"))
    labels = {point.label for point in points}
    shown = [text for text in texts(svg) if text.text in labels]
    assert 2 <= len(shown) <= 8
    assert shown[0].text == "2021-01"
    xs = [float(text.get("x")) for text in shown]
    # "2021-01" at 12 px is about 45 px wide.
    assert min(b - a for a, b in pairwise(xs)) >= 48
    assert len(list(svg.iter(f"{NS}circle"))) == 60


def test_even_short_labels_are_thinned_to_eight():
    points = [Point(str(day), day, str(day)) for day in range(1, 61)]
    svg = parse(line_chart(points, title="T"))
    shown = [text for text in texts(svg) if text.get("text-anchor") == "middle"]
    assert 2 <= len(shown) <= 8


def test_few_points_are_all_labelled():
    svg = parse(line_chart(months(4), title="T"))
    assert [text.text for text in texts(svg) if text.get("text-anchor") == "middle"] == [
        "2021-01", "2021-02", "2021-03", "2021-04"]


def test_a_single_point_is_a_dot_without_a_line():
    svg = parse(line_chart([Point("2026-03", 12, "12")], title="T"))
    assert not list(svg.iter(f"{NS}polyline"))
    (dot,) = svg.iter(f"{NS}circle")
    assert dot.find(f"{NS}title").text == "2026-03: 12"
    assert "2026-03" in text_contents(svg)


@pytest.mark.parametrize("points", [[], [Point("2026-01", None, "<10")] * 3])
def test_a_line_chart_without_figures_says_so(points):
    svg = parse(line_chart(points, title="Calls"))
    assert "No figures" in text_contents(svg)
    assert list(svg.iter(f"{NS}line"))  # the axes are still drawn
    assert not list(svg.iter(f"{NS}polyline"))
    assert len(withheld_markers(svg)) == len(points)


def test_an_empty_bar_chart_says_so():
    svg = parse(bar_chart([], title="By country"))
    assert text_contents(svg) == ["No figures"]
    assert svg.find(f"{NS}title").text == "By country"
