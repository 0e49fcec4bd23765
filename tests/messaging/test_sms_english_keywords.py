"""HELP and INFO written in English are answered in English, whatever the number."""

import pytest

from app.messaging import texts
from tests.messaging.texting import Texter

pytestmark = pytest.mark.usefixtures("demo_directory")


@pytest.mark.parametrize(("number", "body", "emergency"), [
    pytest.param("+447700900123", "help", "112", id="help-from-the-uk-was-russian"),
    pytest.param("+77010000120", "HELP", "112", id="help-from-kazakhstan"),
    pytest.param("+93700000120", "Info", "119", id="info-from-afghanistan"),
])
def test_first_english_keyword_is_answered_in_english(client, settings, number, body,
                                                      emergency):
    assert Texter(client, settings, number).send(body) == texts.help_text("en", emergency)


def test_after_english_help_the_next_message_still_chooses_the_language(client, settings):
    t = Texter(client, settings, "+77010000121")
    t.send("HELP")
    assert t.send("Салеметсиз бе, маган комек керек") == texts.text("kk", "need")


# A conversation already in a language keeps it for HELP:
# test_sms_intake.py::test_help_lists_the_keywords_in_the_callers_language.
