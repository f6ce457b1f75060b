"""The OpenAPI 3.1 document is valid, is served, and describes the requests the API accepts."""

from __future__ import annotations

from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from rj_scheduler.api.openapi import openapi_document
from rj_scheduler.api.referral_request import PARTY_FIELDS, REFERRAL_FIELDS
from tests.api.api_helpers import DOCUMENT, make_api_key, post_referral, referral_body, request_schema_errors


def test_the_openapi_document_is_a_valid_openapi_3_1_document():
    document = openapi_document()

    validate(document, cls=OpenAPIV31SpecValidator)
    assert document["openapi"].startswith("3.1")


def test_the_document_is_served_without_a_key(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == DOCUMENT


def test_the_request_schema_lists_exactly_the_fields_the_api_reads():
    schemas = DOCUMENT["components"]["schemas"]

    assert set(schemas["ReferralRequest"]["properties"]) == {f.name for f in REFERRAL_FIELDS} | {"parties"}
    assert set(schemas["Party"]["properties"]) == {f.name for f in PARTY_FIELDS}


def test_a_body_the_schema_accepts_is_accepted_and_one_it_refuses_is_refused(client):
    _key, full_key = make_api_key()
    good = referral_body(received_at="2026-01-21T09:30:00+00:00", domestic_abuse=False)
    unknown_field = referral_body(favourite_colour="blue")
    wrong_type = referral_body(hate_crime="no")
    missing = referral_body()
    del missing["offence_category"]

    assert request_schema_errors(good) == []
    assert post_referral(client, full_key, good, idempotency_key="good").status_code == 201
    for name, body in {"unknown": unknown_field, "type": wrong_type, "missing": missing}.items():
        assert request_schema_errors(body) != [], name
        assert post_referral(client, full_key, body, idempotency_key=name).status_code == 422, name
