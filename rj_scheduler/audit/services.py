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
    chain_id: int
    seq: int
    problem: str


def verify_chain(session: Session, chain_id: int, batch: int = 5000) -> Iterator[ChainProblem]:
    """Yield every break in one chain: a changed row, a missing or inserted row."""
    expected_seq = 1
    prev = GENESIS_HASH
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.chain_id == chain_id)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=batch)
    )
    for entry in session.scalars(stmt):
        if entry.seq != expected_seq:
            yield ChainProblem(chain_id, entry.seq, f"entries {expected_seq} to {entry.seq - 1} are missing")
            expected_seq = entry.seq
        if entry.prev_hash != prev:
            yield ChainProblem(chain_id, entry.seq, "does not follow the entry before it")
        if entry_hash(entry, chain_id, entry.seq, entry.prev_hash) != entry.entry_hash:
            yield ChainProblem(chain_id, entry.seq, "has been changed since it was written")
        prev = entry.entry_hash
        expected_seq += 1


def chain_ids(session: Session) -> list[int]:
    return list(session.scalars(select(AuditEntry.chain_id).distinct().order_by(AuditEntry.chain_id)))


def chain_heads(session: Session) -> dict[int, tuple[int, str]]:
    """The newest (seq, hash) of every chain."""
    heads: dict[int, tuple[int, str]] = {}
    rows = session.execute(
        select(AuditEntry.chain_id, func.max(AuditEntry.seq)).group_by(AuditEntry.chain_id)
    ).all()
    for chain_id, seq in rows:
        digest = session.scalar(
            select(AuditEntry.entry_hash).where(AuditEntry.chain_id == chain_id, AuditEntry.seq == seq)
        )
        heads[chain_id] = (seq, digest)
    return heads


_last_checkpoint = 0.0


def log_checkpoint_if_due(session: Session, interval_seconds: int) -> None:
    """Write the newest hash of each chain to the application log at intervals.

    The log lives outside the database, so deleting the most recent rows (which
    leaves a shorter but valid chain) is still detectable against it:
    ``flask rj audit-verify --checkpoint CHAIN:SEQ:HASH``.
    """
    global _last_checkpoint
    if time.monotonic() - _last_checkpoint < interval_seconds:
        return
    _last_checkpoint = time.monotonic()
    for chain_id, (seq, digest) in chain_heads(session).items():
        log.info("audit checkpoint", extra={"audit_checkpoint": f"{chain_id}:{seq}:{digest}"})
