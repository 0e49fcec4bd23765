"""The voice line's menus as TwiML, built only with the twilio package's classes.

Every <Gather> is followed by a <Redirect> to the same step without digits, which the
step reads as silence: it repeats once, then takes the first (safest) choice.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from babel import Locale
from fastapi import Depends, Request
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from app import countries, i18n
from app.channels.voice import information
from app.channels.voice.speech import Speaker
from app.channels.voice.voices import VOICES, Mode
from app.config import Settings
from app.languages import LANGUAGES
from app.pipeline import DialPlan
from app.routing.engine import Candidate, Reopening
from app.routing.needs import Need

PAGE_SIZE = 8
MORE_DIGIT = "9"
NEED_KEYS = {"1": (Need.DANGER, False), "2": (Need.LEGAL_AID, False),
             "3": (Need.INFORMATION, False), "4": (Need.OTHER, False), "5": (Need.DANGER, True)}
SILENT_NEED = "1"  # a caller who cannot press anything may be in danger: connect them
WHISPER_PROBE = "whisper_accept"  # rendered (or recorded) with the rest of the whisper


@dataclass(frozen=True)
class Ivr:
    settings: Settings
    speaker: Speaker

    def url(self, path: str, **params: object) -> str:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.settings.public_url}/twilio/voice{path}" + (f"?{query}" if query else "")

    def _gather(self, response: VoiceResponse, action: str, timeout: int = 6) -> Gather:
        gather = Gather(num_digits=1, timeout=timeout, action=action)
        response.append(gather)
        response.redirect(action)
        return gather

    # --- language -------------------------------------------------------------------

    def language_menu(self, country: str | None, page: int, attempt: int,
                      welcome: bool = False, first: tuple[str, ...] = ()) -> VoiceResponse:
        pages = language_pages(country, first)
        languages = pages[page]
        response = VoiceResponse()
        if welcome:
            self.speaker.speak(response, languages[0], "welcome")
        gather = self._gather(response, self.url("/language", page=page, t=attempt))
        for digit, language in enumerate(languages, 1):
            self.speaker.speak(gather, language, "lang_option", digit=str(digit))
        if page + 1 < len(pages):
            self.speaker.speak(gather, languages[0], "lang_more", digit=MORE_DIGIT)
        self.speaker.speak(gather, languages[0], "repeat")
        return response

    # --- need -----------------------------------------------------------------------

    def need_menu(self, language: str, attempt: int, invalid: bool = False) -> VoiceResponse:
        response = VoiceResponse()
        if invalid:
            self.speaker.speak(response, language, "invalid")
        gather = self._gather(response, self.url("/need", lang=language, t=attempt))
        for key in ("need_menu", "child_option", "repeat"):
            self.speaker.speak(gather, language, key)
        return response

    # --- information line -----------------------------------------------------------

    def information(self, language: str, country: str | None, attempt: int,
                    messages: Sequence[str] = ()) -> VoiceResponse:
        """The country's own ``messages`` from the directory when it has them in this
        language (and they can be spoken in it), else the generic ones; the emergency
        number always."""
        response = VoiceResponse()
        gather = self._gather(response, self.url("/info", lang=language, t=attempt), timeout=8)
        if not information.speak(self.speaker, gather, language, messages):
            for key in countries.information_prompts(country):
                self.speaker.speak(gather, language, key)
        self.speaker.speak(gather, language, "emergency",
                           number=countries.emergency_number(country))
        self.speaker.speak(gather, language, "info_menu")
        return response

    def goodbye(self, language: str, country: str | None, key: str | None = None
                ) -> VoiceResponse:
        response = VoiceResponse()
        if key:
            self.speaker.speak(response, language, key)
        self.speaker.speak(response, language, "emergency",
                           number=countries.emergency_number(country))
        self.speaker.speak(response, language, "goodbye")
        response.hangup()
        return response

    def unavailable(self, country: str | None) -> VoiceResponse:
        """A blocked caller, before any menu: one neutral sentence in the country's first
        language, the emergency number (a block made by mistake must not cost a life),
        then hang up."""
        language = language_pages(country)[0][0]
        response = VoiceResponse()
        self.speaker.speak(response, language, "unavailable")
        self.speaker.speak(response, language, "emergency",
                           number=countries.emergency_number(country))
        response.hangup()
        return response

    # --- connecting -----------------------------------------------------------------

    def dial(self, language: str, plan: DialPlan, attempt: int, contact_id: str,
             need: Need | None, child: bool, caller_id: str | None = None) -> VoiceResponse:
        """Ring the candidate. The URLs carry what the next steps need to go on without
        the database (need, child, the responder), should it be unreachable by then."""
        response = VoiceResponse()
        self.speaker.speak(response, language, "connecting" if attempt == 0 else "trying_next")
        state = {"lang": language, "attempt": attempt, "need": need.value if need else None,
                 "child": 1 if child else None}
        dial = Dial(action=self.url("/dial", **state),
                    timeout=self.settings.dial_timeout_seconds, caller_id=caller_id)
        whisper = self.url("/whisper", c=contact_id, o=plan.slug, **state)
        for number in plan.numbers:
            dial.number(number, url=whisper)
        response.append(dial)
        return response

    def whisper(self, responder_languages: Sequence[str], caller_language: str | None,
                need: Need | None, child: bool, contact_id: str, attempt: int
                ) -> VoiceResponse:
        """What the responder hears before accepting: no caller details but language, need;
        in their organisation's language, as audio where Twilio has no voice for it."""
        language = whisper_language(responder_languages, self.speaker)
        response = VoiceResponse()
        gather = Gather(num_digits=1, timeout=8,
                        action=self.url("/whisper/accept", c=contact_id, attempt=attempt))
        keys = ["whisper_intro"]
        if caller_language in LANGUAGES:
            keys.append(f"whisper_language-{caller_language}")
        keys.append(f"whisper_need-{(need or Need.OTHER).value}")
        if child:
            keys.append("whisper_child")
        for key in [*keys, "whisper_accept"]:
            self.speaker.speak(gather, language, key)
        response.append(gather)
        response.hangup()  # no key pressed: declined, the caller's side tries the next one
        return response

    def whisper_gone(self, responder_languages: Sequence[str]) -> VoiceResponse:
        """The responder's leg of a call the hotline does not know: one sentence, then
        hang up (never the hub's <Dial>, which would ring a second responder for nobody)."""
        response = VoiceResponse()
        self.speaker.speak(response, whisper_language(responder_languages, self.speaker),
                           "whisper_gone")
        response.hangup()
        return response

    # --- nobody reached -------------------------------------------------------------

    def callback_offer(self, language: str, attempt: int, first: bool) -> VoiceResponse:
        response = VoiceResponse()
        if first:
            self.speaker.speak(response, language, "no_responder")
        gather = self._gather(response, self.url("/callback", lang=language, t=attempt))
        self.speaker.speak(gather, language, "callback_offer")
        return response

    def closed_offer(self, language: str, country: str | None, back: Reopening | None
                     ) -> VoiceResponse:
        """Nobody is on duty: say so, and when someone is back if within a day, and the
        emergency number before the callback offer, as the caller may not wait that long."""
        response = VoiceResponse()
        self.speaker.speak(response, language, "closed")
        if back is not None:
            self.speaker.speak(response, language, f"back_{back}")
        self.speaker.speak(response, language, "emergency",
                           number=countries.emergency_number(country))
        gather = self._gather(response, self.url("/callback", lang=language, t=1))
        self.speaker.speak(gather, language, "callback_offer")
        return response

    def fallback(self, language: str, hub: Candidate | None, at: datetime) -> VoiceResponse:
        """When anything fails: apologise and ring the regional hub, or give 112."""
        response = VoiceResponse()
        self.speaker.speak(response, language, "error_fallback")
        if hub is None:
            self.speaker.speak(response, language, "emergency",
                               number=countries.DEFAULT_EMERGENCY_NUMBER)
            return response
        dial = Dial(timeout=self.settings.dial_timeout_seconds)
        for number in hub.responder.duty_numbers[:10]:
            dial.number(number)
        response.append(dial)
        return response


def language_pages(country: str | None, first: tuple[str, ...] = ()
                   ) -> list[tuple[str, ...]]:
    """Page 0: ``first`` (the dialled line's languages) or else the country's likely
    languages; then the rest, eight to a page."""
    likely = first or countries.likely_languages(country)
    rest = [code for code in countries.language_menu_order(country) if code not in likely]
    return [likely] + [tuple(rest[i:i + PAGE_SIZE]) for i in range(0, len(rest), PAGE_SIZE)]


def whisper_language(languages: Sequence[str], speaker: Speaker | None = None) -> str:
    """The organisation's first language the line speaks in that language itself: with
    Twilio's voice, or (given a speaker) from whisper audio; else English."""
    for code in languages:
        if code in VOICES and (VOICES[code].mode is Mode.SAY or (
                speaker is not None and speaker.can_speak(code, WHISPER_PROBE))):
            return code
    return "en"


def language_name(code: str | None, in_language: str) -> str:
    if code is None:
        return LANGUAGES["en"].english_name if in_language == "en" else "?"
    babel_code = i18n.BABEL_LOCALE.get(code, code)
    # babel's locale data mapping is untyped; its language names are str.
    name: str = Locale.parse(in_language).languages.get(babel_code,
                                                        LANGUAGES[code].english_name)
    return name


async def ivr_of(request: Request) -> Ivr:
    """The app's IVR (``app.main``) for a webhook; a provider, like those of ``app.deps``."""
    ivr: Ivr = request.app.state.ivr
    return ivr


IvrDep = Annotated[Ivr, Depends(ivr_of)]
