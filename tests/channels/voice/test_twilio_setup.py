"""``hotline twilio setup`` against a local fake of Twilio's REST API, never the real one:
the SDK's own HTTP client, sent to a loopback server that keeps the account's numbers."""

import io
import os
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session
from twilio.rest import Client

from app import cli, db
from app.organisations.models import NationalLine
from app.twilio import setup as twilio_setup
from tests.channels.voice.calls import Caller
from tests.fake_twilio_rest import FakeTwilioAccount, fake_twilio
from tests.messaging.texting import Texter, new_message_sid
from tests.twilio import post, twiml

PUBLIC = "https://hotline.example.org"
ALMATY, BISHKEK, DUSHANBE = "+77270000801", "+77270000802", "+77270000803"
WANTED = {"voice_url": f"{PUBLIC}/twilio/voice", "voice_fallback_url": f"{PUBLIC}/twilio/voice",
          "status_callback": f"{PUBLIC}/twilio/voice/status", "sms_url": f"{PUBLIC}/twilio/sms",
          "sms_fallback_url": f"{PUBLIC}/twilio/sms"}


@pytest.fixture(scope="module")
def lines_database(database_factory) -> str:
    """A migrated database with three lines, one of them inactive (it is never touched)."""
    url = database_factory.create()
    db.upgrade(url)
    engine = db.make_engine(url)
    with Session(engine) as session, session.begin():
        session.add_all([
            NationalLine(number=ALMATY, country="KZ", languages=["kk", "ru"]),
            NationalLine(number=BISHKEK, country="KG", languages=["ky", "ru"]),
            NationalLine(number=DUSHANBE, country="TJ", languages=["tg"], active=False)])
    engine.dispose()
    return url


@pytest.fixture
def account(monkeypatch) -> Iterator[FakeTwilioAccount]:
    with fake_twilio() as fake:
        monkeypatch.setattr(twilio_setup, "twilio_client", lambda credentials: Client(
            credentials.account_sid, credentials.auth_token, http_client=fake.http_client()))
        yield fake


@pytest.fixture
def hotline(lines_database, account, monkeypatch, capsys, tmp_path):
    """``hotline ...`` in-process with the account's credentials in the environment."""
    for name in os.environ:
        if name.startswith(("HOTLINE_", "TWILIO_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", lines_database)
    monkeypatch.setenv("HOTLINE_PUBLIC_URL", PUBLIC)
    monkeypatch.setenv("HOTLINE_TWILIO_ACCOUNT_SID", account.account_sid)
    monkeypatch.setenv("HOTLINE_TWILIO_AUTH_TOKEN", account.auth_token)

    def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main(["twilio", "setup", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def webhooks(account: FakeTwilioAccount, number: str) -> dict[str, str]:
    record = account.number(number)
    return {name: record[name] for name in WANTED}


def methods(account: FakeTwilioAccount, number: str) -> set[str]:
    record = account.number(number)
    return {record[f"{name.removesuffix('_url')}_method"] for name in WANTED}


def test_first_run_points_every_active_number_here_and_says_what_changed(hotline, account):
    account.add_number(ALMATY)
    account.add_number(BISHKEK)
    untouched = account.add_number(DUSHANBE)  # its line is inactive
    code, out, _ = hotline()
    assert code == 0
    for number in (ALMATY, BISHKEK):
        assert webhooks(account, number) == WANTED
        assert methods(account, number) == {"POST"}
    assert account.numbers[untouched]["voice_url"] == "https://demo.twilio.com/welcome/voice/"
    lines = out.splitlines()
    assert (f"{ALMATY} voice_url: POST https://demo.twilio.com/welcome/voice/ → "
            f"POST {PUBLIC}/twilio/voice") in lines
    assert f"{BISHKEK} status_callback: (none) → POST {PUBLIC}/twilio/voice/status" in lines
    assert f"{BISHKEK} sms_fallback_url: (none) → POST {PUBLIC}/twilio/sms" in lines
    assert "2 of 2 numbers updated" in lines
    assert DUSHANBE not in out
    assert len(account.posts) == 2  # one update per number, all fields at once


def test_second_run_changes_nothing_and_says_so(hotline, account):
    account.add_number(ALMATY)
    account.add_number(BISHKEK)
    hotline()
    sent = len(account.posts)
    code, out, _ = hotline()
    assert code == 0
    assert out.splitlines() == [f"{ALMATY} already set", f"{BISHKEK} already set",
                                "0 of 2 numbers updated"]
    assert len(account.posts) == sent


def test_only_the_fields_that_differ_are_sent(hotline, account):
    account.add_number(ALMATY, **WANTED)
    account.add_number(BISHKEK, **WANTED | {
        "sms_method": "GET", "voice_fallback_url": "https://handler.twilio.com/twiml/EH0"})
    code, out, _ = hotline()
    assert code == 0
    assert f"{ALMATY} already set" in out.splitlines()
    assert f"{BISHKEK} sms_url: GET {PUBLIC}/twilio/sms → POST {PUBLIC}/twilio/sms" in out
    [update] = account.posts
    assert update.form == {"SmsMethod": "POST", "VoiceFallbackUrl": f"{PUBLIC}/twilio/voice"}
    assert webhooks(account, BISHKEK) == WANTED and methods(account, BISHKEK) == {"POST"}


def test_dry_run_prints_the_changes_and_sends_none(hotline, account):
    account.add_number(ALMATY)
    account.add_number(BISHKEK)
    code, out, _ = hotline("--dry-run")
    assert code == 0
    assert f"{ALMATY} sms_url: (none) → POST {PUBLIC}/twilio/sms" in out.splitlines()
    assert "dry run: 2 of 2 numbers would change; nothing was sent" in out
    assert account.posts == []
    assert account.number(ALMATY)["sms_url"] == ""


def test_a_number_missing_from_the_account_fails_the_run(hotline, account):
    account.add_number(ALMATY)
    longer = account.add_number(BISHKEK + "9")  # Twilio's filter would match it: not ours
    code, out, _ = hotline()
    assert code == 1
    lines = out.splitlines()
    assert f"{BISHKEK} not found in the Twilio account" in lines
    assert "1 number(s) not in this Twilio account" in out
    assert webhooks(account, ALMATY) == WANTED  # the others are still set up
    assert account.numbers[longer]["sms_url"] == ""


def test_credentials_from_stdin_work_and_are_never_printed(hotline, account, monkeypatch):
    monkeypatch.delenv("HOTLINE_TWILIO_ACCOUNT_SID")
    monkeypatch.delenv("HOTLINE_TWILIO_AUTH_TOKEN")
    account.add_number(ALMATY)
    account.add_number(BISHKEK)
    code, out, err = hotline("--credentials-stdin",
                             stdin=f"{account.account_sid}\n{account.auth_token}\n")
    assert code == 0 and webhooks(account, ALMATY) == WANTED
    assert account.auth_token not in out + err and account.account_sid not in out + err


def test_wrong_credentials_are_refused_without_printing_them(hotline, account):
    account.add_number(ALMATY)
    wrong = "not-the-token-" + "9e" * 8
    code, out, err = hotline("--credentials-stdin", stdin=f"{account.account_sid}\n{wrong}\n")
    assert code == 1
    assert "HTTP 401" in err and "wrong account SID or auth token" in err
    assert wrong not in out + err
    assert account.posts == []


def test_without_credentials_it_says_where_to_put_them(hotline, account, monkeypatch):
    monkeypatch.delenv("HOTLINE_TWILIO_AUTH_TOKEN")
    code, _, err = hotline()
    assert code == 2 and "HOTLINE_TWILIO_AUTH_TOKEN" in err and "--credentials-stdin" in err
    assert account.requests == []


def test_a_plain_http_public_url_is_refused(hotline, account, monkeypatch):
    monkeypatch.setenv("HOTLINE_PUBLIC_URL", "http://hotline.example.org")
    account.add_number(ALMATY)
    code, out, err = hotline()
    assert code == 2 and "https" in err and out == ""
    assert account.requests == []


def test_twilio_gets_an_answer_at_every_url_set(client, settings):
    """Each URL is a route the service answers by POST (not 404 or 405); a fallback request
    after a lost reply gets the very reply the first request got."""
    urls = twilio_setup.webhook_urls(settings.public_url)
    assert {name: urls[name] for name in WANTED} == WANTED  # make_settings' public URL
    caller = Caller(client, settings, "+992900000000")
    first = twiml(post(client, settings, urls["voice_url"], caller.params(CallStatus="ringing")))
    assert first.find("Gather") is not None
    fallback = twiml(post(client, settings, urls["voice_fallback_url"], caller.params(
        CallStatus="ringing", ErrorCode="11200", ErrorUrl=urls["voice_url"])))
    assert fallback.text == first.text
    status = post(client, settings, urls["status_callback"],
                  caller.params(CallStatus="completed", CallDuration="7"))
    assert status.status_code == 200
    texter = Texter(client, settings, "+992900000000")
    sid = new_message_sid()
    reply = twiml(post(client, settings, urls["sms_url"], texter.params("Салом", sid)))
    assert reply.find("Message") is not None
    again = twiml(post(client, settings, urls["sms_fallback_url"], texter.params("Салом", sid)))
    assert again.text == reply.text


def test_credentials_on_stdin_must_be_the_sid_then_the_token(hotline, account):
    code, out, err = hotline("--credentials-stdin", stdin=f"{account.auth_token}\n")
    assert code == 2 and "two lines: the account SID, then the auth token" in err
    assert account.auth_token not in out + err and account.requests == []
