"""Adds a prompt to TwiML in the caller's language: <Say> or <Play>, per the voice table."""

from pathlib import Path

from twilio.twiml import TwiML

from app.channels.voice.audio import RENDERED_SUFFIX, find_audio, prompt_text
from app.channels.voice.prompts import audio_name
from app.channels.voice.voices import VOICES, Mode
from app.languages import LANGUAGES


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
        else:
            self.say(verb, language, key, **params)

    def can_speak(self, language: str, key: str) -> bool:
        """In the language itself: a Twilio voice, or audio of the prompt (a recording or
        rendering), never a neighbouring language's voice."""
        return (VOICES[language].mode is Mode.SAY
                or find_audio(self.audio_dir, language, key) is not None)

    def say(self, verb: TwiML, language: str, key: str, /, **params: str) -> None:
        """Twilio text-to-speech, with a neighbouring voice for languages it lacks."""
        voice = VOICES[language]
        if voice.mode is Mode.SAY or voice.fallback_reads_original:
            text = prompt_text(language, key, params)
        else:
            text = prompt_text(voice.fallback_say, key, params)
            if key == "lang_option":  # "For English, press 3" must name the right language
                text = text.replace(LANGUAGES[voice.fallback_say].english_name,
                                    LANGUAGES[language].english_name)
        speaker = VOICES[voice.fallback_say] if voice.mode is Mode.PLAY else voice
        verb.say(text, language=speaker.twilio_language, voice=speaker.twilio_voice)
