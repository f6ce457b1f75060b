"""Cases and parties for the messaging tests (invented people, drama-range numbers, example.org)."""

from __future__ import annotations

import datetime as dt
import itertools

from rj_scheduler.auth.models import Service, User
from rj_scheduler.cases.models import Case, ConsentRecord, Party
from rj_scheduler.db import now
from rj_scheduler.extensions import db

_numbers = itertools.count(100)


def make_case(service: Service, lead: User | None = None) -> Case:
    n = next(_numbers)
    case = Case(
        service_id=service.id,
        reference=f"{service.code}-2026-{n:05d}",
        received_at=now(),
        source="police",
        offence_category="criminal_damage",
        justice_stage="pre_charge",
        first_contact_due_on=dt.date(2026, 12, 1),
        lead_facilitator_id=lead.id if lead else None,
    )
    db.session.add(case)
    db.session.flush()
    return case


def make_party(
    case: Case,
    *,
    mobile: str | None = "default",
    email: str | None = "default",
    consents: tuple[str, ...] = ("contact", "sms", "email"),
    wording: str = "discreet",
    role: str = "victim",
    name: str | None = None,
) -> Party:
    """A party who may be contacted by SMS and email at any time, unless told otherwise."""
    n = next(_numbers)
    party = Party(
        service_id=case.service_id,
        case_id=case.id,
        role=role,
        full_name=name or f"Alex Testperson {n}",
        preferred_name=None,
        mobile_e164=f"+447700900{n % 1000:03d}" if mobile == "default" else mobile,
        email=f"party{n}@example.org" if email == "default" else email,
        allow_sms=True,
        allow_email=True,
        wording=wording,
    )
    db.session.add(party)
    db.session.flush()
    at = now() - dt.timedelta(days=1)
    for kind in consents:
        party.consent_records.append(
            ConsentRecord(
                service_id=case.service_id,
                party_id=party.id,
                kind=kind,
                given=True,
                recorded_at=at,
                method="phone",
            )
        )
    db.session.flush()
    return party
