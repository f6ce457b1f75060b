"""Checking and showing contact details: mobiles (``phonenumbers``) and email addresses (syntax only).

``phonenumbers`` is lenient: it ignores a trailing letter and accepts landline
and premium numbers, so we also refuse stray characters and anything that is
not a mobile. It rejects Ofcom's drama range (07700 900000-900999) that demos
and tests use; ``allow_drama`` (the ``RJ_ALLOW_DRAMA_NUMBERS`` setting) lets
that range through.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

_ALLOWED_PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()\-.]+$")
_DRAMA_RANGE = re.compile(r"^\+447700900\d{3}$")
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}

MOBILE_ERROR = "Enter a mobile phone number, like 07700 900 982 or +44 7700 900 982"
EMAIL_ERROR = "Enter an email address in the correct format, like name@example.com"


class InvalidContactDetail(ValueError):
    """The text is not a usable mobile number or email address; the message says why."""


def is_drama_number(e164: str) -> bool:
    return bool(_DRAMA_RANGE.match(e164))


def parse_mobile(text: str, *, allow_drama: bool) -> str:
    """Return the mobile number in E.164, or raise ``InvalidContactDetail`` with a plain-English reason."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidContactDetail("Enter a mobile phone number")
    if not _ALLOWED_PHONE_CHARACTERS.match(raw):
        raise InvalidContactDetail(
            "Enter a mobile phone number using only numbers, spaces, brackets, dashes and a leading +"
        )
    try:
        number = phonenumbers.parse(raw, "GB")
    except NumberParseException as error:
        raise InvalidContactDetail(MOBILE_ERROR) from error
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if allow_drama and is_drama_number(e164):
        return e164
    if not phonenumbers.is_valid_number(number):
        raise InvalidContactDetail(MOBILE_ERROR)
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidContactDetail("Enter a mobile phone number, not a landline or premium rate number")
    return e164


def format_mobile(e164: str | None) -> str:
    """Show a UK mobile in national format (07700 900982); other countries in international format."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if number.country_code == 44:
        if is_drama_number(e164):
            national = "0" + str(number.national_number)
            return f"{national[:5]} {national[5:]}"
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def normalise_email(text: str) -> str:
    """Return the email address normalised, or raise ``InvalidContactDetail``. Syntax only: no DNS."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidContactDetail("Enter an email address")
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidContactDetail(EMAIL_ERROR) from error
    return result.normalized
