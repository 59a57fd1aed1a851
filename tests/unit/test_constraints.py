"""Constraints (``constraints: ["metrics.mem_mb <= 512", ...]``): the spec's grammar and errors, violation
amounts, the engine's ``feasible`` flag, the samplers that search towards feasibility (TPE, GP, NSGA-II)
told non-zero violations, their rebuild on resume, and feasible-first leaderboards and ``best``."""

from __future__ import annotations

import math
import textwrap

import pytest

from hypersweep.errors import SpecError
from hypersweep.query import best_trial, leaderboard_rows
from hypersweep.spec import MISSING_VIOLATION, parse_spec
from hypersweep.store import opened
from hypersweep.strategies import HistoryTrial, make_strategy
from hypersweep.testing import Complete, run_study

SPEC = textwrap.dedent("""
    name: c
    objective: {{metric: acc, goal: maximize}}
    strategy: {strategy}
    seed: 4
    budget: {{trials: {trials}, parallel: 1}}
    trial: {{function: "m:f"}}
    constraints: ["metrics.mem_mb <= 512", "metrics.latency_ms < 20"]
    parameters:
      x: {{type: float, low: 0, high: 1}}
      y: {{type: float, low: 0, high: 1}}
""")


def scored(t):
    """Accuracy grows with x, and so do memory and latency: the best trials break the constraints."""
    x, y = t.params["x"], t.params["y"]
    return Complete({"acc": x + 0.1 * y, "mem_mb": 1000 * x, "latency_ms": 10 + 20 * y})


@pytest.fixture
def store(tmp_path):
    with opened(f"sqlite:///{tmp_path / 'hs.db'}", create=True) as st:
        yield st


def test_the_grammar_normalises_and_refuses_what_is_not_a_comparison():
    spec = parse_spec(SPEC.format(strategy="tpe", trials=5), check_files=False)
    assert [c.text for c in spec.constraints] == ["metrics.mem_mb <= 512", "metrics.latency_ms < 20"]
    bad = SPEC.format(strategy="tpe", trials=5).replace(
        '["metrics.mem_mb <= 512", "metrics.latency_ms < 20"]',
        '["mem_mb <= 512", "metrics.a == 1", "metrics.b < high", "metrics.mem_mb <= 512", "metrics.mem_mb <= 512"]',
    )
    with pytest.raises(SpecError) as e:
        parse_spec(bad, check_files=False)
    text = str(e.value)
    for i in (0, 1, 2):
        assert f"constraints[{i}]" in text or f"constraints.{i}" in text
    assert "metrics.NAME OP NUMBER" in text and "listed twice" in text


def test_violation_amounts_hold_at_zero_and_below():
    spec = parse_spec(SPEC.format(strategy="tpe", trials=5), check_files=False)
    mem, lat = spec.constraints
    assert mem.violation({"mem_mb": 512}) == 0 and mem.violation({"mem_mb": 500}) == -12
    assert mem.violation({"mem_mb": 600}) == 88
    assert lat.violation({"latency_ms": 19.5}) < 0 and lat.violation({"latency_ms": 20}) > 0  # strict
    assert mem.violation({}) == MISSING_VIOLATION and mem.violation({"mem_mb": math.nan}) == MISSING_VIOLATION
    assert math.isfinite(MISSING_VIOLATION)
    assert mem.reason({}) == "metrics.mem_mb <= 512: metrics.mem_mb is missing"
    assert mem.reason({"mem_mb": 600}) == "metrics.mem_mb <= 512: metrics.mem_mb = 600 > 512"


SAMPLERS = {"tpe": "TPESampler", "gp": "GPSampler", "nsga2": "NSGAIISampler"}


@pytest.mark.parametrize("strategy", sorted(SAMPLERS))
def test_samplers_that_search_towards_feasibility_are_told_nonzero_violations(store, monkeypatch, strategy):
    """The sampler sees each told trial's constraints (Optuna's ``trial.constraints``: one violation per
    constraint), some > 0; and when it samples, the trials it reads carry them."""
    if strategy == "gp":
        pytest.importorskip("torch")
    import optuna

    cls = getattr(optuna.samplers, SAMPLERS[strategy])
    told: list[tuple[float, ...]] = []
    sampled_with: list[int] = []
    after, infer = cls.after_trial, cls.infer_relative_search_space

    def after_trial(self, study, trial, state, values):
        told.append(tuple(trial.constraints.values()))
        return after(self, study, trial, state, values)

    def infer_relative_search_space(self, study, trial):
        done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        sampled_with.append(sum(1 for t in done if t.constraints))
        return infer(self, study, trial)

    monkeypatch.setattr(cls, "after_trial", after_trial)
    monkeypatch.setattr(cls, "infer_relative_search_space", infer_relative_search_space)
    run_study(store, SPEC.format(strategy=strategy, trials=12), scored)
    assert len(told) == 12 and all(len(v) == 2 for v in told)
    assert any(v > 0 for vs in told for v in vs) and any(all(v <= 0 for v in vs) for vs in told)
    assert all(v < MISSING_VIOLATION for vs in told for v in vs)  # every metric was reported
    assert max(sampled_with) >= 10  # later suggestions were drawn from constrained trials


def test_feasible_is_recorded_and_ranks_first_and_resume_rebuilds_the_violations(store):
    text = SPEC.format(strategy="tpe", trials=16)
    summary = run_study(store, text, scored)
    study = store.get_study("c")
    trials = store.get_trials(study.study_id)
    ok = [t for t in trials if t.metrics["mem_mb"] <= 512 and t.metrics["latency_ms"] < 20]
    assert ok and len(ok) < len(trials)
    assert all(t.feasible is (t in ok) for t in trials)
    best_feasible = max(t.objective for t in ok)
    assert summary.progress.best_value == best_feasible  # the engine's best meets the constraints
    rows = leaderboard_rows(store, ["c"], top=None)
    flags = [r["feasible"] for r in rows]
    assert flags == sorted(flags, reverse=True) and rows[0]["objective"] == best_feasible
    bad = [r for r in rows if not r["feasible"]]
    assert bad and all(r["infeasible_because"] for r in bad)
    assert all(r["infeasible_because"] == [] for r in rows if r["feasible"])
    assert best_trial(store, "c")["objective"] == best_feasible
    (row,) = [r for r in __import__("hypersweep").query.study_rows(store) if r["name"] == "c"]
    assert row["best_objective"] == best_feasible
    # resume: the sampler's history carries each trial's violations again, from the stored metrics
    strategy = make_strategy(parse_spec(text, check_files=False), study.seed)
    strategy.load_history([HistoryTrial(t) for t in trials])
    rebuilt = [tuple(ft.constraints.values()) for ft in strategy.mirror.study.trials]
    assert len(rebuilt) == len(trials) and all(len(v) == 2 for v in rebuilt)
    assert any(v[0] > 0 for v in rebuilt) and any(max(v) <= 0 for v in rebuilt)


def test_changing_the_constraints_is_a_resume_conflict(tmp_path):
    from hypersweep.errors import ResumeConflictError
    from hypersweep.orchestrate import run_sweep

    (tmp_path / "m.py").write_text(
        "def f(p):\n    return {'acc': p['x'], 'mem_mb': 1000 * p['x'], 'latency_ms': 10.0}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(SPEC.format(strategy="random", trials=3))
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    run_sweep(path, store=url, executor="local")
    path.write_text(SPEC.format(strategy="random", trials=3).replace("<= 512", "<= 256"))
    with pytest.raises(ResumeConflictError, match="constraints"):
        run_sweep(path, store=url, executor="local")


def test_the_dashboard_marks_infeasible_trials_with_their_reason(tmp_path):
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from hypersweep.ui import create_app

    url = f"sqlite:///{tmp_path / 'hs.db'}"
    with opened(url, create=True) as st:
        run_study(st, SPEC.format(strategy="random", trials=8), scored)
    with TestClient(create_app(url)) as client:
        page = client.get("/studies/c")
        assert page.status_code == 200
        assert page.text.count('data-field="feasible"') == 8
        assert "no</td>" in page.text and "metrics.mem_mb = " in page.text  # the reason, as a title
        rows = client.get("/api/studies/c/leaderboard?top=8").json()
        assert [r["feasible"] for r in rows] == sorted((r["feasible"] for r in rows), reverse=True)
