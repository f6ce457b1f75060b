"""What staff see of invitations: the panel on the meeting page, tasks, the printable letter, the settings.

The panel shows, per invitation, who, how, its status and what happened when
(sent, delivered, page opened, confirmed, declined, asked to change), never a
participant's contact details. Tasks (phone or write, call back, check a reply)
are listed on the dashboard and the case page. The printable letter carries
exactly what the party's own page carries, in their language, with their own
postal address.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.policy import Permission, can, requires
from rj_scheduler.cases import queries as case_queries
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.i18n import in_language
from rj_scheduler.invitations import queries, services
from rj_scheduler.invitations.content import view_for
from rj_scheduler.invitations.forms import InvitationSettingsForm, TaskDoneForm
from rj_scheduler.invitations.models import Invitation, InvitationEventKind
from rj_scheduler.invitations.reminders import REMINDER_KIND
from rj_scheduler.invitations.settings import InvitationSettingsRefused, save_settings
from rj_scheduler.notify.models import MessageStatus

bp = Blueprint("invitations", __name__)

CHANNEL_WORDS = {
    "email": "Email",
    "sms": "SMS",
    "email+sms": "Email and SMS",
    "letter": "Phone or letter (no SMS or email allowed)",
}
STATUS_TAGS = {
    "invited": "govuk-tag--blue",
    "confirmed": "govuk-tag--green",
    "declined": "govuk-tag--red",
    "change_requested": "govuk-tag--yellow",
    "withdrawn": "govuk-tag--grey",
    "cancelled": "govuk-tag--grey",
}
# What the panel lists from an invitation's events (messages are listed from the outbox).
SHOWN_EVENTS = (
    InvitationEventKind.LETTER,
    InvitationEventKind.OPENED,
    InvitationEventKind.CONFIRMED,
    InvitationEventKind.DECLINED,
    InvitationEventKind.CHANGE_REQUESTED,
    InvitationEventKind.WITHDRAWN,
    InvitationEventKind.SATISFACTION,
    InvitationEventKind.REMINDERS_QUEUED,
)
MESSAGE_WORDS = {
    "invitation": "Invitation",
    "invitation_update": "Update",
    "invitation_cancelled": "Cancellation",
    "meeting_not_going_ahead": "Not going ahead",
    "staff_invitation": "Invitation",
    REMINDER_KIND: "Reminder",
}


@dataclass
class MessageLine:
    what: str
    channel: str
    status: str
    due_at: object = None
    sent_at: object = None
    delivered_at: object = None


@dataclass
class InvitationRow:
    invitation: Invitation
    who: str
    channels: str
    status_label: str
    status_tag: str
    messages: list[MessageLine] = field(default_factory=list)
    events: list = field(default_factory=list)
    letter_url: str | None = None


def _who(invitation: Invitation) -> str:
    if invitation.party is not None:
        return f"{invitation.party.display_name} ({invitation.party.role_label.lower()})"
    role = next(
        (a.role_label for a in invitation.meeting.attendees if a.user_id == invitation.user_id), "Staff"
    )
    return f"{invitation.recipient_name} ({role.lower()})"


def _message_status(message) -> str:
    if message.status == MessageStatus.KEPT:
        return "kept in the outbox"
    if message.status == MessageStatus.PENDING:
        return "waiting to be sent"
    return str(message.status).replace("_", " ")


def _row(invitation: Invitation, messages: list) -> InvitationRow:
    row = InvitationRow(
        invitation=invitation,
        who=_who(invitation),
        channels=CHANNEL_WORDS.get(invitation.channels, invitation.channels),
        status_label=invitation.status_label,
        status_tag=STATUS_TAGS.get(invitation.status, ""),
    )
    for message in messages:
        if message.kind not in MESSAGE_WORDS:
            continue
        row.messages.append(
            MessageLine(
                what=MESSAGE_WORDS[message.kind],
                channel="SMS" if message.channel == "sms" else "Email",
                status=_message_status(message),
                due_at=message.due_at,
                sent_at=message.sent_at,
                delivered_at=message.delivered_at,
            )
        )
    row.events = [event for event in invitation.events if event.kind in SHOWN_EVENTS]
    if invitation.party is not None:
        row.letter_url = url_for(
            "invitations.letter",
            case_ref=invitation.case.reference,
            invitation_public_id=invitation.public_id,
        )
    return row


@bp.app_template_global("invitation_rows")
def invitation_rows(meeting) -> list[InvitationRow]:
    """For the meeting page: each invitation with its messages and what the recipient did."""
    if not current_user.is_authenticated or meeting.service_id != current_user.service_id:
        return []
    messages = queries.messages_for_meeting(db.session, meeting)
    return [
        _row(
            invitation,
            messages.get(
                ("party", invitation.party_id)
                if invitation.party_id is not None
                else ("user", invitation.user_id),
                [],
            ),
        )
        for invitation in queries.invitations_for_meeting(db.session, meeting)
    ]


@bp.app_template_global("invitation_tasks")
def invitation_tasks(case=None) -> list:
    """For templates: the open invitation tasks of a case, or (by default) of the whole service."""
    if not current_user.is_authenticated:
        return []
    if case is not None:
        if case.service_id != current_user.service_id:
            return []
        return list(queries.tasks_for_case(db.session, case))
    return list(queries.open_tasks(db.session, current_user.service_id))


@bp.app_template_global("invitation_task_form")
def invitation_task_form() -> TaskDoneForm:
    return TaskDoneForm()


@bp.app_template_global("can_handle_invitation_tasks")
def can_handle_invitation_tasks() -> bool:
    return current_user.is_authenticated and can(current_user, Permission.HANDLE_MESSAGES)


@bp.post("/invitations/tasks/<task_public_id>/done")
@requires(Permission.HANDLE_MESSAGES)
def task_done(task_public_id: str):
    """A facilitator has phoned, written or checked the reply: the task leaves the lists."""
    task = queries.task_by_public_id(db.session, task_public_id)
    form = TaskDoneForm()
    if task is None or task.service_id != current_user.service_id or not form.validate_on_submit():
        abort(404)
    services.mark_task_done(task, current_user, now())
    flash("The task is marked as done.", "success")
    return redirect(_back(task))


def _back(task) -> str:
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("cases.case_page", case_ref=task.case.reference)


@bp.get("/cases/<case_ref>/invitations/<invitation_public_id>/letter")
@requires(Permission.VIEW_CASE)
def letter(case_ref: str, invitation_public_id: str):
    """The invitation as a letter to print and post (or read out on the phone), in the party's language."""
    case = case_queries.case_by_reference(db.session, current_user.service_id, case_ref)
    invitation = queries.invitation_by_public_id(db.session, invitation_public_id)
    if case is None or invitation is None or invitation.case_id != case.id or invitation.party is None:
        abort(404)
    view = view_for(invitation, now())
    audit.record(
        "invitation.letter_viewed",
        object_type="invitation",
        object_id=invitation.public_id,
        service_id=invitation.service_id,
        details={"case": case.reference},
    )
    party = invitation.party
    with in_language(invitation.language):
        letter_html = render_template(
            "invitations/_letter_body.html",
            view=view,
            recipient_name=party.full_name,
            address_lines=[line.strip() for line in (party.address or "").splitlines() if line.strip()],
            today=now(),
        )
    return render_template(
        "invitations/letter.html",
        case=case,
        invitation=invitation,
        view=view,
        letter_html=Markup(letter_html),  # noqa: S704 (rendered by Jinja with autoescape just above)
    )


@bp.route("/invitations/settings", methods=["GET", "POST"])
@requires(Permission.MANAGE_CONFERENCE_SETTINGS)
def settings():
    """Managers: how messages name the service, when reminders go, how long private links work."""
    current = queries.settings_for(db.session, current_user.service_id)
    if request.method == "GET":
        form = InvitationSettingsForm(obj=current)
        return render_template("invitations/settings.html", form=form)
    form = InvitationSettingsForm()
    if form.validate_on_submit():
        try:
            save_settings(
                current_user.service_id,
                sender_name=form.sender_name.data,
                reminders=form.reminders.data,
                link_valid_days=form.link_valid_days.data,
                by=current_user,
                at=now(),
            )
        except InvitationSettingsRefused as refused:
            for name, message in refused.errors.items():
                form[name].errors = [*form[name].errors, message]
        else:
            flash("Invitation settings saved.", "success")
            return redirect(url_for("invitations.settings"))
    return render_template("invitations/settings.html", form=form), 400
