"""Strategies without Ray: sampling of every distribution, determinism, grid walking, TPE, pruning."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from hypersweep.records import TrialRecord, TrialState
from hypersweep.spec import parse_spec
from hypersweep.strategies import (
    GPStrategy,
    GridStrategy,
    HistoryTrial,
    RandomStrategy,
    make_strategy,
    params_key,
    trial_seed,
)

N = 1500


def _spec(params_yaml: str, strategy: str = "random", extra: str = "", wandb: bool = False):
    if wandb:
        text = f"method: {strategy}\nmetric: {{name: loss, goal: minimize}}\nprogram: x.py\n{extra}parameters:\n{params_yaml}"
    else:
        text = (
            f"objective: {{metric: loss, goal: minimize}}\nstrategy: {strategy}\n"
            f"trial: {{function: 'm:f'}}\n{extra}parameters:\n{params_yaml}"
        )
    return parse_spec(text, check_files=False)


def _sample(spec, n=N, seed=0):
    s = make_strategy(spec, seed)
    s.load_history([])
    out = []
    for sug in s.ask(n):
        out.append(sug.params)
        s.tell(sug, TrialState.COMPLETE, 0.0)
    return out


def _ks(values, cdf):
    return stats.kstest(np.asarray(values, dtype=float), cdf).pvalue


# -- native -------------------------------------------------------------------------------------------
def test_native_float_uniform_and_log():
    spec = _spec(
        "  a: {type: float, low: -2, high: 3}\n  b: {type: float, low: 0.001, high: 10, log: true}\n"
    )
    pts = _sample(spec)
    a = [p["a"] for p in pts]
    b = [p["b"] for p in pts]
    assert min(a) >= -2 and max(a) <= 3
    assert _ks(a, stats.uniform(-2, 5).cdf) > 1e-3
    assert min(b) >= 0.001 and max(b) <= 10
    assert _ks(np.log(b), stats.uniform(math.log(0.001), math.log(10) - math.log(0.001)).cdf) > 1e-3


def test_native_float_step_and_int():
    spec = _spec(
        "  a: {type: float, low: 0, high: 1, step: 0.25}\n  n: {type: int, low: 2, high: 5}\n"
        "  m: {type: int, low: 1, high: 1024, log: true}\n  k: {type: int, low: 0, high: 10, step: 5}\n"
    )
    pts = _sample(spec)
    assert {p["a"] for p in pts} == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert {p["n"] for p in pts} == {2, 3, 4, 5}
    assert all(isinstance(p["n"], int) for p in pts)
    assert {p["k"] for p in pts} == {0, 5, 10}
    m = [p["m"] for p in pts]
    assert min(m) >= 1 and max(m) <= 1024
    assert np.mean(np.array(m) <= 32) == pytest.approx(0.5, abs=0.08)  # log-uniform: half below sqrt(1024)
    counts = np.bincount([p["n"] for p in pts])[2:]
    assert stats.chisquare(counts).pvalue > 1e-3


def test_native_categorical_with_lists_and_constant():
    spec = _spec("  arch: {type: categorical, values: [[32, 32], [64], small]}\n  tol: {value: 0.001}\n")
    pts = _sample(spec, n=600)
    assert {str(p["arch"]) for p in pts} == {"[32, 32]", "[64]", "small"}
    assert all(p["tol"] == 0.001 for p in pts)


def test_conditional_params_are_absent_when_inactive():
    spec = _spec(
        "  model: {type: categorical, values: [svc, rf]}\n"
        "  C: {type: float, low: 0.1, high: 10, when: {model: svc}}\n"
        "  depth: {type: int, low: 1, high: 5, when: {model: rf}}\n",
        strategy="tpe",
    )
    for p in _sample(spec, n=60):
        if p["model"] == "svc":
            assert "C" in p and "depth" not in p
        else:
            assert "depth" in p and "C" not in p


# -- W&B distributions ------------------------------------------------------------------------------
WANDB = {
    "uniform": ("{distribution: uniform, min: -1.0, max: 2.0}", stats.uniform(-1, 3).cdf, (-1, 2)),
    "log_uniform_values": ("{distribution: log_uniform_values, min: 0.001, max: 1.0}", None, (0.001, 1.0)),
    "inv_log_uniform_values": (
        "{distribution: inv_log_uniform_values, min: 0.001, max: 1.0}",
        None,
        (0.001, 1.0),
    ),
    "log_uniform": ("{distribution: log_uniform, min: -3, max: 0}", None, (math.exp(-3), 1.0)),
    "inv_log_uniform": ("{distribution: inv_log_uniform, min: 0, max: 3}", None, (math.exp(-3), 1.0)),
    "normal": ("{distribution: normal, mu: 1.0, sigma: 2.0}", stats.norm(1, 2).cdf, None),
    "log_normal": ("{distribution: log_normal, mu: 0.0, sigma: 0.5}", stats.lognorm(0.5).cdf, (0, math.inf)),
    "beta": ("{distribution: beta, a: 2.0, b: 5.0}", stats.beta(2, 5).cdf, (0, 1)),
}


@pytest.mark.parametrize("name", sorted(WANDB))
def test_wandb_continuous_distributions_follow_their_cdf(name):
    dist, cdf, bounds = WANDB[name]
    spec = _spec(f"  v: {dist}\n", wandb=True)
    vals = [p["v"] for p in _sample(spec)]
    if bounds:
        assert min(vals) >= bounds[0] - 1e-12 and max(vals) <= bounds[1] + 1e-12
    if cdf is None:  # log-uniform family: the log is uniform
        lo, hi = math.log(bounds[0]), math.log(bounds[1])
        vals, cdf = np.log(vals), stats.uniform(lo, hi - lo).cdf
    assert _ks(vals, cdf) > 1e-3


@pytest.mark.parametrize(
    "dist, q, lo, hi",
    [
        ("{distribution: q_uniform, min: 0.1, max: 1.0, q: 0.25}", 0.25, 0.1, 1.0),
        ("{distribution: q_log_uniform_values, min: 1, max: 100, q: 5}", 5, 1, 100),
        ("{distribution: q_normal, mu: 0, sigma: 3, q: 0.5}", 0.5, -math.inf, math.inf),
        ("{distribution: q_beta, a: 2, b: 2, q: 0.1}", 0.1, 0, 1),
    ],
)
def test_wandb_q_distributions_round_to_multiples_of_q_inside_bounds(dist, q, lo, hi):
    spec = _spec(f"  v: {dist}\n", wandb=True)
    vals = [p["v"] for p in _sample(spec, n=500)]
    assert all(lo - 1e-9 <= v <= hi + 1e-9 for v in vals)
    assert all(abs(v / q - round(v / q)) < 1e-6 for v in vals)
    assert len(set(vals)) > 1


def test_wandb_categorical_with_probabilities_and_int_uniform():
    spec = _spec(
        "  c: {distribution: categorical_w_probabilities, values: [a, b, c], probabilities: [0.2, 0.5, 0.3]}\n"
        "  n: {distribution: int_uniform, min: -2, max: 2}\n",
        wandb=True,
    )
    pts = _sample(spec, n=3000)
    freq = {k: sum(p["c"] == k for p in pts) / len(pts) for k in "abc"}
    assert freq["a"] == pytest.approx(0.2, abs=0.04) and freq["b"] == pytest.approx(0.5, abs=0.04)
    assert {p["n"] for p in pts} == {-2, -1, 0, 1, 2}


def test_bayes_runs_gp_on_nested_params():
    spec = _spec("  opt:\n    parameters:\n      lr: {min: 0.001, max: 0.1}\n", strategy="bayes", wandb=True)
    # W&B's bayes is a Gaussian process: it runs on gp when torch is installed (tests/unit/
    # test_strategies_search.py covers the tpe fallback without torch)
    assert spec.strategy.name == "gp" and spec.strategy.requested == "bayes"
    s = make_strategy(spec, 1)
    assert isinstance(s, GPStrategy)
    s.load_history([])
    assert 0.001 <= s.ask(1)[0].params["opt.lr"] <= 0.1


# -- determinism, seeds, history --------------------------------------------------------------------
def _hist(params, value, number, state=TrialState.COMPLETE):
    return HistoryTrial(
        TrialRecord(
            trial_id=number + 1,
            study_id=1,
            number=number,
            state=state,
            params=params,
            seed=0,
            objective=value,
        )
    )


@pytest.mark.parametrize("strategy", ["random", "tpe"])
def test_same_seed_and_history_give_same_suggestions(strategy):
    spec = _spec("  x: {type: float, low: -5, high: 5}\n  k: {type: categorical, values: [a, b]}\n", strategy)
    history = [_hist({"x": float(i) - 5, "k": "ab"[i % 2]}, (i - 5.0) ** 2, i) for i in range(12)]
    runs = []
    for _ in range(2):
        s = make_strategy(spec, 123)
        s.load_history(history)
        runs.append([dict(x.params) for x in s.ask(5)])
    assert runs[0] == runs[1]
    s = make_strategy(spec, 124)
    s.load_history(history)
    assert [dict(x.params) for x in s.ask(5)] != runs[0]


def test_resumed_random_search_does_not_replay_its_first_suggestions():
    spec = _spec("  x: {type: float, low: 0, high: 1}\n")
    first = _sample(spec, n=5, seed=9)
    s = make_strategy(spec, 9)
    s.load_history([_hist(p, 0.0, i) for i, p in enumerate(first)])
    again = [dict(x.params) for x in s.ask(5)]
    assert not {params_key(p) for p in again} & {params_key(p) for p in first}


def test_tpe_concentrates_near_the_optimum():
    spec = _spec("  x: {type: float, low: -10, high: 10}\n", strategy="tpe")
    s = make_strategy(spec, 0)
    s.load_history([])
    xs = []
    for _ in range(60):
        sug = s.ask(1)[0]
        x = sug.params["x"]
        xs.append(x)
        s.tell(sug, TrialState.COMPLETE, (x - 3.0) ** 2)
    assert np.median(np.abs(np.array(xs[-20:]) - 3.0)) < np.median(np.abs(np.array(xs[:10]) - 3.0))
    assert min(abs(x - 3) for x in xs) < 0.3


def test_trial_seed_depends_on_study_seed_and_params_only():
    assert trial_seed(1, {"a": 1, "b": 2}) == trial_seed(1, {"b": 2, "a": 1})
    assert trial_seed(1, {"a": 1}) != trial_seed(2, {"a": 1})
    assert trial_seed(1, {"a": 1}) != trial_seed(1, {"a": 2})
    assert 0 <= trial_seed(7, {"a": 1}) < 2**31


def test_grid_walks_each_point_once_even_after_history():
    spec = _spec(
        "  a: {type: categorical, values: [1, 2, 3]}\n  b: {type: categorical, values: [x, y]}\n", "grid"
    )
    g = make_strategy(spec, 0)
    assert isinstance(g, GridStrategy) and g.size == 6
    g.load_history([_hist({"a": 1, "b": "y"}, 0.0, 0), _hist({"a": 2, "b": "x"}, 0.0, 1, TrialState.FAILED)])
    got = [dict(s.params) for s in g.ask(10)]
    assert got == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "x"}, {"a": 3, "b": "y"}]
    assert g.exhausted and g.ask(1) == []


def test_median_pruner_prunes_a_bad_curve():
    spec = _spec(
        "  x: {type: float, low: 0, high: 1}\n",
        extra="early_stopping: {type: median, warmup_steps: 1, startup_trials: 2}\n",
    )
    s = make_strategy(spec, 0)
    s.load_history([])
    for _ in range(3):
        sug = s.ask(1)[0]
        for step in range(5):
            assert not s.report(sug, step, 1.0 / (step + 1))
        s.tell(sug, TrialState.COMPLETE, 0.2)
    bad = s.ask(1)[0]
    pruned = [s.report(bad, step, 5.0) for step in range(5)]
    assert pruned[0] is False and any(pruned[1:])


def test_random_strategy_class_exported():
    assert RandomStrategy.name == "random"
