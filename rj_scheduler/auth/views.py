"""Sign-in, two-factor, sign-out, own account and staff management pages (stub: see auth helper)."""

from __future__ import annotations

from flask import Blueprint, abort

from rj_scheduler.auth.policy import Permission, public, requires

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    abort(501)


@bp.post("/logout")
@public
def logout():
    abort(501)


@bp.get("/account")
@requires(Permission.MANAGE_OWN_ACCOUNT)
def account():
    abort(501)


@bp.get("/staff")
@requires(Permission.MANAGE_STAFF)
def staff_list():
    abort(501)
