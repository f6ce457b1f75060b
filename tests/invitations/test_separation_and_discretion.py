"""Separation (DOMAIN rule 4) and discretion (rule 6), scanned over every message and calendar file.

A conference is booked with a victim, their supporter, an offender and an
interpreter, then rescheduled, then the supporter withdraws, then it is
cancelled. Every outbox message any party was sent (SMS, email subject and
body, HTML, every calendar attachment unfolded) is searched for every other
party's name, mobile number (in every usual form), email address, postal
address and arrival time. Discreet parties' texts are searched for the words
discreet wording forbids, and the offence.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from rj_scheduler.cases.models import ConsentKind
from rj_scheduler.cases.services import record_consent
from rj_scheduler.conferences.booking import PartyPlan
from rj_scheduler.conferences.services import cancel_meeting, draft_from_meeting, reschedule_meeting
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.i18n import in_language, local_time
from rj_scheduler.notify.models import OutboxMessage
from rj_scheduler.notify.wording import discreet_terms_in
from tests.conferences.conf_helpers import at_local, face_to_face
from tests.factories import give_full_consent, make_party
from tests.invitations.inv_helpers import DAY, reachable_setting

LONDON = ZoneInfo("Europe/London")


def _unfold(ics: bytes) -> str:
    text = ics.decode()
    return re.sub(r"\r?\n[ \t]", "", text).replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";")


def _texts(message: OutboxMessage) -> list[tuple[str, str]]:
    texts = [("body", message.body_text)]
    if message.subject:
        texts.append(("subject", message.subject))
    if message.body_html:
        texts.append(("html", message.body_html))
    for attachment in message.attachments:
        texts.append((f"attachment {attachment.filename}", _unfold(attachment.content)))
    return texts


def _forms_of_mobile(e164: str) -> list[str]:
    national = "0" + e164.removeprefix("+44")
    return [e164, national, f"{national[:5]} {national[5:]}", e164.removeprefix("+")]


def _identity(party) -> list[str]:
    values = [party.full_name, party.email or ""]
    # The street line and the postcode identify an address (the town alone is shared with the venue).
    values += [
        line.strip()
        for line in (party.address or "").replace(",", "\n").splitlines()
        if any(c.isdigit() for c in line)
    ]
    if party.mobile_e164:
        values += _forms_of_mobile(party.mobile_e164)
    return [v for v in values if v]


def _places_of(meeting, party) -> list[str]:
    """The party's own waiting room and entrance names."""
    attendance = next(a for a in meeting.attendees if a.party_id == party.id)
    room = attendance.waiting_room
    if room is None:
        return []
    return [room.name] + ([room.entrance.name] if room.entrance is not None else [])


def _times_of(meeting, party) -> list[str]:
    """Every form the party's own arrival time could take in another party's text or calendar."""
    attendance = next(a for a in meeting.attendees if a.party_id == party.id)
    forms = []
    for at in (attendance.arrives_at,):
        if at is None:
            continue
        local = at.astimezone(LONDON)
        for language in ("en", "pl"):
            with in_language(language):
                forms.append(local_time(at))
        forms += [local.strftime("T%H%M00"), at.strftime("T%H%M00Z"), local.strftime("%H:%M")]
    return forms


def _book_four():
    """A victim with a supporter, an offender and an interpreter, booked at 10:00 (the offender reads Polish)."""
    from rj_scheduler.conferences.services import book_meeting
    from rj_scheduler.risk.readiness import kinds_for
    from tests.factories import make_signed_off_assessment

    s = reachable_setting()
    supporter = make_party(
        s.case,
        "supporter",
        full_name="Sally Sterling",
        supports=s.victim,
        mobile="07700 900303",
        email="sally.s@example.org",
        allow_sms=True,
        allow_email=True,
        address="3 Quiet Close, Leicester",
    )
    give_full_consent(supporter)
    for kind in kinds_for(supporter):
        make_signed_off_assessment(supporter, kind, author=s.lead, approver=s.manager)
    interpreter = make_party(
        s.case,
        "interpreter",
        full_name="Ivo Novak",
        mobile="07700 900404",
        email="ivo.n@example.org",
        allow_sms=True,
        allow_email=True,
    )
    give_full_consent(interpreter)
    interpreter.language = "pl"
    s.offender.language = "pl"
    db.session.flush()
    draft = face_to_face(s, at_local(DAY, 10))
    draft.parties.append(PartyPlan(supporter, s.victim_room))
    draft.parties.append(PartyPlan(interpreter, s.meeting_room))
    meeting = book_meeting(draft, actor=s.lead, at=now())
    return s, meeting, [s.victim, supporter, s.offender, interpreter]


@pytest.fixture
def scenario():
    s, meeting, parties = _book_four()
    supporter = parties[1]
    arrival_forms = {p.id: _times_of(meeting, p) for p in parties}
    draft = draft_from_meeting(meeting)
    draft.starts_at = at_local(DAY, 13, 30)
    draft.ends_at = draft.starts_at + dt.timedelta(minutes=90)
    for plan in draft.parties:
        plan.arrives_at = plan.departs_at = None
    reschedule_meeting(meeting, draft, reason="Room", actor=s.lead, at=now())
    for p in parties:
        arrival_forms[p.id] += _times_of(meeting, p)
    record_consent(supporter, "take_part", given=False, at=now(), method="phone", actor=s.lead)
    cancel_meeting(meeting, reason="Owen Oakes is unwell", actor=s.lead, at=now())
    db.session.flush()
    return s, meeting, parties, arrival_forms


def _sent_to(party) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.party_id == party.id)))


def test_no_party_is_sent_another_partys_name_contact_details_address_or_arrival_time(scenario):
    _s, _meeting, parties, arrival_forms = scenario
    checked = 0
    for party in parties:
        messages = _sent_to(party)
        assert messages, f"{party.role} was sent nothing"
        own_times = set(arrival_forms[party.id])
        for other in parties:
            if other.id == party.id:
                continue
            forbidden = _identity(other) + [t for t in arrival_forms[other.id] if t not in own_times]
            for message in messages:
                for where, text in _texts(message):
                    for value in forbidden:
                        assert value.lower() not in text.lower(), (
                            f"{party.role}'s {message.kind} {message.channel} ({where}) contains {other.role}'s {value!r}"
                        )
                        checked += 1
    assert checked > 1000


def test_each_calendar_file_names_only_its_recipient_as_attendee(scenario):
    _s, _meeting, parties, _ = scenario
    calendars = 0
    for party in parties:
        for message in _sent_to(party):
            for attachment in message.attachments:
                text = _unfold(attachment.content)
                attendees = re.findall(r"^ATTENDEE[^:]*:(.*?)\r?$", text, flags=re.MULTILINE)
                assert attendees == [f"mailto:{party.email}"]
                calendars += 1
    assert calendars >= 8


def test_discreet_messages_never_mention_the_case_or_the_other_party(scenario):
    s, _meeting, parties, _ = scenario
    offence = s.case.offence_category.replace("_", " ")
    for party in parties:
        for message in _sent_to(party):
            for where, text in _texts(message):
                assert discreet_terms_in(text) == [], f"{message.kind} {where}: {discreet_terms_in(text)}"
                assert offence not in text.lower()
                assert "owen oakes is unwell" not in text.lower()  # the cancellation's reason is for staff


def test_the_withdrawn_supporter_and_the_others_heard_of_it_without_reasons(scenario):
    s, _meeting, parties, _ = scenario
    supporter = parties[1]
    kinds = [m.kind for m in _sent_to(supporter)]
    assert "invitation_cancelled" in kinds
    for other in (s.victim, s.offender):
        text = " ".join(m.body_text for m in _sent_to(other)).lower()
        assert "sally" not in text
        assert "withdr" not in text


def test_messages_to_a_polish_speaker_are_in_polish(scenario):
    s, _meeting, _parties, _ = scenario
    [sms] = [m for m in _sent_to(s.offender) if m.kind == "invitation" and m.channel == "sms"]
    assert "Hello" not in sms.body_text


@pytest.fixture
def booked_four():
    """The same four parties, booked and left as they are (links alive)."""
    return _book_four()


def test_each_partys_page_calendar_download_and_letter_show_nothing_of_the_others(
    booked_four, client, signed_in
):
    from rj_scheduler.invitations import queries, tokens

    s, meeting, parties = booked_four
    arrival_forms = {p.id: _times_of(meeting, p) for p in parties}
    staff = signed_in(s.lead)
    invitations = {i.party_id: i for i in queries.invitations_for_meeting(db.session, meeting) if i.party_id}
    for party in parties:
        invitation = invitations[party.id]
        token = tokens.token_for(invitation)
        page = client.get(f"/i/{token}")
        download = client.get(f"/i/{token}/invite.ics")
        letter = staff.get(f"/cases/{s.case.reference}/invitations/{invitation.public_id}/letter")
        assert (page.status_code, download.status_code, letter.status_code) == (200, 200, 200)
        texts = {
            "page": page.get_data(as_text=True),
            "calendar download": _unfold(download.data),
            "letter": letter.get_data(as_text=True),
        }
        own_times = set(arrival_forms[party.id])
        for other in parties:
            if other.id == party.id:
                continue
            own_places = set(_places_of(meeting, party))
            forbidden = (
                _identity(other)
                + [t for t in arrival_forms[other.id] if t not in own_times]
                + [p for p in _places_of(meeting, other) if p not in own_places]
            )
            for where, text in texts.items():
                for value in forbidden:
                    assert value.lower() not in text.lower(), (
                        f"{party.role}'s {where} contains {other.role}'s {value!r}"
                    )
        # What a discreet party reads never says what the meeting is about.
        for where in ("page", "calendar download"):
            body = texts[where].split("<main", 1)[-1]
            assert discreet_terms_in(body) == [], (party.role, where, discreet_terms_in(body))


def test_each_party_reads_their_own_waiting_room_and_entrance(booked_four, client):
    from rj_scheduler.invitations import queries, tokens

    _s, meeting, parties = booked_four
    victim, _supporter, offender, _interpreter = parties
    by_party = {i.party_id: i for i in queries.invitations_for_meeting(db.session, meeting) if i.party_id}
    victim_page = client.get(f"/i/{tokens.token_for(by_party[victim.id])}").get_data(as_text=True)
    offender_page = client.get(f"/i/{tokens.token_for(by_party[offender.id])}").get_data(as_text=True)
    assert "Garden room" in victim_page
    assert "Main entrance on King Street" in victim_page
    assert "Blue room" in offender_page
    assert "Side entrance on Mill Lane" in offender_page


def test_another_partys_name_is_shown_only_when_they_agreed_to_share_it(booked_four):
    from rj_scheduler.cases.services import record_consent
    from rj_scheduler.invitations import content, queries

    s, meeting, parties = booked_four
    victim, _supporter, offender, _interpreter = parties
    victim_invitation = next(
        i for i in queries.invitations_for_meeting(db.session, meeting) if i.party_id == victim.id
    )
    who = content.view_for(victim_invitation, now()).who_will_be_there
    assert "the other person taking part" in who
    assert not any("Owen" in w for w in who)
    record_consent(offender, ConsentKind.SHARE_NAME.value, given=True, at=now(), method="phone", actor=s.lead)
    who = content.view_for(victim_invitation, now()).who_will_be_there
    assert "the other person taking part (Owen Oakes)" in who
    assert "your supporter (Sally Sterling)" not in who
