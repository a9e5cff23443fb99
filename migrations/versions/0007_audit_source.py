"""Audit rows name what a write came from beyond its channel: ``import:<id>`` for an import.

Revision ID: 0007_audit_source
Revises: 0006_audit_actor_key
Create Date: 2026-12-06 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_audit_source"
down_revision = "0006_audit_actor_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("source", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("source")
