"""Helpers of the invitations tests: a ready face to face conference whose parties allow SMS and email."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from rj_scheduler.conferences.models import Meeting, VenueEntrance
from rj_scheduler.conferences.services import book_meeting
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.invitations import queries
from rj_scheduler.invitations.models import Invitation
from rj_scheduler.notify.models import OutboxMessage
from tests.conferences.conf_helpers import Setting, at_local, face_to_face, make_ready_setting

DAY = dt.date(2026, 12, 1)
VICTIM_MOBILE = "+447700900101"
OFFENDER_MOBILE = "+447700900202"
VICTIM_EMAIL = "vera.v@example.org"
OFFENDER_EMAIL = "owen.o@example.org"


@dataclass
class Booked:
    setting: Setting
    meeting: Meeting

    @property
    def victim(self):
        return self.setting.victim

    @property
    def offender(self):
        return self.setting.offender

    def invitation_of(self, party=None, user=None) -> Invitation:
        for invitation in queries.invitations_for_meeting(db.session, self.meeting):
            if party is not None and invitation.party_id == party.id:
                return invitation
            if user is not None and invitation.user_id == user.id:
                return invitation
        raise LookupError("no such invitation")


def reachable_setting(service=None) -> Setting:
    """A ready case whose victim and offender allow SMS and email, and waiting rooms with their own entrances."""
    s = make_ready_setting(service)
    for party, name, mobile, email, address in (
        (s.victim, "Vera Vale", VICTIM_MOBILE, VICTIM_EMAIL, "12 Willow Road, Leicester, LE2 3XY"),
        (s.offender, "Owen Oakes", OFFENDER_MOBILE, OFFENDER_EMAIL, "7 Ash Grove, Leicester, LE5 6PQ"),
    ):
        # The factories' names say "Victim" and "Offender": discreet messages would refuse them.
        party.full_name = name
        party.mobile_e164 = mobile
        party.email = email
        party.allow_sms = True
        party.allow_email = True
        party.address = address
    front = VenueEntrance(
        service_id=s.service.id,
        venue=s.venue,
        name="Main entrance on King Street",
        directions="Through the glass doors, reception is on the left.",
        parking="Pay and display on King Street.",
    )
    side = VenueEntrance(
        service_id=s.service.id,
        venue=s.venue,
        name="Side entrance on Mill Lane",
        directions="The blue door next to the car park.",
        parking="Two spaces behind the building.",
    )
    db.session.add_all([front, side])
    db.session.flush()
    s.victim_room.entrance = front
    s.offender_room.entrance = side
    s.service.phone_number = "0116 496 0000"
    s.service.email = "appointments@example.org"
    db.session.flush()
    return s


def book(s: Setting | None = None, start: dt.datetime | None = None, **changes) -> Booked:
    s = s or reachable_setting()
    meeting = book_meeting(face_to_face(s, start or at_local(DAY, 10), **changes), actor=s.lead, at=now())
    db.session.flush()
    return Booked(s, meeting)


def messages_of(meeting: Meeting, **where) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.meeting_id == meeting.id)
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))
