"""Every language spoken on a plain install: no espeak-ng program, only the bundled library."""

import io
import shutil
import subprocess
import wave
from array import array
from pathlib import Path

import pytest

from app.channels.voice import audio
from app.channels.voice.ivr import language_pages
from tests.channels.voice.calls import Caller

pytestmark = pytest.mark.usefixtures("demo_directory")

CALLERS = {"kk": ("+77010000002", "KZ"), "prs": ("+93700000002", "AF"),
           "uz": ("+998900000002", "UZ")}
MIN_SECONDS = 0.5
MIN_RMS = 300  # 16-bit samples: speech is in the thousands, silence near 0


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Overrides the session's: rendered with no espeak-ng on PATH and no program run."""
    def no_programs(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("rendering must not start a program")

    directory = tmp_path_factory.mktemp("bundled-audio")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", str(tmp_path_factory.mktemp("empty-path")))
        patch.setattr(subprocess, "Popen", no_programs)
        assert shutil.which("espeak-ng") is None
        # The callers' languages and the others their country's first menu offers.
        offered = {code for _number, country in CALLERS.values()
                   for code in language_pages(country)[0]}
        report = audio.render_all(directory, sorted(offered & set(audio.played_languages())))
    assert report.rendered and not report.failed
    return directory


def is_speech(content: bytes) -> bool:
    with wave.open(io.BytesIO(content)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        seconds = wav.getnframes() / wav.getframerate()
        samples = array("h", wav.readframes(wav.getnframes()))
    rms = (sum(s * s for s in samples) / len(samples)) ** 0.5
    return seconds >= MIN_SECONDS and rms >= MIN_RMS


def played(client, settings, element, language: str) -> list[str]:
    """The prompt files an element plays, each checked served and real speech in WAV."""
    names = []
    for verb in element.iter():
        assert verb.tag != "Say", f"text-to-speech for a {language} listener: {verb.text}"
        if verb.tag == "Play":
            lang, name = verb.text.removeprefix(f"{settings.public_url}/audio/").split("/")
            assert lang == language
            served = client.get(f"/audio/{lang}/{name}")
            assert served.status_code == 200 and served.headers["content-type"] == "audio/wav"
            assert is_speech(served.content), name
            names.append(name.removesuffix(".espeak.wav"))
    return names


def choose_language(c: Caller, country: str, language: str) -> None:
    c.call()
    for page, languages in enumerate(language_pages(country)):
        if language in languages:
            for digit in ["9"] * page + [str(languages.index(language) + 1)]:
                c.press(digit)
            return
    raise AssertionError(language)


@pytest.mark.parametrize("language", sorted(CALLERS))
def test_a_caller_hears_every_prompt_as_speech_in_their_own_language(client, settings,
                                                                     language):
    number, country = CALLERS[language]
    c = Caller(client, settings, number)
    menu = c.call().root  # the country's languages, each announced in its own
    assert played(client, settings, menu[0], language) == ["welcome"]
    assert not [say.text for say in menu.iter("Say") if say.get("language") == "en-GB"]
    choose_language(c, country, language)
    heard = played(client, settings, c.last.root, language)
    assert "need_menu" in heard
    heard = played(client, settings, c.press("3").root, language)  # information
    assert heard[-1] == "info_menu" and any(n.startswith("emergency-") for n in heard)
    dial = c.press("1")
    assert dial.dialled_numbers()
    assert played(client, settings, dial.root, language) == ["connecting"]


def test_a_responder_in_kabul_hears_the_whisper_in_dari(client, settings):
    number, country = CALLERS["prs"]
    c = Caller(client, settings, number)
    choose_language(c, country, "prs")
    assert c.press("2").dialled_numbers()  # legal aid: an Afghan organisation, Dari first
    whisper = c.responder_whisper()
    assert played(client, settings, whisper.find("Gather"), "prs") == [
        "whisper_intro", "whisper_language-prs", "whisper_need-legal_aid", "whisper_accept"]
