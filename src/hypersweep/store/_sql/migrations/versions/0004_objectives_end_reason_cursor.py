"""Records ready for several objectives, constraints, end reasons and live readers.

* ``trials.objective_values`` (JSON list, one value per objective; ``objective`` stays the first) and
  ``studies.directions`` (JSON list). Backfill: ``[objective]`` and ``[direction]``.
* ``trials.feasible``: NULL for unconstrained studies and for trials that are not complete or pruned.
* ``studies.end_reason``: why the study's last run ended (budget, target, timeout, stop, failures,
  interrupt, patience).
* The change cursor: ``studies.change_seq`` is bumped by every write that inserts or changes a study's
  trial rows, and the rows written get the new value in ``trials.change_seq`` (indexed with the study),
  so ``trials_changed_since`` reads only what changed. Backfill: a trial's id, a study's largest id.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("studies") as batch:
        batch.add_column(sa.Column("directions", sa.JSON, nullable=True))
        batch.add_column(sa.Column("end_reason", sa.String(16), nullable=True))
        batch.add_column(sa.Column("change_seq", sa.BigInteger, nullable=False, server_default="0"))
    with op.batch_alter_table("trials") as batch:
        batch.add_column(sa.Column("objective_values", sa.JSON, nullable=True))
        batch.add_column(sa.Column("feasible", sa.Boolean, nullable=True))
        batch.add_column(sa.Column("change_seq", sa.BigInteger, nullable=False, server_default="0"))
    pg = op.get_bind().dialect.name == "postgresql"
    # backfill: one objective, one direction; the cursor starts past every existing row
    objective_list = "json_build_array(objective)" if pg else "json_array(objective)"
    direction_list = "json_build_array(direction)" if pg else "json_array(direction)"
    op.execute(f"UPDATE trials SET objective_values = {objective_list} WHERE objective IS NOT NULL")
    op.execute("UPDATE trials SET change_seq = id")
    op.execute(f"UPDATE studies SET directions = {direction_list} WHERE direction IS NOT NULL")
    op.execute(
        "UPDATE studies SET change_seq = "
        "COALESCE((SELECT MAX(t.id) FROM trials t WHERE t.study_id = studies.id), 0)"
    )
    op.create_index("ix_trials_study_change_seq", "trials", ["study_id", "change_seq"])


def downgrade() -> None:
    op.drop_index("ix_trials_study_change_seq", table_name="trials")
    with op.batch_alter_table("trials") as batch:
        batch.drop_column("change_seq")
        batch.drop_column("feasible")
        batch.drop_column("objective_values")
    with op.batch_alter_table("studies") as batch:
        batch.drop_column("change_seq")
        batch.drop_column("end_reason")
        batch.drop_column("directions")
