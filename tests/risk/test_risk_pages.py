"""The assessment pages in a test client: drafts saved page by page, refusals as 400s, sign-off, audit."""

from __future__ import annotations

import re

import pytest
from factories import (
    give_full_consent,
    low_risk_answers,
    make_assessment,
    make_case,
    make_service,
    make_signed_off_assessment,
    make_submitted_assessment,
    make_user,
)
from sqlalchemy import select

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.auth.models import Role
from rj_scheduler.extensions import db
from rj_scheduler.risk.models import Assessment, AssessmentNotice, RiskSettings
from rj_scheduler.risk.questionnaires import default_library


@pytest.fixture
def team():
    service = make_service()
    facilitator = make_user(service, Role.FACILITATOR, full_name="Priya Lead")
    facilitator.trained_for_sensitive_cases = True
    return {
        "service": service,
        "facilitator": facilitator,
        "supervisor": make_user(service, Role.SUPERVISOR, full_name="Sam Boss"),
        "manager": make_user(service, Role.MANAGER, full_name="Morgan Boss"),
    }


def _case(team, **options):
    case = make_case(team["service"], lead=team["facilitator"], **options)
    for party in case.parties:
        give_full_consent(party)
    return case


def _victim(case):
    return next(p for p in case.parties if p.role == "victim")


def _text(response) -> str:
    raw = response.get_data(as_text=True)
    assert not re.search(r"&lt;(h2|p|a|strong)[ >]", raw), "markup was escaped into the page as text"
    return re.sub(r"\s+", " ", raw)


def test_a_facilitator_completes_an_assessment_page_by_page_and_submits_it(team, signed_in):
    case = _case(team)
    victim = _victim(case)
    client = signed_in(team["facilitator"])
    base = f"/cases/{case.reference}/parties/{victim.public_id}/assessments"

    page = client.get(base)
    assert page.status_code == 200
    assert "Risk assessment" in _text(page)
    started = client.post(base, data={"kind": "risk"})
    assert started.status_code == 302
    assessment = db.session.scalar(select(Assessment).where(Assessment.party_id == victim.id))
    assert started.headers["Location"].endswith(f"/assessments/{assessment.public_id}/questions/relationship")

    questionnaire = default_library().newest("victim", "risk")
    answers = low_risk_answers("victim", "risk")
    for index, qpage in enumerate(questionnaire.pages):
        url = f"/assessments/{assessment.public_id}/questions/{qpage.id}"
        shown = client.get(url)
        assert shown.status_code == 200
        for question in qpage.questions:
            assert question.text in _text(shown)
        saved = client.post(url, data={f"q_{q.id}": answers[q.id] for q in qpage.questions})
        assert saved.status_code == 302
        expected = (
            f"/questions/{questionnaire.pages[index + 1].id}"
            if index + 1 < len(questionnaire.pages)
            else "/level"
        )
        assert saved.headers["Location"].endswith(expected)
    db.session.refresh(assessment)
    assert assessment.answers == answers

    assert (
        client.post(f"/assessments/{assessment.public_id}/level", data={"final_level": "low"}).status_code
        == 302
    )
    added = client.post(
        f"/assessments/{assessment.public_id}/mitigations",
        data={
            "description": "Separate waiting rooms",
            "owner": "Lead facilitator",
            "before_conference": "yes",
        },
    )
    assert added.status_code == 302
    check = client.get(f"/assessments/{assessment.public_id}/submit")
    assert "Still to do" not in _text(check)
    submitted = client.post(f"/assessments/{assessment.public_id}/submit")
    assert submitted.status_code == 302
    db.session.refresh(assessment)
    assert assessment.status == "submitted"
    assert [m.description for m in assessment.mitigations] == ["Separate waiting rooms"]


def test_an_answer_the_question_does_not_accept_is_refused_and_nothing_is_saved(team, signed_in):
    assessment = make_assessment(_victim(_case(team)), "risk", author=team["facilitator"], final_level=None)
    before = assessment.answers
    client = signed_in(team["facilitator"])
    response = client.post(
        f"/assessments/{assessment.public_id}/questions/relationship",
        data={"q_relationship": "enemies", "q_power_imbalance": "no"},
    )
    assert response.status_code == 400
    assert "Not a valid choice" in _text(response) or "Select an answer" in _text(response)
    db.session.refresh(assessment)
    assert assessment.answers == before


def test_a_level_that_differs_from_the_indicative_one_needs_a_rationale_shown_next_to_the_field(
    team, signed_in
):
    assessment = make_assessment(_victim(_case(team)), "risk", author=team["facilitator"], final_level=None)
    client = signed_in(team["facilitator"])
    response = client.post(f"/assessments/{assessment.public_id}/level", data={"final_level": "high"})
    assert response.status_code == 400
    html = _text(response)
    assert "The indicative level from the answers is" in html
    assert "Explain why the final level is high, not the indicative level of low" in html
    assert 'id="rationale-error"' in html
    db.session.refresh(assessment)
    assert assessment.final_level is None


def test_submitting_with_answers_missing_lists_each_one(team, signed_in):
    answers = low_risk_answers("victim", "risk")
    del answers["power_imbalance"], answers["risk_to_staff"]
    assessment = make_assessment(
        _victim(_case(team)), "risk", author=team["facilitator"], answers=answers, final_level=None
    )
    client = signed_in(team["facilitator"])
    response = client.post(f"/assessments/{assessment.public_id}/submit")
    assert response.status_code == 400
    html = _text(response)
    assert "You cannot submit yet" in html
    for message in (
        "Answer “Is there a power imbalance between them and the other party?”",
        "Answer “Is there any known risk to staff meeting them?”",
        "Record the final risk level",
    ):
        assert message in html
    assert f"/assessments/{assessment.public_id}/questions/relationship#q_power_imbalance" in html
    db.session.refresh(assessment)
    assert assessment.status == "draft"


def test_the_queue_shows_highest_risk_then_longest_waiting_and_managers_see_their_own_list(team, signed_in):
    import datetime as dt

    from rj_scheduler.db import now

    early = now() - dt.timedelta(days=3)
    low_old = make_submitted_assessment(_victim(_case(team)), "risk", author=team["facilitator"], at=early)
    high_new = make_submitted_assessment(
        _victim(_case(team)), "risk", author=team["facilitator"], final_level="high", rationale="Threats."
    )
    low_new = make_submitted_assessment(_victim(_case(team)), "risk", author=team["facilitator"])
    supervisor_page = _text(signed_in(team["supervisor"]).get("/sign-off"))
    refs = [a.case.reference for a in (high_new, low_old, low_new)]
    positions = [supervisor_page.index(ref) for ref in refs]
    assert positions == sorted(positions)
    assert "3 days" in supervisor_page
    assert "Waiting for a manager" not in supervisor_page

    from rj_scheduler.risk import services

    services.decide(
        high_new,
        "approved",
        actor=team["supervisor"],
        at=now(),
        comments=None,
        seen_content_hash=high_new.content_hash,
        seen_version_number=1,
    )
    manager_page = _text(signed_in(team["manager"]).get("/sign-off"))
    assert "Waiting for a manager" in manager_page
    assert high_new.case.reference in manager_page


def test_facilitators_cannot_open_the_sign_off_pages_or_settings(team, signed_in):
    assessment = make_submitted_assessment(_victim(_case(team)), "risk", author=team["supervisor"])
    client = signed_in(team["facilitator"])
    assert client.get("/sign-off").status_code == 403
    assert client.get(f"/assessments/{assessment.public_id}/review").status_code == 403
    assert client.get("/risk-settings").status_code == 403
    assert signed_in(team["supervisor"]).get("/risk-settings").status_code == 403


def test_the_author_is_refused_on_the_review_page_even_as_a_manager(team, signed_in):
    assessment = make_submitted_assessment(_victim(_case(team)), "risk", author=team["manager"])
    client = signed_in(team["manager"])
    page = client.get(f"/assessments/{assessment.public_id}/review")
    assert "you cannot sign it off" in _text(page)
    response = client.post(
        f"/assessments/{assessment.public_id}/review",
        data={"decision": "approved", "content_hash": assessment.content_hash, "version_number": "1"},
    )
    assert response.status_code == 400
    assert "You wrote this assessment" in _text(response)
    db.session.refresh(assessment)
    assert (assessment.status, assessment.sign_offs) == ("submitted", [])


def test_a_stale_review_form_is_refused_with_the_reason(team, signed_in):
    assessment = make_submitted_assessment(_victim(_case(team)), "risk", author=team["facilitator"])
    response = signed_in(team["supervisor"]).post(
        f"/assessments/{assessment.public_id}/review",
        data={"decision": "approved", "content_hash": "f" * 64, "version_number": "1"},
    )
    assert response.status_code == 400
    assert "The assessment changed after you opened it" in _text(response)
    db.session.refresh(assessment)
    assert assessment.status == "submitted"


def test_the_review_shows_the_other_parties_assessments_the_sensitive_flags_and_history(team, signed_in):
    case = _case(team, offence_category="domestic_abuse_related")
    victim = _victim(case)
    offender = next(p for p in case.parties if p.role == "offender")
    make_signed_off_assessment(offender, "risk", author=team["facilitator"])
    assessment = make_submitted_assessment(victim, "risk", author=team["facilitator"])
    html = _text(signed_in(team["supervisor"]).get(f"/assessments/{assessment.public_id}/review"))
    assert "Owen Offender (offender): risk assessment" in html
    assert "Could they use the meeting to control or intimidate the other party?" in html
    assert "Yes: domestic abuse. A manager must approve." in html
    assert "Case history" in html
    assert "submitted for sign-off" in html


def test_returning_tells_the_author_who_sees_the_comments(team, signed_in):
    assessment = make_submitted_assessment(_victim(_case(team)), "risk", author=team["facilitator"])
    response = signed_in(team["supervisor"]).post(
        f"/assessments/{assessment.public_id}/review",
        data={
            "decision": "returned",
            "comments": "Ask about the bail conditions.",
            "content_hash": assessment.content_hash,
            "version_number": "1",
        },
    )
    assert response.status_code == 302
    author = signed_in(team["facilitator"])
    page = _text(author.get(f"/assessments/{assessment.public_id}"))
    assert "Ask about the bail conditions." in page
    assert "Returned by Sam Boss" in page
    notice = db.session.scalar(
        select(AssessmentNotice).where(AssessmentNotice.assessment_id == assessment.id)
    )
    assert notice.read_at is not None  # opening the assessment read the notice


def test_approving_and_changing_an_approved_assessment_through_the_pages(team, signed_in):
    assessment = make_submitted_assessment(_victim(_case(team)), "risk", author=team["facilitator"])
    approved = signed_in(team["supervisor"]).post(
        f"/assessments/{assessment.public_id}/review",
        data={"decision": "approved", "content_hash": assessment.content_hash, "version_number": "1"},
    )
    assert approved.status_code == 302
    client = signed_in(team["facilitator"])
    locked = client.get(f"/assessments/{assessment.public_id}/questions/safety")
    assert locked.status_code == 302
    changed = client.post(f"/assessments/{assessment.public_id}/new-version")
    assert changed.status_code == 302
    db.session.refresh(assessment)
    assert assessment.status == "superseded"
    new = db.session.scalar(select(Assessment).where(Assessment.previous_id == assessment.id))
    assert new.status == "draft"
    history = _text(client.get(f"/assessments/{new.public_id}"))
    assert "Sign-off history" in history
    assert "Approved" in history


def test_the_printable_summary_and_every_view_are_audited(team, signed_in):
    assessment = make_signed_off_assessment(_victim(_case(team)), "risk", author=team["facilitator"])
    client = signed_in(team["facilitator"])
    printed = client.get(f"/assessments/{assessment.public_id}/print")
    assert printed.status_code == 200
    assert "Printed" in _text(printed)
    assert 'class="govuk-body rj-no-print"' in printed.get_data(as_text=True)
    client.get(f"/assessments/{assessment.public_id}")
    actions = set(
        db.session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.object_type == "assessment", AuditEntry.object_id == assessment.public_id
            )
        )
    )
    assert {"assessment.printed", "assessment.viewed"} <= actions


def test_a_manager_sets_how_long_a_sign_off_stays_valid(team, signed_in):
    client = signed_in(team["manager"])
    assert 'value="90"' in client.get("/risk-settings").get_data(as_text=True)
    refused = client.post("/risk-settings", data={"approval_valid_days": "0"})
    assert refused.status_code == 400
    assert "Enter a number of days from 1 to 730" in _text(refused)
    assert client.post("/risk-settings", data={"approval_valid_days": "60"}).status_code == 302
    settings = db.session.scalar(select(RiskSettings).where(RiskSettings.service_id == team["service"].id))
    assert settings.approval_valid_days == 60


def test_the_case_page_checklist_shows_the_assessments(team, signed_in):
    case = _case(team)
    html = _text(signed_in(team["facilitator"]).get(f"/cases/{case.reference}"))
    assert "Vera Victim (victim) has no suitability assessment yet." in html


def test_the_party_panel_links_to_the_assessments(team, signed_in):
    case = _case(team)
    victim = _victim(case)
    make_submitted_assessment(victim, "risk", author=team["facilitator"])
    html = _text(signed_in(team["facilitator"]).get(f"/cases/{case.reference}/parties/{victim.public_id}"))
    assert "Risk assessment: Waiting for sign-off" in re.sub(r"<[^>]+>", "", html)
    assert f"/cases/{case.reference}/parties/{victim.public_id}/assessments" in html


def test_the_author_is_told_on_their_dashboard_when_an_assessment_is_returned(team, signed_in):
    assessment = make_submitted_assessment(_victim(_case(team)), "risk", author=team["facilitator"])
    signed_in(team["supervisor"]).post(
        f"/assessments/{assessment.public_id}/review",
        data={
            "decision": "returned",
            "comments": "Check the bail conditions.",
            "content_hash": assessment.content_hash,
            "version_number": "1",
        },
    )
    html = _text(signed_in(team["facilitator"]).get("/dashboard"))
    assert "Your risk assessment of Vera Victim was returned with comments." in html
    assert f"/assessments/{assessment.public_id}" in html
    assert "returned with comments" not in _text(signed_in(team["manager"]).get("/dashboard"))


def test_supervisors_find_the_sign_off_queue_and_managers_the_risk_settings_in_the_menu(team, signed_in):
    facilitator_menu = _text(signed_in(team["facilitator"]).get("/dashboard"))
    supervisor_menu = _text(signed_in(team["supervisor"]).get("/dashboard"))
    manager_menu = _text(signed_in(team["manager"]).get("/dashboard"))
    assert 'href="/sign-off"' not in facilitator_menu
    assert 'href="/sign-off"' in supervisor_menu
    assert 'href="/risk-settings"' not in supervisor_menu
    assert 'href="/risk-settings"' in manager_menu
