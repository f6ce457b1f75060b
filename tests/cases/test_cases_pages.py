"""The cases pages in a test client: forms, refusals, separation, audit and cross-service 404s."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from factories import give_full_consent, make_case, make_party, make_service, make_user
from flask import g
from sqlalchemy import func, select

from rj_scheduler.auth.models import Role
from rj_scheduler.cases.models import Case, ConsentRecord, Party
from rj_scheduler.db import now
from rj_scheduler.extensions import db


@pytest.fixture
def team():
    service = make_service()
    lead = make_user(service, full_name="Priya Lead")
    lead.trained_for_sensitive_cases = True
    supervisor = make_user(service, Role.SUPERVISOR, full_name="Sam Boss")
    db.session.flush()
    return service, lead, supervisor


def _case_urls(case, party):
    ref, pid = case.reference, party.public_id
    return [
        f"/cases/{ref}",
        f"/cases/{ref}/state",
        f"/cases/{ref}/parties/new",
        f"/cases/{ref}/parties/{pid}",
        f"/cases/{ref}/parties/{pid}/edit",
        f"/cases/{ref}/parties/{pid}/contact-preferences",
        f"/cases/{ref}/parties/{pid}/consent",
        f"/cases/{ref}/parties/{pid}/first-contact",
        f"/cases/{ref}/parties/{pid}/reoffer",
        f"/cases/{ref}/parties/{pid}/equality",
    ]


def test_every_case_page_opens_for_staff_of_the_service(team, signed_in):
    service, lead, _ = team
    case = make_case(service, lead=lead)
    client = signed_in(lead)
    for url in [*_case_urls(case, case.parties[0]), "/cases", "/cases/new", "/dashboard"]:
        response = client.get(url)
        assert response.status_code == 200, url


def test_another_services_cases_and_parties_answer_404(team, signed_in):
    service, lead, _supervisor = team
    case = make_case(service, lead=lead)
    outsider = make_user(make_service(), Role.MANAGER)
    client = signed_in(outsider)
    for url in [
        *_case_urls(case, case.parties[0]),
        f"/cases/{case.reference}/reassign",
        f"/cases/{case.reference}/triage",
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, data={}).status_code in (404, 405), url


def test_a_party_of_another_case_is_not_found_through_this_case(team, signed_in):
    service, lead, _ = team
    case, other = make_case(service, lead=lead), make_case(service, lead=lead)
    response = signed_in(lead).get(f"/cases/{case.reference}/parties/{other.parties[0].public_id}")
    assert response.status_code == 404


def test_taking_a_referral_in_the_form_creates_the_case_and_its_parties(team, signed_in):
    service, lead, _ = team
    today = now().astimezone(dt.UTC).date()
    response = signed_in(lead).post(
        "/cases/new",
        data={
            "received_on": [str(today.day), str(today.month), str(today.year)],
            "source": "witness_care",
            "offence_category": "public_order",
            "justice_stage": "awaiting_trial",
            "victim_name": "Vera Victim",
            "offender_name": "Owen Offender",
            "lead_facilitator": lead.public_id,
        },
    )
    assert response.status_code == 302
    case = db.session.scalar(select(Case).where(Case.service_id == service.id))
    assert response.headers["Location"].endswith(f"/cases/{case.reference}")
    assert sorted(p.role for p in case.parties) == ["offender", "victim"]


def test_a_referral_with_errors_says_so_per_field_and_saves_nothing(team, signed_in):
    service, lead, _ = team
    response = signed_in(lead).post(
        "/cases/new",
        data={
            "received_on": ["31", "2", "2026"],
            "source": "",
            "offence_category": "theft",
            "justice_stage": "custody",
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "Date the referral was received must be a real date" in page
    assert "Select who referred the case" in page
    assert db.session.scalar(select(func.count(Case.id)).where(Case.service_id == service.id)) == 0


def test_an_invalid_mobile_says_so_and_keeps_what_was_typed(team, signed_in):
    service, lead, _ = team
    case = make_case(service, lead=lead)
    before = db.session.scalar(select(func.count(Party.id)))
    response = signed_in(lead).post(
        f"/cases/{case.reference}/parties/new",
        data={"role": "supporter", "full_name": "Sue Supporter", "mobile": "07700 900123x", "language": "en"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter a mobile phone number using only numbers" in page
    assert 'value="07700 900123x"' in page
    assert "Select the person they support" in page
    assert db.session.scalar(select(func.count(Party.id))) == before


def test_a_party_page_shows_only_that_partys_contact_details(team, signed_in):
    service, lead, _ = team
    case = make_case(service, lead=lead, victim_name=None)
    victim = make_party(
        case,
        "victim",
        full_name="Vera Victim",
        mobile="07700 900111",
        email="vera@example.org",
        address="1 Victim Road",
    )
    offender = make_party(
        case,
        "offender",
        full_name="Owen Offender",
        mobile="07700 900222",
        email="owen@example.org",
        address="2 Offender Street",
    )
    client = signed_in(lead)
    victim_page = client.get(f"/cases/{case.reference}/parties/{victim.public_id}").get_data(as_text=True)
    assert "07700 900111" in victim_page
    assert "vera@example.org" in victim_page
    for other in ("07700 900222", "owen@example.org", "Offender Street", "Owen Offender"):
        assert other not in victim_page
    case_page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    for detail in ("07700 900111", "07700 900222", "vera@example.org", "owen@example.org", "Victim Road"):
        assert detail not in case_page
    assert offender.public_id in case_page


def test_recording_consent_in_the_form_is_derived_on_the_case_page(team, signed_in):
    service, lead, _ = team
    case = make_case(service, lead=lead)
    victim = case.parties[0]
    today = now().date()
    client = signed_in(lead)
    response = client.post(
        f"/cases/{case.reference}/parties/{victim.public_id}/consent",
        data={
            "kind": "take_part",
            "decision": "given",
            "decided_on": [str(today.day), str(today.month), str(today.year)],
            "method": "phone",
        },
    )
    assert response.status_code == 302
    record = db.session.scalar(select(ConsentRecord).where(ConsentRecord.party_id == victim.id))
    assert (record.kind, record.given, record.recorded_by_id) == ("take_part", True, lead.id)
    assert "gave consent to take part in restorative justice" in client.get(
        f"/cases/{case.reference}"
    ).get_data(as_text=True)


def test_a_refused_transition_is_shown_with_its_reason(team, signed_in):
    service, lead, _ = team
    case = make_case(service, lead=lead)
    response = signed_in(lead).post(
        f"/cases/{case.reference}/state", data={"target": "closed", "closure_reason": "completed"}
    )
    assert response.status_code == 400
    assert "A case can only close as completed after a conference has been held." in response.get_data(
        as_text=True
    )
    assert case.state == "referred"


def test_notes_are_plain_text_and_escaped(team, signed_in):
    service, lead, _ = team
    case = make_case(service, lead=lead)
    client = signed_in(lead)
    assert (
        client.post(f"/cases/{case.reference}/notes", data={"text": "<script>alert(1)</script>"}).status_code
        == 302
    )
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_only_supervisors_reassign_and_a_sensitive_case_needs_a_trained_facilitator(team, signed_in):
    service, lead, supervisor = team
    untrained = make_user(service, full_name="Una Trained")
    case = make_case(service, lead=lead, offence_category="hate_crime")
    assert signed_in(lead).get(f"/cases/{case.reference}/reassign").status_code == 403
    client = signed_in(supervisor)
    refused = client.post(f"/cases/{case.reference}/reassign", data={"lead_facilitator": untrained.public_id})
    assert refused.status_code == 400
    assert "trained for sensitive cases" in refused.get_data(as_text=True)
    supervisor.trained_for_sensitive_cases = True
    ok = client.post(f"/cases/{case.reference}/reassign", data={"lead_facilitator": supervisor.public_id})
    assert ok.status_code == 302
    assert case.lead_facilitator_id == supervisor.id


def test_opening_a_case_and_a_party_is_audited_without_contact_details(team, signed_in, app):
    service, lead, _ = team
    case = make_case(service, lead=lead)
    victim = case.parties[0]
    recorded = []
    with app.test_request_context():
        pass
    client = signed_in(lead)
    from rj_scheduler.audit.models import AuditEntry

    client.get(f"/cases/{case.reference}")
    client.get(f"/cases/{case.reference}/parties/{victim.public_id}")
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.service_id == service.id, AuditEntry.action.in_(["case.viewed", "party.viewed"])
        )
    ).all()
    recorded = {(e.action, e.object_id) for e in entries}
    assert ("case.viewed", case.reference) in recorded
    assert ("party.viewed", victim.public_id) in recorded
    assert all("7700" not in (e.details or "") for e in entries)
    assert g is not None


def test_self_referral_triage_is_for_supervisors(team, signed_in):
    service, lead, supervisor = team
    case = make_case(service, lead=lead, source="self_referral")
    assert signed_in(lead).post(f"/cases/{case.reference}/triage").status_code == 403
    assert signed_in(supervisor).post(f"/cases/{case.reference}/triage").status_code == 302
    assert not case.needs_triage


def test_team_list_filters_and_searches_within_the_service(team, signed_in):
    service, lead, supervisor = team
    mine = make_case(service, lead=lead, victim_name="Zelda Unique")
    other = make_case(service, lead=supervisor)
    elsewhere = make_case(make_service(), victim_name="Zelda Unique")
    client = signed_in(supervisor)
    page = client.get("/cases?q=zelda").get_data(as_text=True)
    assert mine.reference in page
    assert other.reference not in page
    assert elsewhere.reference not in page
    page = client.get(f"/cases?q={other.reference}").get_data(as_text=True)
    assert other.reference in page
    assert mine.reference not in page
    page = client.get(f"/cases?facilitator={lead.public_id}").get_data(as_text=True)
    assert mine.reference in page
    assert other.reference not in page
    give_full_consent(mine.parties[0])
    page = client.get("/cases?state=assessing").get_data(as_text=True)
    assert re.search(rf">{mine.reference}<", page)
    assert other.reference not in page


def test_changing_a_partys_details_keeps_their_role_and_validates_the_email(team, signed_in):
    service, lead, _ = team
    case = make_case(service, lead=lead)
    victim = case.parties[0]
    client = signed_in(lead)
    url = f"/cases/{case.reference}/parties/{victim.public_id}/edit"
    refused = client.post(url, data={"full_name": "Vera Victim", "email": "vera@", "language": "en"})
    assert refused.status_code == 400
    assert "Enter an email address in the correct format" in refused.get_data(as_text=True)
    ok = client.post(
        url,
        data={
            "full_name": "Vera Victim",
            "email": "vera@example.org",
            "mobile": "+44 7700 900555",
            "language": "cy",
        },
    )
    assert ok.status_code == 302
    assert (victim.role, victim.email, victim.mobile_e164, victim.language) == (
        "victim",
        "vera@example.org",
        "+447700900555",
        "cy",
    )
