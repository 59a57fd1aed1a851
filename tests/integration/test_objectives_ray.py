"""Several objectives on a real local Ray (the session's cluster) and a real SQLite store."""

from __future__ import annotations

import pytest

from hypersweep.orchestrate import run_sweep
from hypersweep.query import best_trial
from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened

pytestmark = pytest.mark.usefixtures("ray_session")


def test_a_two_objective_nsga2_sweep_runs_on_ray(make_sweep, store_url):
    path = make_sweep("""
        name: mo-ray
        objectives: [{metric: acc, goal: maximize}, {metric: size, goal: minimize}]
        strategy: {name: nsga2, population_size: 4}
        seed: 2
        budget: {trials: 8, parallel: 2}
        trial: {function: "fns:two_goals"}
        parameters:
          x: {type: float, low: 0, high: 1}
          y: {type: float, low: 0, high: 1}
    """)
    res = run_sweep(path, store=store_url)
    assert res.status is StudyStatus.FINISHED
    assert all("pareto_rank" in r for r in res.top)
    with opened(store_url) as st:
        study = st.get_study("mo-ray")
        trials = st.get_trials(study.study_id)
        front = best_trial(st, "mo-ray")["pareto_front"]
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 8
    assert all(
        t.values == pytest.approx((t.params["x"] - 0.2 * t.params["y"], t.params["x"] ** 2 + t.params["y"]))
        for t in trials
    )
    assert front and all(r["pareto_rank"] == 1 for r in front)
