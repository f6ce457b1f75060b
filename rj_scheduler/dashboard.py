"""The dashboard each role lands on after signing in.

A facilitator sees their caseload and what needs doing next (first contacts
due, re-offers due, overdue items); supervisors and managers see the team's
caseload at a glance with links into the filtered case list. Each list is a
fixed number of queries whatever the number of cases.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.policy import Permission, public, requires
from rj_scheduler.cases import queries
from rj_scheduler.cases.models import CaseState
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.templating import LONDON

bp = Blueprint("dashboard", __name__)
PER_PAGE = 25


@bp.get("/")
@public
def home():
    """Signed in: the dashboard; otherwise the sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("auth.login"))


@bp.get("/dashboard")
@requires(Permission.VIEW_DASHBOARD)
def index():
    today = now().astimezone(LONDON).date()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    context: dict[str, object] = {"today": today}
    context["caseload"] = queries.caseload(
        db.session, current_user.service_id, current_user, today, page=page, per_page=PER_PAGE
    )
    if current_user.is_supervisor:
        context["summary"] = queries.team_summary(db.session, current_user.service_id, today)
        context["states"] = list(CaseState)
    audit.record(
        "dashboard.viewed",
        object_type="dashboard",
        service_id=current_user.service_id,
        details={"page": page},
    )
    return render_template(f"dashboard/{current_user.role}.html", **context)
