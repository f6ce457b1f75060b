"""The edge: request ids, the audit context, security headers, error pages, health checks."""

from __future__ import annotations

import logging
import re
import secrets

from flask import Blueprint, Flask, Response, g, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from rj_scheduler.audit.services import AuditContext, set_context
from rj_scheduler.auth.policy import public
from rj_scheduler.extensions import db

log = logging.getLogger("rj_scheduler.web")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

health = Blueprint("health", __name__)


@health.get("/healthz")
@public
def healthz() -> Response:
    """The process is alive."""
    return Response("ok\n", mimetype="text/plain")


@health.get("/readyz")
@public
def readyz() -> Response:
    """The database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        log.exception("readiness check failed")
        return Response("database unreachable\n", status=503, mimetype="text/plain")
    return Response("ready\n", mimetype="text/plain")


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(16)
    user = current_user if current_user and current_user.is_authenticated else None
    set_context(
        AuditContext(
            actor_user_id=user.id if user else None,
            service_id=user.service_id if user else None,
            ip_address=request.remote_addr,
            request_id=g.request_id,
        )
    )


def _security_headers(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure or g.get("production"):
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def _error_page(status: int, template: str) -> tuple[str, int]:
    return render_template(template), status


def register_edge(app: Flask) -> None:
    production = app.config["RJ_ENV"] == "production"

    def start() -> None:
        g.production = production
        _start_request()

    # First, before CSRFProtect's own check: a refused form still gets a request
    # id (header and log line) and the audit context.
    app.before_request_funcs.setdefault(None, []).insert(0, start)

    app.after_request(_security_headers)
    app.register_blueprint(health)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        log.info("csrf refused", extra={"reason": error.description})
        return _error_page(400, "errors/csrf.html")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        templates = {403: "errors/403.html", 404: "errors/404.html", 429: "errors/429.html"}
        template = templates.get(error.code or 500)
        if template is None:
            if error.code and error.code < 500:
                return render_template("errors/generic.html", error=error), error.code
            return _error_page(error.code or 500, "errors/500.html")
        return _error_page(error.code or 500, template)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unhandled error")
        return _error_page(500, "errors/500.html")
