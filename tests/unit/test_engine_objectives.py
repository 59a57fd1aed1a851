"""The engine with several objectives on ``FakeExecutor`` (real engine, real SQLite store): the Optuna
study is multi-objective and told every value, outcomes carry the values, and a resumed study rebuilds it."""

from __future__ import annotations

import textwrap

import pytest

from hypersweep.records import Direction, TrialState
from hypersweep.spec import parse_spec
from hypersweep.store import opened
from hypersweep.strategies import HistoryTrial, make_strategy
from hypersweep.strategies._optuna import SamplingStrategy
from hypersweep.testing import Complete, FakeExecutor, run_study

SPEC = textwrap.dedent("""
    name: mo
    objectives: [{{metric: acc, goal: maximize}}, {{metric: size, goal: minimize}}]
    strategy: {strategy}
    seed: 3
    budget: {{trials: 8, parallel: 2}}
    trial: {{function: "m:f"}}
    parameters:
      x: {{type: float, low: 0, high: 1}}
      y: {{type: float, low: 0, high: 1}}
""")


def scored(t):
    x, y = t.params["x"], t.params["y"]
    return Complete({"acc": x - 0.2 * y, "size": x * x + y})


@pytest.fixture
def store(tmp_path):
    with opened(f"sqlite:///{tmp_path / 'hs.db'}", create=True) as st:
        yield st


@pytest.mark.parametrize("strategy", ["tpe", "nsga2", "random", "qmc"])
def test_the_strategy_is_told_every_value_and_the_store_keeps_them(store, monkeypatch, strategy):
    told = []
    original = SamplingStrategy.tell_values

    def spy(self, suggestion, state, values, constraints=None):
        told.append((state, tuple(values)))
        original(self, suggestion, state, values, constraints)

    monkeypatch.setattr(SamplingStrategy, "tell_values", spy)
    summary = run_study(store, SPEC.format(strategy=strategy), FakeExecutor(scored, workers=2))
    assert summary.progress.complete == 8
    study = store.get_study("mo")
    assert study.directions == (Direction.MAXIMIZE, Direction.MINIMIZE)
    trials = store.get_trials(study.study_id)
    for t in trials:
        x, y = t.params["x"], t.params["y"]
        assert t.values == pytest.approx((x - 0.2 * y, x * x + y)) and t.objective == t.values[0]
    assert sorted(v for _, v in told) == sorted(t.values for t in trials)
    assert summary.progress.best_value == max(t.values[0] for t in trials)  # the first objective's best


def test_a_resumed_study_rebuilds_a_multi_objective_optuna_study(store):
    spec = SPEC.format(strategy="nsga2")
    run_study(store, spec, FakeExecutor(scored, workers=2), trials=4)
    run_study(store, spec, FakeExecutor(scored, workers=2), trials=8)
    study = store.get_study("mo")
    trials = store.get_trials(study.study_id)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 8
    assert len({(t.params["x"], t.params["y"]) for t in trials}) == 8  # resumed suggestions are new

    strategy = make_strategy(parse_spec(spec, check_files=False), study.seed)
    strategy.load_history([HistoryTrial(t) for t in trials])
    assert isinstance(strategy, SamplingStrategy)
    mirror = strategy.mirror.study
    assert [d.name for d in mirror.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert sorted(tuple(t.values) for t in mirror.trials) == sorted(t.values for t in trials)
    assert len(strategy.ask(2)) == 2


def test_a_complete_trial_missing_a_value_counts_as_failed_for_the_sampler(store):
    spec = SPEC.format(strategy="tpe")
    run_study(store, spec, lambda t: Complete({"acc": 1.0}), trials=2, parallel=1)
    trials = store.get_trials(store.get_study("mo").study_id)
    assert all(t.values == (1.0, None) for t in trials)
    strategy = make_strategy(parse_spec(spec, check_files=False), 0)
    strategy.load_history([HistoryTrial(t) for t in trials])
    assert isinstance(strategy, SamplingStrategy) and strategy.mirror.study.trials == []


def test_patience_with_several_objectives_counts_trials_that_leave_the_front_unchanged(store):
    """(acc up, size down): (1, 5) and (2, 6) are both on the front; (1, 6), (0, 9) and a repeat of (2, 6)
    change nothing; patience 3 ends the run there, before (3, 1), which would have."""
    text = textwrap.dedent("""
        name: mo-patience
        objectives: [{metric: acc, goal: maximize}, {metric: size, goal: minimize}]
        strategy: grid
        budget: {parallel: 1, patience: 3}
        trial: {function: "m:f"}
        parameters:
          i: {type: categorical, values: [0, 1, 2, 3, 4, 5]}
    """)
    points = [(1, 5), (2, 6), (1, 6), (0, 9), (2, 6), (3, 1)]

    def handler(t):
        acc, size = points[t.params["i"]]
        return Complete({"acc": acc, "size": size})

    from hypersweep.engine import StopReason

    summary = run_study(store, text, handler)
    assert summary.reason is StopReason.PATIENCE
    trials = store.get_trials(store.get_study("mo-patience").study_id)
    assert sorted(t.params["i"] for t in trials if t.state is TrialState.COMPLETE) == [0, 1, 2, 3, 4]
