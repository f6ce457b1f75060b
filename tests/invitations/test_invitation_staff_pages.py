"""What staff see of invitations: the meeting's panel, tasks, the printable letter, and the manager's settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from sqlalchemy import select

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.invitations import queries, services
from rj_scheduler.invitations.content import view_for
from rj_scheduler.invitations.models import InvitationSettings, InvitationTask
from rj_scheduler.notify.models import MessageStatus, OutboxMessage
from tests.invitations.inv_helpers import (
    OFFENDER_EMAIL,
    OFFENDER_MOBILE,
    VICTIM_EMAIL,
    VICTIM_MOBILE,
    book,
    messages_of,
    reachable_setting,
)

CONTACT_DETAILS = (VICTIM_MOBILE, OFFENDER_MOBILE, VICTIM_EMAIL, OFFENDER_EMAIL, "07700")


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with time_machine.travel(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC), tick=True):
        yield


def _panel(html: str) -> str:
    start = html.index('id="invitations"')
    return html[start : html.index("</table>", start)]


def _audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- the meeting page -------------------------------------------------------------------------------


def test_the_meeting_page_lists_each_invitation_with_what_happened_and_no_contact_details(signed_in):
    booked = book()
    victim_invitation = booked.invitation_of(party=booked.victim)
    offender_invitation = booked.invitation_of(party=booked.offender)
    services.record_opened(victim_invitation, now())
    services.respond(victim_invitation, "confirm", note=None, at=now(), via="page")
    services.respond(offender_invitation, "change", note="Afternoons are better for me", at=now(), via="page")
    sms = next(
        m
        for m in messages_of(booked.meeting, party_id=booked.victim.id, kind="invitation")
        if m.channel == "sms"
    )
    sms.status = MessageStatus.DELIVERED.value
    sms.sent_at = now()
    sms.delivered_at = now() + dt.timedelta(minutes=1)
    db.session.flush()

    response = signed_in(booked.setting.lead).get(f"/meetings/{booked.meeting.public_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    panel = _panel(html)
    assert "Vera Vale (victim)" in panel
    assert "Owen Oakes (offender)" in panel
    assert "Lena Lead (lead facilitator)" in panel
    assert "Email and SMS" in panel
    assert "Confirmed" in panel
    assert "Page opened: 23 November 2026" in panel
    assert "Asked for a different time" in panel
    assert "&ldquo;Afternoons are better for me&rdquo;" in panel
    assert (
        "Invitation by SMS: delivered, sent 23 November 2026 at 10:00am, delivered 23 November 2026 at 10:01am"
        in panel
    )
    assert "Reminder by SMS: waiting to be sent, due" in panel
    assert "Reminders planned" in panel
    assert "Printable letter" in panel
    for detail in (*CONTACT_DETAILS, booked.victim.address, booked.offender.address):
        assert detail not in html
    assert _audited("meeting.viewed")


# --- tasks ------------------------------------------------------------------------------------------


def _letter_task(s):
    s.victim.allow_sms = False
    s.victim.allow_email = False
    db.session.flush()
    booked = book(s)
    [task] = queries.tasks_for_case(db.session, s.case)
    assert task.kind == "send_letter"
    return booked, task


def test_open_tasks_are_on_the_dashboard_and_the_case_page_and_can_be_marked_done(signed_in):
    s = reachable_setting()
    booked, task = _letter_task(s)
    client = signed_in(s.lead)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Invitation tasks" in dashboard
    assert task.detail in dashboard.replace("&#39;", "'")
    case_page = client.get(f"/cases/{s.case.reference}").get_data(as_text=True)
    assert f'id="task-{task.public_id}"' in case_page
    letter_url = (
        f"/cases/{s.case.reference}/invitations/{booked.invitation_of(party=s.victim).public_id}/letter"
    )
    assert letter_url in case_page

    response = client.post(
        f"/invitations/tasks/{task.public_id}/done", data={"next": f"/cases/{s.case.reference}"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{s.case.reference}")
    db.session.expire_all()
    assert db.session.get(InvitationTask, task.id).done_by_id == s.lead.id
    assert f'id="task-{task.public_id}"' not in client.get(f"/cases/{s.case.reference}").get_data(
        as_text=True
    )
    assert _audited("invitation_task.done")


def test_a_task_of_another_service_cannot_be_marked_done(signed_in):
    s = reachable_setting()
    _booked, task = _letter_task(s)
    stranger = reachable_setting()
    response = signed_in(stranger.lead).post(f"/invitations/tasks/{task.public_id}/done")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(InvitationTask, task.id).done_at is None


# --- the printable letter ---------------------------------------------------------------------------


def test_the_letter_carries_the_partys_own_appointment_and_address_and_nothing_of_the_other_party(signed_in):
    s = reachable_setting()
    booked, _task = _letter_task(s)
    invitation = booked.invitation_of(party=s.victim)
    view = view_for(invitation, now())
    offender_view = view_for(booked.invitation_of(party=s.offender), now())
    response = signed_in(s.lead).get(f"/cases/{s.case.reference}/invitations/{invitation.public_id}/letter")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    letter = html[html.index('<article class="rj-letter"') : html.index("</article>")]
    assert s.victim.full_name in letter
    assert s.victim.address in letter
    assert view.arrival_time_text in letter
    assert view.date_text in letter
    assert view.entrance in letter
    assert "Yours sincerely," in letter
    for detail in (
        *CONTACT_DETAILS,
        s.offender.address,
        s.offender.full_name,
        offender_view.arrival_time_text,
    ):
        assert detail not in letter
    assert offender_view.entrance not in letter
    [entry] = _audited("invitation.letter_viewed")
    assert entry.object_id == invitation.public_id


def test_a_polish_speaking_partys_letter_is_in_polish(signed_in):
    s = reachable_setting()
    s.victim.language = "pl"
    db.session.flush()
    booked = book(s)
    invitation = booked.invitation_of(party=s.victim)
    html = (
        signed_in(s.lead)
        .get(f"/cases/{s.case.reference}/invitations/{invitation.public_id}/letter")
        .get_data(as_text=True)
    )
    letter = html[html.index('<article class="rj-letter"') : html.index("</article>")]
    assert 'lang="pl"' in letter
    assert "Kiedy" in letter
    assert "Z poważaniem" in letter
    assert "Yours sincerely" not in letter
    assert "Letter for" in html  # the staff page around it stays in English


def test_a_letter_is_only_reached_through_its_own_case(signed_in):
    s = reachable_setting()
    booked = book(s)
    invitation = booked.invitation_of(party=s.victim)
    other = reachable_setting(s.service)
    client = signed_in(s.lead)
    assert (
        client.get(f"/cases/{other.case.reference}/invitations/{invitation.public_id}/letter").status_code
        == 404
    )
    staff = booked.invitation_of(user=s.lead)
    assert client.get(f"/cases/{s.case.reference}/invitations/{staff.public_id}/letter").status_code == 404


# --- the manager's settings -------------------------------------------------------------------------


def _settings(service) -> InvitationSettings | None:
    return db.session.scalar(select(InvitationSettings).where(InvitationSettings.service_id == service.id))


def test_a_manager_saves_the_sender_name_reminders_and_link_validity(signed_in):
    s = reachable_setting()
    client = signed_in(s.manager)
    page = client.get("/invitations/settings").get_data(as_text=True)
    assert "3d:email+sms, 1d:email+sms, 2h:sms" in page
    assert "/invitations/settings" in client.get("/conference-settings").get_data(as_text=True)
    response = client.post(
        "/invitations/settings",
        data={
            "sender_name": "  LLR   Support Service ",
            "reminders": "2 days:sms, 90m:sms+email",
            "link_valid_days": "14",
        },
    )
    assert response.status_code == 302
    row = _settings(s.service)
    assert (row.sender_name, row.reminders, row.link_valid_days) == (
        "LLR Support Service",
        "2d:sms, 90m:email+sms",
        14,
    )
    assert row.updated_by_id == s.manager.id
    assert _audited("invitation_settings.changed")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sender_name", "Victim Support RJ", "must not say"),
        ("reminders", "3d:post", "must be email, sms or email+sms"),
        ("reminders", "5m:sms", "at least 30 minutes"),
        ("link_valid_days", "0", "from 1 to 365"),
        ("link_valid_days", "400", "from 1 to 365"),
    ],
)
def test_settings_that_cannot_be_used_are_refused_next_to_the_field_and_nothing_is_saved(
    signed_in, field, value, message
):
    s = reachable_setting()
    data = {
        "sender_name": "LLR Support Service",
        "reminders": "1d:sms",
        "link_valid_days": "30",
        field: value,
    }
    response = signed_in(s.manager).post("/invitations/settings", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "govuk-error-summary" in html
    assert f'id="{field}-error"' in html
    assert message in html
    assert _settings(s.service) is None


def test_only_managers_change_invitation_settings(signed_in):
    s = reachable_setting()
    client = signed_in(s.lead)
    assert client.get("/invitations/settings").status_code == 403
    assert client.post("/invitations/settings", data={"link_valid_days": "5"}).status_code == 403
    assert _settings(s.service) is None


def test_saved_reminders_are_used_for_the_next_booking():
    s = reachable_setting()
    db.session.add(InvitationSettings(service_id=s.service.id, reminders="2d:email"))
    db.session.flush()
    booked = book(s)
    reminders = [
        m for m in messages_of(booked.meeting, party_id=s.victim.id) if m.kind == "appointment_reminder"
    ]
    assert [(m.channel, m.idempotency_key.rsplit(":", 2)[1]) for m in reminders] == [("email", "2d")]
    assert (
        db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.kind == "appointment_reminder", OutboxMessage.channel == "sms"
            )
        )
        is None
    )
