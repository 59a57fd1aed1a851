"""A toy strategy added the way a new one is: registered with its traits in ``hypersweep.strategies``
and one catalog entry in the spec (``hypersweep.spec.add_strategy_name``), then run end to end with
``run_sweep`` on the local executor. No other module knows its name."""

from __future__ import annotations

import textwrap

import pytest

from hypersweep.errors import SpecError
from hypersweep.orchestrate import dry_run, run_sweep
from hypersweep.records import StudyStatus, TrialState
from hypersweep.spec import add_strategy_name, parse_spec
from hypersweep.spec._sections import STRATEGY_OPTIONS
from hypersweep.store import opened
from hypersweep.strategies import Strategy, StrategyTraits, Suggestion, register_strategy
from hypersweep.strategies._registry import _REGISTRY


class Halving(Strategy):
    """Walks x = 1, 1/2, 1/4, ... (result-blind, endless)."""

    name = "halving"

    def __init__(self, spec, study_seed):
        self.next = 1.0

    def load_history(self, trials):
        for _ in trials:
            self.next /= 2

    def ask(self, n):
        out = []
        for _ in range(n):
            out.append(Suggestion({"x": self.next}))
            self.next /= 2
        return out

    def tell(self, suggestion, state, value):
        pass


@pytest.fixture
def toy():
    register_strategy("halving", Halving, StrategyTraits(adaptive=False, finite=False))
    add_strategy_name("halving", ("fast",))
    yield
    _REGISTRY.pop("halving")
    STRATEGY_OPTIONS.pop("halving")


TEXT = """
    name: toy
    objective: {metric: loss, goal: minimize}
    strategy: {name: halving, fast: true}
    budget: {trials: 5}
    trial: {function: "toyfns:square"}
    parameters:
      x: {type: float, low: 0, high: 1}
"""


def test_an_unregistered_name_is_a_spec_error():
    with pytest.raises(SpecError, match="halving"):
        parse_spec(textwrap.dedent(TEXT), check_files=False)


@pytest.mark.usefixtures("toy")
def test_a_toy_strategy_runs_a_sweep_end_to_end(tmp_path):
    (tmp_path / "toyfns.py").write_text("def square(params):\n    return {'loss': params['x'] ** 2}\n")
    path = tmp_path / "toy.yaml"
    path.write_text(textwrap.dedent(TEXT))
    assert [p["x"] for p in dry_run(path)["points"]] == [1.0, 0.5, 0.25, 0.125, 0.0625]
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    res = run_sweep(path, store=url, executor="local")
    assert res.status is StudyStatus.FINISHED
    with opened(url) as st:
        study = st.get_study("toy")
        trials = st.get_trials(study.study_id)
    assert study.strategy == "halving"
    assert [t.params["x"] for t in trials] == [1.0, 0.5, 0.25, 0.125, 0.0625]
    assert all(t.state is TrialState.COMPLETE and t.objective == t.params["x"] ** 2 for t in trials)


def test_a_single_objective_plug_in_is_refused_for_several_objectives(toy, tmp_path):
    from hypersweep.errors import UsageError

    (tmp_path / "toyfns.py").write_text("def square(params):\n    return {'loss': params['x'] ** 2}\n")
    path = tmp_path / "mo.yaml"
    path.write_text(
        textwrap.dedent(TEXT).replace(
            "objective: {metric: loss, goal: minimize}",
            "objectives: [{metric: loss, goal: minimize}, {metric: x2, goal: maximize}]",
        )
    )
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    with pytest.raises(UsageError, match="strategy halving optimises one objective, and the study has 2"):
        run_sweep(path, store=url, executor="local")
    with opened(url) as st:
        assert st.list_studies() == []  # refused before the study was created
