"""Week views: a facilitator's own meetings one row per day; the team's week for supervisors."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from conf_helpers import DAY, NOW, at_local, face_to_face, make_ready_setting
from factories import make_user

from rj_scheduler.auth.models import Role
from rj_scheduler.conferences import services


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def s():
    setting = make_ready_setting()
    setting.meeting = services.book_meeting(
        face_to_face(setting, start=at_local(DAY, 10)), actor=setting.lead, at=NOW
    )
    return setting


def _rows(html: str) -> list[str]:
    body = html.split('id="week"')[1].split("<tbody")[1].split("</tbody>")[0]
    return body.split('<tr class="govuk-table__row">')[1:]


def test_the_week_view_has_one_row_per_day_with_the_facilitators_own_meetings(s, signed_in):
    response = signed_in(s.lead).get("/calendar", query_string={"week": DAY.isoformat()})
    assert response.status_code == 200
    rows = _rows(response.get_data(as_text=True))
    assert len(rows) == 7
    assert [r.split(">", 2)[1].split("<")[0].strip() for r in rows][:2] == [
        "Monday 30 November",
        "Tuesday 1 December",
    ]
    assert "10:00am to 11:30am: Conference (face to face)" in rows[1]
    assert s.case.reference in rows[1]
    assert "Riverside Centre (Meeting room 1)" in rows[1]
    assert all("No meetings" in r for i, r in enumerate(rows) if i != 1)


def test_the_week_view_never_names_the_parties(s, signed_in):
    html = signed_in(s.lead).get("/calendar", query_string={"week": DAY.isoformat()}).get_data(as_text=True)
    assert "Vera" not in html
    assert "Owen" not in html


def test_someone_elses_meetings_are_not_in_my_week(s, signed_in):
    other = make_user(s.service, Role.FACILITATOR)
    html = signed_in(other).get("/calendar", query_string={"week": DAY.isoformat()}).get_data(as_text=True)
    assert "Conference (face to face)" not in html
    assert html.count("No meetings") == 7


def test_previous_and_next_weeks_are_linked_and_this_week_is_the_default(s, signed_in):
    client = signed_in(s.co)
    html = client.get("/calendar").get_data(as_text=True)
    assert "Week of Monday 23 November 2026" in html
    assert "/calendar?week=2026-11-16" in html
    assert "/calendar?week=2026-11-30" in html
    # Any day of a week shows that week; nonsense shows this week.
    assert "Week of Monday 30 November 2026" in client.get("/calendar?week=2026-12-03").get_data(as_text=True)
    assert "Week of Monday 23 November 2026" in client.get("/calendar?week=nonsense").get_data(as_text=True)


def test_weeks_either_side_of_the_clock_change_show_london_times(signed_in):
    setting = make_ready_setting()
    thursday = dt.date(2027, 3, 25)  # the clocks go forward on Sunday 28 March 2027 (Friday is Good Friday)
    tuesday = dt.date(2027, 3, 30)  # after Easter Monday
    before = services.book_meeting(
        face_to_face(setting, start=at_local(thursday, 10)), actor=setting.lead, at=NOW
    )
    after = services.book_meeting(
        face_to_face(setting, start=at_local(tuesday, 10)), actor=setting.lead, at=NOW
    )
    assert (before.starts_at.hour, after.starts_at.hour) == (10, 9)  # 10am GMT, then 10am BST
    client = signed_in(setting.lead)
    week_of_change = _rows(client.get("/calendar?week=2027-03-22").get_data(as_text=True))
    assert "10:00am to 11:30am" in week_of_change[3]
    assert "No meetings" in week_of_change[6]
    week_after = _rows(client.get("/calendar?week=2027-03-29").get_data(as_text=True))
    assert "10:00am to 11:30am" in week_after[1]


def test_the_team_view_is_for_supervisors_and_filters_by_facilitator(s, signed_in):
    assert signed_in(s.lead).get("/calendar/team").status_code == 403
    supervisor = make_user(s.service, Role.SUPERVISOR)
    client = signed_in(supervisor)
    html = client.get("/calendar/team", query_string={"week": DAY.isoformat()}).get_data(as_text=True)
    rows = _rows(html)
    assert "Conference (face to face)" in rows[1]
    assert "Lena Lead (lead facilitator), Colin Co (co-facilitator)" in rows[1]
    nobody = make_user(s.service, Role.FACILITATOR)
    filtered = client.get(
        "/calendar/team", query_string={"week": DAY.isoformat(), "facilitator": nobody.public_id}
    ).get_data(as_text=True)
    assert "Conference (face to face)" not in filtered
    mine = client.get(
        "/calendar/team", query_string={"week": DAY.isoformat(), "facilitator": s.co.public_id}
    ).get_data(as_text=True)
    assert "Conference (face to face)" in mine


def test_the_team_view_shows_only_its_own_services_meetings(s, signed_in):
    other_supervisor = make_user(None, Role.SUPERVISOR)
    html = (
        signed_in(other_supervisor)
        .get("/calendar/team", query_string={"week": DAY.isoformat()})
        .get_data(as_text=True)
    )
    assert "Conference (face to face)" not in html
    # Naming another service's facilitator finds nothing either.
    html = (
        signed_in(other_supervisor)
        .get("/calendar/team", query_string={"week": DAY.isoformat(), "facilitator": s.lead.public_id})
        .get_data(as_text=True)
    )
    assert "Conference (face to face)" not in html
