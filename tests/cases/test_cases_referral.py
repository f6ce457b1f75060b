"""Taking a referral: references, validation, sensitivity and the first-contact due date."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from factories import make_case, make_service, make_user
from sqlalchemy import func, select

from rj_scheduler.cases.exceptions import ReferralInvalid
from rj_scheduler.cases.models import Case, Party, TimelineEvent
from rj_scheduler.cases.services import PartyInput, create_referral
from rj_scheduler.extensions import db

# Tuesday 3 March 2026, 10:00 in London (GMT).
TUESDAY = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)


def _referral(service, **overrides):
    arguments = {
        "source": "police",
        "offence_category": "burglary",
        "offence_date": dt.date(2026, 2, 20),
        "crime_reference": "CR/1/26",
        "justice_stage": "pre_charge",
        "received_at": TUESDAY,
        "parties": [PartyInput(role="victim", full_name="Vera Victim", mobile="07700 900123")],
    }
    arguments.update(overrides)
    return create_referral(service, **arguments)


@time_machine.travel(TUESDAY, tick=False)
def test_references_are_readable_and_count_up_per_service_and_year():
    service = make_service(code="VX")
    other = make_service(code="WX")
    first, second = _referral(service), _referral(service)
    elsewhere = _referral(other)
    assert (first.reference, second.reference) == ("VX-2026-00001", "VX-2026-00002")
    assert elsewhere.reference == "WX-2026-00001"


@time_machine.travel(TUESDAY, tick=False)
def test_first_contact_is_due_in_five_working_days_for_an_ordinary_case():
    case = _referral(make_service())
    assert case.first_contact_due_on == dt.date(2026, 3, 10)
    assert not case.is_sensitive


@time_machine.travel(dt.datetime(2026, 4, 2, 10, 0, tzinfo=dt.UTC), tick=False)
def test_first_contact_due_date_skips_the_easter_bank_holidays_for_sensitive_cases():
    # Thursday 2 April 2026: Good Friday (3rd) and Easter Monday (6th) are not working days.
    case = _referral(
        make_service(),
        offence_category="domestic_abuse_related",
        received_at=dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC),
    )
    assert case.is_sensitive
    assert case.flag_domestic_abuse
    assert case.first_contact_due_on == dt.date(2026, 4, 7)


@time_machine.travel(TUESDAY, tick=False)
def test_a_party_under_18_makes_the_case_sensitive_and_needs_a_guardian():
    service = make_service()
    child = PartyInput(role="victim", full_name="Kit Young", date_of_birth=dt.date(2012, 5, 1))
    with pytest.raises(ReferralInvalid) as refused:
        _referral(service, parties=[child])
    assert "parties[0].guardian_name" in refused.value.errors
    assert "parties[0].guardian_mobile" in refused.value.errors
    child.guardian_name, child.guardian_mobile = "Pat Young", "07700 900456"
    case = _referral(service, parties=[child])
    assert case.has_party_under_18
    assert case.is_sensitive
    assert case.first_contact_due_on == dt.date(2026, 3, 4)


@time_machine.travel(TUESDAY, tick=False)
def test_an_invalid_referral_lists_every_problem_and_saves_nothing():
    service = make_service()
    before = db.session.scalar(select(func.count(Party.id)))
    with pytest.raises(ReferralInvalid) as refused:
        _referral(
            service,
            source="carrier pigeon",
            offence_category="",
            justice_stage="sentenced to the moon",
            offence_date=dt.date(2027, 1, 1),
            parties=[
                PartyInput(role="victim", full_name="Vera", mobile="07700 900123x", email="not-an-email"),
                PartyInput(role="supporter", full_name="Sue Supporter"),
            ],
        )
    errors = refused.value.errors
    assert {
        "source",
        "offence_category",
        "justice_stage",
        "offence_date",
        "parties[0].mobile",
        "parties[0].email",
        "parties[1].supports",
    } <= set(errors)
    assert "stray" not in errors["parties[0].mobile"]
    assert db.session.scalar(select(func.count(Case.id)).where(Case.service_id == service.id)) == 0
    assert db.session.scalar(select(func.count(Party.id))) == before


@time_machine.travel(TUESDAY, tick=False)
def test_a_referral_needs_at_least_one_person():
    with pytest.raises(ReferralInvalid) as refused:
        _referral(make_service(), parties=[])
    assert refused.value.errors["parties"] == "Add at least one person to the referral"


@time_machine.travel(TUESDAY, tick=False)
def test_self_referral_arrives_referred_and_waiting_for_triage():
    case = _referral(make_service(), source="self_referral")
    assert case.state == "referred"
    assert case.needs_triage


@time_machine.travel(TUESDAY, tick=False)
def test_a_sensitive_case_cannot_be_led_by_an_untrained_facilitator():
    service = make_service()
    untrained = make_user(service)
    with pytest.raises(ReferralInvalid) as refused:
        _referral(service, offence_category="hate_crime", lead_facilitator=untrained)
    assert "trained" in refused.value.errors["lead_facilitator"]


@time_machine.travel(TUESDAY, tick=False)
def test_a_lead_facilitator_of_another_service_is_refused():
    service = make_service()
    outsider = make_user(make_service())
    with pytest.raises(ReferralInvalid) as refused:
        _referral(service, lead_facilitator=outsider)
    assert refused.value.errors["lead_facilitator"] == "Select a member of staff of this service"


@time_machine.travel(TUESDAY, tick=False)
def test_supporter_is_linked_to_the_party_they_support():
    case = _referral(
        make_service(),
        parties=[
            PartyInput(role="victim", full_name="Vera Victim"),
            PartyInput(role="supporter", full_name="Sue Supporter", supports=0),
        ],
    )
    victim, supporter = case.parties
    assert supporter.supports_party_id == victim.id


@time_machine.travel(TUESDAY, tick=False)
def test_referral_is_on_the_timeline_without_contact_details():
    case = make_case(make_service())
    summaries = [
        e.summary for e in db.session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == case.id))
    ]
    assert "Referral received from Police." in summaries
    assert all("7700" not in s for s in summaries)
