"""A victim asks for restorative justice on the public self-referral page, on a computer and on a phone.

Every page on the way is checked with axe-core (see conftest.py).
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from rj_scheduler.cases.models import Case
from rj_scheduler.extensions import db
from rj_scheduler.unit_of_work import commit_unit_of_work
from tests.browser.browsing import LiveServer, submit, visit

PHONE = {
    "viewport": {"width": 375, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


def _service(live_server: LiveServer) -> tuple[int, str]:
    from tests.factories import make_service

    with live_server.app.app_context():
        tag = uuid.uuid4().hex[:8]
        service = make_service(name=f"Browser restorative justice {tag}", code=f"S{tag}")
        ids = (service.id, service.code)
        commit_unit_of_work()
        db.session.remove()
    return ids


@pytest.mark.parametrize("device", ["computer", "phone"])
def test_a_victim_asks_for_restorative_justice_and_the_request_waits_for_triage(
    new_page, live_server, device
):
    service_id, code = _service(live_server)
    page = new_page(live_server.url, **(PHONE if device == "phone" else {}))

    visit(page, f"{live_server.url}/self-referral/{code}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask us about restorative justice")
    expect(page.get_by_role("button", name="Exit this page")).to_be_visible()

    # Sending nothing shows what is missing, on the same page.
    response = submit(page, page.get_by_role("button", name="Send").click)
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("Enter your name")
    expect(page.get_by_role("alert")).to_contain_text("Select at least one way we can contact you")

    page.get_by_label("Your name").fill("Robin Example")
    page.get_by_label("Text message").check()
    page.get_by_label("Mobile phone number").fill("07700 900654")
    page.get_by_label("Weekday evenings (5pm to 8pm)").check()
    page.get_by_role("group", name="Can we leave you a voicemail?").get_by_label("No").check()
    page.get_by_label("Yes, or I'm not sure").check()
    page.get_by_label("Someone damaged my property").check()
    submit(page, page.get_by_role("button", name="Send").click)

    expect(page).to_have_url(re.compile(rf"/self-referral/{code}/sent$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("We have your request")
    expect(page.get_by_text("within 5 working days")).to_be_visible()
    assert "900654" not in page.content()
    assert "Robin Example" not in page.content()
    with live_server.app.app_context():
        [case] = db.session.scalars(select(Case).where(Case.service_id == service_id)).all()
        assert case.source == "self_referral"
        assert case.needs_triage
        assert case.offence_category == "criminal_damage"
        db.session.remove()
