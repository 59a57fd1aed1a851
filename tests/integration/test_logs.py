"""Trial output is kept (function and command trials) and `logs --follow` shows a running trial's output."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from hypersweep.records import TrialState
from hypersweep.store import opened

ENV = dict(os.environ, RAY_AUTH_MODE="disabled")


@pytest.mark.usefixtures("ray_session")
def test_logs_follow_a_running_function_trial(make_sweep, store_url, tmp_path):
    path = make_sweep("""
        name: chatty
        objective: {metric: loss, goal: minimize}
        strategy: grid
        trial: {function: "fns:chatty"}
        parameters:
          lines: {value: 40}
    """)
    # 12 s of output: live output travels through the report hub, which a run starts no earlier than 3 s in
    # (its worker would compete with the first trials' workers); on a busy machine its worker takes seconds more,
    # and a 3.6 s trial (as this was) could end before any of its lines were seen while it ran
    driver = subprocess.Popen(
        [sys.executable, "-m", "hypersweep.cli", "run", str(path), "--store", store_url, "--quiet"],
        env=ENV,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seen_running = False
        deadline = time.time() + 120
        while time.time() < deadline and not seen_running:
            time.sleep(0.3)
            try:
                with opened(store_url) as st:
                    t = st.get_trial(st.get_study("chatty").study_id, 0)
            except Exception:  # noqa: BLE001 - not created yet
                continue
            seen_running = t.state is TrialState.RUNNING and "line 1" in (t.log_tail or "")
        assert seen_running, "the running trial's output never reached the store"
        follow = subprocess.run(
            [sys.executable, "-m", "hypersweep.cli", "logs", "chatty", "0", "--store", store_url, "--follow"],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert follow.returncode == 0
        assert "line 0" in follow.stdout and "line 39" in follow.stdout
    finally:
        driver.wait(timeout=120)
