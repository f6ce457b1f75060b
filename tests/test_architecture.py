"""Rules about every route: each is guarded, and none reaches another service's objects."""

from __future__ import annotations

from flask import Blueprint, Flask, abort

from rj_scheduler.auth.models import Role
from rj_scheduler.auth.policy import is_guarded, public
from rj_scheduler.extensions import db
from tests.cross_service import probe_other_service_urls
from tests.factories import make_service, make_user


def test_every_route_requires_a_permission_or_is_marked_public(app):
    unguarded = [
        f"{rule.rule} -> {rule.endpoint}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not rule.endpoint.endswith(".static")
        and not is_guarded(app.view_functions[rule.endpoint])
    ]
    assert unguarded == [], (
        "Every view needs @requires(Permission.X) or @public from rj_scheduler.auth.policy; "
        f"these have neither: {unguarded}"
    )


def test_a_manager_gets_404_for_every_url_naming_another_services_object(app, signed_in):
    service_a, service_b = make_service(), make_service()
    manager = make_user(service_a, Role.MANAGER)
    client = signed_in(manager)
    db.session.commit()
    assert client.get("/dashboard").status_code == 200  # the probe runs signed in

    report = probe_other_service_urls(app, client, service_b)

    assert report.failures == [], "\n".join(report.failures)


def _leaky_app() -> Flask:
    """A small app with one route of each kind the probe must tell apart (no sign-in needed)."""
    toy = Flask("toy")
    bp = Blueprint("toy", "toy")

    @bp.route("/leaky/<user_public_id>", methods=["GET", "POST"])
    def leaky(user_public_id: str) -> str:
        return "another service's user"

    @bp.get("/scoped/<user_public_id>")
    def scoped(user_public_id: str) -> str:
        abort(404)

    @bp.get("/unregistered/<widget_reference>")
    def unregistered(widget_reference: str) -> str:
        abort(404)

    @bp.get("/own-service/<kind>")
    def own_service_choice(kind: str) -> str:
        return "a choice within the user's own service"

    @bp.get("/generic/<public_id>")
    def generic(public_id: str) -> str:
        abort(404 if public_id == "qualified" else 200)

    @bp.get("/private-link/<token>")
    @public
    def private_link(token: str) -> str:
        return "public pages are skipped"

    @bp.get("/no-parameters")
    def no_parameters() -> str:
        return "skipped"

    toy.register_blueprint(bp)
    return toy


def test_the_cross_service_probe_reports_leaks_and_unregistered_parameters():
    toy = _leaky_app()
    factories = {
        "user_public_id": lambda service: "b" * 32,
        "public_id": lambda service: "unqualified",
        "toy.generic:public_id": lambda service: "qualified",
    }
    own_service = {"toy.own_service_choice": "kind is a message kind, not an object"}
    report = probe_other_service_urls(toy, toy.test_client(), make_service(), factories, own_service)

    assert sorted(report.probed) == [
        "GET /generic/<public_id>",
        "GET /leaky/<user_public_id>",
        "GET /scoped/<user_public_id>",
        "POST /leaky/<user_public_id>",
    ]
    assert len(report.failures) == 3
    assert any(f.startswith("GET /leaky/" + "b" * 32) and "answered 200" in f for f in report.failures)
    assert any(f.startswith("POST /leaky/") for f in report.failures)
    assert any(
        "/unregistered/<widget_reference>" in f and "widget_reference" in f and "PARAMETER_FACTORIES" in f
        for f in report.failures
    )
