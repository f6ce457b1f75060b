"""One unit of work per request or command: commit once at the edge, or roll back.

Services add and flush; nothing else commits. After a successful response
(status below 400) the data and the queued audit entries are committed
together. After a refusal or an error the data is rolled back and the audit
entries alone are committed, so refusals are logged and nothing half-done is
saved. If the audit entries cannot be written, the response is replaced by a
503: a page is never served unlogged.
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, current_app, render_template, request
from sqlalchemy.orm import Session

from rj_scheduler.audit import services as audit
from rj_scheduler.extensions import db
from rj_scheduler.logging_setup import redact_private_links

log = logging.getLogger("rj_scheduler.unit_of_work")


class AuditUnavailable(RuntimeError):
    """The audit entries of a unit of work could not be written; nothing was saved."""


def _seal_and_commit(session: Session) -> None:
    try:
        audit.seal_pending(session)
        session.commit()
    except Exception as error:
        session.rollback()
        audit.discard_pending()
        raise AuditUnavailable("the audit entries could not be written") from error


def commit_unit_of_work(success: bool = True) -> None:
    """Commit (or roll back) the data and commit the audit entries. Raises on failure.

    Raises ``AuditUnavailable`` when the audit entries cannot be written (the
    data is then rolled back too). If the data itself cannot be written, it is
    rolled back, the audit entries are still committed on their own, and the
    data's error is raised.
    """
    session = db.session
    if success:
        try:
            session.flush()
        except Exception:
            # Keep the record of what was attempted even though the data failed.
            session.rollback()
            _seal_and_commit(session)
            raise
    else:
        session.rollback()
    _seal_and_commit(session)
    try:
        audit.log_checkpoint_if_due(session, current_app.config["RJ_AUDIT_CHECKPOINT_SECONDS"])
        session.rollback()  # end the read transaction the checkpoint opened
    except Exception:  # a checkpoint is best effort; the entries are already safe
        session.rollback()
        log.exception("could not log the audit checkpoint")


def _withheld_response(status: int) -> Response:
    """The answer that replaces a response that could not be committed and logged."""
    wants_json = request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["text/html", "application/json", "application/problem+json"])
        in ("application/json", "application/problem+json")
    )
    if wants_json:
        title = "Service unavailable" if status == 503 else "Internal server error"
        body = json.dumps({"type": "about:blank", "title": title, "status": status})
        return Response(body, status=status, mimetype="application/problem+json")
    template = "errors/503.html" if status == 503 else "errors/500.html"
    try:
        body = render_template(template)
    except Exception:  # the layout needs the database, which may be what failed
        log.exception("could not render the %s page", status)
        body = "Sorry, the service is unavailable. Nothing was saved. Try again in a few minutes.\n"
        return Response(body, status=status, mimetype="text/plain")
    return Response(body, status=status, mimetype="text/html")


def _record_refusal(response: Response) -> None:
    """A signed-in user refused a page (403) or an object (404) is on record: it may be probing."""
    if response.status_code not in (403, 404) or audit.current_context().actor_user_id is None:
        return
    audit.record(
        "access.refused",
        outcome="refused",
        details={
            "method": request.method,
            "path": redact_private_links(request.path)[:300],
            "status": response.status_code,
        },
    )


def _finish_request(response: Response) -> Response:
    if request.endpoint == "static":
        return response
    try:
        _record_refusal(response)
        commit_unit_of_work(success=response.status_code < 400)
    except AuditUnavailable:
        log.exception("the audit entries could not be written; the response is withheld")
        return _withheld_response(503)
    except Exception:
        log.exception("the unit of work could not be committed; the response is withheld")
        return _withheld_response(500)
    return response


def register_unit_of_work(app: Flask) -> None:
    app.after_request(_finish_request)
