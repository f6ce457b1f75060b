"""The dashboard each role lands on after signing in; later capabilities fill it."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from rj_scheduler.auth.policy import Permission, public, requires

bp = Blueprint("dashboard", __name__)


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
    return render_template(f"dashboard/{current_user.role}.html")
