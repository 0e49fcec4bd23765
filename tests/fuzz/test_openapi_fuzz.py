"""Schemathesis with every check against the app's own OpenAPI document.

``call_and_validate`` without ``checks`` runs every check the configuration enables, and
schemathesis enables all of them (the CLI's ``--checks all``): no 5xx; only documented
statuses, content types and headers; every body, errors too, matching its schema;
schema-valid requests accepted and invalid ones refused; 405 with ``Allow`` for a method
a path does not have. Each operation gets schemathesis' coverage cases (every parameter's
edges and wrong types, every undocumented method: deterministic) and a few random
examples, valid and invalid, each operation reported on its own.

Requests are signed in (an operator of the case's organisation, a coordinator for the
statistics, an admin for the audit log and blocklist) so they reach the handlers, not
only the 401. Half of the random examples, and the coverage cases that do not vary the
case id, aim at a real, claimed case, so notes, screening, referral, closing and the SMS
thread run with generated bodies. Each request is rolled back, so a referral or closing
does not take the case away from the next one. The Twilio webhooks are documented
without their form fields; unsigned, they get 403 here, and
tests/fuzz/test_webhook_fuzz.py sends them signed.
"""

import uuid
from dataclasses import dataclass

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from app.users.models import Role
from tests.conftest import make_settings
from tests.console.helpers import ABROAD, texted_case
from tests.fuzz.webhooks import rolled_back
from tests.messaging.texting import FakeSender
from tests.users.people import make_person

MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
# A schema-valid request these operations may refuse, because the app checks what a JSON
# Schema does not say: what exists (a colleague, an organisation, an enrolment begun),
# what is stored (a duty phone), or what the hotline serves (its countries and languages,
# a statistics window of at most so many months). Every other answer still counts:
# positive_data_acceptance keeps its usual statuses and gains only the one named here.
REFUSED_BY_DATA = {
    "POST /api/auth/2fa/confirm": 400,  # a well-formed code that is wrong, or no enrolment
    "POST /api/auth/2fa/disable": 400,  # a well-formed code that is wrong
    "PUT /api/me/duty": 422,  # on duty with no phone given or stored
    "GET /api/cases": 422,  # a language the hotline does not serve
    "PUT /api/cases/{case_id}/screening": 422,  # a two-letter code that names no country
    "POST /api/cases/{case_id}/assign": 422,  # no such colleague
    "POST /api/cases/{case_id}/refer": 422,  # no such organisation
    "GET /api/stats": 422,  # countries served, groupings known, a window not too long
    "GET /api/stats.csv": 422,
    "GET /api/stats/quality": 422,
    "GET /api/stats/export/htcds.csv": 422,
}
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' own


def schemathesis_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({"operations": [
        {"include-name": name,
         "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, str(code)]}}}
        for name, code in REFUSED_BY_DATA.items()]})


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
        admin_only = path.startswith(("/api/audit", "/api/blocklist", "/api/users"))
        return self.admin if admin_only else self.operator


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=schemathesis_config())


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


def test_the_api_keeps_to_its_schema(api_schema, scene, connection, subtests):
    """Every operation, each reported on its own: a failure in one does not hide others."""
    for result in api_schema.get_all_operations():
        operation = result.ok()
        with subtests.test(operation.label):
            cover(operation, scene, connection)
            fuzz(operation, scene, connection)


def cover(operation, scene: Scene, connection) -> None:
    """Schemathesis' coverage cases: the only ones that try undocumented methods."""
    schema = operation.schema
    for case in schema.iter_coverage_cases(
            operation, generation_modes=MODES,
            generation_config=schema.config.generation_for(operation=operation)):
        aim_at_real_case(case, scene)
        call(case, scene, connection)


def fuzz(operation, scene: Scene, connection) -> None:
    # Schemathesis' own pytest loader (schemathesis.pytest.from_fixture) cannot run under
    # pytest 9.2, which no longer has Node._nodeid; its strategies work anywhere.
    cases = st.one_of(*(operation.as_strategy(mode) for mode in MODES))

    @FUZZ
    @given(case=cases, real_case=st.booleans())
    def examples(case, real_case):
        if real_case:
            aim_at_real_case(case, scene)
        call(case, scene, connection)

    examples()


def call(case, scene: Scene, connection) -> None:
    with rolled_back(connection):
        case.call_and_validate(headers=scene.headers_for(case.path))  # every check


def aim_at_real_case(case, scene: Scene) -> None:
    """The claimed case, and an organisation a referral can go to, in place of random but
    well-formed ones; a malformed one is what a negative case tests, and is kept."""
    if _is_uuid(case.path_parameters.get("case_id")):
        case.path_parameters["case_id"] = scene.case_id
    if isinstance(case.body, dict) and isinstance(case.body.get("organisation"), str):
        case.body["organisation"] = ABROAD


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
