"""The forms on the case page: claim, release, screening, reporting consent, note, SMS
reply, refer, close.

Each one calls the same service as the API, which writes the audit entry, then
redirects back (Post/Redirect/Get). A refused form raises ``FormError``: the transaction
is rolled back and the operator lands on the page with ``?error=<code>``.
"""

import uuid

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from app.cases import claims
from app.cases.models import Case, CloseStatus
from app.cases.screening import ReferralType
from app.console import auth, casetools, flash, screening_form
from app.console.errors import ConsoleRoute, FormError
from app.deps import NowDep, SettingsDep
from app.messaging import conversations
from app.operator_queue import service as queue_service
from app.operator_queue import work

router = APIRouter(route_class=ConsoleRoute)
# The API's limits (app.cases.api), so both refuse the same texts.
MAX_NOTE, MAX_REASON, MAX_REPLY = 5000, 2000, 1600


def case_path(case_id: uuid.UUID) -> str:
    return f"/console/cases/{case_id}"


def _text(form: FormData, name: str, limit: int, back: str) -> str:
    text = auth.field(form, name).strip()
    if not text:
        raise FormError(back, "empty")
    if len(text) > limit:
        raise FormError(back, "too-long")
    return text


@router.post("/cases/{case_id}/claim")
def claim(case_id: uuid.UUID, session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
          user: auth.OperatorUser) -> Response:
    queue_service.claim(session, settings, user, case_id, now)
    return flash.redirect(case_path(case_id), done="claimed")


@router.post("/cases/{case_id}/release")
def release(case_id: uuid.UUID, session: auth.ConsoleDb, now: NowDep,
            user: auth.OperatorUser) -> Response:
    queue_service.release(session, user, case_id, now)
    return flash.redirect(case_path(case_id), done="released")


@router.post("/cases/{case_id}/screening")
def screening(case_id: uuid.UUID, session: auth.ConsoleDb, settings: SettingsDep,
              now: NowDep, user: auth.OperatorUser, form: auth.Form) -> Response:
    case = claims.get_case(session, user, case_id)
    try:
        answers = screening_form.parse(form)
    except ValueError:
        raise FormError(case_path(case_id), "screening") from None
    work.save_screening(session, settings, user, case, answers, now)
    return flash.redirect(case_path(case_id), done="screening")


@router.post("/cases/{case_id}/consent")
def reporting_consent(case_id: uuid.UUID, session: auth.ConsoleDb, settings: SettingsDep,
                      now: NowDep, user: auth.OperatorUser, form: auth.Form) -> Response:
    case = claims.get_case(session, user, case_id)
    given = form.get("given") == "on"
    work.set_reporting_consent(session, settings, user, case, given, now)
    return flash.redirect(case_path(case_id), done="consent")


@router.post("/cases/{case_id}/notes")
def add_note(case_id: uuid.UUID, session: auth.ConsoleDb, settings: SettingsDep,
             now: NowDep, user: auth.OperatorUser, form: auth.Form) -> Response:
    case = claims.get_case(session, user, case_id)
    text = _text(form, "text", MAX_NOTE, case_path(case_id))
    note, _ = work.add_note(session, settings, user, case, text,
                            form.get("shared") == "on", now)
    return flash.redirect(case_path(case_id), done="note", note=str(note.id))


def _cannot_reply_code(exc: conversations.CannotReply) -> str:
    return "stopped" if "STOP" in str(exc) else "no-number"


@router.post("/cases/{case_id}/reply")
def reply(case_id: uuid.UUID, session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
          user: auth.OperatorUser, form: auth.Form) -> Response:
    case = claims.get_case(session, user, case_id)
    body = _text(form, "body", MAX_REPLY, case_path(case_id))
    try:
        work.reply(session, settings, user, case, body, now)
    except conversations.CannotReply as exc:
        raise FormError(case_path(case_id), _cannot_reply_code(exc)) from None
    return flash.redirect(case_path(case_id), done="reply")


def _referral_service(form: FormData, back: str) -> ReferralType:
    try:
        return ReferralType(auth.field(form, "service"))
    except ValueError:
        raise FormError(back, "service") from None


@router.post("/cases/{case_id}/refer")
def refer(case_id: uuid.UUID, session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
          user: auth.OperatorUser, form: auth.Form) -> Response:
    back = case_path(case_id)
    case: Case = claims.get_case(session, user, case_id)
    service = _referral_service(form, back)
    reason = _text(form, "reason", MAX_REASON, back)
    share = form.get("share_notes") == "on"
    try:
        work.refer(session, settings, user, case, auth.field(form, "organisation"), service,
                   reason, share, now)
    except LookupError:
        raise FormError(back, "organisation") from None
    # The case has left this organisation: its page would now be a 404.
    return flash.redirect("/console", done="referred")


@router.post("/cases/{case_id}/close")
def close(case_id: uuid.UUID, request: Request, session: auth.ConsoleDb,
          settings: SettingsDep, now: NowDep, user: auth.OperatorUser,
          form: auth.Form) -> Response:
    case = claims.get_case(session, user, case_id)
    try:
        status = CloseStatus(auth.field(form, "status") or CloseStatus.CLOSED.value)
    except ValueError:
        raise FormError(case_path(case_id), "not-open") from None
    choice = auth.field(form, "pending")
    confirm = casetools.confirm_before_close(request, session, user, case, status, choice, now)
    if confirm is not None:
        return confirm
    send = choice != "cancel"  # replies are sent unless the operator chose to cancel them
    work.close(session, settings, user, case, status, now, send_pending=send)
    return flash.redirect(case_path(case_id), done="closed")
