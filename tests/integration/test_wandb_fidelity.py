"""W&B fidelity: W&B sweep files run exactly as ``wandb agent`` runs them.

Every case runs the real trial path (spec, strategy, engine, executor, command runner, the offline ``wandb``
stand-in) with ``tests/data/wandb/record.py``, which records its argv, the ``${args_json_file}`` it got and
``wandb.config``. The records are compared with ``tests/data/wandb/golden.json``, which W&B's own agent,
sweep engine and ``Config`` produced (``generate_golden.py``; the wandb version is in the file). The only
differences allowed are the deliberate ones of docs/wandb.md, each applied below by name:

* ``${env}`` expands to nothing (W&B: ``/usr/bin/env``; hypersweep execs argv directly, PATH-resolved);
* ``${interpreter}`` is the Python that runs hypersweep (W&B: ``python``);
* ``${args_json_file}`` is a temp file's path (W&B: ``wandb/sweep-ID/config-RUN.json``);
* YAML 1.1 strings such as ``1e-5`` are floats (W&B: the string ``"1e-5"``).

The cross product (method x name form x macro) runs on the local executor; a few cases run on Ray.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hypersweep.orchestrate import run_sweep
from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened
from hypersweep.trial._wandb import SHIM_PATH

DATA = Path(__file__).parents[1] / "data" / "wandb"
GOLDEN = json.loads((DATA / "golden.json").read_text(encoding="utf-8"))
CASES = yaml.safe_load((DATA / "fidelity_cases.yaml").read_text(encoding="utf-8"))
METHODS = ("grid", "random", "bayes")
FORMS = tuple(CASES["forms"])
CONFIGS = sorted(GOLDEN["configs"])


SEP = "::"


def _write_sweep(folder: Path, form: str, kind: str, method: str) -> Path:
    """``kind`` "all": every macro in one command, each after a ``::`` item; "default": no command."""
    sweep: dict[str, Any] = {
        "program": "record.py",
        "method": method,
        "metric": {"name": "loss", "goal": "minimize"},
        "run_cap": 1,
        "parameters": CASES["forms"][form],
    }
    if kind == "all":
        command = ["${env}", "${interpreter}", "${program}"]
        for macro in CASES["macros"]:
            command += [SEP, "${" + macro + "}"]
        sweep["command"] = command
    path = folder / f"{form}-{kind}-{method}.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    shutil.copy(DATA / "record.py", folder / "record.py")
    return path


def _records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((folder / "records").glob("*.json"))]


def _trials(url: str, study: str):
    with opened(url) as st:
        return st.get_trials(st.get_study(study).study_id)


def _expected_argv(golden_argv: list[str], program: str, *, interpreter: bool) -> list[str]:
    """W&B's argv with the deliberate differences applied: no ``/usr/bin/env``, the driver's Python."""
    argv = list(golden_argv)
    assert argv[0] == "/usr/bin/env", argv
    argv = argv[1:]
    if interpreter:
        assert argv[0] == "python", argv
        argv[0] = sys.executable
    assert program in argv, (program, argv)
    return argv


def _same_argv(got: list[str], want: list[str], args_json_file: str | None, file_text: str | None) -> None:
    """Equal item by item, but W&B's ``<args_json_file>`` stands for any temp ``.json`` path."""
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want, strict=True):
        if w == "<args_json_file>":
            assert g.endswith(".json"), got
            assert file_text == args_json_file
        else:
            assert g == w, (got, want)


def _check_record(rec: dict[str, Any], golden: dict[str, Any], program: str, *, interpreter: bool) -> None:
    want = _expected_argv(golden["argv"], program, interpreter=interpreter)
    _same_argv(rec["argv"], want[want.index(program) + 1 :], golden["args_json_file"], rec["args_json_file"])
    _check_process(rec, golden, program, interpreter=interpreter)


def _check_process(rec: dict[str, Any], golden: dict[str, Any], program: str, *, interpreter: bool) -> None:
    if interpreter:
        assert rec["cmdline"][0] == sys.executable and rec["argv0"] == program, rec["cmdline"]
    else:  # a console script on PATH: the kernel runs its shebang's Python on it
        assert os.path.basename(rec["argv0"]) == program, rec["argv0"]
    assert rec["config"] == golden["config"]
    assert rec["config_keys"] == list(golden["config"])
    assert rec["attrs_match"] is True
    assert rec["wandb_file"].startswith(SHIM_PATH), rec["wandb_file"]


def _segment(argv: list[str], index: int) -> list[str]:
    """The items after the ``index``-th ``::`` of ``argv`` (up to the next one)."""
    out: list[list[str]] = []
    for item in argv:
        if item == SEP:
            out.append([])
        elif out:
            out[-1].append(item)
    return out[index]


@pytest.fixture(scope="module")
def sweep_runs(tmp_path_factory):
    """(form, kind, method, executor) -> the trial's record; each sweep runs once for the whole module."""
    done: dict[tuple[str, str, str, str], dict[str, Any]] = {}

    def get(form: str, kind: str, method: str, executor: str = "local") -> dict[str, Any]:
        key = (form, kind, method, executor)
        if key not in done:
            folder = tmp_path_factory.mktemp(f"{form}-{kind}-{method}-{executor}")
            path = _write_sweep(folder, form, kind, method)
            url = f"sqlite:///{folder / 'hs.db'}"
            res = run_sweep(path, store=url, executor=executor)
            assert res.status is StudyStatus.FINISHED
            (trial,) = _trials(url, path.stem)
            assert trial.state is TrialState.COMPLETE, trial.error
            (done[key],) = _records(folder)
        return done[key]

    return get


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("macro", CASES["macros"])
@pytest.mark.parametrize("form", FORMS)
def test_macro_matches_wandb_local(sweep_runs, form, macro, method):
    rec = sweep_runs(form, "all", method)
    golden_all = GOLDEN["fidelity"][f"{form}-all"]
    i = CASES["macros"].index(macro)
    want = _segment(golden_all["argv"], i)
    assert want == GOLDEN["fidelity"][f"{form}-{macro}"]["argv"][3:]  # the golden data agree with themselves
    _same_argv(_segment(rec["argv"], i), want, golden_all["args_json_file"], rec["args_json_file"])
    _check_process(rec, golden_all, "record.py", interpreter=True)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("form", FORMS)
def test_default_command_matches_wandb_local(sweep_runs, form, method):
    """No ``command``: W&B's ``${env} ${interpreter} ${program} ${args}``."""
    _check_record(sweep_runs(form, "default", method), GOLDEN["fidelity"][f"{form}-default"], "record.py", interpreter=True)  # fmt: skip


@pytest.mark.usefixtures("ray_session")
@pytest.mark.parametrize(("form", "method"), [("mixed", "bayes"), ("dotted", "grid"), ("nested", "random")])
def test_every_macro_matches_wandb_ray(sweep_runs, form, method):
    _check_record(sweep_runs(form, "all", method, "ray"), GOLDEN["fidelity"][f"{form}-all"], "record.py", interpreter=True)  # fmt: skip


# -- real-world-shaped files -----------------------------------------------------------------------------
def _yaml11(value: Any) -> Any:
    """The deliberate YAML difference: W&B reads ``1e-5`` as the string "1e-5", hypersweep as a float."""
    if isinstance(value, str):
        try:
            return float(value) if "e" in value.lower() else value
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _yaml11(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml11(v) for v in value]
    return value


def _golden_run(config: str, run: dict[str, Any]) -> dict[str, Any]:
    if config != "yaml11_floats":
        return run
    values = _yaml11(run["values"])
    argv = [
        a if not a.startswith("--") or "=" not in a else f"{a.split('=')[0]}={values[a[2:].split('=')[0]]}"
        for a in run["argv"]
    ]
    return {**run, "values": values, "argv": argv, "config": _yaml11(run["config"])}


def _setup_config(folder: Path, config: str) -> tuple[Path, str, bool]:
    src = DATA / "configs" / f"{config}.yaml"
    sweep = yaml.safe_load(src.read_text(encoding="utf-8"))
    program = sweep["program"]
    path = folder / src.name
    shutil.copy(src, path)
    command = sweep.get("command") or ["${env}", "${interpreter}", "${program}", "${args}"]
    interpreter = "${interpreter}" in command
    if interpreter:
        shutil.copy(DATA / "record.py", folder / program)
    else:  # a console script on PATH, as `pip install` writes one
        bin_dir = folder / "bin"
        bin_dir.mkdir()
        exe = bin_dir / program
        exe.write_text(f"#!{sys.executable}\n" + (DATA / "record.py").read_text(encoding="utf-8"))
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return path, program, interpreter


# the study each file runs as: a W&B display name gives a derived study name, a valid name is kept as it is
STUDY_NAMES = {
    "display_name": "First-Sweep",
    "display_name_slash": "imbal_prop-leq0.1",
    "console_script": "icu-benchmark-sweep",
    "hydra_dotted": "hydra-sweep",
}


@pytest.mark.parametrize("config", CONFIGS)
def test_real_world_configs_match_wandb(tmp_path, monkeypatch, config):
    path, program, interpreter = _setup_config(tmp_path, config)
    if not interpreter:
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", "/data")  # as generate_golden.py sets it
    runs = [_golden_run(config, r) for r in GOLDEN["configs"][config]["runs"]]
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    res = run_sweep(path, store=url, executor="local", trials=len(runs))
    assert res.status is StudyStatus.FINISHED
    assert res.study.name == STUDY_NAMES.get(config, config)
    trials = _trials(url, res.study.name)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * len(trials), [t.error for t in trials]
    records = _records(tmp_path)
    assert len(records) == len(trials) >= 1
    by_config = {json.dumps(r["config"], sort_keys=True): r for r in runs}
    for rec in records:  # each trial is one of W&B's runs, rendered exactly as W&B renders that run
        golden = by_config.get(json.dumps(rec["config"], sort_keys=True))
        assert golden is not None, (rec["config"], list(by_config))
        _check_record(rec, golden, program, interpreter=interpreter)
    if yaml.safe_load(path.read_text())["method"] == "grid":  # a grid runs every one of W&B's runs
        assert sorted(json.dumps(r["config"], sort_keys=True) for r in records) == sorted(by_config)


# -- the table of docs/wandb.md --------------------------------------------------------------------------
DOCS = Path(__file__).parents[2] / "docs" / "wandb.md"
_DELIBERATE = {
    "env": "deliberate: argv is exec'd directly, with the PATH lookup `/usr/bin/env` would do",
    "interpreter": "deliberate: the Python that runs hypersweep's worker",
    "args_json_file": "deliberate: a temp file per trial, holding `${args_json}` as W&B writes it",
}


def _cell(argv: list[str]) -> str:
    return " ".join("`" + a.replace("|", "\\|") + "`" for a in argv) if argv else "(nothing)"


def docs_table() -> str:
    """The macro table of docs/wandb.md: W&B's argv from golden.json, hypersweep's from its renderer."""
    from hypersweep.spec import build_argv, grid_points, parse_spec, trial_config

    rows = ["| macro | names | `wandb agent` | hypersweep | difference |", "|---|---|---|---|---|"]
    for macro in [*CASES["macros"], "env", "interpreter", "program", "envvar:DATA_DIR"]:
        for form, params in CASES["docs_forms"].items():
            sweep = {
                "method": "grid",
                "program": "train.py",
                "parameters": params,
                "command": ["${" + macro + "}"],
            }
            spec = parse_spec(yaml.safe_dump(sweep, sort_keys=False), check_files=False)
            (point,) = grid_points(spec.parameters)
            ours = build_argv(
                spec.trial.command or (),
                point,
                config=trial_config(spec.parameters, point, wandb=True),
                program=spec.trial.program,
                interpreter="/venv/bin/python",
                args_json_file="/tmp/hypersweep-trial-x/args.json",
                environ={"DATA_DIR": "/data"},
            )
            theirs = GOLDEN["docs"][f"{form}-{macro}"]
            note = _DELIBERATE.get(macro, "") if ours != theirs else ""
            if ours != theirs and not note:
                note = "**differs**"
            rows.append(f"| `${{{macro}}}` | {form} | {_cell(theirs)} | {_cell(ours)} | {note} |")
            if macro in ("env", "interpreter", "program", "envvar:DATA_DIR"):
                break  # the same for every name form
    return "\n".join(rows) + "\n"


def test_docs_table_is_current_and_matches_wandb():
    table = docs_table()
    assert "**differs**" not in table  # every difference from W&B is deliberate and explained
    assert table in DOCS.read_text(encoding="utf-8"), "regenerate the table in docs/wandb.md (see its note)"


# -- the CLI: `run` and `run --dry-run` on a Hydra-style file ---------------------------------------------
def test_cli_run_and_dry_run_give_hydra_dotted_overrides(tmp_path, monkeypatch, capsys):
    from hypersweep.cli import main as cli_main

    def main(args: list[str]) -> None:
        with pytest.raises(SystemExit) as e:
            cli_main(args)
        assert e.value.code == 0, capsys.readouterr().err

    path, _, _ = _setup_config(tmp_path, "hydra_dotted")
    monkeypatch.chdir(tmp_path)
    main(["run", str(path), "--dry-run", "--trials", "4"])
    shown = capsys.readouterr().out
    assert "optimizer.config.learning_rate=0.001" in shown and "model.depth=2" in shown
    assert "model={" not in shown and "optimizer={" not in shown
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    main(["run", str(path), "--store", url, "--executor", "local", "--quiet", "--trials", "3"])
    records = _records(tmp_path)
    assert len(records) == 3
    for rec in records:
        assert [a.split("=")[0] for a in rec["argv"]] == [
            "model.depth",
            "optimizer.config.learning_rate",
            "trainer.max_epochs",
        ]


def test_two_display_names_deriving_one_study_name_meet_the_resume_check(tmp_path, capsys):
    from hypersweep.cli import main as cli_main
    from hypersweep.errors import ResumeConflictError

    shutil.copy(DATA / "record.py", tmp_path / "train.py")
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    base = "program: train.py\nmethod: grid\nparameters:\n  lr: {values: [%s]}\n"
    a.write_text("name: First Sweep\n" + base % "0.1")
    b.write_text("name: First/Sweep\n" + base % "0.2")
    with pytest.raises(SystemExit) as e:
        cli_main(["validate", str(b)])
    shown = capsys.readouterr()
    assert e.value.code == 0, shown
    assert "First-Sweep" in shown.out + shown.err and "--name" in shown.out + shown.err
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    assert run_sweep(a, store=url, executor="local").study.name == "First-Sweep"
    with pytest.raises(ResumeConflictError) as conflict:
        run_sweep(b, store=url, executor="local")
    assert "First-Sweep" in str(conflict.value) and "--name" in str(conflict.value)
    assert run_sweep(b, store=url, executor="local", name="First-Sweep-2").status is StudyStatus.FINISHED
