"""Twilio's webhooks: delivery status callbacks and inbound SMS.

Both authenticate by Twilio's ``X-Twilio-Signature``, checked with the
library's ``RequestValidator`` against ``RJ_PUBLIC_URL`` + the path (so it
works behind a TLS proxy): a missing or wrong signature gets 403 and changes
nothing. They are exempt from CSRF (Twilio cannot hold a token) and public
(there is no staff session). Twilio's signature has no timestamp, so a replay
must be harmless: status updates are idempotent and never move backwards, and
inbound messages are processed once per MessageSid.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from rj_scheduler.audit.services import record as audit
from rj_scheduler.auth.policy import public
from rj_scheduler.db import now
from rj_scheduler.extensions import csrf, db
from rj_scheduler.notify import services

log = logging.getLogger("rj_scheduler.notify.webhooks")
bp = Blueprint("notify_webhooks", __name__, url_prefix="/webhooks/twilio")


def signed_url() -> str:
    """The URL Twilio requested, as the public address people reach us at."""
    url = current_app.config["RJ_PUBLIC_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def signature_is_valid() -> bool:
    """True only for a request Twilio signed with our auth token for exactly this URL and body."""
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False  # RequestValidator would raise on a missing header
    return RequestValidator(token).validate(signed_url(), request.form, signature)


def _require_signature(which: str) -> None:
    if not signature_is_valid():
        log.warning("Twilio webhook refused: missing or wrong signature", extra={"webhook": which})
        audit("twilio_webhook.refused", object_type="webhook", object_id=which, outcome="refused")
        abort(403)


def _twiml(response: MessagingResponse | None = None) -> Response:
    return Response(str(response or MessagingResponse()), mimetype="application/xml")


@bp.post("/status")
@public
@csrf.exempt
def status_callback() -> Response:
    """Twilio reports a message's delivery status."""
    _require_signature("status")
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    status = request.form.get("MessageStatus") or request.form.get("SmsStatus") or ""
    if not sid:
        return _twiml()
    result = services.apply_status_callback(db.session, sid, status, request.form.get("ErrorCode"), now())
    if result.matched == 0:
        log.info("status callback acknowledged for an unknown message", extra={"message_sid": sid})
    return _twiml()


@bp.post("/inbound")
@public
@csrf.exempt
def inbound() -> Response:
    """A party sent an SMS to the service's number."""
    _require_signature("inbound")
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    sender = request.form.get("From", "")
    if not sid or not sender:
        return _twiml()
    result = services.receive_inbound_sms(db.session, sid, sender, request.form.get("Body", ""), now())
    response = MessagingResponse()
    if result.reply:
        response.message(result.reply)
    return _twiml(response)
