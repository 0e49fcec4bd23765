"""HTML a caller texts, or an operator types, is shown in the console as text, never as markup."""

import markupsafe
import pytest
from sqlalchemy import select

from app.cases.models import Case
from app.organisations.models import Organisation
from tests.console.helpers import case_url, sign_in, without_own_script
from tests.messaging.texting import Texter

pytestmark = pytest.mark.usefixtures("demo_directory")

PAYLOADS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


def assert_shown_as_text(page: str) -> None:
    for payload in PAYLOADS:
        assert payload not in page
        assert str(markupsafe.escape(payload)) in page  # &lt;script&gt;… and &#34;&gt;&lt;img…
    # The console has no image and one script of its own, so any other such tag was injected.
    page = without_own_script(page)
    assert "<script" not in page.lower() and "<img" not in page.lower()


def test_html_in_an_sms_is_escaped_where_the_operator_reads_it(app, client, session, settings):
    texter = Texter(client, settings, "+77010000602")
    # Kazakh, legal help, no child: the case is queued; the rest joins it without a reply.
    for body in (f"Сәлеметсіз бе, маған көмек керек {PAYLOADS[0]}", "2", "2", *PAYLOADS):
        texter.send(body)
    case = session.scalars(select(Case)).one()
    organisation = session.get(Organisation, case.organisation_id).slug
    operator = sign_in(app, session, "aigerim", organisation=organisation)
    page = operator.get(case_url(case))
    assert page.status_code == 200
    assert_shown_as_text(page.text)

    operator.post(case_url(case, "/claim"))
    page = operator.post(case_url(case, "/notes"), {"text": " ".join(PAYLOADS)}, follow=True)
    assert "Note added." in page.text
    assert_shown_as_text(page.text)
