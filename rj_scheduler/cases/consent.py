"""Current consent, derived from a party's consent records (the latest decision wins; never stored twice)."""

from __future__ import annotations

from dataclasses import dataclass

from rj_scheduler.cases.models import ConsentKind, ConsentRecord, Party


def _same_partner(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def current_consent(
    party: Party, kind: ConsentKind | str, partner: str | None = None
) -> ConsentRecord | None:
    """The latest consent record of ``party`` for ``kind`` (and that partner), or None if never asked."""
    kind = ConsentKind(kind)
    latest: ConsentRecord | None = None
    for record in party.consent_records:
        if record.kind != kind:
            continue
        if kind == ConsentKind.SHARE_INFORMATION and not _same_partner(record.partner, partner):
            continue
        if latest is None or (record.recorded_at, record.id or 0) >= (latest.recorded_at, latest.id or 0):
            latest = record
    return latest


def has_consent(party: Party, kind: ConsentKind | str, partner: str | None = None) -> bool:
    """True when the party's latest decision for ``kind`` is "given"."""
    record = current_consent(party, kind, partner)
    return record is not None and record.given


@dataclass(frozen=True)
class ConsentStatus:
    kind: ConsentKind
    partner: str | None
    record: ConsentRecord | None

    @property
    def label(self) -> str:
        if self.partner:
            return f"To share information with {self.partner}"
        return self.kind.label  # type: ignore[attr-defined]

    @property
    def status(self) -> str:
        if self.record is None:
            return "Not asked"
        return "Given" if self.record.given else "Withdrawn"


def consent_statuses(party: Party) -> list[ConsentStatus]:
    """Every kind of consent with its current decision, and one line per named sharing partner."""
    statuses = [
        ConsentStatus(kind, None, current_consent(party, kind))
        for kind in ConsentKind
        if kind != ConsentKind.SHARE_INFORMATION
    ]
    partners: dict[str, str] = {}
    for record in party.consent_records:
        if record.kind == ConsentKind.SHARE_INFORMATION and record.partner:
            partners.setdefault(record.partner.strip().casefold(), record.partner.strip())
    for partner in partners.values():
        statuses.append(
            ConsentStatus(
                ConsentKind.SHARE_INFORMATION,
                partner,
                current_consent(party, ConsentKind.SHARE_INFORMATION, partner),
            )
        )
    return statuses
