"""The console in a real browser: Debian's Chromium driven by Playwright, against a real
uvicorn server on its own database. No skip: a missing browser is a failure."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from app import db
from app.cases.models import Case
from app.main import create_app
from app.organisations import service as organisations
from app.organisations.models import Organisation
from app.users import service as users
from app.users.models import Role
from tests.conftest import make_settings
from tests.events.live import free_port, serving
from tests.messaging.texting import Texter
from tests.users.people import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def live(fresh_database_url) -> Iterator[tuple[str, object]]:
    """A server with the demo directory, an SMS case, and operators of two organisations."""
    db.upgrade(fresh_database_url)
    port = free_port()
    settings = make_settings(fresh_database_url, public_url=f"http://127.0.0.1:{port}")
    app = create_app(settings)
    with app.state.sessionmaker() as session, session.begin():
        organisations.load_demo_if_empty(session)
    texter = Texter(TestClient(app), settings, "+77010000601")
    for body in ("Сәлеметсіз бе, маған көмек керек", "1", "2"):
        texter.send(body)
    with app.state.sessionmaker() as session, session.begin():
        case = session.scalars(select(Case)).one()
        home = session.get_one(Organisation, case.organisation_id).slug
        users.create_user(session, "aigerim", PASSWORD, Role.OPERATOR, home)
        users.create_user(session, "olga", PASSWORD, Role.OPERATOR, "ru-moscow-shelter")
    # The server `hotline serve` runs: it ends the pages' open event streams when it stops.
    with serving(app, port) as running:
        yield running.url, app


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Chromium is missing: apt-get install chromium (.ci/run does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox"])
        yield browser
        browser.close()


def sign_in(browser: Browser, base: str, username: str) -> Page:
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # a phone
    page.goto(f"{base}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/console/login'] button")
    return page


def queue_settled(page: Page) -> None:
    """Wait for console.js's first fetch of the rows after connecting: it swaps the table
    under a test that measures it."""
    expect(page.locator("#queue-rows")).to_have_attribute("data-refreshed", re.compile(r"\d"),
                                                          timeout=10_000)


def submit(page: Page, action: str) -> None:
    """Post the form and wait for the page it redirects to (Post/Redirect/Get)."""
    with page.expect_navigation(wait_until="load"):
        page.click(f"form[action$='{action}'] button")


def open_form(page: Page, action: str) -> None:
    """Forms that are used less often sit folded in <details> to keep the page short."""
    folded = page.locator(f"details:has(form[action$='{action}']):not([open]) > summary")
    if folded.count():
        folded.first.click()


def test_an_operator_works_a_case_from_claim_to_close(live, browser):
    base, _app = live
    page = sign_in(browser, base, "aigerim")
    expect(page.locator("body")).to_contain_text(re.compile(r"HL-\w{6}"))
    page.click("a[href^='/console/cases/']")
    case_url = page.url
    submit(page, "/claim")
    open_form(page, "/screening")
    page.select_option("form[action$='/screening'] select[name=gender]", "Feminine")
    page.check("form[action$='/screening'] input[name=ilo_indicators]"
               "[value=retention_of_identity_documents]")
    submit(page, "/screening")
    expect(page.locator("form[action$='/screening'] select[name=gender]")).to_have_value(
        "Feminine")
    open_form(page, "/notes")
    page.fill("form[action$='/notes'] textarea[name=text]", "She called from 8 701 123 45 67")
    submit(page, "/notes")
    expect(page.locator(".note").last).to_contain_text("[phone removed]")
    expect(page.locator("body")).not_to_contain_text("123 45 67")
    open_form(page, "/reply")
    page.fill("form[action$='/reply'] textarea[name=body]", "Сәлем, біз осындамыз")
    submit(page, "/reply")
    expect(page.locator("body")).to_contain_text("Сәлем, біз осындамыз")
    open_form(page, "/refer")
    page.select_option("form[action$='/refer'] select[name=organisation]",
                       "ru-moscow-shelter")
    page.select_option("form[action$='/refer'] select[name=service]", "Shelter")
    page.fill("form[action$='/refer'] textarea[name=reason]", "She is now in Moscow")
    submit(page, "/refer")
    other = sign_in(browser, base, "olga")
    other.goto(case_url)
    submit(other, "/claim")
    open_form(other, "/close")
    submit(other, "/close")
    # aigerim's reply has not left yet (no outbox worker here): closing asks first.
    expect(other.locator("body")).to_contain_text("1 reply is still waiting to be sent")
    with other.expect_navigation(wait_until="load"):
        other.click("button[name=pending][value=send]")
    other.goto(f"{base}/console")
    expect(other.locator("body")).not_to_contain_text(re.compile(r"HL-\w{6}"))


def before_each_cell(page: Page) -> list[str]:
    """What the style sheet shows before each cell of the queue, as Chromium computes it."""
    return page.eval_on_selector_all(
        ".cards tbody td", "cells => cells.map(c => getComputedStyle(c, '::before').content)")


def test_on_a_phone_each_queue_cell_says_what_it_is(live, browser):
    """The header row is hidden on a narrow screen, so each cell but the case's own link
    carries its label; on a wide screen the header row says it once."""
    base, _app = live
    page = sign_in(browser, base, "aigerim")
    queue_settled(page)
    expect(page.locator(".cards thead")).to_be_hidden()
    assert before_each_cell(page) == ["none", '"Priority: "', '"Language: "', '"Need: "',
                                      '"Child: "', '"Waiting: "', '"Handled by: "']
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator(".cards thead")).to_be_visible()
    assert set(before_each_cell(page)) == {"none"}


def test_another_organisation_cannot_open_the_case(live, browser):
    base, _app = live
    page = sign_in(browser, base, "aigerim")
    page.click("a[href^='/console/cases/']")
    case_url = page.url
    other = sign_in(browser, base, "olga")
    response = other.goto(case_url)
    assert response is not None and response.status == 404
    expect(other.locator("body")).not_to_contain_text(re.compile(r"HL-\w{6}"))
