"""Demo data of the partner API: one key for an invented police partner, and how to try it with curl.

The key is demo data, derived from a fixed string, so running ``flask rj demo``
again prints the same key (and creates nothing new). Never do this for a real key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select

from rj_scheduler.api.models import ApiKey
from rj_scheduler.api.services import create_api_key, derived_key
from rj_scheduler.db import now
from rj_scheduler.extensions import db

if TYPE_CHECKING:
    from rj_scheduler.demo import DemoContext

DEMO_PARTNER = "Demo Constabulary (invented)"
DEMO_KEY_SEED = "rj_scheduler demo partner API key: demo data, not a secret"


def load_demo(context: DemoContext) -> None:
    """Create the demo partner's key if it is missing, and say how to send a referral with it."""
    service = context.service
    existing = db.session.scalar(
        select(ApiKey).where(ApiKey.service_id == service.id, ApiKey.partner_name == DEMO_PARTNER)
    )
    if existing is None:
        create_api_key(
            service,
            partner_name=DEMO_PARTNER,
            source="police",
            actor=context.users.get("manager@example.org"),
            at=now(),
            secret_seed=DEMO_KEY_SEED,
        )
    elif existing.revoked_at is not None:
        context.notes.append(f"Partner API: the demo key for {DEMO_PARTNER} has been revoked.")
        return
    key = derived_key(DEMO_KEY_SEED)
    base = current_app.config.get("RJ_PUBLIC_URL", "http://127.0.0.1:5000")
    body = (
        '{"offence_category": "criminal_damage", "justice_stage": "pre_charge", '
        '"parties": [{"role": "victim", "full_name": "Dana Demo", "mobile": "07700 900321", "allow_sms": true}]}'
    )
    context.notes.extend(
        [
            "",
            f"Partner API: a demo key for {DEMO_PARTNER} (files referrals as Police):",
            f"  {key}",
            "Send a referral (use a new Idempotency-Key for each new referral; resend one to see it is not duplicated):",
            f"  curl -i {base}/api/v1/referrals \\",
            f'    -H "Authorization: Bearer {key}" \\',
            '    -H "Content-Type: application/json" -H "Idempotency-Key: demo-referral-1" \\',
            f"    -d '{body}'",
            f"The API description (OpenAPI 3.1): {base}/api/v1/openapi.json",
            f"Self-referral page for victims: {base}/self-referral/{service.code}",
        ]
    )
