"""Audit rows name actors that are not users: ``automation:<rule key>`` and its name.

Revision ID: 0006_audit_actor_key
Revises: 0005_record_shares
Create Date: 2026-11-23 18:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_audit_actor_key"
down_revision = "0005_record_shares"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("actor_key", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("actor_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("actor_name")
        batch.drop_column("actor_key")
