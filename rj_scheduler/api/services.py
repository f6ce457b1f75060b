"""The rules of the partner API: API keys (created, shown once, revoked) and idempotent referrals.

A key is ``rjk_<prefix>_<secret>``: the prefix identifies it, and only a
SHA-256 hash of the secret is stored, so the key itself is shown once and
cannot be recovered. A key files referrals only into its own service, as the
referral source the manager chose. Functions flush and never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rj_scheduler.api.exceptions import (
    ApiKeyInvalid,
    ApiKeyRefused,
    ApiKeyRejected,
    HeaderInvalid,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    RequestInvalid,
)
from rj_scheduler.api.models import API_SOURCES, ApiKey, IdempotencyRecord
from rj_scheduler.api.referral_request import parse_referral_request, service_field_pointer
from rj_scheduler.audit import services as audit
from rj_scheduler.auth.models import Service, User
from rj_scheduler.cases.exceptions import ReferralInvalid
from rj_scheduler.cases.models import Case
from rj_scheduler.cases.services import create_referral
from rj_scheduler.extensions import db

KEY_SCHEME = "rjk"
_KEY_FORMAT = re.compile(r"^rjk_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _derived(seed: str) -> tuple[str, str]:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return digest[:12], digest[12:52]


def derived_key(seed: str) -> str:
    """The full key ``create_api_key(..., secret_seed=seed)`` makes (demo data only)."""
    prefix, secret = _derived(seed)
    return f"{KEY_SCHEME}_{prefix}_{secret}"


def display_prefix(key: ApiKey) -> str:
    """How a key is shown once it is stored: its prefix, never its secret."""
    return f"{KEY_SCHEME}_{key.prefix}_…"


# --- keys ------------------------------------------------------------------------------------------


def create_api_key(
    service: Service,
    *,
    partner_name: str,
    source: str,
    actor: User | None,
    at: dt.datetime,
    secret_seed: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for a partner of ``service``; return it and the full key, which is never stored.

    ``secret_seed`` derives the key from a fixed string instead of chance: only
    the demo data uses it, so that running the demo again prints the same key.
    """
    errors: dict[str, str] = {}
    partner_name = (partner_name or "").strip()
    if not partner_name:
        errors["partner_name"] = "Enter the name of the partner organisation"
    elif len(partner_name) > 200:
        errors["partner_name"] = "Partner name must be 200 characters or fewer"
    if source not in API_SOURCES:
        errors["source"] = "Select who the partner is"
    if errors:
        raise ApiKeyInvalid(errors)
    prefix, secret = (
        (secrets.token_hex(6), secrets.token_urlsafe(32)) if secret_seed is None else _derived(secret_seed)
    )
    key = ApiKey(
        service_id=service.id,
        partner_name=partner_name,
        source=source,
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        created_by_id=actor.id if actor else None,
        created_at=at,
    )
    db.session.add(key)
    db.session.flush()
    audit.record(
        "api_key.created",
        object_type="api_key",
        object_id=key.public_id,
        service_id=service.id,
        actor_user_id=actor.id if actor else None,
        details={"partner": partner_name, "source": source, "prefix": prefix},
    )
    return key, f"{KEY_SCHEME}_{prefix}_{secret}"


def revoke_api_key(key: ApiKey, *, actor: User, at: dt.datetime) -> None:
    """Revoke a key: from now on every request with it is refused with 401."""
    if key.revoked_at is not None:
        raise ApiKeyRefused("This API key has already been revoked")
    key.revoked_at = at
    key.revoked_by_id = actor.id
    db.session.flush()
    audit.record(
        "api_key.revoked",
        object_type="api_key",
        object_id=key.public_id,
        service_id=key.service_id,
        actor_user_id=actor.id,
        details={"partner": key.partner_name, "prefix": key.prefix},
    )


def presented_prefix(authorization: str | None) -> str | None:
    """The prefix of the key in an ``Authorization: Bearer`` header, if it is well formed (not checked)."""
    match = _KEY_FORMAT.match(_bearer(authorization) or "")
    return match.group(1) if match else None


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def authenticate(authorization: str | None, *, at: dt.datetime) -> ApiKey:
    """The key of an ``Authorization: Bearer rjk_...`` header, if it exists and is not revoked."""
    presented = _bearer(authorization)
    if presented is None:
        raise ApiKeyRejected("Send your API key in the header Authorization: Bearer rjk_...")
    match = _KEY_FORMAT.match(presented)
    if match is None:
        raise ApiKeyRejected("The API key is not in the form rjk_<prefix>_<secret>")
    prefix, secret = match.groups()
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not hmac.compare_digest(key.secret_hash, _hash_secret(secret)):
        raise ApiKeyRejected(
            "The API key is not valid", prefix=prefix, service_id=key.service_id if key else None
        )
    if key.revoked_at is not None:
        raise ApiKeyRejected("The API key has been revoked", prefix=prefix, service_id=key.service_id)
    # At most once a minute: the update locks the key's row until commit, which would queue a
    # partner's parallel requests behind each other if every request wrote it.
    if key.last_used_at is None or at - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = at
        db.session.flush()
    return key


# --- referrals ---------------------------------------------------------------------------------------


@dataclass
class StoredResponse:
    """The answer to a referral request: the first one, or its replay for a retry."""

    status: int
    body: dict[str, Any]
    location: str | None
    replayed: bool
    record: IdempotencyRecord
    case: Case | None = None


def check_idempotency_key(value: str | None) -> str:
    """A partner's Idempotency-Key: 1 to 255 visible ASCII characters."""
    if value is None or not value.strip():
        raise HeaderInvalid(
            "Idempotency-Key", "Send an Idempotency-Key header: a new random value for each referral"
        )
    value = value.strip().strip('"')
    if not _IDEMPOTENCY_KEY.match(value):
        raise HeaderInvalid(
            "Idempotency-Key", "The Idempotency-Key must be 1 to 255 visible ASCII characters"
        )
    return value


def request_hash(body: Any) -> str:
    """SHA-256 of the body in canonical JSON, so the same referral re-sent matches whatever its spacing."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(key: ApiKey, idempotency_key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.api_key_id == key.id, IdempotencyRecord.key == idempotency_key)
        .execution_options(populate_existing=True)
    )


def _replay(record: IdempotencyRecord, digest: str) -> StoredResponse:
    if record.request_hash != digest:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different referral: use a new key for a new referral"
        )
    if record.response_status is None or record.response_body is None:
        raise IdempotencyKeyInFlight("The first request with this Idempotency-Key is still being processed")
    return StoredResponse(
        status=record.response_status,
        body=json.loads(record.response_body),
        location=record.response_location,
        replayed=True,
        record=record,
    )


def receipt(case: Case) -> dict[str, Any]:
    """What the partner gets back for a referral: its reference and when it was received, nothing more."""
    return {
        "reference": case.reference,
        "received_at": case.received_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "source": case.source,
    }


def file_referral(key: ApiKey, body: Any, *, idempotency_key: str, at: dt.datetime) -> StoredResponse:
    """File a partner's referral into the key's service, once per Idempotency-Key.

    The idempotency record is inserted before the case, in the same
    transaction: a concurrent retry waits on the unique (key, Idempotency-Key)
    pair and then answers the first request's stored result, so a retried
    referral never makes a second case. The same key with a different body is
    refused. A refused referral stores nothing, so it may be corrected and
    sent again with the same key.
    """
    digest = request_hash(body)
    existing = _stored(key, idempotency_key)
    if existing is not None:
        return _replay(existing, digest)
    record = IdempotencyRecord(
        service_id=key.service_id, api_key_id=key.id, key=idempotency_key, request_hash=digest, created_at=at
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError:
        # Another request with this key committed first (PostgreSQL made us wait for it).
        existing = _stored(key, idempotency_key)
        if existing is None:  # it rolled back after all: the caller may simply retry
            raise IdempotencyKeyInFlight(
                "The first request with this Idempotency-Key is still being processed"
            ) from None
        return _replay(existing, digest)
    request = parse_referral_request(body)
    service = db.session.get(Service, key.service_id)
    assert service is not None  # noqa: S101  (the foreign key guarantees it)
    try:
        case = create_referral(
            service,
            source=key.source,
            offence_category=request.offence_category,
            offence_date=request.offence_date,
            crime_reference=request.crime_reference,
            justice_stage=request.justice_stage,
            received_at=request.received_at or at,
            referrer_name=request.referrer_name,
            referrer_organisation=request.referrer_organisation or key.partner_name,
            summary=request.summary,
            parties=request.parties,
            actor=None,
            domestic_abuse=request.domestic_abuse,
            sexual_offence=request.sexual_offence,
            hate_crime=request.hate_crime,
        )
    except ReferralInvalid as refused:
        raise RequestInvalid(
            {service_field_pointer(name): message for name, message in refused.errors.items()}
        ) from refused
    record.case_id = case.id
    return StoredResponse(
        status=201, body=receipt(case), location=None, replayed=False, record=record, case=case
    )


def remember_response(stored: StoredResponse, location: str | None) -> None:
    """Keep the first answer (status, body, Location) so a retry gets exactly the same."""
    stored.location = location
    stored.record.response_status = stored.status
    stored.record.response_body = json.dumps(stored.body, sort_keys=True)
    stored.record.response_location = location
    db.session.flush()
