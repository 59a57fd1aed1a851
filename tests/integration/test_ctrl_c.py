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
    with opened(store_url) as st:
        study = st.get_study("ctrlc")
        trials = st.get_trials(study.study_id)
    assert study.status is StudyStatus.INTERRUPTED
    assert not [t for t in trials if t.state is TrialState.RUNNING]
    interrupted = [t for t in trials if t.state is TrialState.INTERRUPTED]
    assert interrupted
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
