"""Messaging pages: the manager's Outbox and wording editor; dealing with failed and inbound messages."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from rj_scheduler.audit.services import record as audit
from rj_scheduler.auth.policy import Permission, requires
from rj_scheduler.notify import queries, services
from rj_scheduler.notify.encoding import sms_size
from rj_scheduler.notify.exceptions import UnknownMessageKind, WordingRefused
from rj_scheduler.notify.forms import ActionForm, WordingForm
from rj_scheduler.notify.models import MessageStatus
from rj_scheduler.notify.wording import (
    DISCREET_TERMS,
    message_kind,
    message_kinds,
    preview_sms,
    render,
)
from rj_scheduler.templating import add_nav_item

bp = Blueprint("notify", __name__, url_prefix="/messages")
add_nav_item("Outbox", "notify.outbox", Permission.VIEW_OUTBOX)
add_nav_item("Message wording", "notify.wording_list", Permission.EDIT_MESSAGE_WORDING)


@bp.get("/outbox")
@requires(Permission.VIEW_OUTBOX)
def outbox():
    """Every message the service has sent or kept, exactly as it went (or would have gone) out."""
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in MessageStatus}:
        status = None
    page = queries.outbox_page(
        current_user.service_id, status=status, page=request.args.get("page", 1, type=int)
    )
    audit("outbox.viewed", object_type="outbox", details={"page": page.page, "status": status})
    return render_template(
        "notify/outbox.html",
        page=page,
        status=status,
        statuses=list(MessageStatus),
        sms_size=sms_size,
        recipient_label=queries.recipient_label,
    )


@bp.get("/outbox/<public_id>")
@requires(Permission.VIEW_OUTBOX)
def outbox_message(public_id: str):
    message = queries.outbox_message(current_user.service_id, public_id)
    if message is None:
        abort(404)
    audit("outbox_message.viewed", object_type="outbox_message", object_id=message.public_id)
    return render_template(
        "notify/message.html",
        message=message,
        size=sms_size(message.body_text) if message.is_sms else None,
        recipient=queries.recipient_label(message),
    )


@bp.get("/outbox/<public_id>/attachments/<int:number>")
@requires(Permission.VIEW_OUTBOX)
def attachment(public_id: str, number: int):
    message = queries.outbox_message(current_user.service_id, public_id)
    if message is None or not 1 <= number <= len(message.attachments):
        abort(404)
    item = message.attachments[number - 1]
    audit("outbox_attachment.downloaded", object_type="outbox_message", object_id=message.public_id)
    response = Response(item.content, mimetype=item.content_type.split(";")[0])
    response.headers["Content-Disposition"] = f'attachment; filename="{item.filename}"'
    return response


@bp.get("/wording")
@requires(Permission.EDIT_MESSAGE_WORDING)
def wording_list():
    return render_template("notify/wording_list.html", kinds=message_kinds())


def _kind_or_404(kind: str, channel: str, style: str):
    try:
        message_type = message_kind(kind)
    except UnknownMessageKind:
        abort(404)
    if channel not in message_type.channels or style not in message_type.styles:
        abort(404)
    return message_type


@bp.route("/wording/<kind>/<channel>/<style>", methods=["GET", "POST"])
@requires(Permission.EDIT_MESSAGE_WORDING)
def wording_edit(kind: str, channel: str, style: str):
    """Edit a service's wording of one kind of message, with a preview (encoding, characters, segments)."""
    message_type = _kind_or_404(kind, channel, style)
    current = services.wording_for(current_user.service_id, message_type, channel, style)
    form = WordingForm(data={"subject": current.subject, "body": current.body})
    context = {"kind": message_type, "channel": channel, "style": style, "discreet_terms": DISCREET_TERMS}
    if request.method == "GET":
        return render_template("notify/wording_edit.html", form=form, preview=None, **context)
    if not form.validate_on_submit():
        return render_template("notify/wording_edit.html", form=form, preview=None, **context), 400
    subject = form.subject.data if channel == "email" else None
    if form.preview.data:
        preview = _preview(message_type, channel, style, subject, form.body.data or "")
        if preview.get("problems"):
            form.body.errors = list(preview["problems"])
            return render_template("notify/wording_edit.html", form=form, preview=None, **context), 400
        return render_template("notify/wording_edit.html", form=form, preview=preview, **context)
    try:
        services.save_wording(
            current_user.service, kind, channel, style, subject, form.body.data or "", current_user
        )
    except WordingRefused as refusal:
        form.body.errors = list(refusal.reasons)
        return render_template("notify/wording_edit.html", form=form, preview=None, **context), 400
    flash(f"{message_type.label}: {channel} wording saved.", "success")
    return redirect(url_for("notify.wording_list"))


def _preview(message_type, channel: str, style: str, subject: str | None, body: str) -> dict[str, object]:
    from rj_scheduler.notify.wording import wording_problems

    problems = wording_problems(message_type, channel, style, subject, body)
    if problems:
        return {"problems": problems}
    examples = message_type.examples()
    text = render(body, examples)
    result: dict[str, object] = {"text": text}
    if channel == "sms":
        result["sms"] = preview_sms(text)
    else:
        result["subject"] = render(subject or "", examples)
    return result


@bp.post("/failed/<public_id>/acknowledge")
@requires(Permission.HANDLE_MESSAGES)
def acknowledge_failed(public_id: str):
    """A facilitator has dealt with a failed message (e.g. phoned the person instead)."""
    form = ActionForm()
    message = queries.outbox_message(current_user.service_id, public_id)
    if message is None or not form.validate_on_submit():
        abort(404)
    services.acknowledge_failed_message(message, current_user)
    flash("The failed message is marked as dealt with.", "success")
    return redirect(_back())


@bp.post("/inbound/<public_id>/handled")
@requires(Permission.HANDLE_MESSAGES)
def inbound_handled(public_id: str):
    form = ActionForm()
    inbound = queries.inbound_message(current_user.service_id, public_id)
    if inbound is None or not form.validate_on_submit():
        abort(404)
    services.mark_inbound_handled(inbound, current_user)
    flash("The reply is marked as dealt with.", "success")
    return redirect(_back())


def _back() -> str:
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.index")


@bp.app_template_global("notify_failed_messages")
def notify_failed_messages(case_id: int | None = None, facilitator_id: int | None = None):
    """For templates: failed party messages of a case, or (by default) on cases the signed-in user leads."""
    if not current_user.is_authenticated:
        return []
    if case_id is None and facilitator_id is None:
        facilitator_id = current_user.id
    return queries.failed_messages(current_user.service_id, case_id=case_id, facilitator_id=facilitator_id)


@bp.app_template_global("notify_inbound_messages")
def notify_inbound_messages(case_id: int | None = None, facilitator_id: int | None = None):
    """For templates: SMS replies waiting for someone, on a case or on cases the signed-in user leads."""
    if not current_user.is_authenticated:
        return []
    if case_id is None and facilitator_id is None:
        facilitator_id = current_user.id
    return queries.inbound_to_deal_with(
        current_user.service_id, case_id=case_id, facilitator_id=facilitator_id
    )


@bp.app_template_global("notify_recipient_label")
def notify_recipient_label(message) -> str:
    return queries.recipient_label(message)


@bp.app_template_global("notify_kind_label")
def notify_kind_label(kind: str) -> str:
    """What a kind of message is called (e.g. "Appointment reminder"); an unknown kind by its name."""
    try:
        return message_kind(kind).label
    except UnknownMessageKind:
        return kind.replace("_", " ").capitalize()
