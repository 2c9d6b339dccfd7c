"""judgments.first_duration_ms, first_answered_at: a changed answer keeps its first reading

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("judgments") as batch:
        batch.add_column(sa.Column("first_duration_ms", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("first_answered_at", sa.DateTime(timezone=True), nullable=True))
    # Judgments stored before: their first reading is only known where never changed.
    op.execute(
        "UPDATE judgments SET first_duration_ms = duration_ms, first_answered_at = answered_at"
        " WHERE revisions = 0"
    )


def downgrade() -> None:
    with op.batch_alter_table("judgments") as batch:
        batch.drop_column("first_answered_at")
        batch.drop_column("first_duration_ms")
