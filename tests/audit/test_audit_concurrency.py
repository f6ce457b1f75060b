"""Writers of one chain at the same moment, each in its own session and transaction.

These tests commit for real (no rolled-back test transaction), so they run
against separate connections exactly as concurrent requests do, and clean up
what they wrote.
"""

from __future__ import annotations

import secrets
import threading

import pytest
from sqlalchemy import delete, select

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.audit.services import ChainSummary, record, verify_chain
from rj_scheduler.auth.models import Service
from rj_scheduler.extensions import db
from rj_scheduler.unit_of_work import commit_unit_of_work

WRITERS = 6
UNITS_PER_WRITER = 5
ENTRIES_PER_UNIT = 3


@pytest.fixture
def committed_service(app):
    with app.app_context():
        service = Service(name="Concurrency test area", code=f"Z{secrets.token_hex(3)}")
        db.session.add(service)
        db.session.commit()
        service_id = service.id
    yield service_id
    with app.app_context():
        db.session.execute(delete(AuditEntry).where(AuditEntry.chain_id == service_id))
        db.session.execute(delete(Service).where(Service.id == service_id))
        db.session.commit()


@pytest.mark.no_db_isolation
def test_audit_concurrent_writers_leave_one_intact_contiguous_chain(app, committed_service):
    service_id = committed_service
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for unit in range(UNITS_PER_WRITER):
                with app.app_context():  # a separate session and transaction, as a request has
                    if unit == 0:
                        start.wait(timeout=30)
                    for n in range(ENTRIES_PER_UNIT):
                        record(
                            "test.concurrent",
                            object_type="writer",
                            object_id=f"{number}-{unit}-{n}",
                            service_id=service_id,
                        )
                    commit_unit_of_work()
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    with app.app_context():
        summary = ChainSummary(service_id)
        assert list(verify_chain(db.session, service_id, summary)) == []
        expected = WRITERS * UNITS_PER_WRITER * ENTRIES_PER_UNIT
        assert summary.entries == expected
        seqs = list(db.session.scalars(select(AuditEntry.seq).where(AuditEntry.chain_id == service_id)))
        assert sorted(seqs) == list(range(1, expected + 1))
        # Each unit of work's entries are consecutive: a unit seals its entries in one step.
        rows = db.session.execute(
            select(AuditEntry.object_id).where(AuditEntry.chain_id == service_id).order_by(AuditEntry.seq)
        ).scalars()
        units = [object_id.rsplit("-", 1)[0] for object_id in rows]
        for first in range(0, expected, ENTRIES_PER_UNIT):
            assert len(set(units[first : first + ENTRIES_PER_UNIT])) == 1
