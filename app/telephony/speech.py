"""Adds a prompt to TwiML in the caller's language: <Say> or <Play>, per the voice table."""

from pathlib import Path

from twilio.twiml import TwiML

from app.telephony.audio import RENDERED_SUFFIX, find_audio, prompt_text
from app.telephony.prompts import audio_name
from app.telephony.voices import VOICES, Mode


class Speaker:
    def __init__(self, audio_dir: Path, public_url: str) -> None:
        self.audio_dir = audio_dir
        self.public_url = public_url

    def speak(self, verb: TwiML, language: str, key: str, /, **params: str) -> None:
        voice = VOICES[language]
        path = find_audio(self.audio_dir, language, audio_name(key, params))
        recorded = path is not None and not path.name.endswith(RENDERED_SUFFIX)
        if path is not None and (recorded or voice.mode is Mode.PLAY):
            verb.play(f"{self.public_url}/audio/{language}/{path.name}")
        elif voice.mode is Mode.SAY:
            self.say(verb, language, key, **params)
        else:
            self.say(verb, voice.fallback_say, key, **params)

    def say(self, verb: TwiML, language: str, key: str, /, **params: str) -> None:
        """Twilio text-to-speech, only for languages it has a voice for."""
        voice = VOICES[language]
        if voice.mode is not Mode.SAY:
            language, voice = voice.fallback_say, VOICES[voice.fallback_say]
        verb.say(prompt_text(language, key, params), language=voice.twilio_language,
                 voice=voice.twilio_voice)
