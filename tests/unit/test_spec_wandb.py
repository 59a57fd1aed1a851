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
