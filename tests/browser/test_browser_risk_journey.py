"""Assessments and sign-off in a real browser, on a sensitive case.

A facilitator completes the suitability and risk assessments of a victim and
an offender (a submission with an answer missing is refused first); a
supervisor returns one with comments and approves the others, which then wait
for a manager; the facilitator fixes and resubmits; the supervisor and a
manager approve; the mitigations are marked done and the readiness checklist
turns green. Changing an approved assessment turns it red again. Every page
is checked with axe-core (see browsing.py).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from rj_scheduler.auth.models import Role
from rj_scheduler.extensions import db
from rj_scheduler.risk.questionnaires import default_library
from rj_scheduler.unit_of_work import commit_unit_of_work
from tests.browser.browsing import PASSWORD, LiveServer, sign_in, submit, visit


@dataclass(frozen=True)
class Team:
    facilitator: tuple[str, str]
    supervisor: tuple[str, str]
    manager: tuple[str, str]
    case_ref: str
    victim: str
    offender: str


def _set_up(live_server: LiveServer) -> Team:
    """A service with a trained facilitator, a supervisor and a manager, and a domestic abuse case
    whose victim and offender agreed to take part."""
    from tests.factories import give_full_consent, make_case, make_service, make_user

    with live_server.app.app_context():
        tag = uuid.uuid4().hex[:8]
        service = make_service(name=f"Risk area {tag}", code=f"R{tag[:6]}")
        users = {}
        for role in (Role.FACILITATOR, Role.SUPERVISOR, Role.MANAGER):
            user = make_user(service, role, email=f"risk-{role.value}-{tag}@example.org", password=PASSWORD)
            user.trained_for_sensitive_cases = True
            users[role] = (user.email, user.totp_secret)
        lead = make_user(service, Role.FACILITATOR, email=f"risk-lead-{tag}@example.org", password=PASSWORD)
        lead.trained_for_sensitive_cases = True
        case = make_case(service, lead=lead, offence_category="domestic_abuse_related")
        for party in case.parties:
            give_full_consent(party)
        team = Team(
            facilitator=users[Role.FACILITATOR],
            supervisor=users[Role.SUPERVISOR],
            manager=users[Role.MANAGER],
            case_ref=case.reference,
            victim=case.parties[0].public_id,
            offender=case.parties[1].public_id,
        )
        commit_unit_of_work()
        db.session.remove()
    return team


def _sign_in(page: Page, live_server: LiveServer, who: tuple[str, str]) -> None:
    sign_in(page, live_server.url, *who)


def _answer_pages(page: Page, role: str, kind: str, skip: frozenset[str] = frozenset()) -> None:
    """Answer every page of the questionnaire with answers that raise no risk, then "Save and continue"."""
    for qpage in default_library().newest(role, kind).pages:
        expect(page.get_by_role("heading", level=1)).to_have_text(qpage.title)
        for question in qpage.questions:
            if question.id in skip:
                continue
            allowed = question.allowed_values()
            if allowed is None:
                page.locator(f'textarea[name="q_{question.id}"]').fill(
                    "Talked it through; nothing of concern."
                )
            else:
                raising = question.risk.raises_when if question.risk else frozenset()
                value = next(v for v in reversed(allowed) if v not in raising)
                page.locator(f'input[name="q_{question.id}"][value="{value}"]').check()
        submit(page, page.get_by_role("button", name="Save and continue").click)


def _complete(page: Page, live_server: LiveServer, team: Team, who: str, role: str, kind: str) -> None:
    """Start an assessment from the party panel, answer it, record the level and a mitigation, submit it."""
    party_id = team.victim if role == "victim" else team.offender
    visit(page, f"{live_server.url}/cases/{team.case_ref}/parties/{party_id}")
    submit(page, page.get_by_role("link", name=f"Start or continue the assessments of {who}").click)
    label = "suitability assessment" if kind == "suitability" else "risk assessment"
    submit(page, page.get_by_role("button", name=f"Start the {label}").click)
    _answer_pages(page, role, kind)
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk level")
    page.locator('input[name="final_level"][value="low"]').check()
    if kind == "suitability":
        page.locator('input[name="suitable"][value="yes"]').check()
    submit(page, page.get_by_role("button", name="Save and continue").click)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mitigations")
    if kind == "risk":
        page.get_by_label("What will be done").fill(f"Separate waiting room for {who}")
        page.get_by_label("Who will make sure it happens").fill("Lead facilitator")
        page.locator('input[name="before_conference"][value="yes"]').check()
        submit(page, page.get_by_role("button", name="Add mitigation").click)
        expect(page.get_by_text("Mitigation added.")).to_be_visible()
    submit(page, page.get_by_role("link", name="Continue to check and submit").click)
    submit(page, page.get_by_role("button", name="Submit for sign-off").click)
    expect(page.get_by_text("Submitted for sign-off.")).to_be_visible()


def _review(page: Page, live_server: LiveServer, link_name: str, decision: str, comments: str = "") -> None:
    visit(page, f"{live_server.url}/sign-off")
    submit(page, page.get_by_role("link", name=link_name).first.click)
    expect(page.get_by_role("heading", name="The other assessments in this case")).to_be_visible()
    expect(page.get_by_text("Yes: domestic abuse. A manager must approve.")).to_be_visible()
    page.get_by_label("Approve" if decision == "approved" else "Return to the author with comments").check()
    if comments:
        page.get_by_label("Comments", exact=True).fill(comments)
    submit(page, page.get_by_role("button", name="Record decision").click)


def test_assessments_are_completed_returned_fixed_and_approved_until_the_case_is_ready(
    page, new_page, live_server
):
    team = _set_up(live_server)
    case_url = f"{live_server.url}/cases/{team.case_ref}"
    _sign_in(page, live_server, team.facilitator)

    # The victim's suitability assessment, first submitted with an answer missing.
    visit(page, f"{live_server.url}/cases/{team.case_ref}/parties/{team.victim}")
    submit(page, page.get_by_role("link", name="Start or continue the assessments of Vera Victim").click)
    submit(page, page.get_by_role("button", name="Start the suitability assessment").click)
    _answer_pages(page, "victim", "suitability", skip=frozenset({"what_they_want"}))
    page.locator('input[name="final_level"][value="low"]').check()
    page.locator('input[name="suitable"][value="yes"]').check()
    submit(page, page.get_by_role("button", name="Save and continue").click)
    submit(page, page.get_by_role("link", name="Continue to check and submit").click)
    response = submit(page, page.get_by_role("button", name="Submit for sign-off").click)
    assert response.status == 400
    missing = page.get_by_role("link", name="Answer “What do they want from restorative justice?”")
    expect(missing.first).to_be_visible()
    submit(page, missing.first.click)
    page.locator('textarea[name="q_what_they_want"]').fill("To ask him why, and to be heard.")
    submit(page, page.get_by_role("button", name="Save and continue").click)
    visit(page, page.url.rsplit("/questions/", 1)[0] + "/submit")
    submit(page, page.get_by_role("button", name="Submit for sign-off").click)
    expect(page.get_by_text("Submitted for sign-off.")).to_be_visible()

    _complete(page, live_server, team, "Vera Victim", "victim", "risk")
    _complete(page, live_server, team, "Owen Offender", "offender", "suitability")
    _complete(page, live_server, team, "Owen Offender", "offender", "risk")

    # The supervisor returns the victim's risk assessment and approves the other three.
    supervisor = new_page(live_server.url)
    _sign_in(supervisor, live_server, team.supervisor)
    _review(
        supervisor,
        live_server,
        "Risk assessment of Vera Victim",
        "returned",
        "Ask about the bail conditions.",
    )
    expect(supervisor.get_by_text("Returned to the author with your comments.")).to_be_visible()
    for link in (
        "Suitability assessment of Vera Victim",
        "Suitability assessment of Owen Offender",
        "Risk assessment of Owen Offender",
    ):
        _review(supervisor, live_server, link, "approved")
        expect(supervisor.get_by_text("It now needs a manager's approval")).to_be_visible()

    # The facilitator is told, reads the comments, fixes the assessment and resubmits it.
    visit(page, f"{live_server.url}/dashboard")
    expect(
        page.get_by_text("Your risk assessment of Vera Victim was returned with comments.")
    ).to_be_visible()
    submit(page, page.get_by_role("link", name="open the assessment").first.click)
    expect(page.locator(".govuk-inset-text")).to_contain_text("Ask about the bail conditions.")
    submit(page, page.get_by_role("link", name="Continue the assessment").click)
    submit(page, page.get_by_role("button", name="Save and continue").click)
    page.locator('textarea[name="q_safety_notes"]').fill("Bail conditions end next month; police informed.")
    submit(page, page.get_by_role("button", name="Save and continue").click)
    submit(page, page.get_by_role("button", name="Save and continue").click)
    submit(page, page.get_by_role("link", name="Continue to check and submit").click)
    submit(page, page.get_by_role("button", name="Submit for sign-off").click)
    expect(page.get_by_text("Submitted for sign-off.")).to_be_visible()
    _review(supervisor, live_server, "Risk assessment of Vera Victim", "approved")

    # A sensitive case: the manager's approval completes each sign-off.
    visit(page, case_url)
    expect(page.get_by_text("is waiting for a manager's approval").first).to_be_visible()
    manager = new_page(live_server.url)
    _sign_in(manager, live_server, team.manager)
    for link in (
        "Suitability assessment of Vera Victim",
        "Risk assessment of Vera Victim",
        "Suitability assessment of Owen Offender",
        "Risk assessment of Owen Offender",
    ):
        _review(manager, live_server, link, "approved")
        expect(manager.get_by_text("Approved. The author has been told.")).to_be_visible()

    # The mitigations planned for before the conference are done: the checklist turns green.
    visit(page, case_url)
    expect(page.get_by_text("must be done before the conference").first).to_be_visible()
    for who, party_id in (("Vera Victim", team.victim), ("Owen Offender", team.offender)):
        visit(page, f"{live_server.url}/cases/{team.case_ref}/parties/{party_id}/assessments")
        submit(page, page.get_by_role("link", name="Open the risk assessment").click)
        submit(
            page,
            page.get_by_role("button", name=re.compile(f"Mark done.*Separate waiting room for {who}")).click,
        )
        expect(page.get_by_text("Mitigation marked done.")).to_be_visible()
    visit(page, case_url)
    checklist = page.locator("h2:has-text('Readiness') + ul")
    expect(checklist.get_by_text("To do")).to_have_count(0)
    expect(checklist).to_contain_text("The risk assessment of Vera Victim (victim) is signed off and current")

    # Changing an approved assessment turns readiness red again.
    visit(page, f"{live_server.url}/cases/{team.case_ref}/parties/{team.offender}/assessments")
    submit(page, page.get_by_role("link", name="Open the risk assessment").click)
    submit(page, page.get_by_role("button", name="Change this assessment (needs sign-off again)").click)
    expect(page.get_by_text("The previous approval no longer counts")).to_be_visible()
    visit(page, case_url)
    expect(checklist).to_contain_text(
        "The risk assessment of Owen Offender (offender) is not signed off: it is draft."
    )

    # The printable summary for the case file.
    visit(page, f"{live_server.url}/cases/{team.case_ref}/parties/{team.victim}/assessments")
    submit(page, page.get_by_role("link", name="Open the suitability assessment").click)
    submit(page, page.get_by_role("link", name="Printable summary").click)
    expect(page.get_by_role("heading", level=1)).to_have_text("Suitability assessment: Vera Victim (victim)")
