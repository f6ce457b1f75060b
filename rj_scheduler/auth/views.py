"""Sign-in, two-factor, sign-out, own account and staff management pages.

Signing in takes two steps. A correct password leaves a short-lived "pending
sign-in" in the signed cookie (the user's public id and an expiry); it is not a
session and opens no staff page. A correct two-factor code (after enrolment,
and after replacing a temporary password) starts the server-side session.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.exceptions import NotFound

from rj_scheduler.audit import services as audit
from rj_scheduler.auth import queries, services
from rj_scheduler.auth.exceptions import (
    AuthRefused,
    CodeRefused,
    PasswordRefused,
    SignInRefused,
    StaffChangeRefused,
)
from rj_scheduler.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    ConfirmForm,
    LoginForm,
    NewPasswordForm,
    NewStaffForm,
    StaffForm,
)
from rj_scheduler.auth.models import User
from rj_scheduler.auth.policy import Permission, authorize, public, requires
from rj_scheduler.auth.sessions import SESSION_TOKEN_KEY, end_session, start_session
from rj_scheduler.db import now
from rj_scheduler.extensions import db, limiter
from rj_scheduler.unit_of_work import commit_unit_of_work

bp = Blueprint("auth", __name__)

PENDING_KEY = "rj_pending_sign_in"
PENDING_MINUTES = 5

# One per-address budget shared by the password and code forms.
sign_in_limit = limiter.shared_limit(
    lambda: current_app.config["RJ_LOGIN_RATE_LIMIT"], scope="sign-in", methods=["POST"]
)


# ---------------------------------------------------------------- helpers


def _limits() -> services.SignInLimits:
    return services.SignInLimits.from_config(current_app.config)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site; anything else (another host, a scheme) is dropped."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 32 or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _add_errors(form: FlaskForm, problems: dict[str, list[str]], fallback: str = "submit") -> None:
    for name, messages in problems.items():
        field = form._fields.get(name) or form._fields[fallback]
        field.errors = [*list(field.errors or []), *messages]


def _keep_refusal_record() -> None:
    """Commit the failure counts and audit entries of a refused sign-in before answering 400.

    The edge rolls back every response of 400 or more; the lock-out only works
    if the failed attempts it counts are kept. A refusal changes nothing else.
    """
    commit_unit_of_work()


def _start_pending(user: User, next_url: str | None) -> None:
    session.clear()  # nothing from before the sign-in survives it (no session fixation)
    session[PENDING_KEY] = {
        "user": user.public_id,
        "expires": (now() + dt.timedelta(minutes=PENDING_MINUTES)).timestamp(),
        "two_factor_ok": False,
        "next": next_url,
    }


def _pending() -> tuple[dict[str, Any], User] | None:
    """The pending sign-in and its user, if it has not expired and the account is still active."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if float(pending.get("expires", 0)) < now().timestamp():
        session.pop(PENDING_KEY, None)
        flash("Your sign-in timed out. Sign in again.")
        return None
    user = queries.user_by_public_id(str(pending.get("user", "")))
    if user is None or not user.is_active_account:
        session.pop(PENDING_KEY, None)
        return None
    return pending, user


def _complete_sign_in(user: User, next_url: str | None):
    session.clear()
    token = start_session(db.session, user, request.remote_addr, request.user_agent.string)
    login_user(user)
    session[SESSION_TOKEN_KEY] = token
    services.record_signed_in(user)
    return redirect(safe_next(next_url) or url_for("dashboard.index"))


def _after_code(pending: dict[str, Any], user: User):
    if user.must_change_password:
        pending["two_factor_ok"] = True
        session[PENDING_KEY] = pending
        return redirect(url_for("auth.new_password"))
    return _complete_sign_in(user, pending.get("next"))


def _qr_code_svg(uri: str) -> Markup:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=15, border=2)
    svg = image.to_string(encoding="unicode")
    svg = svg[svg.index("<svg") :]
    svg = svg.replace(
        "<svg ",
        '<svg role="img" aria-label="QR code for your authenticator app" class="rj-qr-code" ',
        1,
    )
    # The image is built by the qrcode library from our own URI: no user markup reaches it.
    return Markup(svg)  # noqa: S704


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _code_step(template: str, pending: dict[str, Any], user: User, **context: Any):
    form = CodeForm()
    if form.validate_on_submit():
        try:
            services.verify_code(user, form.code.data or "", now(), _limits())
        except CodeRefused as refusal:
            if refusal.locked:
                session.pop(PENDING_KEY, None)
            _keep_refusal_record()
            _add_errors(form, refusal.problems)
            return render_template(template, form=form, **context), 400
        return _after_code(pending, user)
    status = 400 if form.errors else 200
    return render_template(template, form=form, **context), status


# ---------------------------------------------------------------- sign-in


@bp.route("/login", methods=["GET", "POST"])
@public
@sign_in_limit
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data or "", form.password.data or "", now(), _limits())
        except SignInRefused as refusal:
            _keep_refusal_record()
            _add_errors(form, refusal.problems)
            return render_template("auth/login.html", form=form), 400
        _start_pending(user, next_url)
        if user.two_factor_enrolled:
            return redirect(url_for("auth.two_factor"))
        return redirect(url_for("auth.two_factor_setup"))
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/login/two-factor/setup", methods=["GET", "POST"])
@public
@sign_in_limit
def two_factor_setup():
    found = _pending()
    if found is None:
        return redirect(url_for("auth.login"))
    pending, user = found
    if user.two_factor_enrolled:
        return redirect(url_for("auth.two_factor"))
    secret = services.start_two_factor_enrolment(user)
    return _code_step(
        "auth/two_factor_setup.html",
        pending,
        user,
        qr_code=_qr_code_svg(services.provisioning_uri(user)),
        secret=_grouped(secret),
    )


@bp.route("/login/two-factor", methods=["GET", "POST"])
@public
@sign_in_limit
def two_factor():
    found = _pending()
    if found is None:
        return redirect(url_for("auth.login"))
    pending, user = found
    if not user.two_factor_enrolled:
        return redirect(url_for("auth.two_factor_setup"))
    return _code_step("auth/two_factor.html", pending, user)


@bp.route("/login/new-password", methods=["GET", "POST"])
@public
@sign_in_limit
def new_password():
    found = _pending()
    if found is None:
        return redirect(url_for("auth.login"))
    pending, user = found
    if not pending.get("two_factor_ok"):
        return redirect(url_for("auth.two_factor"))
    if not user.must_change_password:
        return _complete_sign_in(user, pending.get("next"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.replace_temporary_password(user, form.new_password.data or "", now())
        except PasswordRefused as refusal:
            _add_errors(form, refusal.problems)
            return render_template("auth/new_password.html", form=form), 400
        response = _complete_sign_in(user, pending.get("next"))
        flash("Your new password is saved", "success")  # after the sign-in cleared the old cookie
        return response
    status = 400 if form.errors else 200
    return render_template("auth/new_password.html", form=form), status


@bp.post("/logout")
@public
def logout():
    if current_user.is_authenticated:
        services.record_signed_out(current_user)
    end_session(db.session, session.get(SESSION_TOKEN_KEY), "signed out")
    logout_user()
    session.clear()
    flash("You have signed out", "success")
    return redirect(url_for("auth.login"))


# ---------------------------------------------------------------- own account


@bp.get("/account")
@requires(Permission.MANAGE_OWN_ACCOUNT)
def account():
    audit.record("account.viewed", object_type="user", object_id=current_user.public_id)
    return render_template("auth/account.html")


@bp.route("/account/password", methods=["GET", "POST"])
@requires(Permission.MANAGE_OWN_ACCOUNT)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(
                user, form.current_password.data or "", form.new_password.data or "", now()
            )
        except PasswordRefused as refusal:
            _add_errors(form, refusal.problems)
            return render_template("auth/change_password.html", form=form), 400
        # Every session ended with the change; this browser carries on in a new one.
        session[SESSION_TOKEN_KEY] = start_session(
            db.session, user, request.remote_addr, request.user_agent.string
        )
        flash("Your password has been changed. You have been signed out everywhere else.", "success")
        return redirect(url_for("auth.account"))
    status = 400 if form.errors else 200
    return render_template("auth/change_password.html", form=form), status


# ---------------------------------------------------------------- staff management


def _staff_member(user_public_id: str) -> User:
    """A member of the manager's own service; anyone else's staff is 404."""
    member = queries.user_by_public_id(user_public_id)
    if member is None:
        raise NotFound()
    authorize(current_user, Permission.MANAGE_STAFF, member)
    return member


@bp.get("/staff")
@requires(Permission.MANAGE_STAFF)
def staff_list():
    staff = queries.staff_of_service(current_user.service_id)
    audit.record("staff.listed", object_type="service", object_id=current_user.service.public_id)
    return render_template("staff/list.html", staff=staff)


@bp.route("/staff/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def staff_new():
    form = NewStaffForm()
    if form.validate_on_submit():
        try:
            member = services.create_staff(
                current_user.service,
                email=form.email.data or "",
                full_name=form.full_name.data or "",
                role=form.role.data or "",
                trained_for_sensitive_cases=bool(form.trained_for_sensitive_cases.data),
                password=form.password.data or "",
                temporary=True,
                by=current_user._get_current_object(),
            )
        except StaffChangeRefused as refusal:
            _add_errors(form, refusal.problems)
            return render_template("staff/new.html", form=form), 400
        flash(
            f"{member.full_name} has been added. Give them their temporary password in person or by phone: "
            "they will choose their own and set up two-factor authentication when they first sign in.",
            "success",
        )
        return redirect(url_for("auth.staff_member", user_public_id=member.public_id))
    status = 400 if form.errors else 200
    return render_template("staff/new.html", form=form), status


@bp.route("/staff/<user_public_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def staff_member(user_public_id: str):
    member = _staff_member(user_public_id)
    form = StaffForm(obj=member)
    if form.validate_on_submit():
        try:
            services.edit_staff(
                current_user._get_current_object(),
                member,
                full_name=form.full_name.data or "",
                role=form.role.data or "",
                trained_for_sensitive_cases=bool(form.trained_for_sensitive_cases.data),
            )
        except StaffChangeRefused as refusal:
            _add_errors(form, refusal.problems)
            return render_template("staff/member.html", form=form, member=member), 400
        flash("Changes saved", "success")
        return redirect(url_for("auth.staff_member", user_public_id=member.public_id))
    if request.method == "GET":
        audit.record("staff.viewed", object_type="user", object_id=member.public_id)
    status = 400 if form.errors else 200
    return render_template("staff/member.html", form=form, member=member), status


_STAFF_ACTIONS = {
    "deactivate": (
        "Deactivate {name}'s account",
        "They will be signed out straight away and will not be able to sign in until you reactivate them.",
        "Deactivate account",
        "{name}'s account has been deactivated",
    ),
    "reactivate": (
        "Reactivate {name}'s account",
        "They will be able to sign in again with their existing password and two-factor authentication.",
        "Reactivate account",
        "{name}'s account has been reactivated",
    ),
    "reset-two-factor": (
        "Reset {name}'s two-factor authentication",
        "They will be signed out straight away and must set up two-factor authentication again "
        "the next time they sign in. Do this if they have lost or replaced their phone.",
        "Reset two-factor authentication",
        "{name}'s two-factor authentication has been reset",
    ),
}


def _staff_action(user_public_id: str, action: str):
    member = _staff_member(user_public_id)
    title, explanation, button, done = (text.format(name=member.full_name) for text in _STAFF_ACTIONS[action])
    form = ConfirmForm()
    form.submit.label.text = button
    context = {"form": form, "member": member, "title": title, "explanation": explanation, "action": action}
    if form.validate_on_submit():
        manager = current_user._get_current_object()
        try:
            if action == "deactivate":
                services.deactivate_staff(manager, member, now())
            elif action == "reactivate":
                services.reactivate_staff(manager, member)
            else:
                services.reset_two_factor(manager, member)
        except AuthRefused as refusal:
            _add_errors(form, refusal.problems)
            return render_template("staff/confirm.html", **context), 400
        flash(done, "success")
        return redirect(url_for("auth.staff_member", user_public_id=member.public_id))
    status = 400 if form.errors else 200
    return render_template("staff/confirm.html", **context), status


@bp.route("/staff/<user_public_id>/deactivate", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def staff_deactivate(user_public_id: str):
    return _staff_action(user_public_id, "deactivate")


@bp.route("/staff/<user_public_id>/reactivate", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def staff_reactivate(user_public_id: str):
    return _staff_action(user_public_id, "reactivate")


@bp.route("/staff/<user_public_id>/reset-two-factor", methods=["GET", "POST"])
@requires(Permission.MANAGE_STAFF)
def staff_reset_two_factor(user_public_id: str):
    return _staff_action(user_public_id, "reset-two-factor")
