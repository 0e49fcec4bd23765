"""What schemathesis' checks found wrong with the OpenAPI, pinned: a wrong method answered
422, 405 named only some of a path's methods, a handler's own 422 had a string where the
schema promised a list, 0 passed for a boolean, and no error status was documented."""

import pytest

from tests.users.people import make_person

pytestmark = pytest.mark.usefixtures("demo_directory")
ERROR_SCHEMAS = {"#/components/schemas/Problem", "#/components/schemas/HTTPValidationError"}


def test_a_wrong_method_on_a_known_path_is_405_not_a_malformed_case_id(client, session):
    # Was 422: GET /api/cases/{case_id} took "claim-next" for a case id.
    operator = make_person(client, session, "aigerim")
    response = client.get("/api/cases/claim-next", headers=operator.headers)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_405_names_every_method_the_path_has(client, session):
    # GET and PUT of /api/me/duty are two routes; Starlette named only the first one's.
    response = client.delete("/api/me/duty")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT"


def test_a_malformed_case_id_names_no_case(client, session):
    operator = make_person(client, session, "aigerim")
    assert client.get("/api/cases/not-a-case", headers=operator.headers).status_code == 404


def test_a_handlers_own_422_reads_like_a_validation_error(client, session):
    operator = make_person(client, session, "aigerim")
    response = client.put("/api/me/duty", json={"on_duty": True}, headers=operator.headers)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == [] and error["type"] == "value_error"
    assert "phone" in error["msg"]


def test_a_boolean_is_true_or_false_not_a_number(client, session):
    operator = make_person(client, session, "aigerim")
    response = client.put("/api/me/duty", json={"on_duty": 0}, headers=operator.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "on_duty"]


def test_every_error_an_operation_documents_has_the_one_error_model(client):
    paths = client.get("/openapi.json").json()["paths"]
    api = {(method.upper(), path): operation for path, operations in paths.items()
           for method, operation in operations.items() if path.startswith("/api/")}
    for (method, path), operation in api.items():
        statuses = operation["responses"]
        assert {"401", "503"} <= set(statuses), (method, path)
        for status, response in statuses.items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema.get("$ref") in ERROR_SCHEMAS or schema.get("title") == "Problem", (
                    method, path, status)
    assert "404" in api["POST", "/api/cases/claim-next"]["responses"]
    assert {"404", "409"} <= set(api["POST", "/api/cases/{case_id}/claim"]["responses"])


def test_every_webhook_documents_its_refusals(client):
    paths = client.get("/openapi.json").json()["paths"]
    twilio = [operations["post"] for path, operations in paths.items()
              if path.startswith("/twilio/")]
    assert twilio
    for operation in twilio:
        assert {"400", "403", "413"} <= set(operation["responses"])

