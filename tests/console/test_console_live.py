"""The queue's rows as console.js fetches them on each live event: the same rendering as
the page, waiting cases apart from those in progress, audited as a view."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.users.models import Role
from tests.console.helpers import ABROAD, HOME, case_url, sign_in
from tests.factories import make_case

pytestmark = pytest.mark.usefixtures("demo_directory")


def test_the_rows_split_waiting_cases_from_those_in_progress(app, session):
    waiting = make_case(session, HOME, reference="HL-WAIT01")
    taken = make_case(session, HOME, reference="HL-TAKEN1")
    make_case(session, ABROAD, reference="HL-THEIRS")
    session.commit()
    aigerim, dana = sign_in(app, session, "aigerim"), sign_in(app, session, "dana")
    dana.post(case_url(taken, "/claim"))
    rows = aigerim.get("/console/queue/rows")
    assert rows.status_code == 200 and rows.headers["cache-control"] == "no-store"
    waiting_part, _, in_progress = rows.text.partition('id="in-progress"')
    assert "HL-WAIT01" in waiting_part and "HL-TAKEN1" not in waiting_part
    assert f'action="/console/cases/{waiting.id}/claim"' in waiting_part
    assert "HL-TAKEN1" in in_progress and "claimed by another operator" in in_progress
    assert "HL-THEIRS" not in rows.text
    assert "<html" not in rows.text  # the rows alone, to be swapped into the page
    page = aigerim.get("/console").text
    assert rows.text.strip() in page  # the page shows exactly these rows
    views = session.scalars(select(AuditEvent).where(AuditEvent.action == "queue.view",
                                                     AuditEvent.username == "aigerim")).all()
    assert views[-2].detail == {"count": 2}  # the rows were a view of the queue too


def test_the_rows_need_a_signed_in_operator(app, client, session):
    assert client.get("/console/queue/rows", follow_redirects=False).status_code == 303
    admin = sign_in(app, session, "boss", Role.ADMIN)
    assert admin.get("/console/queue/rows").status_code == 403
