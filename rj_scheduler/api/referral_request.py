"""The JSON body of ``POST /api/v1/referrals``: its fields, their types, and the map to ``create_referral``.

This module checks only shapes and types (a string where a string belongs, a
real date, no unknown field) and names every problem with a JSON pointer; the
rules about the values themselves live in ``rj_scheduler.cases.services`` and
are reported against the same pointers. ``rj_scheduler.api.openapi`` builds
the request schema from the same field lists, so the document and the
behaviour cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from rj_scheduler.api.exceptions import RequestInvalid
from rj_scheduler.cases.models import AgeBand, JusticeStage, OffenceCategory, PartyRole, Wording
from rj_scheduler.cases.services import PartyInput

MAX_PARTIES = 20


@dataclass(frozen=True)
class Field:
    """One member of a JSON object: its type and, for strings, its allowed values and length."""

    name: str
    kind: str  # "string", "date", "date-time", "boolean", "integer"
    required: bool = False
    enum: tuple[str, ...] | None = None
    max_length: int | None = None
    description: str = ""
    nullable: bool = True


def _enum(enum_cls) -> tuple[str, ...]:
    return tuple(m.value for m in enum_cls)


REFERRAL_FIELDS: tuple[Field, ...] = (
    Field(
        "offence_category",
        "string",
        True,
        _enum(OffenceCategory),
        description="The offence category.",
        nullable=False,
    ),
    Field(
        "justice_stage",
        "string",
        True,
        _enum(JusticeStage),
        description="Where the case is in the justice process.",
        nullable=False,
    ),
    Field("offence_date", "date", description="The date of the offence, if known."),
    Field("crime_reference", "string", max_length=60, description="The police crime reference, if any."),
    Field(
        "received_at",
        "date-time",
        description="When the referral was made, with a time zone offset; the time of the request if left out.",
    ),
    Field("referrer_name", "string", max_length=200, description="The name of the person referring."),
    Field(
        "referrer_organisation", "string", max_length=200, description="The referrer's team or organisation."
    ),
    Field(
        "summary", "string", max_length=5000, description="Anything the service should know, in plain text."
    ),
    Field("domestic_abuse", "boolean", description="The offence is domestic abuse related."),
    Field("sexual_offence", "boolean", description="The offence is a sexual offence."),
    Field("hate_crime", "boolean", description="The offence is a hate crime."),
)

PARTY_FIELDS: tuple[Field, ...] = (
    Field(
        "role", "string", True, _enum(PartyRole), description="The person's role in the case.", nullable=False
    ),
    Field("full_name", "string", True, max_length=200, description="Their full name.", nullable=False),
    Field("preferred_name", "string", max_length=200, description="The name they like to be called."),
    Field("pronouns", "string", max_length=60),
    Field("date_of_birth", "date", description="Their date of birth, if known (else give an age band)."),
    Field(
        "age_band",
        "string",
        enum=_enum(AgeBand),
        description="Their age band, if the date of birth is not known.",
    ),
    Field("mobile", "string", max_length=40, description="A UK mobile number."),
    Field("email", "string", max_length=320),
    Field("address", "string", max_length=1000, description="Their postal address."),
    Field(
        "language", "string", max_length=12, description="The language they use, as a code such as en or pl."
    ),
    Field("interpreter_needed", "boolean"),
    Field("accessibility_needs", "string", max_length=2000),
    Field("organisation", "string", max_length=200, description="For an interpreter or professional."),
    Field(
        "guardian_name", "string", max_length=200, description="A parent or guardian, for a person under 18."
    ),
    Field("guardian_mobile", "string", max_length=40),
    Field("guardian_email", "string", max_length=320),
    Field(
        "supports",
        "integer",
        description="For a supporter: the position (from 0) in `parties` of the victim or offender they support.",
    ),
    Field("allow_sms", "boolean", description="They agreed to be sent SMS."),
    Field("allow_email", "boolean", description="They agreed to be emailed."),
    Field("allow_voicemail", "boolean", description="A voicemail may be left for them."),
    Field(
        "wording",
        "string",
        enum=_enum(Wording),
        description="`discreet` (the default): messages name only the service and the appointment.",
    ),
)


def pointer(*parts: str | int) -> str:
    """A JSON pointer in URI fragment form (RFC 6901), as RFC 9457's examples write it: ``#/parties/0/mobile``."""
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return "#/" + "/".join(escaped) if escaped else "#"


def service_field_pointer(name: str) -> str:
    """The pointer of a ``create_referral`` error key (``parties[0].mobile`` -> ``#/parties/0/mobile``)."""
    match = re.fullmatch(r"parties\[(\d+)\]\.(\w+)", name)
    if match:
        return pointer("parties", int(match.group(1)), match.group(2))
    return pointer(name)


def _check(
    obj: dict[str, Any],
    fields: tuple[Field, ...],
    path: tuple[str | int, ...],
    errors: dict[str, str],
    also: tuple[str, ...] = (),
) -> dict[str, Any]:
    known = {f.name: f for f in fields} | dict.fromkeys(also)
    for name in obj:
        if name not in known:
            errors[pointer(*path, name)] = f"Unknown field: {name[:60]}"
    values: dict[str, Any] = {}
    for f in fields:
        where = pointer(*path, f.name)
        value = obj.get(f.name)
        if value is None:
            if f.required:
                errors[where] = f"{f.name} is required" if f.name not in obj else f"{f.name} must not be null"
            continue
        if f.kind in ("string", "date", "date-time"):
            if not isinstance(value, str):
                errors[where] = f"{f.name} must be a string"
                continue
            if f.kind == "date":
                try:
                    values[f.name] = (
                        dt.date.fromisoformat(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
                    )
                except ValueError:
                    values[f.name] = None
                if values[f.name] is None:
                    errors[where] = f"{f.name} must be a real date written YYYY-MM-DD"
                continue
            if f.kind == "date-time":
                try:
                    parsed = dt.datetime.fromisoformat(value)
                except ValueError:
                    errors[where] = f"{f.name} must be a date and time such as 2026-03-01T10:30:00Z"
                    continue
                if parsed.tzinfo is None:
                    errors[where] = f"{f.name} must include a time zone offset, such as Z or +01:00"
                    continue
                values[f.name] = parsed.astimezone(dt.UTC)
                continue
            if f.enum is not None and value not in f.enum:
                errors[where] = f"{f.name} must be one of: {', '.join(f.enum)}"
                continue
            if f.max_length is not None and len(value) > f.max_length:
                errors[where] = f"{f.name} must be {f.max_length} characters or fewer"
                continue
            values[f.name] = value
        elif f.kind == "boolean":
            if not isinstance(value, bool):
                errors[where] = f"{f.name} must be true or false"
                continue
            values[f.name] = value
        elif f.kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                errors[where] = f"{f.name} must be a whole number"
                continue
            values[f.name] = value
    return values


@dataclass
class ReferralRequest:
    """A partner's referral with every value of the right type, ready for ``create_referral``."""

    offence_category: str
    justice_stage: str
    offence_date: dt.date | None = None
    crime_reference: str | None = None
    received_at: dt.datetime | None = None
    referrer_name: str | None = None
    referrer_organisation: str | None = None
    summary: str | None = None
    domestic_abuse: bool = False
    sexual_offence: bool = False
    hate_crime: bool = False
    parties: list[PartyInput] = field(default_factory=list)


def parse_referral_request(body: Any) -> ReferralRequest:
    """Check the shape of a referral body; raise ``RequestInvalid`` naming every bad field by JSON pointer."""
    errors: dict[str, str] = {}
    if not isinstance(body, dict):
        raise RequestInvalid({pointer(): "The request body must be a JSON object"})
    values = _check(body, REFERRAL_FIELDS, (), errors, also=("parties",))
    parties_raw = body.get("parties")
    parties: list[PartyInput] = []
    if parties_raw is None:
        errors[pointer("parties")] = "parties is required: list at least one person"
    elif not isinstance(parties_raw, list):
        errors[pointer("parties")] = "parties must be a list of people"
    elif not parties_raw:
        errors[pointer("parties")] = "parties must list at least one person"
    elif len(parties_raw) > MAX_PARTIES:
        errors[pointer("parties")] = f"parties must list {MAX_PARTIES} people or fewer"
    else:
        for index, raw in enumerate(parties_raw):
            if not isinstance(raw, dict):
                errors[pointer("parties", index)] = "Each person must be a JSON object"
                continue
            party_values = _check(raw, PARTY_FIELDS, ("parties", index), errors)
            if "role" in party_values and "full_name" in party_values:
                parties.append(PartyInput(**party_values))
    if errors:
        raise RequestInvalid(errors)
    return ReferralRequest(**values, parties=parties)
