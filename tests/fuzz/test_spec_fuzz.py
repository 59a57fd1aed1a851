"""Property-based tests of the sweep-file loader (issue 18, "a suite that keeps it so").

For arbitrary YAML trees, arbitrary text, and documents drawn from the native grammar (src/hypersweep/spec/)
and W&B's (the distribution table of spec/_wandb.py, which follows W&B's published JSON Schema), ``parse_spec``
gives a valid ``SweepSpec`` or a ``SpecError`` whose every violation has a location, never another
exception or a hang; a valid spec can be sampled, its values stay inside the space, and its summary is JSON
a store can hold (no NaN or infinity). Profiles (``ci``: derandomized, modest) are in tests/conftest.py.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypersweep.errors import SpecError
from hypersweep.spec import Param, SweepSpec, parse_spec
from hypersweep.spec._native import NATIVE_TOP_KEYS
from hypersweep.spec._sections import EARLY_STOPPING_OPTIONS, STRATEGY_OPTIONS
from hypersweep.spec._wandb import DISTRIBUTIONS, WANDB_TOP_KEYS

# a hang is a failure, not a stuck CI job (HYPERSWEEP_FUZZ_TIMEOUT: seconds, for long local runs)
pytestmark = pytest.mark.timeout(int(os.environ.get("HYPERSWEEP_FUZZ_TIMEOUT", "120")))
SLOW = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- values ---------------------------------------------------------------------------------------------
EXTREME_INTS = st.sampled_from(
    [0, 1, -1, 2**31 - 1, 2**31, 2**53, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**30]
)
EXTREME_FLOATS = st.sampled_from(
    [0.0, -0.0, 1e-300, 1e-9, 0.5, 1.0, 1e300, 1e308, -1e308, math.inf, -math.inf, math.nan]
)
NUMBERS = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e3, 1e3),
    EXTREME_INTS,
    EXTREME_FLOATS,
    st.floats(allow_nan=True, allow_infinity=True),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), NUMBERS, st.text(max_size=8), st.sampled_from(["a", "b", "1e-5", "", "{x}"])
)
KEYS = st.one_of(st.sampled_from(["a", "b", "lr", "x.y", "1", "type", "values"]), st.text(max_size=6))
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=24,
)


def check(text: str, **kw: Any) -> SweepSpec | None:
    """The property: a valid spec, or a SpecError with a location on every violation."""
    try:
        spec = parse_spec(text, file="/fuzz/s.yaml", check_files=False, **kw)
    except SpecError as e:
        assert e.violations
        for v in e.violations:
            assert v.message
            assert v.path or v.line is not None or v.path.startswith("--set"), v
        str(e)  # renders
        return None
    json.dumps(spec.summary(), allow_nan=False)  # what validate prints and the store keeps: plain JSON
    for p in spec.parameters:
        for v in (*p.values, p.value):
            json.dumps(v, allow_nan=False)
    return spec


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


# -- arbitrary documents --------------------------------------------------------------------------------
@SLOW
@given(TREES)
def test_arbitrary_yaml_trees(doc):
    check(dump(doc))


@SLOW
@given(st.dictionaries(st.sampled_from([*NATIVE_TOP_KEYS, *WANDB_TOP_KEYS, "hypersweep"]), TREES, max_size=6))
def test_arbitrary_trees_under_real_top_keys(doc):
    check(dump(doc))


FRAGMENTS = st.sampled_from(
    [
        "parameters:\n",
        "  a: &a {values: [1, 2]}\n",
        "  b: *a\n",
        "  c: {values: [*a]}\n",
        "  d: &d [*d]\n",
        "trial: {function: m:f}\n",
        "method: grid\n",
        "program: t.py\n",
        "x: &x [1, 2]\n",
        "y: [*x, *x, *x]\n",
        "  e: {<<: *a}\n",
        "\t",
        ":",
        "- ",
        "{",
        "[",
        "'",
        '"',
        "!!python/object:os.system\n",
        "!!binary AAAA\n",
        "  f: {type: int, low: 0, high: 9223372036854775808}\n",
        "  g: {type: float, low: -1e308, high: 1e308}\n",
        "%YAML 1.1\n",
        "---\n",
        "...\n",
        "? [a]\n: b\n",
        "&a a: *a\n",
    ]
)


@SLOW
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=10)), max_size=12).map("".join))
def test_arbitrary_text(text):
    check(text)


# -- the native grammar ---------------------------------------------------------------------------------
def native_param() -> st.SearchStrategy[dict[str, Any]]:
    num = st.one_of(NUMBERS, st.integers(-10, 10))
    numeric = st.fixed_dictionaries(
        {"type": st.sampled_from(["float", "int"]), "low": num, "high": num},
        optional={"log": st.one_of(st.booleans(), SCALARS), "step": num},
    )
    categorical = st.fixed_dictionaries(
        {"type": st.just("categorical"), "values": st.lists(TREES, min_size=0, max_size=4)},
        optional={"when": st.dictionaries(st.sampled_from(["k", "a", "p0"]), TREES, max_size=2)},
    )
    constant = st.fixed_dictionaries({"value": TREES})
    return st.one_of(numeric, categorical, constant, TREES.filter(lambda t: not isinstance(t, dict)))


def native_doc() -> st.SearchStrategy[dict[str, Any]]:
    strategy = st.one_of(
        st.sampled_from(["grid", "random", "tpe", "bayes", "nope"]),
        st.fixed_dictionaries(
            {"name": st.sampled_from(list(STRATEGY_OPTIONS))},
            optional={k: TREES for k in STRATEGY_OPTIONS["tpe"]},
        ),
    )
    budget = st.fixed_dictionaries(
        {},
        optional={
            k: st.one_of(EXTREME_INTS, SCALARS)
            for k in ("trials", "parallel", "max_failures", "retries", "timeout")
        },
    )
    early = st.one_of(
        st.sampled_from(list(EARLY_STOPPING_OPTIONS)),
        st.fixed_dictionaries(
            {"type": st.sampled_from(list(EARLY_STOPPING_OPTIONS))},
            optional={
                k: st.one_of(EXTREME_INTS, SCALARS)
                for k in ("warmup_steps", "min_resource", "max_resource", "reduction_factor")
            },
        ),
    )
    params = st.dictionaries(
        st.sampled_from(["k", "a", "p0", "lr", "bad name"]), native_param(), min_size=1, max_size=4
    )
    return st.fixed_dictionaries(
        {"parameters": params, "trial": st.one_of(st.just({"function": "mod:train"}), TREES)},
        optional={
            "strategy": strategy,
            "objective": st.one_of(st.just({"metric": "loss", "goal": "minimize"}), TREES),
            "seed": st.one_of(EXTREME_INTS, SCALARS),
            "budget": budget,
            "resources": st.fixed_dictionaries({}, optional={"cpus": NUMBERS, "gpus": NUMBERS}),
            "early_stopping": early,
            "enqueue": st.lists(
                st.dictionaries(st.sampled_from(["k", "a", "lr"]), TREES, max_size=3), max_size=2
            ),
        },
    )


def sample(spec: SweepSpec) -> None:
    """A valid spec is one every strategy can draw from: values inside the space, JSON-clean."""
    from hypersweep.strategies import make_strategy

    strategy = make_strategy(spec, 0)
    strategy.load_history([])
    for s in strategy.ask(2):
        json.dumps(dict(s.params), allow_nan=False)
        for name, value in s.params.items():
            assert inside(spec.param(name), value), (name, value)


def inside(p: Param, v: Any) -> bool:
    if p.kind in ("float", "int") and p.low is not None and p.high is not None:
        return p.low <= v <= p.high and (p.kind == "float" or isinstance(v, int))
    if p.kind == "quantile" and p.low is not None and p.high is not None:
        return p.low - 1e-9 * abs(p.low) <= v <= p.high + 1e-9 * abs(p.high)
    return not isinstance(v, float) or math.isfinite(v)


@SLOW
@given(native_doc())
def test_native_documents(doc):
    spec = check(dump(doc))
    if spec is not None and spec.strategy.name != "tpe":
        sample(spec)


@SLOW
@given(
    native_doc(),
    st.lists(st.sampled_from(["budget.trials", "seed", "parameters.a.high", "strategy", "x.y"]), max_size=2),
    st.lists(st.one_of(EXTREME_INTS, EXTREME_FLOATS, st.text(max_size=5)), min_size=2, max_size=2),
)
def test_native_documents_with_overrides(doc, keys, values):
    check(
        dump(doc),
        overrides=[f"{k}={yaml.safe_dump(v).splitlines()[0]}" for k, v in zip(keys, values, strict=False)],
    )


# -- the W&B grammar ------------------------------------------------------------------------------------
def wandb_param() -> st.SearchStrategy[Any]:
    def with_keys(dist: str) -> st.SearchStrategy[dict[str, Any]]:
        keys = DISTRIBUTIONS[dist]
        values: dict[str, st.SearchStrategy[Any]] = {}
        for key, (_, kind) in keys.items():
            if kind in ("list",):
                values[key] = st.lists(TREES, max_size=3)
            elif kind == "probs":
                values[key] = st.lists(NUMBERS, max_size=3)
            elif kind == "any":
                values[key] = TREES
            else:
                values[key] = st.one_of(NUMBERS, st.integers(-5, 5))
        return st.fixed_dictionaries({}, optional=values).flatmap(
            lambda d: st.sampled_from([{**d, "distribution": dist}, d])
        )

    leaf = st.one_of(*[with_keys(d) for d in DISTRIBUTIONS], TREES)
    return st.recursive(
        leaf,
        lambda inner: st.fixed_dictionaries(
            {"parameters": st.dictionaries(st.sampled_from(["a", "b", "x.y"]), inner, max_size=3)}
        ),
        max_leaves=6,
    )


def wandb_doc() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "method": st.sampled_from(["grid", "random", "bayes", "custom", "nope"]),
            "parameters": st.dictionaries(
                st.sampled_from(["a", "b", "lr", "opt", "x.y", "1x"]), wandb_param(), min_size=1, max_size=4
            ),
        },
        optional={
            "metric": st.one_of(
                st.fixed_dictionaries(
                    {"name": st.just("loss")},
                    optional={"goal": st.sampled_from(["minimize", "maximize", "up"]), "target": NUMBERS},
                ),
                TREES,
            ),
            "program": st.one_of(st.just("train.py"), TREES),
            "run_cap": st.one_of(EXTREME_INTS, SCALARS),
            "command": st.one_of(st.just(["${env}", "${interpreter}", "${program}", "${args}"]), TREES),
            "early_terminate": st.one_of(
                st.fixed_dictionaries(
                    {"type": st.just("hyperband")},
                    optional={
                        "min_iter": EXTREME_INTS,
                        "max_iter": EXTREME_INTS,
                        "s": NUMBERS,
                        "eta": NUMBERS,
                    },
                ),
                TREES,
            ),
            "hypersweep": st.one_of(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "seed": EXTREME_INTS,
                        "budget": st.fixed_dictionaries({}, optional={"trials": EXTREME_INTS}),
                    },
                ),
                TREES,
            ),
            "project": TREES,
        },
    )


@SLOW
@given(wandb_doc())
def test_wandb_documents(doc):
    spec = check(dump(doc))
    if spec is not None and spec.strategy.name != "tpe":
        sample(spec)
