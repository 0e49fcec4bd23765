"""The case page's call-backs: a masked call through the operator's own phone, or marking
one done. Same services and audit as the API (``app.cases.callbacks_api``); the page never
holds a caller's number, only the masked one."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.cases import callbacks, claims
from app.cases.callbacks_api import OutboundDep
from app.cases.models import CallbackOutcome
from app.console import auth, flash
from app.console.errors import ConsoleRoute, FormError
from app.db import MAX_INTEGER_ID
from app.deps import NowDep, SettingsDep
from app.i18n import N_

router = APIRouter(route_class=ConsoleRoute)
CallbackId = Annotated[int, Path(ge=1, le=MAX_INTEGER_ID)]

# How the last attempt ended, as the case page says it.
OUTCOMES: dict[str, str] = {
    CallbackOutcome.DIALLING_OPERATOR: N_("ringing your phone"),
    CallbackOutcome.OPERATOR_NO_ANSWER: N_("you did not answer"),
    CallbackOutcome.DIALLING_CALLER: N_("ringing the caller"),
    CallbackOutcome.NO_ANSWER: N_("the caller did not answer"),
    CallbackOutcome.NOT_SAFE: N_("not safe to talk"),
    CallbackOutcome.CONNECTED: N_("talking"),
    CallbackOutcome.COMPLETED: N_("talked"),
    CallbackOutcome.FAILED: N_("the call failed"),
}
def _back(case_id: uuid.UUID) -> str:
    return f"/console/cases/{case_id}"


@router.post("/cases/{case_id}/callbacks/{callback_id}/call")
def call_back(case_id: uuid.UUID, callback_id: CallbackId, session: auth.ConsoleDb,
              settings: SettingsDep, outbound: OutboundDep, now: NowDep,
              user: auth.OperatorUser) -> Response:
    back = _back(case_id)
    case = claims.get_case(session, user, case_id)
    try:
        attempt = callbacks.place(session, settings, outbound, user, case, callback_id, now)
    except callbacks.NotConfigured:
        raise FormError(back, "calls-off") from None
    except callbacks.NoDutyPhone:
        raise FormError(back, "no-duty-phone") from None
    except callbacks.NotCallable:
        raise FormError(back, "callback-gone") from None
    if attempt.outcome is CallbackOutcome.FAILED:  # kept, with its audit entry
        return flash.redirect(back, error="call-failed")
    return flash.redirect(back, done="calling")


@router.post("/cases/{case_id}/callbacks/{callback_id}/done")
def mark_done(case_id: uuid.UUID, callback_id: CallbackId, session: auth.ConsoleDb,
              settings: SettingsDep, now: NowDep, user: auth.OperatorUser) -> Response:
    case = claims.get_case(session, user, case_id)
    callbacks.complete(session, settings, user, case, callback_id, now)
    return flash.redirect(_back(case_id), done="callback-done")
