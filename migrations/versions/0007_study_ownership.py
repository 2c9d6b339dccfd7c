"""studies.owner_id and study_collaborators: a study is seen by its owner, the coordinators
it is shared with, and admins

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("studies") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_studies_owner_id_users"), "users", ["owner_id"], ["id"], ondelete="SET NULL"
        )
    # Existing studies belong to whoever created them; those without a known creator (made
    # by the CLI, or whose creator's account is gone) are owned by no one: admins only, until
    # an admin gives them an owner (docs/reader_study.md, "Who sees a study").
    op.execute("UPDATE studies SET owner_id = created_by_id")
    op.create_table(
        "study_collaborators",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["users.id"],
            name=op.f("fk_study_collaborators_added_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
            name=op.f("fk_study_collaborators_study_id_studies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_study_collaborators_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("study_id", "user_id", name=op.f("pk_study_collaborators")),
    )
    with op.batch_alter_table("study_collaborators") as batch:
        batch.create_index(batch.f("ix_study_collaborators_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("study_collaborators") as batch:
        batch.drop_index(batch.f("ix_study_collaborators_user_id"))
    op.drop_table("study_collaborators")
    with op.batch_alter_table("studies") as batch:
        batch.drop_constraint(batch.f("fk_studies_owner_id_users"), type_="foreignkey")
        batch.drop_column("owner_id")
