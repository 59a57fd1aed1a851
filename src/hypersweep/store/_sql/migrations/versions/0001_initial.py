"""Initial schema: studies, tags, trials, params, metrics, history, environments, artifacts.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out by hand (not imported from the models) so this revision stays what it was when released.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("spec_text", sa.Text, nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("spec_format", sa.String(16), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("objective_metric", sa.String(255), nullable=True),
        sa.Column("direction", sa.String(8), nullable=True),
        sa.Column("budget_trials", sa.Integer, nullable=True),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("workdir", sa.Text, nullable=False),
        sa.Column("spec_path", sa.Text, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("git_commit", sa.String(64), nullable=True),
        sa.Column("git_dirty", sa.Boolean, nullable=True),
        sa.Column("git_diff_hash", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        sa.Column("lease_host", sa.String(255), nullable=True),
        sa.Column("lease_pid", sa.Integer, nullable=True),
        sa.Column("lease_heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("launched_by", sa.String(255), nullable=True),
        sa.Column("launched_host", sa.String(255), nullable=True),
        sa.Column("stop_requested", sa.Boolean, nullable=False),
        sa.Column("notes", sa.Text, nullable=True),
    )
    op.create_table(
        "study_tags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("study_id", sa.Integer, sa.ForeignKey("studies.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.UniqueConstraint("study_id", "key", name="uq_study_tags_study_key"),
    )
    op.create_table(
        "environments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("python_version", sa.String(64), nullable=False),
        sa.Column("python_implementation", sa.String(64), nullable=False),
        sa.Column("os", sa.String(255), nullable=False),
        sa.Column("kernel", sa.String(255), nullable=False),
        sa.Column("cpu_model", sa.String(255), nullable=False),
        sa.Column("cpu_count", sa.Integer, nullable=False),
        sa.Column("ml_packages", sa.JSON, nullable=False),
        sa.Column("packages", sa.JSON, nullable=False),
        sa.Column("gpus", sa.JSON, nullable=False),
        sa.Column("gpu_driver", sa.String(64), nullable=True),
        sa.Column("cuda_version", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "trials",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("study_id", sa.Integer, sa.ForeignKey("studies.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("objective", sa.Float, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float, nullable=True),
        sa.Column("retry_of", sa.Integer, sa.ForeignKey("trials.id", ondelete="SET NULL"), nullable=True),
        sa.Column("worker_host", sa.String(255), nullable=True),
        sa.Column("ray_node_id", sa.String(255), nullable=True),
        sa.Column("gpu_ids", sa.JSON, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("log_tail", sa.Text, nullable=True),
        sa.Column(
            "environment_id",
            sa.Integer,
            sa.ForeignKey("environments.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.UniqueConstraint("study_id", "number", name="uq_trials_study_number"),
    )
    op.create_index("ix_trials_study_state_objective", "trials", ["study_id", "state", "objective"])
    op.create_table(
        "trial_params",
        sa.Column("trial_id", sa.Integer, sa.ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value_num", sa.Float, nullable=True),
        sa.Column("value_text", sa.Text, nullable=True),
    )
    op.create_index("ix_trial_params_name_num", "trial_params", ["name", "value_num"])
    op.create_table(
        "metrics",
        sa.Column("trial_id", sa.Integer, sa.ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value", sa.Float, nullable=True),
    )
    op.create_index("ix_metrics_name_value", "metrics", ["name", "value"])
    op.create_table(
        "metric_history",
        sa.Column("trial_id", sa.Integer, sa.ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True),
        sa.Column("value", sa.Float, nullable=True),
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("trial_id", sa.Integer, sa.ForeignKey("trials.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
    )
    op.create_index("ix_artifacts_trial_id", "artifacts", ["trial_id"])


def downgrade() -> None:
    for index, table in (
        ("ix_artifacts_trial_id", "artifacts"),
        ("ix_metrics_name_value", "metrics"),
        ("ix_trial_params_name_num", "trial_params"),
        ("ix_trials_study_state_objective", "trials"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "artifacts",
        "metric_history",
        "metrics",
        "trial_params",
        "trials",
        "environments",
        "study_tags",
        "studies",
    ):
        op.drop_table(table)
