"""Several objectives in sweep files: native `objectives:`, W&B `metrics:`, their errors, auto, resume key."""

from __future__ import annotations

import textwrap

import pytest

from hypersweep.errors import SpecError
from hypersweep.records import Direction
from hypersweep.spec import json_schema, objective_names, parse_spec

NATIVE = """
name: mo
trial: {function: "m:f"}
parameters: {x: {type: float, low: 0, high: 1}}
"""
TWO = "objectives: [{metric: acc, goal: maximize}, {metric: latency_ms, goal: minimize}]\n"
WANDB = """
method: {method}
program: train.py
parameters: {{x: {{min: 0.0, max: 1.0}}}}
"""
METRICS = "metrics: [{name: acc, goal: maximize}, {name: latency_ms, goal: minimize}]\n"


def native(extra: str):
    return parse_spec(NATIVE + textwrap.dedent(extra), check_files=False)


def errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as e:
        parse_spec(text, check_files=False)
    return [str(v) for v in e.value.violations]


def test_native_objectives_in_order_the_first_is_the_objective():
    s = native(TWO + "budget: {trials: 30}\n")
    assert [(o.metric, o.direction) for o in s.objectives] == [
        ("acc", Direction.MAXIMIZE),
        ("latency_ms", Direction.MINIMIZE),
    ]
    assert s.objective == s.objectives[0] and s.several_objectives
    assert s.summary()["objectives"] == [
        {"metric": "acc", "direction": "maximize"},
        {"metric": "latency_ms", "direction": "minimize"},
    ]
    single = native("objective: {metric: acc, goal: maximize}\n")
    assert single.objectives == (single.objective,) and not single.several_objectives
    assert objective_names(s.text) == ("acc", "latency_ms")
    assert objective_names(single.text) == ("acc",)


@pytest.mark.parametrize(
    "extra, where, words",
    [
        (
            "objective: {metric: acc}\n" + TWO,
            "objectives",
            "give either `objective:` (one metric) or `objectives:` (several), not both",
        ),
        (
            "objectives: [{metric: acc, goal: maximize, target: 0.9}, {metric: l}]\n",
            "objectives[0].target",
            "`target` is for one objective only",
        ),
        (TWO + "early_stopping: {type: median}\n", "early_stopping", "Optuna's pruning is single-objective"),
        (TWO + "strategy: cmaes\n", "strategy", "strategy cmaes optimises one objective"),
        (
            "objectives: [{metric: acc}, {metric: acc, goal: maximize}]\n",
            "objectives[1].metric",
            "listed twice",
        ),
        ("objectives: []\n", "objectives", "non-empty list"),
        ("objectives: {metric: acc}\n", "objectives", "non-empty list"),
        ("objectives: [{metric: acc}, {name: l}]\n", "objectives[1].name", "did you mean 'metric'"),
    ],
)
def test_native_objectives_errors_name_the_path_and_the_fix(extra, where, words):
    found = errors(NATIVE + extra)
    assert any(f"{where}:" in e and words in e for e in found), found


def test_auto_picks_gp_multi_objective_tpe_or_nsga2():
    small = native(TWO + "budget: {trials: 50}\n")  # one float parameter, 50 trials: GP's ground
    assert small.strategy.name == "gp" and small.strategy.requested == "auto"
    assert "2 objectives" in (small.strategy.reason or "")
    mixed = parse_spec(
        NATIVE.replace("parameters: {x:", "parameters: {k: {type: categorical, values: [a, b]}, x:")
        + TWO
        + "budget: {trials: 50}\n",
        check_files=False,
    )
    assert mixed.strategy.name == "tpe" and "categorical" in (mixed.strategy.reason or "")
    beyond_gp = native(TWO + "budget: {trials: 500}\n")
    assert beyond_gp.strategy.name == "tpe" and "NSGA-II from 1000" in (beyond_gp.strategy.reason or "")
    big = native(TWO + "budget: {trials: 5000}\n")
    assert big.strategy.name == "nsga2"
    unbounded = native(TWO)
    assert unbounded.strategy.name == "nsga2"
    for name in ("tpe", "nsga2", "random", "qmc"):
        assert native(TWO + f"strategy: {name}\n").strategy.name == name


def test_resume_key_holds_the_objectives():
    a = native(TWO).resume_key()
    b = native(
        "objectives: [{metric: acc, goal: maximize}, {metric: latency_ms, goal: maximize}]\n"
    ).resume_key()
    c = native("objectives: [{metric: acc, goal: maximize}, {metric: mem_mb, goal: minimize}]\n").resume_key()
    assert a["objectives"] != b["objectives"] and a["objectives"] != c["objectives"]
    single = native("objective: {metric: acc, goal: maximize}\n").resume_key()
    assert "objectives" not in single  # one objective: the key is what it always was


@pytest.mark.parametrize("method", ["bayes", "random"])
def test_wandb_metrics_list_is_accepted_with_bayes_and_random(method):
    s = parse_spec(WANDB.format(method=method) + METRICS, check_files=False)
    assert [o.metric for o in s.objectives] == ["acc", "latency_ms"]
    assert [o.direction for o in s.objectives] == [Direction.MAXIMIZE, Direction.MINIMIZE]
    assert s.strategy.name in ({"random"} if method == "random" else {"gp", "tpe"})
    assert objective_names(s.text) == ("acc", "latency_ms")


@pytest.mark.parametrize(
    "extra, where, words",
    [
        ("metric: {name: acc}\n" + METRICS, "metrics", "give either `metric:` (one metric) or `metrics:`"),
        (
            "metrics: [{name: acc, goal: maximize, target: 1}, {name: l}]\n",
            "metrics[0].target",
            "one metric only",
        ),
        (
            METRICS + "early_terminate: {type: hyperband, min_iter: 3}\n",
            "early_terminate",
            "single-objective",
        ),
        ("metrics: [{goal: maximize}]\n", "metrics[0].name", "needs `name`"),
        ("metrics: [{name: a, goal: up}]\n", "metrics[0].goal", "minimize or maximize"),
        ("metrics: [{name: a, metric: b}]\n", "metrics[0].metric", ""),
        ("metrics: acc\n", "metrics", "non-empty list"),
    ],
)
def test_wandb_metrics_errors(extra, where, words):
    found = errors(WANDB.format(method="random") + extra)
    assert any(f"{where}:" in e and words in e for e in found), found


def test_the_schema_describes_objectives():
    jsonschema = pytest.importorskip("jsonschema")
    from hypersweep.spec._yaml import load_yaml

    schema = json_schema()
    jsonschema.validate(load_yaml(NATIVE + TWO).data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(load_yaml(NATIVE + "objectives: [{metric: a, target: 1}]\n").data, schema)
