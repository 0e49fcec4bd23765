"""Odd and hostile updates with the right secret: 200, 400 or 422, never a 5xx.

The secret proves an update comes from Telegram, not what is in it. Each example's
writes are rolled back, so every one starts from the same data.
"""

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from tests.channels.telegram.chat import post
from tests.fuzz.hostile import hostile_text
from tests.fuzz.webhooks import rolled_back

pytestmark = pytest.mark.usefixtures("demo_directory")
FUZZ = hypothesis.settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        hostile_text)
json_value = st.recursive(json_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(hostile_text, inner, max_size=3)),
    max_leaves=8)
ids = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([0, 1, 2**63 - 1, 2**63]),
                json_value)
texts = st.one_of(hostile_text, st.just("\x00"), st.text(max_size=5000), json_value)


@st.composite
def private_messages(draw: st.DrawFn) -> dict[str, object]:
    """Shaped as Telegram's, with anything in the values: most reach the intake."""
    chat_id = draw(st.integers(1, 2**63 - 1)) if draw(st.booleans()) else draw(ids)
    message: dict[str, object] = {
        "message_id": draw(ids), "date": draw(ids), "text": draw(texts),
        "chat": {"id": chat_id, "type": draw(st.sampled_from(["private", "private", "group"]))},
        "from": {"id": chat_id, "is_bot": draw(st.sampled_from([False, False, True, None])),
                 "language_code": draw(st.one_of(st.sampled_from(["ru", "ky", "pt-br", ""]),
                                                 hostile_text, json_value))}}
    if draw(st.booleans()):
        message[draw(st.sampled_from(["photo", "contact", "caption", "document"]))] = draw(
            json_value)
    return message


@st.composite
def updates(draw: st.DrawFn) -> object:
    # Mostly shaped as Telegram's (the intake is the part worth shaking), some anything.
    if draw(st.integers(0, 3)) == 0:
        return draw(st.one_of(json_value, st.fixed_dictionaries(
            {"update_id": ids, "message": st.one_of(private_messages(), json_value)})))
    return {"update_id": draw(st.integers(0, 2**63 - 1)), "message": draw(private_messages())}


@FUZZ
@given(update=updates())
def test_an_odd_update_is_taken_or_refused_never_a_server_error(client, connection, update):
    with rolled_back(connection):
        response = post(client, update)
        assert response.status_code in (200, 400, 422), response.text
        assert isinstance(response.json(), dict)
