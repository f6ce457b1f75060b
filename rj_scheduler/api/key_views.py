"""Managers' pages for partner API keys: list, create (the key is shown once), revoke.

Keys are looked up within the manager's service, so another service's key
answers 404. Every page is audited.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from rj_scheduler.api import queries, services
from rj_scheduler.api.exceptions import ApiKeyInvalid, ApiKeyRefused
from rj_scheduler.api.forms import ApiKeyForm, RevokeForm
from rj_scheduler.audit import services as audit
from rj_scheduler.auth.policy import Permission, requires
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.templating import add_nav_item

bp = Blueprint("api_keys", __name__, url_prefix="/api-keys")

add_nav_item("API keys", "api_keys.index", Permission.MANAGE_API_KEYS)


@bp.get("")
@requires(Permission.MANAGE_API_KEYS)
def index():
    """The service's API keys: who they are for, when they were last used, whether they are revoked."""
    keys = queries.api_keys_of_service(db.session, current_user.service_id)
    audit.record("api_key.list_viewed", object_type="api_key_list", service_id=current_user.service_id)
    return render_template("api/keys.html", keys=keys, display_prefix=services.display_prefix)


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_API_KEYS)
def new():
    """Create a key; the confirmation page shows it once (it is never stored, only its hash)."""
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return render_template("api/new_key.html", form=form), 400 if form.is_submitted() else 200
    try:
        key, full_key = services.create_api_key(
            current_user.service,
            partner_name=form.partner_name.data,
            source=form.source.data,
            actor=current_user,
            at=now(),
        )
    except ApiKeyInvalid as refused:
        for name, message in refused.errors.items():
            form[name].errors = [*form[name].errors, message]
        return render_template("api/new_key.html", form=form), 400
    # Rendered, not redirected: the key must not travel in a URL or sit in the session.
    return render_template("api/key_created.html", key=key, full_key=full_key)


def _load_key(api_key_public_id: str):
    key = queries.api_key_in_service(db.session, current_user.service_id, api_key_public_id)
    if key is None:
        abort(404)
    return key


@bp.route("/<api_key_public_id>/revoke", methods=["GET", "POST"])
@requires(Permission.MANAGE_API_KEYS)
def revoke(api_key_public_id: str):
    """Ask for confirmation, then revoke: the partner's next request with the key is refused."""
    key = _load_key(api_key_public_id)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            services.revoke_api_key(key, actor=current_user, at=now())
        except ApiKeyRefused as refused:
            flash(refused.reason)
            return redirect(url_for("api_keys.index"))
        flash(f"The API key for {key.partner_name} is revoked. Requests with it are now refused.", "success")
        return redirect(url_for("api_keys.index"))
    audit.record("api_key.viewed", object_type="api_key", object_id=key.public_id, service_id=key.service_id)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "api/revoke_key.html", key=key, form=form, display_prefix=services.display_prefix
    ), status
