"""The directory's per-country information messages on the phone.

Twilio speaks Russian, Turkish and English itself (<Say>); the other languages are
played from audio rendered with the bundled espeak-ng, to files named by a hash of the
voice and text (``<audio_dir>/<lang>/info-<hash>.espeak.wav``), so a changed message is
a new file and never a stale one. A human recording dropped in beside it as
``info-<hash>.mp3`` or ``.wav`` is played instead.

Rendering happens in the background whenever a directory snapshot is loaded, never in a
webhook: a call that finds a message not yet rendered hears the generic information
instead (never silence, never another language).
"""

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from twilio.twiml import TwiML

from app.channels.voice import espeak
from app.channels.voice.audio import RENDERED_SUFFIX, find_audio, rendering_digest
from app.channels.voice.speech import Speaker
from app.channels.voice.voices import VOICES, Mode
from app.routing.snapshot import Directory

logger = logging.getLogger(__name__)
PREFIX = "info"  # prompt keys are written info_…, these info-…: they never meet
LONG_NUMBER = re.compile(r"\d{3,}")


def audio_name(language: str, text: str) -> str:
    return f"{PREFIX}-{rendering_digest(language, text)[:24]}"


def spoken(text: str) -> str:
    """Numbers of three digits or more read digit by digit, as phone numbers are."""
    return LONG_NUMBER.sub(lambda match: " ".join(match.group()), text)


def speak(speaker: Speaker, verb: TwiML, language: str, messages: Sequence[str]) -> bool:
    """Add the messages to ``verb`` in order; False, adding nothing, if there are none or
    one has no audio yet in a language Twilio cannot speak."""
    voice = VOICES[language]
    steps = []
    for text in messages:
        path = find_audio(speaker.audio_dir, language, audio_name(language, text))
        recorded = path is not None and not path.name.endswith(RENDERED_SUFFIX)
        if path is not None and (recorded or voice.mode is Mode.PLAY):
            steps.append(("play", f"{speaker.public_url}/audio/{language}/{path.name}"))
        elif voice.mode is Mode.SAY:
            steps.append(("say", spoken(text)))
        else:
            return False
    for kind, value in steps:
        if kind == "play":
            verb.play(value)
        else:
            verb.say(value, language=voice.twilio_language, voice=voice.twilio_voice)
    return bool(steps)


def text_of(directory: Directory, language: str, name: str) -> str | None:
    """The message an audio file name stands for (``hotline simulate`` shows it)."""
    return next((text for (_country, lang), texts in directory.country_information.items()
                 if lang == language for text in texts if audio_name(language, text) == name),
                None)


def missing(audio_dir: Path, directory: Directory) -> list[tuple[str, str]]:
    """(language, text) of every message to be played that has no audio yet."""
    return [(language, text)
            for (_country, language), texts in directory.country_information.items()
            if VOICES[language].mode is Mode.PLAY
            for text in texts
            if find_audio(audio_dir, language, audio_name(language, text)) is None]


@dataclass(frozen=True)
class RenderReport:
    rendered: int
    failed: int


def render(audio_dir: Path, messages: Iterable[tuple[str, str]]) -> RenderReport:
    rendered = failed = 0
    for language, text in messages:
        target = audio_dir / language / f"{audio_name(language, text)}{RENDERED_SUFFIX}"
        if espeak.synthesize(language, spoken(text), target):
            rendered += 1
        else:
            failed += 1
    if failed:  # the callers concerned hear the generic information meanwhile
        logger.warning("%d information messages could not be rendered to audio", failed)
    return RenderReport(rendered, failed)


class Renderer:
    """Renders what loaded directories lack, in one background thread at a time; a
    directory loaded while it works is rendered next, not skipped."""

    def __init__(self, audio_dir: Path) -> None:
        self.audio_dir = audio_dir
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._next: Directory | None = None

    def ensure(self, directory: Directory) -> None:
        if not missing(self.audio_dir, directory):
            return
        with self._lock:
            self._next = directory
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="information-audio",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                directory, self._next = self._next, None
                if directory is None:
                    self._thread = None
                    return
            try:
                render(self.audio_dir, missing(self.audio_dir, directory))
            except Exception:  # the next load tries again; callers hear the generic set
                logger.exception("rendering information messages failed")

    def wait(self, timeout: float | None = None) -> None:
        """Until the rendering under way (if any) is done: for tests and the CLI."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
