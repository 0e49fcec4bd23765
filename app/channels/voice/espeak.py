"""Speech synthesis in-process with the libespeak-ng that the ``espeakng-loader`` wheel ships.

Why not the ``espeak-ng`` program: a plain ``pip install`` has no system packages, and
without them callers in nine languages heard a neighbouring language or English. The
wheel bundles the library and its voice data, so every install renders the same audio.

libespeak-ng keeps its voice and output callback in global state and is not thread-safe:
one lock serialises every use, and the library is initialised once per process, lazily.
"""

import ctypes
import logging
import os
import threading
import wave
from pathlib import Path

from app.channels.voice.voices import VOICES

logger = logging.getLogger(__name__)

AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_RATE = 1  # espeakRATE, words per minute
ESPEAK_CHARS_UTF8 = 1
RATE_WPM = 140
EE_OK = 0
MIN_WAV_BYTES = 8000  # a real sentence; a few bytes would be silence or a header

SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                 ctypes.c_void_p)


class _Engine:
    """The loaded library, its sample rate and the samples of the utterance in progress."""

    def __init__(self) -> None:
        import espeakng_loader  # here, so a broken wheel only costs audio, not the import

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                          ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint,
                                     ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                     ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int
        data = espeakng_loader.get_data_path().encode()
        self.rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if self.rate <= 0:
            raise OSError(f"libespeak-ng failed to initialise (code {self.rate})")
        self.lib = lib
        self.chunks: list[bytes] = []
        # Kept on the instance: ctypes frees a callback nobody references, and the
        # library would then call into freed memory.
        self.callback = SynthCallback(self._collect)
        lib.espeak_SetSynthCallback(self.callback)

    # Quoted: ctypes._Pointer is generic only in the stubs, not at runtime on Python 3.11.
    def _collect(self, wav: "ctypes._Pointer[ctypes.c_short]", samples: int,
                 _events: int | None) -> int:
        if wav and samples > 0:
            self.chunks.append(ctypes.string_at(wav, samples * 2))
        return 0  # 0: go on synthesising

    def pcm(self, voice: str, text: str) -> bytes:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
            raise ValueError(f"espeak-ng has no voice {voice!r}")
        self.lib.espeak_SetParameter(ESPEAK_RATE, RATE_WPM, 0)
        encoded = text.encode()
        self.chunks = []
        self.lib.espeak_Synth(encoded, len(encoded) + 1, 0, 0, 0, ESPEAK_CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        return b"".join(self.chunks)


_lock = threading.Lock()
_engine: _Engine | None = None
_load_error: str | None = None


def _loaded() -> _Engine | None:
    """The engine, loaded on first use; None (and the reason kept) if it cannot load."""
    global _engine, _load_error
    if _engine is None and _load_error is None:
        try:
            _engine = _Engine()
        except (ImportError, OSError, AttributeError, RuntimeError) as exc:
            _load_error = f"{type(exc).__name__}: {exc}"
            logger.error("libespeak-ng could not be loaded: %s", _load_error)
    return _engine


def load_error() -> str | None:
    """Why speech synthesis is unavailable, or None if it works."""
    with _lock:
        _loaded()
        return _load_error


def synthesize(language: str, text: str, target: Path) -> bool:
    """Speak ``text`` with the espeak voice for ``language`` into a 16-bit mono WAV file.

    False if the library or the voice is unavailable, or the result is too short to be
    speech; ``target`` is then left as it was. Written aside and renamed, so a player
    never fetches half a file.
    """
    with _lock:
        engine = _loaded()
        if engine is None:
            return False
        try:
            pcm = engine.pcm(VOICES[language].espeak_voice, text)
        except ValueError:
            logger.warning("no espeak-ng voice for %s", language)
            return False
        rate = engine.rate
    target.parent.mkdir(parents=True, exist_ok=True)
    # One name aside per process: uvicorn's workers may render the same file at once.
    aside = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with wave.open(str(aside), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    if aside.stat().st_size < MIN_WAV_BYTES:
        aside.unlink()
        return False
    aside.replace(target)
    return True
