"""Migrations build exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from rj_scheduler.extensions import db


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(db_session):
    # The session database was built from empty by `flask db upgrade` (see conftest).
    connection = db_session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
    differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models and migrations disagree: {differences}"


def test_database_is_at_the_newest_revision(db_session, app):
    from alembic.script import ScriptDirectory

    connection = db_session.connection()
    current = MigrationContext.configure(connection).get_current_heads()
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    assert set(current) == set(script.get_heads())
    assert len(script.get_heads()) == 1, "migrations must form one chain"
