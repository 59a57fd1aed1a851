"""Hostile sweep files and options (issue 18, items 8 and 11): clear errors, never a traceback, a hang or a
machine-wide memory spike. Tests that could take the machine down on a regression run the loader in a child
process under a memory limit and a timeout."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hypersweep
from hypersweep.cli import main
from hypersweep.errors import SpecError
from hypersweep.records import Direction, NewStudy
from hypersweep.spec import MAX_GRID_POINTS, MAX_NODES, MAX_SEED, MAX_TRIALS, Param, grid_size, parse_spec
from hypersweep.store import open_store

SRC = str(Path(hypersweep.__file__).resolve().parents[1])  # the child imports the code under test
TRIAL = "trial: {function: mod:train}\n"

_CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
from hypersweep.errors import SpecError
from hypersweep.spec import parse_spec
text = sys.stdin.read()
try:
    spec = parse_spec(text, file="/x/s.yaml", check_files=False)
except SpecError as e:
    print(json.dumps([[v.path, v.line, v.message] for v in e.violations]))
else:
    if sys.argv[1] == "dry":
        from hypersweep.strategies import make_strategy
        strategy = make_strategy(spec, 0)
        strategy.load_history([])
        print(json.dumps({"points": [dict(s.params) for s in strategy.ask(3)]}))
    else:
        print(json.dumps({"grid_size": spec.grid_size}))
"""


def child(text: str, mode: str = "load", timeout: float = 60) -> object:
    """Load ``text`` in a child process (1.5 GB address space, ``timeout`` s); its JSON answer."""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode],
        input=text,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def cli_main(capsys, *args: str) -> tuple[int, str]:
    """``hypersweep ARGS`` in-process, with the real entry point's error mapping: (exit code, output)."""
    with pytest.raises(SystemExit) as e:
        main(list(args))
    captured = capsys.readouterr()
    return int(e.value.code or 0), captured.out + captured.err


def violations(text: str) -> list:
    with pytest.raises(SpecError) as e:
        parse_spec(text, file="/x/s.yaml", check_files=False)
    assert e.value.file == "/x/s.yaml"
    return list(e.value.violations)


def one(text: str, path: str):
    found = [v for v in violations(text) if v.path == path]
    assert found, f"no violation at {path}: {violations(text)}"
    return found[0]


# -- item 8: memory and hangs --------------------------------------------------------------------------
def billion_laughs(levels: int = 9) -> str:
    lines = ['  l0: &l0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "x_anchors:\n" + "\n".join(lines) + "\n" + TRIAL + f"parameters:\n  x: {{values: *l{levels}}}\n"


def test_billion_laughs_is_refused_by_node_count():
    (v,) = child(billion_laughs())  # before: 3.9 GB and a MemoryError traceback
    path, line, message = v
    assert f"more than {MAX_NODES:,} values" in message and "alias" in message
    assert (
        path == "x_anchors.l5" and line == 7
    )  # the first value over the limit by itself: 10**5 + ... values


def test_aliases_below_the_limit_still_work():
    text = "x: &v [1, 2, 3]\n" + TRIAL + "parameters:\n  a: {values: *v}\n  b: {values: *v}\n"
    errors = violations(text)  # `x` is an unknown key: the aliases themselves are fine
    assert [v.path for v in errors] == ["x"]
    spec = parse_spec(
        TRIAL + "parameters:\n  a: {values: &v [1, 2, 3]}\n  b: {values: *v}\n", check_files=False
    )
    assert spec.param("a").values == (1, 2, 3) == spec.param("b").values


def test_a_long_written_out_list_is_refused_without_blaming_aliases():
    text = TRIAL + "parameters:\n  a: {values: [" + ", ".join(["1"] * (MAX_NODES + 5)) + "]}\n"
    v = one(text, "parameters.a.values")
    assert "holds more than 100,000 values" in v.message and "alias" not in v.message.split(":")[0]


def test_a_self_referencing_alias_is_refused():
    v = one(TRIAL + "parameters:\n  a: &a {values: [*a]}\n", "parameters.a.values[0]")
    assert "refers to its own anchor (at line 3)" in v.message and v.line == 3


def test_random_search_over_a_huge_int_range_does_not_build_it():
    text = TRIAL + "strategy: random\nparameters:\n  n: {type: int, low: 0, high: 2147483647}\n"
    assert child(text) == {"grid_size": None}  # before: list(range()) and a MemoryError
    points = child(text, "dry")["points"]
    assert len(points) == 3 and all(0 <= p["n"] <= 2147483647 for p in points)


def test_int_bounds_past_int64_are_spec_errors():
    v = one(
        TRIAL + "parameters:\n  n: {type: int, low: 0, high: 100000000000000000000000}\n", "parameters.n.high"
    )
    assert "does not fit a 64-bit integer" in v.message and v.line == 3  # before: OverflowError
    v = one(TRIAL + f"parameters:\n  n: {{type: int, low: {-(2**63) - 1}, high: 0}}\n", "parameters.n.low")
    assert "2**63" in v.message
    w = one(
        "method: random\nprogram: t.py\nparameters:\n  n: {min: 0, max: 99999999999999999999}\n",
        "parameters.n.max",
    )
    assert "64-bit" in w.message
    spec = parse_spec(
        TRIAL + f"parameters:\n  n: {{type: int, low: {-(2**63)}, high: {2**63 - 1}}}\n", check_files=False
    )
    assert spec.param("n").high == 2**63 - 1


def test_a_tiny_float_step_with_tpe_validates_and_samples():
    text = "objective: {metric: loss, goal: minimize}\nstrategy: tpe\n" + TRIAL
    text += "parameters:\n  lr: {type: float, low: 0.0, high: 1.0, step: 1.0e-9}\n"
    assert child(text, timeout=60) == {"grid_size": None}  # before: `validate` hung building 10**9 values
    points = child(text, "dry")["points"]
    assert all(0.0 <= p["lr"] <= 1.0 for p in points)


def test_a_float_range_wider_than_a_float_is_a_spec_error():
    v = one(TRIAL + "parameters:\n  x: {type: float, low: -1.0e308, high: 1.0e308}\n", "parameters.x.high")
    assert "overflows a float" in v.message and "narrow the bounds" in v.message and v.line == 3
    w = one(
        "method: random\nprogram: t.py\nparameters:\n  x: {min: -1.0e308, max: 1.0e308}\n", "parameters.x.max"
    )
    assert "overflows a float" in w.message


def test_the_widest_float_range_that_fits_samples_inside_its_bounds():
    text = TRIAL + "strategy: random\nparameters:\n  x: {type: float, low: -8.0e307, high: 8.0e307}\n"
    points = child(text, "dry")["points"]  # before (at +-1e308): OverflowError from numpy in run --dry-run
    assert all(-8.0e307 <= p["x"] <= 8.0e307 for p in points)


def test_float_steps_below_float_precision_are_spec_errors():
    v = one(
        TRIAL + "parameters:\n  x: {type: float, low: 0.0, high: 1.0e300, step: 1.0e-300}\n",
        "parameters.x.step",
    )
    assert "float precision" in v.message and "larger step" in v.message
    w = one(
        "method: random\nprogram: t.py\nparameters:\n  x: {distribution: q_uniform, min: 0, max: 1.0e300, q: 1.0e-300}\n",
        "parameters.x.q",
    )
    assert "larger q" in w.message


def test_wandb_exponents_and_spreads_that_overflow_are_spec_errors():
    head = "method: random\nprogram: t.py\nparameters:\n"
    v = one(head + "  x: {distribution: log_uniform, min: 0, max: 1000}\n", "parameters.x.max")
    assert "natural-log exponents" in v.message and "log_uniform_values" in v.message  # before: OverflowError
    v = one(head + "  x: {distribution: log_normal, mu: 800, sigma: 1}\n", "parameters.x.sigma")
    assert "overflows a float" in v.message
    v = one(head + "  x: {distribution: normal, mu: 1.0e308, sigma: 1.0e308}\n", "parameters.x.sigma")
    assert "overflows" in v.message


def test_grid_size_is_arithmetic_and_grids_past_the_limit_are_refused():
    huge = Param("n", "int", "int", low=0, high=2**62)
    assert grid_size([huge, huge]) == (2**62 + 1) ** 2  # instantly, without building a range
    v = one(TRIAL + "strategy: grid\nparameters:\n  n: {type: int, low: 0, high: 2147483647}\n", "strategy")
    assert "2,147,483,648 points" in v.message and f"{MAX_GRID_POINTS:,}" in v.message
    assert "random or tpe" in v.message
    cond = TRIAL + "strategy: grid\nparameters:\n  k: {values: [a, b]}\n"
    cond += "  n: {type: int, low: 0, high: 5000000, when: {k: a}}\n"
    assert "at least" in one(cond, "strategy").message


def test_grid_size_with_conditions_counts_what_grid_points_expands():
    text = TRIAL + "strategy: grid\nparameters:\n  k: {values: [a, b, a]}\n"
    text += "  d: {type: int, low: 1, high: 3, when: {k: a}}\n  e: {values: [x, y], when: {k: b}}\n  c: {value: 1}\n"
    spec = parse_spec(text, check_files=False)
    from hypersweep.spec import grid_points

    assert spec.grid_size == len(grid_points(spec.parameters)) == 5
    assert grid_size(spec.parameters, cap=2) == 3  # stops once past the cap


# -- item 11: values a store cannot hold, and bounds on counts and seeds --------------------------------
@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "[1, .nan]"])
def test_nan_and_infinite_categorical_values_are_refused(value):
    v = one(
        TRIAL + f"parameters:\n  a: {{type: categorical, values: [1, {value}]}}\n", "parameters.a.values[1]"
    )
    assert "JSON has no NaN or infinity" in v.message and v.line == 3
    w = one(
        f"method: grid\nprogram: t.py\nparameters:\n  a: {{values: [{value}]}}\n", "parameters.a.values[0]"
    )
    assert "NaN" in w.message
    c = one(TRIAL + f"parameters:\n  a: {{value: {value}}}\n", "parameters.a.value")
    assert "finite" in c.message


def test_a_mapping_categorical_value_is_refused_not_turned_into_nested_params():
    v = one(TRIAL + "parameters:\n  opt: {values: [{lr: 1}, {lr: 2}]}\n", "parameters.opt.values[0]")
    assert "nested parameters" in v.message and "list" in v.message
    w = one(
        "method: grid\nprogram: t.py\nparameters:\n  opt: {values: [{lr: 1}]}\n", "parameters.opt.values[0]"
    )
    assert "nested parameters" in w.message
    assert "nested" in one(TRIAL + "parameters:\n  opt: {value: {lr: 1}}\n", "parameters.opt.value").message
    spec = parse_spec(TRIAL + "parameters:\n  opt: {values: [[{lr: 1}], [1, 2]]}\n", check_files=False)
    assert spec.param("opt").values == ([{"lr": 1}], [1, 2])  # inside a list a mapping stays one value


@pytest.mark.parametrize("key", ["budget.timeout", "trial.timeout"])
def test_durations_past_ten_years_are_spec_errors(key):
    with pytest.raises(SpecError) as e:
        parse_spec(TRIAL + "parameters: {a: {value: 1}}\n", check_files=False, overrides=[f"{key}=1.0e300"])
    (v,) = e.value.violations
    assert v.path == key and "longer than 10 years" in v.message  # before: accepted, then timers overflow


def test_non_finite_numbers_are_refused_everywhere():
    v = one(TRIAL + "resources: {cpus: .inf}\nparameters: {a: {value: 1}}\n", "resources.cpus")
    assert "finite" in v.message


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("budget.trials", str(10**30), "64-bit"),
        ("budget.trials", str(MAX_TRIALS + 1), f"at most {MAX_TRIALS} (2**31 - 1)"),
        ("seed", str(2**63), "64-bit"),
        ("seed", "-1", ">= 0"),
        ("budget.parallel", str(2**40), "at most"),
    ],
)
def test_huge_counts_and_seeds_in_the_spec_are_spec_errors(key, value, words):
    text = TRIAL + "parameters: {a: {value: 1}}\n"
    with pytest.raises(SpecError) as e:
        parse_spec(text, check_files=False, overrides=[f"{key}={value}"])
    (v,) = e.value.violations
    assert v.path == key and words in v.message and "--set" in v.message
    ok = parse_spec(text, check_files=False, overrides=[f"seed={MAX_SEED}", f"budget.trials={MAX_TRIALS}"])
    assert ok.seed == MAX_SEED and ok.budget.trials == MAX_TRIALS


@pytest.fixture
def sweep(tmp_path):
    (tmp_path / "mod.py").write_text("def train(p):\n    return 0.0\n")
    f = tmp_path / "s.yaml"
    f.write_text(TRIAL + "strategy: random\nparameters:\n  a: {type: float, low: 0.0, high: 1.0}\n")
    return f


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--dry-run", "--trials", str(10**30)],
        ["run", "--dry-run", "--trials", str(MAX_TRIALS + 1)],
        ["run", "--dry-run", "--seed", str(2**64)],
        ["run", "--dry-run", "--seed", "-5"],
        ["run", "--dry-run", "--parallel", str(10**30)],
        ["run", "--dry-run", "--set", f"budget.trials={10**30}"],
    ],
)
def test_huge_trials_and_seeds_at_the_cli_are_usage_errors(sweep, args, capsys):
    code, output = cli_main(capsys, *args, str(sweep))
    assert code == 2, output
    assert "Traceback" not in output


def test_the_largest_seed_runs(sweep, capsys):
    code, output = cli_main(capsys, "run", "--dry-run", "--seed", str(MAX_SEED), "--trials", "2", str(sweep))
    assert code == 0, output


def test_resume_trials_is_bounded(tmp_path, capsys):
    code, output = cli_main(
        capsys, "resume", "x", "--store", f"sqlite:///{tmp_path / 'h.db'}", "--trials", str(10**20)
    )
    assert code == 2 and "--trials" in output


# -- hints print commands a shell can take back --------------------------------------------------------
def test_hints_quote_study_names(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    name = "it's $(x)"
    st = open_store(url, create=True)
    try:
        st.create_study(
            NewStudy(
                name=name,
                spec_text="x",
                spec_hash="0" * 64,
                spec_format="native",
                strategy="random",
                objective_metric="acc",
                direction=Direction.MAXIMIZE,
                budget_trials=2,
                seed=1,
                workdir=str(tmp_path),
            )
        )
    finally:
        st.close()
    code, output = cli_main(capsys, "best", name, "--store", url)
    assert code == 2
    text = " ".join(output.split())
    hint = text.split("(hypersweep resume ", 1)[1].rsplit(")", 1)[0]
    assert shlex.split(hint) == [name]  # before: `hypersweep resume it's $(x)`, which a shell mangles


def test_an_example_in_the_docs_of_the_limits_loads():
    text = textwrap.dedent(
        """\
        strategy: random
        trial: {function: mod:train}
        parameters:
          n: {type: int, low: 0, high: 9223372036854775807}
          x: {type: float, low: -8.0e307, high: 8.0e307}
        """
    )
    spec = parse_spec(text, check_files=False)
    assert spec.grid_size is None


def test_the_library_bounds_trials_too():
    from hypersweep.errors import UsageError
    from hypersweep.orchestrate._budget import budget_trials

    spec = parse_spec(TRIAL + "parameters: {a: {value: 1}}\n", check_files=False)
    with pytest.raises(UsageError, match="2\\*\\*31 - 1"):
        budget_trials(spec, 10**30)  # before: accepted, then a store error on PostgreSQL
    assert budget_trials(spec, MAX_TRIALS) == MAX_TRIALS
