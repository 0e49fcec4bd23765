"""Malformed and hostile Twilio webhooks, every one validly signed: 4xx or TwiML, never 5xx.

The signature only proves the request came from whoever holds the auth token; it says
nothing about the content. Twilio percent-encodes UTF-8, so a body that is not ASCII, or
whose escapes are not UTF-8, never comes from Twilio. There is no Twilio signature for it;
it is signed here over the fields as a lenient parser would read them (U+FFFD for the bad
bytes), so the test shows it is refused for its content (400), not for its signature.
"""

from urllib.parse import quote_plus, urlencode

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from app.channels.sms.webhook import DELIVERY_ORDER
from app.channels.voice import voice
from app.twilio.signature import MAX_BODY_BYTES
from tests.fuzz.hostile import ODD_FROM, hostile_text, odd_from
from tests.fuzz.webhooks import (
    Webhook,
    assert_refused_or_twiml,
    form_webhook,
    raw_webhook,
    rolled_back,
    send,
)
from tests.twilio import new_call_sid

pytestmark = pytest.mark.usefixtures("demo_directory")

PATHS = [f"/twilio/voice{step}" for step in voice.STEPS] + ["/twilio/sms", "/twilio/sms/status"]
ONE_MEGABYTE = 1024 * 1024
# Invalid UTF-8: a lone continuation byte, a truncated sequence, an overlong '/', an encoded
# surrogate, a five-byte form, and bytes that never occur in UTF-8.
BAD_UTF8 = (b"\x80", b"\xc3\x28", b"\xe2\x82", b"\xc0\xaf", b"\xed\xa0\x80",
            b"\xf8\x88\x80\x80\x80", b"\xfe\xff")

# Deterministic and bounded, so the package runs in a minute or so per backend. The
# function-scoped fixtures (client, connection) are shared by the examples on purpose:
# each example rolls its writes back itself.
FUZZ = hypothesis.settings(
    max_examples=80, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _sid(prefix: str) -> st.SearchStrategy[str]:
    return st.integers(0, 2**128 - 1).map(lambda n: f"{prefix}{n:032x}")


def _either(*usual: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(usual), hostile_text)


FIELDS = {
    "CallSid": _sid("CA"), "ParentCallSid": _sid("CA"), "MessageSid": _sid("SM"),
    "SmsSid": _sid("SM"), "AccountSid": st.just("AC" + "0" * 32),
    "From": odd_from, "To": st.one_of(st.just("+77270009999"), odd_from),
    "FromCountry": _either("", "KZ", "RU", "TJ", "AF", "ZZ", "kz"),
    "Body": hostile_text, "Digits": _either("1", "2", "3", "4", "5", "9", "*", "#", "11", "0"),
    "CallStatus": _either("ringing", "in-progress", "completed", "busy", "no-answer", "failed"),
    "DialCallStatus": _either("completed", "answered", "busy", "no-answer", "failed"),
    "CallDuration": st.one_of(st.integers(-10, 10**12).map(str), hostile_text),
    "MessageStatus": _either(*DELIVERY_ORDER), "ErrorCode": _either("", "21610", "30003"),
    "OptOutType": _either("STOP", "START", "HELP"),
}
QUERY = {
    "lang": _either("ru", "tg", "prs", "en"), "page": _either("0", "1", "7"),
    "t": _either("1", "2", "3"), "attempt": _either("0", "1", "2", "99999999999999999999"),
    "c": st.one_of(st.uuids().map(str), hostile_text),
}
# Fields Twilio does not send (or sends twice), and an empty name.
extra_fields = st.lists(st.tuples(st.one_of(st.sampled_from(sorted(FIELDS)),
                                            st.text(max_size=12)), hostile_text), max_size=3)


@st.composite
def form_webhooks(draw: st.DrawFn) -> Webhook:
    """Twilio's fields, each usual or hostile, a few missing, plus stray ones."""
    fields = draw(st.fixed_dictionaries(FIELDS))
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=2, unique=True)):
        fields[name] = draw(hostile_text)  # SIDs too, which are otherwise well formed
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=4, unique=True)):
        del fields[name]
    query = draw(st.fixed_dictionaries({}, optional=QUERY))
    pairs = list(fields.items()) + draw(extra_fields)
    return form_webhook(draw(st.sampled_from(PATHS)), query, draw(st.permutations(pairs)))


@st.composite
def invalid_utf8_webhooks(draw: st.DrawFn) -> Webhook:
    """A signed webhook with invalid UTF-8 in one field, raw or percent-escaped."""
    usual = draw(form_webhooks())
    high_bytes = st.lists(st.integers(0x80, 0xFF), min_size=1, max_size=6).map(bytes)
    bad = draw(st.one_of(st.sampled_from(BAD_UTF8), high_bytes.filter(_not_utf8)))
    escaped = draw(st.booleans())
    value = "".join(f"%{byte:02X}" for byte in bad).encode() if escaped else bad
    name = draw(st.sampled_from(["Body", "From", "CallSid", "MessageSid", "Digits"]))
    return raw_webhook(usual.url, usual.body + b"&" + name.encode() + b"=" + value)


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@FUZZ
@given(webhook=form_webhooks())
def test_signed_hostile_forms_get_4xx_or_twiml(client, settings, connection, webhook):
    with rolled_back(connection):
        assert_refused_or_twiml(send(client, settings, webhook))


@hypothesis.settings(FUZZ, max_examples=40)
@given(webhook=invalid_utf8_webhooks())
def test_invalid_utf8_is_refused_as_malformed(client, settings, webhook):
    response = send(client, settings, webhook)
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == "body is not valid form data"  # not a missing field


menu_answers = st.sampled_from(["1", "2", "3", "4", "5", "9", "HELP", "STOP", "START", "LANG",
                                 "ERASE", "Сәлеметсіз бе, маған көмек керек", "pomogite mne"])
sms_fields = st.fixed_dictionaries(
    {"MessageSid": _sid("SM"), "Body": st.one_of(menu_answers, hostile_text)},
    optional={"FromCountry": FIELDS["FromCountry"], "OptOutType": FIELDS["OptOutType"],
              "NumMedia": _either("0", "1")})


@hypothesis.settings(FUZZ, max_examples=40)
@given(from_=odd_from, messages=st.lists(sms_fields, min_size=1, max_size=6))
def test_a_hostile_sms_conversation_gets_4xx_or_twiml(client, settings, connection, from_,
                                                      messages):
    """One sender, several messages: through language, need and child into an open case."""
    with rolled_back(connection):
        for fields in messages:
            pairs = [("From", from_), ("To", "+77270009999"), *fields.items()]
            webhook = form_webhook("/twilio/sms", {}, pairs)
            assert_refused_or_twiml(send(client, settings, webhook))


def _filled(path: str, name: str, filler: str, encoded_bytes: int) -> Webhook:
    """A usual webhook whose field ``name`` is ``filler`` repeated to about that size."""
    usual = [("MessageSid", "SM" + "1" * 32), ("CallSid", new_call_sid()),
             ("From", "+77010000000"), ("Body", "1")]
    room = encoded_bytes - len(urlencode(usual)) - len(name) - 2
    value = filler * (room // len(quote_plus(filler)))
    return form_webhook(path, {}, [(n, v) for n, v in usual if n != name] + [(name, value)])


@hypothesis.settings(FUZZ, max_examples=12)
@given(path=st.sampled_from(PATHS), name=st.sampled_from(["Body", "From", "Digits", "Junk"]),
       filler=st.sampled_from(["A", "<script>", "' OR 1=1 --", "Ж"]))
def test_huge_bodies_are_refused(client, settings, path, name, filler):
    webhook = _filled(path, name, filler, ONE_MEGABYTE)
    assert len(webhook.body) > MAX_BODY_BYTES
    assert send(client, settings, webhook).status_code == 413


@hypothesis.settings(FUZZ, max_examples=10)
@given(path=st.sampled_from(PATHS), name=st.sampled_from(["Body", "From", "Digits", "Junk"]),
       filler=st.sampled_from(["A", "<script>", "' OR 1=1 --", "Ж"]))
def test_bodies_just_under_the_limit_get_4xx_or_twiml(client, settings, connection, path, name,
                                                      filler):
    webhook = _filled(path, name, filler, MAX_BODY_BYTES)
    assert MAX_BODY_BYTES - 64 < len(webhook.body) <= MAX_BODY_BYTES
    with rolled_back(connection):
        assert_refused_or_twiml(send(client, settings, webhook))


def test_every_odd_caller_id_on_every_webhook(client, settings, connection, subtests):
    for path in PATHS:
        for index, from_ in enumerate(ODD_FROM):
            fields = [("CallSid", new_call_sid()), ("MessageSid", f"SM{index:032x}"),
                      ("From", from_), ("Body", "<script>alert(1)</script>"), ("Digits", "1"),
                      ("CallStatus", "completed"), ("MessageStatus", "delivered")]
            with subtests.test(path=path, caller=from_[:20]), rolled_back(connection):
                assert_refused_or_twiml(send(client, settings, form_webhook(path, {}, fields)))
