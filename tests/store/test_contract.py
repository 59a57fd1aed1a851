"""The Store contract (``hypersweep/store/_base.py``), run against every backend."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from hypersweep.errors import StudyExistsError, StudyLockedError, SweepNotFoundError
from hypersweep.records import (
    ArtifactRecord,
    Direction,
    EnvironmentRecord,
    MetricPoint,
    NewTrial,
    StudyStatus,
    TrialKind,
    TrialOutcome,
    TrialState,
)
from hypersweep.store import Store, open_store

from .conftest import new_study

ENV = EnvironmentRecord(
    hash="e" * 64,
    python_version="3.11.7",
    python_implementation="CPython",
    os="Debian GNU/Linux 12",
    kernel="Linux 6.1 x86_64",
    cpu_model="AMD EPYC",
    cpu_count=2,
    ml_packages={"numpy": "2.0.0"},
    packages={"numpy": "2.0.0", "hypersweep": "0.1.0"},
    gpus=({"index": 0, "name": "H100", "memory_mb": 81559},),
    gpu_driver="550.54",
    cuda_version="12.4",
)


def _trials(store: Store, study_id: int, n: int, **kw) -> list:  # type: ignore[no-untyped-def]
    return store.create_trials(
        study_id, [NewTrial(params={"lr": 10.0**-i, "kernel": "rbf"}, seed=i, **kw) for i in range(n)]
    )


def _complete(trial_id: int, objective: float | None, **kw) -> TrialOutcome:  # type: ignore[no-untyped-def]
    metrics = {"val_accuracy": objective} if objective is not None else {}
    return TrialOutcome(
        trial_id=trial_id, state=TrialState.COMPLETE, objective=objective, metrics=metrics, **kw
    )


# -- studies --------------------------------------------------------------------------------------------
def test_create_load_list(store: Store) -> None:
    a = store.create_study(new_study("digits-svc", description="SVC", git_commit="abc", git_dirty=True))
    assert a.name == "digits-svc" and a.direction is Direction.MAXIMIZE and a.description == "SVC"
    assert a.created_at.tzinfo is not None and a.created_at.utcoffset() == timedelta(0)
    assert abs(a.created_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert a.status is StudyStatus.INTERRUPTED and a.lease is None and a.git_dirty is True
    store.create_study(new_study("digits-rf"))
    store.create_study(new_study("mnist-cnn", direction=Direction.MINIMIZE, objective_metric="val_loss"))
    assert store.get_study("digits-svc") == a
    assert store.get_study_by_id(a.study_id) == a
    assert [s.name for s in store.list_studies()] == ["digits-svc", "digits-rf", "mnist-cnn"]
    assert [s.name for s in store.list_studies("digits-*")] == ["digits-svc", "digits-rf"]
    assert [s.name for s in store.list_studies("*-[rs]?")] == ["digits-rf"]
    assert store.list_studies("DIGITS-*") == []  # globs are case-sensitive
    assert [s.name for s in store.list_studies("digits_svc")] == []  # '_' is not a wildcard
    with pytest.raises(StudyExistsError):
        store.create_study(new_study("digits-svc"))
    with pytest.raises(SweepNotFoundError, match="nope"):
        store.get_study("nope")


def test_update_tags_delete(store: Store) -> None:
    s = store.create_study(new_study())
    u = store.update_study(
        s.study_id, status=StudyStatus.FINISHED, budget_trials=50, notes="n", stop_requested=True
    )
    assert (u.status, u.budget_trials, u.notes, u.stop_requested) == (StudyStatus.FINISHED, 50, "n", True)
    assert u.updated_at >= s.updated_at
    with pytest.raises(ValueError):
        store.update_study(s.study_id, seed=3)
    store.create_study(new_study("other"))
    with pytest.raises(StudyExistsError):
        store.update_study(s.study_id, name="other")
    store.set_tags(s.study_id, {"team": "vision", "owner": "ana"})
    store.set_tags(s.study_id, {"owner": "bo"})
    assert store.get_study_by_id(s.study_id).tags == {"team": "vision", "owner": "bo"}
    trials = _trials(store, s.study_id, 3)
    store.finish_trials(
        [_complete(trials[0].trial_id, 0.5, environment=ENV, history=(MetricPoint("loss", 0, 1.0),))]
    )
    store.create_trials(s.study_id, [NewTrial(params={}, seed=0, retry_of=trials[0].trial_id)])
    store.delete_study(s.study_id)
    with pytest.raises(SweepNotFoundError):
        store.get_study("digits-svc")
    with pytest.raises(SweepNotFoundError):
        store.get_trial_by_id(trials[0].trial_id)
    assert [x.name for x in store.list_studies()] == ["other"]


# -- trials ---------------------------------------------------------------------------------------------
def test_numbering_and_reruns(store: Store) -> None:
    s = store.create_study(new_study())
    first = _trials(store, s.study_id, 3)
    assert [t.number for t in first] == [0, 1, 2]
    assert all(t.state is TrialState.RUNNING and t.started_at is not None for t in first)
    rerun = store.create_trials(
        s.study_id, [NewTrial(params={"lr": 1.0}, seed=0, kind=TrialKind.RERUN, retry_of=first[0].trial_id)]
    )
    assert rerun[0].number is None
    more = _trials(store, s.study_id, 2)
    assert [t.number for t in more] == [3, 4]
    other = store.create_study(new_study("other"))
    assert [t.number for t in _trials(store, other.study_id, 2)] == [0, 1]
    assert [t.number for t in store.get_trials(s.study_id)] == [0, 1, 2, 3, 4]
    with_reruns = store.get_trials(s.study_id, include_reruns=True)
    assert [t.number for t in with_reruns] == [0, 1, 2, 3, 4, None]
    assert with_reruns[-1].kind is TrialKind.RERUN and with_reruns[-1].retry_of == first[0].trial_id
    assert store.study_counts(s.study_id)[TrialState.RUNNING] == 5  # reruns excluded
    assert store.get_trial(s.study_id, 1).params == {"lr": 0.1, "kernel": "rbf"}
    with pytest.raises(SweepNotFoundError):
        store.get_trial(s.study_id, 99)
    with pytest.raises(SweepNotFoundError):
        store.create_trials(12345, [NewTrial(params={}, seed=0)])


def test_finish_writes_everything_and_is_immutable(store: Store) -> None:
    s = store.create_study(new_study())
    t0, t1, t2 = _trials(store, s.study_id, 3)
    started = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    art = ArtifactRecord(
        name="model.pt", uri="file:///tmp/model.pt", size=10, sha256="a" * 64, kind="checkpoint"
    )
    outcomes = [
        TrialOutcome(
            trial_id=t0.trial_id,
            state=TrialState.COMPLETE,
            metrics={"val_accuracy": 0.9, "sys/gpu_util": 50.0, "nan_metric": math.nan},
            objective=0.9,
            history=(MetricPoint("val_accuracy", 1, 0.8), MetricPoint("val_accuracy", 0, 0.5)),
            started_at=started,
            finished_at=started + timedelta(seconds=90),
            environment=ENV,
            worker_host="node-1",
            ray_node_id="abc",
            gpu_ids=("0", "1"),
            artifacts=(art,),
            log_tail="done",
        ),
        TrialOutcome(trial_id=t1.trial_id, state=TrialState.FAILED, error="Traceback...\nValueError: boom"),
    ]
    assert store.finish_trials(outcomes) == []
    r0 = store.get_trial_by_id(t0.trial_id)
    assert r0.state is TrialState.COMPLETE and r0.objective == 0.9
    assert r0.metrics["val_accuracy"] == 0.9 and r0.metrics["sys/gpu_util"] == 50.0
    assert math.isnan(r0.metrics["nan_metric"])
    assert (
        r0.started_at == started and r0.finished_at == started + timedelta(seconds=90) and r0.duration_s == 90
    )
    assert (r0.worker_host, r0.ray_node_id, r0.gpu_ids, r0.log_tail) == ("node-1", "abc", ("0", "1"), "done")
    assert store.get_artifacts(t0.trial_id) == [art]
    assert store.get_environment(r0.environment_id) == ENV
    r1 = store.get_trial_by_id(t1.trial_id)
    assert r1.state is TrialState.FAILED and "boom" in r1.error and r1.finished_at is not None
    # finished trials are immutable: a second finish is reported, not applied
    again = [_complete(t0.trial_id, 0.1), _complete(t1.trial_id, 0.2), _complete(t2.trial_id, 0.3)]
    assert sorted(store.finish_trials(again)) == sorted([t0.trial_id, t1.trial_id])
    assert store.get_trial_by_id(t0.trial_id).objective == 0.9
    assert store.get_trial_by_id(t1.trial_id).state is TrialState.FAILED
    assert store.get_trial_by_id(t2.trial_id).objective == 0.3
    # the same trial twice in one batch: the first wins, the second is reported
    (t3,) = _trials(store, s.study_id, 1)
    assert store.finish_trials([_complete(t3.trial_id, 0.4), _complete(t3.trial_id, 0.5)]) == [t3.trial_id]
    assert store.get_trial_by_id(t3.trial_id).objective == 0.4
    # reports for a finished trial are dropped
    store.add_reports([(t0.trial_id, MetricPoint("val_accuracy", 5, 0.0))])
    assert [p.step for p in store.get_history(t0.trial_id)] == [0, 1]
    assert store.mark_interrupted(s.study_id, [t0.trial_id]) == []
    with pytest.raises(SweepNotFoundError):
        store.finish_trials([_complete(987654, 1.0)])


def test_history_order_and_last_value_wins(store: Store) -> None:
    s = store.create_study(new_study())
    (t,) = _trials(store, s.study_id, 1)
    store.add_reports([(t.trial_id, MetricPoint("loss", step, 1.0 / (step + 1))) for step in (3, 1, 2)])
    store.add_reports([(t.trial_id, MetricPoint("acc", 0, 0.1)), (t.trial_id, MetricPoint("loss", 0, 9.0))])
    store.add_reports([(t.trial_id, MetricPoint("loss", 2, 0.25)), (t.trial_id, MetricPoint("loss", 2, 0.2))])
    store.add_reports([])
    store.finish_trials(
        [_complete(t.trial_id, 0.5, history=(MetricPoint("loss", 4, 0.1), MetricPoint("loss", 3, 0.22)))]
    )
    hist = store.get_history(t.trial_id)
    assert [(p.name, p.step, p.value) for p in hist] == [
        ("acc", 0, 0.1),
        ("loss", 0, 9.0),
        ("loss", 1, 0.5),
        ("loss", 2, 0.2),
        ("loss", 3, 0.22),
        ("loss", 4, 0.1),
    ]


def test_environment_dedup(store: Store) -> None:
    s = store.create_study(new_study())
    trials = _trials(store, s.study_id, 4)
    store.finish_trials([_complete(t.trial_id, 0.1, environment=ENV) for t in trials[:2]])
    store.finish_trials([_complete(trials[2].trial_id, 0.2, environment=ENV)])
    other = EnvironmentRecord(**{**ENV.__dict__, "hash": "f" * 64, "packages": {"numpy": "1.26"}})
    store.finish_trials([_complete(trials[3].trial_id, 0.3, environment=other)])
    ids = [store.get_trial_by_id(t.trial_id).environment_id for t in trials]
    assert ids[0] == ids[1] == ids[2] != ids[3]
    assert store.get_environment(ids[3]).packages == {"numpy": "1.26"}


def test_environment_dedup_across_store_instances(store_url: str) -> None:
    a, b = open_store(store_url, create=True), open_store(store_url)
    try:
        s = a.create_study(new_study())
        t0, t1 = _trials(a, s.study_id, 2)
        a.finish_trials([_complete(t0.trial_id, 0.1, environment=ENV)])
        b.finish_trials([_complete(t1.trial_id, 0.1, environment=ENV)])
        assert a.get_trial_by_id(t0.trial_id).environment_id == b.get_trial_by_id(t1.trial_id).environment_id
    finally:
        a.close()
        b.close()


def test_mark_interrupted(store: Store) -> None:
    s = store.create_study(new_study())
    trials = _trials(store, s.study_id, 4)
    rerun = store.create_trials(s.study_id, [NewTrial(params={}, seed=0, kind=TrialKind.RERUN)])[0]
    store.add_reports([(trials[0].trial_id, MetricPoint("loss", 0, 1.0))])
    store.finish_trials([_complete(trials[3].trial_id, 0.9)])
    changed = store.mark_interrupted(s.study_id, [trials[0].trial_id])
    assert changed == [trials[0].trial_id]
    assert sorted(store.mark_interrupted(s.study_id)) == sorted(t.trial_id for t in trials[1:3])
    assert store.get_trial_by_id(rerun.trial_id).state is TrialState.RUNNING  # resume never touches reruns
    t0 = store.get_trial_by_id(trials[0].trial_id)
    assert t0.state is TrialState.INTERRUPTED and t0.finished_at is not None
    assert store.get_history(t0.trial_id) == [MetricPoint("loss", 0, 1.0)]  # keeps what it reported
    assert store.study_counts(s.study_id)[TrialState.INTERRUPTED] == 3


def test_waiting_trials_start_at_their_workers_time(store: Store) -> None:
    """A trial queued in the executor is waiting (no start) until its worker starts it; a start that
    comes after the trial ended (or for one never waiting) changes nothing."""
    s = store.create_study(new_study())
    a, b, c = _trials(store, s.study_id, 3, state=TrialState.WAITING)
    assert {t.state for t in (a, b, c)} == {TrialState.WAITING} and a.started_at is None
    assert store.study_counts(s.study_id)[TrialState.WAITING] == 3
    cursor = store.change_cursor(s.study_id)
    at = datetime(2031, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    store.finish_trials([_complete(c.trial_id, 0.5, started_at=at, finished_at=at + timedelta(seconds=2))])
    store.start_trials({a.trial_id: at, c.trial_id: at + timedelta(hours=1)})
    ta, tb, tc = (store.get_trial_by_id(t.trial_id) for t in (a, b, c))
    assert ta.state is TrialState.RUNNING and ta.started_at == at
    assert tb.state is TrialState.WAITING and tb.started_at is None
    assert tc.state is TrialState.COMPLETE and tc.started_at == at and tc.duration_s == pytest.approx(2.0)
    changed, _ = store.trials_changed_since(s.study_id, cursor)  # live pages see the start
    assert a.trial_id in {t.trial_id for t in changed}
    store.finish_trials([_complete(a.trial_id, 0.1, finished_at=at + timedelta(seconds=30))])
    assert store.get_trial_by_id(a.trial_id).duration_s == pytest.approx(30.0)  # from the worker's start
    assert store.mark_interrupted(s.study_id) == [b.trial_id]  # a waiting one, like a running one


def test_constrained_top_trials_rank_feasible_first(store: Store) -> None:
    """``feasible_first``: trials not marked infeasible (True, or NULL) first, each group in objective
    order, with limit and offset across the groups."""
    s = store.create_study(new_study())
    trials = _trials(store, s.study_id, 5)
    marks = [(0.9, False), (0.8, True), (0.7, None), (0.95, False), (0.1, True)]
    store.finish_trials(
        [_complete(t.trial_id, o, feasible=f) for t, (o, f) in zip(trials, marks, strict=True)]
    )
    order = [t.number for t in store.top_trials([s.study_id], feasible_first=True)]
    assert order == [1, 2, 4, 3, 0]
    assert [t.number for t in store.top_trials([s.study_id], feasible_first=True, limit=2, offset=2)] == [
        4,
        3,
    ]
    assert [t.number for t in store.top_trials([s.study_id])] == [3, 0, 1, 2, 4]  # unconstrained order
    best = store.best_objectives([s.study_id])[s.study_id]
    assert best == 0.8  # the best objective among trials not marked infeasible


def test_get_trials_filters(store: Store) -> None:
    s = store.create_study(new_study())
    trials = _trials(store, s.study_id, 3)
    store.finish_trials([_complete(trials[1].trial_id, 0.5)])
    done = store.get_trials(s.study_id, states=[TrialState.COMPLETE])
    assert [t.number for t in done] == [1] and done[0].metrics == {"val_accuracy": 0.5}
    assert store.get_trials(s.study_id, with_metrics=False)[1].metrics == {}


# -- leaderboard ----------------------------------------------------------------------------------------
def test_top_trials(store: Store) -> None:
    s = store.create_study(new_study())
    trials = _trials(store, s.study_id, 6)
    objectives = [0.5, None, 0.9, 0.5, 0.7, 0.1]
    store.finish_trials(
        [
            TrialOutcome(
                trial_id=t.trial_id,
                state=TrialState.COMPLETE if i != 5 else TrialState.PRUNED,
                objective=o,
                metrics={"val_accuracy": o, "loss": 1 - i / 10} if o is not None else {},
            )
            for i, (t, o) in enumerate(zip(trials, objectives, strict=True))
        ]
    )
    top = store.top_trials([s.study_id])
    assert [t.number for t in top] == [2, 4, 0, 3, 1]  # maximize, ties by number, missing last
    assert top[0].metrics["val_accuracy"] == 0.9
    assert [t.number for t in store.top_trials([s.study_id], limit=2)] == [2, 4]
    # a page: offset skips the first rows (the missing objective still last), any limit after it
    assert [t.number for t in store.top_trials([s.study_id], limit=2, offset=2)] == [0, 3]
    assert [t.number for t in store.top_trials([s.study_id], offset=3)] == [3, 1]
    assert store.top_trials([s.study_id], limit=5, offset=9) == []
    assert [t.number for t in store.top_trials([s.study_id], direction=Direction.MINIMIZE, limit=3)] == [
        0,
        3,
        4,
    ]
    assert [
        t.number
        for t in store.top_trials([s.study_id], states=[TrialState.COMPLETE, TrialState.PRUNED], limit=6)
    ] == [2, 4, 0, 3, 5, 1]
    by_loss = store.top_trials([s.study_id], metric="loss")
    assert [t.number for t in by_loss] == [4, 3, 2, 0, 1]  # ascending; trial 1 has no loss: last
    assert [
        t.number for t in store.top_trials([s.study_id], metric="loss", direction=Direction.MAXIMIZE, limit=2)
    ] == [0, 2]
    assert [t.number for t in store.top_trials([s.study_id], metric="val_accuracy", limit=1)] == [2]
    assert store.top_trials([s.study_id], limit=0) == [] and store.top_trials([]) == []
    # several studies at once
    s2 = store.create_study(new_study("digits-rf"))
    (u,) = _trials(store, s2.study_id, 1)
    store.finish_trials([_complete(u.trial_id, 0.95)])
    top2 = store.top_trials([s.study_id, s2.study_id], limit=2)
    assert [(t.study_id, t.number) for t in top2] == [(s2.study_id, 0), (s.study_id, 2)]


# -- lease ----------------------------------------------------------------------------------------------
def test_lease_acquire_renew_release(store: Store) -> None:
    s = store.create_study(new_study())
    host = "other-host"  # not this host: no pid check
    store.acquire_lease(s.study_id, "owner-a", host, 111)
    lease = store.get_lease(s.study_id)
    assert lease is not None and (lease.owner, lease.host, lease.pid, lease.expired) == (
        "owner-a",
        host,
        111,
        False,
    )
    assert lease.heartbeat_at.tzinfo is not None
    assert store.get_study_by_id(s.study_id).status is StudyStatus.RUNNING
    store.acquire_lease(s.study_id, "owner-a", host, 111)  # ours already: fine
    with pytest.raises(StudyLockedError) as info:
        store.acquire_lease(s.study_id, "owner-b", "host-b", 222)
    assert info.value.host == host and info.value.pid == 111 and "other-host" in str(info.value)
    assert store.renew_lease(s.study_id, "owner-a") is True
    assert store.renew_lease(s.study_id, "owner-b") is False
    store.release_lease(s.study_id, "owner-b", StudyStatus.FINISHED)  # not ours: no effect
    assert store.get_lease(s.study_id) is not None
    store.release_lease(s.study_id, "owner-a", StudyStatus.FINISHED)
    assert store.get_lease(s.study_id) is None
    assert store.get_study_by_id(s.study_id).status is StudyStatus.FINISHED
    store.acquire_lease(s.study_id, "owner-b", "host-b", 222)


def test_lease_expiry_and_takeover(store: Store) -> None:
    s = store.create_study(new_study())
    store.acquire_lease(s.study_id, "owner-a", "other-host", 111, ttl_s=30)
    with pytest.raises(StudyLockedError):
        store.acquire_lease(s.study_id, "owner-b", "other-host", 222, ttl_s=30)
    time.sleep(0.3)
    assert store.get_lease(s.study_id, ttl_s=0.1).expired is True
    assert store.get_lease(s.study_id, ttl_s=30).expired is False
    store.acquire_lease(s.study_id, "owner-b", "host-b", 222, ttl_s=0.1)  # expired by the DB clock
    assert store.get_lease(s.study_id).owner == "owner-b"
    assert store.renew_lease(s.study_id, "owner-a") is False  # the old driver learns it lost the lease


def test_dead_pid_takeover(store: Store) -> None:
    s = store.create_study(new_study())
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead_pid = proc.pid
    store.acquire_lease(s.study_id, "dead-owner", socket.gethostname(), dead_pid)
    assert store.get_lease(s.study_id).expired is True
    store.acquire_lease(s.study_id, "me", socket.gethostname(), os.getpid())  # taken over at once
    assert store.get_lease(s.study_id).owner == "me"
    # a live process on this host keeps its lease
    with pytest.raises(StudyLockedError):
        store.acquire_lease(s.study_id, "someone", socket.gethostname(), 1)


def test_text_values_are_stored_exactly(store: Store) -> None:
    """Names and values with the characters a bulk format must escape come back unchanged."""
    odd = "tab\there, new\nline, back\\slash, quote ' \" , comma, \\N, ünïcödé ✓, trailing space "
    s = store.create_study(new_study())
    (t,) = store.create_trials(s.study_id, [NewTrial(params={"note": odd, "x": 1.5, odd: "v"}, seed=0)])
    store.add_reports([(t.trial_id, MetricPoint(odd, 0, 1.0)), (t.trial_id, MetricPoint(odd, 0, 2.0))])
    metrics = {"val_accuracy": 0.5, odd: 3.0}
    store.finish_trials(
        [TrialOutcome(trial_id=t.trial_id, state=TrialState.COMPLETE, objective=0.5, metrics=metrics)]
    )
    got = store.get_trial_by_id(t.trial_id)
    assert got.params == {"note": odd, "x": 1.5, odd: "v"}
    assert got.metrics == {"val_accuracy": 0.5, odd: 3.0}
    assert [(p.name, p.step, p.value) for p in store.get_history(t.trial_id)] == [(odd, 0, 2.0)]
