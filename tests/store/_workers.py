"""Process bodies for the concurrency tests (importable by a ``spawn`` child)."""

from __future__ import annotations

from hypersweep.errors import StudyExistsError
from hypersweep.records import MetricPoint, NewTrial, TrialOutcome, TrialState
from hypersweep.store import open_store

from .conftest import new_study


def create_and_number(url: str, worker: int, batches: int, per_batch: int) -> list[tuple[int, int]]:
    """Race the first open (create=True) and the study creation, then allocate trials in batches and
    finish them. Returns (trial_id, number) pairs."""
    store = open_store(url, create=True)
    try:
        try:
            study = store.create_study(new_study("race"))
        except StudyExistsError:
            study = store.get_study("race")
        out: list[tuple[int, int]] = []
        for b in range(batches):
            trials = store.create_trials(
                study.study_id,
                [NewTrial(params={"w": worker, "b": b, "i": i}, seed=i) for i in range(per_batch)],
            )
            store.add_reports([(t.trial_id, MetricPoint("loss", 0, 1.0)) for t in trials])
            store.finish_trials(
                [
                    TrialOutcome(
                        trial_id=t.trial_id,
                        state=TrialState.COMPLETE,
                        objective=float(worker),
                        metrics={"m": 1.0},
                    )
                    for t in trials
                ]
            )
            out.extend((t.trial_id, t.number) for t in trials)
        return out
    finally:
        store.close()
