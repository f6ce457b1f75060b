"""A party opens their private page on a computer and on a small phone, and answers with the keyboard alone.

Every page on the way is checked with axe-core (WCAG 2.2 AA) and for
Content-Security-Policy violations (see conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from rj_scheduler.extensions import db
from rj_scheduler.invitations import tokens
from rj_scheduler.invitations.models import Invitation
from rj_scheduler.unit_of_work import commit_unit_of_work
from tests.browser.browsing import LiveServer, submit, visit

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 320, "height": 640},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@dataclass(frozen=True)
class Links:
    victim: str
    offender: str
    victim_id: int


def _book(live_server: LiveServer, *, victim_language: str = "en") -> Links:
    """A face to face conference booked through the real services; the parties' private links."""
    from tests.invitations.inv_helpers import book, reachable_setting

    with live_server.app.app_context():
        setting = reachable_setting()
        setting.victim.language = victim_language
        booked = book(setting)
        victim = booked.invitation_of(party=booked.victim)
        offender = booked.invitation_of(party=booked.offender)
        links = Links(
            victim=f"{live_server.url}/i/{tokens.token_for(victim)}",
            offender=f"{live_server.url}/i/{tokens.token_for(offender)}",
            victim_id=victim.id,
        )
        commit_unit_of_work()
        db.session.remove()
    return links


def _status(live_server: LiveServer, invitation_id: int) -> str:
    with live_server.app.app_context():
        status = db.session.scalar(select(Invitation.status).where(Invitation.id == invitation_id))
        db.session.remove()
    return status


def _tab_to(page: Page, name: str, limit: int = 80) -> None:
    """Press Tab until the focused element is the button or link named ``name``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => (document.activeElement.innerText || '').trim()")
        if focused == name:
            return
    raise AssertionError(f"{name!r} cannot be reached with the Tab key")


def _fits(page: Page, width: int) -> None:
    """Nothing is wider than the screen (no sideways scrolling on a small phone)."""
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_party_reads_their_page_and_confirms_with_the_keyboard_alone(new_page, live_server, device):
    links = _book(live_server)
    options = PHONE if device == "phone" else DESKTOP
    page = new_page(live_server.url, **options)

    response = visit(page, links.victim)

    assert response.status == 200
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointment")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("Main entrance on King Street")).to_be_visible()
    expect(page.get_by_text("Side entrance on Mill Lane")).to_have_count(0)
    if device == "phone":
        _fits(page, options["viewport"]["width"])

    _tab_to(page, "Yes, I will come")
    response = submit(page, lambda: page.keyboard.press("Enter"))

    assert response.status == 200
    assert page.url == links.victim
    expect(page.get_by_role("alert", name="Success")).to_contain_text(
        "You have confirmed that you will come."
    )
    expect(page.get_by_text("You have told us that you will come.")).to_be_visible()
    assert _status(live_server, links.victim_id) == "confirmed"


def test_asking_for_a_different_time_shows_the_error_next_to_the_field_on_a_phone(new_page, live_server):
    links = _book(live_server)
    page = new_page(live_server.url, **PHONE)
    visit(page, links.offender)

    response = submit(page, page.get_by_role("button", name="Ask for a different time").click)

    assert response.status == 400
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text("Tell us which days or times would suit you better")
    _fits(page, PHONE["viewport"]["width"])
    field = page.get_by_label("Which days or times would suit you better?")
    field.fill("Any weekday morning, please.")
    response = submit(page, page.get_by_role("button", name="Ask for a different time").click)
    assert response.status == 200
    expect(page.get_by_role("alert", name="Success")).to_contain_text("a different time")


def test_no_longer_taking_part_is_checked_first_then_the_link_is_dead(new_page, live_server):
    links = _book(live_server)
    page = new_page(live_server.url, **DESKTOP)
    visit(page, links.victim)

    _tab_to(page, "I no longer want to take part")
    submit(page, lambda: page.keyboard.press("Enter"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you no longer want to take part?")
    assert _status(live_server, links.victim_id) == "invited"

    response = submit(page, page.get_by_role("button", name="Yes, I no longer want to take part").click)

    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("You are no longer taking part")
    assert _status(live_server, links.victim_id) in {"withdrawn", "cancelled"}
    dead = visit(page, links.victim)
    assert dead.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")


def test_a_polish_speaker_gets_the_page_in_polish_on_a_phone(new_page, live_server):
    links = _book(live_server, victim_language="pl")
    page = new_page(live_server.url, **PHONE)

    visit(page, links.victim)

    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.get_by_role("heading", level=1)).to_have_text("Twoje spotkanie")
    expect(page.get_by_role("button", name="Tak, przyjdę")).to_be_visible()
    _fits(page, PHONE["viewport"]["width"])
