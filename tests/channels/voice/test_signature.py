"""Every Twilio webhook verifies X-Twilio-Signature against the public URL."""

from urllib.parse import urlencode

import pytest
from starlette.datastructures import ImmutableMultiDict

from app.twilio.signature import is_valid
from tests.twilio import new_call_sid, post, sign

# twilio-python's own test vectors (tests/unit/test_request_validator.py)
VECTOR_TOKEN = "12345"
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
                 "From": "+14158675309", "To": "+18005551212"}


def test_twilio_python_vector():
    form = ImmutableMultiDict(VECTOR_PARAMS)
    assert is_valid(VECTOR_TOKEN, VECTOR_URL, form, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not is_valid(VECTOR_TOKEN, VECTOR_URL, form, "RSOYDt4T1cUTdK1PDd93/VVr8B8X")


def test_twilio_python_vector_with_repeated_fields():
    form = ImmutableMultiDict([("Sid", "CA123"), ("SidAccount", "AC123"),
                               ("Digits", "5678"), ("Digits", "1234")])
    assert is_valid(VECTOR_TOKEN, VECTOR_URL, form, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")


def test_twilio_python_vectors_with_ports():
    form = ImmutableMultiDict(VECTOR_PARAMS)
    assert is_valid(VECTOR_TOKEN, VECTOR_URL, form, "kvajT1Ptam85bY51eRf/AJRuM3w=")  # :443
    http = VECTOR_URL.replace("https", "http")
    assert is_valid(VECTOR_TOKEN, http, form, "0ZXoZLH/DfblKGATFgpif+LLRf4=")  # :80


def call_params(**extra: str) -> dict[str, str]:
    return {"CallSid": new_call_sid(), "AccountSid": "AC" + "0" * 32, "From": "+992900000001",
            "To": "+77270009999", "FromCountry": "TJ", "CallStatus": "ringing"} | extra


VOICE_PATHS = ["/twilio/voice", "/twilio/voice/language?page=0&t=1", "/twilio/voice/need",
               "/twilio/voice/info", "/twilio/voice/dial?attempt=0", "/twilio/voice/callback",
               "/twilio/voice/whisper?c=x&attempt=0", "/twilio/voice/whisper/accept",
               "/twilio/voice/status", "/twilio/sms", "/twilio/sms/status"]


@pytest.mark.parametrize("path", VOICE_PATHS)
def test_unsigned_and_wrongly_signed_requests_are_refused(client, settings, path):
    assert post(client, settings, path, call_params(), signature=None).status_code == 403
    assert post(client, settings, path, call_params(), signature="bm90IGEgc2lnbmF0dXJl"
                ).status_code == 403


def test_a_signature_for_other_parameters_is_refused(client, settings, demo_directory):
    params = call_params()
    signature = sign(settings.twilio_auth_token, settings.public_url + "/twilio/voice",
                     list(params.items()))
    tampered = params | {"From": "+992900000002"}
    assert post(client, settings, "/twilio/voice", tampered, signature=signature
                ).status_code == 403


def test_signature_covers_blank_and_repeated_fields(client, settings, demo_directory):
    params = [*call_params().items(), ("CallerName", ""), ("StirVerstat", "TN-Validation"),
              ("StirVerstat", "TN-Validation-Passed-A")]
    assert post(client, settings, "/twilio/voice", params).status_code == 200
    signature = sign(settings.twilio_auth_token, settings.public_url + "/twilio/voice",
                     [p for p in params if p[1] != ""])
    assert post(client, settings, "/twilio/voice", params, signature=signature
                ).status_code == 403


def test_signature_is_checked_against_the_public_url_behind_a_proxy(client, settings,
                                                                   demo_directory):
    """The app sees http://testserver; Twilio signed https://hotline.example.org."""
    params = call_params()
    internal = sign(settings.twilio_auth_token, "http://testserver/twilio/voice",
                    list(params.items()))
    assert post(client, settings, "/twilio/voice", params, signature=internal
                ).status_code == 403
    assert post(client, settings, "/twilio/voice", params).status_code == 200


def test_hmac_sha256_signatures_are_accepted_when_announced(client, settings, demo_directory):
    from twilio.request_validator import RequestValidator

    params = call_params()
    url = settings.public_url + "/twilio/voice"
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(
        url, params, "HMAC_SHA256")
    headers = {"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA256"}
    assert post(client, settings, url, params, signature=signature, headers=headers
                ).status_code == 200


def test_a_signature_in_an_unknown_algorithm_or_not_ascii_is_refused_not_failed(
        client, settings, demo_directory):
    params = call_params()
    url = settings.public_url + "/twilio/voice"
    signature = sign(settings.twilio_auth_token, url, list(params.items()))
    unknown = {"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_MD5"}
    assert post(client, settings, url, params, signature=signature, headers=unknown
                ).status_code == 403
    garbled = (signature[:-2] + "\u00e9=").encode("latin-1")  # a header may hold any byte
    response = client.post("/twilio/voice", content=urlencode(params), headers={
        "X-Twilio-Signature": garbled, "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 403
    assert post(client, settings, url, params, signature=signature).status_code == 200


def test_signed_but_malformed_requests_get_400(client, settings):
    assert post(client, settings, "/twilio/voice", {"From": "+992900000001"}).status_code == 400
    response = client.post("/twilio/voice", content=b"CallSid=%ff%fe",
                           headers={"X-Twilio-Signature": "x",
                                    "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400


def test_signed_sms_without_its_fields_gets_400_and_records_nothing(client, settings, session):
    from sqlalchemy import select

    from app.messaging.models import Message

    assert post(client, settings, "/twilio/sms", {"Body": "help"}).status_code == 400
    assert post(client, settings, "/twilio/sms/status", {"MessageSid": "SM1"}).status_code == 400
    assert session.scalars(select(Message)).all() == []


def test_an_oversized_webhook_body_is_refused(client, settings):
    params = {"MessageSid": "SM1", "From": "+77010000001", "Body": "x" * 70_000}
    assert post(client, settings, "/twilio/sms", params).status_code == 413
