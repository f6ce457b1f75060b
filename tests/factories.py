"""Model factories named for states. Data is invented; emails use example.org."""

from __future__ import annotations

import itertools

import pyotp

from rj_scheduler.auth.models import Role, Service, User
from rj_scheduler.auth.passwords import hash_password
from rj_scheduler.db import now
from rj_scheduler.extensions import db

_counter = itertools.count(1)
DEFAULT_PASSWORD = "correct horse battery staple 42"


def make_service(name: str | None = None, code: str | None = None) -> Service:
    n = next(_counter)
    service = Service(name=name or f"Test area {n}", code=code or f"T{n}", phone_number="0300 123 4567")
    db.session.add(service)
    db.session.flush()
    return service


def make_user(
    service: Service | None = None,
    role: Role | str = Role.FACILITATOR,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    enrolled: bool = True,
    active: bool = True,
    full_name: str | None = None,
) -> User:
    """A staff user; ``enrolled`` gives them a two-factor secret already confirmed."""
    n = next(_counter)
    service = service or make_service()
    user = User(
        service=service,
        email=email or f"staff{n}@example.org",
        full_name=full_name or f"Staff Member {n}",
        role=str(role),
        password_hash=hash_password(password),
        is_active_account=active,
    )
    if enrolled:
        user.totp_secret = pyotp.random_base32()
        user.totp_enrolled_at = now()
    db.session.add(user)
    db.session.flush()
    return user


# --- cases (issue 3) ---------------------------------------------------------------------------


def make_case(
    service: Service | None = None,
    *,
    lead: User | None = None,
    state: str = "referred",
    offence_category: str = "violence_against_the_person",
    source: str = "police",
    received_at=None,
    victim_name: str | None = "Vera Victim",
    offender_name: str | None = "Owen Offender",
    closure_reason: str | None = None,
):
    """A case with a victim and an offender (as named), put straight into ``state`` (no rules run)."""
    from rj_scheduler.cases.services import PartyInput, create_referral

    service = service or (lead.service if lead else make_service())
    parties = []
    if victim_name:
        parties.append(PartyInput(role="victim", full_name=victim_name, mobile="07700 900001"))
    if offender_name:
        parties.append(PartyInput(role="offender", full_name=offender_name))
    case = create_referral(
        service,
        source=source,
        offence_category=offence_category,
        offence_date=None,
        crime_reference="CR/123/26",
        justice_stage="pre_charge",
        received_at=received_at or now(),
        lead_facilitator=lead,
        parties=parties,
        actor=lead,
    )
    if state != "referred":
        case.state = state
        if state == "closed":
            case.closure_reason = closure_reason or "withdrawn"
            case.closed_at = now()
        db.session.flush()
    return case


def make_party(case, role: str = "victim", *, full_name: str | None = None, supports=None, **details):
    """A party added to ``case`` through the service (so the rules run)."""
    from rj_scheduler.cases.services import PartyInput, add_party

    n = next(_counter)
    return add_party(
        case,
        PartyInput(role=role, full_name=full_name or f"Party Person {n}", **details),
        actor=None,
        at=now(),
        supports=supports,
    )


def give_full_consent(party, *, contacted: bool = True) -> None:
    """The party agrees to be contacted, to take part, to SMS and to email (and, by default, was contacted)."""
    from rj_scheduler.cases.services import record_consent, record_first_contact

    at = now()
    for kind in ("contact", "take_part", "sms", "email"):
        record_consent(party, kind, given=True, at=at, method="phone", actor=None)
    if contacted:
        record_first_contact(party, at=at, method="phone", actor=None)


def make_consenting_party(case, role: str = "victim", *, contacted: bool = True, **details):
    """A party who agreed to everything (and, by default, was contacted)."""
    party = make_party(case, role, **details)
    give_full_consent(party, contacted=contacted)
    return party


def make_ready_case(service: Service | None = None, *, lead: User | None = None):
    """A case whose victim and offender were contacted and agreed to take part, put in "ready".

    The state is set directly: other capabilities' readiness checks (assessments) are not run.
    """
    lead = lead or make_user(service)
    case = make_case(lead.service, lead=lead)
    for party in case.parties:
        give_full_consent(party)
    case.state = "ready"
    db.session.flush()
    return case
