"""The participant's private page /i/<token>: what it shows, the answers it takes, and what a dead link gets.

Meetings are booked through the real services (booking creates the
invitations); the clock is frozen on Monday 23 November 2026, 9am, a week
before the face to face conference on Tuesday 1 December 2026.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Iterator

import pytest
import time_machine
from icalendar import Calendar
from sqlalchemy import func, select

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.conferences.models import PartySatisfaction
from rj_scheduler.conferences.services import cancel_meeting, record_outcome
from rj_scheduler.extensions import db, limiter
from rj_scheduler.invitations import tokens
from rj_scheduler.invitations.content import view_for
from rj_scheduler.invitations.models import (
    CLOSED_STATUSES,
    Invitation,
    InvitationEvent,
    InvitationStatus,
    InvitationTask,
    TaskKind,
)
from rj_scheduler.invitations.queries import settings_for
from rj_scheduler.logging_setup import redact_private_links
from rj_scheduler.notify.models import OutboxMessage
from tests.conferences.conf_helpers import NOW
from tests.conftest import make_app
from tests.invitations.inv_helpers import (
    OFFENDER_EMAIL,
    OFFENDER_MOBILE,
    Booked,
    book,
    reachable_setting,
)

DEAD_LINK_TITLE = "This link has expired"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def booked() -> Booked:
    result = book()
    db.session.commit()
    return result


def _victim(booked: Booked) -> Invitation:
    return booked.invitation_of(party=booked.victim)


def _url(invitation: Invitation, suffix: str = "") -> str:
    return f"/i/{tokens.token_for(invitation)}{suffix}"


def _html(response) -> str:
    return response.get_data(as_text=True)


def _snapshot(invitation: Invitation) -> tuple:
    """What an answer would change: status, answer time, note, tasks, events other than 'opened', messages."""
    db.session.expire_all()
    row = db.session.get(Invitation, invitation.id)
    tasks = db.session.scalar(select(func.count()).select_from(InvitationTask))
    events = db.session.scalar(
        select(func.count()).select_from(InvitationEvent).where(InvitationEvent.kind != "opened")
    )
    messages = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    return (row.status, row.responded_at, row.response_note, tasks, events, messages)


def _audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# --- what the page shows ------------------------------------------------------------------------


def test_opening_the_link_shows_their_appointment_and_changes_nothing_but_the_opened_record(client, booked):
    invitation = _victim(booked)
    before = _snapshot(invitation)

    response = client.get(_url(invitation))

    assert response.status_code == 200
    html = _html(response)
    view = view_for(invitation, NOW)
    assert '<h1 class="govuk-heading-l">Your appointment</h1>' in html
    assert html.count("<h1") == 1
    for text in (
        "Tuesday 1 December 2026",
        view.arrival_time_text,
        view.duration_text,
        "Riverside Centre",
        "1 River Street",
        "Main entrance on King Street",
        "Through the glass doors, reception is on the left.",
        "Pay and display on King Street.",
        "0116 496 0000",
        "appointments@example.org",
        "Lena Lead",
    ):
        assert text in html, text
    assert _snapshot(invitation) == before
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).opened_at is not None
    assert "invitation.page_viewed" in _audit_actions()


def test_the_page_is_private_not_indexed_not_cached_and_has_no_staff_links(client, booked):
    response = client.get(_url(_victim(booked)))
    html = _html(response)
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert '<html lang="en"' in html
    for staff_only in ("Sign in", "Sign out", "/login", "/dashboard", "Restorative justice scheduler"):
        assert staff_only not in html
    assert "<script>" not in html
    assert "style=" not in html


def test_a_party_sees_only_their_own_arrival_and_nothing_of_the_other_party(client, booked):
    victim_view = view_for(_victim(booked), NOW)
    offender_view = view_for(booked.invitation_of(party=booked.offender), NOW)
    assert offender_view.arrival_time_text not in (
        victim_view.arrival_time_text,
        victim_view.departure_time_text,
    )

    html = _html(client.get(_url(_victim(booked))))

    assert victim_view.arrival_time_text in html
    assert offender_view.arrival_time_text not in html
    offender = booked.offender
    for secret in (
        offender.full_name,
        offender.full_name.split()[0],
        OFFENDER_MOBILE,
        OFFENDER_MOBILE.replace("+44", "0"),
        OFFENDER_EMAIL,
        offender.address,
        "Side entrance on Mill Lane",
        "The blue door next to the car park.",
        "Blue room",
    ):
        assert secret not in html, secret
    assert "the other person taking part" in html


def test_the_page_is_in_polish_when_the_party_speaks_polish(client):
    setting = reachable_setting()
    setting.victim.language = "pl"
    result = book(setting)
    db.session.commit()

    response = client.get(_url(result.invitation_of(party=result.victim)))

    html = _html(response)
    assert '<html lang="pl"' in html
    assert "Twoje spotkanie" in html
    assert "wtorek, 1 grudnia 2026" in html
    assert "Your appointment" not in html
    assert "Who will be there" not in html


def test_the_calendar_file_is_their_own_appointment_to_download(client, booked):
    invitation = _victim(booked)
    view = view_for(invitation, NOW)

    response = client.get(_url(invitation, "/invite.ics"))

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == "attachment; filename=appointment.ics"
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["METHOD"]) == "PUBLISH"
    [event] = list(calendar.walk("VEVENT"))
    assert event.decoded("DTSTART").astimezone(dt.UTC) == view.arrives_at
    assert event.decoded("DTEND").astimezone(dt.UTC) == view.departs_at
    assert event.get("ATTENDEE") is None
    assert "Side entrance" not in response.data.decode()
    assert "invitation.calendar_downloaded" in _audit_actions()


# --- answers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data", "status", "banner"),
    [
        ("/confirm", {}, InvitationStatus.CONFIRMED, "You have confirmed that you will come."),
        ("/decline", {}, InvitationStatus.DECLINED, "Thank you for telling us that you cannot come."),
        (
            "/change",
            {"note": "Any weekday morning after 10am, please."},
            InvitationStatus.CHANGE_REQUESTED,
            "will contact you about a different time",
        ),
    ],
)
def test_each_answer_changes_the_status_and_says_what_happened(client, booked, path, data, status, banner):
    invitation = _victim(booked)

    response = client.post(_url(invitation, path), data=data)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(_url(invitation))
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).status == status.value
    page = client.get(_url(invitation))
    assert "govuk-notification-banner--success" in _html(page)
    assert banner in _html(page)


def test_cannot_come_and_a_different_time_give_the_facilitator_a_task(client, booked):
    client.post(_url(_victim(booked), "/change"), data={"note": "Not on Tuesdays, please."})
    client.post(_url(booked.invitation_of(party=booked.offender), "/decline"))
    kinds = sorted(db.session.scalars(select(InvitationTask.kind)))
    assert kinds == sorted([TaskKind.CHANGE_REQUESTED.value, TaskKind.DECLINED.value])
    assert db.session.get(Invitation, _victim(booked).id).response_note == "Not on Tuesdays, please."


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("", "Tell us which days or times would suit you better"),
        ("   ", "Tell us which days or times would suit you better"),
        ("x" * 1001, "Your message must be 1000 characters or fewer"),
    ],
)
def test_a_different_time_needs_a_short_message_next_to_the_field(client, booked, note, message):
    invitation = _victim(booked)
    before = _snapshot(invitation)

    response = client.post(_url(invitation, "/change"), data={"note": note})

    assert response.status_code == 400
    html = _html(response)
    assert "There is a problem" in html
    assert 'href="#note"' in html
    assert re.search(
        r'<p id="note-error" class="govuk-error-message">\s*<span class="govuk-visually-hidden">Error:</span> '
        + message,
        html,
    )
    assert html.startswith("<!DOCTYPE html>")
    assert "<title>Error: " in html
    assert _snapshot(invitation) == before


def test_a_refused_answer_is_shown_with_its_reason_and_saves_nothing(client, booked):
    invitation = _victim(booked)
    before = _snapshot(invitation)
    started = booked.meeting.starts_at + dt.timedelta(minutes=5)

    with time_machine.travel(started, tick=False):
        page = _html(client.get(_url(invitation)))
        response = client.post(_url(invitation, "/confirm"))

    assert "Yes, I will come" not in page  # no answers once it has started
    assert response.status_code == 400
    assert "This appointment has already started." in _html(response)
    assert _snapshot(invitation) == before


def test_no_longer_taking_part_asks_first_then_cancels_and_asks_the_facilitator_to_call(client, booked):
    invitation = _victim(booked)
    before = _snapshot(invitation)

    check = client.get(_url(invitation, "/withdraw"))
    assert check.status_code == 200
    assert "Are you sure you no longer want to take part?" in _html(check)
    assert "we will cancel your appointments straight away" in _html(check)
    assert _snapshot(invitation) == before

    done = client.post(_url(invitation, "/withdraw"))

    assert done.status_code == 200
    assert "You are no longer taking part" in _html(done)
    assert "0116 496 0000" in _html(done)
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).status in CLOSED_STATUSES
    assert TaskKind.CALL_AFTER_WITHDRAWAL.value in set(db.session.scalars(select(InvitationTask.kind)))
    again = client.get(_url(invitation))
    assert again.status_code == 404
    assert DEAD_LINK_TITLE in _html(again)


# --- after the conference -----------------------------------------------------------------------


def _held(booked: Booked) -> dt.datetime:
    after = booked.meeting.ends_at + dt.timedelta(hours=2)
    record_outcome(
        booked.meeting,
        held=True,
        not_held_reason=None,
        attended_party_ids={booked.victim.id, booked.offender.id},
        notes=None,
        satisfaction={},
        actor=booked.setting.lead,
        at=after,
    )
    db.session.commit()
    return after


def test_after_the_conference_the_page_asks_how_satisfied_they_were_and_it_lands_in_the_outcome(
    client, booked
):
    invitation = _victim(booked)
    after = _held(booked)

    with time_machine.travel(after, tick=False):
        page = _html(client.get(_url(invitation)))
        assert "How satisfied were you with your appointment?" in page
        assert "Yes, I will come" not in page
        response = client.post(_url(invitation, "/feedback"), data={"score": "4", "comment": "It helped."})
        assert response.status_code == 303
        thanked = _html(client.get(_url(invitation)))

    row = db.session.scalar(select(PartySatisfaction).where(PartySatisfaction.party_id == booked.victim.id))
    assert (row.score, row.comments) == (4, "It helped.")
    assert "Thank you for your feedback." in thanked
    assert "How satisfied were you" not in thanked


def test_feedback_needs_a_score_and_is_not_asked_before_the_outcome_is_recorded(client, booked):
    invitation = _victim(booked)
    ended = booked.meeting.ends_at + dt.timedelta(minutes=30)
    with time_machine.travel(ended, tick=False):
        assert "How satisfied were you" not in _html(client.get(_url(invitation)))
        early = client.post(_url(invitation, "/feedback"), data={"score": "5"})
    assert early.status_code == 400
    assert "We are not asking for feedback on this appointment yet." in _html(early)

    after = _held(booked)
    with time_machine.travel(after, tick=False):
        for data in ({}, {"score": "9"}, {"score": "3", "comment": "x" * 2001}):
            response = client.post(_url(invitation, "/feedback"), data=data)
            assert response.status_code == 400
            assert "There is a problem" in _html(response)
    assert db.session.scalar(select(func.count()).select_from(PartySatisfaction)) == 0


# --- dead links ---------------------------------------------------------------------------------


def test_every_dead_link_gets_the_same_page_and_changes_nothing(client, app):
    live = book()
    cancelled = book(start=live.meeting.starts_at + dt.timedelta(days=1))
    withdrawn = book(start=live.meeting.starts_at + dt.timedelta(days=2))
    db.session.commit()
    real = tokens.token_for(_victim(live))
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")
    cancelled_token = tokens.token_for(_victim(cancelled))
    withdrawn_token = tokens.token_for(_victim(withdrawn))
    cancel_meeting(cancelled.meeting, reason="The room flooded.", actor=cancelled.setting.lead, at=NOW)
    db.session.commit()
    assert client.post(f"/i/{withdrawn_token}/withdraw").status_code == 200
    valid_days = settings_for(db.session, live.setting.service.id).link_valid_days
    expired_at = live.meeting.ends_at + dt.timedelta(days=valid_days, minutes=1)

    bodies = {}
    for name, path in {
        "unknown": f"/i/{secrets.token_urlsafe(32)}",
        "malformed": "/i/not-a-token",
        "forged": f"/i/{forged}",
        "cancelled": f"/i/{cancelled_token}",
        "withdrawn": f"/i/{withdrawn_token}",
        "cut short": "/i/",
        "too long": f"/i/{real}/extra/parts",
    }.items():
        response = client.get(path)
        assert response.status_code == 404, name
        bodies[name] = _html(response)
    with time_machine.travel(expired_at, tick=False):
        expired = client.get(f"/i/{real}")
        expired_post = client.post(f"/i/{real}/confirm")
    bodies["expired"] = _html(expired)
    assert expired.status_code == expired_post.status_code == 404

    assert len(set(bodies.values())) == 1, "every dead link must get the same body"
    body = bodies["unknown"]
    assert DEAD_LINK_TITLE in body
    assert "call the number in your letter or message" in body
    assert "0116 496 0000" not in body
    assert _victim(live).status == InvitationStatus.INVITED.value


def test_an_answer_through_a_dead_link_changes_nothing(client, booked):
    invitation = _victim(booked)
    before = _snapshot(invitation)
    token = tokens.token_for(invitation)
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for path in ("/confirm", "/decline", "/withdraw", "/feedback"):
        assert client.post(f"/i/{forged}{path}", data={"score": "5"}).status_code == 404
    assert client.post(f"/i/{forged}/change", data={"note": "Mornings"}).status_code == 404
    assert _snapshot(invitation) == before
    assert "invitation.link_refused" in _audit_actions()


# --- CSRF and rate limits -----------------------------------------------------------------------


def test_an_answer_without_the_page_csrf_token_changes_nothing(tmp_root, booked):
    app = make_app(tmp_root, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    invitation = _victim(booked)
    before = _snapshot(invitation)
    with app.app_context():
        page = _html(client.get(_url(invitation)))
        refused = client.post(_url(invitation, "/confirm"))
        forged = client.post(_url(invitation, "/withdraw"), data={"csrf_token": "made-up"})
        assert refused.status_code == forged.status_code == 400
        assert "Your answer was not sent" in _html(refused)
        assert _snapshot(invitation) == before

        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        accepted = client.post(_url(invitation, "/confirm"), data={"csrf_token": token})
    assert accepted.status_code == 303
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).status == InvitationStatus.CONFIRMED.value


@pytest.fixture
def rate_limited_app(tmp_root):
    was_enabled = limiter.enabled
    app = make_app(
        tmp_root,
        RATELIMIT_ENABLED=True,
        RJ_PARTICIPANT_PAGE_RATE_LIMIT="6 per minute",
        RJ_PARTICIPANT_DEAD_LINK_RATE_LIMIT="3 per minute",
    )
    try:
        yield app
    finally:
        limiter.reset()
        limiter.enabled = was_enabled


def test_dead_links_are_rate_limited_more_tightly_than_live_ones(rate_limited_app, booked):
    client = rate_limited_app.test_client()
    url = _url(_victim(booked))
    with rate_limited_app.app_context():
        for _ in range(3):
            assert client.get(url).status_code == 200  # live pages do not use the dead-link budget
        for _ in range(3):
            assert client.get(f"/i/{secrets.token_urlsafe(32)}").status_code == 404
        limited = client.get(f"/i/{secrets.token_urlsafe(32)}")
        assert limited.status_code == 429
        assert "Too many attempts" in _html(limited)
        assert limited.headers["X-Robots-Tag"] == "noindex, nofollow"
        assert "Restorative justice scheduler" not in _html(limited)
        assert client.get(url).status_code == 429  # a client probing for links is stopped everywhere


def test_live_pages_are_rate_limited_per_address(rate_limited_app, booked):
    client = rate_limited_app.test_client()
    url = _url(_victim(booked))
    with rate_limited_app.app_context():
        for _ in range(6):
            assert client.get(url).status_code == 200
        assert client.get(url).status_code == 429
        other = rate_limited_app.test_client()
        assert other.get(url, environ_base={"REMOTE_ADDR": "127.0.0.2"}).status_code == 200


# --- logs ---------------------------------------------------------------------------------------


def test_request_logs_never_carry_the_token(booked, caplog):
    token = tokens.token_for(_victim(booked))
    line = f'127.0.0.1 - - [23/Nov/2026 09:00:00] "GET /i/{token}/invite.ics HTTP/1.1" 200 -'
    assert redact_private_links(line) == (
        '127.0.0.1 - - [23/Nov/2026 09:00:00] "GET /i/[redacted]/invite.ics HTTP/1.1" 200 -'
    )
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('%s - - "%s" %s', "127.0.0.1", f"GET /i/{token} HTTP/1.1", 200)
    assert token not in caplog.text
    assert "/i/[redacted]" in caplog.text
