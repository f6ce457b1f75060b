"""The rules of a case: referral, parties, consent, first contact, state, notes, reassignment.

Every function takes the acting user and the time explicitly, flushes and
never commits; refusals raise the exceptions in ``rj_scheduler.cases.exceptions``.
Every change adds a timeline entry and an audit entry; neither ever carries a
party's contact details.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rj_scheduler.audit import services as audit
from rj_scheduler.auth.models import Service, User
from rj_scheduler.cases import events
from rj_scheduler.cases.consent import current_consent
from rj_scheduler.cases.exceptions import (
    ConsentInvalid,
    ContactInvalid,
    NoteInvalid,
    PartyInvalid,
    ReassignRefused,
    ReferralInvalid,
    TransitionRefused,
    TriageRefused,
)
from rj_scheduler.cases.models import (
    ENHANCED_RIGHTS_CATEGORIES,
    AgeBand,
    Case,
    CaseNote,
    CaseReferenceCounter,
    CaseState,
    ClosureReason,
    ConsentKind,
    ConsentMethod,
    ConsentRecord,
    ContactMethod,
    ContactWindow,
    EqualityMonitoring,
    JusticeStage,
    OffenceCategory,
    Party,
    PartyRole,
    ReferralSource,
    TimelineEvent,
    Wording,
)
from rj_scheduler.cases.readiness import readiness_blockers
from rj_scheduler.cases.states import CaseFacts, derived_state, transition_refusals
from rj_scheduler.cases.validation import InvalidContactDetail, normalise_email, parse_mobile
from rj_scheduler.cases.working_days import add_working_days
from rj_scheduler.extensions import db

LONDON = ZoneInfo("Europe/London")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
_CRIME_REFERENCE = re.compile(r"^[A-Za-z0-9/\-. ]{1,60}$")
DEFAULT_FIRST_CONTACT_WORKING_DAYS = 5
DEFAULT_FIRST_CONTACT_WORKING_DAYS_ENHANCED = 1
PREFER_NOT_TO_SAY = "prefer_not_to_say"

EQUALITY_OPTIONS: dict[str, list[tuple[str, str]]] = {
    "ethnicity": [
        ("asian", "Asian or Asian British"),
        ("black", "Black, Black British, Caribbean or African"),
        ("mixed", "Mixed or multiple ethnic groups"),
        ("white", "White"),
        ("other", "Another ethnic group"),
        (PREFER_NOT_TO_SAY, "Prefer not to say"),
    ],
    "gender": [
        ("woman", "Woman"),
        ("man", "Man"),
        ("non_binary", "Non-binary"),
        ("other", "In another way"),
        (PREFER_NOT_TO_SAY, "Prefer not to say"),
    ],
    "age_band": [*AgeBand.choices(), (PREFER_NOT_TO_SAY, "Prefer not to say")],
    "disability": [("yes", "Yes"), ("no", "No"), (PREFER_NOT_TO_SAY, "Prefer not to say")],
    "religion": [
        ("none", "No religion"),
        ("buddhist", "Buddhist"),
        ("christian", "Christian"),
        ("hindu", "Hindu"),
        ("jewish", "Jewish"),
        ("muslim", "Muslim"),
        ("sikh", "Sikh"),
        ("other", "Another religion"),
        (PREFER_NOT_TO_SAY, "Prefer not to say"),
    ],
}


# --- small helpers ---------------------------------------------------------------------------


def london_date(at: dt.datetime) -> dt.date:
    return at.astimezone(LONDON).date()


def _allow_drama() -> bool:
    return bool(current_app.config.get("RJ_ALLOW_DRAMA_NUMBERS", False))


def first_contact_target(sensitive: bool) -> int:
    """Working days allowed for first contact: 1 for victims with enhanced rights (sensitive cases), else 5."""
    if sensitive:
        return int(
            current_app.config.get(
                "RJ_FIRST_CONTACT_WORKING_DAYS_ENHANCED", DEFAULT_FIRST_CONTACT_WORKING_DAYS_ENHANCED
            )
        )
    return int(current_app.config.get("RJ_FIRST_CONTACT_WORKING_DAYS", DEFAULT_FIRST_CONTACT_WORKING_DAYS))


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _in(enum_cls, value: str | None) -> bool:
    return value is not None and value in {m.value for m in enum_cls}


def _who(actor: User | None) -> int | None:
    return actor.id if actor is not None else None


def add_timeline_event(
    case: Case, kind: str, summary: str, *, actor: User | None, at: dt.datetime, party: Party | None = None
) -> None:
    """Add an entry to the case's timeline (plain English for staff; never another party's contact details)."""
    db.session.add(
        TimelineEvent(
            service_id=case.service_id,
            case_id=case.id,
            party_id=party.id if party is not None else None,
            kind=kind,
            summary=summary,
            actor_id=_who(actor),
            at=at,
        )
    )
    db.session.flush()


def _audit(
    action: str, case: Case, actor: User | None, party: Party | None = None, **details: object
) -> None:
    if party is not None:
        details = {"case": case.reference, **details}
    audit.record(
        action,
        object_type="party" if party is not None else "case",
        object_id=party.public_id if party is not None else case.reference,
        service_id=case.service_id,
        actor_user_id=_who(actor),
        details=details or None,
    )


# --- parties ---------------------------------------------------------------------------------


@dataclass
class PartyInput:
    """A party's details as typed (by staff, a partner's API call or a self-referral)."""

    role: str
    full_name: str
    preferred_name: str | None = None
    pronouns: str | None = None
    date_of_birth: dt.date | None = None
    age_band: str | None = None
    mobile: str | None = None
    email: str | None = None
    address: str | None = None
    language: str = "en"
    interpreter_needed: bool = False
    accessibility_needs: str | None = None
    organisation: str | None = None
    guardian_name: str | None = None
    guardian_mobile: str | None = None
    guardian_email: str | None = None
    # For a supporter in a referral: the index (in the referral's list) of the party they support.
    supports: int | None = None
    allow_sms: bool = False
    allow_email: bool = False
    allow_voicemail: bool = False
    wording: str = Wording.DISCREET.value


_PARTY_COLUMNS = {
    "role",
    "full_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "age_band",
    "address",
    "language",
    "interpreter_needed",
    "accessibility_needs",
    "organisation",
    "guardian_name",
    "allow_sms",
    "allow_email",
    "allow_voicemail",
    "wording",
}


def validate_party_input(
    party: PartyInput, *, today: dt.date, allow_drama: bool
) -> tuple[dict[str, object], dict[str, str]]:
    """Check a party's details; return the clean column values and the errors by field name."""
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    if not _in(PartyRole, party.role):
        errors["role"] = "Select the person's role in the case"
    full_name = _clean(party.full_name)
    if not full_name:
        errors["full_name"] = "Enter their full name"
    elif len(full_name) > 200:
        errors["full_name"] = "Full name must be 200 characters or fewer"
    for name, limit in (("preferred_name", 200), ("pronouns", 60), ("organisation", 200)):
        value = _clean(getattr(party, name))
        if value and len(value) > limit:
            errors[name] = f"{name.replace('_', ' ').capitalize()} must be {limit} characters or fewer"
        values[name] = value
    if party.date_of_birth is not None:
        if party.date_of_birth > today:
            errors["date_of_birth"] = "Date of birth must be in the past"
        elif party.date_of_birth.year < today.year - 120:
            errors["date_of_birth"] = "Enter a real date of birth"
    age_band = _clean(party.age_band)
    if age_band is not None and not _in(AgeBand, age_band):
        errors["age_band"] = "Select an age band from the list"
    mobile = _clean(party.mobile)
    if mobile:
        try:
            values["mobile_e164"] = parse_mobile(mobile, allow_drama=allow_drama)
        except InvalidContactDetail as error:
            errors["mobile"] = str(error)
    else:
        values["mobile_e164"] = None
    email = _clean(party.email)
    if email:
        try:
            values["email"] = normalise_email(email)
        except InvalidContactDetail as error:
            errors["email"] = str(error)
    else:
        values["email"] = None
    address = _clean(party.address)
    if address and len(address) > 1000:
        errors["address"] = "Address must be 1000 characters or fewer"
    language = _clean(party.language) or "en"
    if not _LANGUAGE.match(language):
        errors["language"] = "Select their language from the list"
    accessibility = _clean(party.accessibility_needs)
    if accessibility and len(accessibility) > 2000:
        errors["accessibility_needs"] = "Accessibility needs must be 2000 characters or fewer"
    if not _in(Wording, party.wording):
        errors["wording"] = "Select plain or discreet wording"
    # Under 18: the case is sensitive and we need a parent or guardian to contact.
    under_18 = False
    if party.date_of_birth is not None and "date_of_birth" not in errors:
        born = party.date_of_birth
        under_18 = (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) < 18
    elif age_band == AgeBand.UNDER_18:
        under_18 = True
    guardian_name = _clean(party.guardian_name)
    guardian_mobile = _clean(party.guardian_mobile)
    guardian_email = _clean(party.guardian_email)
    values["guardian_mobile_e164"] = None
    values["guardian_email"] = None
    if guardian_mobile:
        try:
            values["guardian_mobile_e164"] = parse_mobile(guardian_mobile, allow_drama=allow_drama)
        except InvalidContactDetail as error:
            errors["guardian_mobile"] = str(error)
    if guardian_email:
        try:
            values["guardian_email"] = normalise_email(guardian_email)
        except InvalidContactDetail as error:
            errors["guardian_email"] = str(error)
    if under_18:
        if not guardian_name:
            errors["guardian_name"] = "Enter the name of a parent or guardian (they are under 18)"
        if not guardian_mobile and not guardian_email:
            errors["guardian_mobile"] = "Enter a parent or guardian's mobile number or email address"
    values.update(
        role=party.role,
        full_name=full_name,
        date_of_birth=party.date_of_birth,
        age_band=age_band,
        address=address,
        language=language,
        interpreter_needed=bool(party.interpreter_needed),
        accessibility_needs=accessibility,
        guardian_name=guardian_name,
        allow_sms=bool(party.allow_sms),
        allow_email=bool(party.allow_email),
        allow_voicemail=bool(party.allow_voicemail),
        wording=party.wording,
    )
    return values, errors


def _refresh_sensitivity(case: Case, today: dt.date) -> None:
    """Recompute the under-18 flag and the first-contact due date (1 working day for sensitive cases)."""
    case.has_party_under_18 = any(p.is_under_18(today) for p in case.parties)
    case.first_contact_due_on = add_working_days(
        london_date(case.received_at), first_contact_target(bool(case.is_sensitive))
    )


def add_party(
    case: Case, party_input: PartyInput, *, actor: User | None, at: dt.datetime, supports: Party | None = None
) -> Party:
    """Add a victim, offender, supporter, interpreter or professional to a case, all fields valid or nothing saved."""
    values, errors = validate_party_input(party_input, today=london_date(at), allow_drama=_allow_drama())
    if party_input.role == PartyRole.SUPPORTER:
        if supports is None:
            errors["supports"] = "Select the person they support"
        elif supports.case_id != case.id or supports.role == PartyRole.SUPPORTER:
            errors["supports"] = "Select a victim or offender in this case"
    elif supports is not None:
        errors["supports"] = "Only a supporter supports another person"
    if errors:
        raise PartyInvalid(errors)
    party = Party(service_id=case.service_id, case=case, supports_party_id=supports.id if supports else None)
    for name, value in values.items():
        setattr(party, name, value)
    db.session.add(party)
    db.session.flush()
    _refresh_sensitivity(case, london_date(at))
    add_timeline_event(
        case,
        "party_added",
        f"{party.role_label} {party.display_name} added.",
        actor=actor,
        at=at,
        party=party,
    )
    _audit("party.created", case, actor, party, role=party.role)
    return party


def update_party(party: Party, party_input: PartyInput, *, actor: User | None, at: dt.datetime) -> Party:
    """Change a party's details (not their role), all fields valid or nothing saved."""
    party_input.role = party.role
    values, errors = validate_party_input(party_input, today=london_date(at), allow_drama=_allow_drama())
    if errors:
        raise PartyInvalid(errors)
    changed = sorted(
        name
        for name, value in values.items()
        if name not in {"allow_sms", "allow_email", "allow_voicemail", "wording"}
        and getattr(party, name) != value
    )
    for name, value in values.items():
        if name in {"allow_sms", "allow_email", "allow_voicemail", "wording"}:
            continue  # preferences change through set_contact_preferences
        setattr(party, name, value)
    db.session.flush()
    _refresh_sensitivity(party.case, london_date(at))
    if changed:
        add_timeline_event(
            party.case,
            "party_updated",
            f"Details of {party.display_name} changed.",
            actor=actor,
            at=at,
            party=party,
        )
    _audit("party.updated", party.case, actor, party, fields=changed)
    return party


def set_contact_preferences(
    party: Party,
    *,
    allow_sms: bool,
    allow_email: bool,
    allow_voicemail: bool,
    wording: str,
    windows: list[tuple[int, dt.time, dt.time]],
    do_not_contact_before: dt.date | None,
    actor: User | None,
    at: dt.datetime,
) -> None:
    """Record a party's safe-contact preferences: channels, wording, weekly windows, "do not contact before"."""
    errors: dict[str, str] = {}
    if not _in(Wording, wording):
        errors["wording"] = "Select plain or discreet wording"
    for weekday, starts, ends in windows:
        if not 0 <= weekday <= 6:
            errors["windows"] = "Select the days when contact is safe"
        elif starts >= ends:
            errors["windows"] = "The time contact is safe until must be after the time it is safe from"
    if errors:
        raise ContactInvalid(errors)
    party.allow_sms, party.allow_email, party.allow_voicemail = (
        bool(allow_sms),
        bool(allow_email),
        bool(allow_voicemail),
    )
    party.wording = wording
    party.do_not_contact_before = do_not_contact_before
    party.contact_windows.clear()
    db.session.flush()
    for weekday, starts, ends in sorted(set(windows)):
        party.contact_windows.append(ContactWindow(weekday=weekday, starts_at=starts, ends_at=ends))
    db.session.flush()
    add_timeline_event(
        party.case,
        "contact_preferences",
        f"Safe-contact preferences of {party.display_name} updated.",
        actor=actor,
        at=at,
        party=party,
    )
    _audit("party.contact_preferences_updated", party.case, actor, party)


def record_equality_monitoring(
    party: Party, *, answers: dict[str, str | None], actor: User | None, at: dt.datetime
) -> None:
    """Record optional equality monitoring ("prefer not to say" allowed); reported only in aggregate."""
    errors = {}
    clean: dict[str, str | None] = {}
    for name, options in EQUALITY_OPTIONS.items():
        value = _clean(answers.get(name))
        if value is not None and value not in {v for v, _ in options}:
            errors[name] = "Select an answer from the list"
        clean[name] = value
    if errors:
        raise PartyInvalid(errors)
    row = db.session.scalar(select(EqualityMonitoring).where(EqualityMonitoring.party_id == party.id))
    if row is None:
        row = EqualityMonitoring(service_id=party.service_id, party_id=party.id)
        db.session.add(row)
    for name, value in clean.items():
        setattr(row, name, value)
    row.recorded_at = at
    db.session.flush()
    add_timeline_event(
        party.case,
        "equality_monitoring",
        f"Equality monitoring recorded for {party.display_name}.",
        actor=actor,
        at=at,
        party=party,
    )
    _audit("party.equality_monitoring_recorded", party.case, actor, party)


# --- referral --------------------------------------------------------------------------------


def next_reference(service: Service, year: int) -> str:
    """The next readable reference of ``service`` for ``year`` (e.g. VF-2026-00042), one counter row locked."""
    session = db.session
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(CaseReferenceCounter)
        .values(service_id=service.id, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["service_id", "year"])
    )
    counter = session.scalars(
        select(CaseReferenceCounter)
        .where(CaseReferenceCounter.service_id == service.id, CaseReferenceCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    counter.last_number += 1
    session.flush()
    return f"{service.code}-{year}-{counter.last_number:05d}"


def _check_lead(service_id: int, lead: User | None, sensitive: bool) -> str | None:
    if lead is None:
        return None
    if lead.service_id != service_id or not lead.is_active:
        return "Select a member of staff of this service"
    if sensitive and not lead.trained_for_sensitive_cases:
        return "This case is sensitive: select a facilitator trained for sensitive cases"
    return None


def create_referral(
    service: Service,
    *,
    source: str,
    offence_category: str,
    offence_date: dt.date | None,
    crime_reference: str | None,
    justice_stage: str,
    received_at: dt.datetime,
    lead_facilitator: User | None = None,
    referrer_name: str | None = None,
    referrer_organisation: str | None = None,
    summary: str | None = None,
    parties: list[PartyInput] | tuple[PartyInput, ...] = (),
    actor: User | None = None,
    domestic_abuse: bool = False,
    sexual_offence: bool = False,
    hate_crime: bool = False,
) -> Case:
    """Take a referral: every field valid or nothing saved (``ReferralInvalid`` lists each problem).

    Staff forms, the partner API and the self-referral page all call this. A
    self-referral arrives flagged for a supervisor's triage.
    """
    at = _now()
    errors: dict[str, str] = {}
    if not _in(ReferralSource, source):
        errors["source"] = "Select who referred the case"
    if not _in(OffenceCategory, offence_category):
        errors["offence_category"] = "Select the offence category"
    if not _in(JusticeStage, justice_stage):
        errors["justice_stage"] = "Select the justice stage"
    if received_at is None or received_at.tzinfo is None:
        errors["received_at"] = "Enter the date the referral was received"
    elif received_at > at + dt.timedelta(minutes=5):
        errors["received_at"] = "The date the referral was received must be today or in the past"
    today = london_date(at)
    if offence_date is not None:
        if offence_date > today:
            errors["offence_date"] = "The date of the offence must be today or in the past"
        elif (
            "received_at" not in errors
            and received_at is not None
            and offence_date > london_date(received_at)
        ):
            errors["offence_date"] = "The date of the offence must be on or before the date of the referral"
    crime_reference = _clean(crime_reference)
    if crime_reference and not _CRIME_REFERENCE.match(crime_reference):
        errors["crime_reference"] = (
            "Crime reference must be 60 characters or fewer: letters, numbers, spaces, / - ."
        )
    referrer_name, referrer_organisation, summary = (
        _clean(referrer_name),
        _clean(referrer_organisation),
        _clean(summary),
    )
    if referrer_name and len(referrer_name) > 200:
        errors["referrer_name"] = "Referrer's name must be 200 characters or fewer"
    if referrer_organisation and len(referrer_organisation) > 200:
        errors["referrer_organisation"] = "Organisation must be 200 characters or fewer"
    if summary and len(summary) > 5000:
        errors["summary"] = "Summary must be 5000 characters or fewer"
    flags = {
        "flag_domestic_abuse": bool(domestic_abuse),
        "flag_sexual_offence": bool(sexual_offence),
        "flag_hate_crime": bool(hate_crime),
    }
    if _in(OffenceCategory, offence_category):
        flag = ENHANCED_RIGHTS_CATEGORIES.get(OffenceCategory(offence_category))
        if flag:
            flags[flag] = True
    party_values: list[dict[str, object]] = []
    under_18 = False
    if not parties:
        errors["parties"] = "Add at least one person to the referral"
    allow_drama = _allow_drama()
    for index, party_input in enumerate(parties):
        values, party_errors = validate_party_input(party_input, today=today, allow_drama=allow_drama)
        if party_input.role == PartyRole.SUPPORTER:
            target = party_input.supports
            if target is None or not 0 <= target < len(parties) or target == index:
                party_errors["supports"] = "Select the person they support"
            elif parties[target].role == PartyRole.SUPPORTER:
                party_errors["supports"] = "A supporter supports a victim or an offender"
        for field_name, message in party_errors.items():
            errors[f"parties[{index}].{field_name}"] = message
        party_values.append(values)
        dob, band = party_input.date_of_birth, _clean(party_input.age_band)
        if dob is not None and dob <= today:
            under_18 = (
                under_18 or (today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))) < 18
            )
        elif band == AgeBand.UNDER_18:
            under_18 = True
    sensitive = any(flags.values()) or under_18
    lead_problem = _check_lead(service.id, lead_facilitator, sensitive)
    if lead_problem:
        errors["lead_facilitator"] = lead_problem
    if errors:
        raise ReferralInvalid(errors)

    year = london_date(received_at).year
    case = Case(
        service_id=service.id,
        reference=next_reference(service, year),
        state=CaseState.REFERRED.value,
        state_changed_at=at,
        needs_triage=source == ReferralSource.SELF_REFERRAL,
        received_at=received_at,
        source=source,
        referrer_name=referrer_name,
        referrer_organisation=referrer_organisation,
        offence_category=offence_category,
        offence_date=offence_date,
        crime_reference=crime_reference,
        justice_stage=justice_stage,
        summary=summary,
        lead_facilitator_id=lead_facilitator.id if lead_facilitator else None,
        first_contact_due_on=today,
        **flags,
    )
    db.session.add(case)
    db.session.flush()
    created: list[Party] = []
    for values in party_values:
        party = Party(service_id=service.id, case=case)
        for name, value in values.items():
            setattr(party, name, value)
        db.session.add(party)
        created.append(party)
    db.session.flush()
    for party_input, party in zip(parties, created, strict=True):
        if party_input.role == PartyRole.SUPPORTER and party_input.supports is not None:
            party.supports_party_id = created[party_input.supports].id
    db.session.flush()
    _refresh_sensitivity(case, today)
    source_label = ReferralSource.label_of(source)
    add_timeline_event(
        case, "referral_received", f"Referral received from {source_label}.", actor=actor, at=at
    )
    for party in created:
        add_timeline_event(
            case,
            "party_added",
            f"{party.role_label} {party.display_name} added.",
            actor=actor,
            at=at,
            party=party,
        )
    if lead_facilitator is not None:
        add_timeline_event(
            case,
            "lead_assigned",
            f"{lead_facilitator.full_name} is the lead facilitator.",
            actor=actor,
            at=at,
        )
    _audit("case.created", case, actor, source=source, parties=len(created))
    return case


def _now() -> dt.datetime:
    from rj_scheduler.db import now

    return now()


# --- consent and contact ---------------------------------------------------------------------


def case_facts(case: Case) -> CaseFacts:
    """The facts of ``case`` the state machine looks at."""
    from rj_scheduler.cases.consent import has_consent

    main = [p for p in case.parties if p.role in (PartyRole.VICTIM, PartyRole.OFFENDER)]
    return CaseFacts(
        needs_triage=case.needs_triage,
        has_lead_facilitator=case.lead_facilitator_id is not None,
        anyone_contacted=any(p.first_contacted_at is not None for p in main),
        someone_contacted_and_consenting=any(
            p.first_contacted_at is not None and has_consent(p, ConsentKind.TAKE_PART) for p in main
        ),
        readiness_blockers=tuple(readiness_blockers(case)),
        closure_reason=case.closure_reason,
    )


def _move(case: Case, target: CaseState, *, actor: User | None, at: dt.datetime, why: str | None) -> None:
    previous = CaseState(case.state)
    case.state = target.value
    case.state_changed_at = at
    db.session.flush()
    summary = f"Case moved from {previous.label.lower()} to {target.label.lower()}."
    if why:
        summary += f" {why}"
    add_timeline_event(case, "state_changed", summary, actor=actor, at=at)
    _audit("case.state_changed", case, actor, **{"from": previous.value, "to": target.value})


def apply_derived_state(case: Case, *, actor: User | None, at: dt.datetime) -> None:
    """Move the case to the state its facts call for (see ``states.derived_state``)."""
    for _ in range(4):  # referred -> contacting -> assessing -> ready at most
        target = derived_state(CaseState(case.state), case_facts(case))
        if target is None:
            return
        _move(case, target, actor=actor, at=at, why="(Worked out from contact and consent.)")


def change_state(
    case: Case, target: str, *, actor: User | None, at: dt.datetime, closure_reason: str | None = None
) -> None:
    """Move a case to ``target`` if the state machine allows it; otherwise ``TransitionRefused`` says why."""
    try:
        wanted = CaseState(target)
    except ValueError as error:
        raise TransitionRefused(["Select a state from the list."]) from error
    reasons = transition_refusals(CaseState(case.state), wanted, case_facts(case), closure_reason)
    if reasons:
        _audit("case.state_change_refused", case, actor, to=wanted.value)
        raise TransitionRefused(reasons)
    if wanted == CaseState.CLOSED:
        case.closure_reason = closure_reason
        case.closed_at = at
        why = f"Reason: {ClosureReason.label_of(closure_reason).lower()}."
    else:
        why = None
        if case.state == CaseState.CLOSED:
            case.closure_reason = None
            case.closed_at = None
            why = "The case was reopened."
    _move(case, wanted, actor=actor, at=at, why=why)


def record_consent(
    party: Party,
    kind: str,
    *,
    given: bool,
    at: dt.datetime,
    method: str,
    actor: User | None,
    partner: str | None = None,
) -> ConsentRecord:
    """Record a party's consent decision (given or withdrawn): what, when, how, by whom.

    Withdrawing consent to take part sends ``events.consent_to_take_part_withdrawn``
    and may take the case back from ready (readiness is derived).
    """
    errors: dict[str, str] = {}
    if not _in(ConsentKind, kind):
        errors["kind"] = "Select what the consent is for"
    if not _in(ConsentMethod, method):
        errors["method"] = "Select how the consent was given or withdrawn"
    if at is None or at.tzinfo is None:
        errors["recorded_at"] = "Enter the date of the decision"
    elif at > _now() + dt.timedelta(minutes=5):
        errors["recorded_at"] = "The date of the decision must be today or in the past"
    partner = _clean(partner)
    if kind == ConsentKind.SHARE_INFORMATION:
        if not partner:
            errors["partner"] = "Enter the name of the partner the information may be shared with"
        elif len(partner) > 200:
            errors["partner"] = "Partner name must be 200 characters or fewer"
    else:
        partner = None
    if errors:
        raise ConsentInvalid(errors)
    was_taking_part = kind == ConsentKind.TAKE_PART and bool(
        (record := current_consent(party, ConsentKind.TAKE_PART)) and record.given
    )
    consent = ConsentRecord(
        service_id=party.service_id,
        party=party,
        kind=kind,
        partner=partner,
        given=given,
        recorded_at=at,
        method=method,
        recorded_by_id=_who(actor),
    )
    db.session.add(consent)
    db.session.flush()
    case = party.case
    label = f"to share information with {partner}" if partner else ConsentKind.label_of(kind).lower()
    verb = "gave" if given else "withdrew"
    add_timeline_event(
        case,
        "consent_given" if given else "consent_withdrawn",
        f"{party.display_name} {verb} consent {label} ({ConsentMethod.label_of(method).lower()}).",
        actor=actor,
        at=at,
        party=party,
    )
    _audit(
        "consent.recorded",
        case,
        actor,
        party,
        kind=kind,
        given=given,
        method=method,
    )
    if kind == ConsentKind.TAKE_PART and not given and was_taking_part:
        events.consent_to_take_part_withdrawn.send(party, party=party, at=at)
    apply_derived_state(case, actor=actor, at=at)
    return consent


def record_first_contact(party: Party, *, at: dt.datetime, method: str, actor: User | None) -> None:
    """Record when first contact with a party was made (the Victims' Code measure); once per party."""
    errors: dict[str, str] = {}
    case = party.case
    if party.first_contacted_at is not None:
        errors["contacted_at"] = "First contact with them is already recorded"
    if not _in(ContactMethod, method):
        errors["method"] = "Select how you made contact"
    if at is None or at.tzinfo is None:
        errors["contacted_at"] = "Enter the date you made contact"
    elif at > _now() + dt.timedelta(minutes=5):
        errors["contacted_at"] = "The date of first contact must be today or in the past"
    elif london_date(at) < london_date(case.received_at):
        errors["contacted_at"] = "The date of first contact must be on or after the date of the referral"
    if errors:
        raise ContactInvalid(errors)
    party.first_contacted_at = at
    party.first_contact_method = method
    # The case's first contact is with a victim (or, with no victim, anyone).
    victims = [p for p in case.parties if p.role == PartyRole.VICTIM]
    counts = party.role == PartyRole.VICTIM or not victims
    if counts and (case.first_contact_at is None or at < case.first_contact_at):
        case.first_contact_at = at
    db.session.flush()
    late = london_date(at) > case.first_contact_due_on
    add_timeline_event(
        case,
        "first_contact",
        f"First contact with {party.display_name} ({ContactMethod.label_of(method).lower()})"
        + (f", after the due date of {case.first_contact_due_on:%-d %B %Y}." if late and counts else "."),
        actor=actor,
        at=at,
        party=party,
    )
    _audit("party.first_contact_recorded", case, actor, party, method=method)
    apply_derived_state(case, actor=actor, at=at)


def record_reoffer(
    party: Party, *, on: dt.date | None, justice_stage: str | None, actor: User | None, at: dt.datetime
) -> None:
    """Keep a re-offer point (a date and a justice stage) for a party who said "not now"; None clears it."""
    errors: dict[str, str] = {}
    if on is None and justice_stage is None:
        party.reoffer_on, party.reoffer_justice_stage = None, None
        add_timeline_event(
            party.case,
            "reoffer_cleared",
            f"Re-offer for {party.display_name} cleared.",
            actor=actor,
            at=at,
            party=party,
        )
        _audit("party.reoffer_cleared", party.case, actor, party)
        return
    if on is None:
        errors["reoffer_on"] = "Enter the date to offer restorative justice again"
    elif on <= london_date(at):
        errors["reoffer_on"] = "The re-offer date must be in the future"
    if not _in(JusticeStage, justice_stage):
        errors["reoffer_justice_stage"] = "Select the justice stage at which to offer again"
    if errors:
        raise ContactInvalid(errors)
    party.reoffer_on, party.reoffer_justice_stage = on, justice_stage
    db.session.flush()
    add_timeline_event(
        party.case,
        "reoffer_planned",
        f"{party.display_name} said not now: offer again on {on:%-d %B %Y} ({JusticeStage.label_of(justice_stage).lower()}).",
        actor=actor,
        at=at,
        party=party,
    )
    _audit("party.reoffer_planned", party.case, actor, party)


# --- notes, reassignment, triage ---------------------------------------------------------------


def add_note(case: Case, text: str, *, actor: User | None, at: dt.datetime) -> CaseNote:
    """Add a plain-text note to the case."""
    text = (text or "").strip()
    if not text:
        raise NoteInvalid({"text": "Enter the note"})
    if len(text) > 5000:
        raise NoteInvalid({"text": "The note must be 5000 characters or fewer"})
    note = CaseNote(
        service_id=case.service_id, case_id=case.id, author_id=_who(actor), text=text, created_at=at
    )
    db.session.add(note)
    db.session.flush()
    add_timeline_event(case, "note_added", "Note added.", actor=actor, at=at)
    _audit("case.note_added", case, actor)
    return note


def reassign_case(case: Case, new_lead: User, *, actor: User | None, at: dt.datetime) -> None:
    """Give the case to another member of staff of the service (trained for sensitive cases if it is sensitive)."""
    problem = _check_lead(case.service_id, new_lead, bool(case.is_sensitive))
    if problem is None and new_lead.id == case.lead_facilitator_id:
        problem = f"{new_lead.full_name} is already the lead facilitator"
    if problem:
        raise ReassignRefused(problem)
    previous = case.lead_facilitator
    case.lead_facilitator_id = new_lead.id
    case.lead_facilitator = new_lead
    db.session.flush()
    summary = f"Case reassigned to {new_lead.full_name}" + (
        f" from {previous.full_name}." if previous else "."
    )
    add_timeline_event(case, "reassigned", summary, actor=actor, at=at)
    _audit("case.reassigned", case, actor, to_user=new_lead.public_id)


def clear_triage(case: Case, *, actor: User, at: dt.datetime) -> None:
    """A supervisor triages a self-referral: the case can then be worked."""
    if not case.needs_triage:
        raise TriageRefused("This case does not need triage")
    if not actor.is_supervisor or actor.service_id != case.service_id:
        raise TriageRefused("Only a supervisor of this service can triage a self-referral")
    case.needs_triage = False
    db.session.flush()
    add_timeline_event(case, "triaged", "Self-referral triaged by a supervisor.", actor=actor, at=at)
    _audit("case.triaged", case, actor)
    apply_derived_state(case, actor=actor, at=at)
