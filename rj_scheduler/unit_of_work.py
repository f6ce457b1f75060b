"""One unit of work per request or command: commit once at the edge, or roll back.

Services add and flush; nothing else commits. After a successful response
(status below 400) the data and the queued audit entries are committed
together. After a refusal or an error the data is rolled back and the audit
entries alone are committed, so refusals are logged and nothing half-done is
saved. If the audit entries cannot be written, the response is replaced by a
503: a page is never served unlogged.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, render_template, request

from rj_scheduler.audit import services as audit
from rj_scheduler.extensions import db

log = logging.getLogger("rj_scheduler.unit_of_work")


def commit_unit_of_work(success: bool = True) -> None:
    """Commit (or roll back) the data and commit the audit entries. Raises on failure."""
    session = db.session
    if not success:
        session.rollback()
    try:
        audit.seal_pending(session)
        session.commit()
    except Exception:
        session.rollback()
        audit.discard_pending()
        raise
    if audit.has_pending() is False:
        try:
            audit.log_checkpoint_if_due(session, current_app.config["RJ_AUDIT_CHECKPOINT_SECONDS"])
            session.rollback()  # end the read transaction the checkpoint opened
        except Exception:  # a checkpoint is best effort; the entries are already safe
            log.exception("could not log the audit checkpoint")


def _finish_request(response: Response) -> Response:
    if request.endpoint == "static":
        return response
    try:
        commit_unit_of_work(success=response.status_code < 400)
    except Exception:
        log.exception("unit of work failed; the response is withheld")
        body = render_template("errors/503.html")
        return Response(body, status=503, mimetype="text/html")
    return response


def register_unit_of_work(app: Flask) -> None:
    app.after_request(_finish_request)
