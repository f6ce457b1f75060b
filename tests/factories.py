"""Model factories named for states. Data is invented; emails use example.org."""

from __future__ import annotations

import functools
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


@functools.cache
def password_hash_for(password: str) -> str:
    """A real Argon2 hash, computed once per password: hashing costs about a quarter
    of a second by design, and most tests create several users."""
    return hash_password(password)


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
        password_hash=password_hash_for(password),
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


# --- risk: assessments and sign-off (issue 4) ----------------------------------------------------


def low_risk_answers(party_role: str, kind: str) -> dict[str, str]:
    """Every question of the newest questionnaire answered with an answer that raises no risk."""
    from rj_scheduler.risk.questionnaires import default_library

    answers: dict[str, str] = {}
    for question in default_library().newest(party_role, kind).questions:
        allowed = question.allowed_values()
        if allowed is None:
            answers[question.id] = "Nothing of concern."
            continue
        raising = question.risk.raises_when if question.risk else frozenset()
        answers[question.id] = next(v for v in reversed(allowed) if v not in raising)
    return answers


def make_assessment(
    party,
    kind: str = "risk",
    *,
    author: User | None = None,
    answers: dict[str, str] | None = None,
    final_level: str | None = "low",
    rationale: str | None = None,
    suitable: bool | None = True,
    at=None,
):
    """A complete draft assessment (every answer given, final level recorded) written by ``author``."""
    from rj_scheduler.risk import services

    at = at or now()
    author = author or make_user(db.session.get(Service, party.service_id))
    assessment = services.start_assessment(party, kind, actor=author, at=at)
    services.save_answers(
        assessment,
        answers if answers is not None else low_risk_answers(party.role, kind),
        actor=author,
        at=at,
    )
    if final_level is not None:
        if final_level != assessment.indicative_level and rationale is None:
            rationale = "Judged on the facilitator's conversation with them."
        services.record_level(
            assessment,
            final_level=final_level,
            rationale=rationale,
            suitable=suitable if kind == "suitability" else None,
            actor=author,
            at=at,
        )
    return assessment


def make_submitted_assessment(party, kind: str = "risk", *, author: User | None = None, at=None, **options):
    """An assessment submitted for sign-off."""
    from rj_scheduler.risk import services

    at = at or now()
    assessment = make_assessment(party, kind, author=author, at=at, **options)
    services.submit(assessment, actor=assessment.author, at=at)
    return assessment


def make_returned_assessment(party, kind: str = "risk", *, author=None, reviewer=None, at=None, **options):
    """An assessment a supervisor returned with comments."""
    from rj_scheduler.risk import services

    at = at or now()
    assessment = make_submitted_assessment(party, kind, author=author, at=at, **options)
    reviewer = reviewer or make_user(assessment.author.service, Role.SUPERVISOR)
    services.decide(
        assessment,
        "returned",
        actor=reviewer,
        at=at,
        comments="Say more about the relationship between them.",
        seen_content_hash=assessment.content_hash,
        seen_version_number=assessment.version_number,
    )
    return assessment


def make_signed_off_assessment(party, kind: str = "risk", *, author=None, approver=None, at=None, **options):
    """An approved assessment (by a manager unless ``approver`` is given, so it counts even when one is needed)."""
    from rj_scheduler.risk import services

    at = at or now()
    assessment = make_submitted_assessment(party, kind, author=author, at=at, **options)
    approver = approver or make_user(assessment.author.service, Role.MANAGER)
    services.decide(
        assessment,
        "approved",
        actor=approver,
        at=at,
        comments=None,
        seen_content_hash=assessment.content_hash,
        seen_version_number=assessment.version_number,
    )
    return assessment


def sign_off_all_assessments(case, *, author: User | None = None, approver: User | None = None, at=None):
    """Every victim, offender and supporter of ``case`` gets approved suitability and risk assessments."""
    from rj_scheduler.risk.readiness import kinds_for

    author = author or case.lead_facilitator or make_user(db.session.get(Service, case.service_id))
    approver = approver or make_user(author.service, Role.MANAGER)
    for party in list(case.parties):
        for kind in kinds_for(party):
            make_signed_off_assessment(party, kind, author=author, approver=approver, at=at)
