"""The dialled national line (Twilio's ``To``) on the voice line: its country stands in for
a withheld caller's, its languages come first in their menu, and contacts record it."""

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.cases.models import Contact
from app.webhooks.recovery import catch_up_in_background
from tests.channels.voice.calls import Caller
from tests.channels.voice.test_voice_flow import menu_languages
from tests.organisations.lines import demo_line
from tests.webhooks.test_degraded_mode import hotline  # noqa: F401 - the fixture

AFGHAN_LINE, KAZAKH_LINE, RUSSIAN_LINE = (demo_line(c) for c in ("AF", "KZ", "RU"))
UNLISTED_LINE = "+77270009999"  # the hotline's number in the other tests: not a line


@dataclass
class LineCaller(Caller):
    to: str = UNLISTED_LINE

    def params(self, **extra: str) -> dict[str, str]:
        return super().params(**extra) | {"To": self.to} | (
            {"To": extra["To"]} if "To" in extra else {})


def only_contact(session) -> Contact:
    session.expire_all()
    return session.scalars(select(Contact)).one()


@pytest.mark.usefixtures("demo_directory")
@pytest.mark.parametrize("withheld", ["anonymous", "+266696687"])
def test_a_withheld_caller_on_the_afghan_line_hears_dari_and_pashto_first(
        client, settings, session, withheld):
    call = LineCaller(client, settings, withheld, to=AFGHAN_LINE)
    assert menu_languages(call.call())[:2] == ["prs", "ps"]
    contact = only_contact(session)
    assert (contact.caller_country, contact.line) == ("AF", AFGHAN_LINE)
    call.press("1")  # the first option of that menu, not of the default one
    assert only_contact(session).language == "prs"


@pytest.mark.usefixtures("demo_directory")
def test_a_withheld_caller_on_an_unlisted_number_keeps_the_regional_menu(
        client, settings, session):
    call = LineCaller(client, settings, "anonymous", to=UNLISTED_LINE)
    assert menu_languages(call.call()) == ["ru", "en", "tr", "fa"]
    contact = only_contact(session)
    assert (contact.caller_country, contact.line) == (None, UNLISTED_LINE)


@pytest.mark.usefixtures("demo_directory")
def test_a_kazakh_caller_on_the_kazakh_line_is_taken_as_before(client, settings, session):
    on_line = menu_languages(LineCaller(client, settings, "+77010000001", to=KAZAKH_LINE)
                             .call())
    assert on_line == ["kk", "ru", "uz"]
    assert only_contact(session).line == KAZAKH_LINE


@pytest.mark.usefixtures("demo_directory")
def test_a_tajik_sim_on_the_russian_line_is_a_tajik_caller(client, settings, session):
    """The caller's own number wins when it says something: routing follows the person."""
    call = LineCaller(client, settings, "+992900000001", to=RUSSIAN_LINE)
    assert menu_languages(call.call()) == ["tg", "ru"]
    contact = only_contact(session)
    assert (contact.caller_country, contact.line) == ("TJ", RUSSIAN_LINE)


def test_a_withheld_caller_on_a_line_while_the_database_is_down(hotline):  # noqa: F811
    """The line comes from the directory snapshot in memory, and the journal keeps it."""
    app, database = hotline
    settings = app.state.settings
    with TestClient(app) as client:
        database.down()
        call = LineCaller(client, settings, "anonymous", to=AFGHAN_LINE)
        assert menu_languages(call.call())[:2] == ["prs", "ps"]
        call.press("2")
        database.up()
        catch_up_in_background(app)
    with database.session() as session:
        contact = session.scalars(select(Contact)).one()
        assert (contact.caller_country, contact.line, contact.language) == (
            "AF", AFGHAN_LINE, "ps")
