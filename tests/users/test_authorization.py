"""Every API route with every role, and anonymously: who may do what."""

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.users.models import Role
from tests.factories import make_case
from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")

# Which roles each route prefix admits; a new route must be added here or the test fails.
RULES: dict[str, set[Role]] = {
    "/api/auth/me": {Role.OPERATOR, Role.COORDINATOR, Role.ADMIN},
    "/api/auth/password": {Role.OPERATOR, Role.COORDINATOR, Role.ADMIN},
    "/api/auth/logout": {Role.OPERATOR, Role.COORDINATOR, Role.ADMIN},
    "/api/auth/2fa": {Role.OPERATOR, Role.COORDINATOR, Role.ADMIN},
    "/api/users": {Role.ADMIN},
    "/api/me/duty": {Role.OPERATOR},
    "/api/events": {Role.OPERATOR},
    "/api/cases": {Role.OPERATOR},
    "/api/referrals": {Role.OPERATOR},
    "/api/audit": {Role.ADMIN},
    "/api/blocklist": {Role.ADMIN},
    "/api/stats": {Role.COORDINATOR, Role.ADMIN},
}
PUBLIC = {"/api/auth/token"}
# Refusals are checked here; what an admitted request does is tested where noted.
NOT_RUN_WHEN_ADMITTED = {
    "/api/events": "streams until the client leaves: tests/events/test_bus.py",
    "/api/auth/logout": "ends the session this loop uses: tests/users/test_lifecycle.py",
}


def api_routes(app) -> list[tuple[str, str]]:
    # A typed parameter ({case_id:uuid}) as the OpenAPI writes it ({case_id}).
    routes = sorted((method, re.sub(r"\{(\w+):\w+\}", r"{\1}", context.path)
                     .replace("{callback_id}", "1"))
                    for context in iter_route_contexts(app.routes)
                    if isinstance(context.route, APIRoute) and context.path.startswith("/api")
                    for method in context.route.methods)
    assert len(routes) > 15, routes  # included routers are nested: walk them all
    return routes


def allowed_roles(path: str) -> set[Role]:
    matches = [prefix for prefix in RULES if path.startswith(prefix)]
    assert matches, f"{path} has no authorization rule in this test"
    return RULES[max(matches, key=len)]


def test_every_api_route_has_a_rule(app):
    for _, path in api_routes(app):
        assert path in PUBLIC or allowed_roles(path)


@pytest.mark.parametrize("role", [None, *Role])
def test_every_route_admits_exactly_its_roles(app, client, session, role):
    case = make_case(session, "kz-almaty-shelter")
    headers = {}
    if role is not None:
        headers = make_person(client, session, f"user-{role or 'anon'}", role).headers
    for method, path in api_routes(app):
        if path in PUBLIC or (path in NOT_RUN_WHEN_ADMITTED and role in allowed_roles(path)):
            continue
        response = client.request(method, path.replace("{case_id}", str(case.id)),
                                  headers=headers, json={})
        if role is None:
            expected_refusal = 401
        elif role not in allowed_roles(path):
            expected_refusal = 403
        else:
            assert response.status_code not in (401, 403), (method, path, response.text)
            continue
        assert response.status_code == expected_refusal, (method, path, role)


def test_the_console_cookie_does_not_open_the_api(client, session):
    """A page on the same site could make the browser send the cookie; only tokens count."""
    make_case(session, "kz-almaty-shelter")
    person = make_person(client, session, "aigerim")
    token = person.headers["Authorization"].split()[1]
    client.cookies.set("__Host-hotline_session", token)  # as under the https public URL
    assert client.get("/api/cases").status_code == 401
    assert client.post("/api/cases/claim-next").status_code == 401


def test_another_organisations_case_is_404_on_every_case_route(app, client, session):
    foreign = make_case(session, "tj-dushanbe-shelter")
    person = make_person(client, session, "aigerim", Role.OPERATOR)
    case_routes = [(m, p) for m, p in api_routes(app) if "{case_id}" in p]
    assert len(case_routes) >= 10
    for method, path in case_routes:
        response = client.request(method, path.replace("{case_id}", str(foreign.id)),
                                  headers=person.headers, json={})
        assert response.status_code in (404, 422), (method, path, response.status_code)
        if response.status_code == 422:  # the body was refused before the case was looked up
            valid = {"text": "x", "organisation": "kz-almaty-hub", "service": "Shelter",
                     "reason": "x", "body": "x", "given": True, "to": "x"}
            response = client.request(method, path.replace("{case_id}", str(foreign.id)),
                                      headers=person.headers, json=valid)
            assert response.status_code == 404, (method, path, response.text)
