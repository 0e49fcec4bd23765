"""Two-factor login in Chromium: an admin signs in with the password, is sent to set it
up, reads the key off the page (an authenticator app would scan the QR code), confirms
with a code, keeps the recovery codes, signs out, and signs in with password and code."""

import re
from datetime import UTC, datetime, timedelta

import pyotp
from playwright.sync_api import expect

from app.users import service as users
from app.users.models import Role

# The server and the browser of the console's browser tests (one Chromium per module).
from tests.console.browser.test_console_browser import browser, live, sign_in  # noqa: F401
from tests.users.people import PASSWORD


def test_an_admin_enrols_and_then_signs_in_with_a_code(live, browser):  # noqa: F811
    base, app = live
    with app.state.sessionmaker() as session, session.begin():
        users.create_user(session, "root", PASSWORD, Role.ADMIN, None)
    page = sign_in(browser, base, "root")
    expect(page).to_have_url(f"{base}/console/two-factor")
    page.click("form[action='/console/two-factor/begin'] button")
    expect(page.locator("p.qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.fill("form[action='/console/two-factor/confirm'] input[name=code]", totp.now())
    page.click("form[action='/console/two-factor/confirm'] button")
    expect(page.locator("ol.recovery-codes li")).to_have_count(10)
    page.click("text=Continue to the console")
    expect(page).to_have_url(re.compile(r"/console/admin$"))
    page.click("form[action='/console/logout'] button")
    expect(page).to_have_url(re.compile(r"/console/login"))

    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/console/login'] button")
    expect(page).to_have_url(f"{base}/console/login/code")
    # The confirmation used this step's code: the next one, as the app shows 30 s later.
    later = datetime.now(UTC) + timedelta(seconds=30)
    page.fill("input[name=code]", totp.at(later))
    page.click("form[action='/console/login/code'] button")
    expect(page).to_have_url(re.compile(r"/console/admin$"))
    expect(page.locator("header")).to_contain_text("root")
