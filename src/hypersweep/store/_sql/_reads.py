"""Batch reads: one query (per 500 ids) for many trials or studies, never one transaction per item.

The read side (``studies``, ``report``) and the engine's resume of a pruned study ask for the history or
the summary of every trial or study at once; these functions run inside the caller's transaction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import Connection, case, func, select

from hypersweep.records import Direction, MetricPoint, TrialKind, TrialState, TrialSummary
from hypersweep.store._sql._models import MetricHistory, Study, Trial
from hypersweep.store._sql._util import _chunks, _dir

__all__ = [
    "SummaryReads",
    "best_objectives",
    "histories",
    "objective_series",
    "state_counts",
    "trial_summaries",
    "trial_totals",
]


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
    """The best objective of each study's complete (and not infeasible) sweep trials in the study's direction (objectives are
    finite or NULL in the store, so MIN/MAX is the leaderboard's first value); None without one."""
    best: dict[int, float | None] = dict.fromkeys(study_ids)
    for chunk in _chunks(list(best)):
        stmt = (
            select(Trial.study_id, Study.direction, func.min(Trial.objective), func.max(Trial.objective))
            .join(Study, Study.id == Trial.study_id)
            .where(Trial.study_id.in_(chunk), Trial.kind == TrialKind.SWEEP.value)
            .where(Trial.state == TrialState.COMPLETE.value, Study.objective_metric.is_not(None))
            .where(Trial.feasible.is_not(False))  # a constrained study's best meets its constraints
            .group_by(Trial.study_id, Study.direction)
        )
        for sid, direction, low, high in conn.execute(stmt):
            best[sid] = high if _dir(direction) is Direction.MAXIMIZE else low
    return best


def trial_summaries(
    conn: Connection,
    study_id: int,
    states: Sequence[TrialState] | None,
    include_reruns: bool,
    retry_of: int | None = None,
) -> list[TrialSummary]:
    """Number, state, objective, duration, start and ``retry_of`` of a study's trials in number order
    (reruns last): six columns, no params or metrics, so a 100k-trial study's chart reads stay fast."""
    stmt = select(
        Trial.number, Trial.state, Trial.objective, Trial.duration_s, Trial.started_at, Trial.retry_of
    ).where(Trial.study_id == study_id)
    if states is not None:
        stmt = stmt.where(Trial.state.in_([TrialState(s).value for s in states]))
    if not include_reruns:
        stmt = stmt.where(Trial.kind == TrialKind.SWEEP.value)
    if retry_of is not None:
        stmt = stmt.where(Trial.retry_of == retry_of)
    stmt = stmt.order_by(Trial.number.is_(None), Trial.number, Trial.id)
    return [TrialSummary(n, TrialState(s), o, d, t, r) for n, s, o, d, t, r in conn.execute(stmt)]


def trial_totals(conn: Connection, study_id: int) -> tuple[datetime | None, float]:
    """The first start and the summed duration (s) of a study's sweep trials, in one aggregate."""
    stmt = select(func.min(Trial.started_at), func.sum(Trial.duration_s)).where(
        Trial.study_id == study_id, Trial.kind == TrialKind.SWEEP.value
    )
    first, total = conn.execute(stmt).one()
    return first, float(total or 0.0)


def objective_series(
    conn: Connection, study_id: int, maximize: bool, max_points: int
) -> tuple[int, list[tuple[int, str, float, float | None]]]:
    """(total, rows): finished (complete or pruned) sweep trials with an objective, in number order, as
    (number, state, objective, best complete objective so far); at most ``max_points`` evenly spread rows
    (every ``ceil(total / (max_points - 1))``-th, and the last) are sent back. The running best is a window function, so it covers the rows left out too."""
    done = [TrialState.COMPLETE.value, TrialState.PRUNED.value]
    complete = case((Trial.state == TrialState.COMPLETE.value, Trial.objective))
    running = (func.max if maximize else func.min)(complete).over(order_by=Trial.number, rows=(None, 0))
    inner = (
        select(
            Trial.number,
            Trial.state,
            Trial.objective,
            running.label("best"),
            func.row_number().over(order_by=Trial.number).label("rn"),
            func.count().over().label("total"),
        )
        .where(Trial.study_id == study_id, Trial.kind == TrialKind.SWEEP.value)
        .where(Trial.state.in_(done), Trial.objective.is_not(None))
        .subquery()
    )
    step = max(1, max_points - 1)
    every = (inner.c.total + (step - 1)) // step
    stmt = (
        select(inner.c.number, inner.c.state, inner.c.objective, inner.c.best, inner.c.total)
        .where(((inner.c.rn - 1) % every == 0) | (inner.c.rn == inner.c.total))
        .order_by(inner.c.number)
    )
    rows = conn.execute(stmt).all()
    total = int(rows[0][4]) if rows else 0
    return total, [(n, st, o, b) for n, st, o, b, _ in rows]


class SummaryReads:
    """The store methods over the reads above that need no params or metrics (mixed into the SQL store)."""

    _tx: Callable[..., AbstractContextManager[Connection]]

    def trial_summaries(
        self, study_id: int, states: Sequence[TrialState] | None = None, retry_of: int | None = None
    ) -> list[TrialSummary]:
        with self._tx() as conn:
            return trial_summaries(conn, study_id, states, False, retry_of)

    def trial_totals(self, study_id: int) -> tuple[datetime | None, float]:
        with self._tx() as conn:
            return trial_totals(conn, study_id)

    def objective_series(
        self, study_id: int, maximize: bool, max_points: int
    ) -> tuple[int, list[tuple[int, str, float, float | None]]]:
        with self._tx() as conn:
            return objective_series(conn, study_id, maximize, max_points)
