"""Liveness and readiness probes."""

from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import make_settings


def test_healthz_answers_while_the_process_is_up(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ready_when_migrations_are_at_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readyz_reports_pending_migrations(fresh_database_url):
    with TestClient(create_app(make_settings(fresh_database_url))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "migrations pending"


def test_readyz_reports_an_unreachable_database():
    dead = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1"
    with TestClient(create_app(make_settings(dead))) as client:
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "database unreachable"
