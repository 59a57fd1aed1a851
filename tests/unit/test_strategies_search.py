"""GP, CMA-ES, QMC, NSGA-II and ``auto`` (issue 15, stage 1): options, parallel trials that spread out,
resume that continues, and ``auto``'s choice recorded once. Real engine on ``FakeExecutor`` and a real
SQLite store file; no Ray."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest

from hypersweep.errors import SpecError
from hypersweep.records import TrialState
from hypersweep.spec import parse_spec
from hypersweep.store import opened
from hypersweep.strategies import CmaEsStrategy, GPStrategy, NSGA2Strategy, QMCStrategy, make_strategy
from hypersweep.testing import Complete, run_study

SRC = str(Path(__file__).resolve().parents[2] / "src")


def native(strategy: str, *, trials: int = 12, parallel: int = 1, params: str | None = None) -> str:
    params = params or "x: {type: float, low: -1, high: 1}\n  y: {type: float, low: -1, high: 1}"
    lines = [
        "name: s",
        "objective: {metric: loss, goal: minimize}",
        strategy,
        "seed: 3",
        f"budget: {{trials: {trials}, parallel: {parallel}}}",
        'trial: {function: "fns:quadratic"}',
        "parameters:",
        f"  {params}",
    ]
    return "\n".join(lines) + "\n"


def quadratic(t):
    return Complete({"loss": (t.params["x"] - 0.3) ** 2 + (t.params["y"] + 0.2) ** 2})


@pytest.fixture
def store(tmp_path):
    with opened(f"sqlite:///{tmp_path / 'hs.db'}", create=True) as st:
        yield st


def points(st, name="s"):
    trials = st.get_trials(st.get_study(name).study_id, include_reruns=True)
    return [(t.params["x"], t.params["y"]) for t in sorted(trials, key=lambda t: t.number)]


# -- the catalog, options --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("strategy", "cls"),
    [
        ("strategy: {name: gp, n_startup_trials: 3, deterministic_objective: true}", GPStrategy),
        ("strategy: {name: cmaes, n_startup_trials: 2, sigma0: 0.3, popsize: 4}", CmaEsStrategy),
        ("strategy: qmc", QMCStrategy),
        ("strategy: {name: nsga2, population_size: 4, mutation_prob: 0.2}", NSGA2Strategy),
    ],
)
def test_each_strategy_runs_with_its_options(store, strategy, cls):
    n = 5 if cls is GPStrategy else 8  # GP refits at each ask: keep it short
    spec = parse_spec(native(strategy, trials=n), workdir=".", check_files=False)
    assert isinstance(make_strategy(spec, 0), cls)
    summary = run_study(store, spec, quadratic)
    assert summary.status.value == "finished"
    trials = store.get_trials(store.get_study("s").study_id)
    assert len(trials) == n and all(t.state is TrialState.COMPLETE for t in trials)
    if cls is not NSGA2Strategy:  # NSGA-II's crossover may well repeat a parent's point
        assert len(set(points(store))) == n
    assert all(-1 <= x <= 1 and -1 <= y <= 1 for x, y in points(store))


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ("strategy: {name: gp, n_startup_trials: -1}", "n_startup_trials"),
        ("strategy: {name: gp, n_ei_candidates: 3}", "n_ei_candidates"),
        ("strategy: {name: nsga2, mutation_prob: 2}", "at most 1"),
        ("strategy: {name: nsga2, population_size: 1}", "population_size"),
        ("strategy: {name: cmaes, sigma0: 0}", "sigma0"),
        ("strategy: {name: qmc, seed: 1}", "seed"),
        ("strategy: bayes", "W&B's bayes runs as gp"),
    ],
)
def test_bad_strategy_options_are_spec_errors(strategy, message):
    with pytest.raises(SpecError) as err:
        parse_spec(native(strategy), workdir=".", check_files=False)
    assert message in str(err.value) and "strategy" in str(err.value)


# -- parallel trials -------------------------------------------------------------------------------
def _min_gap_in_batches(pts, start, size):
    gaps = []
    for b in range(start, len(pts), size):
        batch = pts[b : b + size]
        gaps.extend(math.dist(p, q) for p, q in itertools.combinations(batch, 2))
    return min(gaps)


def _gp_parallel_gap(store):
    # 4 random start-up trials one at a time, then a run with parallel: 4 whose first 4 suggestions are
    # asked together (each while the ones asked before it are running) from the same 4 results
    text = native(
        "strategy: {name: gp, n_startup_trials: 4, deterministic_objective: true}", trials=8, parallel=4
    )
    run_study(store, text, quadratic, trials=4, parallel=1)
    run_study(store, text, quadratic, trials=8)
    pts = points(store)
    assert len(pts) == 8
    return _min_gap_in_batches(pts[4:], 0, 4)


def test_gp_parallel_suggestions_spread_out(store):
    assert _gp_parallel_gap(store) > 0.05


def test_gp_parallel_suggestions_collapse_without_running_trials(store, monkeypatch):
    """The check above can fail: with Optuna's handling of running trials turned off, the suggestions
    asked together collapse onto (nearly) one point."""
    impl = optuna.samplers.GPSampler._sample_relative_impl

    def blind(self, study, completed, running, space):
        return impl(self, study, completed, [], space)

    monkeypatch.setattr(optuna.samplers.GPSampler, "_sample_relative_impl", blind)
    assert _gp_parallel_gap(store) < 0.05


# -- resume ---------------------------------------------------------------------------------------
def test_qmc_resume_continues_its_sequence(store, tmp_path):
    text = native("strategy: qmc", trials=8)
    run_study(store, text, quadratic, trials=4)
    first = points(store)
    run_study(store, text, quadratic, trials=8)  # a second driver: the strategy rebuilt from the store
    resumed = points(store)[4:]
    assert len(resumed) == 4 and not set(first) & set(resumed)
    # ... and the same points as one uninterrupted run of the sequence (apart from trial 0, drawn at
    # random while the space is unknown)
    with opened(f"sqlite:///{tmp_path / 'one.db'}", create=True) as st:
        run_study(st, text, quadratic, trials=8)
        assert points(st)[4:] == resumed


def test_nsga2_resume_rebuilds_generations(store):
    text = native("strategy: {name: nsga2, population_size: 4}", trials=12)
    run_study(store, text, quadratic, trials=8)
    first = points(store)
    strategy = make_strategy(parse_spec(text, workdir=".", check_files=False), 3)
    from hypersweep.strategies import HistoryTrial

    strategy.load_history([HistoryTrial(t) for t in store.get_trials(store.get_study("s").study_id)])
    key = optuna.samplers.NSGAIISampler._get_generation_key()
    gens = [t.system_attrs[key] for t in strategy.mirror.study.trials]  # type: ignore[attr-defined]
    assert gens == [0, 0, 0, 0, 1, 1, 1, 1]
    (suggestion,) = strategy.ask(1)
    trial = strategy.mirror.study._storage.get_trial(suggestion.token._trial_id)  # type: ignore[attr-defined]
    assert trial.system_attrs[key] == 2  # the next generation, not generation 0 again
    run_study(store, text, quadratic, trials=12)
    assert points(store)[:8] == first and len(points(store)) == 12


def test_cmaes_resume_starts_from_the_best_trial(store):
    text = native("strategy: {name: cmaes, n_startup_trials: 0, sigma0: 0.05}", trials=10)
    run_study(store, text, quadratic, trials=6)
    first = points(store)
    best = min(first, key=lambda p: (p[0] - 0.3) ** 2 + (p[1] + 0.2) ** 2)
    run_study(store, text, quadratic, trials=10)
    resumed = points(store)[6:]
    assert not set(first) & set(resumed)
    # a new CMA-ES run centred on the best trial (sigma0 0.05): every resumed point near it
    assert all(math.dist(p, best) < 0.5 for p in resumed)


# -- auto -----------------------------------------------------------------------------------------
def test_auto_is_the_default_and_picks_gp_for_small_numeric_spaces():
    spec = parse_spec(native(""), workdir=".", check_files=False)
    assert (spec.strategy.name, spec.strategy.requested) == ("gp", "auto")
    assert "2 numeric parameters" in (spec.strategy.reason or "")
    assert spec.summary()["strategy"]["requested"] == "auto"


@pytest.mark.parametrize(
    ("strategy", "trials", "params", "want"),
    [
        ("", 12, "k: {values: [a, b]}\n  x: {type: float, low: 0, high: 1}", "tpe"),  # categorical
        ("", 500, None, "tpe"),  # a large budget
        ("strategy: auto", 12, None, "gp"),
        ("strategy: {n_startup_trials: 5}", 12, None, "tpe"),  # a mapping without name: tpe, as before
    ],
)
def test_auto_rule(strategy, trials, params, want):
    spec = parse_spec(native(strategy, trials=trials, params=params), workdir=".", check_files=False)
    assert spec.strategy.name == want


def test_auto_without_objective_is_random():
    text = native("").replace("objective: {metric: loss, goal: minimize}\n", "")
    assert parse_spec(text, workdir=".", check_files=False).strategy.name == "random"


def _hidden_torch(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    prelude = "import sys; sys.modules['torch'] = None\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)], env=env, capture_output=True, text=True
    )


def test_without_torch_gp_is_a_spec_error_auto_tpe_and_bayes_tpe_with_a_notice():
    out = _hidden_torch(f"""
        from hypersweep.errors import SpecError
        from hypersweep.spec import parse_spec
        text = {native("strategy: gp")!r}
        try:
            parse_spec(text, workdir=".", check_files=False)
        except SpecError as e:
            print("GP-ERROR", e)
        print("AUTO", parse_spec({native("")!r}, workdir=".", check_files=False).strategy.name)
        w = parse_spec("method: bayes\\nmetric: {{name: loss}}\\nprogram: t.py\\n"
                       "parameters: {{x: {{min: 0.0, max: 1.0}}}}\\n", workdir=".", check_files=False)
        print("BAYES", w.strategy.name, w.strategy.requested)
        print("NOTICE", [str(v) for v in w.warnings if "bayes" in str(v)])
    """)
    assert out.returncode == 0, out.stderr
    assert "GP-ERROR" in out.stdout and "pip install 'hypersweep[gp]'" in out.stdout
    assert "AUTO tpe" in out.stdout
    assert "BAYES tpe bayes" in out.stdout
    assert "runs as tpe here: torch is not installed" in out.stdout
