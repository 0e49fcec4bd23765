"""The information line (need 3) speaks the directory's messages for the caller's country."""

import uuid
import wave

import pytest

from app import countries
from app.channels.voice import information
from app.channels.voice.audio import RENDERED_SUFFIX
from app.events.bus import EventKind, QueueEvent
from app.organisations import service as organisations
from app.organisations.service import validate_directory
from tests.channels.voice.calls import Caller, expected, spoken
from tests.channels.voice.test_voice_flow import KAZAKH_NUMBER, TAJIK_NUMBER, choose
from tests.organisations.test_lines_directory import demo

pytestmark = pytest.mark.usefixtures("demo_directory")

KZ_KK = ["Қазақстанда төтенше жағдайда 112 нөміріне тегін қоңырау шалыңыз.",
         "Паспортыңыз өзіңізде болуы керек."]
KZ_RU = ["Экстренные службы в Казахстане: 112.", "Паспорт должен быть у вас."]


def load_information(app, session, messages: dict) -> None:
    """Import the demo with these messages, as `hotline directory import` would, and let
    the running app hear of it as it does of any directory change."""
    organisations.import_directory(session, validate_directory(demo(information=messages)))
    session.commit()
    app.state.events.dispatch(QueueEvent(0, EventKind.DIRECTORY_CHANGED))
    app.state.information_audio.wait(30)


def information_heard(twiml) -> list[str]:
    """What the caller hears before the emergency number and the menu."""
    return spoken(twiml.find("Gather"))[:-2]


def test_a_kazakh_caller_hears_kazakhstans_messages_in_kazakh_as_audio(client, app, session,
                                                                      settings):
    load_information(app, session, {"KZ": {"kk": KZ_KK, "ru": KZ_RU}})
    info = choose(Caller(client, settings, KAZAKH_NUMBER), "KZ", "kk", "3")
    heard = spoken(info.find("Gather"))
    assert heard == [*(f"kk/{information.audio_name('kk', text)}{RENDERED_SUFFIX}"
                       for text in KZ_KK),
                     expected("kk", "emergency", number="112"), expected("kk", "info_menu")]
    for played in info.findall("Gather/Play")[:2]:
        audio = client.get(played.text.removeprefix(settings.public_url))
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        path = settings.audio_dir / "kk" / played.text.rsplit("/", 1)[1]
        with wave.open(str(path)) as speech:  # a sentence, not a blip
            assert speech.getnframes() / speech.getframerate() > 1.5


def test_in_russian_twilio_says_them_reading_numbers_digit_by_digit(client, app, session,
                                                                    settings):
    load_information(app, session, {"KZ": {"kk": KZ_KK, "ru": KZ_RU}})
    info = choose(Caller(client, settings, KAZAKH_NUMBER), "KZ", "ru", "3")
    says = info.findall("Gather/Say")
    assert [say.text for say in says[:2]] == ["Экстренные службы в Казахстане: 1 1 2.",
                                             "Паспорт должен быть у вас."]
    assert {say.get("language") for say in says} == {"ru-RU"}


def test_a_language_or_country_without_messages_hears_the_generic_set(client, app, session,
                                                                      settings):
    load_information(app, session, {"KZ": {"kk": KZ_KK}})
    generic_kz = [expected("uz", key) for key in countries.information_prompts("KZ")]
    uzbek_in_kazakhstan = choose(Caller(client, settings, KAZAKH_NUMBER), "KZ", "uz", "3")
    assert information_heard(uzbek_in_kazakhstan) == generic_kz
    generic_tj = [expected("kk", key) for key in countries.information_prompts("TJ")]
    kazakh_in_tajikistan = choose(Caller(client, settings, TAJIK_NUMBER), "TJ", "kk", "3")
    assert information_heard(kazakh_in_tajikistan) == generic_tj


def test_a_message_not_yet_rendered_gives_the_generic_set_never_silence(client, app, session,
                                                                        settings, monkeypatch):
    monkeypatch.setattr(app.state.information_audio, "ensure", lambda directory: None)
    unrendered = [f"Жаңа хабарлама {uuid.uuid4().hex}.", *KZ_KK]
    load_information(app, session, {"KZ": {"kk": unrendered}})
    info = choose(Caller(client, settings, KAZAKH_NUMBER), "KZ", "kk", "3")
    assert information_heard(info) == [expected("kk", key)
                                       for key in countries.information_prompts("KZ")]


def test_a_new_import_is_heard_on_the_next_call(client, app, session, settings):
    load_information(app, session, {"KZ": {"ru": KZ_RU}})
    first = choose(Caller(client, settings, KAZAKH_NUMBER), "KZ", "ru", "3")
    assert information_heard(first)[0] == "Экстренные службы в Казахстане: 1 1 2."
    load_information(app, session, {"KZ": {"ru": ["Новый текст для Казахстана."]}})
    second = choose(Caller(client, settings, "+77010000002"), "KZ", "ru", "3")
    assert information_heard(second) == ["Новый текст для Казахстана."]


def test_pressing_star_repeats_the_countrys_messages(client, app, session, settings):
    load_information(app, session, {"KZ": {"ru": KZ_RU}})
    c = Caller(client, settings, KAZAKH_NUMBER)
    first = choose(c, "KZ", "ru", "3")
    assert information_heard(c.press("*")) == information_heard(first)


def test_the_demo_speaks_to_a_tajik_in_russia_in_tajik_audio(client, app, settings):
    app.state.information_audio.wait(30)  # rendered when the app loaded the demo
    info = choose(Caller(client, settings, "+79000000001"), "RU", "tg", "3")
    demo_tajik = app.state.directory.current.information("RU", "tg")
    assert len(demo_tajik) == 3
    assert information_heard(info) == [
        f"tg/{information.audio_name('tg', text)}{RENDERED_SUFFIX}" for text in demo_tajik]
