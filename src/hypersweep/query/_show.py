"""Read-side views of one trial or study: ``show`` and ``export``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hypersweep.errors import UsageError
from hypersweep.query._rows import trial_row
from hypersweep.records import TrialState, is_system_metric
from hypersweep.store import StoreReader

__all__ = ["export_study", "show_trial", "trial_log"]


def show_trial(st: StoreReader, name: str, number: int) -> dict[str, Any]:
    """Everything recorded about one trial, JSON-able."""
    study = st.get_study(name)
    t = st.get_trial(study.study_id, number)
    row = trial_row(study, t)
    history: dict[str, list[dict[str, float]]] = {}
    for p in st.get_history(t.trial_id):
        history.setdefault(p.name, []).append({"step": p.step, "value": p.value})
    row["history"] = {k: v for k, v in history.items() if not is_system_metric(k)}
    row["system_metrics"] = {k: v for k, v in history.items() if is_system_metric(k)}
    env = st.get_environment(t.environment_id) if t.environment_id is not None else None
    row["environment"] = _environment(env) if env is not None else None
    row["artifacts"] = [asdict(a) for a in st.get_artifacts(t.trial_id)]
    row["error"] = t.error
    row["log_tail"] = t.log_tail
    row["worker_host"] = t.worker_host
    row["ray_node_id"] = t.ray_node_id
    row["gpu_ids"] = list(t.gpu_ids)
    row["retry_of"] = None
    if t.retry_of is not None:
        prev = st.get_trial_by_id(t.retry_of)
        row["retry_of"] = prev.number
    row["retried_by"] = [x.number for x in st.trial_summaries(study.study_id, retry_of=t.trial_id)]
    return row


def _environment(env: Any) -> dict[str, Any]:
    return {
        "hash": env.hash,
        "python": f"{env.python_implementation} {env.python_version}",
        "os": env.os,
        "kernel": env.kernel,
        "cpu": env.cpu_model,
        "cpu_count": env.cpu_count,
        "gpus": [dict(g) for g in env.gpus],
        "gpu_driver": env.gpu_driver,
        "cuda": env.cuda_version,
        "packages": dict(env.ml_packages),
    }


def export_study(st: StoreReader, name: str, out: str | os.PathLike[str], fmt: str) -> Path:
    """Write every trial of a study (params, metrics, environment summary) as csv, parquet or json."""
    import pandas as pd

    study = st.get_study(name)
    rows = []
    envs: dict[int, Mapping[str, Any]] = {}
    for t in st.get_trials(study.study_id, include_reruns=True):
        row = trial_row(study, t)
        flat = {k: v for k, v in row.items() if k not in ("params", "metrics", "values")}
        flat["kind"] = t.kind.value
        flat.update({f"params.{k}": v for k, v in row["params"].items()})
        flat.update({f"values.{k}": v for k, v in (row.get("values") or {}).items()})
        flat.update({f"metrics.{k}": v for k, v in row["metrics"].items()})
        flat["error"] = (t.error or "").strip().splitlines()[0] if t.error else None
        if t.environment_id is not None:
            if t.environment_id not in envs:
                envs[t.environment_id] = st.get_environment(t.environment_id).summary()
            flat.update(
                {
                    f"env.{k}": (str(v) if isinstance(v, list) else v)
                    for k, v in envs[t.environment_id].items()
                }
            )
        rows.append(flat)
    df = pd.DataFrame(rows)
    path = Path(out)
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "parquet":
        for col in df.columns:  # mixed-type params (categoricals of lists) go as text
            if df[col].dtype == object and df[col].map(type).nunique() > 1:
                df[col] = df[col].map(lambda v: None if v is None else str(v))
        df.to_parquet(path, index=False)
    elif fmt == "json":
        df.to_json(path, orient="records", indent=2, date_format="iso")
    else:
        raise UsageError(f"unknown export format {fmt!r}: use csv, parquet or json")
    return path


def trial_log(st: StoreReader, name: str, number: int) -> tuple[str, TrialState]:
    """The stdout/stderr tail kept for trial ``number`` of study ``name``, and the trial's state."""
    study = st.get_study(name)
    t = st.get_trial(study.study_id, number)
    return t.log_tail or "", t.state
