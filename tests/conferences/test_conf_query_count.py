"""The dashboard's meetings notice costs a bounded number of statements however many meetings there are."""

from __future__ import annotations

import datetime as dt

import time_machine
from conf_helpers import DAY, NOW, at_local, face_to_face, make_ready_setting

from rj_scheduler.conferences import services, views
from rj_scheduler.extensions import db
from tests.query_count import statements


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
            counts.append(statements(client, "/dashboard"))
    assert counts[2] == counts[4], counts
