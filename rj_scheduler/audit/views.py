"""The audit log viewer for managers (stub: see audit helper)."""

from __future__ import annotations

from flask import Blueprint, abort

from rj_scheduler.auth.policy import Permission, requires

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@requires(Permission.VIEW_AUDIT_LOG)
def index():
    abort(501)
