"""The Persian console in Chromium: right to left, mirrored, references still readable.

A browser whose language is Persian signs in without choosing anything; the page must
then read from the right (the nav, the table's first column, the labels of the cards on
a phone) while a case reference such as "HL-7K2M9Q" stays in Latin order."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.console.browser.test_console_browser import (  # noqa: F401 - fixtures
    browser,
    live,
    queue_settled,
)
from tests.users.people import PASSWORD

WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PAGE_WIDTH_SHARE = 0.5


@pytest.fixture
def persian(live, browser) -> Iterator[Page]:  # noqa: F811 - the fixtures imported above
    """aigerim's browser, set to Persian (Iran): Accept-Language fa-IR."""
    base, _app = live
    context = browser.new_context(locale="fa-IR", viewport=WIDE)
    page = context.new_page()
    page.goto(f"{base}/console/login")
    page.fill("input[name=username]", "aigerim")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.click("form[action='/console/login'] button")
    queue_settled(page)
    yield page
    context.close()


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def right(edge: dict[str, float]) -> float:
    return edge["x"] + edge["width"]


def test_the_persian_console_reads_from_the_right(persian: Page):
    page = persian
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "fa")
    expect(page.locator("h1").first).to_have_text("صف")
    # The header: the console's name first, so at the right; the languages last, at the left.
    brand, languages = box(page, "header strong"), box(page, "header nav.languages")
    assert brand["x"] > languages["x"]
    assert right(brand) > PAGE_WIDTH_SHARE * WIDE["width"]
    # The queue's table: the case column first, at the right; "Handled by" at the left.
    first, last = box(page, ".cards thead th:first-child"), box(page, ".cards thead th:last-child")
    assert first["x"] > last["x"]
    reference = box(page, ".cards tbody td:first-child a")
    table = box(page, ".cards")
    assert right(table) - right(reference) < 16  # aligned at the start, which is the right
    assert reference["x"] - table["x"] > table["width"] / 2


def test_on_a_phone_the_cards_mirror_too(persian: Page):
    page = persian
    page.set_viewport_size(PHONE)
    expect(page.locator(".cards thead")).to_be_hidden()
    language_cell = page.locator(".cards tbody td[data-label]").nth(1)
    cell = language_cell.bounding_box()
    assert cell is not None
    # The value (its ":"-label is drawn before it, by CSS) sits in the right half.
    text_left, text_right = language_cell.evaluate(
        "cell => { const r = document.createRange(); r.selectNodeContents(cell);"
        " const b = r.getBoundingClientRect(); return [b.x, b.x + b.width]; }")
    assert cell["x"] + cell["width"] / 2 < text_left < text_right < right(cell)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_case_reference_keeps_its_latin_order_inside_persian(persian: Page):
    page = persian
    link = page.locator(".cards tbody td:first-child a").first
    reference = link.inner_text()
    assert reference.startswith("HL-") and len(reference) == 9
    link.click()
    heading = page.locator("h1")
    expect(heading).to_contain_text("پرونده")
    isolated = heading.locator("bdi")
    expect(isolated).to_have_text(reference)
    assert isolated.evaluate("e => getComputedStyle(e).direction") == "ltr"
    # Inside the reference, "HL" is drawn left of the digits that follow the hyphen...
    letters, tail = isolated.evaluate(
        "e => { const t = e.firstChild, r = document.createRange();"
        " r.setStart(t, 0); r.setEnd(t, 2); const a = r.getBoundingClientRect().x;"
        " r.setStart(t, 3); r.setEnd(t, 9); return [a, r.getBoundingClientRect().x]; }")
    assert letters < tail
    # ...and the whole reference follows the Persian word, so it sits to its left.
    word = heading.evaluate(
        "h => { const r = document.createRange(); r.setStart(h.firstChild, 0);"
        " r.setEnd(h.firstChild, 6); return r.getBoundingClientRect().x; }")
    assert isolated.bounding_box()["x"] < word
    # The caller's Kazakh words keep their own left-to-right order and alignment.
    said = page.locator(".sms p:not(.muted)").first
    expect(said).to_contain_text("Сәлеметсіз бе")
    words_left = said.evaluate(
        "p => { const r = document.createRange(); r.selectNodeContents(p);"
        " return r.getBoundingClientRect().x - p.getBoundingClientRect().x; }")
    assert words_left < 4
    # Times stay in the organisation's zone with UTC on hover, in Persian.
    opened = page.locator(".facts time").first
    assert opened.get_attribute("title").endswith(" UTC")

