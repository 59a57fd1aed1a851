"""A trial queued in the executor is ``waiting`` until its worker starts it: the store's running
trials, the progress's running count and ``started_at`` follow the worker's start, not the submission
(docs/resume.md, trial states). Real engine, real SQLite file, ``FakeExecutor``'s simulated queue."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened
from hypersweep.testing import Complete, FakeExecutor, Hang, run_study

SPEC = textwrap.dedent("""
    name: s
    objective: {metric: loss, goal: minimize}
    strategy: random
    seed: 1
    budget: {trials: 6, parallel: 2}
    trial: {function: "fns:quadratic"}
    parameters:
      x: {type: float, low: 0, high: 1}
""")
EPOCH = datetime(2030, 1, 1, tzinfo=UTC)  # the fake clock's wall time at 0


@pytest.fixture
def store(tmp_path):
    with opened(f"sqlite:///{tmp_path / 'hs.db'}", create=True) as st:
        yield st


def test_trials_queued_behind_long_ones_wait_until_a_worker_starts_them(store):
    def handler(t):  # two long trials hold both workers; the rest queue behind them
        return Complete({"loss": t.params["x"]}, duration=10.0 if t.submitted < 2 else 1.0)

    seen: list[tuple[int, dict[TrialState, int], list[bool]]] = []

    def on_progress(prog):
        study = store.get_study("s")
        trials = store.get_trials(study.study_id)
        counts = {s: sum(t.state is s for t in trials) for s in TrialState}
        seen.append(
            (prog.running, counts, [t.started_at is None for t in trials if t.state is TrialState.WAITING])
        )

    ex = FakeExecutor(handler, workers=2)
    summary = run_study(store, SPEC, ex, queue_ahead=4, on_progress=on_progress)
    assert summary.status is StudyStatus.FINISHED
    mid = [s for s in seen[1:-1] if s[1][TrialState.WAITING]]
    assert mid, "some trials must have been seen queued"
    for running, counts, waiting_unstarted in seen:
        assert running <= 2 and counts[TrialState.RUNNING] <= 2
        assert all(waiting_unstarted)  # a waiting trial has no start time yet
    trials = sorted(store.get_trials(store.get_study("s").study_id), key=lambda t: t.number or 0)
    # the two long trials start at 0; the queued ones start when a worker frees up, one second apart
    starts = [(t.started_at - EPOCH).total_seconds() for t in trials if t.started_at is not None]
    assert starts == [0.0, 0.0, 10.0, 10.0, 11.0, 11.0]
    assert all(t.duration_s == pytest.approx(10.0 if t.number < 2 else 1.0) for t in trials)


def test_a_trial_that_never_started_has_no_start_time(store):
    def handler(t):
        return Hang() if t.submitted < 2 else Complete({"loss": 0.0})

    ex = FakeExecutor(handler, workers=2)
    spec = SPEC.replace("parallel: 2}", "parallel: 2, timeout: 30s}")  # the study's timeout ends the run
    run_study(store, spec, ex, queue_ahead=4)
    trials = store.get_trials(store.get_study("s").study_id)
    assert {t.state for t in trials} == {TrialState.INTERRUPTED}
    started = {t.number: t.started_at for t in trials}
    assert started[0] == started[1] == EPOCH
    queued = [n for n in started if n >= 2]
    assert queued and all(started[n] is None for n in queued)  # queued behind the hung ones, never run
