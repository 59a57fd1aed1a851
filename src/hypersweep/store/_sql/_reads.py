"""Batch reads: one query (per 500 ids) for many trials or studies, never one transaction per item.

The read side (``studies``, ``report``) and the engine's resume of a pruned study ask for the history or
the summary of every trial or study at once; these functions run inside the caller's transaction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import Connection, func, select

from hypersweep.records import Direction, MetricPoint, TrialKind, TrialState
from hypersweep.store._sql._models import MetricHistory, Study, Trial
from hypersweep.store._sql._util import _chunks, _dir

__all__ = ["best_objectives", "histories", "state_counts"]


def histories(conn: Connection, trial_ids: Sequence[int]) -> dict[int, list[MetricPoint]]:
    """Per-step history of each trial, ordered by name, then step (an empty list when it has none)."""
    out: dict[int, list[MetricPoint]] = {i: [] for i in trial_ids}
    for chunk in _chunks(list(out)):
        stmt = (
            select(MetricHistory.trial_id, MetricHistory.name, MetricHistory.step, MetricHistory.value)
            .where(MetricHistory.trial_id.in_(chunk))
            .order_by(MetricHistory.trial_id, MetricHistory.name, MetricHistory.step)
        )
        for tid, name, step, value in conn.execute(stmt):
            out[tid].append(MetricPoint(name, step, value if value is not None else math.nan))
    return out


def state_counts(conn: Connection, study_ids: Sequence[int]) -> dict[int, dict[TrialState, int]]:
    """Number of sweep trials per state (reruns excluded) of each study."""
    counts = {i: dict.fromkeys(TrialState, 0) for i in study_ids}
    for chunk in _chunks(list(counts)):
        stmt = (
            select(Trial.study_id, Trial.state, func.count())
            .where(Trial.study_id.in_(chunk), Trial.kind == TrialKind.SWEEP.value)
            .group_by(Trial.study_id, Trial.state)
        )
        for sid, state, n in conn.execute(stmt):
            counts[sid][TrialState(state)] = n
    return counts


def best_objectives(conn: Connection, study_ids: Sequence[int]) -> dict[int, float | None]:
    """The best objective of each study's complete sweep trials in the study's direction (objectives are
    finite or NULL in the store, so MIN/MAX is the leaderboard's first value); None without one."""
    best: dict[int, float | None] = dict.fromkeys(study_ids)
    for chunk in _chunks(list(best)):
        stmt = (
            select(Trial.study_id, Study.direction, func.min(Trial.objective), func.max(Trial.objective))
            .join(Study, Study.id == Trial.study_id)
            .where(Trial.study_id.in_(chunk), Trial.kind == TrialKind.SWEEP.value)
            .where(Trial.state == TrialState.COMPLETE.value, Study.objective_metric.is_not(None))
            .group_by(Trial.study_id, Study.direction)
        )
        for sid, direction, low, high in conn.execute(stmt):
            best[sid] = high if _dir(direction) is Direction.MAXIMIZE else low
    return best
