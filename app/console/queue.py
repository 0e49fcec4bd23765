"""The operator's queue page and the case page: reading, with every view audited."""

import uuid
from datetime import datetime
from itertools import groupby
from typing import TypedDict

from babel.dates import format_timedelta
from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from app.cases import callbacks
from app.cases.models import Case, Channel, CloseStatus
from app.cases.screening import ReferralType, Screening
from app.config import Settings
from app.console import auth, casetools, duty, flash, language, screening_form
from app.console.callbacks import OUTCOMES as CALLBACK_OUTCOMES
from app.console.errors import ConsoleRoute
from app.console.pages import render
from app.deps import NowDep, SettingsDep
from app.messaging import conversations
from app.operator_queue import service as queue_service
from app.operator_queue import work
from app.operator_queue.api import CaseOut
from app.organisations import service as organisations
from app.organisations.models import Organisation
from app.users.models import User

router = APIRouter(route_class=ConsoleRoute)


def waiting(since: datetime, now: datetime, ui: str) -> str:
    return format_timedelta(now - since, granularity="minute", format="short", locale=ui)


@router.get("")
def queue_page(request: Request, session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
               user: auth.OperatorUser) -> Response:
    rows = queue_rows(request, session, user, now)
    return render(request, "queue.html", viewer=auth.viewer(request), rows=rows,
                  duty=duty.panel(session, settings, user),
                  **casetools.sent_referrals(session, user, now))


def queue_rows(request: Request, session: Session, user: User, now: datetime
               ) -> list[tuple[CaseOut, str]]:
    """The queue's rows and how long each case has waited; a view, audited."""
    cases = queue_service.view_queue(session, user, now)
    ui = language.language_of(request)
    return [(CaseOut.of(c, user, now), waiting(c.created_at, now, ui)) for c in cases]


@router.get("/queue/rows")
def queue_rows_fragment(request: Request, session: auth.ConsoleDb, now: NowDep,
                        user: auth.OperatorUser) -> Response:
    """The rows alone, as the page shows them: what the live queue swaps in."""
    return render(request, "_queue_rows.html", viewer=auth.viewer(request),
                  rows=queue_rows(request, session, user, now))


@router.post("/claim-next")
def claim_next(session: auth.ConsoleDb, settings: SettingsDep, now: NowDep,
               user: auth.OperatorUser) -> Response:
    case = queue_service.claim_next(session, settings, user, now)
    if case is None:
        return flash.redirect("/console", error="queue-empty")
    return flash.redirect(f"/console/cases/{case.id}", done="claimed")


def referral_targets(session: Session, case: Case) -> list[tuple[str, list[Organisation]]]:
    """Every other active organisation, by country: a referral may cross any border."""
    others = [o for o in organisations.list_organisations(session)
              if o.id != case.organisation_id]
    return [(country, list(group)) for country, group in groupby(others, lambda o: o.country)]


class CaseReading(TypedDict):
    """The audited content of the case page, passed to the template as is."""

    notes: list[work.NoteView]
    screening: Screening
    thread: list[conversations.ThreadEntry] | None
    channel: Channel | None
    callbacks: list[callbacks.CallbackView]
    callback_outcomes: dict[str, str]


def _read_case(session: Session, settings: Settings, user: User, case: Case, now: datetime
               ) -> CaseReading:
    """What the case page shows: each kind of content read through the service that
    audits it, exactly as the API's own routes for it do."""
    notes = work.view_notes(session, settings, user, case, now)
    screening = work.view_screening(session, user, case, now)
    thread, conversation = None, conversations.for_case(session, case.id)
    if conversation is not None:
        thread = work.view_thread(session, settings, user, case, now)
    requested = callbacks.view(session, settings, user, case, now)
    return {"notes": notes, "screening": screening, "thread": thread,
            "channel": conversation.channel if conversation else None,
            "callbacks": requested, "callback_outcomes": CALLBACK_OUTCOMES}


def _added_note(request: Request, notes: list[work.NoteView]) -> work.NoteView | None:
    """The note just added (``?done=note&note=<id>``), to say what was removed from it."""
    if request.query_params.get("done") != "note":
        return None
    wanted = request.query_params.get("note", "")
    return next((n for n in notes if str(n.id) == wanted), None)


@router.get("/cases/{case_id}")
def case_page(case_id: uuid.UUID, request: Request, session: auth.ConsoleDb,
              settings: SettingsDep, now: NowDep, user: auth.OperatorUser) -> Response:
    case = queue_service.view_case(session, user, case_id, now)
    shown = _read_case(session, settings, user, case, now)
    about = CaseOut.of(case, user, now)
    ui = language.language_of(request)
    return render(
        request, "case.html", viewer=auth.viewer(request), case=about,
        waiting=waiting(case.created_at, now, ui), added_note=_added_note(request, shown["notes"]),
        screening_fields=screening_form.fields(shown["screening"]),
        targets=referral_targets(session, case) if about.claimed_by_me else [],
        services=list(ReferralType), close_statuses=list(CloseStatus), **shown,
        **casetools.case_context(session, settings, user, case, now))
