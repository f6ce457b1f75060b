"""Named reads of the partner API: a service's keys, one key, and the referrals a partner filed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from rj_scheduler.api.models import ApiKey, IdempotencyRecord
from rj_scheduler.cases.models import Case


def api_keys_of_service(session: Session, service_id: int) -> list[ApiKey]:
    """The service's keys, live ones first, newest first (one statement)."""
    return list(
        session.scalars(
            select(ApiKey)
            .options(joinedload(ApiKey.created_by), joinedload(ApiKey.revoked_by))
            .where(ApiKey.service_id == service_id)
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    )


def api_key_in_service(session: Session, service_id: int, key_public_id: str) -> ApiKey | None:
    """One key of the service, or None (another service's key is as good as missing)."""
    return session.scalar(
        select(ApiKey).where(ApiKey.service_id == service_id, ApiKey.public_id == key_public_id)
    )


def partner_referral(session: Session, key: ApiKey, reference: str) -> Case | None:
    """A case this partner filed through the API, with this key or another key of the same partner and service."""
    return session.scalar(
        select(Case)
        .join(IdempotencyRecord, IdempotencyRecord.case_id == Case.id)
        .join(ApiKey, ApiKey.id == IdempotencyRecord.api_key_id)
        .where(
            Case.service_id == key.service_id,
            Case.reference == reference,
            ApiKey.service_id == key.service_id,
            ApiKey.partner_name == key.partner_name,
        )
        .limit(1)
    )
