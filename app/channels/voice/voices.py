"""How each language is spoken on the phone: one table.

Twilio's text-to-speech has voices for Russian, Turkish and English among our
languages; every other language is played from audio files rendered with the espeak-ng
library bundled by a Python dependency (or human recordings, which take precedence).
espeak-ng has no Tajik, Dari or Pashto voice, so those are rendered with the nearest
voice it has (Russian phonology for Tajik Cyrillic, Persian for Dari and Pashto) until a
human records them. ``fallback_say`` is the Twilio voice used if no audio file exists at
all (the library failed to load on this platform): it reads the caller's own text where
the script allows (Cyrillic by the Russian voice, Latin Turkic by the Turkish one), else
the English text.
"""

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    SAY = "say"    # Twilio <Say>
    PLAY = "play"  # <Play> of /audio/<lang>/<prompt>.wav


@dataclass(frozen=True)
class Voice:
    mode: Mode
    espeak_voice: str
    twilio_language: str | None = None
    twilio_voice: str | None = None
    fallback_say: str = "en"
    approximate: bool = False  # espeak voice is a neighbouring language
    fallback_reads_original: bool = True


VOICES: dict[str, Voice] = {
    "ru": Voice(Mode.SAY, "ru", "ru-RU", "Polly.Tatyana", "ru"),
    "tr": Voice(Mode.SAY, "tr", "tr-TR", "Polly.Filiz", "tr"),
    "en": Voice(Mode.SAY, "en-gb", "en-GB", "Polly.Amy", "en"),
    "kk": Voice(Mode.PLAY, "kk", fallback_say="ru"),
    "ky": Voice(Mode.PLAY, "ky", fallback_say="ru"),
    "tg": Voice(Mode.PLAY, "ru", fallback_say="ru", approximate=True),
    "uz": Voice(Mode.PLAY, "uz", fallback_say="tr"),
    "tk": Voice(Mode.PLAY, "tk", fallback_say="tr"),
    "prs": Voice(Mode.PLAY, "fa", fallback_say="en", approximate=True,
                 fallback_reads_original=False),
    "ps": Voice(Mode.PLAY, "fa", fallback_say="en", approximate=True,
                fallback_reads_original=False),
    "fa": Voice(Mode.PLAY, "fa", fallback_say="en", fallback_reads_original=False),
    "az": Voice(Mode.PLAY, "az", fallback_say="tr"),
}
