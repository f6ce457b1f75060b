"""Cases, their parties, consent records, contact windows, notes and the timeline.

A case is one referral; its parties are the victims, offenders, supporters,
interpreters and other professionals. Current consent is derived from the
consent records (never stored twice); the case state moves only through
``rj_scheduler.cases.states``.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
    or_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rj_scheduler.auth.models import User
from rj_scheduler.db import Base, now, public_id


class LabelledEnum(enum.StrEnum):
    """A stored value with the plain-English label staff see."""

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label  # type: ignore[attr-defined]
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]  # type: ignore[attr-defined]

    @classmethod
    def label_of(cls, value: str | None) -> str:
        if value is None:
            return ""
        try:
            return cls(value).label  # type: ignore[attr-defined]
        except ValueError:
            return value


class CaseState(LabelledEnum):
    REFERRED = "referred", "Referred"
    CONTACTING = "contacting", "Contacting"
    ASSESSING = "assessing", "Assessing"
    READY = "ready", "Ready"
    SCHEDULED = "scheduled", "Scheduled"
    CONFERENCE_HELD = "conference_held", "Conference held"
    FOLLOW_UP = "follow_up", "Follow-up"
    CLOSED = "closed", "Closed"


class ReferralSource(LabelledEnum):
    POLICE = "police", "Police"
    WITNESS_CARE = "witness_care", "Witness Care"
    WITNESS_SERVICE = "witness_service", "Witness Service"
    CPS_VLU = "cps_victim_liaison_unit", "CPS Victim Liaison Unit"
    PROBATION = "probation", "Probation"
    YOUTH_JUSTICE = "youth_justice", "Youth justice"
    PRISON = "prison", "Prison"
    VICTIM_SERVICES = "victim_services", "Victim services"
    SELF_REFERRAL = "self_referral", "Self-referral"
    OTHER = "other", "Other"


class OffenceCategory(LabelledEnum):
    VIOLENCE = "violence_against_the_person", "Violence against the person / assault"
    HARASSMENT = "harassment_and_stalking", "Harassment and stalking"
    PUBLIC_ORDER = "public_order", "Public order"
    CRIMINAL_DAMAGE = "criminal_damage", "Criminal damage"
    BURGLARY = "burglary", "Burglary"
    ROBBERY = "robbery", "Robbery"
    THEFT = "theft", "Theft"
    FRAUD = "fraud", "Fraud"
    SEXUAL = "sexual_offences", "Sexual offences"
    DOMESTIC_ABUSE = "domestic_abuse_related", "Domestic abuse related"
    HATE_CRIME = "hate_crime", "Hate crime"
    OTHER = "other", "Other"


class JusticeStage(LabelledEnum):
    PRE_CHARGE = "pre_charge", "Pre-charge"
    AWAITING_TRIAL = "awaiting_trial", "Awaiting trial"
    COMMUNITY_SENTENCE = "community_sentence", "Community sentence"
    CUSTODY = "custody", "Custody"
    OUT_OF_COURT = "out_of_court_resolution", "Out-of-court resolution"
    POST_RELEASE = "post_release", "Post-release"


class ClosureReason(LabelledEnum):
    VICTIM_DECLINED = "victim_declined", "Victim declined"
    OFFENDER_DECLINED = "offender_declined", "Offender declined"
    NOT_SUITABLE = "not_suitable", "Not suitable"
    RISK_TOO_HIGH = "risk_too_high", "Risk too high"
    NO_CONTACT = "no_contact_possible", "No contact possible"
    WITHDRAWN = "withdrawn", "Withdrawn"
    COMPLETED = "completed", "Completed"


class PartyRole(LabelledEnum):
    VICTIM = "victim", "Victim"
    OFFENDER = "offender", "Offender"
    SUPPORTER = "supporter", "Supporter"
    INTERPRETER = "interpreter", "Interpreter"
    PROFESSIONAL = "professional", "Other professional"


class AgeBand(LabelledEnum):
    UNDER_18 = "under_18", "Under 18"
    AGE_18_24 = "18_24", "18 to 24"
    AGE_25_34 = "25_34", "25 to 34"
    AGE_35_44 = "35_44", "35 to 44"
    AGE_45_54 = "45_54", "45 to 54"
    AGE_55_64 = "55_64", "55 to 64"
    AGE_65_PLUS = "65_plus", "65 or over"


class ConsentKind(LabelledEnum):
    CONTACT = "contact", "To be contacted"
    TAKE_PART = "take_part", "To take part in restorative justice"
    SMS = "sms", "To receive SMS"
    EMAIL = "email", "To receive email"
    SHARE_INFORMATION = "share_information", "To share information with a partner"
    SHARE_NAME = "share_name", "To tell the other people at a meeting their name"


class ConsentMethod(LabelledEnum):
    PHONE = "phone", "Phone"
    IN_PERSON = "in_person", "In person"
    LETTER = "letter", "Letter"
    ONLINE = "online", "Online"
    SMS_REPLY = "sms_reply", "SMS reply"
    EMAIL_REPLY = "email_reply", "Email reply"


class Wording(LabelledEnum):
    DISCREET = "discreet", "Discreet (names only the service and the appointment)"
    PLAIN = "plain", "Plain (may mention restorative justice and the offence)"


class ContactMethod(LabelledEnum):
    PHONE = "phone", "Phone call"
    IN_PERSON = "in_person", "In person"
    LETTER = "letter", "Letter"
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    VIDEO = "video", "Video call"


def _values(enum_cls: type[enum.StrEnum]) -> str:
    return "(" + ", ".join(f"'{m.value}'" for m in enum_cls) + ")"


ENHANCED_RIGHTS_CATEGORIES = {
    OffenceCategory.SEXUAL: "flag_sexual_offence",
    OffenceCategory.DOMESTIC_ABUSE: "flag_domestic_abuse",
    OffenceCategory.HATE_CRIME: "flag_hate_crime",
}


class CaseReferenceCounter(Base):
    """The last case number given per service and year (one row locked per new reference)."""

    __tablename__ = "case_reference_counters"
    __table_args__ = (UniqueConstraint("service_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    year: Mapped[int]
    last_number: Mapped[int] = mapped_column(default=0)


class Case(Base):
    """One referral and everything the service does with it."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("service_id", "reference"),
        CheckConstraint(f"state IN {_values(CaseState)}", name="state_known"),
        CheckConstraint(f"source IN {_values(ReferralSource)}", name="source_known"),
        CheckConstraint(f"offence_category IN {_values(OffenceCategory)}", name="offence_category_known"),
        CheckConstraint(f"justice_stage IN {_values(JusticeStage)}", name="justice_stage_known"),
        CheckConstraint(
            f"closure_reason IS NULL OR closure_reason IN {_values(ClosureReason)}",
            name="closure_reason_known",
        ),
        CheckConstraint(
            "(state = 'closed') = (closure_reason IS NOT NULL)", name="closed_iff_closure_reason"
        ),
        Index("ix_cases_service_state", "service_id", "state"),
        Index("ix_cases_service_lead", "service_id", "lead_facilitator_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    # Readable and unique per service, e.g. VF-2026-00042.
    reference: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default=CaseState.REFERRED.value)
    state_changed_at: Mapped[dt.datetime] = mapped_column(default=now)
    # A self-referral waits for a supervisor to triage it.
    needs_triage: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[dt.datetime]
    source: Mapped[str] = mapped_column(String(40))
    referrer_name: Mapped[str | None] = mapped_column(String(200))
    referrer_organisation: Mapped[str | None] = mapped_column(String(200))
    offence_category: Mapped[str] = mapped_column(String(40))
    offence_date: Mapped[dt.date | None] = mapped_column(Date)
    crime_reference: Mapped[str | None] = mapped_column(String(60))
    justice_stage: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str | None] = mapped_column(Text)
    lead_facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The flags that make a case sensitive (DOMAIN rule 3); under-18 follows its parties.
    flag_domestic_abuse: Mapped[bool] = mapped_column(default=False)
    flag_sexual_offence: Mapped[bool] = mapped_column(default=False)
    flag_hate_crime: Mapped[bool] = mapped_column(default=False)
    has_party_under_18: Mapped[bool] = mapped_column(default=False)
    # Victims' Code: first contact due within the working-day target; kept so lists can filter.
    first_contact_due_on: Mapped[dt.date] = mapped_column(Date)
    first_contact_at: Mapped[dt.datetime | None]
    closure_reason: Mapped[str | None] = mapped_column(String(40))
    closed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    lead_facilitator: Mapped[User | None] = relationship(foreign_keys=[lead_facilitator_id])
    parties: Mapped[list[Party]] = relationship(
        back_populates="case", order_by="Party.id", foreign_keys="Party.case_id"
    )

    @hybrid_property
    def is_sensitive(self) -> bool:
        return bool(
            self.flag_domestic_abuse
            or self.flag_sexual_offence
            or self.flag_hate_crime
            or self.has_party_under_18
        )

    @is_sensitive.inplace.expression
    @classmethod
    def _is_sensitive_expression(cls):
        return or_(
            cls.flag_domestic_abuse.is_(True),
            cls.flag_sexual_offence.is_(True),
            cls.flag_hate_crime.is_(True),
            cls.has_party_under_18.is_(True),
        )

    @property
    def sensitive_reasons(self) -> list[str]:
        reasons = []
        if self.flag_domestic_abuse:
            reasons.append("domestic abuse")
        if self.flag_sexual_offence:
            reasons.append("sexual offence")
        if self.flag_hate_crime:
            reasons.append("hate crime")
        if self.has_party_under_18:
            reasons.append("a party under 18")
        return reasons

    @property
    def state_enum(self) -> CaseState:
        return CaseState(self.state)

    @property
    def state_label(self) -> str:
        return CaseState.label_of(self.state)

    @property
    def is_closed(self) -> bool:
        return self.state == CaseState.CLOSED

    def first_contact_overdue(self, today: dt.date) -> bool:
        return self.first_contact_at is None and not self.is_closed and self.first_contact_due_on < today


class Party(Base):
    """A person in a case: victim, offender, supporter, interpreter or other professional.

    Their contact details are shown only on their own panel and never reach
    another party (DOMAIN rule 4).
    """

    __tablename__ = "parties"
    __table_args__ = (
        CheckConstraint(f"role IN {_values(PartyRole)}", name="role_known"),
        CheckConstraint(f"wording IN {_values(Wording)}", name="wording_known"),
        CheckConstraint(f"age_band IS NULL OR age_band IN {_values(AgeBand)}", name="age_band_known"),
        CheckConstraint("supports_party_id IS NULL OR role = 'supporter'", name="only_supporters_support"),
        Index("ix_parties_service_mobile", "service_id", "mobile_e164"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=public_id)
    # Always equal to its case's service (denormalised so every query can scope by service).
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    supports_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    organisation: Mapped[str | None] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(String(200))
    preferred_name: Mapped[str | None] = mapped_column(String(200))
    pronouns: Mapped[str | None] = mapped_column(String(60))
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    age_band: Mapped[str | None] = mapped_column(String(20))
    mobile_e164: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(320))
    address: Mapped[str | None] = mapped_column(Text)
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    guardian_mobile_e164: Mapped[str | None] = mapped_column(String(20))
    guardian_email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(12), default="en")
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    accessibility_needs: Mapped[str | None] = mapped_column(Text)
    # Safe-contact preferences (read through rj_scheduler.cases.contact only).
    allow_sms: Mapped[bool] = mapped_column(default=False)
    allow_email: Mapped[bool] = mapped_column(default=False)
    allow_voicemail: Mapped[bool] = mapped_column(default=False)
    wording: Mapped[str] = mapped_column(String(20), default=Wording.DISCREET.value)
    do_not_contact_before: Mapped[dt.date | None] = mapped_column(Date)
    first_contacted_at: Mapped[dt.datetime | None]
    first_contact_method: Mapped[str | None] = mapped_column(String(20))
    # A party who said "not now": when and at which justice stage to offer again.
    reoffer_on: Mapped[dt.date | None] = mapped_column(Date)
    reoffer_justice_stage: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    case: Mapped[Case] = relationship(back_populates="parties", foreign_keys=[case_id])
    supports: Mapped[Party | None] = relationship(remote_side=[id], foreign_keys=[supports_party_id])
    consent_records: Mapped[list[ConsentRecord]] = relationship(
        back_populates="party", order_by="[ConsentRecord.recorded_at, ConsentRecord.id]"
    )
    contact_windows: Mapped[list[ContactWindow]] = relationship(
        back_populates="party",
        order_by="[ContactWindow.weekday, ContactWindow.starts_at]",
        cascade="all, delete-orphan",
    )

    @property
    def role_label(self) -> str:
        return PartyRole.label_of(self.role)

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.full_name

    def age_on(self, day: dt.date) -> int | None:
        if self.date_of_birth is None:
            return None
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def is_under_18(self, day: dt.date) -> bool:
        age = self.age_on(day)
        if age is not None:
            return age < 18
        return self.age_band == AgeBand.UNDER_18


class ContactWindow(Base):
    """A weekly time when contacting the party is safe, in Europe/London time (e.g. Monday 09:00-12:00)."""

    __tablename__ = "contact_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_in_week"),
        CheckConstraint("starts_at < ends_at", name="starts_before_it_ends"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]  # Monday is 0
    starts_at: Mapped[dt.time] = mapped_column(Time)
    ends_at: Mapped[dt.time] = mapped_column(Time)

    party: Mapped[Party] = relationship(back_populates="contact_windows")


class ConsentRecord(Base):
    """One decision by a party: consent given or withdrawn, what for, when, how, recorded by whom.

    Current consent is the latest record per party, kind (and partner); it is
    never stored anywhere else.
    """

    __tablename__ = "consent_records"
    __table_args__ = (
        CheckConstraint(f"kind IN {_values(ConsentKind)}", name="kind_known"),
        CheckConstraint(f"method IN {_values(ConsentMethod)}", name="method_known"),
        CheckConstraint(
            "(kind = 'share_information') = (partner IS NOT NULL)", name="partner_only_for_sharing"
        ),
        Index("ix_consent_records_party_kind", "party_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"))
    kind: Mapped[str] = mapped_column(String(30))
    partner: Mapped[str | None] = mapped_column(String(200))
    given: Mapped[bool]
    recorded_at: Mapped[dt.datetime]
    method: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    party: Mapped[Party] = relationship(back_populates="consent_records")
    recorded_by: Mapped[User | None] = relationship()


class EqualityMonitoring(Base):
    """Optional equality monitoring of a party, only ever reported in aggregate."""

    __tablename__ = "equality_monitoring"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), unique=True)
    ethnicity: Mapped[str | None] = mapped_column(String(60))
    gender: Mapped[str | None] = mapped_column(String(60))
    age_band: Mapped[str | None] = mapped_column(String(20))
    disability: Mapped[str | None] = mapped_column(String(60))
    religion: Mapped[str | None] = mapped_column(String(60))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=now)


class CaseNote(Base):
    """A note on a case, in plain text (shown escaped)."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    author: Mapped[User | None] = relationship()


class TimelineEvent(Base):
    """Something that happened to a case, in plain English for staff (never another party's contact details)."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_events_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    kind: Mapped[str] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=now)

    actor: Mapped[User | None] = relationship()
