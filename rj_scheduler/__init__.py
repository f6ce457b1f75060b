"""rj_scheduler: runs a restorative justice service end to end.

``create_app`` is a short list of register_* calls; gunicorn runs
``gunicorn "rj_scheduler:create_app()"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from rj_scheduler.config import load_config


def create_app(config_overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config_overrides`` win over the environment (tests use them)."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(Path(app.instance_path)))
    if config_overrides:
        app.config.update(config_overrides)
    register_proxy(app)
    register_logging(app)
    register_templates(app)
    register_extensions(app)
    register_edge(app)
    register_blueprints(app)
    register_listeners()
    register_unit_of_work(app)
    register_cli(app)
    return app


def register_proxy(app: Flask) -> None:
    hops = int(app.config.get("RJ_TRUSTED_PROXIES", 0))
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def register_logging(app: Flask) -> None:
    from rj_scheduler.logging_setup import register_logging as setup

    setup(app)


def register_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("rj_scheduler"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    from govuk_frontend_wtf.main import WTFormsHelpers

    WTFormsHelpers(app)
    from rj_scheduler.templating import register_template_helpers

    register_template_helpers(app)


def register_extensions(app: Flask) -> None:
    import rj_scheduler.models_index  # noqa: F401  (every model on the metadata)
    from rj_scheduler.extensions import babel, csrf, db, limiter, login_manager, migrate

    babel.init_app(app)
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).parent.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    from rj_scheduler.auth.sessions import register_session_loader

    register_session_loader(login_manager)


def register_edge(app: Flask) -> None:
    from rj_scheduler.web import register_edge as setup

    setup(app)


def register_blueprints(app: Flask) -> None:
    from rj_scheduler.api.key_views import bp as api_keys_bp
    from rj_scheduler.api.views import bp as api_bp
    from rj_scheduler.audit.views import bp as audit_bp
    from rj_scheduler.auth.views import bp as auth_bp
    from rj_scheduler.cases.self_referral import bp as self_referral_bp
    from rj_scheduler.cases.views import bp as cases_bp
    from rj_scheduler.conferences.calendar_views import bp as calendar_bp
    from rj_scheduler.conferences.views import bp as conferences_bp
    from rj_scheduler.dashboard import bp as dashboard_bp
    from rj_scheduler.invitations.views import bp as invitations_bp
    from rj_scheduler.notify.views import bp as notify_bp
    from rj_scheduler.notify.webhooks import bp as notify_webhooks_bp
    from rj_scheduler.participants.views import bp as participants_bp
    from rj_scheduler.risk.views import bp as risk_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(notify_bp)
    app.register_blueprint(notify_webhooks_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_keys_bp)
    app.register_blueprint(self_referral_bp)
    app.register_blueprint(risk_bp)
    app.register_blueprint(conferences_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(invitations_bp)
    app.register_blueprint(participants_bp)


def register_listeners() -> None:
    """Capabilities that act on other capabilities' signals (invitations on bookings and consent)."""
    # replies: RSVP by SMS reply; reminders: the check run just before each reminder is sent.
    import rj_scheduler.invitations.reminders
    import rj_scheduler.invitations.replies
    import rj_scheduler.invitations.services  # noqa: F401


def register_unit_of_work(app: Flask) -> None:
    from rj_scheduler.unit_of_work import register_unit_of_work as setup

    setup(app)


def register_cli(app: Flask) -> None:
    from rj_scheduler.cli import rj

    app.cli.add_command(rj)
