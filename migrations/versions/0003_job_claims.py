"""jobs: de-duplication key, worker claim and heartbeat

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("dedupe_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("worker_id", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_jobs_dedupe_key"), ["dedupe_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index(batch.f("ix_jobs_dedupe_key"))
        batch.drop_column("heartbeat_at")
        batch.drop_column("worker_id")
        batch.drop_column("dedupe_key")
