"""Record sharing: a record of an app shared with a user or a department, to read or edit.

Revision ID: 0005_record_shares
Revises: 0004_imports
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_record_shares"
down_revision = "0004_imports"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "record_shares",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("app", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=60), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", BIG_ID, nullable=True),
        sa.Column("department_id", BIG_ID, nullable=True),
        sa.Column("access", sa.String(length=10), nullable=False),
        sa.Column("created_by", BIG_ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (department_id IS NULL)",
            name=op.f("ck_record_shares_one_grantee"),
        ),
        sa.CheckConstraint("access IN ('read', 'edit')", name=op.f("ck_record_shares_access")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_record_shares_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"],
            name=op.f("fk_record_shares_department_id_departments"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_record_shares_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_shares")),
    )  # fmt: skip
    op.create_index(
        "ix_record_shares_app_entity_record_id",
        "record_shares",
        ["app", "entity", "record_id"],
    )
    op.create_index(op.f("ix_record_shares_user_id"), "record_shares", ["user_id"])
    op.create_index(op.f("ix_record_shares_department_id"), "record_shares", ["department_id"])


def downgrade() -> None:
    op.drop_table("record_shares")
