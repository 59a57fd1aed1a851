"""``trial.env`` reaches function trials too, on Ray and with the local executor, for the duration of
the call: the variables are set while the function runs and the process's own values come back after."""

from __future__ import annotations

import os

import pytest

from hypersweep.orchestrate import run_sweep
from hypersweep.records import TrialState
from hypersweep.store import opened

SWEEP = """
    name: envs
    objective: {metric: loss, goal: minimize}
    strategy: grid
    trial:
      function: "fns:trial_env_reader"
      env: {HS_TRIAL_TOKEN: "40", OMP_NUM_THREADS: 3}
    parameters:
      x: {type: categorical, values: [1.0, 2.0]}
"""


def _check(store_url: str) -> None:
    with opened(store_url) as st:
        study = st.get_study("envs")
        trials = [st.get_trial(study.study_id, n) for n in (0, 1)]
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2, [t.error for t in trials]
    assert sorted(t.metrics["loss"] for t in trials) == [41.0, 42.0]
    assert {t.metrics["threads"] for t in trials} == {3.0}


def test_trial_env_reaches_function_trials_with_the_local_executor(make_sweep, store_url, monkeypatch):
    monkeypatch.delenv("HS_TRIAL_TOKEN", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    run_sweep(make_sweep(SWEEP), store=store_url, executor="local")
    _check(store_url)
    # the driver runs the trials itself here: its environment is as it was
    assert "HS_TRIAL_TOKEN" not in os.environ and os.environ["OMP_NUM_THREADS"] == "7"


@pytest.mark.usefixtures("ray_session")
def test_trial_env_reaches_function_trials_on_ray(make_sweep, store_url):
    run_sweep(make_sweep(SWEEP), store=store_url)
    _check(store_url)
