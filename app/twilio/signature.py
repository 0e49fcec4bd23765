"""Verifying that a webhook really comes from Twilio.

The signature covers the URL Twilio requested and every form field, blanks and
repeats included. Behind a TLS-terminating proxy the URL the app sees is not the one
Twilio signed, so it is rebuilt from ``HOTLINE_PUBLIC_URL`` + path + raw query string.
"""

import hmac
import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request, status
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator, get_signature_algorithm

from app.config import Settings
from app.twilio import fields

MAX_BODY_BYTES = 64 * 1024
# Twilio's SIDs are two letters and 32 hex digits (checked loosely: at most 34 letters and
# digits), and it never puts NUL, which PostgreSQL text cannot hold, in a field of its own.
# Anything else is a malformed request (400), not a failure of the app (500). A sender's
# own text may hold anything they typed: it is cleaned, not refused (``fields``).
SID = re.compile(r"[A-Za-z0-9]{0,34}")


@dataclass(frozen=True)
class TwilioRequest:
    form: ImmutableMultiDict[str, str]
    query: dict[str, str]

    def field(self, name: str) -> str:
        """A form field Twilio always sends; 400 if it is missing."""
        value = self.form.get(name)
        if not value:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"missing form field {name}")
        return value

    def optional(self, name: str) -> str | None:
        return self.form.get(name) or None


def signed_url(public_url: str, request: Request) -> str:
    query = request.url.query
    return f"{public_url}{request.url.path}" + (f"?{query}" if query else "")


def is_valid(auth_token: str, url: str, form: ImmutableMultiDict[str, str], signature: str,
             settings_header: str | None = None) -> bool:
    algorithm = get_signature_algorithm(settings_header)
    validator = RequestValidator(auth_token)
    try:
        # The URL as Twilio signed it, first: one HMAC. Twilio's own check computes two on
        # every request (with and without the port, since its signers differ) and parses
        # the URL twice, a few per cent of a webhook step (bench/load.py). What passes here
        # passes there too; anything else gets the library's whole check.
        computed: str = validator.compute_signature(url, form, algorithm)
        # As bytes: compare_digest refuses str holding anything but ASCII (a header may).
        signed_as_is = hmac.compare_digest(computed.encode(), signature.encode())
    except ValueError:  # an algorithm the library does not know: its check refuses it
        signed_as_is = False
    valid: bool = signed_as_is or validator.validate(url, form, signature, algorithm)
    return valid  # twilio ships no types: the annotation above states what validate returns


async def verified_twilio_request(request: Request) -> TwilioRequest:
    """403 unless the request carries a valid Twilio signature; 400/413 if malformed."""
    # The settings straight from ``app.state`` (filled by ``app.main``), not as a
    # dependency of this one: each dependency FastAPI resolves costs a webhook step tens
    # of microseconds of CPU.
    settings: Settings = request.app.state.settings
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing Twilio signature")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "webhook body too large")
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "body is not valid form data") from exc
    form = ImmutableMultiDict(pairs)
    url = signed_url(settings.public_url, request)
    if not is_valid(settings.twilio_auth_token, url, form, signature,
                    request.headers.get("X-Twilio-Webhooks-Signature-Settings")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid Twilio signature")
    form = _cleaned(form)  # after the check: Twilio signed the text as the sender typed it
    _check_fields(form)
    return TwilioRequest(form=form, query=dict(request.query_params))


def _cleaned(form: ImmutableMultiDict[str, str]) -> ImmutableMultiDict[str, str]:
    return ImmutableMultiDict([(name, fields.clean_text(value) if name in fields.FREE_TEXT
                                else value) for name, value in form.multi_items()])


def _check_fields(form: ImmutableMultiDict[str, str]) -> None:
    """400 for field values Twilio never sends."""
    for name, value in form.multi_items():
        if "\x00" in value:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"NUL in form field {name}")
        if name.endswith("Sid") and not SID.fullmatch(value):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{name} is not a Twilio SID")


TwilioDep = Annotated[TwilioRequest, Depends(verified_twilio_request)]
