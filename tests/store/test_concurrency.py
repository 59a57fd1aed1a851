"""Eight processes racing the first open, study creation and trial numbering of one study."""

from __future__ import annotations

import multiprocessing

from hypersweep.records import TrialState
from hypersweep.store import open_store

from ._workers import create_and_number

PROCESSES, BATCHES, PER_BATCH = 8, 5, 4


def test_concurrent_processes_number_trials_atomically(store_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        results = pool.starmap(
            create_and_number, [(store_url, w, BATCHES, PER_BATCH) for w in range(PROCESSES)]
        )
    total = PROCESSES * BATCHES * PER_BATCH
    numbers = sorted(n for r in results for _, n in r)
    assert numbers == list(range(total))  # unique and gap-free
    with open_store(store_url) as store:
        study = store.get_study("race")
        trials = store.get_trials(study.study_id)
        assert [t.number for t in trials] == list(range(total))  # no lost writes
        assert all(t.state is TrialState.COMPLETE and t.metrics == {"m": 1.0} for t in trials)
        assert {t.trial_id: t.number for t in trials} == {tid: n for r in results for tid, n in r}
        per_worker = {w: sum(1 for t in trials if t.params["w"] == w) for w in range(PROCESSES)}
        assert per_worker == {w: BATCHES * PER_BATCH for w in range(PROCESSES)}
        assert all(len(store.get_history(t.trial_id)) == 1 for t in trials[:10])
