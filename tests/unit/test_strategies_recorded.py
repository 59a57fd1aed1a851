"""``auto`` and W&B's ``bayes`` are resolved once, when the study is created, and recorded; an existing
study always runs what it recorded (issue 15). ``run_sweep``/``resume_sweep`` on the local executor and
real SQLite files; the no-torch paths in a subprocess that hides torch."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import hypersweep.strategies as strategies
from hypersweep.cli import cli
from hypersweep.orchestrate import run_sweep
from hypersweep.query import study_rows
from hypersweep.store import opened, upgrade_store
from hypersweep.testing import start_study

ROOT = Path(__file__).resolve().parents[2]
ASSET = ROOT / "tests" / "data" / "stores" / "rev0003.db"

NO_KEY = """\
name: {name}
objective: {{metric: val_accuracy, goal: maximize}}
budget: {{trials: {trials}}}
trial: {{function: "fns:score"}}
parameters:
  x: {{type: float, low: 0, high: 1}}
"""
BAYES = """\
method: bayes
metric: {name: val_accuracy, goal: maximize}
program: train.py
run_cap: 3
parameters:
  x: {min: 0.0, max: 1.0}
hypersweep:
  trial: {function: "fns:score"}
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    (tmp_path / "fns.py").write_text("def score(params):\n    return {'val_accuracy': 1 - params['x']}\n")
    (tmp_path / "train.py").write_text("")
    monkeypatch.chdir(tmp_path)
    return tmp_path


class _Made(list[str]):
    """The names of the strategies made, and ``options``: the options each was made with."""

    options: list[dict[str, object]]


@pytest.fixture
def made(monkeypatch):
    """The strategy name each run made (a spy on ``make_strategy``; the strategy itself is real)."""
    names = _Made()
    names.options = []
    real = strategies.make_strategy

    def spy(spec, seed):
        names.append(spec.strategy.name)
        names.options.append(dict(spec.strategy.options))
        return real(spec, seed)

    monkeypatch.setattr(strategies, "make_strategy", spy)
    return names


def test_auto_is_recorded_when_the_study_is_created(folder, made):
    path = folder / "s.yaml"
    path.write_text(NO_KEY.format(name="s", trials=2))
    url = f"sqlite:///{folder / 'hs.db'}"
    res = run_sweep(path, store=url, executor="local")
    # auto's gp starts with max(10, 2 x searched parameters) random trials
    assert res.study.strategy == "gp" and made == ["gp"] and made.options == [{"n_startup_trials": 10}]
    with opened(url) as st:
        assert [r["strategy"] for r in study_rows(st)] == ["gp"]
    out = CliRunner().invoke(cli, ["validate", str(path)])
    assert out.exit_code == 0, out.output
    assert (
        "strategy:  gp {'n_startup_trials': 10} (auto: 1 numeric parameters and a budget of 2 trials)"
        in out.output
    )
    out = CliRunner().invoke(cli, ["validate", str(path), "--format", "json"])
    got = json.loads(out.output)["strategy"]
    assert (got["name"], got["requested"], got["options"]) == ("gp", "auto", {"n_startup_trials": 10})


def test_a_gp_study_keeps_autos_gp_start_up_when_auto_would_now_pick_tpe(folder, made):
    path = folder / "s.yaml"
    path.write_text(NO_KEY.format(name="s", trials=2))
    url = f"sqlite:///{folder / 'hs.db'}"
    run_sweep(path, store=url, executor="local")
    path.write_text(NO_KEY.format(name="s", trials=300))  # above auto's gp budget: auto alone would pick tpe
    res = run_sweep(path, store=url, executor="local", trials=3)
    assert res.study.strategy == "gp" and made == ["gp", "gp"]
    assert made.options == [{"n_startup_trials": 10}] * 2


def test_a_study_created_before_auto_keeps_its_recorded_tpe(folder, made):
    """The study of a store released at schema 0003 recorded tpe (its file had no `strategy` key); today
    that file would resolve to gp, but run goes on with tpe."""
    db = folder / "old.db"
    shutil.copy(ASSET, db)
    with sqlite3.connect(db) as con:  # the asset ran from /srv/sweeps: point it at this test's folder
        con.execute("UPDATE studies SET workdir = ?", (str(folder),))
    url = f"sqlite:///{db}"
    upgrade_store(url)  # `hypersweep db upgrade`, as its users do
    with opened(url) as st:
        before = st.get_study("digits-svc")
        n_before = len(st.get_trials(before.study_id, include_reruns=True))
    assert before.strategy == "tpe"
    path = folder / "digits-svc.yaml"
    path.write_text(NO_KEY.format(name="digits-svc", trials=2))
    res = run_sweep(path, store=url, executor="local", trials=n_before + 2)
    assert made == ["tpe"] and res.study.strategy == "tpe"
    assert made.options == [{}]  # TPE's defaults, not the options auto would give gp today
    with opened(url) as st:
        assert len(st.get_trials(before.study_id, include_reruns=True)) > n_before  # it ran, on tpe


def _hidden_torch(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    prelude = "import sys; sys.modules['torch'] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_bayes_without_torch_runs_tpe_records_it_and_a_gp_study_is_not_switched(folder):
    (folder / "w.yaml").write_text(BAYES)
    url = f"sqlite:///{folder / 'hs.db'}"
    with opened(url, create=True) as st:  # created where torch is installed: recorded as gp
        assert start_study(st, BAYES.replace("run_cap: 3", "run_cap: 2"), name="with-gp").strategy == "gp"
    out = _hidden_torch(
        f"""
        import warnings
        from hypersweep.errors import UsageError
        from hypersweep.orchestrate import resume_sweep, run_sweep
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = run_sweep("w.yaml", store={url!r}, executor="local")
        print("RAN", res.study.strategy, res.status.value)
        print("NOTICE", [str(w.message) for w in caught if "bayes" in str(w.message)])
        for name in ("with-gp",):
            try:
                resume_sweep(name, store={url!r}, executor="local")
            except UsageError as e:
                print("REFUSED", e)
        """,
        folder,
    )
    assert out.returncode == 0, out.stderr
    assert "RAN tpe finished" in out.stdout
    assert "method: bayes runs as tpe here: torch is not installed" in out.stdout
    assert "REFUSED study 'with-gp' runs strategy gp" in out.stdout
    assert "pip install 'hypersweep[gp]'" in out.stdout
    with opened(url) as st:
        assert st.get_study("w").strategy == "tpe"  # what actually ran, for resume
        assert st.get_trials(st.get_study("with-gp").study_id) == []  # nothing ran on the gp study


@pytest.mark.parametrize(
    "strategy", ["qmc", "{name: cmaes, n_startup_trials: 1}", "{name: nsga2, population_size: 2}"]
)
def test_new_strategies_run_and_resume_on_the_local_executor(folder, strategy):
    from hypersweep.orchestrate import resume_sweep

    path = folder / "s.yaml"
    text = NO_KEY.format(name="s", trials=3).replace("budget:", f"strategy: {strategy}\nbudget:")
    path.write_text(text + "  y: {type: int, low: 1, high: 8}\n")
    url = f"sqlite:///{folder / 'hs.db'}"
    first = run_sweep(path, store=url, executor="local")
    assert first.status.value == "finished" and first.study.strategy == strategy.split(",")[0].strip(
        "{"
    ).removeprefix("name: ")
    again = resume_sweep("s", store=url, executor="local", trials=5)
    assert again.status.value == "finished"
    with opened(url) as st:
        trials = st.get_trials(st.get_study("s").study_id)
    assert len(trials) == 5 and all(t.state.value == "complete" for t in trials)
    assert all(0 <= t.params["x"] <= 1 and 1 <= t.params["y"] <= 8 for t in trials)
