"""A random search without a pruner keeps its in-memory Optuna study bounded (it reads no history), and
suggests exactly what one unbounded study would."""

from __future__ import annotations

import collections

import optuna
import pytest

from hypersweep.records import TrialRecord, TrialState
from hypersweep.spec import parse_spec
from hypersweep.strategies import HistoryTrial, make_strategy
from hypersweep.strategies._optuna import OptunaMirror

SPACE = """
  x: {type: float, low: 0, high: 1}
  n: {type: int, low: 1, high: 1000, log: true}
  c: {type: categorical, values: [a, b, c]}
"""


def _spec(extra: str = "", strategy: str = "random"):
    text = (
        f"objective: {{metric: loss, goal: minimize}}\nstrategy: {strategy}\ntrial: {{function: 'm:f'}}\n"
        f"{extra}parameters:\n{SPACE}"
    )
    return parse_spec(text, check_files=False)


def _run(spec, n: int, in_flight: int, history=()):  # type: ignore[no-untyped-def]
    """Ask and tell ``n`` trials with ``in_flight`` outstanding, as the engine does; the params asked and
    the largest in-memory study seen."""
    s = make_strategy(spec, 7)
    s.load_history(list(history))
    flying: collections.deque = collections.deque()
    params, biggest = [], 0
    for i in range(n):
        sug = s.ask(1)[0]
        params.append(sug.params)
        flying.append(sug)
        if len(flying) > in_flight:
            s.tell(flying.popleft(), TrialState.COMPLETE if i % 5 else TrialState.FAILED, float(i))
        biggest = max(biggest, len(s.mirror.study.trials))  # type: ignore[attr-defined]
    return params, biggest


def test_random_search_memory_is_bounded_and_its_suggestions_unchanged(monkeypatch):
    spec = _spec()
    unbounded, size = _run(spec, 400, in_flight=9)
    assert size == 400  # the default rotation is far away: one study holds every trial
    monkeypatch.setattr(OptunaMirror, "ROTATE_AFTER", 25)
    bounded, size = _run(spec, 400, in_flight=9)
    assert bounded == unbounded
    assert size <= 25 + 9 + 1


def test_a_resumed_random_search_suggests_the_same_without_building_its_history():
    history = [
        HistoryTrial(
            TrialRecord(
                trial_id=i, study_id=1, number=i, state=TrialState.COMPLETE, params=p, seed=0, objective=0.5
            )
        )
        for i, p in enumerate(_run(_spec(), 30, in_flight=2)[0])
    ]
    s = make_strategy(_spec(), 7)
    s.load_history(history)
    assert len(s.mirror.study.trials) == 0  # type: ignore[attr-defined]
    got = [sug.params for sug in s.ask(5)]
    # the reference: the same sampler seed over a study that holds the whole history
    mirror = s.mirror  # type: ignore[attr-defined]
    ref = OptunaMirror(
        mirror.params,
        None,
        optuna.samplers.RandomSampler(seed=(7 * 1_000_003 + 30) & 0x7FFFFFFF),
        optuna.pruners.MedianPruner(),
    )
    ref.add_history(history, "loss")
    assert len(ref.study.trials) == 30
    assert got == [ref.suggest(ref.study.ask()) for _ in range(5)]


@pytest.mark.parametrize(
    ("strategy", "extra"), [("random", "early_stopping: {type: median}\n"), ("tpe", ""), ("qmc", "")]
)
def test_a_search_that_reads_its_history_keeps_it(monkeypatch, strategy, extra):
    monkeypatch.setattr(OptunaMirror, "ROTATE_AFTER", 25)
    _, size = _run(_spec(extra, strategy=strategy), 60, in_flight=3)
    assert size == 60
