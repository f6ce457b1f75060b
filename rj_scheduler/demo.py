"""``flask rj demo``: load invented demo data, once (running it again changes nothing).

The demo service has one user per role. Each capability adds its own demo data
through a ``load_demo(context)`` function listed in ``DEMO_LOADERS``; every
loader must be idempotent. Names are invented, mobile numbers come from
Ofcom's drama range and emails use example.org.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import click
from sqlalchemy import select

from rj_scheduler.api.demo import load_demo as load_api_demo
from rj_scheduler.audit import services as audit
from rj_scheduler.auth.models import Role, Service, User
from rj_scheduler.auth.passwords import hash_password
from rj_scheduler.cases.demo import load_demo as load_cases_demo
from rj_scheduler.conferences.demo import load_demo as load_conferences_demo
from rj_scheduler.extensions import db
from rj_scheduler.invitations.demo import load_demo as load_invitations_demo
from rj_scheduler.invitations.demo import load_settings_demo as load_invitation_settings_demo
from rj_scheduler.notify.demo import load_demo as load_notify_demo
from rj_scheduler.risk.demo import load_demo as load_risk_demo

DEMO_PASSWORD = "demo restorative meeting"  # noqa: S105  (invented, printed for the demo)
DEMO_SERVICE_CODE = "VF"

DEMO_USERS = (
    ("facilitator@example.org", "Priya Facilitator", Role.FACILITATOR, True),
    ("facilitator2@example.org", "Tom Cofacilitator", Role.FACILITATOR, False),
    ("supervisor@example.org", "Sam Supervisor", Role.SUPERVISOR, True),
    ("manager@example.org", "Morgan Manager", Role.MANAGER, True),
)


@dataclass
class DemoContext:
    """What the core demo created, handed to each capability's loader."""

    service: Service
    users: dict[str, User]
    other_service: Service
    notes: list[str] = field(default_factory=list)


# Capability loaders, in order: each takes the DemoContext.
DEMO_LOADERS: list[Callable[[DemoContext], None]] = [
    load_cases_demo,
    load_api_demo,
    load_risk_demo,
    load_notify_demo,
    load_invitation_settings_demo,
    load_conferences_demo,
    load_invitations_demo,
]


def _service(code: str, name: str) -> Service:
    service = db.session.scalar(select(Service).where(Service.code == code))
    if service is None:
        service = Service(
            code=code, name=name, phone_number="0300 123 4567", email=f"rj-{code.lower()}@example.org"
        )
        db.session.add(service)
        db.session.flush()
    return service


def load_core_demo() -> DemoContext:
    """The demo service, a second service (to show separation) and one user per role."""
    service = _service(DEMO_SERVICE_CODE, "Victim First restorative justice (demo)")
    other = _service("WK", "Warwickshire restorative justice (demo)")
    users: dict[str, User] = {}
    for email, name, role, trained in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(
                service=service,
                email=email,
                full_name=name,
                role=str(role),
                trained_for_sensitive_cases=trained,
                password_hash=hash_password(DEMO_PASSWORD),
            )
            db.session.add(user)
            db.session.flush()
            audit.record(
                "staff.created",
                object_type="user",
                object_id=user.public_id,
                service_id=service.id,
                details={"role": user.role, "via": "demo"},
            )
        users[email] = user
    other_manager = db.session.scalar(select(User).where(User.email == "wk-manager@example.org"))
    if other_manager is None:
        other_manager = User(
            service=other,
            email="wk-manager@example.org",
            full_name="Alex Othermanager",
            role=str(Role.MANAGER),
            password_hash=hash_password(DEMO_PASSWORD),
        )
        db.session.add(other_manager)
        db.session.flush()
        audit.record(
            "staff.created",
            object_type="user",
            object_id=other_manager.public_id,
            service_id=other.id,
            details={"role": other_manager.role, "via": "demo"},
        )
    db.session.flush()
    return DemoContext(service=service, users=users, other_service=other)


@click.command("demo")
def demo() -> None:
    """Load invented demo data (a demo service, one user per role, and every feature's examples).

    Safe to run again: it only adds what is missing. Refused in production.
    """
    from flask import current_app

    from rj_scheduler.unit_of_work import commit_unit_of_work

    if current_app.config["RJ_ENV"] == "production":
        raise click.ClickException("The demo data is for development only (RJ_ENV=production).")
    context = load_core_demo()
    for loader in DEMO_LOADERS:
        loader(context)
    commit_unit_of_work()
    click.echo("Demo data is ready. Sign in at http://127.0.0.1:5000 with:")
    for email, _name, role, _trained in DEMO_USERS:
        click.echo(f"  {role.value:<12} {email:<28} password: {DEMO_PASSWORD}")
    click.echo("  (a manager of another service: wk-manager@example.org, same password)")
    click.echo(
        "Each user sets up two-factor authentication at first sign-in: scan the QR code"
        " with an authenticator app, or type the key it shows."
    )
    for note in context.notes:
        click.echo(note)
