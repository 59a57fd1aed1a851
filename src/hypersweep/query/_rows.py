"""Rows of the read side: a trial as a JSON-able row, leaderboards, the studies list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hypersweep.errors import SweepNotFoundError, UsageError
from hypersweep.records import Direction, StudyRecord, TrialRecord, TrialState
from hypersweep.spec import flatten
from hypersweep.store import StoreReader

__all__ = ["leaderboard_rows", "study_rows", "trial_row"]


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def trial_row(study: StudyRecord, t: TrialRecord) -> dict[str, Any]:
    return {
        "study": study.name,
        "number": t.number,
        "state": t.state.value,
        "params": flatten(t.params)
        if any(isinstance(v, Mapping) for v in t.params.values())
        else dict(t.params),
        "metrics": dict(t.metrics),
        "objective": t.objective,
        "seed": t.seed,
        "started_at": _iso(t.started_at),
        "finished_at": _iso(t.finished_at),
        "duration_s": t.duration_s,
    }


def leaderboard_rows(
    st: StoreReader,
    names: Sequence[str],
    *,
    top: int | None = 10,
    include_pruned: bool = False,
    where: str | None = None,
    sort: str | None = None,
    order: str | None = None,
) -> list[dict[str, Any]]:
    """Ranked trials of one or more studies (names may be globs) as JSON-able rows.

    Studies rank together when they share the objective metric. ``where`` is the filter language of
    docs/semantics.md section 5 (parsed, then bound; never pasted into SQL); a filter on ``state`` reaches
    trials of any state, otherwise complete (and with ``include_pruned`` pruned) trials are listed.
    ``sort`` defaults to the objective in its goal's direction; another key sorts ascending unless
    ``order`` is ``desc``. Missing values sort last.
    """
    from hypersweep.store import parse_filter
    from hypersweep.store._filter import Field, fields_used

    studies: list[StudyRecord] = []
    for n in names:
        found = st.list_studies(n) if any(c in n for c in "*?[") else [st.get_study(n)]
        if not found:
            raise SweepNotFoundError(f"no study matches {n!r} in {st.url_masked}")
        studies.extend(s for s in found if s.study_id not in {x.study_id for x in studies})
    metrics = {s.objective_metric for s in studies}
    if len(metrics) > 1 and sort is None:
        raise UsageError(
            "these studies do not share an objective metric ("
            + ", ".join(f"{s.name}: {s.objective_metric}" for s in studies)
            + "); rank them separately, or pass --sort METRIC to rank by a metric they all report"
        )
    if order not in (None, "asc", "desc"):
        raise UsageError(f"--order must be asc or desc, not {order!r}")
    expr = parse_filter(where) if where else None
    states: list[TrialState] | None = (
        [TrialState.COMPLETE, TrialState.PRUNED] if include_pruned else [TrialState.COMPLETE]
    )
    if expr is not None and Field("column", "state") in fields_used(expr, columns=True):
        states = None
    first = studies[0]
    direction = {"asc": Direction.MINIMIZE, "desc": Direction.MAXIMIZE}.get(order or "")
    by_id = {s.study_id: s for s in studies}
    rows = st.top_trials(
        [s.study_id for s in studies],
        metric=first.objective_metric if len(metrics) == 1 else None,
        direction=direction,
        limit=top,
        states=states,
        where=expr,
        sort=sort,
    )
    return [trial_row(by_id[t.study_id], t) for t in rows]


def study_rows(st: StoreReader, pattern: str | None = None) -> list[dict[str, Any]]:
    out = []
    studies = st.list_studies(pattern)
    ids = [s.study_id for s in studies]
    all_counts, bests = st.studies_counts(ids), st.best_objectives(ids)  # one read each, not two per study
    for s in studies:
        counts = all_counts[s.study_id]
        out.append(
            {
                "name": s.name,
                "strategy": s.strategy,
                "status": s.status.value,
                "end_reason": s.end_reason.value if s.end_reason else None,
                "trials_complete": counts.get(TrialState.COMPLETE, 0),
                "trials_pruned": counts.get(TrialState.PRUNED, 0),
                "trials_failed": counts.get(TrialState.FAILED, 0),
                "trials_running": counts.get(TrialState.RUNNING, 0),
                "trials_interrupted": counts.get(TrialState.INTERRUPTED, 0),
                "budget": s.budget_trials,
                "objective": s.objective_metric,
                "direction": s.direction.value if s.direction else None,
                "best_objective": bests[s.study_id],
                "updated_at": _iso(s.updated_at),
                "tags": dict(s.tags),
            }
        )
    return out
