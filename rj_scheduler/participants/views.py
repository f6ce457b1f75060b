"""The participant's private page, ``/i/<token>``: no sign-in, the link is the key.

- Opening a link changes nothing but the "opened" record and the audit log
  (email scanners and link previews fetch links by themselves): every answer
  is a POST from the page, with the page's CSRF token.
- A dead link (unknown, malformed, expired, cancelled or withdrawn) gets one
  page, always the same body and status (404), so it never tells whether a
  meeting exists. Dead links are rate-limited more tightly than live ones.
- Words come from the party's catalogue (``use_language(invitation.language)``
  before anything is rendered); what the page shows comes only from
  ``invitations.content.view_for``, the one place that keeps separation.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue as ResponseValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import TooManyRequests

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.policy import public
from rj_scheduler.db import now
from rj_scheduler.extensions import db, limiter
from rj_scheduler.i18n import _, use_language
from rj_scheduler.invitations import content, ics, services, tokens
from rj_scheduler.invitations.exceptions import ResponseRefused
from rj_scheduler.invitations.models import Invitation
from rj_scheduler.notify.wording import N_
from rj_scheduler.participants.forms import ChangeForm, FeedbackForm

bp = Blueprint("participants", __name__, url_prefix="/i")

# Per client address, across every /i/... page; failed look-ups (404) have a tighter budget of their own.
PAGE_RATE_LIMIT = "30 per minute; 300 per hour"
DEAD_LINK_RATE_LIMIT = "10 per minute"
CALENDAR_FILENAME = "appointment.ics"

page_limit = limiter.shared_limit(
    lambda: current_app.config.get("RJ_PARTICIPANT_PAGE_RATE_LIMIT", PAGE_RATE_LIMIT),
    scope="participant-page",
)
dead_link_limit = limiter.shared_limit(
    lambda: current_app.config.get("RJ_PARTICIPANT_DEAD_LINK_RATE_LIMIT", DEAD_LINK_RATE_LIMIT),
    scope="participant-dead-link",
    deduct_when=lambda response: response.status_code == 404,
)

# The refusals of invitations.services a participant can meet on this page, marked so that their
# English (the services' words) is found in the party's catalogue when shown.
REFUSALS = (
    N_("Choose an answer."),
    N_("This appointment is no longer going ahead."),
    N_("This appointment has already started."),
    N_("Tell us which days or times would suit you better."),
    N_("Your message must be 1000 characters or fewer."),
    N_("Please call us: we need to talk with you before this appointment."),
    N_("We are not asking for feedback on this appointment yet."),
    N_("Choose how satisfied you were, from 1 to 5."),
    N_("Your comments must be 2000 characters or fewer."),
)


def _thanks(action: str) -> str:
    if action == "confirm":
        return _("Thank you. You have confirmed that you will come.")
    if action == "decline":
        return _("Thank you for telling us that you cannot come. We will contact you to find another time.")
    return _("Thank you. We have your message and will contact you about a different time.")


# --------------------------------------------------------------------------- helpers


def _live(token: str, at: dt.datetime) -> Invitation | None:
    """The invitation the link opens, in the party's language; None for every kind of dead link."""
    invitation = tokens.invitation_for_token(db.session, token, at)
    if invitation is not None:
        use_language(invitation.language)
    return invitation


def _dead_link() -> tuple[str, int]:
    """The same page and status for every dead link: nothing tells whether a meeting exists."""
    audit.record("invitation.link_refused", object_type="invitation", outcome="refused")
    return render_template("participants/expired.html"), 404


def _with_live_link(
    view: Callable[[Invitation, str, dt.datetime], ResponseValue],
) -> Callable[[str], ResponseValue]:
    """Run ``view(invitation, token, at)`` for a live link; every dead link gets the one 404 page."""

    @functools.wraps(view)
    def wrapped(token: str) -> ResponseValue:
        at = now()
        invitation = _live(token, at)
        if invitation is None:
            return _dead_link()
        return view(invitation, token, at)

    return wrapped


def _render_page(
    invitation: Invitation,
    token: str,
    at: dt.datetime,
    *,
    change_form: ChangeForm | None = None,
    feedback_form: FeedbackForm | None = None,
    refused: list[str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    view = content.view_for(invitation, at)
    starts_at = invitation.meeting.starts_at
    error_form = next((f for f in (change_form, feedback_form) if f is not None and f.errors), None)
    return (
        render_template(
            "participants/page.html",
            view=view,
            token=token,
            answerable=not view.is_past and starts_at is not None and at < starts_at,
            feedback_open=services.feedback_open(invitation, at),
            change_form=change_form or ChangeForm(formdata=None),
            feedback_form=feedback_form or FeedbackForm(formdata=None),
            error_form=error_form,
            refused=[{"text": _(reason)} for reason in refused or []],
        ),
        status,
    )


def _answer(invitation: Invitation, token: str, at: dt.datetime, action: str, note: str | None = None):
    try:
        services.respond(invitation, action, note=note, at=at, via="page")
    except ResponseRefused as refused:
        return _render_page(invitation, token, at, refused=refused.reasons, status=400)
    flash(_thanks(action), "success")
    return redirect(url_for("participants.page", token=token), 303)


# --------------------------------------------------------------------------- pages


@bp.get("/<token>")
@page_limit
@dead_link_limit
@public
@_with_live_link
def page(invitation: Invitation, token: str, at: dt.datetime):
    """Their appointment: when, where, what happens, who will be there, and their answers."""
    services.record_opened(invitation, at)
    return _render_page(invitation, token, at)


@bp.post("/<token>/confirm")
@page_limit
@dead_link_limit
@public
@_with_live_link
def confirm(invitation: Invitation, token: str, at: dt.datetime):
    """I will come."""
    return _answer(invitation, token, at, "confirm")


@bp.post("/<token>/decline")
@page_limit
@dead_link_limit
@public
@_with_live_link
def decline(invitation: Invitation, token: str, at: dt.datetime):
    """I cannot come (the facilitator gets a task to call)."""
    return _answer(invitation, token, at, "decline")


@bp.post("/<token>/change")
@page_limit
@dead_link_limit
@public
@_with_live_link
def change(invitation: Invitation, token: str, at: dt.datetime):
    """Ask for a different time, with a message (the facilitator gets a task)."""
    form = ChangeForm()
    if not form.validate_on_submit():
        return _render_page(invitation, token, at, change_form=form, status=400)
    return _answer(invitation, token, at, "change", note=form.note.data)


@bp.get("/<token>/withdraw")
@page_limit
@dead_link_limit
@public
@_with_live_link
def withdraw_check(invitation: Invitation, token: str, at: dt.datetime):
    """Before "I no longer want to take part" is sent: what will happen (changes nothing)."""
    view = content.view_for(invitation, at)
    audit.record(
        "invitation.withdraw_page_viewed",
        object_type="invitation",
        object_id=invitation.public_id,
        service_id=invitation.service_id,
    )
    return render_template("participants/withdraw.html", view=view, token=token)


@bp.post("/<token>/withdraw")
@page_limit
@dead_link_limit
@public
@_with_live_link
def withdraw(invitation: Invitation, token: str, at: dt.datetime):
    """I no longer want to take part: their invitations end now and the facilitator will call.

    The link is dead afterwards, so the last page is shown here rather than after a redirect.
    """
    view = content.view_for(invitation, at)
    try:
        services.respond(invitation, "withdraw", note=None, at=at, via="page")
    except ResponseRefused as refused:
        return _render_page(invitation, token, at, refused=refused.reasons, status=400)
    return render_template("participants/withdrawn.html", view=view)


@bp.post("/<token>/feedback")
@page_limit
@dead_link_limit
@public
@_with_live_link
def feedback(invitation: Invitation, token: str, at: dt.datetime):
    """After the conference: how satisfied they were (1 to 5) and a comment, into the outcome."""
    form = FeedbackForm()
    if not form.validate_on_submit():
        return _render_page(invitation, token, at, feedback_form=form, status=400)
    try:
        services.record_satisfaction(invitation, int(form.score.data), form.comment.data, at)
    except ResponseRefused as refused:
        return _render_page(invitation, token, at, refused=refused.reasons, status=400)
    flash(_("Thank you for your feedback."), "success")
    return redirect(url_for("participants.page", token=token), 303)


@bp.get("/<token>/invite.ics")
@page_limit
@dead_link_limit
@public
@_with_live_link
def calendar_file(invitation: Invitation, token: str, at: dt.datetime):
    """Their appointment for their calendar (METHOD:PUBLISH: no attendee, nothing to reply to)."""
    view = content.view_for(invitation, at)
    body = ics.build_invite(content.calendar_event(view, invitation, stamp=at), "PUBLISH")
    audit.record(
        "invitation.calendar_downloaded",
        object_type="invitation",
        object_id=invitation.public_id,
        service_id=invitation.service_id,
    )
    return Response(
        body,
        content_type=ics.calendar_content_type("PUBLISH"),
        headers={"Content-Disposition": f"attachment; filename={CALENDAR_FILENAME}"},
    )


@bp.get("/", defaults={"rest": ""})
@bp.get("/<path:rest>")
@page_limit
@dead_link_limit
@public
def anything_else(rest: str):
    """Any other address under /i/ (a link cut short or mistyped) is a dead link like the others."""
    return _dead_link()


# --------------------------------------------------------------------------- edge


@bp.after_request
def _private(response: Response) -> Response:
    """Never indexed, never cached (a shared computer's back button must not show the page)."""
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(TooManyRequests)
def _too_many(error: TooManyRequests):
    return render_template("participants/too_many.html"), 429


@bp.errorhandler(CSRFError)
def _form_expired(error: CSRFError):
    """A form sent without this page's CSRF token: nothing is done; say so in their language."""
    token = (request.view_args or {}).get("token")
    if token:
        _live(token, now())
    return render_template("participants/form_expired.html", token=token), 400
