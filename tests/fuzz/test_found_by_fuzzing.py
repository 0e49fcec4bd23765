"""What the fuzz tests found, pinned.

On PostgreSQL each of these answered 500 before its fix: a From too long for the
encrypted-number column, a NUL or an over-long MessageSid, and an integer id outside
PostgreSQL's integer. The fixes refuse what cannot be valid (400, 422) rather than store
or look it up, so the same tests also pin the refusal of values that happened not to fail.
"""

import pytest
from sqlalchemy import select

from app.messaging.models import Conversation
from app.users.models import Role
from tests.console.helpers import texted_case
from tests.fuzz.webhooks import assert_refused_or_twiml, form_webhook, send
from tests.twilio import new_call_sid
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")

SMS = [("MessageSid", "SM" + "a" * 32), ("From", "+77010000000"), ("Body", "2")]


def webhook_with(path: str, name: str, value: str):
    """A usual SMS and call webhook, one field replaced."""
    pairs = [*SMS, ("MessageStatus", "failed"), ("CallSid", new_call_sid())]
    return form_webhook(path, {}, [(n, v) for n, v in pairs if n != name] + [(name, value)])


def test_a_from_too_long_to_be_an_address_is_not_kept(client, settings, session):
    # Was 500: its ciphertext did not fit conversations.number_encrypted (varchar 400).
    assert_refused_or_twiml(send(client, settings,
                                 webhook_with("/twilio/sms", "From", "+" + "1" * 300)))
    assert session.scalars(select(Conversation)).one().number_encrypted is None


def test_a_real_number_is_still_kept(client, settings, session):
    assert_refused_or_twiml(send(client, settings, form_webhook("/twilio/sms", {}, SMS)))
    assert session.scalars(select(Conversation)).one().number_encrypted is not None


@pytest.mark.parametrize(("path", "name"), [
    ("/twilio/sms", "MessageSid"), ("/twilio/sms/status", "MessageSid"),  # were 500
    ("/twilio/sms", "FromCountry"), ("/twilio/sms/status", "ErrorCode"),
    ("/twilio/voice", "CallSid"),
])
def test_nul_in_a_field_is_refused(client, settings, path, name):
    # PostgreSQL text cannot hold NUL, and Twilio never sends it in a field of its own.
    assert send(client, settings, webhook_with(path, name, "a\x00b")).status_code == 400


def test_nul_in_a_body_is_dropped_and_the_message_answered(client, settings):
    # Was 400, the message lost: a sender's phone may put it there (tests/messaging).
    response = send(client, settings, webhook_with("/twilio/sms", "Body", "a\x00b"))
    assert response.status_code == 200 and "<Message>" in response.text


@pytest.mark.parametrize(("path", "name", "value"), [
    ("/twilio/sms", "MessageSid", "SM" + "0" * 100),  # was 500: longer than contacts.twilio_sid
    ("/twilio/sms", "MessageSid", "ß" * 300),  # was 500
    ("/twilio/sms/status", "MessageSid", "<script>alert(1)</script>"),
    ("/twilio/voice", "CallSid", "CA" + "0" * 100),
    ("/twilio/voice", "AccountSid", "' OR '1'='1"),
])
def test_a_sid_twilio_would_not_send_is_refused(client, settings, path, name, value):
    assert send(client, settings, webhook_with(path, name, value)).status_code == 400


@pytest.mark.parametrize("action", ["done", "call"])
@pytest.mark.parametrize("callback_id", [2**31, -(2**31) - 1, 0])
def test_a_callback_id_outside_postgresql_integer_is_refused(client, session, settings,
                                                             callback_id, action):
    # 2**31 and -2**31-1 were 500 ("integer out of range"); 0 was 404.
    case, organisation = texted_case(client, session, settings)
    operator = make_person(client, session, "aigerim", Role.OPERATOR, organisation)
    client.post(f"/api/cases/{case.id}/claim", headers=operator.headers)
    response = client.post(f"/api/cases/{case.id}/callbacks/{callback_id}/{action}",
                           headers=operator.headers)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("before_id", [2**31, -(2**31) - 1])
def test_an_audit_id_outside_postgresql_integer_is_refused(client, session, before_id):
    # Were 500 ("integer out of range").
    admin = make_person(client, session, "root", Role.ADMIN)
    response = client.get("/api/audit", params={"before_id": before_id}, headers=admin.headers)
    assert response.status_code == 422, response.text
