"""The login limit per address counts the real client: X-Forwarded-For is believed only
from a proxy named in HOTLINE_TRUSTED_PROXIES."""

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.users.people import PASSWORD, make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
PROXY = ("10.0.0.2", 40000)
ATTACKER = ("198.51.100.7", 40000)


@pytest.fixture
def settings(database_url, audio_dir):
    return make_settings(database_url, audio_dir_override=audio_dir,
                         trusted_proxies="10.0.0.0/24")


def fail(client: TestClient, forwarded_for: str, n: int) -> None:
    response = client.post("/api/auth/token", headers={"X-Forwarded-For": forwarded_for},
                           data={"username": f"user{n}", "password": "guess"})
    assert response.status_code == 401


def login(client: TestClient, forwarded_for: str) -> int:
    return client.post("/api/auth/token", headers={"X-Forwarded-For": forwarded_for},
                       data={"username": "aigerim", "password": PASSWORD}).status_code


def test_rotating_the_header_from_an_untrusted_peer_gains_nothing(app, session):
    client = TestClient(app, client=ATTACKER)
    make_person(client, session, "aigerim")
    for n in range(20):
        fail(client, f"203.0.113.{n}", n)
    # Twenty "addresses" were one, the attacker's: locked out whatever it writes next.
    assert login(client, "203.0.113.250") == 429


def test_behind_a_trusted_proxy_each_client_is_counted_apart(app, session):
    client = TestClient(app, client=PROXY)
    make_person(client, session, "aigerim")
    for n in range(20):
        fail(client, "203.0.113.9", n)
    assert login(client, "203.0.113.9") == 429   # the client that failed twenty times
    assert login(client, "203.0.113.10") == 200  # a colleague behind the same proxy


def test_the_setting_lists_addresses_and_networks(database_url):
    settings = make_settings(database_url, trusted_proxies="10.0.0.0/8, 127.0.0.1")
    assert settings.trusted_proxy_list == ["10.0.0.0/8", "127.0.0.1"]
