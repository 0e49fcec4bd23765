"""One voice decision per language, and the audio files the service serves itself."""

import os
import time

import pytest
from twilio.twiml.voice_response import VoiceResponse

from app.channels.voice import audio
from app.channels.voice.speech import Speaker
from app.channels.voice.voices import VOICES, Mode
from app.languages import LANGUAGES

TWILIO_SPEAKS = {"ru": "ru-RU", "tr": "tr-TR", "en": "en-GB"}


def test_the_table_covers_exactly_the_twelve_languages():
    assert set(VOICES) == set(LANGUAGES)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_each_language_is_said_by_twilio_or_played_from_our_audio(language, audio_dir, client):
    response = VoiceResponse()
    Speaker(audio_dir, "https://hotline.example.org").speak(response, language, "welcome")
    xml = str(response)
    if language in TWILIO_SPEAKS:
        assert VOICES[language].mode is Mode.SAY
        assert f'language="{TWILIO_SPEAKS[language]}"' in xml and "<Say" in xml
    else:
        assert VOICES[language].mode is Mode.PLAY
        url = f"https://hotline.example.org/audio/{language}/welcome.espeak.wav"
        assert f"<Play>{url}</Play>" in xml
        served = client.get(f"/audio/{language}/welcome.espeak.wav")
        assert served.status_code == 200 and served.headers["content-type"] == "audio/wav"
        assert served.content[:4] == b"RIFF" and len(served.content) > 8000


def test_a_human_recording_takes_precedence_and_survives_rendering(tmp_path):
    report = audio.render_all(tmp_path, ["kk"])
    assert "kk/welcome" in report.rendered
    recording = tmp_path / "kk" / "welcome.mp3"
    recording.write_bytes(b"ID3 human recording")
    assert audio.find_audio(tmp_path, "kk", "welcome") == recording
    again = audio.render_all(tmp_path, ["kk"])
    assert again.rendered == [] and again.recorded == 1
    assert recording.read_bytes() == b"ID3 human recording"
    response = VoiceResponse()
    Speaker(tmp_path, "https://h.example.org").speak(response, "kk", "welcome")
    assert "<Play>https://h.example.org/audio/kk/welcome.mp3</Play>" in str(response)


def test_a_recording_dropped_into_a_settled_folder_is_played_and_its_removal_noticed(
        tmp_path):
    folder = tmp_path / "kk"
    folder.mkdir()
    (folder / "welcome.espeak.wav").write_bytes(b"RIFF")
    hour_ago = time.time() - 3600
    os.utime(folder, (hour_ago, hour_ago))  # settled: its listing is kept between steps
    assert audio.find_audio(tmp_path, "kk", "welcome") == folder / "welcome.espeak.wav"
    (folder / "welcome.mp3").write_bytes(b"ID3 human recording")
    assert audio.find_audio(tmp_path, "kk", "welcome") == folder / "welcome.mp3"
    (folder / "welcome.mp3").unlink()
    assert audio.find_audio(tmp_path, "kk", "welcome") == folder / "welcome.espeak.wav"
    assert audio.find_audio(tmp_path, "tg", "welcome") is None  # no folder at all


def test_a_recording_for_a_twilio_language_is_played_instead_of_tts(tmp_path):
    (tmp_path / "ru").mkdir()
    (tmp_path / "ru" / "goodbye.wav").write_bytes(b"RIFF")
    response = VoiceResponse()
    Speaker(tmp_path, "https://h.example.org").speak(response, "ru", "goodbye")
    assert "<Play>https://h.example.org/audio/ru/goodbye.wav</Play>" in str(response)


@pytest.mark.parametrize(("language", "voice", "heard"), [
    ("kk", "ru-RU", "Қазақ тілі"), ("tg", "ru-RU", "тоҷикӣ"), ("az", "tr-TR", "Azərbaycan"),
    ("prs", "en-GB", "For Dari, press 3."), ("ps", "en-GB", "For Pashto, press 3."),
])
def test_without_audio_a_play_language_is_read_by_a_neighbouring_voice(tmp_path, language,
                                                                       voice, heard):
    response = VoiceResponse()
    Speaker(tmp_path, "https://h.example.org").speak(response, language, "lang_option",
                                                     digit="3")
    xml = str(response)
    assert f'language="{voice}"' in xml and heard in xml


def test_audio_paths_cannot_escape_the_audio_folder(client):
    assert client.get("/audio/kk/..%2F..%2Fdev-secrets.json").status_code == 404
    assert client.get("/audio/xx/welcome.espeak.wav").status_code == 404
    assert client.get("/audio/kk/welcome.txt").status_code == 404
