"""The API is rate-limited per key (a 429 problem), and the self-referral page per address."""

from __future__ import annotations

import pytest

from rj_scheduler.extensions import db, limiter
from tests.api.api_helpers import assert_conforms, make_api_key, post_referral, referral_body
from tests.conftest import make_app
from tests.factories import make_service


@pytest.fixture
def rate_limited_app(tmp_root):
    was_enabled = limiter.enabled
    app = make_app(
        tmp_root,
        RATELIMIT_ENABLED=True,
        RJ_API_RATE_LIMIT="2 per minute",
        RJ_SELF_REFERRAL_RATE_LIMIT="2 per hour",
    )
    try:
        yield app
    finally:
        limiter.reset()
        limiter.enabled = was_enabled


def test_the_api_answers_429_problem_details_once_a_key_uses_its_budget(rate_limited_app):
    _key, full_key = make_api_key()
    _other, other_key = make_api_key()
    db.session.commit()
    client = rate_limited_app.test_client()

    answers = [
        post_referral(client, full_key, referral_body(), idempotency_key=f"n-{n}").status_code
        for n in range(3)
    ]
    limited = post_referral(client, full_key, referral_body(), idempotency_key="n-3")

    assert answers == [201, 201, 429]
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert "Retry-After" in limited.headers
    assert_conforms(limited, "/api/v1/referrals", "POST")
    # The budget is the key's own: another partner is not held up.
    assert post_referral(client, other_key, referral_body(), idempotency_key="other").status_code == 201


def _self_referral(client, code: str, name: str):
    return client.post(
        f"/self-referral/{code}",
        data={
            "full_name": name,
            "contact_methods": ["email"],
            "email": "someone@example.org",
            "voicemail": "no",
            "wording": "discreet",
        },
    )


def test_the_self_referral_page_is_rate_limited_per_address(rate_limited_app):
    code = make_service().code
    db.session.commit()
    client = rate_limited_app.test_client()

    first = _self_referral(client, code, "Ann Example")
    second = _self_referral(client, code, "Ben Example")
    third = _self_referral(client, code, "Cat Example")

    assert [first.status_code, second.status_code, third.status_code] == [302, 302, 429]
    assert "text/html" in third.content_type
    # Reading the page is not limited, only sending it.
    assert client.get(f"/self-referral/{code}").status_code == 200
