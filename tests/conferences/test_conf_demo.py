"""The demo has venues with rooms, working patterns, upcoming and past conferences; loading it twice adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from rj_scheduler.conferences.models import AgreementItem, Meeting, ResourceBooking, Room, Venue
from rj_scheduler.conferences.queries import meetings_needing_attention
from rj_scheduler.db import now
from rj_scheduler.demo import DEMO_LOADERS, load_core_demo
from rj_scheduler.extensions import db


def _load():
    context = load_core_demo()
    for loader in DEMO_LOADERS:
        loader(context)
    return context


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_the_demo_has_venues_and_upcoming_and_past_conferences_once():
    context = _load()
    assert _count(Venue) == 3
    assert db.session.scalar(select(func.count(Room.id)).where(Room.kind == "waiting")) >= 2
    meetings = db.session.scalars(select(Meeting)).all()
    at = now()
    assert any(m.kind == "conference" and m.status == "booked" and m.starts_at > at for m in meetings)
    assert any(m.kind == "conference" and m.status == "held" and m.starts_at < at for m in meetings)
    assert any(m.kind == "preparation" and m.status == "booked" for m in meetings)
    assert _count(AgreementItem) >= 1
    flagged = meetings_needing_attention(context.service.id, at)
    assert any("expired" in " ".join(reasons) for _meeting, reasons in flagged)
    counts = (_count(Venue), _count(Meeting), _count(ResourceBooking), _count(AgreementItem))
    _load()
    assert (_count(Venue), _count(Meeting), _count(ResourceBooking), _count(AgreementItem)) == counts
