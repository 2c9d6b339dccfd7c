"""item_flags: a reader marks one of their items unreadable and/or comments on it

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "item_flags",
        sa.Column("assignment_item_id", sa.Integer(), nullable=False),
        sa.Column("unreadable", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_item_id"],
            ["assignment_items.id"],
            name=op.f("fk_item_flags_assignment_item_id_assignment_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("assignment_item_id", name=op.f("pk_item_flags")),
    )


def downgrade() -> None:
    op.drop_table("item_flags")
