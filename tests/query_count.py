"""Counting the SQL statements one page costs, for the query-count tests (no N+1 on list pages)."""

from __future__ import annotations

from sqlalchemy import event

from rj_scheduler.extensions import db


def statements(client, url: str) -> int:
    """How many statements a GET of ``url`` runs, after one warm-up request (session loader, checkpoint)."""
    engine = db.session.get_bind().engine
    client.get(url)
    count = 0

    def count_statement(*args, **kwargs):
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert response.status_code == 200
    return count
