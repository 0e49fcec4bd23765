"""Audio prompts: the whisper in the responder's language, names, and no English by accident."""

import argparse
import wave

import pytest
from twilio.twiml.voice_response import VoiceResponse

from app import cli
from app.channels.voice import audio, espeak
from app.channels.voice.ivr import language_pages, whisper_language
from app.channels.voice.prompts import PROMPTS, parse_audio_name
from app.channels.voice.speech import Speaker
from app.languages import LANGUAGES
from app.routing.needs import Need
from tests.channels.voice.calls import Caller

RUSSIAN_NUMBER = "+79000000002"


def test_the_whisper_has_a_sentence_for_every_caller_language_and_need():
    assert {f"whisper_language-{code}" for code in LANGUAGES} <= set(PROMPTS)
    assert {f"whisper_need-{need.value}" for need in Need} <= set(PROMPTS)


def test_every_audio_name_reads_back_as_its_prompt():
    for name, key, params in audio.needed_prompts():
        assert parse_audio_name(name) == (key, params)
        assert audio.SAFE_NAME.match(f"{name}.espeak.wav")


def test_whisper_language_is_the_organisations_first_it_can_speak(audio_dir, tmp_path):
    rendered, nothing = Speaker(audio_dir, "https://h"), Speaker(tmp_path, "https://h")
    assert whisper_language(("prs", "ru"), rendered) == "prs"
    assert whisper_language(("kk", "ru"), rendered) == "kk"
    assert whisper_language(("prs", "ru"), nothing) == "ru"  # no Dari audio: not English
    assert whisper_language(("ps", "tr", "ru"), nothing) == "tr"
    assert whisper_language(("de", "prs")) == "en"  # text-to-speech only (the call-back)


def test_a_recorded_whisper_sentence_is_played_instead_of_the_rendering(tmp_path):
    audio.render_all(tmp_path, ["prs"])
    (tmp_path / "prs" / "whisper_intro.mp3").write_bytes(b"ID3 human recording")
    response = VoiceResponse()
    Speaker(tmp_path, "https://h").speak(response, "prs", "whisper_intro")
    assert "<Play>https://h/audio/prs/whisper_intro.mp3</Play>" in str(response)


def test_synthesize_writes_speech_a_caller_can_be_played(tmp_path):
    target = tmp_path / "kz" / "embassy.wav"  # a folder that does not exist yet
    assert espeak.synthesize("kk", "Елшіліктің телефоны бір жүз он екі.", target)
    with wave.open(str(target)) as wav:
        assert wav.getnframes() / wav.getframerate() > 1
    assert not espeak.synthesize("kk", "", tmp_path / "silence.wav")
    assert not (tmp_path / "silence.wav").exists()


@pytest.mark.usefixtures("demo_directory")
@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_no_caller_who_chose_another_language_hears_english(client, settings, language):
    c = Caller(client, settings, RUSSIAN_NUMBER)
    c.call()
    page = next(i for i, codes in enumerate(language_pages("RU")) if language in codes)
    for digit in ["9"] * page + [str(language_pages("RU")[page].index(language) + 1)]:
        c.press(digit)
    heard = [c.last, c.press("3"), c.press("1")]  # need menu, information, connecting
    for twiml in heard:
        english = [say.text for say in twiml.root.iter("Say")
                   if say.get("language") == "en-GB"]
        assert english == [], twiml.text


def test_without_the_library_the_cli_says_why_and_calls_fall_back(tmp_path, monkeypatch,
                                                                  capsys, settings):
    def broken() -> None:
        raise OSError("libespeak-ng.so: cannot open shared object file")

    monkeypatch.setattr(espeak, "_engine", None)
    monkeypatch.setattr(espeak, "_load_error", None)
    monkeypatch.setattr(espeak, "_Engine", broken)
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.cmd_audio_render(argparse.Namespace()) == 1
    assert "libespeak-ng.so: cannot open shared object file" in capsys.readouterr().err
    report = audio.render_all(tmp_path, ["kk"])
    assert report.failed and not report.rendered
    response = VoiceResponse()
    Speaker(tmp_path, "https://h").speak(response, "kk", "welcome")
    assert 'language="ru-RU"' in str(response)  # the Russian voice reads the Kazakh text
