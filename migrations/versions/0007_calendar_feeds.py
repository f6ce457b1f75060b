"""calendar feeds: each staff member's secret, revocable calendar subscription (token stored as a hash)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 10:40:00

"""

import sqlalchemy as sa
from alembic import op

import rj_scheduler.db

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", rj_scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", rj_scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", rj_scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_calendar_feeds_service_id_services")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_feeds_service_id"), ["service_id"], unique=False)
        batch_op.create_index("ix_calendar_feeds_user_revoked", ["user_id", "revoked_at"], unique=False)


def downgrade():
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index("ix_calendar_feeds_user_revoked")
        batch_op.drop_index(batch_op.f("ix_calendar_feeds_service_id"))
    op.drop_table("calendar_feeds")
