"""Ctrl-C stops cleanly: running trials become interrupted, the study is resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened


@pytest.mark.slow
def test_ctrl_c_marks_running_trials_interrupted_and_resume_finishes(make_sweep, store_url, tmp_path):
    path = make_sweep("""
        name: ctrlc
        objective: {metric: loss, goal: minimize}
        strategy: random
        seed: 1
        budget: {trials: 10, parallel: 2}
        trial: {function: "fns:sleeper"}
        parameters:
          x: {type: float, low: 0, high: 1}
          sleep: {value: 1.5}  # a window of seconds to catch it mid-sweep on a busy machine
    """)
    env = dict(os.environ, RAY_AUTH_MODE="disabled")
    cmd = [sys.executable, "-m", "hypersweep.cli", "run", str(path), "--store", store_url, "--quiet"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    deadline = time.time() + 90
    while time.time() < deadline:  # wait until some trials finished and more are running
        time.sleep(0.5)
        try:
            with opened(store_url) as st:
                counts = st.study_counts(st.get_study("ctrlc").study_id)
        except Exception:  # noqa: BLE001 - the store may not exist yet
            continue
        if counts.get(TrialState.COMPLETE, 0) >= 2 and counts.get(TrialState.RUNNING, 0) >= 1:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    assert "Aborted" not in err and "aborted" not in err
    with opened(store_url) as st:
        study = st.get_study("ctrlc")
        trials = st.get_trials(study.study_id)
        counts = st.study_counts(study.study_id)
    assert study.status is StudyStatus.INTERRUPTED
    assert not [t for t in trials if t.state is TrialState.RUNNING]
    interrupted = [t for t in trials if t.state is TrialState.INTERRUPTED]
    assert interrupted
    assert _interrupt_message("ctrlc", counts, f"hypersweep resume ctrlc --store {store_url}") in err
    done_before = sum(t.state.is_finished for t in trials)
    assert done_before < 10

    proc = subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", "resume", "ctrlc", "--store", store_url, "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    with opened(store_url) as st:
        study = st.get_study("ctrlc")
        trials = st.get_trials(study.study_id)
    assert study.status is StudyStatus.FINISHED
    assert sum(t.state.is_finished for t in trials) == 10
    numbers = sorted(t.number for t in trials)
    assert numbers == list(range(len(trials)))
    reruns = {t.retry_of for t in trials if t.retry_of is not None}
    assert {t.trial_id for t in interrupted} <= reruns  # every interrupted trial's params ran again


def _interrupt_message(study: str, counts: dict[TrialState, int], resume: str) -> str:
    c = {s.value: n for s, n in counts.items()}
    return (
        f"interrupted: study {study!r} stopped by Ctrl-C; recorded {c.get('complete', 0)} complete, "
        f"{c.get('pruned', 0)} pruned, {c.get('failed', 0)} failed, {c.get('interrupted', 0)} interrupted "
        f"(interrupted trials run again first on resume); the study is resumable:\n  {resume}\n"
    )


def _wait_for(store_url: str, name: str, ready, timeout_s: float = 90) -> None:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        time.sleep(0.1)
        try:
            with opened(store_url) as st:
                counts = st.study_counts(st.get_study(name).study_id)
        except Exception:  # noqa: BLE001 - the store may not exist yet
            continue
        if ready(counts):
            return
    raise AssertionError(f"study {name} never reached the wanted state")


def test_ctrl_c_with_the_local_executor(make_sweep, store_url, tmp_path):
    """With `--executor local` the running trial is the driver's own call: Ctrl-C cancels it, it becomes
    interrupted, every trial before it stays complete, and the driver exits 130 at once (before the fix it
    waited 5 s for a result the local executor never gave)."""
    path = make_sweep("""
        name: ctrlc-local
        objective: {metric: loss, goal: minimize}
        strategy: random
        seed: 1
        budget: {trials: 100, parallel: 1}
        trial: {function: "fns:sleeper"}
        parameters:
          x: {type: float, low: 0, high: 1}
          sleep: {value: 0.5}
    """)
    env = dict(os.environ, RAY_AUTH_MODE="disabled")
    cmd = [
        sys.executable,
        "-m",
        "hypersweep.cli",
        "run",
        str(path),
        "--store",
        store_url,
        "--executor",
        "local",
    ]
    proc = subprocess.Popen(
        cmd + ["--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    _wait_for(store_url, "ctrlc-local", lambda c: c[TrialState.COMPLETE] >= 2 and c[TrialState.RUNNING] == 1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "Traceback" not in err
    with opened(store_url) as st:
        study = st.get_study("ctrlc-local")
        trials = st.get_trials(study.study_id)
        counts = st.study_counts(study.study_id)
    # what was recorded, and the exact command that resumes it (with this run's store and executor)
    resume = f"hypersweep resume ctrlc-local --store {store_url} --executor local"
    assert _interrupt_message("ctrlc-local", counts, resume) in err, err
    assert study.status is StudyStatus.INTERRUPTED
    states = [t.state for t in trials]
    assert states.count(TrialState.INTERRUPTED) == 1 and states[-1] is TrialState.INTERRUPTED
    assert set(states[:-1]) == {TrialState.COMPLETE} and len(states) >= 3
    assert trials[-1].error is None


def test_a_base_exception_in_a_local_trial_fails_that_trial(make_sweep, store_url, tmp_path):
    """A trial function that raises a BaseException (not an Exception) fails with a clear error; the
    sweep goes on, and nothing is left running (before: a traceback, exit 1, the trial left running)."""
    path = make_sweep("""
        name: halts
        objective: {metric: loss, goal: minimize}
        strategy: grid
        trial: {function: "fns:halts_on_one"}
        parameters:
          x: {type: categorical, values: [0, 1, 2]}
    """)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hypersweep.cli",
            "run",
            str(path),
            "--store",
            store_url,
            "--executor",
            "local",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, RAY_AUTH_MODE="disabled"),
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    with opened(store_url) as st:
        study = st.get_study("halts")
        trials = st.get_trials(study.study_id)
    assert study.status is StudyStatus.INTERRUPTED  # a grid point failed: `resume --retry-failed` finishes it
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAILED, TrialState.COMPLETE]
    error = trials[1].error or ""
    assert error.startswith(
        "the trial raised Halt: unwinding everything, a BaseException that is not an Exception"
    )
    assert "raise Halt" in error
