"""Resume, stop, the lease, retries, enqueue and exactly-once accounting (real processes, real stores)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid

import pytest

from hypersweep.errors import ResumeConflictError, StudyLockedError
from hypersweep.orchestrate import resume_sweep, run_sweep
from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened

ENV = dict(os.environ, RAY_AUTH_MODE="disabled")


def _trials(url, name):
    with opened(url) as st:
        study = st.get_study(name)
        return study, st.get_trials(study.study_id)


def _cli(*args, cwd=None):
    return [sys.executable, "-m", "hypersweep.cli", *args]


def _wait_for(url, name, pred, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with opened(url) as st:
                study = st.get_study(name)
                if pred(study, st.study_counts(study.study_id)):
                    return
        except Exception:  # noqa: BLE001 - the store or study may not exist yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {name}")


GRID = """
    name: {name}
    objective: {{metric: loss, goal: minimize}}
    strategy: grid
    budget: {{parallel: 1}}
    trial: {{function: "fns:slow_identity"}}
    parameters:
      x: {{type: int, low: 0, high: 11, step: 1}}
      sleep: {{value: 0.4}}
"""


def _check_exactly_once(url, name, expected_points):
    study, trials = _trials(url, name)
    finished = [t for t in trials if t.state.is_finished]
    assert sorted(t.params["x"] for t in finished) == expected_points
    assert sorted(t.number for t in trials) == list(range(len(trials)))  # unique, gap-free
    assert all(t.metrics["x_seen"] == t.params["x"] for t in finished)  # the worker's own report
    assert not [t for t in trials if t.state is TrialState.RUNNING]
    rerun_of = {t.retry_of for t in trials if t.retry_of is not None}
    for t in trials:
        if t.state is TrialState.INTERRUPTED:
            assert t.trial_id in rerun_of, f"interrupted trial {t.number} was not run again"
    return study, trials


def _postgres_url():
    url = os.environ.get("HYPERSWEEP_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HYPERSWEEP_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    return url


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_driver_killed_at_random_moments_then_resumed_runs_every_point_once(make_sweep, tmp_path, backend):
    url = f"sqlite:///{tmp_path / 'hs.db'}" if backend == "sqlite" else _postgres_url()
    name = f"kill-{uuid.uuid4().hex[:8]}"
    path = make_sweep(GRID.format(name=name))
    rng = random.Random(1234)
    seen = 0
    for _ in range(3):
        proc = subprocess.Popen(
            _cli("run", str(path), "--store", url, "--executor", "local", "--quiet"),
            env=ENV,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # kill at a random moment once the driver is at work (trials in flight or between trials)
        _wait_for(
            url,
            name,
            lambda s, c, seen=seen: sum(c.values()) > seen and s.status is StudyStatus.RUNNING,
            timeout=120,
        )
        time.sleep(rng.uniform(0.1, 1.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with opened(url) as st:
            seen = sum(st.study_counts(st.get_study(name).study_id).values())
    study, trials = _trials(url, name)
    assert study.status is StudyStatus.RUNNING  # a dead driver's lease, not yet expired
    assert sum(t.state.is_finished for t in trials) < 12
    # the dead driver held the lease on this host: it is taken over at once
    proc = subprocess.run(
        _cli("resume", name, "--store", url, "--executor", "local", "--quiet"),
        env=ENV,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    study, _ = _check_exactly_once(url, name, list(range(12)))
    assert study.status is StudyStatus.FINISHED


def test_run_on_an_existing_study_resumes_or_refuses_a_conflicting_change(make_sweep, store_url):
    text = """
        name: again
        objective: {metric: loss, goal: minimize}
        strategy: random
        seed: 4
        budget: {trials: 3, parallel: 1}
        trial: {function: "fns:quadratic"}
        parameters:
          x: {type: float, low: -10, high: 10}
    """
    path = make_sweep(text)
    run_sweep(path, store=store_url, executor="local")
    path.write_text(path.read_text().replace("trials: 3", "trials: 5"))  # a budget change resumes
    res = run_sweep(path, store=store_url, executor="local")
    assert res.status is StudyStatus.FINISHED
    _, trials = _trials(store_url, "again")
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    assert len({t.params["x"] for t in trials}) == 5  # the resumed random search did not replay
    path.write_text(path.read_text().replace("high: 10", "high: 20"))
    with pytest.raises(ResumeConflictError, match="parameters") as exc:
        run_sweep(path, store=store_url, executor="local")
    assert "--name" in str(exc.value)
    proc = subprocess.run(
        _cli("run", str(path), "--store", store_url, "--executor", "local"),
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_a_second_driver_is_refused_with_the_holders_host_and_pid(make_sweep, store_url, tmp_path):
    path = make_sweep("""
        name: held
        objective: {metric: loss, goal: minimize}
        strategy: random
        budget: {trials: 40, parallel: 1}
        trial: {function: "fns:sleeper"}
        parameters:
          x: {type: float, low: 0, high: 1}
          sleep: {value: 1.0}  # long enough that `stop` arrives first on a busy machine
    """)
    proc = subprocess.Popen(
        _cli("run", str(path), "--store", store_url, "--executor", "local", "--quiet"),
        env=ENV,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(store_url, "held", lambda s, c: c.get(TrialState.COMPLETE, 0) >= 1)
        with pytest.raises(StudyLockedError) as exc:
            resume_sweep("held", store=store_url, executor="local")
        assert str(proc.pid) in str(exc.value)
        second = subprocess.run(
            _cli("resume", "held", "--store", store_url, "--executor", "local"),
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2 and str(proc.pid) in second.stderr
        # `stop` from another shell: the running trial finishes, the driver exits 0, resumable
        stop = subprocess.run(
            _cli("stop", "held", "--store", store_url), env=ENV, capture_output=True, text=True
        )
        assert stop.returncode == 0
        proc.wait(timeout=30)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    study, trials = _trials(store_url, "held")
    assert study.status is StudyStatus.INTERRUPTED
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.INTERRUPTED)]
    assert 1 <= len(trials) < 40
    res = resume_sweep("held", store=store_url, executor="local", trials=len(trials) + 2)
    assert res.status is StudyStatus.FINISHED


def test_retries_and_retry_failed(make_sweep, store_url, tmp_path):
    path = make_sweep("""
        name: retries
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {retries: 1, max_failures: 10}
        trial: {function: "fns:fails_once"}
        parameters:
          x: {type: categorical, values: [1, 2]}
    """)
    run_sweep(path, store=store_url, executor="local")
    _, trials = _trials(store_url, "retries")
    assert [t.state for t in trials].count(TrialState.FAILED) == 2
    assert [t.state for t in trials].count(TrialState.COMPLETE) == 2
    by_id = {t.trial_id: t for t in trials}
    for t in trials:
        if t.state is TrialState.COMPLETE:
            assert by_id[t.retry_of].state is TrialState.FAILED and by_id[t.retry_of].params == t.params

    (tmp_path / "fail.flag").write_text("")
    path2 = make_sweep(
        """
        name: flaky
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {max_failures: 10}
        trial: {function: "fns:flaky"}
        parameters:
          x: {type: categorical, values: [1, 2, 3]}
    """,
        name="flaky.yaml",
    )
    res = run_sweep(path2, store=store_url, executor="local")
    assert res.status is StudyStatus.INTERRUPTED and any("--retry-failed" in n for n in res.summary.notes)
    (tmp_path / "fail.flag").unlink()
    res = resume_sweep("flaky", store=store_url, executor="local", retry_failed=True)
    assert res.status is StudyStatus.FINISHED
    _, trials = _trials(store_url, "flaky")
    assert sorted(t.params["x"] for t in trials if t.state is TrialState.COMPLETE) == [1, 2, 3]


def test_enqueued_params_run_first_and_timeout_interrupts(make_sweep, store_url):
    path = make_sweep("""
        name: enq
        objective: {metric: loss, goal: minimize}
        strategy: tpe
        seed: 3
        budget: {trials: 4, parallel: 1}
        trial: {function: "fns:quadratic"}
        enqueue:
          - {x: 3.0}
          - {x: -1.5}
        parameters:
          x: {type: float, low: -10, high: 10}
    """)
    run_sweep(path, store=store_url, executor="local")
    _, trials = _trials(store_url, "enq")
    assert [t.params["x"] for t in trials[:2]] == [3.0, -1.5]
    assert trials[0].objective == 0.0

    path = make_sweep(
        """
        name: slow
        objective: {metric: loss, goal: minimize}
        strategy: random
        budget: {trials: 100, parallel: 2, timeout: 3s}
        trial: {function: "fns:sleeper"}
        parameters:
          x: {type: float, low: 0, high: 1}
          sleep: {value: 1.0}
    """,
        name="slow.yaml",
    )
    res = run_sweep(path, store=store_url)
    assert res.summary.reason.name == "TIMEOUT" and res.status is StudyStatus.INTERRUPTED
    _, trials = _trials(store_url, "slow")
    assert any(t.state is TrialState.INTERRUPTED for t in trials)
    assert not any(t.state is TrialState.RUNNING for t in trials)


@pytest.mark.usefixtures("ray_session")
def test_warm_start_feeds_other_studies_to_tpe(make_sweep, store_url):
    base = """
        name: {name}
        objective: {{metric: loss, goal: minimize}}
        strategy: {strategy}
        seed: 1
        budget: {{trials: {n}, parallel: 1}}
        trial: {{function: "fns:quadratic"}}
        parameters:
          x: {{type: float, low: -10, high: 10}}
    """
    run_sweep(
        make_sweep(base.format(name="src", strategy="random", n=30), "a.yaml"),
        store=store_url,
        executor="local",
    )
    warm = base.format(name="warm", strategy="{name: tpe, n_startup_trials: 10, warm_start: [src]}", n=5)
    run_sweep(make_sweep(warm, "b.yaml"), store=store_url, executor="local")
    _, trials = _trials(store_url, "warm")
    assert len(trials) == 5  # warm-start trials feed the model, not the budget
    assert min(abs(t.params["x"] - 3.0) for t in trials) < 1.5
