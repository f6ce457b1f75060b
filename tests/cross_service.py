"""The cross-service registry: how to make another service's object for each URL parameter.

``tests/test_architecture.py`` signs in a manager of service A and requests
every registered rule, with every method, with its URL parameters naming
objects of service B; every answer must be 404. A rule whose parameter is not
in ``PARAMETER_FACTORIES`` fails that test: when you add a route with a new
parameter, add a function here that creates an object of the given service
and returns the value that goes in the URL (a public id or a reference).

A key is a parameter name (``"user_public_id"``), or ``"endpoint:parameter"``
when a generic name such as ``public_id`` names different objects on
different routes (``"notify.outbox_message:public_id"``); the qualified key
wins. A rule whose parameters name no object at all (a choice within the
user's own service, such as a message kind) is listed in
``OWN_SERVICE_ENDPOINTS`` with the reason it cannot reach another service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from rj_scheduler.auth.models import Role, Service
from rj_scheduler.extensions import db
from tests.factories import make_user


def _user_public_id(service: Service) -> str:
    return make_user(service, Role.FACILITATOR).public_id


def _case_ref(service: Service) -> str:
    from tests.factories import make_case

    return make_case(service).reference


def _party_public_id(service: Service) -> str:
    from tests.factories import make_case

    return make_case(service).parties[0].public_id


def _api_key_public_id(service: Service) -> str:
    from rj_scheduler.api.services import create_api_key
    from rj_scheduler.db import now

    key, _full_key = create_api_key(
        service, partner_name="Probe Police", source="police", actor=None, at=now()
    )
    return key.public_id


def _assessment_public_id(service: Service) -> str:
    from tests.factories import make_assessment, make_case

    return make_assessment(make_case(service).parties[0], "risk").public_id


def _mitigation_public_id(service: Service) -> str:
    from rj_scheduler.db import now
    from rj_scheduler.risk.services import add_mitigation
    from tests.factories import make_assessment, make_case

    assessment = make_assessment(make_case(service).parties[0], "risk")
    mitigation = add_mitigation(
        assessment,
        description="Separate rooms",
        owner="Facilitator",
        before_conference=True,
        actor=assessment.author,
        at=now(),
    )
    return mitigation.public_id


def _outbox_message_public_id(service: Service) -> str:
    from rj_scheduler.notify.backends import Attachment
    from rj_scheduler.notify.services import queue_message

    message = queue_message(
        service_id=service.id,
        channel="email",
        kind="staff_sign_off_decision",
        to_address="probe@example.org",
        subject="Probe",
        body_text="Probe",
        idempotency_key=f"probe:{service.id}:{service.code}",
        attachments=[Attachment("probe.ics", "text/calendar", b"BEGIN:VCALENDAR")],
    )
    return message.public_id


def _inbound_message_public_id(service: Service) -> str:
    from rj_scheduler.notify.models import InboundMessage

    inbound = InboundMessage(
        message_sid=f"SMprobe{service.id}{service.code}",
        service_id=service.id,
        from_number="+447700900998",
        body="Probe",
        category="other",
    )
    db.session.add(inbound)
    db.session.flush()
    return inbound.public_id


def _venue_public_id(service: Service) -> str:
    from rj_scheduler.conferences.services import VenueInput, save_venue
    from rj_scheduler.db import now, public_id

    data = VenueInput(name=f"Probe venue {public_id()}", kind="office", address="1 Probe Street")
    venue = save_venue(service.id, data, actor=None, at=now())
    return venue.public_id


def _room_public_id(service: Service) -> str:
    from rj_scheduler.conferences.models import Venue
    from rj_scheduler.conferences.services import add_room
    from rj_scheduler.db import now

    venue = db.session.query(Venue).filter_by(public_id=_venue_public_id(service)).one()
    return add_room(
        venue, name="Probe room", kind="meeting", capacity=4, entrance=None, actor=None, at=now()
    ).public_id


def _meeting_public_id(service: Service) -> str:
    from rj_scheduler.conferences.models import Meeting
    from rj_scheduler.db import now
    from tests.factories import make_case

    case = make_case(service)
    meeting = Meeting(
        service_id=service.id, case_id=case.id, kind="conference", format="letter", letter_due_on=now().date()
    )
    db.session.add(meeting)
    db.session.flush()
    return meeting.public_id


def _leave_public_id(service: Service) -> str:
    from rj_scheduler.conferences.services import add_leave
    from rj_scheduler.db import now

    user = make_user(service, Role.FACILITATOR)
    today = now().date()
    return add_leave(user, starts_on=today, ends_on=today, note=None, actor=None, at=now()).public_id


def _agreement_item_public_id(service: Service) -> str:
    from rj_scheduler.conferences.models import AgreementItem, ConferenceOutcome, Meeting
    from rj_scheduler.db import now
    from tests.factories import make_case

    case = make_case(service)
    meeting = Meeting(
        service_id=service.id,
        case_id=case.id,
        kind="conference",
        format="letter",
        letter_due_on=now().date(),
        status="held",
    )
    db.session.add(meeting)
    db.session.flush()
    outcome = ConferenceOutcome(service_id=service.id, meeting_id=meeting.id, held=True, recorded_at=now())
    db.session.add(outcome)
    db.session.flush()
    item = AgreementItem(
        service_id=service.id, case_id=case.id, outcome_id=outcome.id, kind="apology", description="x"
    )
    db.session.add(item)
    db.session.flush()
    return item.public_id


def _unavailability_public_id(service: Service) -> str:
    from rj_scheduler.conferences.services import add_party_unavailability
    from rj_scheduler.db import now
    from tests.factories import make_case

    party = make_case(service).parties[0]
    today = now().date()
    return add_party_unavailability(
        party, starts_on=today, ends_on=today, note=None, actor=None, at=now()
    ).public_id


def _invitation_public_id(service: Service) -> str:
    from rj_scheduler.conferences.models import Meeting
    from rj_scheduler.invitations.models import Invitation
    from tests.factories import make_case

    case = make_case(service)
    meeting = db.session.query(Meeting).filter_by(public_id=_meeting_public_id(service)).one()
    invitation = Invitation(
        service_id=service.id,
        case_id=case.id,
        meeting_id=meeting.id,
        party_id=case.parties[0].id,
        channels="letter",
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation.public_id


def _invitation_task_public_id(service: Service) -> str:
    from rj_scheduler.invitations.models import InvitationTask
    from tests.factories import make_case

    task = InvitationTask(
        service_id=service.id, case_id=make_case(service).id, kind="check_reply", detail="Probe"
    )
    db.session.add(task)
    db.session.flush()
    return task.public_id


# URL parameter name -> a function making an object of that service and returning its URL value.
PARAMETER_FACTORIES: dict[str, Callable[[Service], str]] = {
    "user_public_id": _user_public_id,
    "case_ref": _case_ref,
    "party_public_id": _party_public_id,
    "api_key_public_id": _api_key_public_id,
    "assessment_public_id": _assessment_public_id,
    "mitigation_public_id": _mitigation_public_id,
    "venue_public_id": _venue_public_id,
    "room_public_id": _room_public_id,
    "meeting_public_id": _meeting_public_id,
    "leave_public_id": _leave_public_id,
    "item_public_id": _agreement_item_public_id,
    "unavailability_public_id": _unavailability_public_id,
    # A questionnaire page names no object: the assessment in the same URL is another service's.
    "risk.questions:page_id": lambda service: "safety",
    "notify.outbox_message:public_id": _outbox_message_public_id,
    "notify.attachment:public_id": _outbox_message_public_id,
    "notify.attachment:number": lambda service: "1",
    "notify.acknowledge_failed:public_id": _outbox_message_public_id,
    "notify.inbound_handled:public_id": _inbound_message_public_id,
    "invitation_public_id": _invitation_public_id,
    "task_public_id": _invitation_task_public_id,
}

# endpoint -> why its URL parameters cannot name another service's object.
OWN_SERVICE_ENDPOINTS: dict[str, str] = {
    "notify.wording_edit": "kind, channel and style name a kind of message; the wording is always the own service's",
}

SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS"})


@dataclass
class CrossServiceReport:
    """What the probe found: the requests that did not answer 404, and how many were made."""

    failures: list[str]
    probed: list[str]


def _is_public(app: Flask, endpoint: str) -> bool:
    return bool(getattr(app.view_functions[endpoint], "_rj_public", False))


def _factory(
    factories: dict[str, Callable[[Service], str]], endpoint: str, name: str
) -> Callable[[Service], str] | None:
    return factories.get(f"{endpoint}:{name}") or factories.get(name)


def probe_other_service_urls(
    app: Flask,
    client: FlaskClient,
    other_service: Service,
    factories: dict[str, Callable[[Service], str]] = PARAMETER_FACTORIES,
    own_service_endpoints: dict[str, str] = OWN_SERVICE_ENDPOINTS,
) -> CrossServiceReport:
    """Request every parameterised, non-public rule with another service's objects.

    ``client`` is signed in as a member of a different service. Every answer
    must be 404 (never 200, a redirect, 403 or 500): another service's object
    must be indistinguishable from one that does not exist.
    """
    report = CrossServiceReport(failures=[], probed=[])
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.endpoint.endswith(".static") or not rule.arguments:
            continue
        if _is_public(app, rule.endpoint) or rule.endpoint in own_service_endpoints:
            continue
        missing = sorted(name for name in rule.arguments if _factory(factories, rule.endpoint, name) is None)
        if missing:
            report.failures.append(
                f"{rule.rule} ({rule.endpoint}): no factory for URL parameter(s) {', '.join(missing)}. "
                "Add one to PARAMETER_FACTORIES in tests/cross_service.py that creates an object of "
                "the given service and returns its URL value (key it 'endpoint:parameter' if the "
                "name is generic), or, if the parameters name no object, list the endpoint in "
                "OWN_SERVICE_ENDPOINTS with the reason."
            )
            continue
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            values = {
                name: _factory(factories, rule.endpoint, name)(other_service)  # type: ignore[misc]
                for name in rule.arguments
            }
            db.session.commit()  # the objects outlive the request's rollback of a refusal
            built = rule.build(values, append_unknown=False)
            assert built is not None, f"could not build {rule.rule} from {values}"
            url = built[1]
            response = client.open(url, method=method)
            report.probed.append(f"{method} {rule.rule}")
            if response.status_code != 404:
                location = response.headers.get("Location", "")
                report.failures.append(
                    f"{method} {url} ({rule.endpoint}) answered {response.status_code}"
                    f"{' to ' + location if location else ''}, not 404: look the object up "
                    "within the signed-in user's service before anything else."
                )
    return report
