"""The sweep engine on a real local Ray (one cluster for the session) and a real SQLite store."""

from __future__ import annotations

import collections
import itertools
import threading

import pytest

from hypersweep.errors import FailureBudgetExceeded, InsufficientResourcesError
from hypersweep.orchestrate import run_sweep
from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened

pytestmark = pytest.mark.usefixtures("ray_session")


def _trials(url, name):
    with opened(url) as st:
        study = st.get_study(name)
        return study, st.get_trials(study.study_id)


def test_grid_runs_every_point_exactly_once_with_parallel_trials(make_sweep, store_url):
    path = make_sweep("""
        name: grid
        objective: {metric: score, goal: maximize}
        strategy: grid
        budget: {parallel: 2}
        trial: {function: "fns:grid_fn"}
        parameters:
          a: {type: categorical, values: [1, 2, 3]}
          b: {type: int, low: 0, high: 3, step: 1}
    """)
    res = run_sweep(path, store=store_url)
    assert res.status is StudyStatus.FINISHED
    study, trials = _trials(store_url, "grid")
    assert sorted(t.number for t in trials) == list(range(12))
    points = sorted((t.params["a"], t.params["b"]) for t in trials)
    assert points == sorted(itertools.product([1, 2, 3], [0, 1, 2, 3]))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert all(t.objective == t.params["a"] * 10 + t.params["b"] for t in trials)
    assert res.top[0]["params"] == {"a": 3, "b": 3}
    assert trials[0].environment_id is not None and trials[0].worker_host


def test_same_seed_gives_same_params_and_trial_seeds(make_sweep, store_url):
    text = """
        objective: {metric: loss, goal: minimize}
        strategy: random
        seed: 42
        budget: {trials: 8, parallel: 2}
        trial: {function: "fns:quadratic"}
        parameters:
          x: {type: float, low: -10, high: 10}
    """
    path = make_sweep(text)
    run_sweep(path, store=store_url, name="r1")
    run_sweep(path, store=store_url, name="r2")
    _, t1 = _trials(store_url, "r1")
    _, t2 = _trials(store_url, "r2")
    assert [t.params for t in t1] == [t.params for t in t2]
    assert [t.seed for t in t1] == [t.seed for t in t2]
    # the trial saw the seed the store recorded
    assert all(t.metrics["seed"] == t.seed for t in t1)
    assert len({t.params["x"] for t in t1}) == 8


def test_a_raising_trial_is_recorded_failed_and_the_sweep_goes_on(make_sweep, store_url):
    path = make_sweep("""
        name: raising
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {parallel: 2}
        trial: {function: "fns:raises"}
        parameters:
          x: {type: categorical, values: [0.1, 0.9, 0.2, 0.3]}
    """)
    res = run_sweep(path, store=store_url)
    _, trials = _trials(store_url, "raising")
    failed = [t for t in trials if t.state is TrialState.FAILED]
    assert len(failed) == 1 and failed[0].params == {"x": 0.9}
    assert "ValueError: x too large" in failed[0].error
    assert "Traceback" in failed[0].error
    assert sum(t.state is TrialState.COMPLETE for t in trials) == 3
    assert res.summary.progress.failed == 1


@pytest.mark.parametrize("fn, words", [("segfault", "worker process died"), ("exits", "worker process died")])
def test_a_crashing_worker_fails_the_trial_after_one_retry(make_sweep, store_url, fn, words):
    path = make_sweep(f"""
        name: crash
        objective: {{metric: loss, goal: minimize}}
        strategy: grid
        budget: {{parallel: 2}}
        trial: {{function: "fns:{fn}"}}
        parameters:
          x: {{type: categorical, values: [0.1, 0.9, 0.2]}}
    """)
    run_sweep(path, store=store_url)
    _, trials = _trials(store_url, "crash")
    states = {t.params["x"]: t.state for t in trials}
    assert states == {0.1: TrialState.COMPLETE, 0.9: TrialState.FAILED, 0.2: TrialState.COMPLETE}
    failed = next(t for t in trials if t.state is TrialState.FAILED)
    assert words in failed.error


def test_missing_or_nan_objective_fails_the_trial(make_sweep, store_url):
    for fn in ("no_objective", "nan_objective"):
        path = make_sweep(f"""
            name: {fn}
            objective: {{metric: loss, goal: minimize}}
            strategy: grid
            budget: {{max_failures: 5}}
            trial: {{function: "fns:{fn}"}}
            parameters:
              x: {{type: categorical, values: [1]}}
        """)
        run_sweep(path, store=store_url)
        _, trials = _trials(store_url, fn)
        assert trials[0].state is TrialState.FAILED
        assert "loss" in trials[0].error


def test_median_pruning_stops_bad_function_trials(make_sweep, store_url):
    path = make_sweep("""
        name: prune-fn
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {parallel: 1}
        trial: {function: "fns:curve"}
        early_stopping: {type: median, warmup_steps: 2, startup_trials: 3}
        parameters:
          quality: {type: categorical, values: [2.0, 1.5, 1.0, 0.001, 0.002]}
    """)
    run_sweep(path, store=store_url)
    study, trials = _trials(store_url, "prune-fn")
    by_q = {t.params["quality"]: t for t in trials}
    assert all(by_q[q].state is TrialState.COMPLETE for q in (2.0, 1.5, 1.0))
    assert by_q[0.001].state is TrialState.PRUNED and by_q[0.002].state is TrialState.PRUNED
    with opened(store_url) as st:
        hist = [p for p in st.get_history(by_q[0.001].trial_id) if p.name == "loss"]
    assert 3 <= len(hist) < 20  # stopped early, its history kept
    assert by_q[0.001].objective == pytest.approx(hist[-1].value)


def test_median_pruning_stops_bad_command_trials(make_sweep, store_url):
    path = make_sweep("""
        name: prune-cmd
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {parallel: 1}
        trial: {command: [python, curve_cmd.py, "{quality}"]}
        early_stopping: {type: median, warmup_steps: 2, startup_trials: 2}
        parameters:
          quality: {type: categorical, values: [2.0, 1.0, 0.001]}
    """)
    run_sweep(path, store=store_url)
    _, trials = _trials(store_url, "prune-cmd")
    by_q = {t.params["quality"]: t for t in trials}
    assert by_q[2.0].state is TrialState.COMPLETE and by_q[1.0].state is TrialState.COMPLETE
    assert by_q[0.001].state is TrialState.PRUNED
    assert '"step": 0' in by_q[2.0].log_tail


def test_failure_budget_stops_the_sweep(make_sweep, store_url):
    path = make_sweep("""
        name: fail-budget
        objective: {metric: loss, goal: minimize}
        strategy: random
        budget: {trials: 20, parallel: 1, max_failures: 2}
        trial: {function: "fns:always_raises"}
        parameters:
          x: {type: float, low: 0, high: 1}
    """)
    with pytest.raises(FailureBudgetExceeded, match="max_failures=2"):
        run_sweep(path, store=store_url)
    study, trials = _trials(store_url, "fail-budget")
    assert study.status is StudyStatus.INTERRUPTED
    assert sum(t.state is TrialState.FAILED for t in trials) == 3


def test_first_three_failures_with_the_same_error_stop_the_sweep(make_sweep, store_url):
    path = make_sweep("""
        name: first-three
        objective: {metric: loss, goal: minimize}
        strategy: random
        budget: {trials: 50, parallel: 1}
        trial: {function: "fns:always_raises"}
        parameters:
          x: {type: float, low: 0, high: 1}
    """)
    with pytest.raises(FailureBudgetExceeded, match="first 3 trials all failed") as exc:
        run_sweep(path, store=store_url)
    assert "broken trial function" in str(exc.value)
    _, trials = _trials(store_url, "first-three")
    assert len(trials) == 3


def test_an_impossible_resource_request_fails_fast(make_sweep, store_url):
    path = make_sweep("""
        name: impossible
        objective: {metric: loss, goal: minimize}
        strategy: random
        budget: {trials: 2}
        trial: {function: "fns:quadratic"}
        resources: {cpus: 1, gpus: 1, accelerator_type: H100}
        parameters:
          x: {type: float, low: 0, high: 1}
    """)
    with pytest.raises(InsufficientResourcesError, match="gpus: 1"):
        run_sweep(path, store=store_url)
    path = make_sweep(
        """
        name: impossible2
        objective: {metric: loss, goal: minimize}
        strategy: random
        budget: {trials: 2}
        trial: {function: "fns:quadratic"}
        resources: {cpus: 1, custom: {fast_disk: 1}}
        parameters:
          x: {type: float, low: 0, high: 1}
    """,
        name="s2.yaml",
    )
    with pytest.raises(InsufficientResourcesError, match="fast_disk"):
        run_sweep(path, store=store_url)


def test_metric_target_ends_the_sweep(make_sweep, store_url):
    path = make_sweep("""
        name: target
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {parallel: 1}
        trial: {function: "fns:raises"}
        parameters:
          x: {type: categorical, values: [0.4, 0.05, 0.3, 0.2, 0.1]}
    """)
    # native files put the target under objective
    path.write_text(path.read_text().replace("goal: minimize}", "goal: minimize, target: 0.06}"))
    res = run_sweep(path, store=store_url)
    assert res.summary.reason.name == "TARGET"
    assert res.status is StudyStatus.FINISHED
    _, trials = _trials(store_url, "target")
    assert len([t for t in trials if t.state is TrialState.COMPLETE]) == 2


def test_very_short_trials_share_tasks_and_a_crash_in_a_shared_task_is_blamed_on_its_trial_alone(
    make_sweep, store_url
):
    """Trials measured far shorter than a Ray task's own cost run several to a task (grid and random);
    when such a task dies, each of its trials runs again alone: only the one that kills its worker is
    recorded failed, the others complete, none twice."""
    path = make_sweep("""
        name: chunked
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {parallel: 2}
        trial: {function: "fns:task_marker"}
        parameters:
          x: {type: int, low: 0, high: 79, step: 1}
    """)
    run_sweep(path, store=store_url)
    _, trials = _trials(store_url, "chunked")
    assert sorted(t.number for t in trials) == list(range(80))
    failed = [t for t in trials if t.state is TrialState.FAILED]
    assert [t.params["x"] for t in failed] == [70]
    assert "worker process died" in (failed[0].error or "")
    complete = [t for t in trials if t.state is TrialState.COMPLETE]
    assert len(complete) == 79 and all(t.objective == t.params["x"] for t in complete)
    per_task = collections.Counter(t.metrics["task"] for t in complete)
    # once measured as short, trials shared tasks (how many to a task depends on this machine's speed)
    assert max(per_task.values()) >= 2 and len(per_task) < len(complete)


def test_reports_made_before_the_hub_starts_are_kept_and_later_ones_stream(make_sweep, store_url):
    """Without a pruner the driver starts its report hub only once a trial has run for a second; what a
    trial reported before that is held by the trial and arrives all the same, in order."""
    path = make_sweep("""
        name: early
        objective: {metric: loss, goal: minimize}
        strategy: random
        budget: {trials: 2, parallel: 2}
        trial: {function: "fns:early_reports"}
        parameters:
          x: {type: float, low: 0, high: 1}
    """)
    run_sweep(path, store=store_url)
    _, trials = _trials(store_url, "early")
    with opened(store_url) as st:
        for t in trials:
            assert t.state is TrialState.COMPLETE
            loss = [(p.step, p.value) for p in st.get_history(t.trial_id) if p.name == "loss"]
            assert loss == [(s, 1.0 / (s + 1)) for s in range(5)]


def test_sys_exit_in_a_function_trial_ends_that_trial_only(make_sweep, store_url, tmp_path):
    """sys.exit(0) ends a trial normally, sys.exit(5) fails it; each trial runs once (no task retry) and the
    sweep goes on."""
    path = make_sweep("""
        name: exits
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {parallel: 2}
        trial: {function: "fns:calls_sys_exit"}
        parameters:
          x: {type: int, low: 0, high: 3, step: 1}
    """)
    run_sweep(path, store=store_url)
    _, trials = _trials(store_url, "exits")
    by_x = {t.params["x"]: t for t in trials}
    assert sorted(by_x) == [0, 1, 2, 3]
    assert [by_x[x].state for x in (0, 1, 3)] == [TrialState.COMPLETE] * 3
    assert by_x[1].objective == 1.0  # its reported value counts
    assert by_x[2].state is TrialState.FAILED and "sys.exit(5)" in (by_x[2].error or "")
    runs = (tmp_path / "runs.log").read_text().split()
    assert sorted(runs) == ["0", "1", "2", "3"]  # every trial ran once


def test_trials_queued_behind_hung_ones_get_their_whole_timeout(make_sweep, store_url):
    """The timeout counts from the worker's start, not from submission: two trials that hang hold both
    CPUs and time out; the two queued behind them run afterwards, within their own timeout."""
    path = make_sweep("""
        name: queued
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {parallel: 2}
        trial: {function: "fns:sleeper", timeout: 8}
        parameters:
          sleep: {type: categorical, values: [60, 61, 1.5, 2]}
          x: {value: 1.0}
    """)
    seen: list[collections.Counter] = []
    done = threading.Event()

    def watch() -> None:  # what `studies` and the dashboard see while the hung trials run
        while not done.wait(0.5):
            try:
                with opened(store_url) as st:
                    seen.append(collections.Counter(st.study_counts(st.get_study("queued").study_id)))
            except Exception:  # noqa: BLE001 - not created yet
                pass

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        run_sweep(path, store=store_url)
    finally:
        done.set()
        watcher.join()
    # queued trials are waiting, not running, until a worker takes them
    assert any(c[TrialState.WAITING] == 2 and c[TrialState.RUNNING] == 2 for c in seen), seen
    _, trials = _trials(store_url, "queued")
    by_sleep = {t.params["sleep"]: t for t in trials}
    hung = [by_sleep[60], by_sleep[61]]
    queued = [by_sleep[1.5], by_sleep[2]]
    assert [t.state for t in hung] == [TrialState.FAILED] * 2, [t.error for t in hung]
    assert all("timed out" in (t.error or "") for t in hung)
    assert [t.state for t in queued] == [TrialState.COMPLETE] * 2, [t.error for t in queued]
    first_start = min(t.started_at for t in hung)
    for t in queued:  # a CPU freed only when a hung trial was killed, about 8 s into it
        assert (t.started_at - first_start).total_seconds() >= 7.0
        assert t.duration_s is not None and t.duration_s < 8.0
