"""Covering indexes for the dashboard's and ``studies``' reads of large studies.

``(study_id, kind, state, objective, feasible)`` answers the state counts and the best (feasible)
objective from the index alone, and the leaderboard's top-k by objective (feasible trials first) (it replaces ``(study_id, state, objective)``, which
left ``kind`` to a row lookup per trial). ``(study_id, kind, number, state, objective, started_at,
duration_s)`` answers the objective history (in number order, with the running best) and the compute
totals without reading the table. ``(retry_of)`` finds a trial's reruns (a trial page's "retried by")
without a scan of the study. At 100k trials on SQLite the study page's reads went from about
0.9 s to under 0.1 s (docs/benchmarks.md, "Dashboard speed").

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_trials_study_kind_state_objective",
        "trials",
        ["study_id", "kind", "state", "objective", "feasible"],
    )
    op.create_index(
        "ix_trials_study_kind_number",
        "trials",
        ["study_id", "kind", "number", "state", "objective", "started_at", "duration_s"],
    )
    op.create_index("ix_trials_retry_of", "trials", ["retry_of", "study_id", "kind"])
    op.drop_index("ix_trials_study_state_objective", table_name="trials")


def downgrade() -> None:
    op.create_index("ix_trials_study_state_objective", "trials", ["study_id", "state", "objective"])
    op.drop_index("ix_trials_retry_of", table_name="trials")
    op.drop_index("ix_trials_study_kind_number", table_name="trials")
    op.drop_index("ix_trials_study_kind_state_objective", table_name="trials")
