"""The core's stages as every channel uses them: who a person is across channels, and
where they are."""

from app import pipeline
from app.cases.models import Channel
from app.privacy.pseudonym import pseudonymise

NUMBER = "+77010000555"


def test_a_person_is_one_caller_across_voice_sms_and_whatsapp(settings):
    # The same value as before channels were adapters: existing cases still link up.
    before = pseudonymise(NUMBER, settings.pseudonym_key)
    assert {pipeline.pseudonym(settings, channel, NUMBER)
            for channel in (Channel.VOICE, Channel.SMS, Channel.WHATSAPP)} == {before}


def test_a_chat_id_never_shares_a_pseudonym_with_a_number(settings):
    digits = NUMBER.lstrip("+")
    chat = pipeline.pseudonym(settings, Channel.TELEGRAM, digits)
    assert chat not in {pseudonymise(digits, settings.pseudonym_key),
                        pseudonymise(NUMBER, settings.pseudonym_key)}
    assert chat == pipeline.pseudonym(settings, Channel.TELEGRAM, digits)  # stable
    assert len(chat) == 64 and digits not in chat


def test_a_chat_id_says_no_country_unless_the_provider_does():
    # A chat id of digits must not be read as a phone number of some country.
    assert pipeline.own_country(Channel.SMS, NUMBER, None) == "KZ"
    assert pipeline.own_country(Channel.TELEGRAM, NUMBER.lstrip("+"), None) is None
    assert pipeline.own_country(Channel.TELEGRAM, NUMBER.lstrip("+"), "uz") == "UZ"
