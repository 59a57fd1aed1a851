"""A renamed study's artifacts stay downloadable: its blobs lie under the study's root, by its old name."""

from __future__ import annotations

import hashlib

from hypersweep.orchestrate import run_sweep
from hypersweep.query import download_artifacts, rename_study
from hypersweep.store import opened

SWEEP = """\
name: arts-before
objective: {metric: score, goal: maximize}
strategy: grid
trial: {function: "trialfn:train"}
parameters:
  x: {type: categorical, values: [1]}
"""

TRIAL = """\
import hypersweep


def train(params):
    with open("model.txt", "w") as f:
        f.write("weights %d" % params["x"])
    hypersweep.log_artifact("model.txt")
    return {"score": float(params["x"])}
"""


def test_a_renamed_study_keeps_its_artifacts_downloadable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    (tmp_path / "trialfn.py").write_text(TRIAL)
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    run_sweep(tmp_path / "sweep.yaml", store=url, executor="local")
    with opened(url) as st:
        rename_study(st, "arts-before", "arts-after")
        paths = download_artifacts(st, "arts-after", 0, tmp_path / "out")
    assert [p.name for p in paths] == ["model.txt"]
    assert hashlib.sha256(paths[0].read_bytes()).hexdigest() == hashlib.sha256(b"weights 1").hexdigest()
