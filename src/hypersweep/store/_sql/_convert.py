"""Rows to records, the step check and the change cursor of the SQL store.

The change cursor: ``studies.change_seq`` is bumped once by every transaction that inserts or changes
trial rows of the study, and those rows get the new value in ``trials.change_seq``. Bumping takes the
study row's write lock (SQLite's one writer, PostgreSQL's row lock), so the values of one study are
handed out in commit order: a reader that saw cursor N never later finds a row committed below N.
"""

from __future__ import annotations

import math
import socket
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from hypersweep.records import (
    EndReason,
    LeaseInfo,
    StudyRecord,
    StudyStatus,
    TrialKind,
    TrialRecord,
    TrialState,
)
from hypersweep.store._sql._models import Metric, Study
from hypersweep.store._sql._util import _chunks, _dir, _pid_alive

__all__ = [
    "MAX_STEP",
    "bump_change_seq",
    "checked_points",
    "lease_expired",
    "lease_info",
    "study_record",
    "trial_records",
    "valid_step",
]

MAX_STEP = 2**63  # a step is an integer, 0 <= step < 2**63 (PostgreSQL's BIGINT, SQLite's INTEGER)


def valid_step(step: Any) -> bool:
    """True for an int (not a bool) in [0, 2**63)."""
    return isinstance(step, int) and not isinstance(step, bool) and 0 <= step < MAX_STEP


def checked_points(points: Iterable[tuple[int, str, Any, Any]]) -> list[tuple[int, str, Any, Any]]:
    """The (trial_id, name, step, value) points whose step is valid; the others are dropped with a
    warning naming the trial and the step (a bad report never fails the batch it came in)."""
    out = []
    for point in points:
        if valid_step(point[2]):
            out.append(point)
        else:
            warnings.warn(
                f"trial id {point[0]}: metric {point[1]!r} reported at step {point[2]!r} is not kept "
                f"(a step is an integer, 0 <= step < 2**63)",
                RuntimeWarning,
                stacklevel=3,
            )
    return out


def bump_change_seq(conn: Connection, study_ids: Iterable[int]) -> dict[int, int]:
    """Advance the change cursor of each study by one; the new value per study id."""
    out: dict[int, int] = {}
    for sid in sorted(set(study_ids)):  # one lock order for every writer
        stmt = (
            update(Study)
            .where(Study.id == sid)
            .values(change_seq=Study.change_seq + 1)
            .returning(Study.change_seq)
        )
        seq = conn.execute(stmt).scalar()
        if seq is not None:
            out[sid] = seq
    return out


def lease_expired(row: Any, now: datetime, ttl_s: float) -> bool:
    hb = row.lease_heartbeat_at
    if hb is None or hb < now - timedelta(seconds=ttl_s):
        return True
    return row.lease_host == socket.gethostname() and not _pid_alive(row.lease_pid)


def lease_info(row: Any, now: datetime, ttl_s: float) -> LeaseInfo | None:
    if row.lease_owner is None:
        return None
    return LeaseInfo(
        owner=row.lease_owner,
        host=row.lease_host or "",
        pid=row.lease_pid or 0,
        heartbeat_at=row.lease_heartbeat_at,
        expired=lease_expired(row, now, ttl_s),
    )


def study_record(row: Any, tags: Mapping[str, str], now: datetime, ttl_s: float = 30.0) -> StudyRecord:
    return StudyRecord(
        study_id=row.id,
        name=row.name,
        spec_text=row.spec_text,
        spec_hash=row.spec_hash,
        spec_format=row.spec_format,
        strategy=row.strategy,
        objective_metric=row.objective_metric,
        direction=_dir(row.direction),
        directions=tuple(d for d in (_dir(x) for x in row.directions or ()) if d is not None),
        budget_trials=row.budget_trials,
        seed=row.seed,
        status=StudyStatus(row.status),
        workdir=row.workdir,
        created_at=row.created_at,
        updated_at=row.updated_at,
        spec_path=row.spec_path,
        description=row.description,
        git_commit=row.git_commit,
        git_dirty=row.git_dirty,
        git_diff_hash=row.git_diff_hash,
        code_hash=row.code_hash,
        data_hashes=dict(row.data_hashes or {}),
        launched_by=row.launched_by,
        launched_host=row.launched_host,
        stop_requested=bool(row.stop_requested),
        tags=dict(tags),
        notes=row.notes,
        lease=lease_info(row, now, ttl_s),
        end_reason=EndReason(row.end_reason) if row.end_reason else None,
    )


def trial_records(conn: Connection, rows: Sequence[Any], with_metrics: bool) -> list[TrialRecord]:
    metrics: dict[int, dict[str, float]] = {r.id: {} for r in rows}
    if with_metrics and rows:
        for chunk in _chunks([r.id for r in rows]):
            stmt = select(Metric.trial_id, Metric.name, Metric.value).where(Metric.trial_id.in_(chunk))
            for tid, name, value in conn.execute(stmt):
                metrics[tid][name] = value if value is not None else math.nan
    return [
        TrialRecord(
            trial_id=r.id,
            study_id=r.study_id,
            number=r.number,
            state=TrialState(r.state),
            params=r.params or {},
            seed=r.seed,
            kind=TrialKind(r.kind),
            objective=r.objective,
            values=tuple(r.objective_values or ()),
            feasible=r.feasible,
            change_seq=r.change_seq,
            metrics=metrics[r.id],
            started_at=r.started_at,
            finished_at=r.finished_at,
            duration_s=r.duration_s,
            retry_of=r.retry_of,
            worker_host=r.worker_host,
            ray_node_id=r.ray_node_id,
            gpu_ids=tuple(r.gpu_ids or ()),
            error=r.error,
            environment_id=r.environment_id,
            log_tail=r.log_tail,
        )
        for r in rows
    ]
