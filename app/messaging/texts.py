"""Everything the SMS line writes, as gettext messages with stable keys.

Replies are deliberately neutral ("helpline", not "trafficking"): the phone may be read
by someone else. Each reply must fit in two SMS segments in its own script (see
``app.segments``); a test measures every catalog message with the longest
values its placeholders can take.
"""

from app import countries, i18n
from app.i18n import N_
from app.routing.engine import Reopening

TEXTS: dict[str, str] = {
    "need": N_("Helpline. What do you need? Reply with a number: 1 danger or a safe place, "
               "2 legal help, 3 information, 4 other."),
    "child": N_("Is a child (under 18) involved? Reply 1 for yes, 2 for no."),
    "confirmed": N_("Thank you. Someone from the helpline will write to you here. "
                    "In an emergency call {number}."),
    "help": N_("Confidential, free helpline. {lang}: change language. "
               "{erase}: delete your messages. Emergency: {number}."),
    # Instead of "confirmed" when nobody is on duty (night, holiday), with when someone
    # is back if within a day.
    "closed": N_("Thank you. Nobody is available right now. We will write to you here "
                 "when we are back. In an emergency call {number}."),
    "closed_within_hour": N_("Thank you. Nobody is available right now. We will be back "
                             "within an hour and write to you here. "
                             "In an emergency call {number}."),
    "closed_within_hours": N_("Thank you. Nobody is available right now. We will be back "
                              "within a few hours and write to you here. "
                              "In an emergency call {number}."),
    "closed_within_day": N_("Thank you. Nobody is available right now. We will be back "
                            "within a day and write to you here. "
                            "In an emergency call {number}."),
    # To a blocked sender: neutral, it must not say they are blocked nor why.
    "unavailable": N_("This number cannot take your messages. "
                      "In an emergency call {number}."),
    # The information line by SMS, for a country the directory has no messages for: keys
    # as the voice prompts' (countries.information_prompts). The first two are the voice
    # line's own sentences; the others are shorter and never say "trafficking".
    "info_rights": N_("Keep your passport and documents yourself. "
                      "No employer may take them from you."),
    "info_legal": N_("Before you go abroad for work, check the employer and sign a written "
                     "contract in a language you understand."),
    "info_dangers": N_("Be careful with offers of easy, well-paid work abroad: false "
                       "promises and debts are used to control people."),
    "info_help": N_("You can get help even without valid papers. We do not pass your "
                    "messages to the police or migration authorities."),
    # The first line of the language menu, once per likely language: short, it is sent
    # several times over.
    "choose_language": N_("Reply with the number of your language:"),
    # After the erase word: what was erased, and that the next message starts afresh.
    "erased": N_("Your messages to the helpline have been deleted. "
                 "If you write again, we start afresh."),
    # To a picture, voice message or video without text: it is never opened.
    "media": N_("We cannot open pictures or recordings here. Please write to us in words."),
}

# Translators: the keyword a person texts to change language. One word, capital letters.
LANG_KEYWORD = N_("LANG")
# Translators: the keyword a person texts to delete their messages. One word, capitals.
ERASE_KEYWORD = N_("ERASE")


def text(language: str, key: str, **params: str) -> str:
    return i18n.gettext(language, TEXTS[key]).format(**params)


def closed_text(language: str, emergency_number: str, back: Reopening | None) -> str:
    return text(language, f"closed_{back}" if back else "closed", number=emergency_number)


def information(language: str, country: str | None) -> list[str]:
    """The generic information messages for a texter from this country."""
    return [text(language, key) for key in countries.information_prompts(country)]


def keyword(language: str, message: str) -> str:
    return i18n.gettext(language, message)


def help_text(language: str, emergency_number: str) -> str:
    return text(language, "help", lang=keyword(language, LANG_KEYWORD),
                erase=keyword(language, ERASE_KEYWORD), number=emergency_number)
