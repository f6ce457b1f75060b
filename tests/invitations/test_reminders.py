"""Reminders: at the service's offsets before each party's own arrival, earlier rather than late, never stale."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from rj_scheduler.cases.contact import contact_decision
from rj_scheduler.cases.models import ContactWindow, OffenceCategory
from rj_scheduler.conferences.services import cancel_meeting, draft_from_meeting, reschedule_meeting
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.invitations import services
from rj_scheduler.invitations.content import view_for
from rj_scheduler.invitations.models import InvitationSettings, InvitationStatus
from rj_scheduler.invitations.reminders import (
    ReminderSettingsRefused,
    cancel_reminders,
    latest_safe_time,
    parse_reminders,
    plan_reminders,
    reminder_plan,
)
from rj_scheduler.notify.dispatcher import Dispatcher, DispatchStats
from rj_scheduler.notify.models import MessageStatus, OutboxMessage
from rj_scheduler.notify.services import save_wording
from tests.conferences.conf_helpers import at_local
from tests.invitations.inv_helpers import DAY, book, messages_of, reachable_setting
from tests.notify.conftest import dispatcher_config

LONDON_NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # Monday 23 November 2026, 09:00 in London (GMT)
QUIET = "20:00-09:00"


@pytest.fixture(autouse=True)
def frozen_clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(app.config, "RJ_QUIET_HOURS", QUIET)
    with time_machine.travel(LONDON_NOW, tick=True):
        yield


def _dispatch(app: Flask) -> DispatchStats:
    """One dispatcher run (outbox backends, so messages are kept), with the quiet hours the reminders were planned for."""
    return Dispatcher(dispatcher_config(app, RJ_QUIET_HOURS=QUIET), poll_interval=0.05).run(once=True)


def _reminders(meeting, party=None, *, status=None) -> list[OutboxMessage]:
    where = {"kind": "appointment_reminder"}
    if party is not None:
        where["party_id"] = party.id
    if status is not None:
        where["status"] = status
    return messages_of(meeting, **where)


def _due(messages) -> list[tuple[str, dt.datetime]]:
    return sorted((m.channel, m.due_at) for m in messages)


def _reload(message: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message.id)


# --- the service's offsets --------------------------------------------------------------------------


def test_the_default_offsets_are_three_days_and_one_day_by_email_and_sms_and_two_hours_by_sms():
    assert reminder_plan(InvitationSettings(reminders="3d:email+sms, 1d:email+sms, 2h:sms")) == [
        (dt.timedelta(days=3), ("email", "sms")),
        (dt.timedelta(days=1), ("email", "sms")),
        (dt.timedelta(hours=2), ("sms",)),
    ]


def test_offsets_are_read_in_any_order_and_listed_longest_first():
    assert parse_reminders("90m:sms,2 days:sms+email") == [
        (dt.timedelta(days=2), ("email", "sms")),
        (dt.timedelta(minutes=90), ("sms",)),
    ]
    assert parse_reminders("") == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("3d", "say when and how"),
        ("3x:email", "as a number and d (days)"),
        ("3d:post", "must be email, sms or email+sms"),
        ("10m:sms", "at least 30 minutes"),
        ("40d:email", "at most 28 days"),
        ("1d:email, 24h:sms", "already a reminder at that time"),
        ("1d:email,,2h:sms", "empty reminder"),
        ("1d:sms,2d:sms,3d:sms,4d:sms,5d:sms,6d:sms,7d:sms", "at most 6 reminders"),
    ],
)
def test_offsets_that_cannot_be_used_are_refused_with_a_plain_reason(text, reason):
    with pytest.raises(ReminderSettingsRefused) as refused:
        parse_reminders(text)
    assert reason in " ".join(refused.value.reasons)


# --- when they are due ------------------------------------------------------------------------------


def test_booking_queues_each_partys_reminders_before_their_own_arrival_and_none_for_facilitators():
    booked = book()
    for party in (booked.victim, booked.offender):
        arrival = view_for(booked.invitation_of(party=party), now()).arrives_at
        reminders = _reminders(booked.meeting, party)
        # 3 days and 1 day before by email and SMS; 2 hours before by SMS falls in the quiet hours
        # (their arrival is in the morning), so it goes the evening before, a quarter before 20:00.
        evening_before = at_local(DAY - dt.timedelta(days=1), 19, 45)
        assert _due(reminders) == sorted(
            [
                ("email", arrival - dt.timedelta(days=3)),
                ("sms", arrival - dt.timedelta(days=3)),
                ("email", arrival - dt.timedelta(days=1)),
                ("sms", arrival - dt.timedelta(days=1)),
                ("sms", evening_before),
            ]
        )
        assert all(m.status == MessageStatus.PENDING for m in reminders)
        invitation = booked.invitation_of(party=party)
        assert all(m.idempotency_key.startswith(f"reminder:{invitation.id}:0:") for m in reminders)
    # Their arrival times differ (staggered arrival): each party's reminders name only their own.
    victim_sms = next(m for m in _reminders(booked.meeting, booked.victim) if m.channel == "sms")
    offender_view = view_for(booked.invitation_of(party=booked.offender), now())
    assert offender_view.arrival_time_text not in victim_sms.body_text
    for user in (booked.setting.lead, booked.setting.co):
        assert not [
            m for m in messages_of(booked.meeting, user_id=user.id) if m.kind == "appointment_reminder"
        ]


def test_a_reminder_outside_the_partys_safe_times_is_moved_earlier_into_them():
    s = reachable_setting()
    # The victim is safe to contact only between 18:00 and 19:00, any day; the offender only on Fridays then.
    for weekday in range(7):
        s.victim.contact_windows.append(
            ContactWindow(weekday=weekday, starts_at=dt.time(18), ends_at=dt.time(19))
        )
    s.offender.contact_windows.append(ContactWindow(weekday=4, starts_at=dt.time(18), ends_at=dt.time(19)))
    db.session.flush()
    booked = book(s)  # Tuesday 1 December, in the morning
    friday = at_local(dt.date(2026, 11, 27), 18, 45)  # 3 days before: Saturday morning -> Friday evening
    sunday = at_local(dt.date(2026, 11, 29), 18, 45)  # 1 day before: Monday morning -> Sunday evening
    monday = at_local(dt.date(2026, 11, 30), 18, 45)  # 2 hours before: Tuesday early -> Monday evening
    victim = _reminders(booked.meeting, s.victim)
    assert _due(victim) == sorted(
        [("email", friday), ("sms", friday), ("email", sunday), ("sms", sunday), ("sms", monday)]
    )
    for message in victim:
        assert contact_decision(s.victim, message.channel, message.due_at).allowed
    # Every offender reminder would move back to the same Friday evening: it is sent once per channel.
    assert _due(_reminders(booked.meeting, s.offender)) == [("email", friday), ("sms", friday)]


def test_the_latest_safe_time_keeps_to_sms_quiet_hours_and_the_do_not_contact_before_date():
    s = reachable_setting()
    monday_0700 = at_local(dt.date(2026, 11, 30), 7)
    assert latest_safe_time(s.victim, "email", monday_0700, quiet_hours=QUIET) == monday_0700
    assert latest_safe_time(s.victim, "sms", monday_0700, quiet_hours=QUIET) == at_local(
        dt.date(2026, 11, 29), 19, 45
    )
    assert latest_safe_time(s.victim, "sms", monday_0700, quiet_hours="off") == monday_0700
    s.victim.do_not_contact_before = dt.date(2026, 11, 30)
    assert latest_safe_time(s.victim, "sms", monday_0700, quiet_hours=QUIET) is None
    assert latest_safe_time(s.victim, "email", monday_0700, quiet_hours=QUIET) == monday_0700


def test_across_the_clock_change_reminders_keep_london_time():
    s = reachable_setting()
    # Summer time ends on Sunday 25 October 2026: 1 day before a 10:00 Monday arrival is 10:00 Sunday GMT.
    target = at_local(dt.date(2026, 10, 25), 21, 0)  # in quiet hours (after 20:00 GMT)
    assert latest_safe_time(s.victim, "sms", target, quiet_hours=QUIET) == at_local(
        dt.date(2026, 10, 25), 19, 45
    )
    summer = at_local(dt.date(2026, 10, 24), 21, 0)  # still BST
    assert latest_safe_time(s.victim, "sms", summer, quiet_hours=QUIET) == at_local(
        dt.date(2026, 10, 24), 19, 45
    )


def test_a_reminder_whose_time_has_passed_is_not_sent():
    # Booked on Monday morning for Tuesday afternoon: 3 days before has passed.
    booked = book(start=at_local(dt.date(2026, 11, 24), 15))
    reminders = _reminders(booked.meeting, booked.victim)
    arrival = view_for(booked.invitation_of(party=booked.victim), now()).arrives_at
    assert _due(reminders) == sorted(
        [
            ("email", arrival - dt.timedelta(days=1)),
            ("sms", arrival - dt.timedelta(days=1)),
            ("sms", arrival - dt.timedelta(hours=2)),
        ]
    )
    assert all(m.due_at >= now() - dt.timedelta(minutes=1) for m in reminders)


def test_reminders_fire_at_their_times_through_the_dispatcher(app):
    booked = book()
    _dispatch(app)  # the invitations go now
    victim_arrival = view_for(booked.invitation_of(party=booked.victim), now()).arrives_at
    three_days = victim_arrival - dt.timedelta(days=3)
    with time_machine.travel(three_days - dt.timedelta(minutes=5), tick=True):
        _dispatch(app)  # the offender arrives first: their reminders may go, the victim's wait
    assert not _reminders(booked.meeting, booked.victim, status=MessageStatus.KEPT)
    with time_machine.travel(three_days + dt.timedelta(minutes=1), tick=True):
        _dispatch(app)
    kept = _reminders(booked.meeting, booked.victim, status=MessageStatus.KEPT)
    assert _due(kept) == [("email", three_days), ("sms", three_days)]
    assert "reminder" in next(m for m in kept if m.channel == "sms").body_text
    with time_machine.travel(victim_arrival - dt.timedelta(minutes=30), tick=True):
        _dispatch(app)
    assert len(_reminders(booked.meeting, booked.victim, status=MessageStatus.KEPT)) == 5


# --- when they stop ---------------------------------------------------------------------------------


def test_declining_cancels_the_partys_pending_reminders():
    booked = book()
    invitation = booked.invitation_of(party=booked.victim)
    services.respond(invitation, "decline", note=None, at=now(), via="page")
    db.session.expire_all()
    assert {m.status for m in _reminders(booked.meeting, booked.victim)} == {MessageStatus.CANCELLED}
    assert {m.status for m in _reminders(booked.meeting, booked.offender)} == {MessageStatus.PENDING}
    assert plan_reminders(invitation, view_for(invitation, now()), now()) == 0


def test_a_reminder_of_a_declined_invitation_is_cancelled_just_before_sending(app):
    booked = book()
    invitation = booked.invitation_of(party=booked.victim)
    # Declined by a path that did not cancel the queued reminders: the pre-send check still stops them.
    invitation.status = InvitationStatus.DECLINED.value
    db.session.flush()
    with time_machine.travel(booked.meeting.starts_at - dt.timedelta(hours=1), tick=True):
        _dispatch(app)
    reminders = _reminders(booked.meeting, booked.victim)
    assert {m.status for m in reminders} == {MessageStatus.CANCELLED}
    assert {m.status_reason for m in reminders} == {"They said they cannot come."}
    assert {m.status for m in _reminders(booked.meeting, booked.offender)} == {MessageStatus.KEPT}


def test_cancelling_the_meeting_cancels_every_reminder():
    booked = book()
    cancel_meeting(booked.meeting, reason="Facilitator ill", actor=booked.setting.lead, at=now())
    db.session.expire_all()
    assert {m.status for m in _reminders(booked.meeting)} == {MessageStatus.CANCELLED}


def test_a_withdrawal_cancels_the_withdrawn_partys_reminders_and_the_others():
    booked = book()
    services.respond(booked.invitation_of(party=booked.victim), "withdraw", note=None, at=now(), via="page")
    db.session.expire_all()
    assert {m.status for m in _reminders(booked.meeting)} == {MessageStatus.CANCELLED}


def test_a_party_who_refused_sms_gets_reminders_by_email_only():
    s = reachable_setting()
    s.victim.allow_sms = False
    db.session.flush()
    booked = book(s)
    assert {m.channel for m in _reminders(booked.meeting, s.victim)} == {"email"}
    assert {m.channel for m in _reminders(booked.meeting, s.offender)} == {"email", "sms"}


def test_a_reminder_to_a_party_who_has_since_opted_out_is_not_sent(app):
    booked = book()
    booked.victim.allow_sms = False
    db.session.flush()
    with time_machine.travel(booked.meeting.starts_at - dt.timedelta(hours=1), tick=True):
        _dispatch(app)
    sms = [m for m in _reminders(booked.meeting, booked.victim) if m.channel == "sms"]
    assert {m.status for m in sms} == {MessageStatus.SUPPRESSED}


def test_rescheduling_replaces_the_reminders_with_ones_for_the_new_time(app):
    booked = book()
    old = _reminders(booked.meeting, booked.victim)
    draft = draft_from_meeting(booked.meeting)
    draft.starts_at = at_local(DAY + dt.timedelta(days=1), 14)
    draft.ends_at = draft.starts_at + dt.timedelta(minutes=90)
    for plan in draft.parties:
        plan.arrives_at = plan.departs_at = None
    reschedule_meeting(booked.meeting, draft, reason="Room needed", actor=booked.setting.lead, at=now())
    db.session.expire_all()
    assert {_reload(m).status for m in old} == {MessageStatus.CANCELLED}
    new = _reminders(booked.meeting, booked.victim, status=MessageStatus.PENDING)
    arrival = view_for(booked.invitation_of(party=booked.victim), now()).arrives_at
    assert _due(new) == sorted(
        [
            ("email", arrival - dt.timedelta(days=3)),
            ("sms", arrival - dt.timedelta(days=3)),
            ("email", arrival - dt.timedelta(days=1)),
            ("sms", arrival - dt.timedelta(days=1)),
            ("sms", arrival - dt.timedelta(hours=2)),
        ]
    )
    assert all(f":{booked.meeting.sequence}:" in m.idempotency_key for m in new)


def test_a_reminder_planned_for_an_older_version_of_the_meeting_is_cancelled_before_sending(app):
    booked = book()
    # The meeting moved on without its reminders being replaced (e.g. a change made by another path).
    booked.meeting.sequence += 1
    db.session.flush()
    with time_machine.travel(booked.meeting.starts_at - dt.timedelta(hours=1), tick=True):
        _dispatch(app)
    reminders = _reminders(booked.meeting, booked.victim)
    assert {m.status for m in reminders} == {MessageStatus.CANCELLED}
    assert all("new time has its own reminders" in m.status_reason for m in reminders)


def test_cancel_reminders_leaves_sent_ones_and_other_messages_alone(app):
    booked = book()
    invitation = booked.invitation_of(party=booked.victim)
    assert cancel_reminders(invitation, "Testing") == 5
    assert cancel_reminders(invitation, "Testing") == 0
    invites = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.meeting_id == booked.meeting.id,
            OutboxMessage.party_id == booked.victim.id,
            OutboxMessage.kind == "invitation",
        )
    ).all()
    assert {m.status for m in invites} == {MessageStatus.PENDING}
    assert cancel_reminders(booked.invitation_of(user=booked.setting.lead), "Testing") == 0


def test_the_offence_is_named_only_in_the_plain_wording_a_party_chose():
    s = reachable_setting()
    s.victim.wording = "plain"
    db.session.flush()
    save_wording(
        s.service,
        "appointment_reminder",
        "sms",
        "plain",
        None,
        "Hello ((first_name)), a reminder about ((offence)) on ((appointment_date)).",
        by=s.manager,
    )
    booked = book(s)
    offence = OffenceCategory.label_of(s.case.offence_category).lower()
    victim_sms = [m for m in _reminders(booked.meeting, s.victim) if m.channel == "sms"]
    assert victim_sms
    assert all(f"a reminder about {offence} on" in m.body_text for m in victim_sms)
    for message in _reminders(booked.meeting, s.offender):
        assert offence not in message.body_text.lower()


def test_a_polish_speaking_party_is_reminded_in_polish():
    s = reachable_setting()
    s.victim.language = "pl"
    db.session.flush()
    booked = book(s)
    sms = next(m for m in _reminders(booked.meeting, s.victim) if m.channel == "sms")
    english = next(m for m in _reminders(booked.meeting, s.offender) if m.channel == "sms")
    assert "a reminder of your appointment" in english.body_text
    assert "a reminder of your appointment" not in sms.body_text


def test_a_reminder_that_cannot_be_worded_discreetly_is_not_queued_and_booking_goes_ahead():
    s = reachable_setting()
    s.victim.preferred_name = "Court"  # a name that would give the case away in a discreet message
    db.session.flush()
    booked = book(s)
    assert _reminders(booked.meeting, s.victim) == []
    assert len(_reminders(booked.meeting, s.offender)) == 5
