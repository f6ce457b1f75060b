"""audit-verify detects a changed, deleted, cut or forged audit log."""

from __future__ import annotations

import json
import logging

from sqlalchemy import delete, insert, text, update

from rj_scheduler.audit.models import AuditEntry
from rj_scheduler.audit.services import GENESIS_HASH, entry_hash, reset_checkpoint_timer
from rj_scheduler.db import now
from rj_scheduler.extensions import db
from rj_scheduler.logging_setup import JsonFormatter
from rj_scheduler.unit_of_work import commit_unit_of_work
from tests.audit.audit_helpers import audit_verify, chain, write_entries
from tests.factories import make_service


def _sql(statement, **params) -> None:
    db.session.execute(statement, params)
    db.session.commit()


def test_audit_verify_passes_an_untouched_chain_and_prints_one_line_per_chain(app):
    service = make_service()
    write_entries(service, 5)
    result = audit_verify(app)
    assert result.exit_code == 0, result.output
    assert f"chain {service.id}: 5 entries, intact" in result.output
    assert "The audit log is intact." in result.output


def test_audit_verify_fails_naming_the_entry_whose_field_was_changed(app):
    service = make_service()
    write_entries(service, 5)
    _sql(
        text("UPDATE audit_entries SET object_id = 'C99' WHERE chain_id = :chain AND seq = 3"),
        chain=service.id,
    )
    result = audit_verify(app, "--chain", str(service.id))
    assert result.exit_code == 1
    assert f"chain {service.id}: entry 3 does not match its hash" in result.output
    assert f"chain {service.id}: 5 entries, 1 problem" in result.output


def test_audit_verify_detects_a_changed_time_or_outcome(app):
    service = make_service()
    write_entries(service, 3)
    _sql(
        update(AuditEntry)
        .where(AuditEntry.chain_id == service.id, AuditEntry.seq == 2)
        .values(outcome="refused", created_at=now()),
    )
    result = audit_verify(app, "--chain", str(service.id))
    assert result.exit_code == 1
    assert f"chain {service.id}: entry 2 does not match its hash" in result.output


def test_audit_verify_fails_when_a_middle_entry_is_deleted(app):
    service = make_service()
    write_entries(service, 6)
    _sql(delete(AuditEntry).where(AuditEntry.chain_id == service.id, AuditEntry.seq == 4))
    result = audit_verify(app, "--chain", str(service.id))
    assert result.exit_code == 1
    assert f"chain {service.id}: entry 5 follows a gap: entry 4" in result.output


def test_audit_verify_fails_when_the_oldest_entries_are_deleted(app):
    service = make_service()
    write_entries(service, 4)
    _sql(delete(AuditEntry).where(AuditEntry.chain_id == service.id, AuditEntry.seq <= 2))
    result = audit_verify(app, "--chain", str(service.id))
    assert result.exit_code == 1
    assert "entries 1 to 2 have been deleted" in result.output


def _logged_checkpoint(caplog, app, monkeypatch, chain_id: int) -> str:
    """Run a unit of work with the checkpoint due and return this chain's logged checkpoint."""
    monkeypatch.setitem(app.config, "RJ_AUDIT_CHECKPOINT_SECONDS", 3600)
    reset_checkpoint_timer()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="rj_scheduler.audit"):
        commit_unit_of_work()
    values = [r.audit_checkpoint for r in caplog.records if hasattr(r, "audit_checkpoint")]
    mine = [v for v in values if v.startswith(f"{chain_id}:")]
    assert len(mine) == 1, values
    return mine[0]


def test_deleting_the_newest_entries_passes_plain_verify_but_fails_against_a_logged_checkpoint(
    app, caplog, monkeypatch
):
    service = make_service()
    write_entries(service, 6)
    checkpoint = _logged_checkpoint(caplog, app, monkeypatch, service.id)
    assert checkpoint.startswith(f"{service.id}:6:")
    assert audit_verify(app, "--chain", str(service.id), "--checkpoint", checkpoint).exit_code == 0

    _sql(delete(AuditEntry).where(AuditEntry.chain_id == service.id, AuditEntry.seq >= 5))

    plain = audit_verify(app, "--chain", str(service.id))
    assert plain.exit_code == 0, plain.output
    assert f"chain {service.id}: 4 entries, intact" in plain.output

    checked = audit_verify(app, "--chain", str(service.id), "--checkpoint", checkpoint)
    assert checked.exit_code == 1
    assert f"chain {service.id}: entry 6 is missing: the chain now ends at entry 4" in checked.output
    assert "the newest entries have been deleted" in checked.output


def test_checkpoints_are_read_from_the_json_application_log(app, caplog, monkeypatch, tmp_path):
    service = make_service()
    write_entries(service, 3)
    monkeypatch.setitem(app.config, "RJ_AUDIT_CHECKPOINT_SECONDS", 3600)
    reset_checkpoint_timer()
    with caplog.at_level(logging.INFO, logger="rj_scheduler.audit"):
        commit_unit_of_work()
    log_file = tmp_path / "app.log"
    formatter = JsonFormatter()
    log_file.write_text(
        "not json at all\n" + "\n".join(formatter.format(r) for r in caplog.records) + "\n", encoding="utf-8"
    )
    assert any(json.loads(line).get("audit_checkpoint") for line in log_file.read_text().splitlines()[1:])
    _sql(delete(AuditEntry).where(AuditEntry.chain_id == service.id, AuditEntry.seq == 3))

    result = audit_verify(app, "--chain", str(service.id), "--checkpoints-from", str(log_file))
    assert result.exit_code == 1
    assert f"chain {service.id}: entry 3 is missing" in result.output


def test_a_rewritten_chain_fails_against_a_logged_checkpoint(app, caplog, monkeypatch):
    service = make_service()
    write_entries(service, 3)
    checkpoint = _logged_checkpoint(caplog, app, monkeypatch, service.id)
    # Rewrite entry 3 and recompute its hash, so the chain alone still looks intact.
    _sql(
        update(AuditEntry)
        .where(AuditEntry.chain_id == service.id, AuditEntry.seq == 3)
        .values(object_id="C42")
    )
    db.session.expire_all()
    row = chain(service.id)[2]
    _sql(
        update(AuditEntry)
        .where(AuditEntry.id == row.id)
        .values(entry_hash=entry_hash(row, service.id, 3, row.prev_hash))
    )
    assert audit_verify(app, "--chain", str(service.id)).exit_code == 0
    result = audit_verify(app, "--chain", str(service.id), "--checkpoint", checkpoint)
    assert result.exit_code == 1
    assert "has a different hash from the one the application log recorded" in result.output


def _forged_values(service_id: int, seq: int, prev_hash: str) -> dict[str, object]:
    return {
        "chain_id": service_id,
        "seq": seq,
        "created_at": now(),
        "actor_user_id": None,
        "service_id": service_id,
        "action": "case.viewed",
        "object_type": "case",
        "object_id": "FORGED",
        "outcome": "ok",
        "ip_address": "127.0.0.1",
        "request_id": "forged-request",
        "details": None,
        "prev_hash": prev_hash,
        "entry_hash": "f" * 64,
    }


def test_audit_verify_fails_when_a_forged_entry_is_appended(app):
    service = make_service()
    write_entries(service, 3)
    head = chain(service.id)[-1]
    _sql(insert(AuditEntry).values(**_forged_values(service.id, 4, head.entry_hash)))
    result = audit_verify(app, "--chain", str(service.id))
    assert result.exit_code == 1
    assert f"chain {service.id}: entry 4 does not match its hash" in result.output


def test_audit_verify_fails_when_an_entry_is_replaced_by_a_well_formed_forgery(app):
    service = make_service()
    write_entries(service, 5)
    rows = chain(service.id)
    _sql(delete(AuditEntry).where(AuditEntry.id == rows[2].id))
    forged = _forged_values(service.id, 3, rows[1].entry_hash)
    forged["entry_hash"] = GENESIS_HASH  # replaced below by a correctly computed hash
    db.session.execute(insert(AuditEntry).values(**forged))
    db.session.expire_all()
    row = chain(service.id)[2]
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.id == row.id)
        .values(entry_hash=entry_hash(row, service.id, 3, row.prev_hash))
    )
    db.session.commit()
    result = audit_verify(app, "--chain", str(service.id))
    assert result.exit_code == 1
    assert f"chain {service.id}: entry 4 does not follow the entry before it" in result.output


def test_audit_verify_help_explains_checkpoints(app):
    result = app.test_cli_runner().invoke(args=["rj", "audit-verify", "--help"])
    assert result.exit_code == 0
    assert "--checkpoint CHAIN:SEQ:HASH" in result.output
    assert "audit_checkpoint" in result.output


def test_audit_verify_refuses_a_malformed_checkpoint(app):
    result = audit_verify(app, "--checkpoint", "3:12:not-a-hash")
    assert result.exit_code == 2
    assert "64 hexadecimal characters" in result.output
