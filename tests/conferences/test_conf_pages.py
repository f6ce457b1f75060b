"""The conferences pages: booking form (pre-fill, every reason, 400 keeps input), meeting changes, outcome, venues."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from conf_helpers import DAY, NOW, at_local, face_to_face, make_ready_setting
from factories import make_user

from rj_scheduler.auth.models import Role
from rj_scheduler.conferences import services
from rj_scheduler.conferences.models import Meeting, StaffLeave, Venue
from rj_scheduler.extensions import db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def s():
    return make_ready_setting()


def _booking_form(s, **changes) -> dict[str, object]:
    data = {
        "kind": "conference",
        "format": "face_to_face",
        "parties": [s.victim.public_id, s.offender.public_id],
        "day": [str(DAY.day), str(DAY.month), str(DAY.year)],
        "start_time": "10:00",
        "duration_minutes": "90",
        "lead_facilitator": s.lead.public_id,
        "co_facilitator": s.co.public_id,
        "venue": s.venue.public_id,
        "room": s.meeting_room.public_id,
        "victim_waiting_room": s.victim_room.public_id,
        "offender_waiting_room": s.offender_room.public_id,
    }
    data.update(changes)
    return data


def test_booking_form_books_a_face_to_face_conference(s, signed_in):
    client = signed_in(s.lead)
    url = f"/cases/{s.case.reference}/meetings/new"
    assert client.get(url).status_code == 200
    response = client.post(url, data=_booking_form(s))
    assert response.status_code == 302, response.text
    meeting = db.session.query(Meeting).one()
    assert response.headers["Location"].endswith(f"/meetings/{meeting.public_id}")
    page = client.get(f"/meetings/{meeting.public_id}")
    assert page.status_code == 200
    assert "Garden room" in page.text
    assert "Blue room" in page.text
    assert "9:30am" in page.text  # the offender arrives 30 minutes before the 10am start


def test_booking_form_prefills_from_the_slot_finder_query(s, signed_in):
    client = signed_in(s.lead)
    response = client.get(
        f"/cases/{s.case.reference}/meetings/new?start=2026-12-01T14:30&venue={s.venue.public_id}"
        f"&room={s.meeting_room.public_id}&co_facilitator={s.co.public_id}"
    )
    assert response.status_code == 200
    assert 'value="14:30"' in response.text
    assert f'<option value="{s.meeting_room.public_id}" selected' in response.text
    assert f'<option value="{s.co.public_id}" selected' in response.text


def test_failing_booking_form_keeps_what_was_entered_and_lists_every_reason(s, signed_in):
    client = signed_in(s.lead)
    response = client.post(
        f"/cases/{s.case.reference}/meetings/new",
        data=_booking_form(
            s, co_facilitator="", offender_waiting_room=s.victim_room.public_id, start_time="07:00"
        ),
    )
    assert response.status_code == 400
    assert "A face to face conference needs two facilitators: choose a co-facilitator." in response.text
    assert "The victim and the offender must wait in different waiting rooms." in response.text
    assert "Riverside Centre is not open" in response.text
    assert 'value="07:00"' in response.text
    assert "<title>Error:" in response.text
    assert db.session.query(Meeting).count() == 0


def test_a_time_that_does_not_exist_at_the_clock_change_is_refused_on_the_form(s, signed_in):
    client = signed_in(s.lead)
    response = client.post(
        f"/cases/{s.case.reference}/meetings/new",
        data=_booking_form(s, day=["28", "3", "2027"], start_time="01:30"),
    )
    assert response.status_code == 400
    assert "does not exist in the UK: the clocks go forward" in response.text


def test_reschedule_keeps_the_public_id_and_increments_the_sequence(s, signed_in):
    meeting = services.book_meeting(face_to_face(s), actor=s.lead, at=NOW)
    public_id = meeting.public_id
    client = signed_in(s.lead)
    url = f"/meetings/{public_id}/reschedule"
    assert client.get(url).status_code == 200
    refused = client.post(url, data=_booking_form(s, start_time="14:00"))
    assert refused.status_code == 400
    assert "Give the reason for moving the meeting" in refused.text
    moved = client.post(
        url, data={**_booking_form(s, start_time="14:00"), "reason": "The victim asked for the afternoon."}
    )
    assert moved.status_code == 302, moved.text
    db.session.expire_all()
    again = db.session.query(Meeting).one()
    assert again.public_id == public_id
    assert again.sequence == 1
    assert again.starts_at == at_local(DAY, 14)


def test_cancel_needs_a_reason_and_frees_the_booking(s, signed_in):
    meeting = services.book_meeting(face_to_face(s), actor=s.lead, at=NOW)
    client = signed_in(s.lead)
    assert client.post(f"/meetings/{meeting.public_id}/cancel", data={"reason": " "}).status_code == 400
    assert (
        client.post(
            f"/meetings/{meeting.public_id}/cancel", data={"reason": "Offender moved away."}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert meeting.status == "cancelled"
    assert meeting.sequence == 1
    assert s.case.state == "ready"


def test_postponed_meeting_holds_nothing_until_moved(s, signed_in):
    meeting = services.book_meeting(face_to_face(s), actor=s.lead, at=NOW)
    client = signed_in(s.lead)
    assert (
        client.post(f"/meetings/{meeting.public_id}/postpone", data={"reason": "Illness."}).status_code == 302
    )
    db.session.expire_all()
    assert meeting.status == "postponed"
    other = make_ready_setting(s.service)
    draft = face_to_face(other, co_facilitator=s.co, venue=s.venue, room=s.meeting_room)
    draft.parties[0].waiting_room = s.victim_room
    draft.parties[1].waiting_room = s.offender_room
    assert services.booking_refusals(draft, NOW) == []


def test_outcome_agreement_follow_up_and_closure(s, signed_in):
    meeting = services.book_meeting(face_to_face(s), actor=s.lead, at=NOW)
    with time_machine.travel(at_local(DAY, 12), tick=False):
        client = signed_in(s.lead)
        assert client.get(f"/meetings/{meeting.public_id}/outcome").status_code == 200
        response = client.post(
            f"/meetings/{meeting.public_id}/outcome",
            data={
                "held": "yes",
                "attended": [s.victim.public_id, s.offender.public_id],
                f"score_{s.victim.public_id}": "5",
                f"comments_{s.victim.public_id}": "I was heard.",
            },
        )
        assert response.status_code == 302, response.text
        assert s.case.state == "conference_held"
        response = client.post(
            f"/meetings/{meeting.public_id}/agreement/new",
            data={
                "kind": "apology",
                "description": "A written apology.",
                "party": s.offender.public_id,
                "due_on": ["15", "12", "2026"],
            },
        )
        assert response.status_code == 302, response.text
        db.session.expire_all()
        assert s.case.state == "follow_up"
        refused = client.post(f"/cases/{s.case.reference}/close-after-follow-up", data={})
        assert refused.status_code == 400
        assert "not done yet" in refused.text
        item = meeting.outcome.agreement_items[0]
        assert client.post(f"/agreement-items/{item.public_id}/done", data={}).status_code == 302
        closed = client.post(f"/cases/{s.case.reference}/close-after-follow-up", data={})
        assert closed.status_code == 302
        db.session.expire_all()
        assert s.case.state == "closed"
        assert s.case.closure_reason == "completed"


def test_consent_withdrawn_flags_future_meetings(s, signed_in):
    from rj_scheduler.cases.services import record_consent
    from rj_scheduler.conferences.queries import meetings_needing_attention

    meeting = services.book_meeting(face_to_face(s), actor=s.lead, at=NOW)
    assert meetings_needing_attention(s.service.id, NOW) == []
    record_consent(s.victim, "take_part", given=False, at=NOW, method="phone", actor=s.lead)
    flagged = meetings_needing_attention(s.service.id, NOW)
    assert [m.public_id for m, _ in flagged] == [meeting.public_id]
    assert any("withdrawn consent" in r for r in flagged[0][1])
    page = signed_in(s.lead).get(f"/meetings/{meeting.public_id}")
    assert "could not be booked as it stands" in page.text


def test_approval_expiry_flags_future_meetings(s):
    from rj_scheduler.conferences.queries import meetings_needing_attention

    services.book_meeting(face_to_face(s, start=at_local(dt.date(2027, 2, 23), 10)), actor=s.lead, at=NOW)
    assert meetings_needing_attention(s.service.id, NOW) == []
    later = NOW + dt.timedelta(days=91)
    flagged = meetings_needing_attention(s.service.id, later)
    assert flagged
    assert any("expired" in r for r in flagged[0][1])


def test_manager_manages_venues_and_facilitator_cannot(s, signed_in):
    manager = signed_in(s.manager)
    response = manager.post(
        "/venues/new",
        data={"name": "Hill House", "kind": "community", "address": "2 Hill Road", "is_active": "y"},
    )
    assert response.status_code == 302
    venue = db.session.query(Venue).filter_by(name="Hill House").one()
    assert (
        manager.post(
            f"/venues/{venue.public_id}/rooms/new",
            data={"name": "Quiet room", "kind": "waiting", "capacity": "3"},
        ).status_code
        == 302
    )
    assert (
        manager.post(
            f"/venues/{venue.public_id}/entrances/new", data={"name": "Back door", "parking": "Two spaces"}
        ).status_code
        == 302
    )
    assert (
        manager.post(
            f"/venues/{venue.public_id}/hours", data={"from_0": "10:00", "until_0": "09:00"}
        ).status_code
        == 400
    )
    page = manager.get(f"/venues/{venue.public_id}")
    assert "Quiet room" in page.text
    assert "Back door" in page.text
    assert signed_in(s.lead).get("/venues").status_code == 403


def test_facilitator_keeps_own_leave_and_only_managers_keep_others(s, signed_in):
    client = signed_in(s.co)
    response = client.post("/availability/leave", data={"starts_on": ["1", "12", "2026"]})
    assert response.status_code == 302
    assert db.session.query(StaffLeave).filter_by(user_id=s.co.id).count() == 1
    assert client.post("/availability/hours", data={"from_1": "13:00", "until_1": "17:00"}).status_code == 302
    assert client.get(f"/staff/{s.lead.public_id}/availability").status_code == 403
    assert signed_in(s.manager).get(f"/staff/{s.co.public_id}/availability").status_code == 200
    assert "Colin Co is on leave on Tuesday 1 December 2026." in services.booking_refusals(
        face_to_face(s), NOW
    )


def test_conference_settings_are_managers_only(s, signed_in):
    assert signed_in(s.lead).get("/conference-settings").status_code == 403
    response = signed_in(s.manager).post(
        "/conference-settings",
        data={
            "victim_arrives_before_start_minutes": "10",
            "offender_arrives_before_victim_minutes": "0",
            "victim_leaves_before_offender_minutes": "15",
            "buffer_minutes": "30",
        },
    )
    assert response.status_code == 400  # the parties must arrive at different times


def test_party_unavailable_dates_page(s, signed_in):
    client = signed_in(s.lead)
    url = f"/cases/{s.case.reference}/parties/{s.victim.public_id}/availability"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"starts_on": ["1", "12", "2026"]})
    assert response.status_code == 302
    assert "Vera Victim (victim) is not available on Tuesday 1 December 2026." in services.booking_refusals(
        face_to_face(s), NOW
    )


def test_staff_of_another_service_get_404_for_a_meeting(s, signed_in):
    meeting = services.book_meeting(face_to_face(s), actor=s.lead, at=NOW)
    outsider = make_user(None, Role.MANAGER)
    assert signed_in(outsider).get(f"/meetings/{meeting.public_id}").status_code == 404


def test_shuttle_meetings_form_a_series_one_side_at_a_time(s, signed_in):
    client = signed_in(s.lead)
    url = f"/cases/{s.case.reference}/meetings/new"
    shuttle = {
        "kind": "conference",
        "format": "shuttle",
        "day": [str(DAY.day), str(DAY.month), str(DAY.year)],
        "start_time": "10:00",
        "duration_minutes": "60",
        "lead_facilitator": s.lead.public_id,
    }
    both = client.post(url, data={**shuttle, "parties": [s.victim.public_id, s.offender.public_id]})
    assert both.status_code == 400
    assert "involves one side only" in both.text
    first = client.post(url, data={**shuttle, "parties": [s.victim.public_id]})
    assert first.status_code == 302
    origin = db.session.query(Meeting).one()
    page = client.get(f"/meetings/{origin.public_id}")
    assert "Book the next shuttle meeting" in page.text
    form = client.get(f"{url}?series={origin.public_id}&kind=conference&format=shuttle")
    assert f'value="{origin.public_id}"' in form.text
    second = client.post(
        url,
        data={
            **shuttle,
            "start_time": "14:00",
            "parties": [s.offender.public_id],
            "series": origin.public_id,
        },
    )
    assert second.status_code == 302, second.text
    db.session.expire_all()
    series = {m.series_id for m in db.session.query(Meeting).all()}
    assert series == {origin.public_id}
    assert "Meeting 2 of 2" in client.get(second.headers["Location"]).text


def test_a_room_no_longer_in_use_cannot_be_booked(s, signed_in):
    manager = signed_in(s.manager)
    url = f"/venues/{s.venue.public_id}/rooms/{s.meeting_room.public_id}/in-use"
    assert manager.post(url).status_code == 302
    db.session.expire_all()
    assert s.meeting_room.is_active is False
    assert "Meeting room 1 is no longer used for meetings." in services.booking_refusals(face_to_face(s), NOW)
    assert signed_in(s.lead).post(url).status_code == 403


def test_managers_see_everyones_availability(s, signed_in):
    services.add_leave(s.co, starts_on=NOW.date(), ends_on=NOW.date(), note=None, actor=s.co, at=NOW)
    page = signed_in(s.manager).get("/availability/team")
    assert page.status_code == 200
    assert "Colin Co" in page.text
    assert "On leave" in page.text
    assert signed_in(s.lead).get("/availability/team").status_code == 403
