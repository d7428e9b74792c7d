"""The OpenAPI document at /api/openapi.json: a valid OpenAPI 3.1 document covering every API
route, and the API fuzzed against it with schemathesis (ASVS 5.0 4.1.x, 16.5.x).

schemathesis generates requests for every operation from the document, both schema-valid
(positive) and schema-breaking (negative) ones, and sends them to the WSGI app in-process with a
real user's Bearer token. Checked: no 5xx answer, and every answer conforms to the document
(status code, content type, headers, body schema); negative data must be refused with a 4xx.
Bounded: a fixed number of derandomised examples per operation, no shrinking.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from musicrec.web.api.schemas import CountQuery
from musicrec.web.api.spec import document
from tests.web.conftest import PASSWORD, api_signup, bearer
from tests.web.test_security_support import rule_path

MAX_EXAMPLES = 20
FUZZER = "fuzzer"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

OPERATIONS = sorted(
    f"{method.upper()} {path}"
    for path, methods in document()["paths"].items()
    for method in methods
    if method in ("get", "put", "post", "delete", "patch")
)
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_openapi_document_is_a_valid_openapi_3_document(client: FlaskClient) -> None:
    """The served document passes openapi-spec-validator, and is JSON with security headers."""
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "cookie"}


def test_openapi_document_describes_every_api_route(app: Flask) -> None:
    """Every /api/v1 route of the app is in the document with its methods, and nothing more."""
    spec = app.test_client().get("/api/openapi.json").get_json()
    documented = {
        (method.upper(), path)
        for path, methods in spec["paths"].items()
        for method in methods
        if method in ("get", "put", "post", "delete", "patch")
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule_path(rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            served.add((method, path))

    assert served == documented


def test_openapi_every_guarded_operation_declares_its_security_and_401(app: Flask) -> None:
    """Operations that need a session declare bearer/cookie security and document a 401."""
    spec = app.test_client().get("/api/openapi.json").get_json()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if path.startswith("/api/v1/me") or path == "/api/v1/auth/logout":
                assert operation.get("security"), (method, path)
                assert "401" in operation["responses"], (method, path)
            if operation.get("requestBody"):
                assert "400" in operation["responses"], (method, path)


def test_openapi_path_ids_and_query_bounds_come_from_the_request_models() -> None:
    """Row ids in paths are 1..2^31-1 (the app's ``id`` converter); query bounds are the models'."""
    paths = document()["paths"]
    similar = paths["/api/v1/artists/{artist_id}/similar"]["get"]["parameters"]
    by_name = {parameter["name"]: parameter for parameter in similar}

    assert by_name["artist_id"]["in"] == "path" and by_name["artist_id"]["required"]
    assert by_name["artist_id"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    assert by_name["n"]["in"] == "query" and not by_name["n"]["required"]
    n_schema = by_name["n"]["schema"]
    assert CountQuery.model_fields["n"].default == n_schema["default"] == 10
    assert (n_schema["minimum"], n_schema["maximum"]) == (1, 50)


def test_openapi_answers_and_bodies_refer_to_the_pydantic_models() -> None:
    """Each answer's schema is its model's; errors share the Error model and its descriptions."""
    spec = document()
    token = spec["paths"]["/api/v1/auth/token"]["post"]
    schemas = spec["components"]["schemas"]
    content = token["responses"]["200"]["content"]["application/json"]

    assert token["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/TokenBody"
    )
    assert content["schema"]["$ref"] == "#/components/schemas/Token"
    assert schemas["Token"]["required"] == ["token", "expires_at"]
    assert schemas["TokenBody"]["additionalProperties"] is False
    assert token["responses"]["401"]["description"] == "Not logged in, or the token was refused"
    assert "field" not in schemas["ErrorDetail"]["required"]
    assert token["tags"] == ["auth"]


def _run_operation(app: Flask, label: str, mode: GenerationMode) -> None:
    client = app.test_client()
    api_signup(client, FUZZER)
    token = client.post(
        "/api/v1/auth/token", json={"username": FUZZER, "password": PASSWORD}
    ).get_json()["token"]
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operation = next(op for op in operations if op.label == label)
    logs_out = label.endswith("/auth/logout")
    checks = CONFORMANCE + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=True,
    )
    def fuzz(case: schemathesis.Case) -> None:
        auth = token
        if logs_out:  # each logout case ends its own session, not the shared one
            auth = client.post(
                "/api/v1/auth/token", json={"username": FUZZER, "password": PASSWORD}
            ).get_json()["token"]
        case.call_and_validate(headers=bearer(auth), checks=checks)

    try:
        fuzz()
    except Unsatisfiable:
        if mode is GenerationMode.NEGATIVE:
            return  # nothing in this operation can be made invalid (no parameters, no body)
        raise


@SQLITE_ONLY
@pytest.mark.parametrize("label", OPERATIONS)
def test_schemathesis_schema_valid_requests_get_conforming_answers(
    app: Flask, catalogue: dict[str, int], label: str
) -> None:
    """schemathesis, positive mode: no 5xx, and every answer conforms to the document."""
    _run_operation(app, label, GenerationMode.POSITIVE)


@SQLITE_ONLY
@pytest.mark.parametrize("label", OPERATIONS)
def test_schemathesis_schema_breaking_requests_are_refused_cleanly(
    app: Flask, catalogue: dict[str, int], label: str
) -> None:
    """schemathesis, negative mode: invalid input gets a documented 4xx, never a 5xx."""
    _run_operation(app, label, GenerationMode.NEGATIVE)
