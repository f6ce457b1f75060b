"""The referral API: a partner files a referral with its key, once per Idempotency-Key, into its own service."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from rj_scheduler.api.models import ApiKey, IdempotencyRecord
from rj_scheduler.api.services import revoke_api_key
from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.cases.models import Case, Party
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from tests.api.api_helpers import assert_conforms, make_api_key, post_referral, referral_body
from tests.factories import make_service, make_user


def _cases(service) -> list[Case]:
    return list(db.session.scalars(select(Case).where(Case.service_id == service.id)))


def test_a_partner_creates_a_referral_with_its_key(client):
    service = make_service(code="MP")
    key, full_key = make_api_key(service, partner_name="Midshire Police", source="police")

    response = post_referral(client, full_key, referral_body())

    assert response.status_code == 201, response.get_data(as_text=True)
    assert_conforms(response, "/api/v1/referrals", "POST")
    body = response.get_json()
    assert body["reference"].startswith("MP-")
    assert body["source"] == "police"
    assert response.headers["Location"] == f"/api/v1/referrals/{body['reference']}"
    [case] = _cases(service)
    assert case.reference == body["reference"]
    assert case.source == "police"
    assert case.referrer_organisation == "Midshire Police"
    assert case.justice_stage == "awaiting_trial"
    assert not case.needs_triage
    assert sorted(p.role for p in case.parties) == ["offender", "victim"]
    victim = next(p for p in case.parties if p.role == "victim")
    assert victim.mobile_e164 == "+447700900123"
    assert db.session.get(ApiKey, key.id).last_used_at is not None


def test_every_api_call_is_audited_with_the_partners_name_and_no_contact_details(client):
    service = make_service()
    _key, full_key = make_api_key(service, partner_name="Midshire Witness Care", source="witness_care")

    response = post_referral(client, full_key, referral_body())

    assert response.status_code == 201
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.service_id == service.id)))
    api_entry = next(e for e in entries if e.action == "api.request")
    details = json.loads(api_entry.details)
    assert details["partner"] == "Midshire Witness Care"
    assert details["status"] == 201
    assert details["case"] == response.get_json()["reference"]
    assert any(e.action == "case.created" for e in entries)
    everything = " ".join(e.details or "" for e in entries)
    assert "7700" not in everything
    assert "vera@example.org" not in everything


def test_the_receipt_can_be_read_back_at_its_location(client):
    _key, full_key = make_api_key()
    created = post_referral(client, full_key, referral_body())

    response = client.get(created.headers["Location"], headers={"Authorization": f"Bearer {full_key}"})

    assert response.status_code == 200
    assert_conforms(response, created.headers["Location"], "GET")
    assert response.get_json() == created.get_json()


def test_a_retry_with_the_same_idempotency_key_returns_the_first_result_and_makes_one_case(client):
    service = make_service()
    _key, full_key = make_api_key(service)

    first = post_referral(client, full_key, referral_body(), idempotency_key="a7c1-retry")
    # The same referral re-sent with other spacing and key order is the same request.
    reordered = json.dumps(dict(reversed(list(referral_body().items()))), indent=2).encode()
    second = post_referral(client, full_key, None, idempotency_key="a7c1-retry", raw=reordered)

    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert_conforms(second, "/api/v1/referrals", "POST")
    assert len(_cases(service)) == 1


def test_the_same_idempotency_key_with_a_different_referral_is_refused(client):
    service = make_service()
    _key, full_key = make_api_key(service)
    assert post_referral(client, full_key, referral_body(), idempotency_key="k-1").status_code == 201

    response = post_referral(client, full_key, referral_body(offence_category="theft"), idempotency_key="k-1")

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == "urn:rj-scheduler:problem:idempotency-key-reused"
    assert_conforms(response, "/api/v1/referrals", "POST")
    assert len(_cases(service)) == 1


def test_idempotency_keys_belong_to_one_api_key(client):
    service = make_service()
    _first, first_key = make_api_key(service, partner_name="Midshire Police")
    _second, second_key = make_api_key(service, partner_name="Midshire Probation", source="probation")

    one = post_referral(client, first_key, referral_body(), idempotency_key="shared-value")
    two = post_referral(client, second_key, referral_body(), idempotency_key="shared-value")

    assert one.status_code == two.status_code == 201
    assert one.get_json()["reference"] != two.get_json()["reference"]
    assert sorted(c.source for c in _cases(service)) == ["police", "probation"]


def test_a_refused_referral_stores_nothing_and_can_be_corrected_under_the_same_key(client):
    service = make_service()
    _key, full_key = make_api_key(service)
    bad = referral_body(offence_category="shoplifting")

    assert post_referral(client, full_key, bad, idempotency_key="fix-me").status_code == 422
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 0
    assert _cases(service) == []

    fixed = post_referral(client, full_key, referral_body(), idempotency_key="fix-me")
    assert fixed.status_code == 201
    assert len(_cases(service)) == 1


def test_every_validation_error_names_its_field_with_a_json_pointer(client):
    service = make_service()
    _key, full_key = make_api_key(service)
    body = referral_body(
        offence_category="shoplifting", offence_date="2026-02-30", received_at="2026-03-01T10:00"
    )
    del body["justice_stage"]
    body["colour"] = "blue"
    body["parties"] = [
        {"role": "victim", "full_name": "Vera Victim", "mobile": "07700 900123x", "allow_sms": "yes"},
        {"role": "judge", "full_name": ""},
        {"role": "supporter", "full_name": "Sue Supporter", "supports": 7},
    ]

    response = post_referral(client, full_key, body)

    assert response.status_code == 422
    assert_conforms(response, "/api/v1/referrals", "POST")
    problem = response.get_json()
    assert problem["type"] == "urn:rj-scheduler:problem:validation-error"
    pointers = {e["pointer"] for e in problem["errors"]}
    assert pointers == {
        "#/offence_category",
        "#/offence_date",
        "#/received_at",
        "#/justice_stage",
        "#/colour",
        "#/parties/0/allow_sms",
        "#/parties/1/role",
    }
    assert all(e["detail"] for e in problem["errors"])
    assert _cases(service) == []


def test_rule_refusals_from_the_cases_service_name_their_field_too(client):
    _key, full_key = make_api_key()
    body = referral_body(crime_reference="CR#1")
    body["parties"] = [
        {"role": "victim", "full_name": "Vera Victim", "mobile": "07700 900123x"},
        {"role": "supporter", "full_name": "Sue Supporter", "supports": 7},
        {"role": "victim", "full_name": "Young Person", "age_band": "under_18"},
    ]

    response = post_referral(client, full_key, body)

    assert response.status_code == 422
    assert_conforms(response, "/api/v1/referrals", "POST")
    pointers = {e["pointer"] for e in response.get_json()["errors"]}
    assert {
        "#/crime_reference",
        "#/parties/0/mobile",
        "#/parties/1/supports",
        "#/parties/2/guardian_name",
    } <= pointers


def test_a_body_that_is_not_an_object_or_not_json_is_refused_as_a_problem(client):
    _key, full_key = make_api_key()

    not_object = post_referral(client, full_key, [1, 2])
    not_json = post_referral(client, full_key, None, raw=b"{not json")
    no_parties = post_referral(client, full_key, referral_body(parties=[]))

    assert not_object.status_code == 422
    assert [e["pointer"] for e in not_object.get_json()["errors"]] == ["#"]
    assert not_json.status_code == 400
    assert not_json.get_json()["type"] == "urn:rj-scheduler:problem:malformed-json"
    assert [e["pointer"] for e in no_parties.get_json()["errors"]] == ["#/parties"]
    for response in (not_object, not_json, no_parties):
        assert_conforms(response, "/api/v1/referrals", "POST")


def test_a_referral_needs_an_idempotency_key_and_a_json_content_type(client):
    _key, full_key = make_api_key()

    missing_key = post_referral(client, full_key, referral_body(), idempotency_key=None)
    bad_key = post_referral(client, full_key, referral_body(), idempotency_key="has space")
    form_post = post_referral(
        client, full_key, referral_body(), content_type="application/x-www-form-urlencoded"
    )

    assert missing_key.status_code == 400
    assert missing_key.get_json()["type"] == "urn:rj-scheduler:problem:header-invalid"
    assert "Idempotency-Key" in missing_key.get_json()["detail"]
    assert bad_key.status_code == 400
    assert form_post.status_code == 415
    for response in (missing_key, bad_key, form_post):
        assert response.mimetype == "application/problem+json"
        assert_conforms(response, "/api/v1/referrals", "POST")


def test_requests_without_a_valid_key_are_refused_with_401_and_a_bearer_challenge(client):
    service = make_service()
    key, full_key = make_api_key(service)
    wrong_secret = full_key[:-4] + ("AAAA" if not full_key.endswith("AAAA") else "BBBB")
    attempts = {
        "no header": None,
        "not bearer": "Basic dXNlcjpwYXNz",
        "malformed": "Bearer not-a-key",
        "unknown prefix": "Bearer rjk_000000000000_" + "x" * 40,
        "wrong secret": f"Bearer {wrong_secret}",
    }
    for name, header in attempts.items():
        headers = {"Idempotency-Key": name.replace(" ", "-")}
        if header is not None:
            headers["Authorization"] = header
        response = client.post("/api/v1/referrals", json=referral_body(), headers=headers)
        assert response.status_code == 401, name
        assert response.mimetype == "application/problem+json", name
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
        assert_conforms(response, "/api/v1/referrals", "POST")
    assert _cases(service) == []
    refusals = db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "api.key_refused")
    )
    assert refusals == len(attempts)
    assert db.session.get(ApiKey, key.id).last_used_at is None


def test_a_revoked_key_is_refused(client):
    service = make_service()
    manager = make_user(service, "manager")
    key, full_key = make_api_key(service)
    assert post_referral(client, full_key, referral_body(), idempotency_key="before").status_code == 201
    revoke_api_key(key, actor=manager, at=now())
    db.session.commit()

    response = post_referral(client, full_key, referral_body(), idempotency_key="after")
    replay = post_referral(client, full_key, referral_body(), idempotency_key="before")

    assert response.status_code == replay.status_code == 401
    assert "revoked" in response.get_json()["detail"]
    assert len(_cases(service)) == 1


def test_a_key_files_referrals_only_into_its_own_service(client):
    ours, theirs = make_service(), make_service()
    make_api_key(ours)
    _their_key, their_full_key = make_api_key(theirs)

    response = post_referral(client, their_full_key, referral_body())

    assert response.status_code == 201
    assert _cases(ours) == []
    [case] = _cases(theirs)
    assert case.reference == response.get_json()["reference"]
    assert all(
        p.service_id == theirs.id for p in db.session.scalars(select(Party).where(Party.case_id == case.id))
    )


def test_another_services_key_cannot_read_or_replay_this_services_referrals(client):
    ours, theirs = make_service(), make_service()
    _our_key, our_full_key = make_api_key(ours, partner_name="Shared Police")
    _their_key, their_full_key = make_api_key(theirs, partner_name="Shared Police")
    created = post_referral(client, our_full_key, referral_body(), idempotency_key="same-key")
    location = created.headers["Location"]

    read = client.get(location, headers={"Authorization": f"Bearer {their_full_key}"})
    replay = post_referral(client, their_full_key, referral_body(), idempotency_key="same-key")

    assert read.status_code == 404
    assert read.mimetype == "application/problem+json"
    assert_conforms(read, location, "GET")
    # Their identical request is their own referral, in their own service, not a replay of ours.
    assert replay.status_code == 201
    assert "Idempotent-Replayed" not in replay.headers
    assert replay.get_json()["reference"] != created.get_json()["reference"]
    assert len(_cases(ours)) == len(_cases(theirs)) == 1


def test_a_partner_reads_only_referrals_it_sent_itself(client):
    service = make_service()
    _police, police_key = make_api_key(service, partner_name="Midshire Police")
    _probation, probation_key = make_api_key(service, partner_name="Midshire Probation", source="probation")
    created = post_referral(client, police_key, referral_body())
    staff_case = _cases(service)[0].reference

    assert (
        client.get(
            created.headers["Location"], headers={"Authorization": f"Bearer {probation_key}"}
        ).status_code
        == 404
    )
    # A case the partner did not send through the API is not found either.
    other = make_user(service)
    from tests.factories import make_case

    staff_made = make_case(service, lead=other)
    db.session.commit()
    response = client.get(
        f"/api/v1/referrals/{staff_made.reference}", headers={"Authorization": f"Bearer {police_key}"}
    )
    assert response.status_code == 404
    assert staff_case == created.get_json()["reference"]


def test_api_errors_for_unknown_paths_and_methods_are_problem_details(client):
    not_found = client.get("/api/v1/nothing-here")
    wrong_method = client.delete("/api/v1/referrals")
    openapi_post = client.post("/api/v1/openapi.json")

    assert not_found.status_code == 404
    assert not_found.mimetype == "application/problem+json"
    assert not_found.get_json()["status"] == 404
    assert wrong_method.status_code == openapi_post.status_code == 405
    assert wrong_method.mimetype == "application/problem+json"
    assert "POST" in wrong_method.headers["Allow"]
    assert wrong_method.get_json()["title"] == "Method Not Allowed"


def test_staff_pages_keep_their_html_error_pages(client):
    response = client.get("/no-such-staff-page")

    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_a_body_over_the_size_limit_is_a_413_problem(app, client):
    _key, full_key = make_api_key()
    limit = app.config["MAX_CONTENT_LENGTH"]

    response = post_referral(client, full_key, None, raw=b'{"summary": "' + b"x" * limit + b'"}')

    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert_conforms(response, "/api/v1/referrals", "POST")


def test_an_unexpected_failure_is_a_500_problem_and_saves_nothing(client, monkeypatch):
    from rj_scheduler.api import services as api_services

    service = make_service()
    _key, full_key = make_api_key(service)

    real_file_referral = api_services.file_referral

    def fails_after_writing(key, body, *, idempotency_key, at):
        real_file_referral(key, body, idempotency_key=idempotency_key, at=at)
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(api_services, "file_referral", fails_after_writing)

    response = post_referral(client, full_key, referral_body())

    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "fire" not in response.get_data(as_text=True)
    assert_conforms(response, "/api/v1/referrals", "POST")
    assert _cases(service) == []
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 0
