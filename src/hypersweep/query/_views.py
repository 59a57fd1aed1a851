"""Views for the dashboard (and anyone else): a study's overview, chart series, timelines, comparisons.

Each returns JSON-able dicts and lists, computed from the store's records only. Long series are
downsampled on the server (``max_points``), and say so (``downsampled``), so a 100k-trial study never
sends its whole history to a page.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from hypersweep.errors import UsageError
from hypersweep.query._rows import latest_trials, leaderboard_rows, study_rows, trial_row
from hypersweep.query._show import show_trial
from hypersweep.records import Direction, StudyRecord, TrialRecord, TrialState, is_system_metric
from hypersweep.store import Store

__all__ = [
    "MAX_POINTS",
    "compare_trials",
    "download_artifact",
    "learning_curves",
    "objective_history",
    "studies_overview",
    "study_overview",
    "timeline",
    "trial_detail",
]

MAX_POINTS = 10_000  # above this, chart series are downsampled on the server


def _elapsed_s(s: StudyRecord, first_start: datetime | None) -> float | None:
    if first_start is None or s.updated_at is None:
        return None
    return max(0.0, (s.updated_at - first_start).total_seconds())


def _progress(row: Mapping[str, Any], elapsed_s: float | None) -> dict[str, Any]:
    done = row["trials_complete"] + row["trials_pruned"]
    budget = row["budget"]
    fraction = min(1.0, done / budget) if budget else None
    eta = None
    if budget and done and elapsed_s is not None and row["status"] == "running" and done < budget:
        eta = elapsed_s / done * (budget - done)
    return {"done": done, "fraction": fraction, "eta_s": eta, "elapsed_s": elapsed_s}


def _first_start(st: Store, s: StudyRecord) -> datetime | None:
    first = st.top_trials([s.study_id], sort="number", limit=1, states=None)
    return first[0].started_at if first else None


def _tag_matches(tags: Mapping[str, str], wanted: str | None) -> bool:
    if not wanted:
        return True
    key, sep, value = wanted.partition("=")
    if key not in tags:
        return False
    return not sep or fnmatch.fnmatchcase(tags[key], value)


def studies_overview(
    st: Store, pattern: str | None = None, *, tag: str | None = None
) -> list[dict[str, Any]]:
    """``studies`` rows plus progress against the budget (fraction, ETA, elapsed); ``pattern`` is a name
    glob, ``tag`` ``KEY`` or ``KEY=VALUE-GLOB``."""
    out = []
    by_name = {s.name: s for s in st.list_studies(pattern)}
    for row in study_rows(st, pattern):
        if not _tag_matches(row["tags"], tag):
            continue
        s = by_name[row["name"]]
        row = dict(row)
        row.update(_progress(row, _elapsed_s(s, _first_start(st, s))))
        out.append(row)
    return out


def study_overview(st: Store, name: str) -> dict[str, Any]:
    """One study: its ``studies`` row with progress, compute time, the sweep file, notes, tags, the lease
    (is a driver running it now?) and the environment of its best trial."""
    s = st.get_study(name)
    rows = [r for r in study_rows(st, _literal(name)) if r["name"] == s.name]
    row = dict(rows[0])
    first_start, row["compute_s"] = st.trial_totals(s.study_id)
    row.update(_progress(row, _elapsed_s(s, first_start)))
    row["spec_text"] = s.spec_text
    row["spec_format"] = s.spec_format
    row["description"] = s.description
    row["notes"] = s.notes
    row["seed"] = s.seed
    row["git_commit"] = s.git_commit
    row["launched_by"] = s.launched_by
    lease = st.get_lease(s.study_id)
    row["live"] = lease is not None and not lease.expired
    row["driver"] = (
        {"host": lease.host, "pid": lease.pid} if lease is not None and not lease.expired else None
    )
    best = leaderboard_rows(st, [_literal(s.name)], top=1) if s.objective_metric else []
    row["best"] = best[0] if best else None
    row["environment"] = show_trial(st, s.name, best[0]["number"])["environment"] if best else None
    return row


def _literal(name: str) -> str:
    """``name`` as a glob that matches only itself."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _downsample(n: int, max_points: int) -> list[int]:
    """Indexes of at most ``max_points`` evenly spread items of ``n`` (first and last kept)."""
    if n <= max_points:
        return list(range(n))
    step = (n - 1) / (max_points - 1)
    return sorted({round(i * step) for i in range(max_points)})


def objective_history(st: Store, name: str, *, max_points: int = MAX_POINTS) -> dict[str, Any]:
    """Objective per finished trial in number order, with the best so far (complete trials only)."""
    s = st.get_study(name)
    total, rows = st.objective_series(s.study_id, s.direction is Direction.MAXIMIZE, max_points)
    return {
        "objective": s.objective_metric,
        "direction": s.direction.value if s.direction else None,
        "total": total,
        "downsampled": len(rows) < total,
        "number": [r[0] for r in rows],
        "value": [r[2] for r in rows],
        "state": [r[1] for r in rows],
        "best": [r[3] for r in rows],
    }


def learning_curves(
    st: Store, name: str, *, metric: str | None = None, max_trials: int = 200, max_points: int = 500
) -> dict[str, Any]:
    """Per-step values of ``metric`` (default: the objective) for the most recent ``max_trials`` trials
    that reported it; pruned trials are marked by their state."""
    s = st.get_study(name)
    metric = metric or s.objective_metric
    if metric is None:
        return {"metric": None, "curves": [], "total": 0, "shown": 0}
    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.FAILED)
    counts = st.study_counts(s.study_id)
    shown = latest_trials(st, s.study_id, states, max_trials)  # a 100k-trial study reads only these
    histories = st.get_histories([t.trial_id for t in shown])
    curves = []
    for t in shown:
        pts = [p for p in histories.get(t.trial_id, ()) if p.name == metric]
        if not pts:
            continue
        keep = _downsample(len(pts), max_points)
        curves.append(
            {
                "number": t.number,
                "state": t.state.value,
                "step": [pts[i].step for i in keep],
                "value": [pts[i].value for i in keep],
            }
        )
    return {
        "metric": metric,
        "curves": curves,
        "total": sum(counts.get(x, 0) for x in states),
        "shown": len(shown),
    }


def _worker(t: TrialRecord) -> str:
    where = t.worker_host or "?"
    if t.gpu_ids:
        where += " gpu " + ",".join(t.gpu_ids)
    return where


def timeline(st: Store, name: str, *, max_trials: int = 2_000) -> dict[str, Any]:
    """Start and end of the most recent ``max_trials`` trials, per worker (host and GPUs)."""
    s = st.get_study(name)
    states = [x for x in TrialState if x is not TrialState.WAITING]  # a waiting trial has not started
    counts = st.study_counts(s.study_id)
    shown = [t for t in latest_trials(st, s.study_id, states, max_trials) if t.started_at is not None]
    now = datetime.now(UTC)
    return {
        "total": sum(counts.get(x, 0) for x in states),
        "shown": len(shown),
        "bars": [
            {
                "number": t.number,
                "state": t.state.value,
                "worker": _worker(t),
                "start": t.started_at.isoformat() if t.started_at else None,
                "end": (t.finished_at or now).isoformat(),
            }
            for t in shown
        ],
    }


def _diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": k, "value": a.get(k), "other": b.get(k)}
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ]


def trial_detail(st: Store, name: str, number: int) -> dict[str, Any]:
    """``show`` of one trial plus how it differs from the study's best trial (params and final metrics)."""
    row = show_trial(st, name, number)
    best = leaderboard_rows(st, [_literal(row["study"])], top=1)
    row["best_number"] = best[0]["number"] if best else None
    if best and best[0]["number"] != number:
        row["diff_from_best"] = {
            "params": _diff(row["params"], best[0]["params"]),
            "metrics": _diff(row["metrics"], best[0]["metrics"]),
        }
    else:
        row["diff_from_best"] = None
    return row


def compare_trials(st: Store, refs: Sequence[tuple[str, int]], *, max_points: int = 500) -> dict[str, Any]:
    """Trials picked from one or more studies: their rows, their curves (every non-system metric) and a
    table of the params and final metrics that differ between them."""
    if not refs:
        raise UsageError("pick at least one trial to compare (study and number)")
    rows, curves = [], []
    for study_name, number in refs:
        s = st.get_study(study_name)
        t = st.get_trial(s.study_id, number)
        rows.append(trial_row(s, t))
        series: dict[str, list[tuple[int, float]]] = {}
        for p in st.get_history(t.trial_id):
            if not is_system_metric(p.name):
                series.setdefault(p.name, []).append((p.step, p.value))
        for metric, pts in series.items():
            keep = _downsample(len(pts), max_points)
            curves.append(
                {
                    "trial": f"{s.name} #{number}",
                    "metric": metric,
                    "step": [pts[i][0] for i in keep],
                    "value": [pts[i][1] for i in keep],
                }
            )
    table = []
    for kind in ("params", "metrics"):
        keys = sorted({k for r in rows for k in r[kind]})
        for k in keys:
            values = [r[kind].get(k) for r in rows]
            same = all(_same(v, values[0]) for v in values)
            table.append({"name": f"{kind}.{k}", "values": values, "differs": not same})
    return {"trials": rows, "curves": curves, "table": table}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def download_artifact(st: Store, name: str, number: int, artifact: str, dest: str) -> str:
    """Fetch the artifact named ``artifact`` of one trial into the folder ``dest``, verified against the
    size and sha256 the store recorded; returns the file's path."""
    from pathlib import Path

    from hypersweep.query._artifacts import download_artifacts, list_artifacts

    kinds = {a.kind for a in list_artifacts(st, name, number) if a.name == artifact}
    if not kinds:
        raise UsageError(f"trial {number} of {name!r} has no artifact named {artifact!r}")
    for path in download_artifacts(st, name, number, dest, kinds=kinds):
        if Path(path).relative_to(dest).as_posix() == artifact:
            return str(path)
    raise UsageError(f"trial {number} of {name!r} has no file artifact named {artifact!r}")
