"""The public self-referral page: a victim asks for restorative justice; it lands in the supervisors' triage."""

from __future__ import annotations

import re

from sqlalchemy import select

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.auth.models import Role
from rj_scheduler.cases.consent import has_consent
from rj_scheduler.cases.models import Case
from rj_scheduler.extensions import db
from tests.factories import make_service, make_user


def _answers(**overrides):
    data = {
        "full_name": "Sam Selfreferrer",
        "contact_methods": ["sms", "email"],
        "mobile": "07700 900456",
        "email": "sam.selfreferrer@example.org",
        "safe_times": ["weekday_mornings", "weekends"],
        "voicemail": "no",
        "wording": "discreet",
        "what_happened": "harassment_and_stalking",
        "crime_reference": "MP/26/777",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _cases(service):
    return list(db.session.scalars(select(Case).where(Case.service_id == service.id)))


def test_the_page_is_public_and_names_the_service(client):
    service = make_service(name="Midshire restorative justice")

    response = client.get(f"/self-referral/{service.code}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Midshire restorative justice" in html
    assert "Ask us about restorative justice" in html
    assert "call 999" in html
    assert client.get("/self-referral/NOPE").status_code == 404


def test_a_self_referral_lands_in_triage_with_the_contact_the_person_said_is_safe(client, signed_in):
    service = make_service()

    response = client.post(f"/self-referral/{service.code}", data=_answers())

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/self-referral/{service.code}/sent")
    [case] = _cases(service)
    assert case.source == "self_referral"
    assert case.needs_triage
    assert case.offence_category == "harassment_and_stalking"
    assert case.crime_reference == "MP/26/777"
    [victim] = case.parties
    assert victim.role == "victim"
    assert victim.full_name == "Sam Selfreferrer"
    assert victim.mobile_e164 == "+447700900456"
    assert victim.email == "sam.selfreferrer@example.org"
    assert (victim.allow_sms, victim.allow_email, victim.allow_voicemail) == (True, True, False)
    assert victim.wording == "discreet"
    assert has_consent(victim, "contact")
    assert has_consent(victim, "sms")
    assert has_consent(victim, "email")
    assert not has_consent(victim, "take_part")
    assert sorted({w.weekday for w in victim.contact_windows}) == [0, 1, 2, 3, 4, 5, 6]
    # A supervisor finds it among the self-referrals waiting for triage.
    supervisor = make_user(service, Role.SUPERVISOR)
    triage = signed_in(supervisor).get("/cases?needs_triage=yes").get_data(as_text=True)
    assert case.reference in triage


def test_the_thank_you_page_says_what_happens_next_and_repeats_nothing_typed(client):
    service = make_service()
    sent = client.post(f"/self-referral/{service.code}", data=_answers())

    page = client.get(sent.headers["Location"]).get_data(as_text=True)

    assert "What happens next" in page
    assert "within 5 working days" in page
    assert "within 1 working day" in page
    assert "Victims' Code" in page or "Victims&#39; Code" in page
    for typed in ("Sam Selfreferrer", "07700", "900456", "sam.selfreferrer@example.org", "MP/26/777"):
        assert typed not in page


def test_a_filled_honeypot_discards_the_submission_but_shows_the_same_thank_you(client):
    service = make_service()

    response = client.post(f"/self-referral/{service.code}", data=_answers(website="http://spam.example"))

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/self-referral/{service.code}/sent")
    assert _cases(service) == []
    discarded = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "self_referral.discarded", AuditEntry.service_id == service.id
        )
    ).all()
    assert len(discarded) == 1


def test_the_honeypot_is_hidden_from_people_by_a_class_and_never_focused(client):
    service = make_service()
    html = client.get(f"/self-referral/{service.code}").get_data(as_text=True)

    group = re.search(
        r'<div class="([^"]*)" aria-hidden="true">\s*<label[^>]*>[^<]*</label>\s*(<input[^>]*>)', html
    )

    assert group is not None
    assert "govuk-visually-hidden" in group.group(1).split()
    field = group.group(2)
    assert 'name="website"' in field
    assert 'tabindex="-1"' in field
    assert 'autocomplete="off"' in field
    assert "style=" not in html


def test_a_way_to_contact_them_is_required_and_nothing_is_saved_without_it(client):
    service = make_service()

    no_method = client.post(
        f"/self-referral/{service.code}", data=_answers(contact_methods=None, mobile=None, email=None)
    )
    no_number = client.post(
        f"/self-referral/{service.code}", data=_answers(contact_methods=["phone"], mobile="")
    )

    assert no_method.status_code == no_number.status_code == 400
    assert "Select at least one way we can contact you" in no_method.get_data(as_text=True)
    assert "Enter your mobile phone number" in no_number.get_data(as_text=True)
    assert _cases(service) == []


def test_an_invalid_mobile_number_says_so_and_keeps_what_was_typed(client):
    service = make_service()

    response = client.post(f"/self-referral/{service.code}", data=_answers(mobile="07700 90045x"))

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'value="07700 90045x"' in html
    assert "govuk-error-message" in html
    assert _cases(service) == []


def test_saying_nothing_about_what_happened_is_fine(client):
    service = make_service()

    response = client.post(
        f"/self-referral/{service.code}",
        data=_answers(
            what_happened="not_saying", crime_reference="", safe_times=None, contact_methods=["phone"]
        ),
    )

    assert response.status_code == 302
    [case] = _cases(service)
    assert case.offence_category == "other"
    assert case.parties[0].contact_windows == []
    assert case.parties[0].email is None
