"""The sample-efficiency benchmark's scoring and sweep files (benchmarks/bench_efficiency.py): the
hypervolume and best-feasible curves of the ZDT1 and constrained-Branin tasks, the sweep files they give
hypersweep, and the paired Optuna reference reproducing hypersweep's runs on a few trials."""

from __future__ import annotations

import math

import pytest
from benchmarks import _efficiency_methods as em
from benchmarks import bench_efficiency as be
from benchmarks._efficiency_tasks import TASKS, branin_disc, zdt1

from hypersweep.spec import load_spec


def test_hypervolume_so_far_counts_only_the_front_inside_the_reference_box():
    ref = (1.1, 11.0)
    points = [(0.5, 5.0), (0.6, 6.0), None, (0.2, 8.0), (2.0, 0.0), (0.5, 5.0)]
    hv = be.hypervolume_so_far(points, ref)
    first = (1.1 - 0.5) * (11 - 5)
    assert hv[0] == pytest.approx(first)
    assert hv[1] == hv[0]  # dominated
    assert hv[2] == hv[1]  # a failed trial
    assert hv[3] == pytest.approx(first + (0.5 - 0.2) * (11 - 8))
    assert hv[4] == hv[3]  # f1 beyond the reference point: adds nothing
    assert hv[5] == hv[4]  # a duplicate
    assert be.hypervolume_so_far([], ref) == []


def test_zdt1_front_reaches_the_stated_optimum():
    spec = TASKS["zdt1"]
    # points on the Pareto front (x2..x6 = 0: g = 1, f2 = 1 - sqrt(f1))
    front = [zdt1({"x1": i / 2000, **{f"x{j}": 0.0 for j in range(2, 7)}}) for i in range(2001)]
    for p in front[::500]:
        assert p["f2"] == pytest.approx(1 - math.sqrt(p["f1"]))
    hv = be.hypervolume_so_far([(p["f1"], p["f2"]) for p in front], spec["reference_point"])
    assert hv[-1] == pytest.approx(spec["optimum"], abs=1e-3)
    # g's largest value bounds f2 inside the reference box
    worst = zdt1({"x1": 0.0, **{f"x{j}": 1.0 for j in range(2, 7)}})
    assert worst["f2"] == pytest.approx(10.0) and worst["f2"] <= spec["reference_point"][1]


def test_best_feasible_so_far_is_the_worst_value_until_a_feasible_trial():
    curve = be.best_feasible_so_far(
        [5.0, 1.0, 3.0, 0.5, 2.0], [False, False, True, False, True], "minimize", 99
    )
    assert curve == [99, 99, 3.0, 3.0, 2.0]
    up = be.best_feasible_so_far([5.0, 1.0, 7.0], [True, None, True], "maximize", -1)
    assert up == [5.0, 5.0, 7.0]


def test_branin_disc_keeps_one_minimum_feasible():
    minima = [(-math.pi, 12.275), (math.pi, 2.275), (3 * math.pi, 2.475)]
    feasible = [branin_disc({"x1": a, "x2": b})["c"] <= 0 for a, b in minima]
    assert feasible == [False, True, False]
    assert branin_disc({"x1": -5.0, "x2": 0.0})["y"] == pytest.approx(TASKS["branin-disc"]["worst"])


def test_score_dispatches_on_the_task_and_pads_to_the_budget():
    run = {
        "values": [2.0, 1.0],
        "points": [(0.5, 5.0), (0.2, 8.0)],
        "feasible": [False, True],
    }
    assert be._score(run, TASKS["branin"], 3) == [2.0, 1.0, 1.0]
    assert be._score(run, TASKS["branin-disc"], 3) == [TASKS["branin-disc"]["worst"], 1.0, 1.0]
    hv = be._score(run, TASKS["zdt1"], 3)
    assert hv[0] < hv[1] == hv[2]


@pytest.mark.parametrize("task", ["zdt1", "branin-disc"])
def test_sweep_files_of_the_new_tasks_parse_with_their_objectives_and_constraints(task, tmp_path):
    files = em.write_files(tmp_path, 30)
    for strategy in em.strategies(task):
        spec = load_spec(files[task, strategy])
        if task == "zdt1":
            assert [(o.metric, o.direction.value) for o in spec.objectives] == [
                ("f1", "minimize"),
                ("f2", "minimize"),
            ]
            assert spec.strategy.name == ("gp" if strategy == "auto" else strategy)
        else:
            assert [c.text for c in spec.constraints] == ["metrics.c <= 0"]
            assert spec.strategy.name == ("gp" if strategy == "auto" else strategy)


@pytest.mark.parametrize(("task", "kind"), [("zdt1", "nsga2"), ("zdt1", "tpe"), ("branin-disc", "tpe")])
def test_optuna_reference_reproduces_hypersweep(task, kind, tmp_path, monkeypatch):
    """The paired reference gives the same trials as hypersweep's run of the same seed (a few trials)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    files = em.write_files(tmp_path, 12)
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    hs = em.hypersweep_run(files[task, kind], url, f"{task}-{kind}", 12, 3)
    ref = em.optuna_run(task, kind, 12, 3)
    assert be._identical([hs], [ref]) == [12]
    if task == "branin-disc":
        assert hs["feasible"] == ref["feasible"]
        assert set(hs["feasible"]) <= {True, False}
