"""Mobile numbers and email addresses: what is accepted, what is refused and why."""

from __future__ import annotations

import pytest

from rj_scheduler.cases.validation import InvalidContactDetail, format_mobile, normalise_email, parse_mobile


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("07911 123456", "+447911123456"),
        ("+44 7911 123456", "+447911123456"),
        ("(07911) 123-456", "+447911123456"),
        ("+33 6 12 34 56 78", "+33612345678"),
    ],
)
def test_real_mobiles_are_stored_in_e164(typed, e164):
    assert parse_mobile(typed, allow_drama=False) == e164


@pytest.mark.parametrize("typed", ["07911 123456a", "07911123456x", "07911 123456 ext 2", "0791l 123456"])
def test_a_number_with_stray_characters_is_refused(typed):
    with pytest.raises(InvalidContactDetail, match="only numbers"):
        parse_mobile(typed, allow_drama=True)


@pytest.mark.parametrize("typed", ["020 7946 0018", "0909 879 0000", "0800 123 4567"])
def test_landline_premium_and_freephone_numbers_are_refused(typed):
    with pytest.raises(InvalidContactDetail, match="not a landline"):
        parse_mobile(typed, allow_drama=False)


@pytest.mark.parametrize("typed", ["0791112345", "07911 1234567", "12"])
def test_a_number_of_the_wrong_length_is_refused(typed):
    with pytest.raises(InvalidContactDetail):
        parse_mobile(typed, allow_drama=False)


def test_the_drama_range_is_accepted_only_when_the_setting_allows_it():
    assert parse_mobile("07700 900982", allow_drama=True) == "+447700900982"
    with pytest.raises(InvalidContactDetail):
        parse_mobile("07700 900982", allow_drama=False)
    with pytest.raises(InvalidContactDetail):
        parse_mobile("07700 901000", allow_drama=True)  # just outside the range


def test_mobiles_are_shown_in_uk_national_format():
    assert format_mobile("+447911123456") == "07911 123456"
    assert format_mobile("+447700900982") == "07700 900982"


def test_email_syntax_is_checked_without_the_network():
    assert normalise_email(" Vera@Example.org ") == "Vera@example.org"
    for bad in ["vera", "vera@", "vera@@example.org", "vera example@example.org"]:
        with pytest.raises(InvalidContactDetail, match="correct format"):
            normalise_email(bad)
