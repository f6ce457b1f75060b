"""The dispatcher: claims due outbox messages, checks them again, sends them concurrently, records the outcome.

One loop in the main thread owns the database session: it claims messages
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several dispatchers never claim
the same message; on SQLite a file lock lets one dispatcher run), runs the
pre-send checks, and records outcomes. A pool of threads does only the network
calls, SMS at most ``RJ_SMS_MAX_PER_SECOND`` per second.

A claimed message is "sending" under a lease: if its dispatcher dies, the
message returns to the queue when the lease expires, and is sent again. So
delivery is at least once; a duplicate needs a dispatcher to die between the
provider accepting a message and the outcome being committed (see
docs/messaging.md). Each outcome is written only if the claim is still the
writer's own (a claim token), so a late dispatcher never overwrites a newer one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import random
import secrets
import signal
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import selectinload

from rj_scheduler.audit.services import record as audit
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.notify.backends import (
    Attachment,
    EmailBackend,
    OutgoingEmail,
    OutgoingSms,
    SendResult,
    SmsBackend,
    email_backend_from_config,
    sms_backend_from_config,
)
from rj_scheduler.notify.checks import decide
from rj_scheduler.notify.exceptions import DispatcherAlreadyRunning
from rj_scheduler.notify.models import Channel, MessageStatus, OutboxMessage, UnmatchedStatusCallback
from rj_scheduler.notify.services import apply_early_status_callback, tell_staff_about_failure
from rj_scheduler.unit_of_work import commit_unit_of_work

log = logging.getLogger("rj_scheduler.notify.dispatcher")

_T = OutboxMessage.__table__
# Written as literal SQL so both databases use the partial index ix_outbox_messages_claimable.
_CLAIMABLE = text("outbox_messages.status IN ('pending', 'sending')")
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0


class RateLimiter:
    """Spaces calls at least 1/rate seconds apart across threads (a per-second cap)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            current = time.monotonic()
            slot = max(current, self._next)
            self._next = slot + self.interval
        delay = slot - current
        if delay > 0:
            time.sleep(delay)


@dataclass(frozen=True)
class Job:
    message_id: int
    public_id: str
    service_id: int
    token: str
    attempts: int
    sms: OutgoingSms | None = None
    email: OutgoingEmail | None = None


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    kept: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    cancelled: int = 0
    suppressed: int = 0
    lost_claims: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"claimed {self.claimed}, sent {self.sent}, kept {self.kept}, retried {self.retried}, "
            f"failed {self.failed}, deferred {self.deferred}, cancelled {self.cancelled}, "
            f"suppressed {self.suppressed}"
        )


def backoff_seconds(attempts: int, rng: random.Random) -> float:
    """Exponential backoff with jitter: about 30 s, 1 min, 2 min ... at most an hour, each 50-100%."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** max(attempts - 1, 0)))
    return ceiling * rng.uniform(0.5, 1.0)


@contextlib.contextmanager
def single_dispatcher_lock(database_url: str) -> Iterator[None]:
    """On SQLite, hold a lock file beside the database so only one dispatcher runs.

    The operating system releases the lock when the process ends, even by SIGKILL.
    """
    if not database_url.startswith("sqlite"):
        yield
        return
    path = database_url.split("///", 1)[-1] if "///" in database_url else ""
    if not path or path == ":memory:":
        yield
        return
    lock_path = Path(path + ".dispatch.lock")
    handle = lock_path.open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DispatcherAlreadyRunning(
                "Another dispatcher is already running on this SQLite database: on SQLite one "
                "dispatcher runs at a time (use PostgreSQL to run several)."
            ) from None
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


class Dispatcher:
    """Sends due outbox messages until stopped (``run()``), or until nothing is due (``run(once=True)``)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        sms_backend: SmsBackend | None = None,
        email_backend: EmailBackend | None = None,
        name: str | None = None,
        poll_interval: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.sms_backend = sms_backend or sms_backend_from_config(config)
        self.email_backend = email_backend or email_backend_from_config(config)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.threads = int(config.get("RJ_DISPATCH_THREADS", 16))
        self.lease = timedelta(seconds=int(config.get("RJ_DISPATCH_LEASE_SECONDS", 300)))
        self.max_attempts = int(config.get("RJ_DISPATCH_MAX_ATTEMPTS", 8))
        self.quiet_hours = config.get("RJ_QUIET_HOURS", "20:00-09:00")
        self.sms_limiter = RateLimiter(float(config.get("RJ_SMS_MAX_PER_SECOND", 10)))
        self.poll_interval = poll_interval
        self.rng = rng or random.Random()  # noqa: S311  (jitter, not security)
        self.max_inflight = self.threads * 2
        self.batch_size = 200
        self.stats = DispatchStats()
        self._stop = threading.Event()

    # --- control ---------------------------------------------------------------------------------

    def request_stop(self, *_: object) -> None:
        """Stop claiming; finish the messages in hand, record them, then return."""
        if not self._stop.is_set():
            log.info("dispatcher stopping: finishing the messages in hand", extra={"dispatcher": self.name})
        self._stop.set()

    @contextlib.contextmanager
    def signal_handlers(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # --- the loop --------------------------------------------------------------------------------

    def run(self, once: bool = False) -> DispatchStats:
        """Send until stopped; with ``once``, until nothing is due and nothing is in hand."""
        inflight: dict[Future[SendResult], Job] = {}
        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="rj-dispatch") as pool:
            while True:
                finished = [f for f in inflight if f.done()]
                if finished:
                    self._record([(inflight.pop(f), _result_of(f)) for f in finished])
                if self._stop.is_set():
                    if not inflight:
                        break
                    wait(list(inflight), timeout=0.5, return_when=FIRST_COMPLETED)
                    continue
                claimed = 0
                capacity = self.max_inflight - len(inflight)
                if capacity > 0:
                    try:
                        claimed, jobs = self._claim_and_check(min(capacity, self.batch_size))
                    except SQLAlchemyError:
                        if once:
                            raise
                        log.exception("could not claim messages; trying again shortly")
                        db.session.rollback()
                        self._stop.wait(self.poll_interval)
                        continue
                    for job in jobs:
                        inflight[pool.submit(self._send, job)] = job
                if inflight:
                    wait(list(inflight), timeout=self.poll_interval, return_when=FIRST_COMPLETED)
                elif claimed == 0:
                    if once:
                        break
                    self._stop.wait(self.poll_interval)
        return self.stats

    def _send(self, job: Job) -> SendResult:
        if job.sms is not None:
            if self.sms_backend.name != "outbox":
                self.sms_limiter.acquire()
            return self.sms_backend.send_sms(job.sms)
        if job.email is None:
            return SendResult("failed", error="Nothing to send.")
        return self.email_backend.send_email(job.email)

    # --- claiming --------------------------------------------------------------------------------

    def claim(self, limit: int) -> tuple[str, list[int]]:
        """Take up to ``limit`` due messages (or ones whose lease expired) and commit the claim."""
        session = db.session
        at = now()
        token = secrets.token_hex(16)
        due = (
            select(_T.c.id)
            .where(_CLAIMABLE, _T.c.available_at <= at)
            .order_by(_T.c.available_at, _T.c.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        stmt = (
            update(_T)
            .where(_T.c.id.in_(due.scalar_subquery()))
            .values(
                status=MessageStatus.SENDING.value,
                claimed_by=self.name,
                claim_token=token,
                available_at=at + self.lease,
                attempts=_T.c.attempts + 1,
            )
            .returning(_T.c.id)
        )
        ids = [row[0] for row in session.execute(stmt)]
        session.commit()
        return token, ids

    def _claim_and_check(self, limit: int) -> tuple[int, list[Job]]:
        token, ids = self.claim(limit)
        if not ids:
            return 0, []
        self.stats.claimed += len(ids)
        session = db.session
        at = now()
        messages = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .options(selectinload(OutboxMessage.attachments))
            .order_by(OutboxMessage.available_at, OutboxMessage.id)
            .execution_options(populate_existing=True)  # the claim just changed these rows
        ).all()
        jobs: list[Job] = []
        for message in messages:
            job = self._check(session, message, token, at)
            if job is not None:
                jobs.append(job)
        commit_unit_of_work()
        return len(ids), jobs

    def _check(self, session, message: OutboxMessage, token: str, at) -> Job | None:
        if message.attempts > self.max_attempts:
            self._finish(
                message,
                MessageStatus.FAILED,
                at,
                error=(
                    f"Stopped after {self.max_attempts} attempts: a dispatcher stopped while sending it, "
                    "so it may or may not have arrived."
                ),
            )
            return None
        decision = decide(session, message, at, self.quiet_hours)
        if decision.action == "defer":
            message.status = MessageStatus.PENDING.value
            message.available_at = decision.until or at
            message.status_reason = decision.reason
            message.attempts = max(message.attempts - 1, 0)  # nothing was attempted
            message.claim_token = None
            message.claimed_by = None
            self.stats.deferred += 1
            return None
        if decision.action in ("cancel", "suppress"):
            status = MessageStatus.CANCELLED if decision.action == "cancel" else MessageStatus.SUPPRESSED
            self._finish(message, status, at, reason=decision.reason)
            return None
        address = decision.address or message.to_address
        if message.channel == Channel.SMS:
            return Job(
                message.id,
                message.public_id,
                message.service_id,
                token,
                message.attempts,
                sms=OutgoingSms(message_id=message.id, to=address, body=message.body_text),
            )
        return Job(
            message.id,
            message.public_id,
            message.service_id,
            token,
            message.attempts,
            email=OutgoingEmail(
                message_id=message.id,
                public_id=message.public_id,
                to=address,
                to_name=decision.name,
                subject=message.subject or "",
                text=message.body_text,
                html=message.body_html,
                attachments=tuple(
                    Attachment(a.filename, a.content_type, a.content) for a in message.attachments
                ),
            ),
        )

    def _finish(
        self,
        message: OutboxMessage,
        status: MessageStatus,
        at,
        *,
        reason: str | None = None,
        error: str | None = None,
    ) -> None:
        message.status = status.value
        message.status_reason = reason[:500] if reason else None
        if error:
            message.last_error = error[:500]
        message.finished_at = at
        message.claim_token = None
        message.claimed_by = None
        if status == MessageStatus.FAILED:
            message.failed_at = at
            self.stats.failed += 1
        elif status == MessageStatus.CANCELLED:
            self.stats.cancelled += 1
        elif status == MessageStatus.SUPPRESSED:
            self.stats.suppressed += 1
        audit(
            f"outbox_message.{status.value}",
            object_type="outbox_message",
            object_id=message.public_id,
            service_id=message.service_id,
            details={"kind": message.kind, "channel": message.channel, "reason": reason or error},
        )
        if status == MessageStatus.FAILED:
            tell_staff_about_failure(message)

    # --- recording -------------------------------------------------------------------------------

    def _record(self, outcomes: list[tuple[Job, SendResult]]) -> None:
        """Write the outcomes in one transaction, each only if the claim is still this dispatcher's."""
        session = db.session
        at = now()
        failed_ids: list[int] = []
        sent_ids: list[int] = []
        for job, result in outcomes:
            fence = update(_T).where(
                _T.c.id == job.message_id,
                _T.c.claim_token == job.token,
                _T.c.status == MessageStatus.SENDING.value,
            )
            release = {"claim_token": None}  # claimed_by stays: which dispatcher sent it
            if result.outcome == "sent":
                values = {
                    "status": MessageStatus.SENT.value,
                    "provider_id": result.provider_id,
                    "provider_status": result.provider_status,
                    "sent_at": at,
                    "last_error": None,
                    "status_reason": None,
                }
            elif result.outcome == "kept":
                values = {"status": MessageStatus.KEPT.value, "finished_at": at, "status_reason": None}
            elif result.outcome == "retry" and job.attempts < self.max_attempts:
                values = {
                    "status": MessageStatus.PENDING.value,
                    "available_at": at + timedelta(seconds=backoff_seconds(job.attempts, self.rng)),
                    "last_error": (result.error or "")[:500],
                }
            else:
                error = result.error or "It could not be sent."
                if result.outcome == "retry":
                    error = f"Gave up after {job.attempts} attempts. {error}"
                values = {
                    "status": MessageStatus.FAILED.value,
                    "failed_at": at,
                    "finished_at": at,
                    "last_error": error[:500],
                }
            changed = session.execute(fence.values(**values, **release)).rowcount
            if not changed:
                self.stats.lost_claims += 1
                log.warning(
                    "a message's claim passed to another dispatcher before its outcome was recorded",
                    extra={"outbox_message": job.public_id},
                )
                continue
            status = values["status"]
            if status == MessageStatus.SENT.value:
                self.stats.sent += 1
                sent_ids.append(job.message_id)
            elif status == MessageStatus.KEPT.value:
                self.stats.kept += 1
            elif status == MessageStatus.PENDING.value:
                self.stats.retried += 1
            else:
                self.stats.failed += 1
                failed_ids.append(job.message_id)
            if status != MessageStatus.PENDING.value:
                audit(
                    f"outbox_message.{status}",
                    object_type="outbox_message",
                    object_id=job.public_id,
                    service_id=job.service_id,
                    details={"error": values.get("last_error")} if status == "failed" else None,
                )
        self._after_record(session, sent_ids, failed_ids)
        commit_unit_of_work()

    def _after_record(self, session, sent_ids: list[int], failed_ids: list[int]) -> None:
        if failed_ids:
            failed = select(OutboxMessage).where(OutboxMessage.id.in_(failed_ids))
            for message in session.scalars(failed.execution_options(populate_existing=True)):
                tell_staff_about_failure(message)
        if sent_ids:
            early = session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(sent_ids),
                    OutboxMessage.provider_id.in_(select(UnmatchedStatusCallback.message_sid)),
                )
                .execution_options(populate_existing=True)
            ).all()
            for message in early:
                apply_early_status_callback(session, message)


def _result_of(future: Future[SendResult]) -> SendResult:
    error = future.exception()
    if error is not None:
        log.error("a backend raised instead of answering", exc_info=error)
        return SendResult("retry", error=f"Unexpected error while sending ({type(error).__name__}).")
    return future.result()
