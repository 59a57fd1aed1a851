"""A run on a Ray of its own ends it: once every trial is recorded, the driver kills that Ray's processes at
once (not one after another with a second's grace each), and nothing of it is left running."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened


def _processes_under(folder: str) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any(folder in part for part in p.info["cmdline"] or ()):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@pytest.mark.slow
def test_a_run_on_its_own_ray_records_everything_and_leaves_no_ray_process(make_sweep, store_url, tmp_path):
    path = make_sweep("""
        name: own-ray
        objective: {metric: loss, goal: minimize}
        strategy: random
        seed: 3
        budget: {trials: 3, parallel: 2}
        trial: {function: "fns:quadratic"}
        parameters:
          x: {type: float, low: -2, high: 2}
    """)
    # Ray's sockets live under its temp folder: keep the path short (AF_UNIX paths are at most 107 bytes)
    ray_tmp = tempfile.mkdtemp(prefix="hsx-", dir="/tmp")
    try:
        env = dict(os.environ, RAY_AUTH_MODE="disabled", RAY_TMPDIR=ray_tmp)
        env.pop("RAY_ADDRESS", None)
        cmd = [sys.executable, "-m", "hypersweep.cli", "run", str(path), "--store", store_url, "--quiet"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr
        with opened(store_url) as st:
            study = st.get_study("own-ray")
            trials = st.get_trials(study.study_id)
        assert study.status is StudyStatus.FINISHED
        assert sorted(t.state for t in trials) == [TrialState.COMPLETE] * 3
        assert all(t.objective is not None for t in trials)
        assert Path(ray_tmp, "ray", "session_latest").exists(), (
            "the run did not start its Ray under RAY_TMPDIR"
        )
        deadline = time.time() + 10  # the raylet's workers see it gone and exit
        while (left := _processes_under(ray_tmp)) and time.time() < deadline:
            time.sleep(0.2)
        assert left == [], [" ".join(p.cmdline())[:200] for p in left]
    finally:
        for p in _processes_under(ray_tmp):
            p.kill()
        shutil.rmtree(ray_tmp, ignore_errors=True)
