"""The case tools in the console: assign to a colleague, answer a referral, the caller's
earlier cases and the case history on the case page, the search page, and the
confirmation before closing a case with replies still to send.

Forms call the same services as the API, which record the audit; Post/Redirect/Get.
"""

import uuid
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from app.cases import assign as case_assign
from app.cases import claims, referrals, timeline
from app.cases import search as case_search
from app.cases.models import Case, CasePriority, CaseStatus, Channel, CloseStatus
from app.cases.screening import ReferralType
from app.config import Settings
from app.console import auth, flash
from app.console.errors import ConsoleRoute, FormError
from app.console.pages import render
from app.deps import NowDep, SettingsDep
from app.i18n import N_
from app.languages import LANGUAGES
from app.messaging import conversations
from app.operator_queue.api import CaseOut
from app.users.models import User

router = APIRouter(route_class=ConsoleRoute)
MAX_NOTE, MAX_REASON = 5000, 2000  # the API's limits

# What each history row says; kinds added elsewhere fall back to their own name.
HISTORY_KINDS: dict[str, str] = {
    "created": N_("case opened"),
    "claimed": N_("claimed"),
    "released": N_("released to the queue"),
    "assigned": N_("assigned"),
    "referred": N_("referred"),
    "referral_accepted": N_("referral accepted"),
    "referral_declined": N_("referral declined, back with the referring organisation"),
    "closed": N_("closed"),
}
SENT_STATUSES: dict[str, str] = {
    referrals.SentStatus.PENDING: N_("pending"),
    referrals.SentStatus.ACCEPTED: N_("accepted"),
    referrals.SentStatus.DECLINED: N_("declined"),
    referrals.SentStatus.CLOSED: N_("closed"),
}
def case_path(case_id: uuid.UUID) -> str:
    return f"/console/cases/{case_id}"


def history_label(kind: str) -> str:
    """A msgid for known kinds; otherwise the kind itself, readable."""
    return HISTORY_KINDS.get(kind) or kind.replace("_", " ").replace(".", " ")


def case_context(session: Session, settings: Settings, user: User, case: Case,
                 now: datetime) -> dict[str, Any]:
    """What the case page shows of the case tools; a look at other cases is audited."""
    earlier = case_search.view_earlier(session, user, case, now)
    referral = referrals.view(session, settings, case)
    return {
        "earlier_cases": earlier,
        "referral": referral,
        "referral_service": ReferralType(referral.service) if referral else None,
        "history": timeline.entries(session, case.id, case.organisation_id),
        "history_label": history_label,
        "colleagues": case_assign.colleagues(session, user),
    }


def sent_referrals(session: Session, user: User, now: datetime) -> dict[str, Any]:
    """The queue page's read-only lines for the cases this organisation referred."""
    return {"sent_referrals": referrals.sent(session, user, now),
            "sent_statuses": SENT_STATUSES}


def _text(form: Any, name: str, limit: int, back: str, *, required: bool = True) -> str:
    text = auth.field(form, name).strip()
    if required and not text:
        raise FormError(back, "empty")
    if len(text) > limit:
        raise FormError(back, "too-long")
    return text


@router.post("/cases/{case_id}/assign")
def assign(case_id: uuid.UUID, session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
           user: auth.OperatorUser, form: auth.Form) -> Response:
    back = case_path(case_id)
    case = claims.get_case(session, user, case_id)
    note = _text(form, "note", MAX_NOTE, back, required=False)
    try:
        case_assign.assign(session, settings, user, case,
                           auth.field(form, "to"), note or None, now)
    except case_assign.NotAssignable:
        raise FormError(back, "colleague") from None
    return flash.redirect(back, done="assigned")


@router.post("/cases/{case_id}/referral/accept")
def accept_referral(case_id: uuid.UUID, session: auth.ConsoleDb, now: NowDep,
                    user: auth.OperatorUser) -> Response:
    case = claims.get_case(session, user, case_id)
    _answerable(case_id, lambda: referrals.accept(session, user, case, now))
    return flash.redirect(case_path(case_id), done="accepted")


@router.post("/cases/{case_id}/referral/decline")
def decline_referral(case_id: uuid.UUID, session: auth.ConsoleDb, settings: SettingsDep,
                     now: NowDep, user: auth.OperatorUser, form: auth.Form) -> Response:
    case = claims.get_case(session, user, case_id)
    reason = _text(form, "reason", MAX_REASON, case_path(case_id))
    _answerable(case_id, lambda: referrals.decline(session, settings, user, case, reason, now))
    # The case went back to the sender: its page would now be a 404 here.
    return flash.redirect("/console", done="declined")


def _answerable(case_id: uuid.UUID, answer: Any) -> None:
    try:
        answer()
    except claims.Conflict as exc:
        code = "taken" if str(exc) == "claimed by another operator" else "no-referral"
        raise FormError(case_path(case_id), code) from None


# The search form's fields and how each is read; anything else is ignored.
SEARCH_CHOICES = {"status": list(CaseStatus), "channel": list(Channel),
                  "priority": list(CasePriority)}


def _filters(query: QueryParams) -> case_search.Filters:
    """The search form's answers; ValueError when one cannot be a filter."""

    def value(name: str) -> str | None:
        return (query.get(name) or "").strip() or None

    def day(name: str) -> date | None:
        given = value(name)
        return date.fromisoformat(given) if given else None

    status, channel, priority = value("status"), value("channel"), value("priority")
    return case_search.Filters(
        reference=value("reference"), status=CaseStatus(status) if status else None,
        created_from=day("from"), created_to=day("to"), language=value("language"),
        channel=Channel(channel) if channel else None,
        priority=CasePriority(priority) if priority else None).validate()


@router.get("/search")
def search_page(request: Request, session: auth.ConsoleDb, now: NowDep,
                user: auth.OperatorUser) -> Response:
    """Search the organisation's cases; an empty form searches nothing (and is not
    audited). A filter that cannot mean anything says so instead of finding nothing."""
    query = request.query_params
    shown: dict[str, Any] = {"query": query, "choices": SEARCH_CHOICES,
                             "search_languages": sorted(LANGUAGES), "results": None,
                             "invalid": False, "next_query": None}
    try:
        offset = max(0, min(int(query.get("offset") or 0), 1_000_000))
        filters = _filters(query)
    except ValueError:
        filters, offset, shown["invalid"] = case_search.Filters(), 0, True
    if filters.names():
        page = case_search.find(session, user, filters, now, offset=offset)
        shown["results"] = page.cases
        if page.next_offset is not None:
            kept = {k: v for k, v in query.items() if k != "offset" and v}
            shown["next_query"] = str(QueryParams({**kept, "offset": str(page.next_offset)}))
    return render(request, "search.html", viewer=auth.viewer(request), **shown)


def confirm_before_close(request: Request, session: Session, user: User, case: Case,
                         status: CloseStatus, choice: str, now: datetime) -> Response | None:
    """The confirmation page if replies are still waiting and the operator has not yet
    said whether to send them; None to close now (``choice``: "send", "cancel" or "")."""
    if choice in ("send", "cancel") or case.status is CaseStatus.CLOSED:
        return None  # answered; or closed, which the close itself refuses
    claims.require_claim(case, user, now)  # no question for a case one cannot close
    pending = conversations.pending_replies(session, case.id)
    if not pending:
        return None
    return render(request, "close_confirm.html", viewer=auth.viewer(request),
                  case=CaseOut.of(case, user, now), status=status, pending=pending)
