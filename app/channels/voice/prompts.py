"""Everything the voice line says, as gettext messages with stable keys.

Keys name the audio files (``/audio/<lang>/<key>.wav``) for languages Twilio cannot
speak. A prompt with a ``{digit}`` or ``{number}`` placeholder becomes one audio file
per value (``lang_option-3``, ``emergency-112``), and a sentence that varies in more
than a number is one key per value (``whisper_language-kk``), so a recording never has
to be spliced from words whose order differs between languages.
"""

from app.i18n import N_

PROMPTS: dict[str, str] = {
    "welcome": N_("You have reached the regional hotline against human trafficking. "
                  "This call is confidential."),
    # Translators: replace "English" with the name of YOUR language, in your language.
    "lang_option": N_("For English, press {digit}."),
    "lang_more": N_("For other languages, press {digit}."),
    "repeat": N_("To hear this again, press star."),
    "invalid": N_("Sorry, that key is not in the menu."),
    "need_menu": N_("If you or someone else is in danger or needs a safe place, press 1. "
                    "For legal help, press 2. For information, press 3. "
                    "For anything else, press 4."),
    "child_option": N_("If the person in danger is a child, press 5."),
    "connecting": N_("Please stay on the line. We are connecting you to someone who can help."),
    "trying_next": N_("Please hold on. We are trying another person."),
    "no_responder": N_("We could not reach anyone right now."),
    # Nobody is on duty (night, holiday); then when someone is back, if within a day.
    "closed": N_("Nobody at the hotline can answer right now."),
    "back_within_hour": N_("We will be available again in less than an hour."),
    "back_within_hours": N_("We will be available again within a few hours."),
    "back_within_day": N_("We will be available again within a day."),
    "callback_offer": N_("If it is safe for us to call you back on this number, press 1. "
                         "If not, press 2."),
    "callback_confirmed": N_("Thank you. Someone will call you back. "
                             "If it is not safe to talk, hang up."),
    "callback_declined": N_("We will not call you. You can call us again at any time."),
    # The caller pressed 1 but their number is withheld or not one (never stored as sent).
    "callback_impossible": N_("Sorry, we cannot call back the number you are calling from. "
                              "You can call us again at any time."),
    "emergency": N_("In an emergency, call {number}."),
    "goodbye": N_("Take care. Goodbye."),
    "info_rights": N_("Keep your passport and documents yourself. "
                      "No employer may take them from you."),
    "info_legal": N_("Before you go abroad for work, check the employer and sign a written "
                     "contract in a language you understand."),
    "info_dangers": N_("Be careful with offers of easy, well-paid work abroad. "
                       "Traffickers use false promises and debts to control people."),
    "info_help": N_("You can get help even if your papers are not in order. "
                    "We do not pass on your call to the police or migration authorities."),
    "info_menu": N_("To speak to someone, press 1. To hear this again, press star."),
    "error_fallback": N_("Sorry, something went wrong. We are connecting you to our "
                         "regional centre."),
    # The whisper a responder hears before accepting, in their organisation's language:
    # whole sentences, one per caller language and per need, so each can be an audio file
    # and word order stays natural in every language.
    "whisper_intro": N_("Hotline call."),
    "whisper_language-ru": N_("The caller speaks Russian."),
    "whisper_language-kk": N_("The caller speaks Kazakh."),
    "whisper_language-ky": N_("The caller speaks Kyrgyz."),
    "whisper_language-tg": N_("The caller speaks Tajik."),
    "whisper_language-uz": N_("The caller speaks Uzbek."),
    "whisper_language-tk": N_("The caller speaks Turkmen."),
    "whisper_language-prs": N_("The caller speaks Dari."),
    "whisper_language-ps": N_("The caller speaks Pashto."),
    "whisper_language-fa": N_("The caller speaks Persian."),
    "whisper_language-az": N_("The caller speaks Azerbaijani."),
    "whisper_language-tr": N_("The caller speaks Turkish."),
    "whisper_language-en": N_("The caller speaks English."),
    "whisper_need-danger": N_("Need: immediate danger."),
    "whisper_need-shelter": N_("Need: a safe place to stay."),
    "whisper_need-legal_aid": N_("Need: legal help."),
    "whisper_need-psychosocial": N_("Need: psychological support."),
    "whisper_need-medical": N_("Need: medical help."),
    "whisper_need-information": N_("Need: information."),
    "whisper_need-other": N_("Need: something else."),
    "whisper_child": N_("A child may be involved."),
    "whisper_accept": N_("Press 1 to accept."),
    # To a responder whose leg names a call the hotline does not know (over, or never was).
    "whisper_gone": N_("This call is no longer available."),
    # To a blocked caller, then the line hangs up: it must not say they are blocked.
    "unavailable": N_("This line cannot take your call."),
    # A masked call-back, first words to the caller: whoever picks up may not be the caller,
    # or not alone, so it names no subject (never "trafficking") and no organisation.
    "callback_question": N_("This is the helpline you asked to call you back. "
                            "Is it safe to talk now? If it is, press 1."),
    # To the operator calling back, on their own phone (text-to-speech only).
    "callback_whisper": N_("Call-back for case {reference}. The caller speaks {language}. "
                           "Press 1 to call the caller back."),
    "callback_not_safe": N_("The caller did not say it is safe to talk. "
                            "The call-back stays pending."),
    "callback_unreached": N_("The caller could not be reached. The call-back stays pending."),
    "callback_gone": N_("This call-back is no longer possible: it is done or its number "
                        "was erased."),
}
# Heard by operators calling back, in a language Twilio speaks: never rendered to audio.
TTS_ONLY = frozenset({"callback_whisper", "callback_not_safe", "callback_unreached",
                      "callback_gone"})

MENU_DIGITS = tuple(str(d) for d in range(1, 10))


def prompt_variants(emergency_numbers: set[str]) -> list[tuple[str, dict[str, str]]]:
    """Every (key, parameters) pair the voice line can play, for rendering audio."""
    variants: list[tuple[str, dict[str, str]]] = []
    for key in PROMPTS:
        if key in ("lang_option", "lang_more"):
            variants += [(key, {"digit": digit}) for digit in MENU_DIGITS]
        elif key == "emergency":
            variants += [(key, {"number": number}) for number in sorted(emergency_numbers)]
        elif key not in TTS_ONLY:
            variants.append((key, {}))
    return variants


def audio_name(key: str, params: dict[str, str]) -> str:
    """``lang_option`` + {digit: 3} -> ``lang_option-3``"""
    return "-".join([key, *params.values()])


def parse_audio_name(name: str) -> tuple[str, dict[str, str]]:
    """``lang_option-3`` -> (``lang_option``, {digit: 3}); the inverse of audio_name.
    A key that names a variant itself (``whisper_language-kk``) has no parameters."""
    if name in PROMPTS:
        return name, {}
    key, _, value = name.partition("-")
    if not value:
        return key, {}
    return key, {"number" if key == "emergency" else "digit": value}
