"""Audio prompts for languages Twilio cannot speak: rendering, lookup and serving.

Files live in ``<audio_dir>/<lang>/``. libespeak-ng (bundled by the espeakng-loader wheel,
see ``espeak.py``) renders ``<prompt>.espeak.wav``; a human recording dropped in as
``<prompt>.mp3`` or ``<prompt>.wav`` takes precedence and is never overwritten. A manifest
keeps the text each rendering was made from, so only changed prompts are rendered again.
"""

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from app import countries, i18n
from app.channels.voice import espeak
from app.channels.voice.prompts import PROMPTS, audio_name, prompt_variants
from app.channels.voice.voices import VOICES, Mode
from app.deps import SettingsDep
from app.languages import LANGUAGES

RECORDING_SUFFIXES = (".mp3", ".wav")
RENDERED_SUFFIX = ".espeak.wav"
MANIFEST = ".rendered.json"
SAFE_NAME = re.compile(r"^[a-z_]+(-[a-z0-9_]+)?(\.espeak)?\.(wav|mp3)$")
MEDIA_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg"}

router = APIRouter(tags=["audio"])


def prompt_text(language: str, key: str, params: dict[str, str]) -> str:
    """The translated prompt; numbers are spaced so they are read digit by digit."""
    spoken = {k: " ".join(v) if k == "number" else v for k, v in params.items()}
    return i18n.gettext(language, PROMPTS[key]).format(**spoken)


def find_audio(audio_dir: Path, language: str, name: str) -> Path | None:
    """A human recording if there is one, else the espeak rendering, else None."""
    folder = audio_dir / language
    names = _names_in(folder)
    for suffix in (*RECORDING_SUFFIXES, RENDERED_SUFFIX):
        if f"{name}{suffix}" in names:
            return folder / f"{name}{suffix}"
    return None


# Each folder's file names, with the folder's modification time they were read at.
_listings: dict[Path, tuple[int, frozenset[str]]] = {}
SETTLED_NS = 2_000_000_000


def _names_in(folder: Path) -> frozenset[str]:
    """The folder's file names, listed again only when the folder has changed: a voice
    step plays several prompts, and looking for each one's files (up to three a prompt)
    cost the step 4% of its CPU. A file dropped in, renamed or removed changes the
    folder's time; a change in the last two seconds may share its time with the
    listing's, so a folder that recent is not trusted to the cache."""
    try:
        changed = os.stat(folder).st_mtime_ns
        cached = _listings.get(folder)
        if cached is not None and cached[0] == changed:
            return cached[1]
        names = frozenset(entry.name for entry in os.scandir(folder) if entry.is_file())
    except (FileNotFoundError, NotADirectoryError):  # no audio in this language (yet)
        return frozenset()
    if time.time_ns() - changed > SETTLED_NS:
        _listings[folder] = (changed, names)
    return names


@dataclass
class RenderReport:
    rendered: list[str] = field(default_factory=list)
    unchanged: int = 0
    recorded: int = 0
    failed: list[str] = field(default_factory=list)


def synthesis_error() -> str | None:
    """Why prompts cannot be rendered (the bundled library failed to load), or None."""
    return espeak.load_error()


def played_languages() -> list[str]:
    """The languages Twilio cannot speak: their prompts are played from audio files."""
    return [c for c in LANGUAGES if VOICES[c].mode is Mode.PLAY]


def needed_prompts() -> list[tuple[str, str, dict[str, str]]]:
    """(file name, prompt key, parameters) of every prompt variant a call may play."""
    emergency = set(countries.EMERGENCY_NUMBERS.values()) | {countries.DEFAULT_EMERGENCY_NUMBER}
    return [(audio_name(key, params), key, params) for key, params in prompt_variants(emergency)]


def rendering_digest(language: str, text: str) -> str:
    """What a rendering depends on: the voice and the text. A change to either renders anew."""
    return hashlib.sha256(f"{VOICES[language].espeak_voice}|{text}".encode()).hexdigest()


def render_all(audio_dir: Path, languages: list[str] | None = None) -> RenderReport:
    """Render every prompt variant of every <Play> language that has no recording."""
    report = RenderReport()
    for language in languages or played_languages():
        folder = audio_dir / language
        folder.mkdir(parents=True, exist_ok=True)
        manifest = _read_manifest(folder)
        for name, key, params in needed_prompts():
            text = prompt_text(language, key, params)
            digest = rendering_digest(language, text)
            if any((folder / f"{name}{s}").is_file() for s in RECORDING_SUFFIXES):
                report.recorded += 1
            elif manifest.get(name) == digest and (folder / f"{name}{RENDERED_SUFFIX}").is_file():
                report.unchanged += 1
            elif espeak.synthesize(language, text, folder / f"{name}{RENDERED_SUFFIX}"):
                manifest[name] = digest
                report.rendered.append(f"{language}/{name}")
            else:
                report.failed.append(f"{language}/{name}")
        _write_manifest(folder, manifest)
    return report


def _read_manifest(folder: Path) -> dict[str, str]:
    path = folder / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else {}


def _write_manifest(folder: Path, manifest: dict[str, str]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))


@router.get("/audio/{language}/{filename}", include_in_schema=False)
def serve_audio(language: str, filename: str, settings: SettingsDep) -> FileResponse:
    if language not in LANGUAGES or not SAFE_NAME.match(filename):
        raise HTTPException(404)
    path = settings.audio_dir / language / filename
    if not path.is_file():
        raise HTTPException(404)
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix],
                        headers={"Cache-Control": "public, max-age=86400"})
