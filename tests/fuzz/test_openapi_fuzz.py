"""Schemathesis against the app's own OpenAPI document: no request gets a 5xx.

Requests are signed in (an operator of the case's organisation, a coordinator for the
statistics, an admin for the audit log) so they reach the handlers, not only the 401.
Half of the examples aim at a real, claimed case instead of a random id, so notes,
screening, referral, closing and the SMS thread run with generated bodies. Each example
is rolled back, so a referral or closing does not take the case away from the next one.
The Twilio webhooks are documented without their form fields; unsigned, they get 403
here, and tests/fuzz/test_webhook_fuzz.py sends them signed.
"""

from dataclasses import dataclass

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from app.users.models import Role
from tests.api.people import make_person
from tests.conftest import make_settings
from tests.console.helpers import ABROAD, texted_case
from tests.fuzz.webhooks import rolled_back
from tests.messaging.texting import FakeSender


def conforms_unless_error(ctx, response, case):
    """The documented response schema, for answers that are not errors. The handlers' own
    4xx carry a string ``detail``, where FastAPI documents its list of validation errors."""
    if response.status_code < 400:
        return schemathesis.checks.response_schema_conformance(ctx, response, case)
    return None


CHECKS = [schemathesis.checks.not_a_server_error, conforms_unless_error]


@dataclass
class Scene:
    """Who calls which route, and the case worth aiming at."""

    operator: dict[str, str]
    coordinator: dict[str, str]
    admin: dict[str, str]
    case_id: str

    def headers_for(self, path: str) -> dict[str, str]:
        if path.startswith("/api/stats"):
            return self.coordinator
        admin_only = path.startswith(("/api/audit", "/api/blocklist"))
        return self.admin if admin_only else self.operator


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def settings(database_url, audio_dir):
    """A hotline number to show on call-backs, as a deployment that places them has."""
    return make_settings(database_url, audio_dir_override=audio_dir,
                         voice_caller_id="+77270009999")


@pytest.fixture
def scene(app, client, session, settings, demo_directory) -> Scene:
    app.state.sms_sender = FakeSender()  # records outbound texts and calls, never sends
    case, organisation = texted_case(client, session, settings)
    operator = make_person(client, session, "fuzz-operator", Role.OPERATOR, organisation)
    claimed = client.post(f"/api/cases/{case.id}/claim", headers=operator.headers)
    assert claimed.status_code == 200, claimed.text
    return Scene(operator.headers,
                 make_person(client, session, "fuzz-coordinator", Role.COORDINATOR).headers,
                 make_person(client, session, "fuzz-admin", Role.ADMIN).headers, str(case.id))


FUZZ = hypothesis.settings(max_examples=10, deadline=None, derandomize=True, database=None,
                           suppress_health_check=[HealthCheck.too_slow])


def test_the_api_never_answers_5xx(api_schema, scene, connection, subtests):
    """Every operation, each reported on its own: a 5xx in one does not hide the others."""
    for result in api_schema.get_all_operations():
        operation = result.ok()
        with subtests.test(operation.label):
            fuzz(operation, scene, connection)


def fuzz(operation, scene: Scene, connection) -> None:
    # Schemathesis' own pytest loader (schemathesis.pytest.from_fixture) cannot run under
    # pytest 9.2, which no longer has Node._nodeid; its strategies work anywhere.
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @FUZZ
    @given(case=cases, real_case=st.booleans())
    def examples(case, real_case):
        if real_case:
            aim_at_real_case(case, scene)
        with rolled_back(connection):
            case.call_and_validate(headers=scene.headers_for(case.path), checks=CHECKS)

    examples()


def aim_at_real_case(case, scene: Scene) -> None:
    """The claimed case, and an organisation a referral can go to, instead of random ones."""
    if "case_id" in case.path_parameters:
        case.path_parameters["case_id"] = scene.case_id
    if isinstance(case.body, dict) and "organisation" in case.body:
        case.body["organisation"] = ABROAD
