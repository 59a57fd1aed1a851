"""Records of revision 0004 and later (values, directions, feasibility, end reason, the change cursor),
steps at the store's edge and the lease clearing a stop, on every backend."""

from __future__ import annotations

import warnings

import pytest

from hypersweep.records import (
    Direction,
    EndReason,
    MetricPoint,
    NewTrial,
    StudyStatus,
    TrialOutcome,
    TrialState,
)
from hypersweep.store import Store, open_store

from .conftest import new_study


def _new(store: Store, sid: int, n: int = 1) -> list[int]:
    return [
        t.trial_id for t in store.create_trials(sid, [NewTrial(params={"x": i}, seed=i) for i in range(n)])
    ]


def test_values_directions_and_feasible_round_trip(store: Store) -> None:
    study = store.create_study(new_study(directions=(Direction.MAXIMIZE, Direction.MINIMIZE), direction=None))
    assert study.directions == (Direction.MAXIMIZE, Direction.MINIMIZE)
    assert study.direction is Direction.MAXIMIZE
    assert store.get_study(study.name).directions == study.directions
    a, b, c = _new(store, study.study_id, 3)
    store.finish_trials(
        [
            TrialOutcome(a, TrialState.COMPLETE, values=(0.9, 12.0), feasible=True),
            TrialOutcome(b, TrialState.PRUNED, objective=0.5, feasible=False),
            TrialOutcome(c, TrialState.FAILED, values=(float("nan"), 1.0), feasible=True),
        ]
    )
    ta, tb, tc = (store.get_trial_by_id(i) for i in (a, b, c))
    assert (ta.values, ta.objective, ta.feasible) == ((0.9, 12.0), 0.9, True)
    assert (tb.values, tb.objective, tb.feasible) == ((0.5,), 0.5, False)
    assert (tc.values, tc.objective, tc.feasible) == ((None, 1.0), None, None)  # failed: no feasibility
    assert [t.trial_id for t in store.top_trials([study.study_id])] == [a]


def test_single_objective_study_keeps_direction(store: Store) -> None:
    study = store.create_study(new_study())
    assert study.directions == (Direction.MAXIMIZE,)
    (a,) = _new(store, study.study_id)
    store.finish_trials([TrialOutcome(a, TrialState.COMPLETE, objective=0.7)])
    t = store.get_trial_by_id(a)
    assert (t.values, t.objective, t.feasible) == ((0.7,), 0.7, None)


def test_end_reason_written_at_release_and_cleared_by_the_next_run(store: Store) -> None:
    sid = store.create_study(new_study()).study_id
    assert store.get_study_by_id(sid).end_reason is None
    store.acquire_lease(sid, "me", "h", 1)
    store.release_lease(sid, "me", StudyStatus.FINISHED, EndReason.TARGET)
    assert store.get_study_by_id(sid).end_reason is EndReason.TARGET
    store.acquire_lease(sid, "me2", "h", 1)
    assert store.get_study_by_id(sid).end_reason is None
    store.release_lease(sid, "me2", StudyStatus.INTERRUPTED, EndReason.INTERRUPT)
    assert store.get_study_by_id(sid).end_reason is EndReason.INTERRUPT
    store.acquire_lease(sid, "me3", "h", 1)
    store.release_lease(sid, "other", StudyStatus.FINISHED, EndReason.BUDGET)  # not ours: nothing
    assert store.get_study_by_id(sid).end_reason is None


def test_taking_the_lease_clears_stop_requested(store: Store) -> None:
    sid = store.create_study(new_study()).study_id
    store.acquire_lease(sid, "run1", "h", 1)
    assert store.update_study(sid, stop_requested=True).stop_requested
    store.release_lease(sid, "run1", StudyStatus.INTERRUPTED, EndReason.STOP)
    assert store.get_study_by_id(sid).stop_requested  # recorded until a run takes it
    store.acquire_lease(sid, "run2", "h", 1)
    assert not store.get_study_by_id(sid).stop_requested


def test_change_cursor_sees_inserts_and_every_update(store: Store) -> None:
    sid = store.create_study(new_study()).study_id
    other = store.create_study(new_study("other")).study_id
    assert store.trials_changed_since(sid, 0) == ([], 0)
    a, b = _new(store, sid, 2)
    _new(store, other, 1)  # another study's writes are not this study's changes
    changed, c1 = store.trials_changed_since(sid, 0)
    assert [t.trial_id for t in changed] == [a, b] and all(t.state is TrialState.RUNNING for t in changed)
    assert store.trials_changed_since(sid, c1) == ([], c1)
    store.add_reports([(a, MetricPoint("loss", 0, 1.0))])  # history is not a trial-row change
    assert store.trials_changed_since(sid, c1) == ([], c1)
    store.finish_trials([TrialOutcome(a, TrialState.COMPLETE, objective=0.9)])  # running -> complete
    changed, c2 = store.trials_changed_since(sid, c1)
    assert [(t.trial_id, t.state, t.objective) for t in changed] == [(a, TrialState.COMPLETE, 0.9)]
    assert c2 > c1
    store.append_logs({b: "hello\n"})
    changed, c3 = store.trials_changed_since(sid, c2)
    assert [(t.trial_id, t.log_tail) for t in changed] == [(b, "hello\n")] and c3 > c2
    store.mark_interrupted(sid)
    changed, c4 = store.trials_changed_since(sid, c3)
    assert [(t.trial_id, t.state) for t in changed] == [(b, TrialState.INTERRUPTED)] and c4 > c3
    changed, _ = store.trials_changed_since(sid, 0)
    assert sorted(t.trial_id for t in changed) == [a, b]  # each row once, at its latest change
    assert store.trials_changed_since(sid, c4) == ([], c4)


def test_change_cursor_survives_reopen(store_url: str) -> None:
    with open_store(store_url, create=True) as s:
        sid = s.create_study(new_study()).study_id
        _new(s, sid, 1)
        _, cursor = s.trials_changed_since(sid, 0)
    with open_store(store_url) as s:
        assert s.trials_changed_since(sid, cursor) == ([], cursor)
        (b,) = _new(s, sid, 1)
        assert [t.trial_id for t in s.trials_changed_since(sid, cursor)[0]] == [b]


@pytest.mark.parametrize("step", [2**63 - 1, 3_000_000_000])
def test_large_steps_are_stored(store: Store, step: int) -> None:
    sid = store.create_study(new_study()).study_id
    a, b = _new(store, sid, 2)
    store.add_reports([(a, MetricPoint("loss", step, 0.5))])
    store.finish_trials(
        [TrialOutcome(b, TrialState.COMPLETE, objective=1.0, history=(MetricPoint("loss", step, 0.1),))]
    )
    assert [(p.step, p.value) for p in store.get_history(a)] == [(step, 0.5)]
    assert [(p.step, p.value) for p in store.get_history(b)] == [(step, 0.1)]


@pytest.mark.parametrize("step", [2**63, -1, 1e30, 1.5, "3", True, float("inf")])
def test_bad_steps_are_dropped_with_a_warning(store: Store, step: object) -> None:
    sid = store.create_study(new_study()).study_id
    a, b = _new(store, sid, 2)
    bad = MetricPoint("loss", step, 0.5)  # type: ignore[arg-type]
    with pytest.warns(RuntimeWarning, match="is not kept"):
        store.add_reports([(a, bad), (a, MetricPoint("loss", 1, 0.25))])
    with pytest.warns(RuntimeWarning, match="is not kept"):
        store.finish_trials([TrialOutcome(b, TrialState.COMPLETE, objective=1.0, history=(bad,))])
    assert [(p.step, p.value) for p in store.get_history(a)] == [(1, 0.25)]
    assert store.get_history(b) == [] and store.get_trial_by_id(b).state is TrialState.COMPLETE
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.add_reports([(a, MetricPoint("loss", 2, 0.125))])
