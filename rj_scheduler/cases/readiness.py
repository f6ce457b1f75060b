"""The readiness checklist of a case: what must be true before a conference can be scheduled.

This issue fills in the consent part; later capabilities (assessments and
sign-off, meetings) append their checks to ``READINESS_CHECKS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rj_scheduler.cases.consent import has_consent
from rj_scheduler.cases.models import Case, ConsentKind, PartyRole


@dataclass(frozen=True)
class ReadinessItem:
    section: str
    label: str
    met: bool


def consent_checks(case: Case) -> list[ReadinessItem]:
    """Every victim and offender agrees to be contacted and to take part; there is at least one of each."""
    items: list[ReadinessItem] = []
    for role in (PartyRole.VICTIM, PartyRole.OFFENDER):
        parties = [p for p in case.parties if p.role == role]
        if not parties:
            items.append(ReadinessItem("Consent", f"The case has a {role.label.lower()}", False))
        for party in parties:
            items.append(
                ReadinessItem(
                    "Consent",
                    f"{party.display_name} ({role.label.lower()}) agrees to be contacted",
                    has_consent(party, ConsentKind.CONTACT),
                )
            )
            items.append(
                ReadinessItem(
                    "Consent",
                    f"{party.display_name} ({role.label.lower()}) agrees to take part",
                    has_consent(party, ConsentKind.TAKE_PART),
                )
            )
    return items


READINESS_CHECKS: list[Callable[[Case], list[ReadinessItem]]] = [consent_checks]


def readiness(case: Case) -> list[ReadinessItem]:
    """The whole checklist for ``case``."""
    items: list[ReadinessItem] = []
    for check in READINESS_CHECKS:
        items.extend(check(case))
    return items


def readiness_blockers(case: Case) -> list[str]:
    """What stops ``case`` being ready, in plain English (empty when it is ready)."""
    return [f"Not yet met: {item.label.rstrip('.')}." for item in readiness(case) if not item.met]
