"""The "Find a slot" page, the booking form it pre-fills, and the snapshot loader's query count."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from conf_helpers import DAY, NOW, at_local, face_to_face, make_ready_setting
from factories import make_ready_case, make_user
from sqlalchemy import event

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.auth.models import Role
from rj_scheduler.cases.services import record_consent
from rj_scheduler.conferences import services
from rj_scheduler.conferences.booking import MeetingDraft, PartyPlan
from rj_scheduler.conferences.slots import SlotRequest, attending_parties, load_snapshot
from rj_scheduler.extensions import db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def s():
    return make_ready_setting()


def _search(client, s, **args):
    day = [str(DAY.day), str(DAY.month), str(DAY.year)]
    query = {"meeting_type": "conference:face_to_face", "duration": "90", "first_day": day, "last_day": day}
    query.update(args)
    return client.get(f"/cases/{s.case.reference}/find-a-slot", query_string=query)


def _book_links(html: str) -> list[str]:
    links = []
    for part in html.split('href="')[1:]:
        url = part.split('"', 1)[0].replace("&amp;", "&")
        if "/meetings/new?" in url:
            links.append(url)
    return links


def test_the_find_a_slot_form_opens_empty(s, signed_in):
    response = signed_in(s.lead).get(f"/cases/{s.case.reference}/find-a-slot")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Find a slot" in html
    assert 'id="slots"' not in html


def test_slots_show_facilitators_venue_rooms_and_each_partys_arrival(s, signed_in):
    response = _search(signed_in(s.lead), s)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="slots"' in html
    # Facilitators work from 9 and the offender arrives 30 minutes before the start: the first slot is 9:30am.
    assert "Tuesday 1 December 2026<br>9:30am to 11:00am" in html
    assert "Lena Lead (lead, the case's facilitator)" in html
    assert "Colin Co (co-facilitator)" in html
    assert "Riverside Centre<br>Meeting room 1" in html
    assert "Vera Victim (victim): 9:15am to 11:00am, waits in Garden room" in html
    assert "Owen Offender (offender): 9:00am to 11:15am, waits in Blue room" in html
    assert len(_book_links(html)) == 5


def test_book_this_slot_opens_the_booking_form_filled_in_and_the_slot_books(s, signed_in):
    client = signed_in(s.lead)
    link = _book_links(_search(client, s).get_data(as_text=True))[0]
    args = parse_qs(urlsplit(link).query)
    assert args["kind"] == ["conference"]
    assert args["format"] == ["face_to_face"]
    assert args["start"] == ["2026-12-01T09:30"]
    assert args["duration"] == ["90"]
    assert args["lead_facilitator"] == [s.lead.public_id]
    assert args["co_facilitator"] == [s.co.public_id]
    assert args["venue"] == [s.venue.public_id]
    assert args["room"] == [s.meeting_room.public_id]
    assert args["victim_waiting_room"] == [s.victim_room.public_id]
    assert args["offender_waiting_room"] == [s.offender_room.public_id]
    assert sorted(args["parties"]) == sorted([s.victim.public_id, s.offender.public_id])
    form = client.get(link)
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert 'value="09:30"' in page
    assert (
        f'value="{s.co.public_id}" selected' in page or f'<option value="{s.co.public_id}" selected' in page
    )


def test_when_the_cases_own_facilitator_is_busy_the_earliest_slot_goes_to_others(s, signed_in):
    other = make_ready_case(s.service, lead=s.lead)
    video = MeetingDraft(
        case=other,
        kind="preparation",
        format="video",
        parties=[PartyPlan(other.parties[0])],
        lead_facilitator=s.lead,
        starts_at=at_local(DAY, 9),
        ends_at=at_local(DAY, 10),
        video_link="https://video.example.org/abc",
    )
    services.book_meeting(video, actor=s.lead, at=NOW)
    html = _search(signed_in(s.lead), s).get_data(as_text=True)
    rows = html.split('id="slots"')[1].split("<tr")[2:]
    # Lena is held until 10:15 (buffer included) and is there from 30 minutes before the start:
    # the earliest slots, 9:30 to 10:30, go to Colin with Mina.
    assert [row.split("<br>")[1].split(" ")[0] for row in rows] == [
        "9:30am",
        "9:45am",
        "10:00am",
        "10:15am",
        "10:30am",
    ]
    for row in rows:
        assert "Colin Co (lead)" in row
        assert "Mina Manager (co-facilitator)" in row
        assert "Lena Lead" not in row


def test_when_the_case_is_not_ready_the_page_says_why(s, signed_in):
    record_consent(s.victim, "take_part", given=False, at=NOW, method="phone", actor=None)
    response = _search(signed_in(s.lead), s)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="no-slots"' in html
    assert "has not agreed to take part" in html


def test_when_no_venue_has_two_waiting_rooms_the_page_says_so_in_plain_words(s, signed_in):
    s.victim_room.is_active = False
    db.session.flush()
    html = _search(signed_in(s.lead), s).get_data(as_text=True)
    assert "No open venue with a free meeting room also has two different free waiting rooms" in html


def test_a_preparation_meeting_needs_to_know_who_it_is_with(s, signed_in):
    response = _search(signed_in(s.lead), s, meeting_type="preparation:video")
    assert response.status_code == 400
    assert "Choose who the meeting is with" in response.get_data(as_text=True)
    ok = _search(signed_in(s.lead), s, meeting_type="preparation:video", party=s.victim.public_id)
    assert ok.status_code == 200
    html = ok.get_data(as_text=True)
    assert "Vera Victim (victim): 9:00am to 10:30am" in html
    assert "Owen Offender" not in html.split('id="slots"')[1]


def test_bad_windows_and_lengths_are_refused_with_a_message(s, signed_in):
    client = signed_in(s.lead)
    response = _search(client, s, duration="0")
    assert response.status_code == 400
    assert "Enter a length from 15 to 480 minutes" in response.get_data(as_text=True)
    response = _search(client, s, last_day=["30", "11", "2026"])
    assert response.status_code == 400
    assert "The last day must be on or after the first day" in response.get_data(as_text=True)


def test_a_search_is_recorded_in_the_audit_log(s, signed_in):
    _search(signed_in(s.lead), s)
    entries = db.session.query(AuditEntry).filter_by(action="case.slots_searched").all()
    assert [e.object_id for e in entries] == [s.case.reference]


def _count_queries(fn):
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


def test_loading_a_snapshot_takes_the_same_number_of_queries_however_many_people_and_bookings(s):
    request = SlotRequest(
        kind="conference",
        format="face_to_face",
        duration=dt.timedelta(minutes=90),
        first_day=DAY,
        last_day=DAY + dt.timedelta(days=14),
        not_before=NOW,
    )
    parties = attending_parties(s.case, "conference", "face_to_face")

    def load():
        db.session.expire_all()
        return load_snapshot(db.session, s.case, request, NOW, parties)

    load()
    small = _count_queries(load)
    for n in (0, 1, 2, 3, 6, 7):  # weekdays
        make_user(s.service, Role.FACILITATOR)
        services.book_meeting(
            face_to_face(s, start=at_local(DAY + dt.timedelta(days=n), 12), minutes=30), actor=s.lead, at=NOW
        )
    db.session.flush()
    snapshot = load().snapshot
    assert sum(len(f.busy) for f in snapshot.facilitators) == 12
    assert _count_queries(load) == small
