"""Leaderboards, studies, show and export against a store filled by real sweeps, every output format."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

import hypersweep
from hypersweep.errors import QueryError, UsageError
from hypersweep.orchestrate import run_sweep
from hypersweep.query import leaderboard_rows
from hypersweep.store import opened

ENV = dict(os.environ, RAY_AUTH_MODE="disabled")

SPEC = """
    name: {name}
    objective: {{metric: {metric}, goal: {goal}}}
    strategy: grid
    budget: {{max_failures: 10}}
    trial: {{function: "lb:score"}}
    parameters:
      x: {{type: int, low: 0, high: 9, step: 1}}
      kind: {{type: categorical, values: [{kinds}]}}
"""


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    import shutil
    from pathlib import Path

    folder = tmp_path_factory.mktemp("lb")
    shutil.copy(Path(__file__).parent / "trials" / "lb.py", folder / "lb.py")
    url = f"sqlite:///{folder / 'hs.db'}"
    for name, metric, goal, kinds in (
        ("exp-a", "acc", "maximize", "a, b"),
        ("exp-b", "acc", "maximize", "b"),
        ("other", "loss", "minimize", "a"),
    ):
        path = folder / f"{name}.yaml"
        path.write_text(SPEC.format(name=name, metric=metric, goal=goal, kinds=kinds))
        run_sweep(path, store=url, executor="local")
    return url, folder


def _rows(url, names, **kw):
    with opened(url) as st:
        return leaderboard_rows(st, names, **kw)


def test_order_direction_ties_and_default_states(filled):
    url, _ = filled
    rows = _rows(url, ["exp-a"], top=None)
    assert all(r["state"] == "complete" for r in rows)
    xs = [r["params"]["x"] for r in rows]
    assert xs == sorted(xs, reverse=True)  # maximize
    assert 7 not in xs and 2 not in xs  # failed and pruned are not ranked by default
    # ties (same x, two kinds) break by trial number
    nine = [r for r in rows if r["params"]["x"] == 9]
    assert [r["number"] for r in nine] == sorted(r["number"] for r in nine)
    rows = _rows(url, ["other"], top=3)
    assert [r["params"]["x"] for r in rows] == [9, 8, 6]  # minimize loss, 7 failed
    assert _rows(url, ["exp-a"], top=None, include_pruned=True)[-1]["state"] in ("complete", "pruned")
    assert any(r["state"] == "pruned" for r in _rows(url, ["exp-a"], top=None, include_pruned=True))


def test_sort_by_another_metric_puts_missing_values_last(filled):
    url, _ = filled
    rows = _rows(url, ["exp-a"], top=None, sort="metrics.extra")
    values = [r["metrics"].get("extra") for r in rows]
    present = [v for v in values if v is not None]
    assert present == sorted(present)  # ascending unless --order desc
    assert values[len(present) :] == [None] * (len(values) - len(present))
    rows = _rows(url, ["exp-a"], top=2, sort="extra", order="desc")
    assert [r["metrics"]["extra"] for r in rows] == [9.0, 8.0]


def test_filters(filled):
    url, _ = filled
    rows = _rows(url, ["exp-a"], top=None, where="params.x < 3 and (params.kind = 'b' or metrics.acc >= 0.1)")
    assert {(r["params"]["x"], r["params"]["kind"]) for r in rows} == {(0, "b"), (1, "a"), (1, "b")}
    failed = _rows(url, ["exp-a"], top=None, where="state = 'failed'")
    assert {r["params"]["x"] for r in failed} == {7} and all(r["state"] == "failed" for r in failed)
    assert {
        r["params"]["x"]
        for r in _rows(url, ["exp-a"], top=None, where="params.x in (3, 4) and not params.kind = 'a'")
    } == {3, 4}
    assert all(
        r["metrics"].get("extra") is None
        for r in _rows(url, ["exp-a"], top=None, where="metrics.extra is null")
    )
    assert len(_rows(url, ["exp-a"], top=None, where="metrics.`extra` is not null")) == 8


@pytest.mark.parametrize(
    "bad",
    [
        "params.x = '1'; drop table trials",
        "state = 'a' or 1=1 --",
        "params.x = ",
        "metrics.acc > 'high'",
        "state = 'exploded'",
        "nonsense > 1",
    ],
)
def test_malformed_and_hostile_filters_are_errors(filled, bad):
    url, _ = filled
    with pytest.raises(QueryError):
        _rows(url, ["exp-a"], where=bad)
    with opened(url) as st:  # nothing was dropped
        assert st.get_study("exp-a")


def test_globs_rank_studies_sharing_the_objective_and_refuse_mixed_ones(filled):
    url, _ = filled
    rows = _rows(url, ["exp-*"], top=4)
    assert {r["study"] for r in _rows(url, ["exp-*"], top=None)} == {"exp-a", "exp-b"}
    assert [r["params"]["x"] for r in rows] == [9, 9, 9, 8]
    with pytest.raises(UsageError, match="do not share an objective"):
        _rows(url, ["exp-a", "other"])


def test_cli_formats(filled):
    url, folder = filled

    def cli(*args):
        p = subprocess.run(
            [sys.executable, "-m", "hypersweep.cli", *args, "--store", url],
            capture_output=True,
            text=True,
            env=ENV,
            cwd=folder,
        )
        return p

    p = cli("leaderboard", "exp-a", "--top", "3", "--format", "json")
    data = json.loads(p.stdout)
    assert [d["params"]["x"] for d in data] == [9, 9, 8]
    for key in (
        "study",
        "number",
        "state",
        "params",
        "metrics",
        "objective",
        "seed",
        "started_at",
        "duration_s",
    ):
        assert key in data[0]
    assert data[0]["started_at"].endswith("+00:00")
    p = cli("leaderboard", "exp-a", "--top", "3", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(p.stdout)))
    assert [int(r["params.x"]) for r in table] == [9, 9, 8]
    p = cli("leaderboard", "exp-a", "--top", "2", "--format", "markdown")
    assert p.stdout.splitlines()[0].startswith("| number |") and p.stdout.count("\n") == 4
    p = cli("leaderboard", "exp-a", "--top", "2")
    assert p.returncode == 0 and "exp-a" not in p.stdout and "9" in p.stdout
    p = cli("leaderboard", "exp-a", "--where", "params.x = '1'; drop table trials")
    assert p.returncode == 2 and "^" in p.stderr and "Traceback" not in p.stderr
    p = cli("studies", "--format", "json")
    studies = {s["name"]: s for s in json.loads(p.stdout)}
    assert studies["exp-a"]["trials_complete"] == 16 and studies["exp-a"]["trials_failed"] == 2
    assert studies["exp-a"]["trials_pruned"] == 2 and studies["exp-a"]["best_objective"] == 0.9
    p = cli("studies", "--format", "csv")
    assert p.stdout.startswith("name,")
    p = cli("show", "exp-a", "0", "--format", "json")
    shown = json.loads(p.stdout)
    assert shown["environment"]["python"].startswith("CPython") and shown["error"] is None
    failed = next(
        d
        for d in json.loads(
            cli("leaderboard", "exp-a", "--where", "state = 'failed'", "--format", "json").stdout
        )
    )
    p = cli("show", "exp-a", str(failed["number"]))
    assert "seven is unlucky" in p.stdout
    p = cli("export", "exp-a", "--format", "parquet", "--out", str(folder / "a.parquet"))
    df = pd.read_parquet(folder / "a.parquet")
    assert len(df) == 20 and "params.x" in df and "env.python" in df


def test_dataframes(filled):
    url, _ = filled
    df = hypersweep.leaderboard("exp-*", store=url, top=5)
    assert list(df["params.x"][:3]) == [9, 9, 9] and "metrics.acc" in df
    assert str(df["started_at"].dtype).startswith("datetime64")
    st = hypersweep.studies(store=url)
    assert set(st["name"]) == {"exp-a", "exp-b", "other"}
    tr = hypersweep.trials("exp-a", store=url)
    assert len(tr) == 20 and set(tr["state"]) == {"complete", "failed", "pruned"}
