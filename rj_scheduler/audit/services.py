"""Recording, sealing and verifying audit entries.

``record`` queues an entry for the current unit of work; the edge calls
``seal_pending`` just before its single commit, which chains the entries (one
chain per service) so that ``verify_chain`` detects a changed or deleted row.
If the entries cannot be written the response is not served (see
``rj_scheduler.unit_of_work``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import g
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.db import now

log = logging.getLogger("rj_scheduler.audit")

GENESIS_HASH = "0" * 64
SYSTEM_CHAIN = 0
_ADVISORY_LOCK_CLASS = 7212  # arbitrary, fixed: the audit chains' advisory lock namespace


@dataclass
class AuditContext:
    """Who is acting and from where; set once per request or command by the edge."""

    actor_user_id: int | None = None
    service_id: int | None = None
    ip_address: str | None = None
    request_id: str | None = None


@dataclass
class PendingEntry:
    action: str
    object_type: str | None
    object_id: str | None
    service_id: int | None
    actor_user_id: int | None
    outcome: str
    ip_address: str | None
    request_id: str | None
    details: dict[str, Any] | None
    created_at: dt.datetime = field(default_factory=now)


def set_context(context: AuditContext) -> None:
    """Set who is acting for the rest of this request or command."""
    g.audit_context = context


def current_context() -> AuditContext:
    ctx = g.get("audit_context")
    if ctx is None:
        ctx = AuditContext()
        g.audit_context = ctx
    return ctx


def record(
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    service_id: int | None = None,
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
    actor_user_id: int | None = None,
) -> None:
    """Queue an audit entry for this unit of work: who, what, which object, where, when.

    Every read and every change of case data and of accounts calls this. The
    entry is written with the unit of work's commit, or on its own if the unit
    of work is rolled back, so refusals are recorded too. ``details`` must not
    carry a participant's contact details.
    """
    ctx = current_context()
    pending = g.setdefault("audit_pending", [])
    pending.append(
        PendingEntry(
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            service_id=service_id if service_id is not None else ctx.service_id,
            actor_user_id=actor_user_id if actor_user_id is not None else ctx.actor_user_id,
            outcome=outcome,
            ip_address=ctx.ip_address,
            request_id=ctx.request_id,
            details=details,
        )
    )


def has_pending() -> bool:
    return bool(g.get("audit_pending"))


def discard_pending() -> None:
    g.audit_pending = []


def entry_hash(entry: AuditEntry | PendingEntry, chain_id: int, seq: int, prev_hash: str) -> str:
    """The SHA-256 of an entry's fields and the previous entry's hash."""
    details = entry.details
    if isinstance(details, dict):
        details = json.dumps(details, sort_keys=True, separators=(",", ":"))
    created = entry.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    payload = [
        chain_id,
        seq,
        created,
        entry.actor_user_id,
        entry.service_id,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.outcome,
        entry.ip_address,
        entry.request_id,
        details,
        prev_hash,
    ]
    blob = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


def _lock_chain(session: Session, chain_id: int) -> None:
    """Serialise writers of one chain until commit (SQLite already holds the write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :chain)"),
            {"cls": _ADVISORY_LOCK_CLASS, "chain": chain_id},
        )


def chain_head(session: Session, chain_id: int) -> tuple[int, str]:
    """The newest (seq, hash) of a chain, or (0, genesis) for an empty chain."""
    row = session.execute(
        select(AuditEntry.seq, AuditEntry.entry_hash)
        .where(AuditEntry.chain_id == chain_id)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return 0, GENESIS_HASH
    return row.seq, row.entry_hash


def seal_pending(session: Session) -> list[AuditEntry]:
    """Write the queued entries into their chains and flush. Raises if they cannot be written."""
    pending: list[PendingEntry] = g.get("audit_pending") or []
    if not pending:
        return []
    written: list[AuditEntry] = []
    by_chain: dict[int, list[PendingEntry]] = {}
    for item in pending:
        by_chain.setdefault(item.service_id or SYSTEM_CHAIN, []).append(item)
    for chain_id in sorted(by_chain):  # a fixed order, so two writers never deadlock
        _lock_chain(session, chain_id)
        seq, prev = chain_head(session, chain_id)
        for item in by_chain[chain_id]:
            seq += 1
            digest = entry_hash(item, chain_id, seq, prev)
            details = None
            if item.details is not None:
                details = json.dumps(item.details, sort_keys=True, separators=(",", ":"))
            row = AuditEntry(
                chain_id=chain_id,
                seq=seq,
                created_at=item.created_at,
                actor_user_id=item.actor_user_id,
                service_id=item.service_id,
                action=item.action,
                object_type=item.object_type,
                object_id=item.object_id,
                outcome=item.outcome,
                ip_address=item.ip_address,
                request_id=item.request_id,
                details=details,
                prev_hash=prev,
                entry_hash=digest,
            )
            session.add(row)
            written.append(row)
            prev = digest
    session.flush()
    g.audit_pending = []
    g.audit_written_chains = set(by_chain)
    return written


@dataclass
class ChainProblem:
    """One break found in a chain, located by the sequence number where it shows."""

    chain_id: int
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"chain {self.chain_id}: entry {self.seq} {self.problem}"


@dataclass
class ChainSummary:
    """What a verification pass saw of one chain: how many entries and where it ends."""

    chain_id: int
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH


# Only the columns the hash covers: verification streams plain rows, never ORM objects.
_VERIFY_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.created_at,
    AuditEntry.actor_user_id,
    AuditEntry.service_id,
    AuditEntry.action,
    AuditEntry.object_type,
    AuditEntry.object_id,
    AuditEntry.outcome,
    AuditEntry.ip_address,
    AuditEntry.request_id,
    AuditEntry.details,
    AuditEntry.prev_hash,
    AuditEntry.entry_hash,
)


def verify_chain(
    session: Session, chain_id: int, summary: ChainSummary | None = None, batch: int = 2000
) -> Iterator[ChainProblem]:
    """Yield every break in one chain: a changed, forged, missing or inserted row.

    Rows are streamed in batches, so a chain of any length is checked in
    constant memory; ``summary`` (if given) is filled in as the rows pass.
    Deleting the newest rows leaves a shorter chain that is still intact: only
    a checkpoint from the application log detects that (``verify_checkpoint``).
    """
    summary = summary if summary is not None else ChainSummary(chain_id)
    expected_seq = 1
    prev = GENESIS_HASH
    stmt = select(*_VERIFY_COLUMNS).where(AuditEntry.chain_id == chain_id).order_by(AuditEntry.seq)
    for row in session.execute(stmt, execution_options={"yield_per": batch}):
        summary.entries += 1
        if row.seq != expected_seq:
            if row.seq > expected_seq:
                missing = "entry" if row.seq - expected_seq == 1 else "entries"
                span = (
                    str(expected_seq) if row.seq - expected_seq == 1 else f"{expected_seq} to {row.seq - 1}"
                )
                yield ChainProblem(chain_id, row.seq, f"follows a gap: {missing} {span} have been deleted")
            else:  # impossible while (chain_id, seq) is unique; reported rather than assumed
                yield ChainProblem(chain_id, row.seq, "repeats a sequence number")
        elif row.prev_hash != prev:
            yield ChainProblem(
                chain_id, row.seq, "does not follow the entry before it (a row was replaced or inserted)"
            )
        if entry_hash(row, chain_id, row.seq, row.prev_hash) != row.entry_hash:
            yield ChainProblem(
                chain_id, row.seq, "does not match its hash (it was changed, or forged, after it was written)"
            )
        prev = row.entry_hash
        expected_seq = row.seq + 1
        summary.head_seq, summary.head_hash = row.seq, row.entry_hash


def verify_checkpoint(session: Session, chain_id: int, seq: int, digest: str) -> ChainProblem | None:
    """Check one checkpoint from the application log: the entry is still there, unchanged.

    A checkpoint records the newest entry of a chain at some moment. If that
    entry is gone and the chain now ends below it, the newest entries were
    deleted (the one tampering a plain chain check cannot see).
    """
    found = session.scalar(
        select(AuditEntry.entry_hash).where(AuditEntry.chain_id == chain_id, AuditEntry.seq == seq)
    )
    if found is None:
        head_seq, _ = chain_head(session, chain_id)
        if head_seq < seq:
            return ChainProblem(
                chain_id,
                seq,
                f"is missing: the chain now ends at entry {head_seq}, but the application log "
                f"recorded entry {seq}, so the newest entries have been deleted",
            )
        return ChainProblem(chain_id, seq, "is missing, though the application log recorded it")
    if found != digest:
        return ChainProblem(
            chain_id,
            seq,
            "has a different hash from the one the application log recorded (the chain was rewritten)",
        )
    return None


def parse_checkpoint(value: str) -> tuple[int, int, str]:
    """Read ``CHAIN:SEQ:HASH`` as logged in an ``audit_checkpoint`` line."""
    parts = value.strip().split(":")
    if len(parts) != 3:
        raise ValueError("a checkpoint is CHAIN:SEQ:HASH, e.g. 3:1204:9f86d0...")
    chain, seq, digest = parts
    if not (chain.isdigit() and seq.isdigit()):
        raise ValueError("a checkpoint's chain and sequence number are whole numbers")
    digest = digest.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("a checkpoint's hash is 64 hexadecimal characters")
    return int(chain), int(seq), digest


def chain_ids(session: Session) -> list[int]:
    return list(session.scalars(select(AuditEntry.chain_id).distinct().order_by(AuditEntry.chain_id)))


def chain_heads(session: Session) -> dict[int, tuple[int, str]]:
    """The newest (seq, hash) of every chain, in one query."""
    newest = (
        select(AuditEntry.chain_id, func.max(AuditEntry.seq).label("seq"))
        .group_by(AuditEntry.chain_id)
        .subquery()
    )
    rows = session.execute(
        select(AuditEntry.chain_id, AuditEntry.seq, AuditEntry.entry_hash)
        .join(newest, (AuditEntry.chain_id == newest.c.chain_id) & (AuditEntry.seq == newest.c.seq))
        .order_by(AuditEntry.chain_id)
    ).all()
    return {chain_id: (seq, digest) for chain_id, seq, digest in rows}


_last_checkpoint = 0.0


def log_checkpoint_if_due(session: Session, interval_seconds: int) -> None:
    """Write the newest hash of each chain to the application log at intervals.

    The log lives outside the database, so deleting the most recent rows (which
    leaves a shorter but valid chain) is still detectable against it:
    ``flask rj audit-verify --checkpoint CHAIN:SEQ:HASH``.
    """
    global _last_checkpoint
    if _last_checkpoint and time.monotonic() - _last_checkpoint < interval_seconds:
        return
    _last_checkpoint = time.monotonic()
    for chain_id, (seq, digest) in chain_heads(session).items():
        log.info("audit checkpoint", extra={"audit_checkpoint": f"{chain_id}:{seq}:{digest}"})


def reset_checkpoint_timer() -> None:
    """Make the next unit of work log a checkpoint (tests, and after a restart)."""
    global _last_checkpoint
    _last_checkpoint = 0.0
