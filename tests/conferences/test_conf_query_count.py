"""The dashboard's meetings notice costs a bounded number of statements however many meetings there are."""

from __future__ import annotations

import datetime as dt

import time_machine
from conf_helpers import DAY, NOW, at_local, face_to_face, make_ready_setting
from sqlalchemy import event

from rj_scheduler.conferences import services, views
from rj_scheduler.extensions import db


def _statements(client, url: str) -> int:
    engine = db.session.get_bind().engine
    client.get(url)
    count = 0

    def count_statement(*args, **kwargs):
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert response.status_code == 200
    return count


def test_dashboard_checks_only_the_soonest_meetings(signed_in, monkeypatch):
    monkeypatch.setattr(views, "DASHBOARD_MEETINGS", 2)
    with time_machine.travel(NOW, tick=False):
        s = make_ready_setting()
        client = signed_in(s.co)
        counts = []
        for day in (0, 1, 2, 7, 8):  # Tuesday to Thursday, then Tuesday and Wednesday
            other = make_ready_setting(s.service)
            draft = face_to_face(other, start=at_local(DAY + dt.timedelta(days=day), 10), co_facilitator=s.co)
            services.book_meeting(draft, actor=other.lead, at=NOW)
            db.session.commit()
            counts.append(_statements(client, "/dashboard"))
    assert counts[2] == counts[4], counts
