"""/metrics: counters move with calls and texts, webhooks are timed by route, the gauges
are the database's counts, and only an authorised scraper gets any of it."""

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from app.cases import service as cases
from app.cases.models import Case, CaseStatus, Channel
from app.messaging import conversations
from app.messaging.models import Outbox, OutboxStatus
from app.privacy.pseudonym import pseudonymise
from tests.channels.voice.calls import Caller
from tests.conftest import WEEKDAY_MORNING, use_sessions
from tests.messaging.texting import Texter

pytestmark = pytest.mark.usefixtures("demo_directory")
TOKEN = "metrics-" + "t" * 40
CALLER = "+992900000701"
TEXTER = "+77010000701"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def read(text: str) -> Samples:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def scrape(app, client):
    app.state.settings = app.state.settings.model_copy(update={"metrics_token": TOKEN})

    def scrape() -> Samples:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        return read(response.text)

    return scrape


def unanswered_call_with_callback(client, settings) -> None:
    c = Caller(client, settings, CALLER)
    c.call()
    c.press("1")  # Tajik
    c.press("1")  # danger: the responders are rung
    c.dial_ends("no-answer")
    c.dial_ends("busy")
    c.dial_ends("failed")  # nobody left: the callback offer
    c.press("1")
    c.status("completed", 40)


def test_a_call_moves_the_call_routing_and_latency_metrics(client, settings, scrape):
    before = scrape()
    unanswered_call_with_callback(client, settings)
    after = scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("hotline_contacts_total", channel="voice") == 1
    for result in ("no-answer", "busy", "failed"):
        assert moved("hotline_dial_attempts_total", result=result) == 1
    assert moved("hotline_contact_outcomes_total", channel="voice", outcome="no_responder") == 1
    assert moved("hotline_contact_outcomes_total", channel="voice",
                 outcome="callback_requested") == 1
    assert moved("hotline_webhook_duration_seconds_count", route="/twilio/voice") == 1
    assert moved("hotline_webhook_duration_seconds_count", route="/twilio/voice/dial") == 3
    assert moved("hotline_webhook_duration_seconds_sum", route="/twilio/voice") > 0


def test_a_retried_webhook_is_counted_once(client, settings, scrape):
    c = Caller(client, settings, CALLER)
    before = scrape()
    c.call()
    c.call()  # Twilio retries with the same CallSid: the stored reply, no new contact
    after = scrape()
    assert (value(after, "hotline_contacts_total", channel="voice")
            - value(before, "hotline_contacts_total", channel="voice")) == 1


def test_texts_are_counted_by_direction(client, settings, scrape):
    before = scrape()
    t = Texter(client, settings, TEXTER)
    for body in ("Сәлеметсіз бе, маған көмек керек", "1", "2"):
        t.send(body)
    after = scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("hotline_contacts_total", channel="sms") == 1
    assert moved("hotline_messages_total", channel="sms", direction="in") == 3
    assert moved("hotline_messages_total", channel="sms", direction="out") == 3  # auto replies
    assert moved("hotline_webhook_duration_seconds_count", route="/twilio/sms") == 3


def test_the_gauges_are_the_databases_counts(client, settings, session, scrape):
    unanswered_call_with_callback(client, settings)
    t = Texter(client, settings, TEXTER)
    for body in ("Сәлеметсіз бе, маған көмек керек", "1", "2"):
        t.send(body)
    session.expire_all()
    texter_case = session.scalars(select(Case).where(
        Case.caller_pseudonym == pseudonymise(TEXTER, settings.pseudonym_key))).one()
    conversations.queue_reply(session, settings, texter_case, "Сәлем", WEEKDAY_MORNING)
    conversations.queue_reply(session, settings, texter_case, "Біз көмектесеміз",
                              WEEKDAY_MORNING)
    session.commit()

    samples = scrape()
    waiting = session.scalar(select(func.count()).select_from(Case).where(
        Case.status.in_([CaseStatus.QUEUED, CaseStatus.REFERRED])))
    assert waiting == 2
    assert sum(value(samples, "hotline_queue_depth", priority=p)
               for p in ("child", "urgent", "normal")) == waiting
    assert value(samples, "hotline_queue_depth", priority="urgent") == 2  # both in danger
    unsent = session.scalar(select(func.count()).select_from(Outbox).where(
        Outbox.status == OutboxStatus.PENDING))
    assert value(samples, "hotline_outbox_backlog") == unsent == 2
    assert value(samples, "hotline_database_up") == 1


def test_a_rolled_back_contact_counts_nothing(client, session, scrape):
    before = value(scrape(), "hotline_contacts_total", channel="voice")
    cases.start_contact(session, sid="CA" + "7" * 32, channel=Channel.VOICE,
                        pseudonym="p" * 64, country="TJ")
    session.rollback()
    assert value(scrape(), "hotline_contacts_total", channel="voice") == before
    cases.start_contact(session, sid="CA" + "7" * 32, channel=Channel.VOICE,
                        pseudonym="p" * 64, country="TJ")
    session.commit()
    assert value(scrape(), "hotline_contacts_total", channel="voice") == before + 1


def test_unknown_webhook_paths_are_one_series_not_one_per_url(client, scrape):
    before = value(scrape(), "hotline_webhook_duration_seconds_count", route="unmatched")
    for n in range(3):
        client.post(f"/twilio/nothing-here-{n}?x={n}")
    after = scrape()
    assert value(after, "hotline_webhook_duration_seconds_count", route="unmatched") == before + 3
    assert not any("nothing-here" in str(labels) for _, labels in after)


def test_the_database_down_leaves_the_counters_and_says_so(app, client, settings, scrape):
    Caller(client, settings, CALLER).call()
    dead = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    use_sessions(app, lambda: Session(bind=dead))
    samples = scrape()
    assert value(samples, "hotline_database_up") == 0
    assert ("hotline_outbox_backlog", frozenset()) not in samples
    assert value(samples, "hotline_contacts_total", channel="voice") >= 1


# --- who may scrape --------------------------------------------------------------------

def with_token(app, token: str) -> None:
    app.state.settings = app.state.settings.model_copy(update={"metrics_token": token})


def test_with_a_token_set_only_the_bearer_of_it_is_served(app, client):
    with_token(app, TOKEN)
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert client.get("/metrics",
                      headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401
    assert client.get("/metrics",
                      headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_with_a_token_set_even_loopback_needs_it(app):
    with_token(app, TOKEN)
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics").status_code == 401


def test_without_a_token_a_remote_client_gets_not_found(client):
    response = client.get("/metrics")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_without_a_token_a_direct_loopback_client_is_served(app, address):
    with TestClient(app, client=(address, 40000)) as local:
        response = local.get("/metrics")
    assert response.status_code == 200 and "hotline_queue_depth" in response.text


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_without_a_token_a_proxied_request_is_refused_even_from_loopback(app, header):
    """Behind a proxy on the same host everyone arrives from 127.0.0.1."""
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.get("/metrics", headers={header: "127.0.0.1"}).status_code == 404


@pytest.mark.parametrize("address", ["10.0.0.5", "192.168.1.2", "203.0.113.7"])
def test_without_a_token_private_addresses_are_not_enough(app, address):
    with TestClient(app, client=(address, 40000)) as local:
        assert local.get("/metrics").status_code == 404


def test_a_short_metrics_token_is_refused_at_start(database_url):
    from app.config import ConfigurationError, check_secrets
    from tests.conftest import make_settings

    check_secrets(make_settings(database_url, metrics_token=TOKEN))
    with pytest.raises(ConfigurationError, match="HOTLINE_METRICS_TOKEN must be at least 32"):
        check_secrets(make_settings(database_url, metrics_token="short"))
