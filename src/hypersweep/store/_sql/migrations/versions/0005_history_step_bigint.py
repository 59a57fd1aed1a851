"""``metric_history.step`` as BIGINT: a step is any integer in [0, 2**63).

PostgreSQL's INTEGER stopped at 2**31 - 1 ("out of range for type integer" on a step of 3e9); SQLite's
INTEGER is already 64-bit, so its table stays as it is.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("metric_history", "step", type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    # steps past 2**31 - 1 do not fit back: the downgrade fails on them rather than losing them
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("metric_history", "step", type_=sa.Integer(), existing_type=sa.BigInteger())
