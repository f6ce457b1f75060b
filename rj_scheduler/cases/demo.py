"""Demo cases: a dozen invented cases in every state, across two facilitators.

Idempotent: if the demo service already has cases, nothing is added. Names are
invented, mobiles come from Ofcom's drama range and emails use example.org.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from rj_scheduler.cases import services
from rj_scheduler.cases.models import Case
from rj_scheduler.cases.services import PartyInput
from rj_scheduler.db import now
from rj_scheduler.extensions import db

# (state, offence, source, days ago, victim, offender, lead email, progress)
DEMO_CASES = [
    ("referred", "criminal_damage", "police", 1, "Amira Khan", "Dean Holt", "facilitator2@example.org", None),
    ("referred", "harassment_and_stalking", "self_referral", 0, "Beth Lowe", "Carl Price", None, None),
    ("referred", "theft", "witness_care", 9, "Colin Reid", "Jade Moss", "facilitator2@example.org", None),
    (
        "contacting",
        "violence_against_the_person",
        "police",
        6,
        "Dina Osei",
        "Ryan Cole",
        "facilitator@example.org",
        "contact",
    ),
    (
        "assessing",
        "burglary",
        "cps_victim_liaison_unit",
        14,
        "Ewan Shaw",
        "Liam Ford",
        "facilitator2@example.org",
        "consent",
    ),
    (
        "assessing",
        "domestic_abuse_related",
        "victim_services",
        20,
        "Farah Ali",
        "Mark Dunn",
        "facilitator@example.org",
        "consent",
    ),
    ("ready", "robbery", "probation", 30, "Grace Hill", "Sean Ward", "facilitator@example.org", "ready"),
    (
        "scheduled",
        "public_order",
        "witness_service",
        40,
        "Hugo Bell",
        "Tyler Lane",
        "facilitator2@example.org",
        "ready",
    ),
    (
        "conference_held",
        "criminal_damage",
        "youth_justice",
        60,
        "Iris Chen",
        "Kyle Bond",
        "facilitator2@example.org",
        "ready",
    ),
    ("follow_up", "fraud", "police", 75, "Jon Ellis", "Nina Frost", "facilitator@example.org", "ready"),
    (
        "closed",
        "hate_crime",
        "police",
        50,
        "Kemi Adeyemi",
        "Paul Grant",
        "facilitator@example.org",
        "declined",
    ),
    ("closed", "theft", "prison", 90, "Leo Marsh", "Owen Tate", "facilitator2@example.org", "completed"),
]


def _mobile(n: int) -> str:
    return f"07700 900{n:03d}"


def _move_on(case: Case, state: str, lead, at: dt.datetime) -> None:
    """Put a demo case in a later state directly: assessments and meetings belong to other capabilities."""
    case.state = state
    case.state_changed_at = at
    services.add_timeline_event(
        case, "state_changed", f"Case moved to {state.replace('_', ' ')} (demo data).", actor=lead, at=at
    )


def load_demo(context) -> None:
    """Add the demo cases to the demo service once."""
    service = context.service
    if db.session.scalar(select(func.count(Case.id)).where(Case.service_id == service.id)):
        return
    supervisor = context.users.get("supervisor@example.org")
    at_now = now()
    for n, (state, offence, source, days_ago, victim, offender, lead_email, progress) in enumerate(
        DEMO_CASES
    ):
        lead = context.users.get(lead_email) if lead_email else None
        received = at_now - dt.timedelta(days=days_ago, hours=1)
        case = services.create_referral(
            service,
            source=source,
            offence_category=offence,
            offence_date=(received - dt.timedelta(days=10)).date(),
            crime_reference=f"DEMO/{n + 1:03d}/26",
            justice_stage="community_sentence" if n % 3 else "pre_charge",
            received_at=received,
            lead_facilitator=lead,
            referrer_name=None if source == "self_referral" else "Invented Referrer",
            parties=[
                PartyInput(
                    role="victim",
                    full_name=victim,
                    mobile=_mobile(2 * n + 1),
                    email=f"{victim.split()[0].lower()}@example.org",
                    address=f"{n + 1} Example Street, Leicester",
                    allow_sms=True,
                    allow_email=True,
                ),
                PartyInput(role="offender", full_name=offender, mobile=_mobile(2 * n + 2)),
            ],
            actor=supervisor,
        )
        victim_party, offender_party = case.parties
        contacted_at = received + dt.timedelta(hours=20)
        if progress in {"contact", "consent", "ready", "declined", "completed"}:
            services.record_first_contact(victim_party, at=contacted_at, method="phone", actor=lead)
            services.record_consent(
                victim_party, "contact", given=True, at=contacted_at, method="phone", actor=lead
            )
        if progress in {"consent", "ready", "completed"}:
            for kind in ("take_part", "sms", "email"):
                services.record_consent(
                    victim_party, kind, given=True, at=contacted_at, method="phone", actor=lead
                )
        if progress in {"ready", "completed"}:
            services.record_first_contact(offender_party, at=contacted_at, method="in_person", actor=lead)
            for kind in ("contact", "take_part"):
                services.record_consent(
                    offender_party, kind, given=True, at=contacted_at, method="in_person", actor=lead
                )
            _move_on(case, "ready", lead, contacted_at)
        if progress == "declined":
            services.record_consent(
                victim_party, "take_part", given=False, at=contacted_at, method="phone", actor=lead
            )
            victim_party.reoffer_on = (at_now + dt.timedelta(days=30)).date()
            victim_party.reoffer_justice_stage = "post_release"
            services.change_state(
                case, "closed", actor=lead, at=contacted_at, closure_reason="victim_declined"
            )
        # Later stages belong to later capabilities (meetings, outcomes): the demo moves them on directly.
        path = {"scheduled": 1, "conference_held": 2, "follow_up": 3}.get(state, 0)
        if progress == "completed":
            path = 2
        for later in ("scheduled", "conference_held", "follow_up")[:path]:
            _move_on(case, later, lead, at_now)
        if progress == "completed":
            services.change_state(case, "closed", actor=lead, at=at_now, closure_reason="completed")
    db.session.flush()
    context.notes.append(f"Cases: {len(DEMO_CASES)} demo cases in every state.")
