"""Problem details (RFC 9457) for every error of the partner API, and only for the API.

Staff pages keep their HTML error pages: the handlers here answer
``application/problem+json`` only for paths under ``/api/``, and hand every
other error back to the app's own handler.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("rj_scheduler.api")

PROBLEM_JSON = "application/problem+json"
API_PREFIX = "/api/"

# Stable problem types; each is a URI (RFC 9457 section 3.1.1) a client may switch on.
VALIDATION_ERROR = "urn:rj-scheduler:problem:validation-error"
IDEMPOTENCY_KEY_REUSED = "urn:rj-scheduler:problem:idempotency-key-reused"
IDEMPOTENCY_KEY_IN_FLIGHT = "urn:rj-scheduler:problem:idempotency-key-in-flight"
HEADER_INVALID = "urn:rj-scheduler:problem:header-invalid"
UNAUTHORISED = "urn:rj-scheduler:problem:unauthorised"
MALFORMED_JSON = "urn:rj-scheduler:problem:malformed-json"

_DETAILS = {
    404: "There is nothing at this address.",
    413: "The request body is too large.",
    415: "Send the request body as JSON, with Content-Type: application/json.",
    429: "Too many requests: wait a minute and try again.",
    500: "Something went wrong on our side and nothing was saved. Try again later.",
}


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_: str = "about:blank",
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    if g.get("request_id"):
        body["request_id"] = g.request_id
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_http_exception(error: HTTPException) -> Response:
    """A werkzeug HTTP error (404, 405, 413, 429, ...) as problem details, keeping headers such as Allow."""
    status = error.code or 500
    if status == 405:
        detail = f"This address does not accept {request.method} requests."
    else:
        detail = _DETAILS.get(status) or (error.description if status < 500 else _DETAILS[500])
    headers = {
        name: value
        for name, value in error.get_headers()
        if name.lower() not in ("content-type", "content-length")
    }
    return problem(status, error.name, detail, headers=headers)


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def register_routing_errors(app: Flask) -> None:
    """Answer 404 and 405 under /api/ with problem details; pass them on unchanged for other paths.

    Errors raised inside the API's views reach the blueprint's own handlers; a
    path that matches no route (404) or no method (405) belongs to no
    blueprint, so those two are handled app-wide and handed to the app's own
    handler (the HTML error pages) for every path outside /api/.
    """
    fallback = app.error_handler_spec.get(None, {}).get(None, {}).get(HTTPException)

    def routing_error(error: HTTPException):
        if is_api_request():
            return from_http_exception(error)
        if fallback is not None:
            return fallback(error)
        return error

    for code in (404, 405):
        app.register_error_handler(code, routing_error)


def unexpected_error() -> Response:
    log.exception("unhandled error in the partner API")
    return problem(500, "Internal Server Error", _DETAILS[500])
