"""The store's schema as SQLAlchemy 2.x declarative models.

These classes describe the tables; the store itself talks to them through Core statements
(``insert(Trial)``, ``select(Trial.id)``), which keeps bulk writes executemany-fast. The schema that a
database really has is created and changed only by the Alembic revisions in ``migrations/versions``;
``tests/store/test_migrations.py`` checks that head matches these models.

Timestamps are stored as UTC: :class:`UTCDateTime` converts aware datetimes to UTC on the way in and
hands back aware UTC datetimes on the way out (SQLite keeps no zone, PostgreSQL uses ``timestamptz``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Artifact",
    "Base",
    "Environment",
    "Metric",
    "MetricHistory",
    "Study",
    "StudyTag",
    "Trial",
    "TrialParam",
    "UTCDateTime",
    "VERSION_TABLE",
]

VERSION_TABLE = "hypersweep_schema_version"
"""Alembic's version table. Not ``alembic_version``, so a database shared with another Alembic-managed
application (MLflow, for one) keeps both apart."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":  # SQLite stores the wall clock only: make it UTC's
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # a raw CURRENT_TIMESTAMP string (SQLite)
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""

    type_annotation_map = {datetime: UTCDateTime()}


class Study(Base):
    """One sweep: its spec, objective, budget, status and the driver lease."""

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    spec_text: Mapped[str] = mapped_column(Text)
    spec_hash: Mapped[str] = mapped_column(String(64))
    spec_format: Mapped[str] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(64))
    objective_metric: Mapped[str | None] = mapped_column(String(255))
    direction: Mapped[str | None] = mapped_column(String(8))
    budget_trials: Mapped[int | None] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    workdir: Mapped[str] = mapped_column(Text)
    spec_path: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    git_commit: Mapped[str | None] = mapped_column(String(64))
    git_dirty: Mapped[bool | None] = mapped_column(Boolean)
    git_diff_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_host: Mapped[str | None] = mapped_column(String(255))
    lease_pid: Mapped[int | None] = mapped_column(Integer)
    lease_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    launched_by: Mapped[str | None] = mapped_column(String(255))
    launched_host: Mapped[str | None] = mapped_column(String(255))
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    # revision 0002: code and data identity for `reproduce`
    code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    data_hashes: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    # revision 0004: several objectives, why the last run ended, the change cursor
    directions: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class StudyTag(Base):
    """A key/value label on a study (``hypersweep tag``)."""

    __tablename__ = "study_tags"
    __table_args__ = (UniqueConstraint("study_id", "key", name="uq_study_tags_study_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text)


class Environment(Base):
    """What many trials share (interpreter, OS, hardware, packages); deduplicated by ``hash``."""

    __tablename__ = "environments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    python_version: Mapped[str] = mapped_column(String(64))
    python_implementation: Mapped[str] = mapped_column(String(64))
    os: Mapped[str] = mapped_column(String(255))
    kernel: Mapped[str] = mapped_column(String(255))
    cpu_model: Mapped[str] = mapped_column(String(255))
    cpu_count: Mapped[int] = mapped_column(Integer)
    ml_packages: Mapped[dict[str, str]] = mapped_column(JSON)
    packages: Mapped[dict[str, str]] = mapped_column(JSON)
    gpus: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    gpu_driver: Mapped[str | None] = mapped_column(String(64))
    cuda_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Trial(Base):
    """One run of one set of params. ``number`` is unique per study and NULL for reruns."""

    __tablename__ = "trials"
    __table_args__ = (
        UniqueConstraint("study_id", "number", name="uq_trials_study_number"),
        # covering: counts, best and top-k by objective; the history in number order and compute totals
        Index("ix_trials_study_kind_state_objective", "study_id", "kind", "state", "objective", "feasible"),
        Index(
            "ix_trials_study_kind_number",
            "study_id",
            "kind",
            "number",
            "state",
            "objective",
            "started_at",
            "duration_s",
        ),
        Index("ix_trials_retry_of", "retry_of", "study_id", "kind"),  # a trial's reruns
        Index("ix_trials_study_change_seq", "study_id", "change_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    number: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(BigInteger)
    objective: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_s: Mapped[float | None] = mapped_column(Float)
    retry_of: Mapped[int | None] = mapped_column(ForeignKey("trials.id", ondelete="SET NULL"))
    worker_host: Mapped[str | None] = mapped_column(String(255))
    ray_node_id: Mapped[str | None] = mapped_column(String(255))
    gpu_ids: Mapped[list[str]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    log_tail: Mapped[str | None] = mapped_column(Text)
    environment_id: Mapped[int | None] = mapped_column(ForeignKey("environments.id", ondelete="SET NULL"))
    # revision 0004: one value per objective (``objective`` is the first), feasibility, change cursor
    objective_values: Mapped[list[float | None] | None] = mapped_column(JSON, nullable=True)
    feasible: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class TrialParam(Base):
    """One param of one trial, typed for SQL filters: numbers (and booleans as 0/1) in ``value_num``,
    strings in ``value_text``, other values (lists, null) as JSON text in ``value_text``."""

    __tablename__ = "trial_params"
    __table_args__ = (Index("ix_trial_params_name_num", "name", "value_num"),)

    trial_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # references trials.id (0003)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)


class Metric(Base):
    """The final value of one metric of one trial (NULL when it was NaN or infinite)."""

    __tablename__ = "metrics"
    __table_args__ = (Index("ix_metrics_name_value", "name", "value"),)

    trial_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # references trials.id (0003)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)


class MetricHistory(Base):
    """One reported value per (trial, metric, step): the per-step series."""

    __tablename__ = "metric_history"

    trial_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # references trials.id (0003)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    # revision 0005: BIGINT on PostgreSQL; SQLite's INTEGER is 64-bit already
    step: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)


class Artifact(Base):
    """A file a trial logged: where it is, its size and checksum."""

    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(1024))
    uri: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
