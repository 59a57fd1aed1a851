"""Write ``rev<REVISION>.db``: a SQLite store at the current schema head holding a fixed, small data set.

Run once when a schema revision is released, and commit the file; never regenerate an old one:

    .venv/bin/python tests/data/stores/make_store_asset.py

``tests/store/test_migrations.py`` opens (and, for old revisions, upgrades) every such file and checks
that the data below reads back.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from hypersweep.records import (
    ArtifactRecord,
    Direction,
    EnvironmentRecord,
    MetricPoint,
    NewStudy,
    NewTrial,
    StudyStatus,
    TrialKind,
    TrialOutcome,
    TrialState,
)
from hypersweep.store import open_store
from hypersweep.store._sql._engine import HEAD_REVISION

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
ENV = EnvironmentRecord(
    hash="a" * 64,
    python_version="3.11.7",
    python_implementation="CPython",
    os="Debian GNU/Linux 12 (bookworm)",
    kernel="Linux 6.1.0 x86_64",
    cpu_model="AMD EPYC 7763",
    cpu_count=8,
    ml_packages={"numpy": "2.1.0", "scikit-learn": "1.5.0"},
    packages={"numpy": "2.1.0", "scikit-learn": "1.5.0", "hypersweep": "0.1.0"},
    gpus=({"index": 0, "name": "NVIDIA A100", "memory_mb": 40960},),
    gpu_driver="550.54.15",
    cuda_version="12.4",
)


def build(path: Path) -> None:
    with open_store(f"sqlite:///{path}", create=True) as store:
        study = store.create_study(
            NewStudy(
                name="digits-svc",
                spec_text="name: digits-svc\nobjective: {metric: val_accuracy, goal: maximize}\n",
                spec_hash="b" * 64,
                spec_format="native",
                strategy="tpe",
                objective_metric="val_accuracy",
                direction=Direction.MAXIMIZE,
                budget_trials=3,
                seed=42,
                workdir="/srv/sweeps",
                spec_path="/srv/sweeps/digits.yaml",
                description="SVC on digits",
                git_commit="c" * 40,
                git_dirty=False,
            )
        )
        store.set_tags(study.study_id, {"team": "vision"})
        trials = store.create_trials(
            study.study_id,
            [
                NewTrial(params={"C": 1.0, "kernel": "rbf", "shrinking": True}, seed=1),
                NewTrial(params={"C": 10.0, "kernel": "poly", "degree": 3}, seed=2),
            ],
        )
        store.finish_trials(
            [
                TrialOutcome(
                    trial_id=trials[0].trial_id,
                    state=TrialState.COMPLETE,
                    metrics={"val_accuracy": 0.97, "train_time": 1.5},
                    objective=0.97,
                    history=(MetricPoint("val_accuracy", 0, 0.9), MetricPoint("val_accuracy", 1, 0.97)),
                    started_at=T0,
                    finished_at=T0.replace(second=35),
                    environment=ENV,
                    worker_host="node-1",
                    gpu_ids=("0",),
                    artifacts=(ArtifactRecord("model.pkl", "file:///srv/a/model.pkl", 1234, "d" * 64),),
                ),
                TrialOutcome(
                    trial_id=trials[1].trial_id,
                    state=TrialState.FAILED,
                    started_at=T0,
                    finished_at=T0.replace(second=6),
                    error="ValueError: degree",
                    environment=ENV,
                ),
            ]
        )
        store.create_trials(
            study.study_id,
            [
                NewTrial(
                    params={"C": 1.0, "kernel": "rbf"},
                    seed=1,
                    kind=TrialKind.RERUN,
                    retry_of=trials[0].trial_id,
                )
            ],
        )
        store.update_study(study.study_id, status=StudyStatus.FINISHED)


if __name__ == "__main__":
    out = Path(__file__).with_name(f"rev{HEAD_REVISION}.db")
    if out.exists() and "--force" not in sys.argv:
        sys.exit(f"{out} exists: a released revision's asset is never regenerated (--force to override)")
    out.unlink(missing_ok=True)
    build(out)
    for extra in (
        out.with_name(out.name + "-wal"),
        out.with_name(out.name + "-shm"),
        out.with_name(out.name + ".lock"),
    ):
        extra.unlink(missing_ok=True)
    print(f"wrote {out}")
