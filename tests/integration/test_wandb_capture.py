"""W&B capture mode: W&B sweep configs plus training scripts written against ``wandb``'s API, run unchanged
and offline; their config, logged steps, summaries and files reach the hypersweep store.

The scripts live in ``wandb_scripts/``; each test writes a W&B sweep config beside them in a temp folder and
runs it with the local executor (command trials are real subprocesses), one test through Ray.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hypersweep.orchestrate import run_sweep
from hypersweep.query import leaderboard_rows
from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened
from hypersweep.trial import TrialPayload
from hypersweep.trial._wandb import SHIM_PATH

SCRIPTS = Path(__file__).parent / "wandb_scripts"
SPEC_DATA = Path(__file__).parents[1] / "data" / "specs"


def _sweep(tmp_path: Path, text: str, *scripts: str, name: str = "sweep.yaml") -> Path:
    for s in scripts:
        shutil.copy(SCRIPTS / s, tmp_path / s)
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hs.db'}"


def _study(url: str, name: str):
    """(trials, {trial number: {metric: [(step, value), ...]}})"""
    with opened(url) as st:
        study = st.get_study(name)
        trials = st.get_trials(study.study_id)
        history = {}
        for t in trials:
            curves: dict[str, list[tuple[int, float]]] = {}
            for p in st.get_history(t.trial_id):
                curves.setdefault(p.name, []).append((p.step, p.value))
            history[t.number] = {k: sorted(v) for k, v in curves.items()}
        return trials, history


def _leaderboard(url: str, name: str, **kw):
    with opened(url) as st:
        return leaderboard_rows(st, [name], top=None, **kw)


def _flat(params):
    out = {}
    for k, v in params.items():
        if isinstance(v, dict):
            out.update({f"{k}.{kk}": vv for kk, vv in _flat(v).items()})
        else:
            out[k] = v
    return out


def test_the_real_wandb_package_is_not_needed():
    """The venv has no ``wandb``; whatever a trial imports is the stand-in (checked in every test's log)."""
    plain = subprocess.run([sys.executable, "-c", "import wandb"], capture_output=True, text=True)
    shimmed = subprocess.run(
        [sys.executable, "-c", "import wandb; print(wandb.__file__, wandb.HYPERSWEEP_CAPTURE)"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SHIM_PATH, "PATH": "/usr/bin:/bin"},
    )
    if plain.returncode == 0:  # a real wandb is installed here: the shim must still win
        assert "No module named 'wandb'" not in plain.stderr
    else:
        assert "No module named 'wandb'" in plain.stderr
    assert shimmed.returncode == 0, shimmed.stderr
    assert shimmed.stdout.split() == [str(Path(SHIM_PATH) / "wandb" / "__init__.py"), "True"]


def test_a_script_reading_only_wandb_config(tmp_path):
    path = _sweep(
        tmp_path,
        """
        program: train_config_only.py
        method: grid
        metric: {name: val_loss, goal: minimize}
        parameters:
          lr: {values: [0.001, 0.01, 0.1]}
          batch_size: {value: 32}
        command:
          - ${env}
          - ${interpreter}
          - ${program}
        """,
        "train_config_only.py",
        name="linreg.yaml",
    )
    url = _url(tmp_path)
    res = run_sweep(path, store=url, executor="local")
    assert res.study.spec_format == "wandb" and res.status is StudyStatus.FINISHED
    trials, history = _study(url, "linreg")
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3, [t.error for t in trials]
    for t in trials:
        # the sweep's values reached wandb.config (lr locked against the script's update), the script's
        # defaults filled the rest
        assert t.metrics["lr_used"] == t.params["lr"]
        assert t.metrics["batch_size_used"] == 32 and t.metrics["epochs_trained"] == 6
        curves = history[t.number]
        assert [s for s, _ in curves["val_loss"]] == list(range(6))  # one W&B step per wandb.log call
        assert [s for s, _ in curves["epoch"]] == list(range(6)) and [v for _, v in curves["epoch"]] == list(
            range(6)
        )
        assert t.objective == curves["val_loss"][-1][1] == t.metrics["val_loss"]
        assert f"wandb module: {SHIM_PATH}" in (t.log_tail or "")
        assert "Config item 'lr' was locked by 'sweep' (ignored update)" in (t.log_tail or "")
    rows = _leaderboard(url, "linreg")
    assert [r["params"]["lr"] for r in rows] == [0.1, 0.01, 0.001]  # the larger step converges best here
    assert rows[0]["objective"] < rows[-1]["objective"]
    assert res.top[0]["params"]["lr"] == 0.1


def test_a_lightning_style_script_with_a_summary(tmp_path):
    path = _sweep(
        tmp_path,
        """
        program: train_lightning_style.py
        method: random
        metric: {name: val_loss, goal: minimize}
        run_cap: 3
        parameters:
          lr: {distribution: log_uniform_values, min: 0.01, max: 0.5}
          width: {values: [32, 64, 128]}
        command:
          - ${env}
          - ${interpreter}
          - ${program}
        """,
        "train_lightning_style.py",
        name="lit.yaml",
    )
    url = _url(tmp_path)
    run_sweep(path, store=url, executor="local", seed=7)
    trials, history = _study(url, "lit")
    assert len(trials) == 3 and all(t.state is TrialState.COMPLETE for t in trials), [t.error for t in trials]
    for t in trials:
        curves = history[t.number]
        # 8 epochs of 5 training steps, each followed by one validation row: 48 W&B steps in all
        train_steps = [s for s, _ in curves["train/loss"]]
        val_steps = [s for s, _ in curves["val_loss"]]
        assert len(train_steps) == 40 and len(val_steps) == 8
        assert val_steps == [6 * e + 5 for e in range(8)]
        assert sorted(train_steps + val_steps) == list(range(48))
        assert [v for _, v in curves["trainer/global_step"]] == list(range(40))
        # the summary the script wrote is the final value: the best epoch, not the last one
        vals = [v for _, v in curves["val_loss"]]
        assert t.objective == pytest.approx(min(vals)) == t.metrics["best_epoch_val_loss"]
        assert min(vals) < vals[-1]
        assert t.metrics["train/loss"] == curves["train/loss"][-1][1]
        log = t.log_tail or ""
        assert log.count("wandb.watch is accepted and ignored") == 1
        assert log.count("wandb.define_metric is accepted and ignored") == 1
    rows = _leaderboard(url, "lit")
    assert [r["objective"] for r in rows] == sorted(t.objective for t in trials)


def test_args_json_file_feeds_wandb_init(tmp_path):
    path = _sweep(
        tmp_path,
        """
        program: train_args_json_file.py
        method: grid
        metric: {name: score, goal: maximize}
        parameters:
          x: {values: [1.0, 2.0, 3.5]}
          layers: {values: [1, 3]}
        command:
          - ${env}
          - ${interpreter}
          - ${program}
          - ${args_json_file}
        """,
        "train_args_json_file.py",
        name="argsfile.yaml",
    )
    url = _url(tmp_path)
    run_sweep(path, store=url, executor="local")
    trials, history = _study(url, "argsfile")
    assert len(trials) == 6 and all(t.state is TrialState.COMPLETE for t in trials), [t.error for t in trials]
    for t in trials:
        want = -((t.params["x"] - 2.0) ** 2) - 0.1 * t.params["layers"]
        assert t.objective == pytest.approx(want)
        assert t.metrics["layers_seen"] == t.params["layers"]  # summary printed at exit, no finish()
        assert [s for s, _ in history[t.number]["score"]] == [0, 1, 2, 3]
    best = _leaderboard(url, "argsfile")[0]
    assert best["params"] == {"x": 2.0, "layers": 1}


def test_the_nested_spec_config_end_to_end(tmp_path):
    """``tests/data/specs/wandb_nested.yaml`` (nested ``optimizer``, dotted ``model.depth``, hyperband,
    bayes, ``${args}``) with a script that reads ``wandb.config`` as W&B's agent fills it."""
    shutil.copy(SPEC_DATA / "wandb_nested.yaml", tmp_path / "wandb_nested.yaml")
    shutil.copy(SCRIPTS / "train_nested.py", tmp_path / "train.py")
    url = _url(tmp_path)
    res = run_sweep(
        tmp_path / "wandb_nested.yaml",
        store=url,
        executor="local",
        trials=6,
        seed=3,
        overrides=["resources.gpus=0"],
    )
    assert res.status is StudyStatus.FINISHED
    trials, history = _study(url, "wandb_nested")
    assert len(trials) == 6
    done = [t for t in trials if t.state is TrialState.COMPLETE]
    assert done and all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    for t in done:
        flat = _flat(t.params)
        assert t.metrics["seen_depth"] == flat["model.depth"]
        assert t.metrics["seen_momentum"] == pytest.approx(flat["optimizer.momentum"])
        assert t.metrics["seen_adam"] == float(flat["optimizer.name"] == "adam")
        assert len(history[t.number]["val_loss"]) == 6
        assert t.objective == history[t.number]["val_loss"][-1][1]
    rows = _leaderboard(url, "wandb_nested")
    assert len(rows) == len(done)
    assert rows[0]["objective"] == min(t.objective for t in done)
    assert {"optimizer.name", "optimizer.momentum", "model.depth", "lr"} <= set(rows[0]["params"])


def test_commit_false_accumulates_into_one_step(tmp_path):
    path = _sweep(
        tmp_path,
        """
        program: train_accumulate.py
        method: grid
        metric: {name: val_loss, goal: minimize}
        parameters:
          decay: {values: [0.5]}
        command:
          - ${env}
          - ${interpreter}
          - ${program}
        """,
        "train_accumulate.py",
        name="accumulate.yaml",
    )
    url = _url(tmp_path)
    run_sweep(path, store=url, executor="local")
    (t,), history = _study(url, "accumulate")
    assert t.state is TrialState.COMPLETE, t.error
    curves = history[t.number]
    for name in ("train_loss", "lr", "val_loss"):
        assert [s for s, _ in curves[name]] == [0, 1, 2, 3], name
    assert [v for _, v in curves["lr"]] == [1.0, 0.5, 0.25, 0.125]
    assert curves["test_acc"] == [(100, 0.75)] and curves["test_loss"] == [(100, 0.25)]
    assert curves["after"] == [(101, 1.0)]
    assert t.objective == pytest.approx(1.5 / 4)


def test_an_unsupported_call_fails_the_trial_clearly(tmp_path):
    path = _sweep(
        tmp_path,
        """
        program: train_unsupported.py
        method: grid
        metric: {name: loss, goal: minimize}
        parameters:
          x: {values: [1]}
        command:
          - ${env}
          - ${interpreter}
          - ${program}
        """,
        "train_unsupported.py",
        name="unsupported.yaml",
    )
    url = _url(tmp_path)
    run_sweep(path, store=url, executor="local")
    (t,), history = _study(url, "unsupported")
    assert t.state is TrialState.FAILED
    assert "wandb.Api is not supported" in t.error
    assert "offline W&B capture" in t.error and "wandb: off" in t.error
    assert history[t.number]["loss"] == [(0, 1.0)]  # what it logged before the failure is kept


def _payload(tmp_path: Path, script: str, *, capture: bool) -> TrialPayload:
    shutil.copy(SCRIPTS / script, tmp_path / script)
    return TrialPayload(
        trial_id=1,
        study="files",
        number=0,
        params={"width": 8},
        nested_params={"width": 8},
        seed=1,
        workdir=str(tmp_path),
        objective="val_loss",
        command=("${env}", "${interpreter}", "${program}"),
        program=script,
        capture_env=False,
        wandb_capture=capture,
    )


def test_wandb_save_and_artifacts_become_hypersweep_artifacts(tmp_path):
    result = _payload(tmp_path, "train_save.py", capture=True)(None)
    assert result.state == "complete", result.error
    got = dict(result.artifacts)
    assert got["model.json"] == str(tmp_path / "model.json")
    # policy="end": matched when the run finished
    assert got["checkpoints/epoch0.ckpt"] == str(tmp_path / "checkpoints" / "epoch0.ckpt")
    assert got["checkpoints/epoch1.ckpt"] == str(tmp_path / "checkpoints" / "epoch1.ckpt")
    assert got["predictions/preds.csv"] == str(tmp_path / "preds.csv")
    assert got["predictions/notes.txt"].endswith("notes.txt")
    # run.dir is $HYPERSWEEP_ARTIFACT_DIR, collected with the trial: not recorded twice
    assert not any("in_run_dir" in name for name in got)
    assert "hypersweep-trial-" in (result.log_tail or "").split("run.dir:", 1)[1].splitlines()[0]
    assert result.metrics == {"val_loss": 0.5}
    assert (tmp_path / "model.json").read_text() == '{"width": 8}'


def test_wandb_save_in_a_sweep(tmp_path):
    path = _sweep(
        tmp_path,
        """
        program: train_save.py
        method: grid
        metric: {name: val_loss, goal: minimize}
        parameters:
          width: {values: [4]}
        command:
          - ${env}
          - ${interpreter}
          - ${program}
        """,
        "train_save.py",
        name="files.yaml",
    )
    url = _url(tmp_path)
    run_sweep(path, store=url, executor="local")
    (t,), history = _study(url, "files")
    assert t.state is TrialState.COMPLETE, t.error
    assert t.objective == 0.5 and [s for s, _ in history[t.number]["val_loss"]] == [0, 1]
    assert '"hypersweep_artifact"' in (t.log_tail or "") and "model.json" in (t.log_tail or "")


def test_without_capture_the_script_cannot_import_wandb(tmp_path):
    result = _payload(tmp_path, "train_save.py", capture=False)(None)
    if result.state == "complete":  # a real wandb is installed in this environment
        pytest.skip("the real wandb package is installed here")
    assert result.state == "failed" and "No module named 'wandb'" in result.error


def test_hyperband_prunes_bad_runs(tmp_path):
    path = _sweep(
        tmp_path,
        """
        program: train_hyperband.py
        method: grid
        metric: {name: val_loss, goal: minimize}
        early_terminate: {type: hyperband, min_iter: 1, eta: 3}
        parameters:
          quality: {values: [1.0, 0.9, 0.05, 0.8, 0.02, 0.7, 0.1, 0.6, 0.03, 0.5, 0.01, 0.4]}
        command:
          - ${env}
          - ${interpreter}
          - ${program}
        """,
        "train_hyperband.py",
        name="hyperband.yaml",
    )
    url = _url(tmp_path)
    run_sweep(path, store=url, executor="local")
    trials, history = _study(url, "hyperband")
    assert len(trials) == 12
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    done = [t for t in trials if t.state is TrialState.COMPLETE]
    assert pruned and done and len(pruned) + len(done) == 12
    best = min(trials, key=lambda t: -t.params["quality"])
    assert best.state is TrialState.COMPLETE
    assert all(len(history[t.number]["val_loss"]) == 9 for t in done)
    # hyperband counts logged values: pruned runs were stopped at a rung, most of them early
    assert all(len(history[t.number].get("val_loss", [])) <= 9 for t in pruned)
    assert sum(len(history[t.number].get("val_loss", [])) < 9 for t in pruned) >= len(pruned) // 2
    assert max(t.params["quality"] for t in pruned) < 1.0
    rows = _leaderboard(url, "hyperband")
    assert rows[0]["params"]["quality"] == 1.0


@pytest.mark.usefixtures("ray_session")
def test_capture_through_ray(tmp_path):
    path = _sweep(
        tmp_path,
        """
        program: train_config_only.py
        method: random
        metric: {name: val_loss, goal: minimize}
        run_cap: 4
        parameters:
          lr: {distribution: log_uniform_values, min: 0.001, max: 0.1}
          batch_size: {values: [16, 32]}
        command:
          - ${env}
          - ${interpreter}
          - ${program}
        """,
        "train_config_only.py",
        name="linreg_ray.yaml",
    )
    url = _url(tmp_path)
    res = run_sweep(path, store=url, executor="ray", parallel=2, seed=1)
    assert res.status is StudyStatus.FINISHED
    trials, history = _study(url, "linreg_ray")
    assert len(trials) == 4 and all(t.state is TrialState.COMPLETE for t in trials), [t.error for t in trials]
    for t in trials:
        assert (
            t.metrics["lr_used"] == t.params["lr"] and t.metrics["batch_size_used"] == t.params["batch_size"]
        )
        assert [s for s, _ in history[t.number]["val_loss"]] == list(range(6))
        assert f"wandb module: {SHIM_PATH}" in (t.log_tail or "")
    assert len(_leaderboard(url, "linreg_ray")) == 4


SEMANTICS = """
import json
import wandb

for call in (lambda: wandb.log({"a": 1}), lambda: wandb.config.lr):
    try:
        call()
    except wandb.Error as e:
        print("before init:", e)
run = wandb.init(config={"a": 1, "b": {"c": 2}})
assert wandb.run is run and wandb.config is run.config and wandb.summary is run.summary
assert run.config.as_dict() == {"a": 1, "b": {"c": 9}}, run.config.as_dict()
assert run.config.get("zz", 5) == 5
wandb.log({"x": 1}, step=5)
wandb.log({"x": 2}, step=3)  # lower than the current step: dropped, as W&B does
wandb.log({"y": 1})  # commits step 5 with x and y
wandb.log({"step": 7, "z": 1, "name": "text", "t": wandb.Table(columns=["q"])})
wandb.Table(columns=["r"])
try:
    wandb.config.update({"a": 2})
except wandb.Error as e:
    print("config:", type(e).__name__)
wandb.config.update({"a": 2}, allow_val_change=True)
run.config.new_key = 3
assert run.config["a"] == 2 and run.config.new_key == 3
for call in (wandb.sweep, wandb.agent):
    try:
        call({})
    except wandb.Error as e:
        print("refused:", e)
assert not hasattr(wandb, "restore") and not hasattr(run, "use_artifact")
run.summary["acc"] = 0.5
run.summary["later"] = 1.0
wandb.log({"later": 2.0})  # a later log replaces a summary value, as in W&B
raise SystemExit(3)  # the run is still finished at exit
"""


def test_stand_in_semantics(tmp_path):
    script = tmp_path / "semantics.py"
    script.write_text(SEMANTICS)
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": SHIM_PATH, "HYPERSWEEP_PARAMS": '{"b": {"c": 9}}', "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == "before init: You must call wandb.init() before wandb.log()"
    assert out[1] == "before init: You must call wandb.init() before wandb.config.lr"
    lines = [json.loads(x) for x in out if x.startswith("{")]
    assert lines == [
        {"step": 5, "x": 1.0, "y": 1.0},
        {"step": 6, "z": 1.0},
        {"step": 7, "later": 2.0},
        {"acc": 0.5},
    ]
    assert "config: ConfigError" in out
    assert sum(x.startswith("refused: wandb.sweep() is not available") for x in out) == 1
    assert sum(x.startswith("refused: wandb.agent() is not available") for x in out) == 1
    err = proc.stderr
    assert err.count("wandb.Table is accepted and ignored") == 1
    assert "log to step 3 that is less than the current step 5" in err
    assert "a metric named 'step' is not recorded" in err
