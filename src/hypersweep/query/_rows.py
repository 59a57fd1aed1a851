"""Rows of the read side: a trial as a JSON-able row, leaderboards, the studies list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hypersweep.errors import SweepNotFoundError, UsageError
from hypersweep.query._pareto import trial_ranks
from hypersweep.records import Direction, StudyRecord, TrialRecord, TrialState
from hypersweep.spec import Constraint, constraints_of, flatten, objective_names
from hypersweep.store import StoreReader

__all__ = ["latest_trials", "leaderboard_rows", "objectives_of", "pareto_size", "study_rows", "trial_row"]


def objectives_of(study: StudyRecord) -> list[tuple[str, Direction]]:
    """The study's objectives in order, as (metric, direction): read from its recorded sweep file (the
    store keeps the first metric's name and every direction)."""
    if study.objective_metric is None or not study.directions:
        return []
    names = list(objective_names(study.spec_text))
    if len(names) != len(study.directions) or names[:1] != [study.objective_metric]:
        names = [study.objective_metric] + [f"objective_{i + 1}" for i in range(1, len(study.directions))]
    return list(zip(names, study.directions, strict=True))


def _several(study: StudyRecord) -> bool:
    return len(study.directions) > 1


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def trial_row(study: StudyRecord, t: TrialRecord) -> dict[str, Any]:
    row = _row(study, t)
    if _several(study):
        row["values"] = dict(zip((m for m, _ in objectives_of(study)), t.values, strict=False))
    return row


def _row(study: StudyRecord, t: TrialRecord) -> dict[str, Any]:
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
    pareto: bool = False,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Ranked trials of one or more studies (names may be globs) as JSON-able rows.

    A study with several objectives lists its complete trials feasible first, then by ``pareto_rank``
    (1 = the non-dominated front), then by the first objective; its rows carry ``pareto_rank``, and
    studies rank together only when they share the objectives (one front across them). ``pareto``
    keeps rank 1 only, on any study (one objective: its best trials).

    Studies rank together when they share the objective metric. ``where`` is the filter language of
    docs/semantics.md section 5 (parsed, then bound; never pasted into SQL); a filter on ``state`` reaches
    trials of any state, otherwise complete (and with ``include_pruned`` pruned) trials are listed.
    ``sort`` defaults to the objective in its goal's direction; another key sorts ascending unless
    ``order`` is ``desc``. Missing values sort last. ``offset`` skips that many rows first (a page).
    """
    from hypersweep.store import parse_filter
    from hypersweep.store._filter import Field, fields_used

    studies: list[StudyRecord] = []
    for n in names:
        found = st.list_studies(n) if any(c in n for c in "*?[") else [st.get_study(n)]
        if not found:
            raise SweepNotFoundError(f"no study matches {n!r} in {st.url_masked}")
        studies.extend(s for s in found if s.study_id not in {x.study_id for x in studies})
    several = any(_several(s) for s in studies)
    if several:
        shapes = {tuple((m, d.value) for m, d in objectives_of(s)) for s in studies}
        if len(shapes) > 1:
            raise UsageError(
                "these studies do not share their objectives ("
                + "; ".join(
                    f"{s.name}: " + (", ".join(f"{m} ({d.value})" for m, d in objectives_of(s)) or "none")
                    for s in studies
                )
                + "); a leaderboard of several objectives ranks one Pareto front: rank them separately"
            )
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
    constrained = {s.study_id: constraints_of(s.spec_text) for s in studies}
    ranked = several or pareto
    rows = st.top_trials(
        [s.study_id for s in studies],
        metric=first.objective_metric if len(metrics) == 1 else None,
        direction=direction,
        limit=None if ranked else top,
        states=states,
        where=expr,
        sort=sort,
        feasible_first=sort is None and any(constrained.values()),
        offset=0 if ranked else offset,
    )
    if not ranked:
        return [_marked(trial_row(by_id[t.study_id], t), t, constrained[t.study_id]) for t in rows]
    if pareto and first.objective_metric is None:
        raise UsageError(f"study {first.name!r} has no objective, so it has no Pareto front")
    # the front is the studies' own: with a filter, rank over all their complete trials, then keep the
    # listed ones
    pool: list[TrialRecord] = list(rows)
    if expr is not None or states != [TrialState.COMPLETE]:
        pool = [
            t
            for s in studies
            for t in st.get_trials(s.study_id, states=[TrialState.COMPLETE], with_metrics=False)
        ]
    ranks = trial_ranks(pool, first.directions)
    if pareto:
        rows = [t for t in rows if ranks.get(t.trial_id) == 1]
    if sort is None:  # feasible first, then rank, then the order of the first objective (the store's)
        position = {t.trial_id: i for i, t in enumerate(rows)}
        rows = sorted(
            rows,
            key=lambda t: (
                t.feasible is False,
                ranks.get(t.trial_id) is None,
                ranks.get(t.trial_id, 0),
                position[t.trial_id],
            ),
        )
    rows = rows[offset:]
    if top is not None:
        rows = rows[:top]
    out = []
    for t in rows:
        row = trial_row(by_id[t.study_id], t)
        row["pareto_rank"] = ranks.get(t.trial_id)
        out.append(_marked(row, t, constrained[t.study_id]))
    return out


def _marked(row: dict[str, Any], t: TrialRecord, constraints: Sequence[Constraint]) -> dict[str, Any]:
    """A constrained study's row says whether the trial is feasible and, if not, why (derived now, from
    its final metrics and the recorded constraints: a missing metric is one reason)."""
    if constraints:
        reasons = [r for r in (c.reason(t.metrics) for c in constraints) if r is not None]
        row["feasible"] = (
            t.feasible if t.feasible is not None else (not reasons if t.state.is_finished else None)
        )
        row["infeasible_because"] = reasons
    return row


def pareto_size(st: StoreReader, s: StudyRecord) -> int:
    """How many complete trials are on the study's Pareto front (rank 1)."""
    trials = st.get_trials(s.study_id, states=[TrialState.COMPLETE], with_metrics=False)
    return sum(1 for r in trial_ranks(trials, s.directions).values() if r == 1)


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
                "objectives": [m for m, _ in objectives_of(s)] if _several(s) else None,
                "pareto_size": pareto_size(st, s) if _several(s) else None,
                "updated_at": _iso(s.updated_at),
                "tags": dict(s.tags),
            }
        )
    return out


def latest_trials(
    st: StoreReader, study_id: int, states: Sequence[TrialState] | None, n: int
) -> list[TrialRecord]:
    """The ``n`` highest-numbered sweep trials in ``states``, in number order (one indexed read)."""
    latest = st.top_trials([study_id], sort="number", direction=Direction.MAXIMIZE, limit=n, states=states)
    return latest[::-1]
