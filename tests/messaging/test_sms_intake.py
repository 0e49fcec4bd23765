"""The SMS intake: language, need, child, queue — in every language."""

import pytest
from sqlalchemy import select

from app import countries
from app.cases.models import Case, CasePriority, Channel, Contact, ContactOutcome
from app.languages import LANGUAGES
from app.messaging import texts
from app.messaging.conversations import for_channel
from app.messaging.keywords import Keyword, keyword_of
from app.messaging.models import Conversation, ConversationState, Direction, Message
from app.organisations.models import Organisation
from app.routing.needs import Need
from app.segments import TURKIC_LETTERS, segments
from tests.messaging.texting import Texter, by_sms

pytestmark = pytest.mark.usefixtures("demo_directory")

# A first message as people write them, from a number of the country they are in.
FIRST_MESSAGES = {
    "ru": ("+79000000101", "Здравствуйте, мне нужна помощь, у меня забрали паспорт"),
    "kk": ("+77010000101", "Сәлеметсіз бе, маған көмек керек"),
    "ky": ("+996700000101", "Саламатсызбы, мага жардам керек"),
    "tg": ("+992900000101", "Салом, ба ман кӯмак лозим аст"),
    "uz": ("+998900000101", "Assalomu alaykum, menga yordam kerak"),
    "tk": ("+99365000101", "Salam, maňa kömek gerek"),
    "prs": ("+93700000101", "سلام، من به کمک ضرورت دارم"),
    "ps": ("+93700000102", "سلام، زه مرستې ته اړتیا لرم"),
    "fa": ("+989120000101", "سلام، من به کمک نیاز دارم"),
    "az": ("+994500000101", "Salam, mənə kömək lazımdır"),
    "tr": ("+905300000101", "Merhaba, yardıma ihtiyacım var"),
    "en": ("+447700900101", "Hello, I need help, my employer took my passport"),
}


def test_every_language_has_a_first_message():
    assert set(FIRST_MESSAGES) == set(LANGUAGES)


def only_case(session) -> Case:
    cases = session.scalars(select(Case)).all()
    assert len(cases) == 1
    return cases[0]


@pytest.mark.parametrize("language", list(FIRST_MESSAGES))
def test_whole_intake_in_each_language(client, settings, session, language):
    number, first = FIRST_MESSAGES[language]
    t = Texter(client, settings, number)
    assert t.send(first) == by_sms(language, "need")
    assert t.send("1") == by_sms(language, "child")
    country = session.scalars(select(Conversation.caller_country)).one()
    confirmed = t.send("1")
    assert confirmed == by_sms(language, "confirmed", number=countries.emergency_number(country))
    assert countries.emergency_number(country) in confirmed
    assert all(segments(reply) <= 2 for reply in t.replies)
    case = only_case(session)
    assert (case.language, case.need, case.child, case.priority) == (
        language, Need.DANGER, True, CasePriority.CHILD)
    organisation = session.get(Organisation, case.organisation_id)
    assert language in organisation.languages or organisation.is_hub
    contact = session.scalars(select(Contact)).one()
    assert (contact.channel, contact.outcome) == (Channel.SMS, ContactOutcome.QUEUED)


@pytest.mark.parametrize(("digit", "need", "priority"), [
    ("1", Need.DANGER, CasePriority.URGENT), ("2", Need.LEGAL_AID, CasePriority.NORMAL),
    ("3", Need.INFORMATION, CasePriority.NORMAL), ("4", Need.OTHER, CasePriority.NORMAL)])
def test_every_need_is_queued_with_its_priority(client, settings, session, digit, need,
                                                priority):
    t = Texter(client, settings, "+77010000102")
    t.send("Сәлеметсіз бе, маған көмек керек")
    t.send_all(digit)  # information (3) comes as several messages
    case = only_case(session)
    assert (case.need, case.priority) == (need, priority)  # queued as soon as the need is known
    t.send("2")  # no child
    assert only_case(session).priority == priority


def numbered(messages: list[str]) -> dict[str, str]:
    """The menu's numbers and what they stand for, from all its messages."""
    return dict(line.split(" ", 1) for text in messages for line in text.splitlines()
                if line.split(" ", 1)[0].isdecimal())


def test_unsure_language_gets_a_menu_that_says_how_to_choose(client, settings, session):
    t = Texter(client, settings, "+992900000102")
    menu = t.send_all("1")
    # How to choose comes first, in Tajikistan's languages, then those languages first.
    assert menu[0].splitlines()[:4] == [texts.text("tg", "choose_language"),
                                        texts.text("ru", "choose_language"),
                                        "1 Тоҷикӣ", "2 Русский"]
    assert any(texts.text("en", "choose_language") in message for message in menu)
    assert sorted(map(int, numbered(menu))) == list(range(1, len(LANGUAGES) + 1))
    assert all(segments(message) <= 2 for message in menu)
    english = next(n for n, name in numbered(menu).items() if name == "English")
    assert t.send(english) == texts.text("en", "need")


def test_menu_also_accepts_a_message_in_a_language(client, settings):
    t = Texter(client, settings, "+992900000103")
    t.send_all("?")
    assert t.send("Мне нужна помощь, пожалуйста") == texts.text("ru", "need")


def test_persian_digits_choose_from_the_menus(client, settings, session):
    t = Texter(client, settings, "+93700000103")
    t.send("سلام، من به کمک ضرورت دارم")
    assert t.send("۲") == texts.text("prs", "child")
    assert only_case(session).need is Need.LEGAL_AID


def test_nobody_is_stuck_in_a_menu(client, settings, session):
    t = Texter(client, settings, "+992900000104")
    menu = t.send_all("1")
    assert t.send_all("...") == menu  # the menu once more
    assert t.send("...") == texts.text("tg", "need")  # then the first language
    assert t.send("they took my phone") == texts.text("tg", "need")
    assert t.send("please") == texts.text("tg", "child")  # then "other", read by a person
    assert only_case(session).need is Need.OTHER


def test_lang_keyword_switches_language_at_any_time(client, settings, session):
    t = Texter(client, settings, "+77010000103")
    t.send("Сәлеметсіз бе, маған көмек керек")
    menu = numbered(t.send_all("тіл"))  # the Kazakh keyword, in lower case
    assert (menu["1"], menu["2"]) == ("Қазақша", "Русский")
    assert t.send("2") == texts.text("ru", "need")
    t.send("2")
    t.send("2")
    english = next(n for n, name in numbered(t.send_all("LANG")).items() if name == "English")
    assert t.send(english) == texts.text("en", "confirmed", number="112")  # no second intake
    assert only_case(session).need is Need.LEGAL_AID


def test_help_lists_the_keywords_in_the_callers_language(client, settings):
    t = Texter(client, settings, "+905300000102")
    t.send("Merhaba, yardıma ihtiyacım var")
    reply = t.send("HELP")
    assert reply == for_channel(texts.help_text("tr", "112"), Channel.SMS, "tr")
    # The keywords as the reply spells them (in GSM-7: DIL, SIL) work when typed back.
    lang = texts.keyword("tr", texts.LANG_KEYWORD).translate(TURKIC_LETTERS)
    erase = texts.keyword("tr", texts.ERASE_KEYWORD).translate(TURKIC_LETTERS)
    assert lang in reply and erase in reply
    assert (keyword_of(lang, [], None), keyword_of(erase, [], None)) == (Keyword.LANG,
                                                                         Keyword.ERASE)


def test_later_messages_append_to_the_same_case_without_auto_replies(client, settings,
                                                                     session):
    t = Texter(client, settings, "+79000000102")
    for body in ("Помогите", "1", "2"):
        t.send(body)
    assert t.send("Я в Москве, на стройке") is None
    assert t.send("Паспорт у бригадира") is None
    case = only_case(session)
    inbound = session.scalars(select(Message).where(Message.direction == Direction.IN)).all()
    assert len(inbound) == 5 and {m.case_id for m in inbound} == {case.id}


def test_a_retried_webhook_records_nothing_twice(client, settings, session):
    t = Texter(client, settings, "+77010000104")
    first = t.send("Сәлеметсіз бе, маған көмек керек")
    assert t.resend("Сәлеметсіз бе, маған көмек керек") == first
    t.send("1")
    t.resend("1")
    t.resend("1")
    assert len(session.scalars(select(Case)).all()) == 1
    assert len(session.scalars(select(Message)).all()) == 4  # two in, two replies
    conversation = session.scalars(select(Conversation)).one()
    assert conversation.state is ConversationState.CHILD


def test_a_repeat_texter_continues_their_open_case(client, settings, session):
    t = Texter(client, settings, "+77010000105")
    for body in ("Сәлеметсіз бе, маған көмек керек", "2", "2"):
        t.send(body)
    assert t.send("Тағы бір сұрақ") is None
    assert len(session.scalars(select(Conversation)).all()) == 1
    assert len(session.scalars(select(Case)).all()) == 1
