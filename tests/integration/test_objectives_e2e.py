"""Several objectives end to end with `--executor local`: the CLI's run, leaderboard, best and studies,
a W&B `metrics:` list file, a missing or NaN value, and a resume after the driver is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from hypersweep.errors import ResumeConflictError
from hypersweep.orchestrate import run_sweep
from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened

ENV = dict(os.environ, RAY_AUTH_MODE="disabled")

NATIVE = """
    name: {name}
    objectives: [{{metric: acc, goal: maximize}}, {{metric: size, goal: minimize}}]
    strategy: {strategy}
    seed: 5
    budget: {{trials: {trials}, parallel: 2, max_failures: 10}}
    trial: {{function: "fns:two_goals"}}
    parameters:
      x: {{type: float, low: 0, high: 1}}
      y: {{type: float, low: 0, high: 1}}
"""


def cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", *args],
        env=ENV,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _trials(url, name):
    with opened(url) as st:
        study = st.get_study(name)
        return study, st.get_trials(study.study_id)


def test_cli_run_leaderboard_best_and_studies_of_a_two_objective_sweep(make_sweep, store_url, tmp_path):
    path = make_sweep(NATIVE.format(name="mo", strategy="tpe", trials=8))
    run = cli("run", str(path), "--store", store_url, "--executor", "local", "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    lb = cli("leaderboard", "mo", "--store", store_url, "--format", "json", "--top", "20", cwd=tmp_path)
    assert lb.returncode == 0, lb.stderr
    rows = json.loads(lb.stdout)
    assert len(rows) == 8 and all(r["pareto_rank"] >= 1 for r in rows)
    ranks = [r["pareto_rank"] for r in rows]
    assert ranks == sorted(ranks) and ranks[0] == 1
    for r in rows:
        assert r["values"] == {"acc": r["metrics"]["acc"], "size": r["metrics"]["size"]}
    front = json.loads(
        cli("leaderboard", "mo", "--store", store_url, "--format", "json", "--pareto", cwd=tmp_path).stdout
    )
    assert front == [r for r in rows if r["pareto_rank"] == 1]
    table = cli("leaderboard", "mo", "--store", store_url, cwd=tmp_path)
    assert table.returncode == 0 and "pareto_rank" in table.stdout
    best = json.loads(cli("best", "mo", "--store", store_url, "--format", "json", cwd=tmp_path).stdout)
    assert [r["number"] for r in best["pareto_front"]] == [r["number"] for r in front]
    refused = cli("best", "mo", "--store", store_url, "--download", str(tmp_path / "d"), cwd=tmp_path)
    assert refused.returncode != 0 and "--number N" in refused.stderr and "Traceback" not in refused.stderr
    n = front[0]["number"]
    one = cli(
        "best",
        "mo",
        "--store",
        store_url,
        "--number",
        str(n),
        "--download",
        str(tmp_path / "d"),
        cwd=tmp_path,
    )
    assert one.returncode == 0, one.stderr
    shown = cli("best", "mo", "--store", store_url, cwd=tmp_path)
    assert "Pareto front of" in shown.stdout and "--number N" in shown.stdout
    studies = json.loads(cli("studies", "--store", store_url, "--format", "json", cwd=tmp_path).stdout)
    assert studies[0]["pareto_size"] == len(front)
    assert studies[0]["best_objective"] == max(r["values"]["acc"] for r in rows)
    assert "pareto_size" in cli("studies", "--store", store_url, cwd=tmp_path).stdout


def test_a_missing_or_nan_value_fails_the_trial(make_sweep, store_url):
    path = make_sweep("""
        name: drops
        objectives: [{metric: acc, goal: maximize}, {metric: size, goal: minimize}]
        strategy: grid
        budget: {max_failures: 5}
        trial: {function: "fns:two_goals"}
        parameters:
          x: {type: categorical, values: [0.5]}
          drop: {type: categorical, values: [none, size, nan]}
    """)
    run_sweep(path, store=store_url, executor="local")
    _, trials = _trials(store_url, "drops")
    by = {t.params["drop"]: t for t in trials}
    assert by["none"].state is TrialState.COMPLETE and by["none"].values == (0.5, 0.25)
    assert by["size"].state is TrialState.FAILED and "'size' was not reported" in by["size"].error
    assert by["nan"].state is TrialState.FAILED and "'size' is nan" in by["nan"].error


def test_a_wandb_metrics_list_file_runs(make_sweep, store_url, tmp_path):
    path = make_sweep("""
        method: random
        name: wb-mo
        metrics:
          - {name: acc, goal: maximize}
          - {name: size, goal: minimize}
        run_cap: 6
        parameters:
          x: {min: 0.0, max: 1.0}
          y: {min: 0.0, max: 1.0}
        hypersweep:
          trial: {function: "fns:two_goals"}
    """)
    run = cli("run", str(path), "--store", store_url, "--executor", "local", "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    study, trials = _trials(store_url, "wb-mo")
    assert [d.value for d in study.directions] == ["maximize", "minimize"] and study.strategy == "random"
    assert len(trials) == 6 and all(len(t.values) == 2 for t in trials)
    rows = json.loads(
        cli("leaderboard", "wb-mo", "--store", store_url, "--format", "json", cwd=tmp_path).stdout
    )
    assert rows[0]["pareto_rank"] == 1 and set(rows[0]["values"]) == {"acc", "size"}


@pytest.mark.slow
def test_killed_then_resumed_keeps_every_value_and_refuses_changed_objectives(
    make_sweep, store_url, tmp_path
):
    text = """
        name: mo-kill
        objectives: [{metric: acc, goal: maximize}, {metric: size, goal: minimize}]
        strategy: grid
        budget: {parallel: 1}
        trial: {function: "fns:two_goals"}
        parameters:
          x: {type: categorical, values: [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]}
          sleep: {value: 0.3}
    """
    path = make_sweep(text)
    proc = subprocess.Popen(
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
            "--quiet",
        ],
        env=ENV,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    end = time.time() + 120
    while time.time() < end:  # kill once two trials are done
        try:
            _, trials = _trials(store_url, "mo-kill")
            if sum(t.state is TrialState.COMPLETE for t in trials) >= 2:
                break
        except Exception:  # noqa: BLE001 - the store or the study may not exist yet
            pass
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    study, trials = _trials(store_url, "mo-kill")
    assert sum(t.state.is_finished for t in trials) < 8
    changed = make_sweep(
        text.replace("{metric: size, goal: minimize}", "{metric: size, goal: maximize}"), "b.yaml"
    )
    with pytest.raises(ResumeConflictError) as e:
        run_sweep(changed, store=store_url, executor="local")
    assert "objectives" in e.value.keys
    res = cli("resume", "mo-kill", "--store", store_url, "--executor", "local", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    study, trials = _trials(store_url, "mo-kill")
    done = [t for t in trials if t.state is TrialState.COMPLETE]
    assert study.status is StudyStatus.FINISHED
    assert sorted(t.params["x"] for t in done) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    assert all(t.values == pytest.approx((t.params["x"], t.params["x"] ** 2)) for t in done)
