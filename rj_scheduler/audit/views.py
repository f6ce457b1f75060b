"""The audit log viewer: a manager reads their own service's entries, newest first.

Opening the log is itself recorded, with the filters used.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from rj_scheduler.audit import queries
from rj_scheduler.audit.forms import AuditFilterForm
from rj_scheduler.audit.services import record
from rj_scheduler.auth.policy import Permission, requires
from rj_scheduler.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/audit")

_CURSORS = ("before", "after")


def _page_url(**cursor: int) -> str:
    """This page's address with the same filters and a new cursor."""
    args = {k: v for k, v in request.args.lists() if k not in _CURSORS}
    return url_for("audit.index", **args, **cursor)


def _recorded_filters(form: AuditFilterForm, before: int | None, after: int | None) -> dict[str, str] | None:
    """The filters and page asked for, as the audit entry of this viewing keeps them."""
    details = {name: str(value) for name, value in form.data.items() if value}
    details.update({name: str(value) for name, value in (("before", before), ("after", after)) if value})
    return details or None


@bp.get("/")
@requires(Permission.VIEW_AUDIT_LOG)
def index():
    service_id = current_user.service_id
    staff = queries.service_staff(db.session, service_id)
    form = AuditFilterForm(formdata=request.args)
    form.staff_member.choices = [("", "Anyone")] + [(u.public_id, u.full_name) for u in staff]
    before = request.args.get("before", type=int)
    after = request.args.get("after", type=int)
    valid = form.validate()
    filtered = any(
        request.args.get(name) for name in ("action", "staff_member", "object_type", "object_id")
    ) or (form.date_from.data is not None or form.date_to.data is not None)
    record(
        "audit_log.viewed",
        object_type="audit_log",
        service_id=service_id,
        outcome="ok" if valid else "invalid",
        details=_recorded_filters(form, before, after),
    )
    if not valid:
        return render_template("audit/index.html", form=form, page=None, filtered=True), 400
    actor = next((u for u in staff if u.public_id == form.staff_member.data), None)
    filters = queries.AuditFilters(
        action=form.action.data or None,
        actor_user_id=actor.id if actor else None,
        object_type=form.object_type.data or None,
        object_id=form.object_id.data or None,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )
    page = queries.service_audit_page(db.session, service_id, filters, before=before, after=after)
    return render_template(
        "audit/index.html",
        form=form,
        page=page,
        filtered=filtered,
        newer_url=_page_url(after=page.newer_than) if page.newer_than is not None else None,
        older_url=_page_url(before=page.older_than) if page.older_than is not None else None,
    )
