"""Consent is derived from its records; safe contact is decided in one place."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from factories import give_full_consent, make_case, make_party, make_user

from rj_scheduler.cases import events
from rj_scheduler.cases.consent import consent_statuses, current_consent, has_consent
from rj_scheduler.cases.contact import (
    contact_decision,
    find_parties_by_mobile,
    record_channel_opt_in,
    record_channel_opt_out,
    uses_plain_wording,
)
from rj_scheduler.cases.exceptions import ConsentInvalid
from rj_scheduler.cases.services import record_consent, set_contact_preferences
from rj_scheduler.db import now
from rj_scheduler.extensions import db

# Monday 2 March 2026 at 10:00 London (GMT).
MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _party(**details):
    case = make_case(lead=make_user())
    return make_party(case, "victim", mobile="07700 900321", email="vera@example.org", **details)


def test_current_consent_is_the_latest_decision():
    party = _party()
    at = now()
    record_consent(party, "take_part", given=True, at=at - dt.timedelta(days=2), method="phone", actor=None)
    assert has_consent(party, "take_part")
    record_consent(party, "take_part", given=False, at=at - dt.timedelta(days=1), method="letter", actor=None)
    assert not has_consent(party, "take_part")
    record_consent(party, "take_part", given=True, at=at, method="in_person", actor=None)
    assert has_consent(party, "take_part")
    assert current_consent(party, "take_part").method == "in_person"


def test_a_backdated_record_does_not_override_a_later_decision():
    party = _party()
    at = now()
    record_consent(party, "contact", given=False, at=at, method="phone", actor=None)
    record_consent(party, "contact", given=True, at=at - dt.timedelta(days=5), method="letter", actor=None)
    assert not has_consent(party, "contact")


def test_consent_to_share_is_per_named_partner():
    party = _party()
    record_consent(
        party, "share_information", given=True, at=now(), method="online", actor=None, partner="Probation"
    )
    assert has_consent(party, "share_information", "probation")
    assert not has_consent(party, "share_information", "Youth Offending Team")
    assert [s.label for s in consent_statuses(party)][-1] == "To share information with Probation"


def test_consent_to_share_needs_a_partner_and_a_known_method():
    party = _party()
    with pytest.raises(ConsentInvalid) as refused:
        record_consent(party, "share_information", given=True, at=now(), method="telepathy", actor=None)
    assert set(refused.value.errors) == {"partner", "method"}


def test_withdrawing_consent_to_take_part_sends_the_event_once():
    party = _party()
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    events.consent_to_take_part_withdrawn.connect(listener)
    try:
        record_consent(party, "take_part", given=False, at=now(), method="phone", actor=None)  # never given
        record_consent(party, "take_part", given=True, at=now(), method="phone", actor=None)
        record_consent(party, "take_part", given=False, at=now(), method="phone", actor=None)
    finally:
        events.consent_to_take_part_withdrawn.disconnect(listener)
    assert len(received) == 1
    assert received[0]["party"] is party


@time_machine.travel(MONDAY_10, tick=False)
def test_contact_is_refused_for_good_without_consent_to_be_contacted():
    party = _party(allow_sms=True)
    decision = contact_decision(party, "sms", now())
    assert (decision.allowed, decision.reason, decision.next_allowed_at) == (
        False,
        "They have not agreed to be contacted",
        None,
    )


@time_machine.travel(MONDAY_10, tick=False)
def test_sms_needs_consent_preference_and_a_number():
    party = _party()
    give_full_consent(party, contacted=False)
    assert contact_decision(party, "sms", now()).reason == "Their contact preferences say no SMS"
    party.allow_sms = True
    assert contact_decision(party, "sms", now()).allowed
    party.mobile_e164 = None
    assert contact_decision(party, "sms", now()).reason == "There is no mobile number for them"


@time_machine.travel(MONDAY_10, tick=False)
def test_outside_every_window_the_decision_says_when_contact_is_next_safe():
    party = _party()
    give_full_consent(party, contacted=False)
    set_contact_preferences(
        party,
        allow_sms=True,
        allow_email=True,
        allow_voicemail=False,
        wording="discreet",
        windows=[(1, dt.time(18, 0), dt.time(20, 0))],  # Tuesdays 6pm to 8pm
        do_not_contact_before=None,
        actor=None,
        at=now(),
    )
    decision = contact_decision(party, "email", now())
    assert not decision.allowed
    assert decision.next_allowed_at == dt.datetime(2026, 3, 3, 18, 0, tzinfo=dt.UTC)
    inside = contact_decision(party, "email", dt.datetime(2026, 3, 3, 19, 0, tzinfo=dt.UTC))
    assert inside.allowed


@time_machine.travel(dt.datetime(2026, 6, 1, 8, 30, tzinfo=dt.UTC), tick=False)
def test_windows_are_in_london_time_in_summer():
    party = _party()
    give_full_consent(party, contacted=False)
    set_contact_preferences(
        party,
        allow_sms=True,
        allow_email=False,
        allow_voicemail=False,
        wording="plain",
        windows=[(0, dt.time(9, 0), dt.time(12, 0))],  # Mondays 9am to noon, London
        do_not_contact_before=None,
        actor=None,
        at=now(),
    )
    # 08:30 UTC is 09:30 BST on Monday 1 June.
    assert contact_decision(party, "sms", now()).allowed
    assert uses_plain_wording(party)


@time_machine.travel(MONDAY_10, tick=False)
def test_do_not_contact_before_waits_until_that_date():
    party = _party(allow_sms=True)
    give_full_consent(party, contacted=False)
    party.do_not_contact_before = dt.date(2026, 3, 10)
    decision = contact_decision(party, "sms", now())
    assert not decision.allowed
    assert decision.next_allowed_at == dt.datetime(2026, 3, 10, 0, 0, tzinfo=dt.UTC)
    assert "10 March 2026" in decision.reason


def test_stop_by_sms_is_a_consent_record_and_start_reverses_it():
    party = _party(allow_sms=True)
    give_full_consent(party, contacted=False)
    record_channel_opt_out(party, "sms", now(), "SMS reply")
    record = current_consent(party, "sms")
    assert (record.given, record.method, record.recorded_by_id) == (False, "sms_reply", None)
    assert contact_decision(party, "sms", now()).reason == "They have withdrawn consent to SMS"
    record_channel_opt_in(party, "sms", now() + dt.timedelta(seconds=1), "SMS reply")
    assert contact_decision(party, "sms", now() + dt.timedelta(seconds=1)).allowed


def test_parties_are_found_by_mobile_only_within_their_service():
    party = _party()
    other = _party()
    found = find_parties_by_mobile(db.session, party.service_id, "+447700900321")
    assert party in found
    assert other not in found


def test_discreet_wording_is_the_default():
    assert not uses_plain_wording(_party())
