"""The OpenAPI 3.1 document of the partner API, written as data and served at /api/v1/openapi.json.

The request schemas are built from the same field lists the API checks bodies
against (``rj_scheduler.api.referral_request``), and the tests validate real
responses against this document, so it describes what the API does.
"""

from __future__ import annotations

from typing import Any

from rj_scheduler.api.problems import (
    HEADER_INVALID,
    IDEMPOTENCY_KEY_IN_FLIGHT,
    IDEMPOTENCY_KEY_REUSED,
    MALFORMED_JSON,
    UNAUTHORISED,
    VALIDATION_ERROR,
)
from rj_scheduler.api.referral_request import MAX_PARTIES, PARTY_FIELDS, REFERRAL_FIELDS, Field
from rj_scheduler.cases.models import ReferralSource

API_VERSION = "1.0.0"


def _field_schema(f: Field) -> dict[str, Any]:
    kind = {"date": "string", "date-time": "string"}.get(f.kind, f.kind)
    schema: dict[str, Any] = {"type": [kind, "null"] if f.nullable else kind}
    if f.kind in ("date", "date-time"):
        schema["format"] = f.kind
    if f.enum is not None:
        schema["enum"] = [*f.enum, None] if f.nullable else list(f.enum)
    if f.max_length is not None:
        schema["maxLength"] = f.max_length
    if f.kind == "integer":
        schema["minimum"] = 0
    if f.description:
        schema["description"] = f.description
    return schema


def _object_schema(fields: tuple[Field, ...], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "additionalProperties": False,
        "required": [f.name for f in fields if f.required],
        "properties": {f.name: _field_schema(f) for f in fields},
    }


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _referral_schema() -> dict[str, Any]:
    schema = _object_schema(
        REFERRAL_FIELDS,
        "A referral. The referral source is the one the API key was created for.",
    )
    schema["required"].append("parties")
    schema["properties"]["parties"] = {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_PARTIES,
        "description": "The people in the case: at least one.",
        "items": {"$ref": "#/components/schemas/Party"},
    }
    return schema


def openapi_document(server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.1 document of the partner API."""
    problem_types = (
        f"`{VALIDATION_ERROR}` (422, `errors` lists each bad field), "
        f"`{IDEMPOTENCY_KEY_REUSED}` (422), `{IDEMPOTENCY_KEY_IN_FLIGHT}` (409), "
        f"`{HEADER_INVALID}` (400), `{MALFORMED_JSON}` (400), `{UNAUTHORISED}` (401), "
        "and `about:blank` for plain HTTP errors (404, 405, 413, 415, 429, 500)."
    )
    idempotency_header = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": True,
        "description": (
            "A new random value (a UUID is ideal) for each referral. Send the same value when you retry "
            "the same referral: you get the first answer again and no second case is made. The same "
            "value with a different body is refused."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
    }
    rate_limited = {"$ref": "#/components/responses/TooManyRequests"}
    unauthorised = {"$ref": "#/components/responses/Unauthorised"}
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "Restorative justice referrals API",
            "version": API_VERSION,
            "summary": "Partner systems send referrals for restorative justice.",
            "description": (
                "Partners (police, Witness Care, probation and others) send referrals with an API key a "
                "service manager created for them. A key files referrals only into its own service, as "
                "the referral source chosen when it was created. Every error is an RFC 9457 problem "
                f"details document. Problem types: {problem_types}"
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"apiKey": []}],
        "paths": {
            "/api/v1/referrals": {
                "post": {
                    "operationId": "createReferral",
                    "summary": "Send a referral",
                    "parameters": [idempotency_header],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ReferralRequest"}}
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "The referral was received (or, for a retry, had been received).",
                            "headers": {
                                "Location": {
                                    "description": "Where the referral's receipt can be read.",
                                    "schema": {"type": "string"},
                                },
                                "Idempotent-Replayed": {
                                    "description": "`true` when this answers a retry with the first result.",
                                    "schema": {"type": "string", "enum": ["true"]},
                                },
                            },
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ReferralReceipt"}
                                }
                            },
                        },
                        "400": _problem_response(
                            "The Idempotency-Key header is missing or the body is not JSON."
                        ),
                        "401": unauthorised,
                        "409": _problem_response(
                            "The first request with this Idempotency-Key is still running."
                        ),
                        "413": _problem_response("The request body is too large."),
                        "415": _problem_response("The body is not sent as application/json."),
                        "422": _problem_response(
                            "The referral was refused (each bad field is named), or the Idempotency-Key was "
                            "used for a different referral."
                        ),
                        "429": rate_limited,
                        "500": {"$ref": "#/components/responses/ServerError"},
                    },
                }
            },
            "/api/v1/referrals/{reference}": {
                "get": {
                    "operationId": "getReferral",
                    "summary": "Read the receipt of a referral you sent",
                    "description": (
                        "Only referrals sent by the same partner (any of its keys) of the same service are "
                        "found; the progress of a case is not shared through the API."
                    ),
                    "parameters": [
                        {
                            "name": "reference",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 40},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The referral's receipt.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/ReferralReceipt"}
                                }
                            },
                        },
                        "401": unauthorised,
                        "404": _problem_response("No referral with that reference was sent by you."),
                        "429": rate_limited,
                        "500": {"$ref": "#/components/responses/ServerError"},
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApiDocument",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.1 document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "rjk_<prefix>_<secret>",
                    "description": "A key a service manager created for your organisation, shown once.",
                }
            },
            "responses": {
                "Unauthorised": {
                    **_problem_response("The API key is missing, not valid or revoked."),
                    "headers": {
                        "WWW-Authenticate": {
                            "description": "The Bearer challenge (RFC 6750).",
                            "schema": {"type": "string"},
                        }
                    },
                },
                "TooManyRequests": {
                    **_problem_response("Too many requests with this key (or from this address)."),
                    "headers": {
                        "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}
                    },
                },
                "ServerError": _problem_response("Something went wrong on our side; nothing was saved."),
            },
            "schemas": {
                "ReferralRequest": _referral_schema(),
                "Party": _object_schema(
                    PARTY_FIELDS,
                    "A person in the case. Contact details are used only to contact that person.",
                ),
                "ReferralReceipt": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["reference", "received_at", "source"],
                    "properties": {
                        "reference": {
                            "type": "string",
                            "description": "The service's reference for the case, e.g. VF-2026-00042.",
                        },
                        "received_at": {"type": "string", "format": "date-time"},
                        "source": {
                            "type": "string",
                            "enum": [s.value for s in ReferralSource],
                            "description": "The referral source the key files as.",
                        },
                    },
                },
                "Problem": {
                    "type": "object",
                    "description": "Problem details (RFC 9457).",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": {"type": "string", "format": "uri-reference"},
                        "title": {"type": "string"},
                        "status": {"type": "integer", "minimum": 400, "maximum": 599},
                        "detail": {"type": "string"},
                        "instance": {"type": "string", "format": "uri-reference"},
                        "request_id": {"type": "string", "description": "Quote it when you ask for help."},
                        "errors": {
                            "type": "array",
                            "description": "For a validation error: each bad field and what is wrong.",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["pointer", "detail"],
                                "properties": {
                                    "pointer": {
                                        "type": "string",
                                        "description": "A JSON pointer (RFC 6901) to the field, e.g. #/parties/0/mobile.",
                                    },
                                    "detail": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    }
