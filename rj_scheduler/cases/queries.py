"""Named reads of cases, always scoped to one service.

List queries load what a row shows in a fixed number of statements, however
many cases there are (a test counts them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from rj_scheduler.auth.models import Role, User
from rj_scheduler.cases.models import Case, CaseNote, CaseState, EqualityMonitoring, Party, TimelineEvent


def case_by_reference(session: Session, service_id: int, reference: str) -> Case | None:
    """The case of this service with this reference, with its parties, consent and windows loaded."""
    return session.scalar(
        select(Case)
        .where(Case.service_id == service_id, Case.reference == reference)
        .options(
            joinedload(Case.lead_facilitator),
            selectinload(Case.parties).selectinload(Party.consent_records),
            selectinload(Case.parties).selectinload(Party.contact_windows),
        )
    )


def case_by_public_id(session: Session, service_id: int, public_id: str) -> Case | None:
    return session.scalar(select(Case).where(Case.service_id == service_id, Case.public_id == public_id))


def party_in_case(case: Case, party_public_id: str) -> Party | None:
    """A party of ``case`` by its public id (the case is already scoped to the user's service)."""
    for party in case.parties:
        if party.public_id == party_public_id:
            return party
    return None


def equality_monitoring_recorded(session: Session, party: Party) -> bool:
    """Whether the party answered equality monitoring (the answers are only ever counted, never shown)."""
    return (
        session.scalar(select(EqualityMonitoring.id).where(EqualityMonitoring.party_id == party.id))
        is not None
    )


def timeline(session: Session, case: Case) -> list[TimelineEvent]:
    """The case's timeline, newest first."""
    return list(
        session.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.case_id == case.id, TimelineEvent.service_id == case.service_id)
            .options(joinedload(TimelineEvent.actor))
            .order_by(TimelineEvent.at.desc(), TimelineEvent.id.desc())
        )
    )


def notes(session: Session, case: Case) -> list[CaseNote]:
    return list(
        session.scalars(
            select(CaseNote)
            .where(CaseNote.case_id == case.id, CaseNote.service_id == case.service_id)
            .options(joinedload(CaseNote.author))
            .order_by(CaseNote.created_at.desc(), CaseNote.id.desc())
        )
    )


def service_staff(session: Session, service_id: int) -> list[User]:
    """Active staff of the service who can lead a case (facilitators first)."""
    order = {Role.FACILITATOR.value: 0, Role.SUPERVISOR.value: 1, Role.MANAGER.value: 2}
    users = session.scalars(
        select(User)
        .where(User.service_id == service_id, User.is_active_account.is_(True))
        .order_by(User.full_name)
    )
    return sorted(users, key=lambda u: (order.get(u.role, 9), u.full_name))


def staff_member(session: Session, service_id: int, public_id: str) -> User | None:
    return session.scalar(select(User).where(User.service_id == service_id, User.public_id == public_id))


@dataclass
class CaseFilters:
    """The team view's filters; empty means "any"."""

    state: str | None = None
    offence_category: str | None = None
    facilitator: str | None = None  # a user's public id, or "none" for unassigned
    sensitive: bool | None = None
    overdue: bool = False
    needs_triage: bool = False
    search: str | None = None


@dataclass
class Page:
    items: list[Case]
    total: int
    page: int
    per_page: int
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _overdue(today: dt.date):
    return and_(
        Case.first_contact_at.is_(None),
        Case.state != CaseState.CLOSED.value,
        Case.first_contact_due_on < today,
    )


def _filtered(service_id: int, filters: CaseFilters, today: dt.date):
    stmt = select(Case).where(Case.service_id == service_id)
    if filters.state:
        stmt = stmt.where(Case.state == filters.state)
    if filters.offence_category:
        stmt = stmt.where(Case.offence_category == filters.offence_category)
    if filters.facilitator == "none":
        stmt = stmt.where(Case.lead_facilitator_id.is_(None))
    elif filters.facilitator:
        stmt = stmt.join(User, User.id == Case.lead_facilitator_id).where(
            User.public_id == filters.facilitator, User.service_id == service_id
        )
    if filters.sensitive is True:
        stmt = stmt.where(Case.is_sensitive)
    elif filters.sensitive is False:
        stmt = stmt.where(~Case.is_sensitive)
    if filters.overdue:
        stmt = stmt.where(_overdue(today))
    if filters.needs_triage:
        stmt = stmt.where(Case.needs_triage.is_(True))
    if filters.search:
        term = filters.search.strip()
        like = f"%{term.casefold()}%"
        stmt = stmt.where(
            or_(
                func.lower(Case.reference) == term.casefold(),
                func.lower(Case.reference).like(like),
                exists(
                    select(Party.id).where(
                        Party.case_id == Case.id,
                        Party.service_id == service_id,
                        or_(
                            func.lower(Party.full_name).like(like),
                            func.lower(Party.preferred_name).like(like),
                        ),
                    )
                ),
            )
        )
    return stmt


def team_cases(
    session: Session, service_id: int, filters: CaseFilters, today: dt.date, page: int = 1, per_page: int = 25
) -> Page:
    """One page of the service's cases matching ``filters`` (two statements whatever the page size).

    Newest referral first; the triage list (``needs_triage``) is oldest first, because
    the Victims' Code clock runs from when the self-referral arrived.
    """
    base = _filtered(service_id, filters, today)
    if filters.needs_triage:
        order = (Case.received_at.asc(), Case.id.asc())
    else:
        order = (Case.received_at.desc(), Case.id.desc())
    total = session.scalar(select(func.count()).select_from(base.order_by(None).subquery())) or 0
    page = max(1, page)
    items = list(
        session.scalars(
            base.options(joinedload(Case.lead_facilitator))
            .order_by(*order)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return Page(items=items, total=total, page=page, per_page=per_page)


@dataclass
class Caseload:
    """What a facilitator needs to do next."""

    first_contacts_due: list[Case]
    reoffers_due: list[Party]
    cases: Page
    overdue_count: int


def caseload(
    session: Session, service_id: int, user: User, today: dt.date, page: int = 1, per_page: int = 25
) -> Caseload:
    """A facilitator's open cases with first contacts due, re-offers due and the overdue count."""
    mine = and_(Case.service_id == service_id, Case.lead_facilitator_id == user.id)
    open_case = Case.state != CaseState.CLOSED.value
    first_contacts_due = list(
        session.scalars(
            select(Case)
            .where(mine, open_case, Case.first_contact_at.is_(None))
            .order_by(Case.first_contact_due_on, Case.id)
            .limit(20)
        )
    )
    reoffers_due = list(
        session.scalars(
            select(Party)
            .join(Case, Case.id == Party.case_id)
            .where(
                mine, Party.service_id == service_id, Party.reoffer_on.is_not(None), Party.reoffer_on <= today
            )
            .options(joinedload(Party.case))
            .order_by(Party.reoffer_on, Party.id)
            .limit(20)
        )
    )
    overdue_count = session.scalar(select(func.count(Case.id)).where(mine, _overdue(today))) or 0
    base = select(Case).where(mine, open_case)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = max(1, page)
    items = list(
        session.scalars(
            base.order_by(Case.first_contact_due_on, Case.id).limit(per_page).offset((page - 1) * per_page)
        )
    )
    return Caseload(
        first_contacts_due=first_contacts_due,
        reoffers_due=reoffers_due,
        cases=Page(items=items, total=total, page=page, per_page=per_page),
        overdue_count=overdue_count,
    )


def team_summary(session: Session, service_id: int, today: dt.date) -> dict[str, int]:
    """Counts for the supervisor's dashboard: cases by state, overdue first contacts, triage waiting."""
    counts = {state.value: 0 for state in CaseState}
    for state, count in session.execute(
        select(Case.state, func.count(Case.id)).where(Case.service_id == service_id).group_by(Case.state)
    ):
        counts[state] = count
    overdue, needs_triage = session.execute(
        select(
            func.count(Case.id).filter(_overdue(today)),
            func.count(Case.id).filter(Case.needs_triage.is_(True)),
        ).where(Case.service_id == service_id)
    ).one()
    counts["overdue"] = overdue or 0
    counts["needs_triage"] = needs_triage or 0
    counts["reoffers_due"] = (
        session.scalar(
            select(func.count(Party.id)).where(
                Party.service_id == service_id, Party.reoffer_on.is_not(None), Party.reoffer_on <= today
            )
        )
        or 0
    )
    return counts
