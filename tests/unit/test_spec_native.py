"""Native sweep files: parameter types, sections, conditions, overrides, resume key, schema."""

from __future__ import annotations

import pickle
import textwrap
import time
from pathlib import Path

import pytest

from hypersweep.errors import SpecError
from hypersweep.records import Direction
from hypersweep.spec import grid_points, json_schema, load_spec, parse_spec

DATA = Path(__file__).resolve().parents[1] / "data" / "specs"

HEAD = """\
objective: {metric: loss, goal: minimize}
trial: {function: digits:train_svc}
"""


def spec(body: str, *, overrides: tuple[str, ...] = (), head: str = HEAD, check_files: bool = False):
    return parse_spec(head + textwrap.dedent(body), file=str(DATA / "t.yaml"), overrides=overrides, check_files=check_files)  # fmt: skip


def errors(body: str, **kw) -> list:
    with pytest.raises(SpecError) as e:
        spec(body, **kw)
    return list(e.value.violations)


def test_contract_example_loads():
    s = load_spec(DATA / "digits.yaml")
    assert s.name == "digits-svc" and s.format == "native"
    assert s.file == str(DATA / "digits.yaml") and s.workdir == str(DATA)
    assert s.objective is not None and s.objective.direction is Direction.MAXIMIZE
    assert s.strategy.name == "tpe" and s.seed == 42
    assert (s.budget.trials, s.budget.parallel, s.budget.max_failures, s.budget.timeout_s) == (
        50,
        4,
        10,
        1800.0,
    )
    assert (
        s.resources.gpus == 0.5
        and s.resources.accelerator_type == "A100"
        and s.resources.custom == {"fast_disk": 1.0}
    )
    assert s.early_stopping.type == "median" and s.early_stopping.options == {"warmup_steps": 3}
    kinds = {p.name: p.kind for p in s.parameters}
    assert kinds == {
        "C": "float",
        "gamma": "float",
        "kernel": "categorical",
        "degree": "int",
        "tol": "constant",
    }
    assert s.param("degree").when == (("kernel", ("poly",)),)
    assert s.trial.wandb == "off" and len(s.spec_hash) == 64 and s.warnings == ()
    pickle.loads(pickle.dumps(s))


def test_each_native_type():
    s = spec("""
        parameters:
          f: {type: float, low: 0.0, high: 1.0}
          fl: {type: float, low: 1e-5, high: 1e-1, log: true}
          fs: {type: float, low: 0, high: 1, step: 0.25}
          i: {type: int, low: 1, high: 5}
          il: {type: int, low: 1, high: 1024, log: true}
          c: {type: categorical, values: [a, [1, 2], null, true]}
          k: {value: 3}
          k2: {type: constant, value: [1, 2]}
    """)
    p = {x.name: x for x in s.parameters}
    assert (p["f"].low, p["f"].high, p["f"].log) == (0.0, 1.0, False)
    assert p["fl"].low == 1e-5 and p["fl"].log  # 1e-5 read as a float
    assert p["fs"].step == 0.25 and p["i"].kind == "int" and p["il"].log
    assert p["c"].values == ("a", [1, 2], None, True)
    assert p["k"].value == 3 and p["k2"].kind == "constant"
    assert s.strategy.name == "tpe"  # default with an objective


def test_defaults_without_objective_and_durations():
    s = spec(
        """
        budget: {timeout: 1h30m, trials: 3}
        trial: {function: digits:train_svc, timeout: 10s}
        parameters: {a: {type: int, low: 0, high: 3}}
        """,
        head="",
    )
    assert s.objective is None and s.strategy.name == "random" and s.budget.timeout_s == 5400.0
    assert s.trial.timeout_s == 10.0 and s.name == "t" and s.resources.cpus == 1


def test_strategy_mapping_and_resume_key():
    body = (
        "strategy: {name: tpe, n_startup_trials: 10, multivariate: true, constant_liar: true, warm_start: [old]}\n"
        "seed: 1\n"
        "parameters: {a: {type: float, low: 0, high: 1}}\n"
    )
    s = spec(body)
    assert s.strategy.options["warm_start"] == ("old",) and s.strategy.options["n_startup_trials"] == 10
    key = s.resume_key()
    assert "warm_start" not in key["strategy"]["options"]
    same = spec(body.replace("[old]", "[other]") + "budget: {trials: 99, parallel: 2}\n").resume_key()
    assert same == key
    changed = spec(body.replace("high: 1", "high: 2")).resume_key()
    assert [k for k in key if key[k] != changed[k]] == ["parameters"]
    changed = spec(body.replace("seed: 1", "seed: 2")).resume_key()
    assert [k for k in key if key[k] != changed[k]] == ["seed"]


def test_conditional_grid():
    s = spec("""
        strategy: grid
        parameters:
          kernel: {values: [rbf, poly]}
          degree: {values: [2, 3], when: {kernel: poly}}
          coef: {values: [0, 1], when: {kernel: poly, degree: 3}}
          c: {values: [1, 2]}
    """)
    assert grid_points(s.parameters) == [
        {"kernel": "rbf", "c": 1},
        {"kernel": "rbf", "c": 2},
        {"kernel": "poly", "degree": 2, "c": 1},
        {"kernel": "poly", "degree": 2, "c": 2},
        {"kernel": "poly", "degree": 3, "coef": 0, "c": 1},
        {"kernel": "poly", "degree": 3, "coef": 0, "c": 2},
        {"kernel": "poly", "degree": 3, "coef": 1, "c": 1},
        {"kernel": "poly", "degree": 3, "coef": 1, "c": 2},
    ]
    assert s.grid_size == 8 and s.budget.trials == 8


def test_grid_steps_and_budget_warning():
    s = spec("""
        strategy: grid
        budget: {trials: 2}
        parameters:
          f: {type: float, low: 0, high: 1, step: 0.5}
          i: {type: int, low: 0, high: 4, step: 2}
    """)
    assert s.grid_size == 9 and s.budget.trials == 2
    assert grid_points(s.parameters)[:2] == [{"f": 0.0, "i": 0}, {"f": 0.0, "i": 2}]
    assert any("runs the first 2 points" in w.message for w in s.warnings)


def test_overrides():
    s = spec(
        "parameters: {a: {type: float, low: 0, high: 1}}\n",
        overrides=(
            "resources.gpus=1",
            "budget.trials=7",
            "parameters.a.high=2",
            "strategy.n_startup_trials=3",
            "seed=5",
        ),
    )
    assert s.resources.gpus == 1 and s.budget.trials == 7 and s.param("a").high == 2.0
    assert s.strategy.name == "tpe" and s.strategy.options == {"n_startup_trials": 3} and s.seed == 5
    errs = errors(
        "parameters: {a: {type: float, low: 0, high: 1}}\n", overrides=("nonsense", "budget.trials=[1")
    )
    assert len(errs) == 2 and all(e.path.startswith("--set") for e in errs)
    errs = errors("parameters: {a: {type: float, low: 0, high: 1}}\n", overrides=("parameters.a.low=5",))
    assert "set by --set parameters.a.low=5" in errs[0].message


def test_enqueue_validated():
    s = spec("""
        parameters:
          k: {values: [a, b]}
          x: {type: float, low: 0, high: 1, when: {k: b}}
        enqueue: [{k: a}, {k: b, x: 0.5}]
    """)
    assert s.enqueue == ({"k": "a"}, {"k": "b", "x": 0.5})
    errs = errors("""
        parameters:
          k: {values: [a, b]}
          x: {type: float, low: 0, high: 1, when: {k: b}}
        enqueue: [{k: c}, {k: a, x: 0.5}, {y: 1}]
    """)
    msgs = " | ".join(e.message for e in errs)
    assert "outside the space" in msgs and "inactive" in msgs and "not a parameter" in msgs


def test_monitoring_artifacts_env_data():
    s = spec("""
        trial: {function: digits:train_svc, env: {OMP_NUM_THREADS: 1}, data: d.csv}
        monitoring: {interval: 1s}
        artifacts: {root: "s3://bucket/x"}
        parameters: {a: {value: 1}}
    """, head="objective: {metric: loss, goal: minimize}\n")  # fmt: skip
    assert s.monitoring == {"interval": 1.0} and s.artifacts == {"root": "s3://bucket/x"}
    assert s.trial.env == {"OMP_NUM_THREADS": "1"} and s.trial.data == ("d.csv",)
    assert spec("monitoring: false\nparameters: {a: {value: 1}}\n").monitoring is False


def test_file_checks(tmp_path):
    (tmp_path / "mod.py").write_text("def train(params):\n    return 1.0\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from .x import *\n")
    (tmp_path / "run.py").write_text("")
    base = "parameters: {a: {value: 1}}\n"
    for trial in ("{function: mod:train}", "{function: pkg:anything}", "{command: [python, run.py, '--a={a}']}",
                  "{function: json:dumps}", "{command: [python, -m, mod]}"):  # fmt: skip
        (tmp_path / "s.yaml").write_text(f"trial: {trial}\n" + base)
        load_spec(tmp_path / "s.yaml")
    for trial, needle in (
        ("{function: nomod:train}", "module 'nomod' not found"),
        ("{function: mod:trian}", "did you mean 'train'"),
        ("{command: [python, missing.py]}", "script 'missing.py' not found"),
    ):
        (tmp_path / "s.yaml").write_text(f"trial: {trial}\n" + base)
        with pytest.raises(SpecError) as e:
            load_spec(tmp_path / "s.yaml")
        assert needle in str(e.value) and e.value.violations[0].line == 1


def test_json_schema_shape():
    schema = json_schema()
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["properties"]) == {
        "name", "description", "objective", "objectives", "strategy", "seed", "budget", "trial", "resources",
        "early_stopping", "parameters", "enqueue", "monitoring", "artifacts", "constraints",
    }  # fmt: skip
    jsonschema = pytest.importorskip("jsonschema")
    from hypersweep.spec._yaml import load_yaml

    jsonschema.validate(load_yaml((DATA / "digits.yaml").read_text()).data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"parameters": {"a": {"type": "float", "low": 0}}, "trial": {"function": "m:f"}}, schema
        )


def test_summary_json_able():
    import json

    s = spec("strategy: grid\nparameters: {a: {values: [1, 2]}, b: {value: x}}\n")
    out = json.loads(json.dumps(s.summary()))
    assert out["grid_size"] == 2 and out["strategy"]["name"] == "grid"
    assert out["parameters"][0]["distribution"] == "categorical"


def test_load_is_fast():
    params = "\n".join(f"  p{i}: {{type: float, low: 0.0, high: {i + 1}.0}}" for i in range(20))
    spec("parameters:\n" + params + "\n")
    t = time.perf_counter()
    for _ in range(10):
        spec("parameters:\n" + params + "\n")
    assert (time.perf_counter() - t) / 10 < 0.05
