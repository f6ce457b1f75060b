"""A facilitator's journey in a real browser: take a referral, add the victim's and offender's
details and contact preferences, record consent and first contact, and see the timeline and the
dashboard update. Every page on the way is checked with axe-core (see browsing.py).
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.browsing import LiveServer, sign_in, submit, visit


def _sign_in(page: Page, live_server: LiveServer) -> None:
    user = live_server.create_user(enrolled=True)
    sign_in(page, live_server.url, user.email, user.totp_secret)


def _open_person(page: Page, name: str) -> None:
    submit(page, page.get_by_role("link", name=name, exact=True).click)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def _record_consent(page: Page, kind: str) -> None:
    submit(page, page.get_by_role("link", name="Record consent").click)
    page.get_by_label(kind).check()
    page.get_by_label("Consent given").check()
    page.get_by_label("Phone", exact=True).check()
    submit(page, page.get_by_role("button", name="Record consent").click)
    expect(page.get_by_text("Consent recorded.")).to_be_visible()


def test_facilitator_takes_a_referral_records_contact_and_consent_and_sees_timeline_and_dashboard(
    page, live_server
):
    _sign_in(page, live_server)
    expect(page.get_by_text("No first contacts are waiting.")).to_be_visible()

    # The referral, first with a mistake.
    submit(page, page.get_by_role("link", name="New referral").first.click)
    page.select_option("#offence_category", "public_order")
    page.get_by_label("Awaiting trial").check()
    page.get_by_label("Victim's full name").fill("Vera Victim")
    page.get_by_label("Offender's full name (optional)").fill("Owen Offender")
    response = submit(page, page.get_by_role("button", name="Save referral").click)
    assert response.status == 400
    expect(page.get_by_role("link", name="Select who referred the case")).to_be_visible()
    expect(page.get_by_label("Victim's full name")).to_have_value("Vera Victim")
    page.select_option("#source", "witness_care")
    submit(page, page.get_by_role("button", name="Save referral").click)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Case B\w+-\d{4}-00001"))
    case_url = page.url

    # The victim's contact details: an invalid mobile is refused and kept as typed.
    _open_person(page, "Vera Victim")
    submit(page, page.get_by_role("link", name="Change details").click)
    page.get_by_label("Mobile phone number (optional)").fill("07700 900123x")
    page.get_by_label("Email address (optional)").fill("vera@example.org")
    response = submit(page, page.get_by_role("button", name="Save").click)
    assert response.status == 400
    expect(page.get_by_role("link", name=re.compile("only numbers"))).to_be_visible()
    expect(page.get_by_label("Mobile phone number (optional)")).to_have_value("07700 900123x")
    page.get_by_label("Mobile phone number (optional)").fill("07700 900123")
    submit(page, page.get_by_role("button", name="Save").click)
    expect(page.get_by_text("07700 900123")).to_be_visible()

    # Safe-contact preferences: SMS on weekdays 09:00 to 12:00, discreet wording.
    submit(page, page.get_by_role("link", name="Contact preferences").click)
    page.get_by_label("SMS", exact=True).check()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        page.get_by_label(day).check()
    page.get_by_label("Safe from").fill("09:00")
    page.get_by_label("Safe until").fill("12:00")
    submit(page, page.get_by_role("button", name="Save preferences").click)
    expect(page.get_by_text("Monday 09:00 to 12:00")).to_be_visible()

    # Consent and first contact for the victim.
    _record_consent(page, "To be contacted")
    _record_consent(page, "To take part in restorative justice")
    submit(page, page.get_by_role("link", name="Record first contact").click)
    page.get_by_label("Phone call").check()
    submit(page, page.get_by_role("button", name="Record first contact").click)
    expect(page.get_by_text("First contact recorded.")).to_be_visible()

    # The offender's preferences, from their own panel.
    visit(page, case_url)
    _open_person(page, "Owen Offender")
    expect(page.get_by_text("vera@example.org")).to_have_count(0)
    expect(page.get_by_text("07700 900123")).to_have_count(0)
    submit(page, page.get_by_role("link", name="Contact preferences").click)
    page.get_by_label("Email", exact=True).check()
    submit(page, page.get_by_role("button", name="Save preferences").click)
    _record_consent(page, "To be contacted")

    # The case moved on by itself, and the timeline shows what happened.
    visit(page, case_url)
    expect(page.locator(".govuk-tag", has_text="Assessing")).to_be_visible()
    timeline = page.locator(".moj-timeline")
    expect(timeline).to_contain_text("Vera Victim gave consent to take part in restorative justice (phone).")
    expect(timeline).to_contain_text("First contact with Vera Victim (phone call).")
    expect(timeline).to_contain_text("Case moved from referred to contacting.")
    expect(timeline).not_to_contain_text("07700")

    # The dashboard: the case is in the caseload and no first contact is waiting.
    visit(page, f"{live_server.url}/dashboard")
    expect(page.get_by_text("No first contacts are waiting.")).to_be_visible()
    expect(page.get_by_role("table").get_by_text("Assessing")).to_be_visible()
