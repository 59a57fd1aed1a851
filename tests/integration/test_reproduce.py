"""`reproduce`: reruns from scratch and shows what differs (metrics, history, environment, code, data)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import hypersweep
from hypersweep.query import leaderboard_rows
from hypersweep.records import TrialKind, TrialState
from hypersweep.store import opened

ROOT = Path(__file__).parents[2]
ENV = dict(os.environ, RAY_AUTH_MODE="disabled")


def _cli(*args, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", *args],
        capture_output=True,
        text=True,
        env=env or ENV,
        cwd=cwd,
        timeout=300,
    )


def test_a_deterministic_sklearn_trial_reproduces_exactly(tmp_path):
    folder = tmp_path / "sweeps"
    shutil.copytree(ROOT / "sweeps", folder)
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    p = _cli(
        "run",
        str(folder / "digits_sgd_pruning.yaml"),
        "--store",
        url,
        "--trials",
        "3",
        "--executor",
        "local",
        "--quiet",
    )
    assert p.returncode == 0, p.stderr[-2000:]
    p = _cli("reproduce", "digits-sgd-pruning", "0", "--store", url, "--executor", "local")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert "reproduced" in p.stdout and "did not" not in p.stdout
    res = hypersweep.reproduce("digits-sgd-pruning", 0, store=url, executor="local")
    assert res.reproduced and all(m.abs_diff == 0 for m in res.metrics) and not res.history_divergence
    with opened(url) as st:
        study = st.get_study("digits-sgd-pruning")
        sweep = st.get_trials(study.study_id)
        everything = st.get_trials(study.study_id, include_reruns=True)
        assert [t.number for t in sweep] == [0, 1, 2]  # reruns stay outside numbering and budget
        reruns = [t for t in everything if t.kind is TrialKind.RERUN]
        assert len(reruns) == 2 and all(t.number is None and t.retry_of == sweep[0].trial_id for t in reruns)
        assert all(r.seed == sweep[0].seed and r.params == sweep[0].params for r in reruns)
        lb = leaderboard_rows(st, ["digits-sgd-pruning"], top=None, include_pruned=True)
        assert len(lb) == len([t for t in sweep if t.state in (TrialState.COMPLETE, TrialState.PRUNED)])


def test_changed_env_var_data_file_and_package_version_show_in_the_diff(tmp_path):
    folder = tmp_path / "proj"
    folder.mkdir()
    shutil.copy(Path(__file__).parent / "trials" / "fns.py", folder / "fns.py")
    (folder / "data.txt").write_text("1.0\n")
    (folder / "sweep.yaml").write_text(
        "name: repro\nobjective: {metric: loss, goal: minimize}\nstrategy: grid\n"
        "trial: {function: 'fns:reads_data', data: [data.txt]}\n"
        "parameters:\n  x: {type: categorical, values: [0.5]}\n"
    )
    site = tmp_path / "site"
    dist = site / "fakepkg-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakepkg\nVersion: 1.0\n")
    env = dict(ENV, PYTHONPATH=str(site), HS_TEST_OFFSET="0")
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    p = _cli("run", str(folder / "sweep.yaml"), "--store", url, "--executor", "local", "--quiet", env=env)
    assert p.returncode == 0, p.stderr[-2000:]

    # same everything: reproduced
    p = _cli("reproduce", "repro", "0", "--store", url, "--executor", "local", env=env)
    assert p.returncode == 0, p.stdout + p.stderr

    # an environment variable the trial reads: the metric differs, exit 6
    p = _cli(
        "reproduce",
        "repro",
        "0",
        "--store",
        url,
        "--executor",
        "local",
        "--format",
        "json",
        env=dict(env, HS_TEST_OFFSET="0.25"),
    )
    assert p.returncode == 6
    res = json.loads(p.stdout)
    [loss] = [m for m in res["metrics"] if m["name"] == "loss"]
    assert loss["original"] == 1.5 and loss["rerun"] == 1.75 and not loss["within"] and not res["reproduced"]

    # a changed data file and another package version: shown in the diff, with a warning
    (folder / "data.txt").write_text("1.0   \n")  # same value, different bytes
    shutil.rmtree(dist)
    dist2 = site / "fakepkg-2.0.dist-info"
    dist2.mkdir()
    (dist2 / "METADATA").write_text("Metadata-Version: 2.1\nName: fakepkg\nVersion: 2.0\n")
    p = _cli("reproduce", "repro", "0", "--store", url, "--executor", "local", "--format", "json", env=env)
    res = json.loads(p.stdout)
    changed = {row[0]: (row[1], row[2]) for row in res["environment"]}
    assert changed["package fakepkg"] == ("1.0", "2.0")
    assert "data data.txt" in changed
    assert any("data.txt" in w for w in res["warnings"])
    assert p.returncode == 0  # same numbers: the data change is a warning, the metric still matches
