"""Every strategy, objective form and constraint end to end: a CLI run on ``--executor local`` killed with
SIGKILL mid-sweep, then ``resume``, which rebuilds the strategy's state from the store and finishes the
budget; and a few of them on the session's real Ray."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from hypersweep.orchestrate import run_sweep
from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened

ENV = dict(os.environ, RAY_AUTH_MODE="disabled")
TRIALS = 8

SPACE = """
    parameters:
      x: {type: float, low: 0, high: 1}
      y: {type: float, low: 0, high: 1}
      sleep: {value: 0.25}
"""
ONE = "objective: {metric: loss, goal: minimize}\n"
TWO = "objectives: [{metric: loss, goal: minimize}, {metric: size, goal: minimize}]\n"
CONSTRAINED = ONE + 'constraints: ["metrics.mem <= 50"]\n'

# case -> (objective block, strategy, the strategy the study records)
CASES = {
    "grid": (ONE, "grid", "grid"),
    "random": (ONE, "random", "random"),
    "tpe": (ONE, "{name: tpe, n_startup_trials: 3}", "tpe"),
    "gp": (ONE, "{name: gp, n_startup_trials: 3}", "gp"),
    "cmaes": (ONE, "cmaes", "cmaes"),
    "qmc": (ONE, "qmc", "qmc"),
    "auto": (ONE, "auto", "gp"),
    "tpe-constrained": (CONSTRAINED, "{name: tpe, n_startup_trials: 3}", "tpe"),
    "gp-constrained": (CONSTRAINED, "{name: gp, n_startup_trials: 3}", "gp"),
    "nsga2-two-objectives": (TWO, "{name: nsga2, population_size: 4}", "nsga2"),
    "tpe-two-objectives": (TWO, "tpe", "tpe"),
}


def _sweep(make_sweep, case: str):
    objective, strategy, _ = CASES[case]
    space = SPACE
    if case == "grid":  # a finite space: 4 x 2 points
        space = SPACE.replace("high: 1}\n      y", "high: 0.75, step: 0.25}\n      y").replace(
            "y: {type: float, low: 0, high: 1}", "y: {type: categorical, values: [0.2, 0.6]}"
        )
    text = (
        f"name: e2e-{case}\nstrategy: {strategy}\nseed: 11\n"
        f"budget: {{trials: {TRIALS}, parallel: 2}}\n"
        'trial: {function: "fns:bowl"}\n' + objective + _dedent(space)
    )
    return make_sweep(text, f"{case}.yaml")


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)


def _cli(*args: str, cwd) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", *args],
        env=ENV,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _study(store_url: str, name: str):  # type: ignore[no-untyped-def]
    with opened(store_url) as st:
        study = st.get_study(name)
        return study, st.get_trials(study.study_id)


def _check_finished(store_url: str, case: str) -> None:
    _, _, recorded = CASES[case]
    study, trials = _study(store_url, f"e2e-{case}")
    assert study.status is StudyStatus.FINISHED, (case, study.status)
    assert study.strategy == recorded
    done = [t for t in trials if t.state is TrialState.COMPLETE]
    assert len(done) == TRIALS, [(t.number, t.state) for t in trials]
    # nothing ran twice: a strategy restarted from scratch would replay its first points (the same seed).
    # Not for NSGA-II: a child is a parent's copy when crossover is skipped (1 in 10) and mutation leaves it
    points = [(round(t.params["x"], 12), round(t.params["y"], 12)) for t in done]
    if not case.startswith("nsga2"):
        assert len(set(points)) == len(points), points
    assert all(0 <= t.params["x"] <= 1 and 0 <= t.params["y"] <= 1 for t in done)
    for t in done:
        want = (t.params["x"] - 0.3) ** 2 + (t.params["y"] - 0.6) ** 2
        assert t.objective == pytest.approx(want)
        if "two-objectives" in case:
            assert t.values == pytest.approx((want, t.params["x"] + t.params["y"]))
        if "constrained" in case:
            assert t.feasible is (100.0 * t.params["x"] <= 50)
        else:
            assert t.feasible is None


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_each_strategy_survives_a_sigkill_and_resume_finishes_it(case, make_sweep, store_url, tmp_path):
    path = _sweep(make_sweep, case)
    cmd = [sys.executable, "-m", "hypersweep.cli", "run", str(path), "--store", store_url]
    proc = subprocess.Popen(
        [*cmd, "--executor", "local", "--quiet"],
        env=ENV,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    end = time.time() + 120
    killed = False
    while time.time() < end and proc.poll() is None:
        try:
            _, trials = _study(store_url, f"e2e-{case}")
            if sum(t.state is TrialState.COMPLETE for t in trials) >= 3:
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
                break
        except Exception:  # noqa: BLE001 - the store or the study may not exist yet
            pass
        time.sleep(0.05)
    _, err = proc.communicate(timeout=60)
    assert killed, f"the run ended before it could be killed: {err[-2000:]}"
    _, trials = _study(store_url, f"e2e-{case}")
    assert sum(t.state is TrialState.COMPLETE for t in trials) < TRIALS
    res = _cli("resume", f"e2e-{case}", "--store", store_url, "--executor", "local", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Traceback" not in res.stderr
    _check_finished(store_url, case)


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize("case", ["gp-constrained", "cmaes", "qmc", "nsga2-two-objectives"])
def test_strategies_run_on_ray(case, make_sweep, store_url):
    path = _sweep(make_sweep, case)
    res = run_sweep(path, store=store_url)
    assert res.status is StudyStatus.FINISHED
    _check_finished(store_url, case)
