"""The partner API: ``POST /api/v1/referrals`` and friends, authenticated by per-partner API keys.

Every view here is public in the policy sense (no staff session) and
authenticated by ``api_key_required`` instead; every call is audited with the
key's partner name. Every error, whatever its code, is answered with problem
details (RFC 9457). The API takes no cookies, so it is exempt from CSRF checks.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, make_response, request, url_for
from werkzeug.exceptions import HTTPException

from rj_scheduler.api import queries, services
from rj_scheduler.api.exceptions import (
    ApiKeyRejected,
    HeaderInvalid,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    RequestInvalid,
)
from rj_scheduler.api.openapi import openapi_document
from rj_scheduler.api.problems import (
    HEADER_INVALID,
    IDEMPOTENCY_KEY_IN_FLIGHT,
    IDEMPOTENCY_KEY_REUSED,
    MALFORMED_JSON,
    UNAUTHORISED,
    VALIDATION_ERROR,
    from_http_exception,
    problem,
    register_routing_errors,
    unexpected_error,
)
from rj_scheduler.audit import services as audit
from rj_scheduler.auth.policy import public
from rj_scheduler.db import now
from rj_scheduler.extensions import client_address, csrf, db, limiter

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

DEFAULT_KEY_RATE_LIMIT = "120 per minute"
DEFAULT_ADDRESS_RATE_LIMIT = "600 per minute"


@bp.record_once
def _routing_errors(state) -> None:
    register_routing_errors(state.app)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return from_http_exception(error)


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    return unexpected_error()


def _key_bucket() -> str:
    """Rate limits count per API key (by its prefix); a request without a usable key counts per address."""
    prefix = services.presented_prefix(request.headers.get("Authorization"))
    return f"api-key:{prefix}" if prefix else f"api-address:{client_address()}"


per_key_limit = limiter.shared_limit(
    lambda: current_app.config.get("RJ_API_RATE_LIMIT", DEFAULT_KEY_RATE_LIMIT),
    scope="api-key",
    key_func=_key_bucket,
)
per_address_limit = limiter.shared_limit(
    lambda: current_app.config.get("RJ_API_ADDRESS_RATE_LIMIT", DEFAULT_ADDRESS_RATE_LIMIT),
    scope="api-address",
)


def _unauthorised(rejected: ApiKeyRejected) -> Response:
    challenge = 'Bearer realm="rj_scheduler"'
    if request.headers.get("Authorization"):
        challenge += ', error="invalid_token"'
    return problem(
        401,
        "Unauthorized",
        rejected.reason,
        type_=UNAUTHORISED,
        headers={"WWW-Authenticate": challenge},
    )


def api_key_required(view: F) -> F:
    """Authenticate the request by its API key (401 otherwise) and audit the call with the partner's name.

    The view finds the key in ``g.api_key``. Marked public (no staff session)
    and as an API-key view, so the route guard test accepts it.
    """

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            key = services.authenticate(request.headers.get("Authorization"), at=now())
        except ApiKeyRejected as rejected:
            audit.record(
                "api.key_refused",
                outcome="refused",
                service_id=rejected.service_id,
                details={
                    "reason": rejected.reason,
                    "prefix": rejected.prefix,
                    "method": request.method,
                    "path": request.path[:300],
                },
            )
            return _unauthorised(rejected)
        g.api_key = key
        audit.current_context().service_id = key.service_id
        status = 500
        try:
            response = make_response(view(*args, **kwargs))
            status = response.status_code
            return response
        except HTTPException as error:
            status = error.code or 500
            raise
        finally:
            audit.record(
                "api.request",
                object_type="api_key",
                object_id=key.public_id,
                service_id=key.service_id,
                outcome="ok" if status < 400 else "refused",
                details={
                    "partner": key.partner_name,
                    "key_prefix": key.prefix,
                    "method": request.method,
                    "path": request.path[:300],
                    "status": status,
                    **g.get("api_audit", {}),
                },
            )

    wrapped._rj_public = True  # type: ignore[attr-defined]
    wrapped._rj_api_key = True  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def _is_json() -> bool:
    mimetype = request.mimetype or ""
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _json_response(body: dict[str, Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


@bp.post("/referrals")
@per_address_limit
@per_key_limit
@api_key_required
def create_referral() -> Response:
    """File a referral into the key's service, once per Idempotency-Key."""
    key = g.api_key
    if not _is_json():
        return problem(
            415, "Unsupported Media Type", "Send the referral as JSON, with Content-Type: application/json."
        )
    try:
        idempotency_key = services.check_idempotency_key(request.headers.get("Idempotency-Key"))
    except HeaderInvalid as invalid:
        return problem(400, "Bad Request", invalid.reason, type_=HEADER_INVALID)
    try:
        body = json.loads(request.get_data(cache=True) or b"")
    except ValueError:
        return problem(400, "Bad Request", "The request body is not valid JSON.", type_=MALFORMED_JSON)
    try:
        stored = services.file_referral(key, body, idempotency_key=idempotency_key, at=now())
    except RequestInvalid as refused:
        g.api_audit = {"refused_fields": sorted(refused.errors)[:50]}
        return problem(
            422,
            "Unprocessable Content",
            "The referral was not saved: correct the fields listed in errors and send it again.",
            type_=VALIDATION_ERROR,
            errors=[{"pointer": where, "detail": message} for where, message in refused.errors.items()],
        )
    except IdempotencyKeyReused as reused:
        return problem(422, "Unprocessable Content", str(reused), type_=IDEMPOTENCY_KEY_REUSED)
    except IdempotencyKeyInFlight as in_flight:
        return problem(409, "Conflict", str(in_flight), type_=IDEMPOTENCY_KEY_IN_FLIGHT)
    if not stored.replayed:
        services.remember_response(stored, url_for("api.referral", reference=stored.body["reference"]))
    g.api_audit = {"case": stored.body.get("reference"), "replayed": stored.replayed}
    response = _json_response(stored.body, stored.status)
    if stored.location:
        response.headers["Location"] = stored.location
    if stored.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/referrals/<reference>")
@per_address_limit
@per_key_limit
@api_key_required
def referral(reference: str) -> Response:
    """The receipt of a referral this partner sent (404 for any other case, of any service)."""
    case = queries.partner_referral(db.session, g.api_key, reference[:40])
    if case is None:
        return problem(404, "Not Found", "You have sent no referral with that reference.")
    g.api_audit = {"case": case.reference}
    return _json_response(services.receipt(case), 200)


@bp.get("/openapi.json")
@per_address_limit
@public
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API."""
    return _json_response(openapi_document(), 200)
