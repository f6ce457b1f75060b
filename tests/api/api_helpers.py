"""Helpers of the partner API tests: keys, referral bodies, requests, and the OpenAPI conformance check."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from rj_scheduler.api.models import ApiKey
from rj_scheduler.api.openapi import openapi_document
from rj_scheduler.api.services import create_api_key
from rj_scheduler.auth.models import Service
from rj_scheduler.db import now
from tests.factories import make_service

DOCUMENT = openapi_document()
_DOC_URI = "urn:rj-scheduler:openapi"
_REGISTRY = Registry().with_resource(
    _DOC_URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012)
)


def make_api_key(
    service: Service | None = None, *, partner_name: str = "Midshire Police", source: str = "police"
) -> tuple[ApiKey, str]:
    """A live key of ``service`` and the full key string (as shown once to the manager)."""
    return create_api_key(
        service or make_service(), partner_name=partner_name, source=source, actor=None, at=now()
    )


def referral_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "offence_category": "burglary",
        "justice_stage": "awaiting_trial",
        "offence_date": "2026-01-20",
        "crime_reference": "MP/2026/0042",
        "referrer_name": "PC Amy Example",
        "parties": [
            {
                "role": "victim",
                "full_name": "Vera Victim",
                "mobile": "07700 900123",
                "email": "vera@example.org",
                "allow_sms": True,
            },
            {"role": "offender", "full_name": "Owen Offender"},
        ],
    }
    body.update(overrides)
    return body


def post_referral(
    client: FlaskClient,
    full_key: str | None,
    body: Any,
    *,
    idempotency_key: str | None = "retry-safe-0001",
    content_type: str = "application/json",
    raw: bytes | None = None,
) -> TestResponse:
    headers = {}
    if full_key is not None:
        headers["Authorization"] = f"Bearer {full_key}"
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    data = raw if raw is not None else json.dumps(body).encode()
    return client.post("/api/v1/referrals", data=data, headers=headers, content_type=content_type)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        path = node["$ref"].removeprefix("#/").split("/")
        target: Any = DOCUMENT
        for part in path:
            target = target[part]
        node = target
    return node


def _operation_for(path: str, method: str) -> dict[str, Any]:
    parts = path.split("/")
    for template, operations in DOCUMENT["paths"].items():
        pieces = template.split("/")
        if (
            len(pieces) == len(parts)
            and all(
                t == p or (t.startswith("{") and t.endswith("}") and p)
                for t, p in zip(pieces, parts, strict=True)
            )
            and method.lower() in operations
        ):
            return operations[method.lower()]
    raise AssertionError(f"the OpenAPI document has no operation {method} {path}")


def schema_errors(instance: Any, schema: dict[str, Any]) -> list[str]:
    """Validation errors of ``instance`` against a schema of the document (its $refs resolved in the document)."""
    # Local references (#/components/...) are pointed at the document itself.
    text = json.dumps(schema).replace('"$ref": "#/', f'"$ref": "{_DOC_URI}#/')
    validator = Draft202012Validator(json.loads(text), registry=_REGISTRY, format_checker=FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def assert_conforms(response: TestResponse, path: str, method: str) -> None:
    """The response's status, media type, required headers and body are what the OpenAPI document says."""
    operation = _operation_for(path, method)
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, (
        f"{method} {path} answered {response.status_code}, which the document does not list"
    )
    declared = _resolve(declared)
    content = declared.get("content", {})
    assert response.mimetype in content, (
        f"{method} {path} {response.status_code} answered {response.mimetype}; the document says {list(content)}"
    )
    for header in declared.get("headers", {}):
        if header in ("Location", "WWW-Authenticate", "Retry-After"):
            assert header in response.headers, (
                f"{method} {path} {response.status_code} lacks the {header} header"
            )
    body = response.get_json(force=True)
    errors = schema_errors(body, content[response.mimetype]["schema"])
    assert errors == [], f"{method} {path} {response.status_code} body does not match the document: {errors}"


def request_schema_errors(body: Any) -> list[str]:
    return schema_errors(body, {"$ref": "#/components/schemas/ReferralRequest"})
