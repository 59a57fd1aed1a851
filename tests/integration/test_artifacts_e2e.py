"""Artifacts and checkpoints through real sweeps: recorded with sha256, downloadable, corruption caught,
and an interrupted trial resumes from its checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hypersweep.errors import ArtifactIntegrityError
from hypersweep.orchestrate import resume_sweep, run_sweep
from hypersweep.query import download_artifacts
from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened

ENV = dict(os.environ, RAY_AUTH_MODE="disabled")


@pytest.mark.usefixtures("ray_session")
def test_two_artifacts_recorded_downloadable_and_corruption_detected(make_sweep, store_url, tmp_path):
    import hashlib

    path = make_sweep("""
        name: arts
        objective: {metric: loss, goal: minimize}
        strategy: grid
        trial: {function: "fns:two_artifacts"}
        parameters:
          x: {type: categorical, values: [0.5, 0.25]}
    """)
    run_sweep(path, store=store_url)
    root = tmp_path / "artifacts"  # default: beside the SQLite file
    with opened(store_url) as st:
        study = st.get_study("arts")
        t = st.get_trial(study.study_id, 0)
        arts = {a.name: a for a in st.get_artifacts(t.trial_id)}
        assert set(arts) == {"model.txt", "eval/metrics.json"}
        stored = root / "arts" / "0" / "model.txt"
        assert stored.read_text() == "model for x=0.5\n"
        assert arts["model.txt"].sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
        assert arts["model.txt"].size == stored.stat().st_size
        files = download_artifacts(st, "arts", 0, tmp_path / "dl")
        assert sorted(p.relative_to(tmp_path / "dl").as_posix() for p in files) == [
            "eval/metrics.json",
            "model.txt",
        ]
        stored.write_text("tampered\n")
        with pytest.raises(ArtifactIntegrityError, match="sha256"):
            download_artifacts(st, "arts", 0, tmp_path / "dl2")
    p = subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", "best", "arts", "--store", store_url, "--format", "json"],
        capture_output=True,
        text=True,
        env=ENV,
    )
    best = json.loads(p.stdout)
    assert best["params"] == {"x": 0.25} and {a["name"] for a in best["artifacts"]} == {
        "model.txt",
        "eval/metrics.json",
    }
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "hypersweep.cli",
            "artifacts",
            "arts",
            "0",
            "--store",
            store_url,
            "--download",
            str(tmp_path / "dl3"),
        ],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert p.returncode == 3 and "sha256" in p.stderr and "Traceback" not in p.stderr


def test_an_interrupted_trial_resumes_from_its_checkpoint(make_sweep, store_url, tmp_path):
    path = make_sweep("""
        name: ckpt
        objective: {metric: loss, goal: minimize}
        strategy: grid
        trial: {function: "fns:resumable"}
        parameters:
          x: {type: categorical, values: [1.0]}
    """)
    driver = subprocess.Popen(
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
    ckpts = tmp_path / "artifacts" / "ckpt" / "checkpoints"
    deadline = time.time() + 90
    while time.time() < deadline and not list(ckpts.rglob("manifest.json")):
        time.sleep(0.2)
    assert list(ckpts.rglob("manifest.json")), "the trial never saved its checkpoint"
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    res = resume_sweep("ckpt", store=store_url, executor="local")
    assert res.status is StudyStatus.FINISHED
    with opened(store_url) as st:
        trials = st.get_trials(st.get_study("ckpt").study_id)
    assert [t.state for t in trials] == [TrialState.INTERRUPTED, TrialState.COMPLETE]
    assert trials[1].metrics["resumed_from_epoch"] == 7.0 and trials[1].retry_of == trials[0].trial_id
    assert Path(tmp_path / "artifacts").is_dir()
