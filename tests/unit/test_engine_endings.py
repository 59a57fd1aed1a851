"""The engine's endings table (docs/resume.md) on ``FakeExecutor``: real engine, real SQLite store file,
simulated time, no Ray. Each ending: the reason, the study's status, and what the store recorded."""

from __future__ import annotations

import sqlite3
import textwrap

import pytest

from hypersweep.engine import StopReason
from hypersweep.errors import FailureBudgetExceeded, StoreUnavailableError
from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened
from hypersweep.testing import Complete, Crash, Fail, FakeExecutor, Hang, Interrupt, run_study


def spec(body: str) -> str:
    return textwrap.dedent(body)


RANDOM = spec("""
    name: s
    objective: {metric: loss, goal: minimize}
    strategy: random
    seed: 1
    budget: {trials: 6, parallel: 2}
    trial: {function: "fns:quadratic"}
    parameters:
      x: {type: float, low: 0, high: 1}
""")


def ok(t):
    return Complete({"loss": t.params["x"]})


@pytest.fixture
def store(tmp_path):
    with opened(f"sqlite:///{tmp_path / 'hs.db'}", create=True) as st:
        yield st


def trials_of(st, name="s"):
    return st.get_trials(st.get_study(name).study_id, include_reruns=True)


def states(st, name="s"):
    return [t.state for t in trials_of(st, name)]


def test_budget_met_finishes_with_every_trial_complete(store):
    ex = FakeExecutor(ok, workers=2)
    summary = run_study(store, RANDOM, ex)
    assert summary.reason is StopReason.BUDGET and summary.status is StudyStatus.FINISHED
    assert states(store) == [TrialState.COMPLETE] * 6
    assert store.get_study("s").status is StudyStatus.FINISHED
    assert ex.max_running == 2  # `parallel` trials at once, never more
    assert summary.progress.best_value == min(t.params["x"] for t in ex.submitted)


def test_a_finite_space_done_with_failures_is_exhausted_and_says_retry_failed(store):
    text = spec("""
        name: s
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {max_failures: 10}
        trial: {function: "fns:f"}
        parameters:
          x: {type: categorical, values: [1, 2, 3, 4]}
    """)
    summary = run_study(store, text, lambda t: Fail("ValueError: two") if t.params["x"] == 2 else ok(t))
    assert summary.reason is StopReason.EXHAUSTED and summary.status is StudyStatus.INTERRUPTED
    assert any("--retry-failed" in n for n in summary.notes)
    assert summary.failures == ["1 x ValueError: two"]
    # --retry-failed reruns the failed point; then the grid is done
    summary = run_study(store, text, ok, retry_failed=True)
    assert summary.status is StudyStatus.FINISHED
    done = [t for t in trials_of(store) if t.state is TrialState.COMPLETE]
    assert sorted(t.params["x"] for t in done) == [1, 2, 3, 4]


def test_target_reached_finishes_and_interrupts_the_trials_in_flight(store):
    text = spec("""
        name: s
        objective: {metric: loss, goal: minimize, target: 0.06}
        strategy: grid
        budget: {parallel: 2}
        trial: {function: "fns:f"}
        parameters:
          x: {type: categorical, values: [0.4, 0.05, 0.3, 0.2, 0.1]}
    """)
    # 0.05 finishes first; 0.4 (started with it) is still running then
    summary = run_study(store, text, lambda t: Complete({"loss": t.params["x"]}, duration=t.params["x"] * 10))
    assert summary.reason is StopReason.TARGET and summary.status is StudyStatus.FINISHED
    by_x = {t.params["x"]: t.state for t in trials_of(store)}
    assert by_x == {0.4: TrialState.INTERRUPTED, 0.05: TrialState.COMPLETE}


def test_timeout_interrupts_what_runs_and_leaves_nothing_running(store):
    text = RANDOM.replace("trials: 6, parallel: 2", "trials: 100, parallel: 2, timeout: 3s")
    summary = run_study(
        store, text, lambda t: Complete({"loss": 1.0}, duration=1.0 if t.submitted < 4 else 5.0)
    )
    assert summary.reason is StopReason.TIMEOUT and summary.status is StudyStatus.INTERRUPTED
    got = states(store)
    assert got.count(TrialState.COMPLETE) == 4 and got.count(TrialState.INTERRUPTED) == 2
    assert TrialState.RUNNING not in got


def test_stop_requested_lets_running_trials_finish_and_cancels_those_queued_ahead(store):
    def handler(t):
        if t.submitted == 3:  # `hypersweep stop` from another process, while trial 3 is submitted
            store.update_study(store.get_study("s").study_id, stop_requested=True)
        return Complete({"loss": 1.0}, duration=2.0)

    text = RANDOM.replace("trials: 6, parallel: 2", "trials: 50, parallel: 2")
    ex = FakeExecutor(handler, workers=2)
    summary = run_study(store, text, ex, queue_ahead=2)
    assert summary.reason is StopReason.STOPPED and summary.status is StudyStatus.INTERRUPTED
    got = states(store)
    assert TrialState.RUNNING not in got
    assert got.count(TrialState.INTERRUPTED) >= 1  # queued ahead, never started: cancelled
    assert got.count(TrialState.COMPLETE) >= 2  # the running ones finished normally
    assert len(got) < 50


def test_stop_after_the_budget_is_met_finishes(store):
    def handler(t):
        if t.submitted == 5:
            store.update_study(store.get_study("s").study_id, stop_requested=True)
        return ok(t)

    summary = run_study(store, RANDOM, handler)
    assert summary.status is StudyStatus.FINISHED


def test_first_three_trials_failing_alike_stop_the_run(store):
    text = RANDOM.replace("trials: 6, parallel: 2", "trials: 50, parallel: 1")
    with pytest.raises(FailureBudgetExceeded, match="first 3 trials all failed") as exc:
        run_study(store, text, lambda t: Fail("RuntimeError: broken trial function\ntraceback..."))
    assert "broken trial function" in str(exc.value)
    assert len(trials_of(store)) == 3
    assert store.get_study("s").status is StudyStatus.INTERRUPTED


def test_first_three_failing_differently_do_not_stop_the_run(store):
    text = RANDOM.replace("trials: 6, parallel: 2", "trials: 5, parallel: 1")
    summary = run_study(store, text, lambda t: Fail(f"E{t.submitted}") if t.submitted < 3 else ok(t))
    assert summary.reason is StopReason.BUDGET
    assert states(store).count(TrialState.FAILED) == 3


def test_max_failures_exceeded_stops_the_run(store):
    text = RANDOM.replace("trials: 6, parallel: 2", "trials: 20, parallel: 1, max_failures: 2")
    with pytest.raises(FailureBudgetExceeded, match="max_failures=2"):
        run_study(store, text, lambda t: Fail("RuntimeError: no"))
    assert store.get_study("s").status is StudyStatus.INTERRUPTED
    assert states(store).count(TrialState.FAILED) == 3


def test_retries_rerun_a_failed_trials_params_and_link_the_rerun(store):
    text = spec("""
        name: s
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {retries: 1, max_failures: 10}
        trial: {function: "fns:f"}
        parameters:
          x: {type: categorical, values: [1, 2]}
    """)
    seen: set[float] = set()

    def fails_once(t):
        if t.params["x"] in seen:
            return ok(t)
        seen.add(t.params["x"])
        return Fail("RuntimeError: first attempt")

    summary = run_study(store, text, fails_once)
    assert summary.status is StudyStatus.FINISHED
    trials = trials_of(store)
    assert [t.state for t in trials].count(TrialState.FAILED) == 2
    assert [t.state for t in trials].count(TrialState.COMPLETE) == 2
    by_id = {t.trial_id: t for t in trials}
    for t in trials:
        if t.state is TrialState.COMPLETE:
            assert by_id[t.retry_of].state is TrialState.FAILED and by_id[t.retry_of].params == t.params


def test_a_crashed_worker_fails_its_trial_and_the_run_goes_on(store):
    summary = run_study(store, RANDOM, lambda t: Crash("node lost") if t.submitted == 1 else ok(t))
    assert summary.reason is StopReason.BUDGET
    failed = [t for t in trials_of(store) if t.state is TrialState.FAILED]
    assert len(failed) == 1 and "node lost" in failed[0].error


def test_ctrl_c_interrupts_running_trials_and_resume_reruns_them_first(store):
    ex = FakeExecutor(lambda t: Interrupt(after=0.5) if t.submitted == 2 else ok(t), workers=2)
    with pytest.raises(KeyboardInterrupt):
        run_study(store, RANDOM, ex)
    got = trials_of(store)
    assert TrialState.RUNNING not in [t.state for t in got]
    interrupted = [t for t in got if t.state is TrialState.INTERRUPTED]
    assert interrupted and store.get_study("s").status is StudyStatus.INTERRUPTED
    ex2 = FakeExecutor(ok, workers=2)
    summary = run_study(store, RANDOM, ex2)
    assert summary.status is StudyStatus.FINISHED
    assert {t.params["x"] for t in ex2.submitted[: len(interrupted)]} == {t.params["x"] for t in interrupted}
    assert sum(t.state is TrialState.COMPLETE for t in trials_of(store)) == 6


def test_a_hung_trial_is_cancelled_by_the_timeout(store):
    text = RANDOM.replace("trials: 6, parallel: 2", "trials: 6, parallel: 1, timeout: 10s")
    ex = FakeExecutor(lambda t: Hang(), workers=1)
    summary = run_study(store, text, ex)
    assert summary.reason is StopReason.TIMEOUT
    assert states(store) == [TrialState.INTERRUPTED] and ex.cancels


def test_pruning_by_reports_ends_bad_trials_pruned(store):
    text = spec("""
        name: s
        objective: {metric: loss, goal: minimize}
        strategy: grid
        early_stopping: {type: median, warmup_steps: 0, startup_trials: 2}
        budget: {parallel: 1}
        trial: {function: "fns:f"}
        parameters:
          q: {type: categorical, values: [1.0, 2.0, 50.0]}
    """)

    def handler(t):
        q = t.params["q"]
        return Complete({"loss": q}, reports=[("loss", s, q) for s in range(5)])

    summary = run_study(store, text, handler)
    assert summary.status is StudyStatus.FINISHED
    by_q = {t.params["q"]: t for t in trials_of(store)}
    assert by_q[1.0].state is TrialState.COMPLETE and by_q[2.0].state is TrialState.COMPLETE
    assert by_q[50.0].state is TrialState.PRUNED
    assert [p.step for p in store.get_history(by_q[50.0].trial_id)] == [0]


def test_store_unavailable_past_the_deadline_stops_the_run_resumably(tmp_path):
    db = tmp_path / "hs.db"
    url = f"sqlite:///{db}?busy_timeout=0.02"
    locker: list[sqlite3.Connection] = []

    def handler(t):
        if t.submitted == 2 and not locker:  # another writer takes the file and keeps it
            con = sqlite3.connect(db, isolation_level=None)
            con.execute("BEGIN EXCLUSIVE")
            locker.append(con)
        return Complete({"loss": t.params["x"]}, duration=5.0 if t.submitted == 1 else 1.0)

    with opened(url, create=True) as st:
        ex = FakeExecutor(handler, workers=2)
        with pytest.raises(StoreUnavailableError, match="resume it with `hypersweep resume s`"):
            run_study(st, RANDOM, ex, store_retry_s=0.2)
        # nothing could record the trials in flight: the long one and the one whose start was due
        assert ex.cancels == [ex.submitted[1].key, ex.submitted[2].key]
        locker[0].execute("COMMIT")
        locker[0].close()
        # the stopped driver could not release its lease: the resume takes it over once it expired
        summary = run_study(st, RANDOM, ok, lease_ttl_s=0.0)
        assert summary.status is StudyStatus.FINISHED
        assert sum(t.state is TrialState.COMPLETE for t in trials_of(st)) == 6


def test_timeout_counts_from_the_start_not_from_the_queue(store):
    """Trials queued behind two hung ones wait (recorded `waiting`, no start) and get their whole
    timeout once a worker takes them: only the hung ones time out."""
    text = spec("""
        name: s
        objective: {metric: loss, goal: minimize}
        strategy: random
        seed: 1
        budget: {trials: 4, parallel: 2}
        trial: {function: "fns:f", timeout: 60}
        parameters:
          x: {type: float, low: 0, high: 1}
    """)
    seen: list[list[TrialState]] = []

    def handler(t):
        if t.submitted == 3:  # all four handed over; two of them queued behind the hung ones
            seen.append([x.state for x in trials_of(store)])
        return Hang() if t.submitted < 2 else Complete({"loss": t.params["x"]}, duration=50.0)

    ex = FakeExecutor(handler, workers=2)
    run_study(store, text, ex, queue_ahead=2)
    assert seen and seen[0].count(TrialState.WAITING) >= 2
    by_number = sorted(trials_of(store), key=lambda t: t.number)
    hung, queued = by_number[:2], by_number[2:4]
    assert [t.state for t in hung] == [TrialState.FAILED] * 2
    assert all("timed out" in (t.error or "") for t in hung)
    assert [t.state for t in queued] == [TrialState.COMPLETE] * 2  # 50 s each, within their 60 s
    for t in queued:  # started when a hung one was killed, 60 s after it started
        assert (t.started_at - hung[0].started_at).total_seconds() == pytest.approx(60.0)
        assert t.duration_s == pytest.approx(50.0)
