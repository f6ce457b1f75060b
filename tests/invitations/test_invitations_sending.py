"""Booking invites every attendee; reschedules update, cancellations cancel, withdrawals end and tell others neutrally."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from icalendar import Calendar

from rj_scheduler.cases.services import record_consent
from rj_scheduler.conferences.exceptions import BookingRefused
from rj_scheduler.conferences.services import (
    cancel_meeting,
    draft_from_meeting,
    postpone_meeting,
    reschedule_meeting,
)
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.invitations import queries, tokens
from rj_scheduler.invitations.exceptions import ResponseRefused
from rj_scheduler.invitations.models import InvitationStatus, TaskKind
from rj_scheduler.invitations.services import respond
from rj_scheduler.notify.models import MessageStatus
from tests.conferences.conf_helpers import at_local
from tests.invitations.inv_helpers import DAY, book, messages_of, reachable_setting


def _calendar(message) -> Calendar:
    attachment = next(a for a in message.attachments if a.content_type.startswith("text/calendar"))
    return Calendar.from_ical(attachment.content)


def _event(message):
    return next(iter(_calendar(message).walk("VEVENT")))


def test_booking_invites_each_party_by_sms_and_email_and_each_facilitator_by_email():
    booked = book()
    invitations = queries.invitations_for_meeting(db.session, booked.meeting)
    assert len(invitations) == 4
    for party in (booked.victim, booked.offender):
        invitation = booked.invitation_of(party=party)
        assert invitation.status == InvitationStatus.INVITED
        assert invitation.channels == "email+sms"
        sent = messages_of(booked.meeting, party_id=party.id, kind="invitation")
        assert sorted((m.kind, m.channel) for m in sent) == [("invitation", "email"), ("invitation", "sms")]
        assert tokens.link_for(invitation) in next(m for m in sent if m.channel == "sms").body_text
    for user in (booked.setting.lead, booked.setting.co):
        [staff] = messages_of(booked.meeting, user_id=user.id)
        assert staff.kind == "staff_invitation"
        assert "Garden room" in staff.body_text
        assert "Blue room" in staff.body_text
        calendar = staff.attachments[0].content.decode()
        for party in (booked.victim, booked.offender):
            for detail in (party.mobile_e164, party.email, party.address.split(",")[0]):
                assert detail not in staff.body_text
                assert detail not in calendar
        assert "Garden room" in calendar.replace("\r\n ", "")


def test_party_email_carries_a_request_for_their_own_arrival_with_the_service_as_organizer():
    booked = book()
    victim_email = next(
        m for m in messages_of(booked.meeting, party_id=booked.victim.id) if m.channel == "email"
    )
    calendar = _calendar(victim_email)
    event = _event(victim_email)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"{booked.meeting.public_id}@127.0.0.1"
    assert int(event["SEQUENCE"]) == 0
    attendance = next(a for a in booked.meeting.attendees if a.party_id == booked.victim.id)
    assert event.decoded("DTSTART").astimezone(dt.UTC) == attendance.arrives_at
    assert event.decoded("DTEND").astimezone(dt.UTC) == attendance.departs_at
    assert str(event["ORGANIZER"]).lower() == "mailto:appointments@example.org"
    attendees = event.get("ATTENDEE")
    assert not isinstance(attendees, list)
    assert str(attendees).lower() == "mailto:vera.v@example.org"
    assert "Main entrance on King Street" in str(event["LOCATION"])
    assert "Side entrance" not in event.to_ical().decode()


def test_reschedule_sends_updates_with_the_same_uid_and_a_higher_sequence_once():
    booked = book()
    draft = draft_from_meeting(booked.meeting)
    draft.starts_at = at_local(DAY, 13)
    draft.ends_at = draft.starts_at + dt.timedelta(minutes=90)
    for plan in draft.parties:
        plan.arrives_at = plan.departs_at = None
    reschedule_meeting(booked.meeting, draft, reason="Room needed", actor=booked.setting.lead, at=now())
    updates = messages_of(booked.meeting, party_id=booked.victim.id, kind="invitation_update")
    assert sorted(m.channel for m in updates) == ["email", "sms"]
    event = _event(next(m for m in updates if m.channel == "email"))
    assert str(event["UID"]) == f"{booked.meeting.public_id}@127.0.0.1"
    assert int(event["SEQUENCE"]) == 1
    # The same change again sends nothing more.
    from rj_scheduler.invitations.services import sync_invitations

    sync_invitations(booked.meeting, now())
    assert len(messages_of(booked.meeting, party_id=booked.victim.id, kind="invitation_update")) == 2


def test_reschedule_into_a_slot_that_breaks_a_rule_is_refused_and_sends_nothing():
    booked = book()
    before = len(messages_of(booked.meeting))
    draft = draft_from_meeting(booked.meeting)
    draft.starts_at = at_local(DAY, 3)  # the venue is closed at 3am
    draft.ends_at = draft.starts_at + dt.timedelta(minutes=90)
    for plan in draft.parties:
        plan.arrives_at = plan.departs_at = None
    with pytest.raises(BookingRefused):
        reschedule_meeting(booked.meeting, draft, reason="Try", actor=booked.setting.lead, at=now())
    assert len(messages_of(booked.meeting)) == before


def test_cancelling_sends_cancellations_once_and_kills_the_links():
    booked = book()
    invitation = booked.invitation_of(party=booked.victim)
    token = tokens.token_for(invitation)
    cancel_meeting(booked.meeting, reason="Facilitator ill", actor=booked.setting.lead, at=now())
    cancellations = messages_of(booked.meeting, party_id=booked.victim.id, kind="invitation_cancelled")
    assert sorted(m.channel for m in cancellations) == ["email", "sms"]
    calendar = _calendar(next(m for m in cancellations if m.channel == "email"))
    assert str(calendar["METHOD"]) == "CANCEL"
    event = next(iter(calendar.walk("VEVENT")))
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == booked.meeting.sequence >= 1
    assert "Facilitator ill" not in " ".join(m.body_text for m in cancellations)
    assert tokens.invitation_for_token(db.session, token, now()) is None
    assert invitation.status == InvitationStatus.CANCELLED
    # The unsent invites were cancelled, not left to go out after the cancellation.
    pending_invites = messages_of(booked.meeting, kind="invitation", status=MessageStatus.PENDING.value)
    assert pending_invites == []


def test_postponing_cancels_and_rescheduling_invites_again_with_a_higher_sequence():
    booked = book()
    postpone_meeting(booked.meeting, reason="Venue flooded", actor=booked.setting.lead, at=now())
    assert booked.invitation_of(party=booked.victim).status == InvitationStatus.CANCELLED
    draft = draft_from_meeting(booked.meeting)
    for plan in draft.parties:
        plan.arrives_at = plan.departs_at = None
    reschedule_meeting(booked.meeting, draft, reason="Venue dry", actor=booked.setting.lead, at=now())
    invitation = booked.invitation_of(party=booked.victim)
    assert invitation.status == InvitationStatus.INVITED
    update = next(
        m
        for m in messages_of(booked.meeting, party_id=booked.victim.id, kind="invitation_update")
        if m.channel == "email"
    )
    assert int(_event(update)["SEQUENCE"]) == booked.meeting.sequence == 2


def test_victim_withdrawal_cancels_their_invitations_and_tells_the_others_only_that_it_will_not_go_ahead():
    booked = book()
    record_consent(
        booked.victim, "take_part", given=False, at=now(), method="phone", actor=booked.setting.lead
    )
    victim_invitation = booked.invitation_of(party=booked.victim)
    assert victim_invitation.status == InvitationStatus.WITHDRAWN
    assert {
        m.channel for m in messages_of(booked.meeting, party_id=booked.victim.id, kind="invitation_cancelled")
    } == {
        "email",
        "sms",
    }
    offender_notices = messages_of(
        booked.meeting, party_id=booked.offender.id, kind="meeting_not_going_ahead"
    )
    assert sorted(m.channel for m in offender_notices) == ["email", "sms"]
    text = " ".join(f"{m.subject or ''} {m.body_text}" for m in offender_notices).lower()
    for word in ("vera", "victim", "withdr", "consent", "take part"):
        assert word not in text
    assert booked.invitation_of(party=booked.offender).status == InvitationStatus.CANCELLED
    assert str(_calendar(next(m for m in offender_notices if m.channel == "email"))["METHOD"]) == "CANCEL"
    # Cancelling the meeting afterwards sends the parties nothing more.
    cancel_meeting(booked.meeting, reason="Victim withdrew", actor=booked.setting.lead, at=now())
    assert messages_of(booked.meeting, party_id=booked.offender.id, kind="invitation_cancelled") == []
    assert (
        messages_of(booked.meeting, party_id=booked.victim.id, kind="invitation_cancelled")[0].status
        == "pending"
    )


def test_a_party_who_allows_neither_sms_nor_email_gets_a_letter_task_for_the_facilitator():
    s = reachable_setting()
    s.offender.allow_sms = False
    s.offender.allow_email = False
    db.session.flush()
    booked = book(s)
    invitation = booked.invitation_of(party=booked.offender)
    assert invitation.channels == "letter"
    assert messages_of(booked.meeting, party_id=booked.offender.id) == []
    [task] = queries.tasks_for_case(db.session, booked.setting.case)
    assert task.kind == TaskKind.SEND_LETTER
    assert task.invitation_id == invitation.id


def test_answers_change_the_status_and_give_the_facilitator_tasks():
    booked = book()
    victim = booked.invitation_of(party=booked.victim)
    offender = booked.invitation_of(party=booked.offender)
    respond(victim, "confirm", note=None, at=now(), via="page")
    assert victim.status == InvitationStatus.CONFIRMED
    respond(offender, "change", note="Afternoons are better", at=now(), via="page")
    assert offender.status == InvitationStatus.CHANGE_REQUESTED
    assert offender.response_note == "Afternoons are better"
    kinds = [t.kind for t in queries.tasks_for_case(db.session, booked.setting.case)]
    assert kinds == [TaskKind.CHANGE_REQUESTED]
    respond(offender, "decline", note=None, at=now(), via="sms")
    assert offender.status == InvitationStatus.DECLINED
    with pytest.raises(ResponseRefused):
        respond(victim, "change", note="  ", at=now(), via="page")
    with pytest.raises(ResponseRefused):
        respond(victim, "maybe", note=None, at=now(), via="page")


def test_no_longer_taking_part_from_the_page_withdraws_consent_and_asks_the_facilitator_to_call():
    booked = book()
    victim = booked.invitation_of(party=booked.victim)
    respond(victim, "withdraw", note=None, at=now(), via="page")
    assert victim.status == InvitationStatus.WITHDRAWN
    assert TaskKind.CALL_AFTER_WITHDRAWAL in [
        t.kind for t in queries.tasks_for_case(db.session, booked.setting.case)
    ]
    from rj_scheduler.cases.consent import has_consent

    assert not has_consent(booked.victim, "take_part")
    with pytest.raises(ResponseRefused):
        respond(victim, "confirm", note=None, at=now(), via="page")


def test_links_expire_a_configured_number_of_days_after_the_meeting():
    booked = book()
    invitation = booked.invitation_of(party=booked.victim)
    token = tokens.token_for(invitation)
    assert tokens.invitation_for_token(db.session, token, now()) is invitation
    assert (
        tokens.invitation_for_token(db.session, token[:-1] + ("A" if token[-1] != "A" else "B"), now())
        is None
    )
    assert tokens.invitation_for_token(db.session, "not a token", now()) is None
    ends = booked.meeting.ends_at
    assert tokens.invitation_for_token(db.session, token, ends + dt.timedelta(days=29)) is invitation
    assert tokens.invitation_for_token(db.session, token, ends + dt.timedelta(days=30, seconds=1)) is None


def test_only_a_hash_of_the_token_is_stored():
    booked = book()
    invitation = booked.invitation_of(party=booked.victim)
    token = tokens.token_for(invitation)
    assert len(token) >= 43  # 256 bits, URL-safe base64
    row = (
        db.session.execute(db.text("SELECT * FROM invitations WHERE id = :id"), {"id": invitation.id})
        .mappings()
        .one()
    )
    assert token not in " ".join(str(v) for v in row.values())
    assert row["token_hash"] == tokens.token_hash(token)


def test_answers_after_the_start_are_refused():
    booked = book()
    victim = booked.invitation_of(party=booked.victim)
    with (
        time_machine.travel(booked.meeting.starts_at + dt.timedelta(minutes=1), tick=False),
        pytest.raises(ResponseRefused),
    ):
        respond(victim, "confirm", note=None, at=now(), via="page")


def test_a_name_that_would_give_the_case_away_sends_nothing_and_asks_the_facilitator_to_phone():
    s = reachable_setting()
    s.victim.preferred_name = "Court"
    db.session.flush()
    booked = book(s)
    assert messages_of(booked.meeting, party_id=booked.victim.id, kind="invitation") == []
    tasks = queries.tasks_for_case(db.session, booked.setting.case)
    assert [t.kind for t in tasks if t.invitation.party_id == booked.victim.id] == [TaskKind.SEND_LETTER] * 2
    assert len(messages_of(booked.meeting, party_id=booked.offender.id, kind="invitation")) == 2


def test_an_update_follows_the_partys_language_if_it_was_corrected():
    booked = book()
    booked.offender.language = "pl"
    db.session.flush()
    draft = draft_from_meeting(booked.meeting)
    draft.starts_at = at_local(DAY, 13)
    draft.ends_at = draft.starts_at + dt.timedelta(minutes=90)
    for plan in draft.parties:
        plan.arrives_at = plan.departs_at = None
    reschedule_meeting(booked.meeting, draft, reason="Room needed", actor=booked.setting.lead, at=now())
    [first] = messages_of(booked.meeting, party_id=booked.offender.id, kind="invitation", channel="sms")
    [update] = messages_of(
        booked.meeting, party_id=booked.offender.id, kind="invitation_update", channel="sms"
    )
    assert first.body_text.startswith("Hello")
    assert update.body_text.startswith("Dzień dobry")
