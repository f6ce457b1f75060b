"""Helpers for the audit tests: write sealed entries, run audit-verify, read a chain."""

from __future__ import annotations

from click.testing import Result
from flask import Flask
from sqlalchemy import select

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.audit.services import record, seal_pending
from rj_scheduler.auth.models import Service, User
from rj_scheduler.extensions import db


def write_entries(
    service: Service,
    count: int,
    *,
    actor: User | None = None,
    action: str = "case.viewed",
    object_type: str = "case",
    object_prefix: str = "C",
) -> None:
    """Record and seal ``count`` entries in the service's chain, and commit them."""
    for n in range(1, count + 1):
        record(
            action,
            object_type=object_type,
            object_id=f"{object_prefix}{n}",
            service_id=service.id,
            actor_user_id=actor.id if actor else None,
        )
    seal_pending(db.session)
    db.session.commit()


def chain(service_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.chain_id == service_id).order_by(AuditEntry.seq)
        )
    )


def audit_verify(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["rj", "audit-verify", *args])
