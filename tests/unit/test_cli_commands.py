"""Every read and management command over a real SQLite store, in-process through click's CliRunner.

One small sweep runs on the local executor (no Ray); the commands then read, render and manage what it
recorded, in each output format.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from _clirun import run

SWEEP = """\
name: cli-grid
objective: {metric: score, goal: maximize}
strategy: grid
seed: 3
trial: {function: "trialfn:train"}
parameters:
  x: {type: categorical, values: [1, 2, 3]}
  kind: {type: categorical, values: [a, b]}
"""

TRIAL = """\
import hypersweep


def train(params):
    for step in range(3):
        hypersweep.report(step, score=params["x"] * (step + 1) / 10)
    return {"score": params["x"] + (0.5 if params["kind"] == "b" else 0.0), "size": 10 * params["x"]}
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "sweep.yaml").write_text(SWEEP)
    (folder / "trialfn.py").write_text(TRIAL)
    url = f"sqlite:///{folder / 'hs.db'}"
    p = run("run", str(folder / "sweep.yaml"), "--store", url, "--executor", "local", "--quiet")
    assert p.returncode == 0, p.stderr
    return url, folder


def test_studies_in_every_format(store):
    url, _ = store
    rows = json.loads(run("studies", "--store", url, "--format", "json").stdout)
    assert [(r["name"], r["trials_complete"], r["best_objective"]) for r in rows] == [("cli-grid", 6, 3.5)]
    table = run("studies", "--store", url)
    assert "cli-grid" in table.stdout and "6/6" in table.stdout
    parsed = list(csv.DictReader(io.StringIO(run("studies", "--store", url, "--format", "csv").stdout)))
    assert parsed[0]["name"] == "cli-grid" and parsed[0]["trials_complete"] == "6"


def test_leaderboard_filters_sorts_and_renders(store):
    url, _ = store
    rows = json.loads(run("leaderboard", "cli-grid", "--store", url, "--format", "json", "--top", "2").stdout)
    assert [r["objective"] for r in rows] == [3.5, 3.0]
    rows = json.loads(
        run(
            "leaderboard",
            "cli-grid",
            "--store",
            url,
            "--format",
            "json",
            "--where",
            "params.kind = 'a'",
            "--sort",
            "metrics.size",
            "--order",
            "asc",
        ).stdout
    )
    assert [r["params"]["x"] for r in rows] == [1, 2, 3]
    md = run("leaderboard", "cli-grid", "--store", url, "--format", "markdown").stdout
    assert md.splitlines()[0].startswith("| number |") and "| 3.5 |" in md
    bad = run("leaderboard", "cli-grid", "--store", url, "--where", "params.x <")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_show_and_best(store):
    url, _ = store
    best = json.loads(run("best", "cli-grid", "--store", url, "--format", "json").stdout)
    assert best["params"] == {"x": 3, "kind": "b"} and best["objective"] == 3.5
    shown = json.loads(
        run("show", "cli-grid", str(best["number"]), "--store", url, "--format", "json").stdout
    )
    assert [p["value"] for p in shown["history"]["score"]] == pytest.approx([0.3, 0.6, 0.9])
    text = run("show", "cli-grid", str(best["number"]), "--store", url).stdout
    assert "metrics.score" in text and "(3 steps)" in text
    missing = run("show", "cli-grid", "99", "--store", url)
    assert missing.returncode == 3 and "99" in missing.stderr


def test_export_writes_every_trial(store, tmp_path):
    url, _ = store
    out = tmp_path / "all.csv"
    p = run("export", "cli-grid", "--store", url, "--out", str(out))
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 6 and {r["params.kind"] for r in rows} == {"a", "b"}


def test_logs_of_a_trial_without_output(store):
    url, _ = store
    p = run("logs", "cli-grid", "0", "--store", url)
    assert p.returncode == 0 and "no log yet" in p.stderr


def test_tag_note_rename_delete(store, tmp_path):
    url, folder = store
    # a study of its own, so the other tests keep theirs
    p = run(
        "run",
        str(folder / "sweep.yaml"),
        "--store",
        url,
        "--executor",
        "local",
        "--quiet",
        "--name",
        "to-manage",
        "--trials",
        "1",
    )
    assert p.returncode == 0, p.stderr
    assert run("tag", "to-manage", "team=vision", "--store", url).returncode == 0
    assert run("note", "to-manage", "first try", "--store", url).returncode == 0
    rows = json.loads(run("studies", "to-*", "--store", url, "--format", "json").stdout)
    assert rows[0]["tags"] == {"team": "vision"}
    bad = run("tag", "to-manage", "novalue", "--store", url)
    assert bad.returncode == 2 and "KEY=VALUE" in bad.stderr
    assert run("rename", "to-manage", "managed", "--store", url).returncode == 0
    assert run("delete", "managed", "--yes", "--store", url).returncode == 0
    names = [r["name"] for r in json.loads(run("studies", "--store", url, "--format", "json").stdout)]
    assert names == ["cli-grid"]


def test_db_upgrade_of_a_current_store(store):
    url, _ = store
    p = run("db", "upgrade", "--store", url)
    assert p.returncode == 0 and "latest schema revision" in p.stderr
