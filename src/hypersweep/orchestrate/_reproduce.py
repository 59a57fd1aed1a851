"""``reproduce``: rerun a trial from scratch with the same params and seed, then show what differs.

The rerun is a kind apart (docs/semantics.md section 4): a ``rerun`` trial linked to its original, outside
the budget, the numbering and the leaderboard; it needs no lease, so it can run while the sweep does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypersweep.engine import EnvironmentCache, build_payload, outcome_from_result
from hypersweep.errors import UsageError
from hypersweep.executors import ResourceRequest, TaskCrashed, TaskStarted, make_executor
from hypersweep.provenance import code_file, file_hash, git_info, hash_data, spec_file_hash
from hypersweep.records import (
    EnvironmentRecord,
    MetricPoint,
    NewTrial,
    TrialKind,
    TrialOutcome,
    TrialState,
    is_system_metric,
)
from hypersweep.spec import parse_spec
from hypersweep.store import opened as open_store

__all__ = ["MetricDiff", "ReproduceResult", "reproduce"]


@dataclass(frozen=True)
class MetricDiff:
    name: str
    original: float | None
    rerun: float | None
    abs_diff: float | None
    rel_diff: float | None
    within: bool


@dataclass(frozen=True)
class ReproduceResult:
    """What ``reproduce`` found. ``reproduced`` is True when the rerun completed and every user metric is
    within tolerance (``sys/*`` metrics are shown, never compared)."""

    study: str
    number: int
    rerun_trial_id: int
    rerun_state: TrialState
    rerun_error: str | None
    tolerance: float
    metrics: list[MetricDiff]
    system_metrics: list[MetricDiff]
    history_divergence: dict[str, int]  # metric -> first step where the histories differ
    environment: list[tuple[str, Any, Any]]  # (what, original, now) for what changed
    warnings: list[str] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return self.rerun_state is TrialState.COMPLETE and all(m.within for m in self.metrics)


def _diff(name: str, a: float | None, b: float | None, tol: float) -> MetricDiff:
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        same = a == b or (a is not None and b is not None and math.isnan(a) and math.isnan(b))
        return MetricDiff(name, a, b, None, None, bool(same))
    d = abs(a - b)
    rel = d / abs(a) if a != 0 else (0.0 if d == 0 else math.inf)
    return MetricDiff(name, a, b, d, rel, d <= tol or rel <= tol)


def _history(points: list[MetricPoint]) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for p in points:
        out.setdefault(p.name, {})[p.step] = p.value
    return out


def _divergence(a: list[MetricPoint], b: list[MetricPoint], tol: float) -> dict[str, int]:
    ha, hb = _history(a), _history(b)
    out: dict[str, int] = {}
    for name in sorted(set(ha) | set(hb)):
        if is_system_metric(name):
            continue
        sa, sb = ha.get(name, {}), hb.get(name, {})
        for step in sorted(set(sa) | set(sb)):
            if step not in sa or step not in sb or not _diff(name, sa[step], sb[step], tol).within:
                out[name] = step
                break
    return out


def _env_diff(a: EnvironmentRecord | None, b: EnvironmentRecord | None) -> list[tuple[str, Any, Any]]:
    if a is None or b is None:
        return [("environment", "recorded" if a else "not recorded", "recorded" if b else "not recorded")]
    out: list[tuple[str, Any, Any]] = []
    for what, x, y in (
        (
            "python",
            f"{a.python_implementation} {a.python_version}",
            f"{b.python_implementation} {b.python_version}",
        ),
        ("os", f"{a.os} ({a.kernel})", f"{b.os} ({b.kernel})"),
        ("gpus", [g.get("name") for g in a.gpus], [g.get("name") for g in b.gpus]),
        ("cuda", a.cuda_version, b.cuda_version),
        ("gpu driver", a.gpu_driver, b.gpu_driver),
    ):
        if x != y:
            out.append((what, x, y))
    for pkg in sorted(set(a.packages) | set(b.packages)):
        va, vb = a.packages.get(pkg), b.packages.get(pkg)
        if va != vb:
            out.append((f"package {pkg}", va, vb))
    return out


def reproduce(
    name: str,
    number: int,
    *,
    store: str | None = None,
    tolerance: float = 1e-6,
    executor: str = "ray",
    address: str | None = None,
    timeout_s: float | None = None,
) -> ReproduceResult:
    """Rerun trial ``number`` of study ``name`` from scratch and compare it with the original."""
    if tolerance < 0:
        raise UsageError("--tolerance must be >= 0")
    with open_store(store) as st:
        study = st.get_study(name)
        orig = st.get_trial(study.study_id, number)
        spec = parse_spec(study.spec_text, file=study.spec_path, workdir=study.workdir, check_files=False)
        warnings: list[str] = []
        env_rows: list[tuple[str, Any, Any]] = []
        commit, dirty, diff_hash = git_info(study.workdir)
        for what, was, now in (
            ("git commit", study.git_commit, commit),
            ("git dirty", study.git_dirty, dirty),
            ("uncommitted diff", study.git_diff_hash, diff_hash),
            ("sweep file", study.spec_hash, spec_file_hash(study.spec_path) or study.spec_hash),
        ):
            if was != now:
                env_rows.append((what, was, now))
        code = code_file(spec.trial, study.workdir)
        code_now = file_hash(code) if code else None
        if study.code_hash is not None and code_now != study.code_hash:
            env_rows.append(("trial code", study.code_hash, code_now))
            warnings.append(f"the trial's code changed since the study ran ({code or 'file missing'})")
        data_now = hash_data(list(study.data_hashes), study.workdir) if study.data_hashes else {}
        for path, was in study.data_hashes.items():
            if data_now.get(path) != was:
                env_rows.append((f"data {path}", was, data_now.get(path)))
                warnings.append(f"data file {path} changed since the study ran")

        [rerun] = st.create_trials(
            study.study_id,
            [
                NewTrial(
                    params=dict(orig.params), seed=orig.seed, retry_of=orig.trial_id, kind=TrialKind.RERUN
                )
            ],
        )
        points: list[MetricPoint] = []

        def on_report(key: int, pts: list[tuple[str, int, float]], log: str = "") -> bool:
            points.extend(MetricPoint(n, s, v) for n, s, v in pts)
            return False

        ex = make_executor(executor, address=address, working_dir=study.workdir, store_url=st.url_masked)
        outcome: TrialOutcome
        try:
            r = spec.resources
            ex.check_resources(
                ResourceRequest(float(r.cpus), float(r.gpus), r.accelerator_type, dict(r.custom))
            )
            ex.set_report_handler(on_report, sync=False)
            environments = EnvironmentCache()  # this rerun's
            payload = build_payload(spec, study, rerun, sync=False, environment_token=environments.token)
            ex.submit(
                rerun.trial_id,
                payload,
                ResourceRequest(float(r.cpus), float(r.gpus), r.accelerator_type, dict(r.custom)),
                spec.trial.timeout_s,
            )
            deadline = time.monotonic() + timeout_s if timeout_s else math.inf
            results: list[Any] = []
            while not results and time.monotonic() < deadline:
                results = [e for e in ex.wait(0.5) if not isinstance(e, TaskStarted)]  # a result
            if not results:
                ex.cancel(rerun.trial_id)
                results = [TaskCrashed(rerun.trial_id, "reproduce timed out", cancelled=False)]
            res = results[0]
            if isinstance(res, TaskCrashed):
                outcome = TrialOutcome(
                    rerun.trial_id, TrialState.FAILED, error=res.reason, finished_at=datetime.now(UTC)
                )
            else:
                outcome = outcome_from_result(
                    rerun.trial_id,
                    res.value,
                    environments,
                    spec.objective.metric if spec.objective else None,
                    objective_metrics=tuple(o.metric for o in spec.objectives),
                )
            outcome = TrialOutcome(**{**outcome.__dict__, "history": tuple(points) + tuple(outcome.history)})
        finally:
            ex.close()
        st.finish_trials([outcome])
        done = st.get_trial_by_id(rerun.trial_id)

        metrics: list[MetricDiff] = []
        sysm: list[MetricDiff] = []
        for m in sorted(set(orig.metrics) | set(done.metrics)):
            d = _diff(m, orig.metrics.get(m), done.metrics.get(m), tolerance)
            (sysm if is_system_metric(m) else metrics).append(d)
        hist_a = st.get_history(orig.trial_id)
        hist_b = st.get_history(done.trial_id)
        env_a = st.get_environment(orig.environment_id) if orig.environment_id is not None else None
        env_b = outcome.environment or (
            st.get_environment(done.environment_id) if done.environment_id is not None else None
        )
        env_rows.extend(_env_diff(env_a, env_b))
        return ReproduceResult(
            study=study.name,
            number=number,
            rerun_trial_id=done.trial_id,
            rerun_state=done.state,
            rerun_error=done.error,
            tolerance=tolerance,
            metrics=metrics,
            system_metrics=sysm,
            history_divergence=_divergence(hist_a, hist_b, tolerance),
            environment=env_rows,
            warnings=warnings,
        )
