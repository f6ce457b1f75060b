"""The kinds of message invitations send, with their placeholders and default (discreet) wording.

Party wording names only the service (by its discreet sender name) and the
appointment: never the offence, the other party, "victim", "offender" or
"restorative justice" (DOMAIN rule 6). Defaults are marked with ``N_`` so the
catalogues carry their translations (``rj_scheduler.notify.services.wording_for``).
"""

from __future__ import annotations

from rj_scheduler.notify.wording import N_, MessageKind, Placeholder, Wording, register_message_kind

_PARTY_PLACEHOLDERS = (
    Placeholder("first_name", "the person's preferred name", "Sam"),
    Placeholder("service_name", "the service's name as messages give it", "LLR Support Service"),
    Placeholder("service_phone", "the service's phone number", "0300 123 4567"),
    Placeholder("appointment_date", "their date, e.g. Tuesday 3 March 2026", "Tuesday 3 March 2026"),
    Placeholder("appointment_time", "their own arrival time, e.g. 2:30pm", "2:30pm"),
    Placeholder("link", "the person's private link", "https://rj.example.org/i/abc123"),
)

INVITATION = "invitation"
INVITATION_UPDATE = "invitation_update"
INVITATION_CANCELLED = "invitation_cancelled"
MEETING_NOT_GOING_AHEAD = "meeting_not_going_ahead"
STAFF_INVITATION = "staff_invitation"

register_message_kind(
    MessageKind(
        kind=INVITATION,
        label="Invitation to an appointment",
        audience="party",
        placeholders=_PARTY_PLACEHOLDERS,
        defaults={
            ("sms", "discreet"): Wording(
                body=N_(
                    "Hello ((first_name)), you have an appointment with ((service_name)) on "
                    "((appointment_date)). Please arrive at ((appointment_time)). "
                    "Details, and to reply: ((link)) Or reply YES if you can come, NO if you cannot."
                )
            ),
            ("email", "discreet"): Wording(
                subject=N_("Your appointment on ((appointment_date))"),
                body=N_(
                    "Hello ((first_name)),\n\n"
                    "You have an appointment with ((service_name)) on ((appointment_date)). "
                    "Please arrive at ((appointment_time)).\n\n"
                    "The calendar invitation with this email has the time and place. "
                    "See the details, and tell us if you can come: ((link))\n\n"
                    "If you have questions, call us on ((service_phone))."
                ),
            ),
        },
    )
)
register_message_kind(
    MessageKind(
        kind=INVITATION_UPDATE,
        label="Change to an appointment",
        audience="party",
        placeholders=_PARTY_PLACEHOLDERS,
        defaults={
            ("sms", "discreet"): Wording(
                body=N_(
                    "Hello ((first_name)), your appointment with ((service_name)) has changed. It is now on "
                    "((appointment_date)): please arrive at ((appointment_time)). Details: ((link))"
                )
            ),
            ("email", "discreet"): Wording(
                subject=N_("Your appointment has changed: now ((appointment_date))"),
                body=N_(
                    "Hello ((first_name)),\n\n"
                    "Your appointment with ((service_name)) has changed. It is now on ((appointment_date)): "
                    "please arrive at ((appointment_time)).\n\n"
                    "The calendar invitation with this email replaces the old one. "
                    "See the details, and tell us if you can come: ((link))\n\n"
                    "If you have questions, call us on ((service_phone))."
                ),
            ),
        },
    )
)
register_message_kind(
    MessageKind(
        kind=INVITATION_CANCELLED,
        label="Appointment cancelled",
        audience="party",
        placeholders=tuple(p for p in _PARTY_PLACEHOLDERS if p.name != "link"),
        defaults={
            ("sms", "discreet"): Wording(
                body=N_(
                    "Hello ((first_name)), your appointment with ((service_name)) on ((appointment_date)) "
                    "is cancelled. We will be in touch. Questions? Call ((service_phone))."
                )
            ),
            ("email", "discreet"): Wording(
                subject=N_("Your appointment on ((appointment_date)) is cancelled"),
                body=N_(
                    "Hello ((first_name)),\n\n"
                    "Your appointment with ((service_name)) on ((appointment_date)) is cancelled. "
                    "The calendar file with this email removes it from your calendar.\n\n"
                    "We will be in touch. If you have questions, call us on ((service_phone))."
                ),
            ),
        },
    )
)
register_message_kind(
    MessageKind(
        kind=MEETING_NOT_GOING_AHEAD,
        label="Appointment will not go ahead",
        audience="party",
        placeholders=tuple(p for p in _PARTY_PLACEHOLDERS if p.name != "link"),
        # Sent to the others when a party withdraws: it says only that the meeting will not go
        # ahead, never who withdrew or why (DOMAIN rule 1).
        defaults={
            ("sms", "discreet"): Wording(
                body=N_(
                    "Hello ((first_name)), your appointment with ((service_name)) on ((appointment_date)) "
                    "will not go ahead. We will contact you soon. Questions? Call ((service_phone))."
                )
            ),
            ("email", "discreet"): Wording(
                subject=N_("Your appointment on ((appointment_date)) will not go ahead"),
                body=N_(
                    "Hello ((first_name)),\n\n"
                    "Your appointment with ((service_name)) on ((appointment_date)) will not go ahead. "
                    "The calendar file with this email removes it from your calendar.\n\n"
                    "We will contact you soon. If you have questions, call us on ((service_phone))."
                ),
            ),
        },
    )
)
register_message_kind(
    MessageKind(
        kind=STAFF_INVITATION,
        label="Meeting invitation (to staff)",
        audience="staff",
        placeholders=(
            Placeholder("staff_name", "the member of staff's name", "Priya Facilitator"),
            Placeholder("case_reference", "the case reference", "VF-2026-00042"),
            Placeholder("meeting_title", "the kind of meeting", "Conference (face to face)"),
            Placeholder("meeting_date", "the date", "Tuesday 3 March 2026"),
            Placeholder("change", "what happened: booked, changed or cancelled", "booked"),
            Placeholder("arrival_plan", "each party's rooms and times (no contact details)", "Victim: ..."),
            Placeholder("link", "a link to the meeting", "https://rj.example.org/meetings/abc"),
        ),
        defaults={
            ("email", "plain"): Wording(
                subject="((case_reference)): ((meeting_title)) on ((meeting_date)) ((change))",
                body=(
                    "Dear ((staff_name)),\n\n"
                    "((meeting_title)) for case ((case_reference)) on ((meeting_date)) has been ((change)).\n\n"
                    "Arrival plan:\n((arrival_plan))\n\n"
                    "See the meeting and the invitations' replies: ((link))"
                ),
            )
        },
    )
)
