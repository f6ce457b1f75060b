"""The personal calendar feed: a secret, revocable address serving text/calendar with no participant details."""

from __future__ import annotations

import hashlib
import re

import pytest
import time_machine
from conf_helpers import DAY, NOW, at_local, face_to_face, make_ready_setting
from factories import make_party, make_user
from icalendar import Calendar

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.conferences import services
from rj_scheduler.conferences.feeds import CalendarFeed, create_feed
from rj_scheduler.extensions import db, limiter
from tests.conftest import make_app


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def s():
    setting = make_ready_setting()
    # Contact details and an address that must never leave the building.
    setting.victim.mobile_e164 = "+447700900123"
    setting.victim.email = "vera.victim@example.org"
    setting.victim.address = "12 Privet Lane\nLeicester\nLE2 9ZZ"
    setting.offender.mobile_e164 = "+447700900456"
    setting.offender.email = "owen.offender@example.org"
    setting.offender.address = "3 Hidden Close\nLeicester\nLE4 7QQ"
    db.session.flush()
    setting.meeting = services.book_meeting(
        face_to_face(setting, start=at_local(DAY, 10)), actor=setting.lead, at=NOW
    )
    # Added after the booking (a supporter needs their own risk check before a conference).
    setting.supporter = make_party(
        setting.case,
        "supporter",
        full_name="Sasha Supporter",
        supports=setting.victim,
        mobile="07700 900789",
        email="sasha.supporter@example.org",
    )
    return setting


def _subscribe(client) -> str:
    response = client.post("/calendar/subscription/new")
    assert response.status_code == 200
    match = re.search(r'<code id="feed-url">([^<]+)</code>', response.get_data(as_text=True))
    assert match
    return match.group(1).replace("http://localhost", "")


def test_a_new_subscription_address_is_shown_once_and_only_its_hash_is_stored(s, signed_in):
    client = signed_in(s.lead)
    url = _subscribe(client)
    token = url.split("/calendar/feed/")[1].removesuffix(".ics")
    (feed,) = db.session.query(CalendarFeed).filter_by(user_id=s.lead.id).all()
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(vars(feed))
    page = client.get("/calendar/subscription").get_data(as_text=True)
    assert token not in page
    assert "You have a subscription address" in page


def test_the_feed_serves_the_meetings_as_text_calendar_with_stable_uid_sequence_and_london_times(
    s, signed_in
):
    url = _subscribe(signed_in(s.lead))
    response = signed_in(s.co).application.test_client().get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{s.meeting.public_id}@localhost"
    assert int(event["SEQUENCE"]) == 0
    assert "DTSTAMP" in event
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.decoded("DTSTART") == at_local(DAY, 10)
    assert event.decoded("DTEND") == at_local(DAY, 11, 30)
    assert str(event["SUMMARY"]) == f"{s.case.reference}: Conference (face to face)"
    assert str(event["LOCATION"]) == "Riverside Centre, Meeting room 1"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]


def test_the_feed_carries_no_participants_name_or_contact_details(s, signed_in):
    url = _subscribe(signed_in(s.lead))
    body = signed_in(s.lead).get(url).get_data(as_text=True)
    unfolded = body.replace("\r\n ", "")
    assert "BEGIN:VEVENT" in unfolded
    for party in (s.victim, s.offender, s.supporter):
        secrets = [party.full_name, *party.full_name.split(), party.mobile_e164, party.email]
        secrets += [party.mobile_e164[-6:]] if party.mobile_e164 else []
        secrets += (party.address or "").split("\n")
        for secret in filter(None, secrets):
            assert secret.lower() not in unfolded.lower(), f"{secret!r} leaked into the calendar feed"
    assert "ATTENDEE" not in unfolded
    assert "victim" not in unfolded.lower()
    assert "offender" not in unfolded.lower()


def test_a_rescheduled_meeting_keeps_its_uid_and_goes_up_a_sequence(s, signed_in):
    url = _subscribe(signed_in(s.lead))
    draft = face_to_face(s, start=at_local(DAY, 14))
    services.reschedule_meeting(
        s.meeting, draft, reason="The victim asked for the afternoon", actor=s.lead, at=NOW
    )
    (event,) = Calendar.from_ical(signed_in(s.lead).get(url).data).walk("VEVENT")
    assert str(event["UID"]) == f"{s.meeting.public_id}@localhost"
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == at_local(DAY, 14)


def test_a_cancelled_meeting_stays_in_the_feed_marked_cancelled(s, signed_in):
    url = _subscribe(signed_in(s.lead))
    services.cancel_meeting(s.meeting, reason="The offender moved away", actor=s.lead, at=NOW)
    (event,) = Calendar.from_ical(signed_in(s.lead).get(url).data).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"


def test_a_revoked_or_wrong_token_answers_404_and_a_new_address_replaces_the_old(s, signed_in):
    client = signed_in(s.lead)
    first = _subscribe(client)
    second = _subscribe(client)
    anonymous = client.application.test_client()
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    assert client.post("/calendar/subscription/revoke").status_code == 200
    assert anonymous.get(second).status_code == 404
    assert anonymous.get("/calendar/feed/not-a-real-token.ics").status_code == 404
    page = client.get("/calendar/subscription").get_data(as_text=True)
    assert "You do not have a subscription address" in page


def test_a_deactivated_staff_members_feed_stops(s, signed_in):
    url = _subscribe(signed_in(s.lead))
    s.lead.is_active_account = False
    db.session.flush()
    assert signed_in(s.co).application.test_client().get(url).status_code == 404


def test_each_feed_shows_only_its_owners_meetings(s, signed_in):
    other = make_user(s.service)
    url = _subscribe(signed_in(other))
    calendar = Calendar.from_ical(signed_in(other).get(url).data)
    assert calendar.walk("VEVENT") == []


def test_reading_the_feed_is_audited_and_refusals_too(s, signed_in):
    url = _subscribe(signed_in(s.lead))
    anonymous = signed_in(s.lead).application.test_client()
    anonymous.get(url)
    anonymous.get("/calendar/feed/wrong.ics")
    actions = [
        (e.action, e.actor_user_id, e.outcome) for e in db.session.query(AuditEntry).order_by(AuditEntry.id)
    ]
    assert ("calendar_feed.created", s.lead.id, "ok") in actions
    assert ("calendar_feed.read", s.lead.id, "ok") in actions
    assert ("calendar_feed.refused", None, "refused") in actions


def test_subscription_pages_need_a_signed_in_user(client):
    assert client.get("/calendar/subscription").status_code == 302
    assert client.post("/calendar/subscription/new").status_code == 302


@pytest.fixture
def rate_limited_app(tmp_root):
    was_enabled = limiter.enabled
    app = make_app(tmp_root, RATELIMIT_ENABLED=True, RJ_CALENDAR_FEED_RATE_LIMIT="3 per minute")
    try:
        yield app
    finally:
        limiter.reset()
        limiter.enabled = was_enabled


def test_the_feed_is_rate_limited(s, rate_limited_app):
    _feed, token = create_feed(s.lead, at=NOW)
    db.session.commit()
    client = rate_limited_app.test_client()
    with rate_limited_app.app_context():
        for _ in range(3):
            assert client.get(f"/calendar/feed/{token}.ics").status_code == 200
        assert client.get(f"/calendar/feed/{token}.ics").status_code == 429
