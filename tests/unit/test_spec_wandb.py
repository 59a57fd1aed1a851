"""W&B sweep configs: the 62 golden cases, every distribution, quantile mapping, deliberate differences."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import pytest
import yaml

from hypersweep.errors import SpecError
from hypersweep.spec import grid_points, load_spec, nest, parse_spec

DATA = Path(__file__).resolve().parents[1] / "data"
CASES = yaml.safe_load((DATA / "wandb_cases.yaml").read_text())

# Where hypersweep deliberately differs from W&B's engine (docs/sweep-file.md):
WARN_NOT_ERROR = {
    "goal_misspelt_minimise",
    "legacy_log_uniform",
    "legacy_q_log_uniform",
    "legacy_inv_log_uniform",
}
VALID_HERE = {
    "string_bounds_pyyaml_1e-5",
    "nested_param_dict",
}  # 1e-5 is a float; nesting is fine in a config
REFUSED_HERE = {"method_custom_without_scheduler"}


def load(config: dict, **kw):
    config = dict(config)
    config.setdefault("program", "train.py")  # hypersweep needs something to run
    return parse_spec(yaml.safe_dump(config, sort_keys=False), check_files=False, **kw)


@pytest.mark.parametrize("case", CASES["parameter_cases"], ids=lambda c: c["id"])
def test_parameter_case(case):
    expect = case["expect"]
    config = {"method": "random", "parameters": {"p": case["param"]}}
    valid = expect["valid"] or case["id"] in VALID_HERE
    if not valid:
        with pytest.raises(SpecError) as e:
            load(config)
        assert any(v.path.startswith("parameters.p") for v in e.value.violations)
        return
    s = load(config)
    if case["id"] in VALID_HERE:
        return
    (p,) = s.parameters
    assert {**p.args, "distribution": p.distribution} == expect["filled"]


@pytest.mark.parametrize("case", CASES["sweep_cases"], ids=lambda c: c["id"])
def test_sweep_case(case):
    expected = case["expect"]["violations"]
    invalid = (bool(expected) and case["id"] not in WARN_NOT_ERROR) or case["id"] in REFUSED_HERE
    if invalid:
        with pytest.raises(SpecError):
            load(case["config"])
    else:
        s = load(case["config"])
        if case["id"] in WARN_NOT_ERROR:
            assert any(
                expected[0].split(",")[0][:20] in w.message or "minimize" in w.message for w in s.warnings
            )


@pytest.mark.parametrize("case", CASES["grid_cases"], ids=lambda c: c["id"])
def test_grid_case(case):
    config = {"method": "grid", "parameters": case["parameters"]}
    expect = case["expect"]
    if "raises" in expect:
        with pytest.raises(SpecError, match="disallowed type with grid search"):
            load(config)
        return
    s = load(config)
    runs = [{k: {"value": v} for k, v in nest(point).items()} for point in grid_points(s.parameters)]
    assert runs == expect["run_configs"]
    if "v1" in runs[0]:  # ints stay ints, floats floats, as W&B gives them
        assert [type(r["v1"]["value"]) for r in runs] == [
            type(r["v1"]["value"]) for r in expect["run_configs"]
        ]
    assert s.grid_size == expect["n_runs"] == s.budget.trials


def test_golden_file_counts():
    assert sum(len(CASES[k]) for k in ("parameter_cases", "sweep_cases", "grid_cases")) == 62


BOUNDS = {
    "uniform": ("float", 0.5, 2.0, False),
    "int_uniform": ("int", 1, 4, False),
    "log_uniform_values": ("float", 0.5, 2.0, True),
    "inv_log_uniform_values": ("float", 0.5, 2.0, True),
    "log_uniform": ("float", math.exp(0.5), math.exp(2.0), True),
    "inv_log_uniform": ("float", math.exp(-2.0), math.exp(-0.5), True),
}


@pytest.mark.parametrize("dist", list(BOUNDS))
def test_range_distributions(dist):
    lo, hi = (1, 4) if dist == "int_uniform" else (0.5, 2.0)
    s = load({"method": "random", "parameters": {"p": {"distribution": dist, "min": lo, "max": hi}}})
    (p,) = s.parameters
    kind, low, high, log = BOUNDS[dist]
    assert (p.kind, p.log) == (kind, log)
    assert p.low == pytest.approx(low) and p.high == pytest.approx(high)
    assert any("base-e exponents" in w.message for w in s.warnings) == (
        dist in ("log_uniform", "inv_log_uniform")
    )


QUANTILE = {
    "q_uniform": {"min": 0.3, "max": 2.0, "q": 0.5},
    "q_log_uniform_values": {"min": 1, "max": 100, "q": 5},
    "q_log_uniform": {"min": 0.0, "max": 3.0, "q": 2},
    "q_normal": {"mu": 3, "sigma": 2, "q": 0.5},
    "normal": {"mu": 1.0, "sigma": 0.5},
    "log_normal": {"mu": 0.0, "sigma": 1.0},
    "q_log_normal": {"q": 0.25},
    "beta": {"a": 2, "b": 5},
    "q_beta": {"a": 2, "b": 2, "q": 0.1},
}


@pytest.mark.parametrize("dist", list(QUANTILE))
def test_quantile_ppf(dist):
    s = load(
        {
            "method": "bayes",
            "metric": {"name": "m"},
            "parameters": {"p": {"distribution": dist, **QUANTILE[dist]}},
        }
    )
    (p,) = s.parameters
    assert p.kind == "quantile" and p.ppf is not None
    q = p.args.get("q")
    lo, hi = p.low, p.high
    values = [p.from_quantile(u) for u in (1e-12, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1.0 - 1e-12)]
    assert values == sorted(values)  # an inverse CDF is monotone
    for v in values:
        assert math.isfinite(v)
        if q:
            assert abs(v / q - round(v / q)) < 1e-9, v
            assert isinstance(v, int) == isinstance(q, int)
        if lo is not None:
            assert lo <= v <= hi
        if "log" in dist:
            assert v >= 0
        if "beta" in dist:
            assert 0 <= v <= 1
    pickle.loads(pickle.dumps(p)).from_quantile(0.5)


def test_quantile_exact_values():
    s = load({"method": "random", "parameters": {
        "u": {"distribution": "q_uniform", "min": 0.3, "max": 2.0, "q": 0.5},
        "n": {"distribution": "normal", "mu": 1.0, "sigma": 2.0},
        "c": {"values": ["a", "b", "c"], "probabilities": [0.2, 0.3, 0.5]},
    }})  # fmt: skip
    u, n, c = s.parameters
    assert u.from_quantile(0.0001) == 0.5  # W&B would round 0.3 to 0.5 * 1 = 0.5 ... and never below min
    assert u.from_quantile(0.9999) == 2.0
    assert n.from_quantile(0.5) == pytest.approx(1.0) and n.from_quantile(0.975) == pytest.approx(
        1.0 + 2 * 1.959964
    )
    assert [c.from_quantile(x) for x in (0.1, 0.3, 0.6, 0.99)] == ["a", "b", "c", "c"]
    assert c.kind == "quantile" and c.probabilities == (0.2, 0.3, 0.5)


def test_wandb_file_translation():
    s = load_spec(DATA / "specs" / "wandb_nested.yaml", overrides=("budget.parallel=2", "trial.wandb=off"))
    # bayes runs on gp (a Gaussian process, as in W&B) where torch is installed
    assert s.format == "wandb" and s.name == "wandb_nested" and s.strategy.name == "gp"
    assert s.strategy.requested == "bayes"
    assert (
        s.objective is not None
        and s.objective.target == 0.1
        and s.budget.trials == 20
        and s.budget.parallel == 2
    )
    assert s.trial.program == "train.py" and s.trial.command == (
        "${env}",
        "${interpreter}",
        "${program}",
        "${args}",
    )
    assert s.trial.timeout_s == 600 and s.trial.env == {"OMP_NUM_THREADS": "1"} and s.trial.wandb == "off"
    assert s.resources.gpus == 1 and s.metadata == {"project": "demo"}
    assert s.early_stopping.type == "hyperband"
    assert s.early_stopping.options == {"resource": "reports", "reduction_factor": 2, "min_resource": 3}
    names = [p.name for p in s.parameters]
    assert names == ["lr", "optimizer.name", "optimizer.momentum", "model.depth"]
    assert s.param("model.depth").key_path == ("model.depth",)
    assert s.param("optimizer.momentum").key_path == ("optimizer", "momentum")
    warned = " ".join(w.message for w in s.warnings)
    assert "read as a float" in warned and "no effect" in warned and "W&B itself would reject" in warned


def test_wandb_defaults_and_function_override():
    base = {"method": "grid", "parameters": {"a": {"values": [1, 2]}}}
    s = parse_spec(
        yaml.safe_dump(base), check_files=False, overrides=("trial.function=mod:fn", "resources.gpus=1")
    )
    assert s.trial.function == "mod:fn" and s.trial.command is None and s.trial.wandb == "capture"
    assert s.resources.gpus == 1 and s.objective is None and s.budget.trials == 2
    assert not any("W&B itself would reject" in w.message for w in s.warnings)  # only --set, not the file
    s = load({**base, "metric": {"name": "acc", "goal": "maximise"}})
    assert s.objective is not None and s.objective.direction.value == "minimize"
    assert any("maximise" in w.message for w in s.warnings)


def test_wandb_command_braces_are_literal():
    s = load({"method": "random", "command": ["${interpreter}", "x.py", "--cfg={a}", "${nope}"],
              "parameters": {"a": {"values": [1]}}})  # fmt: skip
    assert s.trial.command is not None and "--cfg={{a}}" in s.trial.command
    assert any("unknown macro ${nope}" in w.message for w in s.warnings)


# -- names: a W&B `name` is a display name ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("display", "study"),
    [
        ("First Sweep", "First-Sweep"),
        ("imbal_prop/leq0.1", "imbal_prop-leq0.1"),
        ("  lr sweep  [v2] ", "lr-sweep-v2"),
        ("a / b ** c", "a-b-c"),
        ("resnet-50_lr.sweep", "resnet-50_lr.sweep"),  # valid today: used unchanged
        ("--x--", "--x--"),  # valid today (no refused character): unchanged, though it starts with -
    ],
)
def test_display_name_gives_study_name(display, study):
    s = load({"method": "grid", "name": display, "parameters": {"a": {"values": [1]}}})
    assert s.name == study
    if display != study:
        assert s.metadata["display_name"] == display
        (w,) = [w for w in s.warnings if w.path == "name"]
        assert repr(study) in w.message and "--name" in w.message
    else:
        assert "display_name" not in s.metadata


def test_display_name_of_refused_characters_only_falls_back_to_the_file_stem(tmp_path):
    (tmp_path / "train.py").write_text("")
    path = tmp_path / "my sweep.yaml"
    path.write_text("method: grid\nname: ' / '\nprogram: train.py\nparameters: {a: {values: [1]}}\n")
    assert load_spec(path).name == "my-sweep"  # the file-stem default, unchanged


def test_native_name_stays_strict_and_suggests_name_option():
    with pytest.raises(SpecError) as e:
        parse_spec(
            "name: First Sweep\nstrategy: random\nbudget: {trials: 1}\n"
            "parameters: {a: {type: float, low: 0, high: 1}}\ntrial: {function: m:f}\n",
            check_files=False,
        )
    (v,) = [v for v in e.value.violations if v.path == "name"]
    assert "--name NAME" in v.message


# -- programs --------------------------------------------------------------------------------------------
def _program_spec(tmp_path, program: str, command: list[str] | None):
    config: dict = {"method": "grid", "program": program, "parameters": {"a": {"values": [1]}}}
    if command is not None:
        config["command"] = command
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_program_on_path_runs_without_interpreter(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "icu-benchmarks"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    path = _program_spec(tmp_path, "icu-benchmarks", ["${env}", "${program}", "train", "${args}"])
    assert load_spec(path).trial.program == "icu-benchmarks"
    # with ${interpreter} (W&B's default command) it must be a file: PATH is not tried
    with pytest.raises(SpecError) as e:
        load_spec(_program_spec(tmp_path, "icu-benchmarks", None))
    (v,) = [v for v in e.value.violations if v.path == "program"]
    assert "beside the sweep file" in v.message and "the current folder" in v.message
    assert "on PATH" not in v.message.split(";")[0] and "without ${interpreter}" in v.message


def test_program_not_found_names_every_place_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError) as e:
        load_spec(_program_spec(tmp_path, "nope-cli", ["${env}", "${program}", "${args}"]))
    (v,) = [v for v in e.value.violations if v.path == "program"]
    assert str(tmp_path / "nope-cli") in v.message and "'nope-cli' on PATH" in v.message


def test_program_in_the_current_folder(tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    (here / "train.py").write_text("")
    sweeps = tmp_path / "sweeps"
    sweeps.mkdir()
    monkeypatch.chdir(here)
    assert load_spec(_program_spec(sweeps, "train.py", None)).trial.program == "train.py"


# -- the trial's config: what W&B's agent hands a run ----------------------------------------------------
def test_trial_config_keeps_flat_dotted_names_and_nests_blocks():
    from hypersweep.spec import trial_config

    s = load(
        {
            "method": "grid",
            "parameters": {
                "zeta": {"value": 1},
                "model.lr": {"values": [0.1]},
                "model": {"parameters": {"depth": {"value": 2}, "act": {"value": "relu"}}},
                "alpha": {"value": 3},
            },
        }
    )
    (point,) = grid_points(s.parameters)
    config = trial_config(s.parameters, point, wandb=True)
    # as W&B's sweep engine orders a run: flat keys sorted, then blocks sorted, their keys sorted
    assert list(config.items()) == [
        ("alpha", 3),
        ("model.lr", 0.1),
        ("zeta", 1),
        ("model", {"act": "relu", "depth": 2}),
    ]
    assert list(config["model"]) == ["act", "depth"]
    # native files nest dotted names, in file order
    from hypersweep.spec import Param

    native = [Param("opt.lr", "constant", "constant", value=0.1), Param("b", "constant", "constant", value=1)]
    assert list(trial_config(native, {"opt.lr": 0.1, "b": 1}, wandb=False).items()) == [
        ("opt", {"lr": 0.1}),
        ("b", 1),
    ]


def test_real_world_duplicate_keys_are_refused_with_their_line():
    """W&B (PyYAML) silently keeps the last `lr`; hypersweep refuses the file and names the line."""
    text = (DATA / "wandb" / "refused" / "duplicate_keys.yaml").read_text()
    with pytest.raises(SpecError) as e:
        parse_spec(text, check_files=False)
    assert "duplicate key 'lr'" in str(e.value) and ":9:" in str(e.value)


@pytest.mark.parametrize("path", sorted((DATA / "wandb" / "configs").glob("*.yaml")), ids=lambda p: p.stem)
def test_real_world_configs_validate(path):
    s = parse_spec(path.read_text(), check_files=False)
    assert s.format == "wandb"
    if path.stem == "yaml11_floats":  # 1e-5 is a float here, a string to W&B
        assert s.param("learning_rate").values == (1e-5, 3e-4) and s.param("weight_decay").value == 0.01
