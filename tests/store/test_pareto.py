"""Several objectives on the read side, on SQLite and PostgreSQL: leaderboard order by Pareto rank,
``--pareto``, ``best``'s front, ``studies``' pareto_size, several studies. The store is filled by the real
engine (``FakeExecutor`` trials with scripted values)."""

from __future__ import annotations

import itertools
import random
import textwrap

import pytest

from hypersweep.errors import UsageError
from hypersweep.query import best_trial, leaderboard_rows, study_rows
from hypersweep.query._pareto import pareto_ranks
from hypersweep.store import open_store
from hypersweep.testing import Complete, FakeExecutor, run_study

# x -> (acc, size): the front is {0, 1, 2}; {3, 4, 5} once it is removed; 6 last
VALUES = {
    0: (0.5, 1.0),
    1: (0.7, 2.0),
    2: (0.9, 4.0),
    3: (0.6, 3.0),
    4: (0.9, 5.0),
    5: (0.4, 1.0),
    6: (0.5, 6.0),
}
ORDER = [(2, 1), (1, 1), (0, 1), (4, 2), (3, 2), (5, 2), (6, 3)]  # (x, rank): rank, then acc descending

SPEC = textwrap.dedent("""
    name: {name}
    objectives: [{{metric: acc, goal: maximize}}, {{metric: {second}, goal: minimize}}]
    strategy: grid
    trial: {{function: "m:f"}}
    parameters:
      x: {{type: categorical, values: [{xs}]}}
""")
SINGLE = textwrap.dedent("""
    name: one
    objective: {metric: acc, goal: maximize}
    strategy: grid
    trial: {function: "m:f"}
    parameters:
      x: {type: categorical, values: [0, 1, 2, 3, 4, 5, 6]}
""")


def scripted(second="size"):
    def run(t):
        acc, size = VALUES[t.params["x"]]
        return Complete({"acc": acc, second: size, "other": 1.0})

    return run


@pytest.fixture
def filled(store_url):
    st = open_store(store_url, create=True)
    xs = ", ".join(str(x) for x in VALUES)
    run_study(st, SPEC.format(name="mo", second="size", xs=xs), FakeExecutor(scripted(), workers=2))
    yield st
    st.close()


def test_leaderboard_orders_by_pareto_rank_then_the_first_objective(filled):
    rows = leaderboard_rows(filled, ["mo"], top=None)
    assert [(r["params"]["x"], r["pareto_rank"]) for r in rows] == ORDER
    assert rows[0]["values"] == {"acc": 0.9, "size": 4.0} and rows[0]["objective"] == 0.9
    assert [r["params"]["x"] for r in leaderboard_rows(filled, ["mo"], top=2)] == [2, 1]
    front = leaderboard_rows(filled, ["mo"], top=None, pareto=True)
    assert [r["params"]["x"] for r in front] == [2, 1, 0] and {r["pareto_rank"] for r in front} == {1}
    # a filter lists fewer trials; their ranks stay the study's own
    filtered = leaderboard_rows(filled, ["mo"], top=None, where="metrics.size >= 3")
    assert [(r["params"]["x"], r["pareto_rank"]) for r in filtered] == [(2, 1), (4, 2), (3, 2), (6, 3)]
    # an explicit sort wins over the rank order, and rows still carry the rank
    by_size = leaderboard_rows(filled, ["mo"], top=3, sort="metrics.size", order="desc")
    assert [(r["params"]["x"], r["pareto_rank"]) for r in by_size] == [(6, 3), (4, 2), (2, 1)]


def test_pareto_on_a_single_objective_study_keeps_its_best_trials(filled):
    run_study(filled, SINGLE, FakeExecutor(scripted(), workers=1))
    rows = leaderboard_rows(filled, ["one"], top=None, pareto=True)
    assert sorted(r["params"]["x"] for r in rows) == [2, 4]  # both reach acc 0.9
    assert {r["pareto_rank"] for r in rows} == {1}
    assert "pareto_rank" not in leaderboard_rows(filled, ["one"], top=1)[0]  # unchanged without --pareto


def test_best_returns_the_front_and_download_needs_a_number(filled, tmp_path):
    best = best_trial(filled, "mo")
    assert best["objectives"] == [
        {"metric": "acc", "goal": "maximize"},
        {"metric": "size", "goal": "minimize"},
    ]
    assert [r["params"]["x"] for r in best["pareto_front"]] == [2, 1, 0]
    assert all(r["artifacts"] == [] for r in best["pareto_front"])
    with pytest.raises(UsageError, match=r"Pareto front of 3 trial\(s\).*--number N"):
        best_trial(filled, "mo", download=tmp_path / "out")
    one = best["pareto_front"][1]
    picked = best_trial(filled, "mo", number=one["number"], download=tmp_path / "out")
    assert picked["params"] == one["params"] and picked["downloaded"] == []
    off_front = next(r for r in leaderboard_rows(filled, ["mo"], top=None) if r["pareto_rank"] > 1)
    with pytest.raises(UsageError, match="is not on its Pareto front"):
        best_trial(filled, "mo", number=off_front["number"])


def test_studies_show_pareto_size_and_the_first_objectives_best(filled):
    (row,) = study_rows(filled, "mo")
    assert row["pareto_size"] == 3 and row["objectives"] == ["acc", "size"]
    assert row["best_objective"] == 0.9 and row["direction"] == "maximize"


def test_several_studies_rank_one_front_when_they_share_their_objectives(filled):
    run_study(filled, SPEC.format(name="mo2", second="size", xs="0, 3"), FakeExecutor(scripted(), workers=1))
    rows = leaderboard_rows(filled, ["mo", "mo2"], top=None, pareto=True)
    assert sorted((r["study"], r["params"]["x"]) for r in rows) == [
        ("mo", 0),
        ("mo", 1),
        ("mo", 2),
        ("mo2", 0),
    ]
    run_study(filled, SPEC.format(name="mo3", second="latency", xs="0, 1"), FakeExecutor(scripted("latency")))
    with pytest.raises(UsageError, match=r"do not share their objectives.*mo3: acc \(maximize\), latency"):
        leaderboard_rows(filled, ["mo", "mo3"])
    run_study(filled, SINGLE, FakeExecutor(scripted(), workers=1))
    with pytest.raises(UsageError, match="do not share their objectives"):
        leaderboard_rows(filled, ["mo", "one"])


def _brute(points):
    def dom(a, b):
        return all(x <= y for x, y in zip(a, b, strict=True)) and any(
            x < y for x, y in zip(a, b, strict=True)
        )

    left, ranks, k = set(range(len(points))), [0] * len(points), 0
    while left:
        k += 1
        front = [i for i in left if not any(dom(points[j], points[i]) for j in left)]
        for i in front:
            ranks[i] = k
        left -= set(front)
    return ranks


def test_pareto_ranks_match_a_brute_force_sort():
    rng = random.Random(7)
    for dims, n in itertools.product((1, 2, 3), range(0, 25, 4)):
        for _ in range(10):
            points = [tuple(rng.choice([0.0, 0.5, 1.0, 2.0, 3.0]) for _ in range(dims)) for _ in range(n)]
            assert pareto_ranks(points) == _brute(points), points


def test_the_dataframe_api_and_the_report_summary(filled, store_url, tmp_path):
    import hypersweep

    df = hypersweep.leaderboard("mo", store=store_url, top=None)
    assert list(df["pareto_rank"]) == [rank for _, rank in ORDER]
    assert list(df["values.acc"])[:3] == [0.9, 0.7, 0.5] and "values.size" in df
    front = hypersweep.leaderboard("mo", store=store_url, top=None, pareto=True)
    assert len(front) == 3
    pytest.importorskip("plotly")
    text = hypersweep.write_report("mo", tmp_path / "r.html", store=store_url).read_text()
    assert "acc (maximize), size (minimize)" in text and "Pareto front (trials)" in text


def test_pareto_needs_an_objective(filled):
    run_study(
        filled,
        SINGLE.replace("objective: {metric: acc, goal: maximize}\n", "").replace("name: one", "name: none"),
        FakeExecutor(scripted(), workers=1),
    )
    with pytest.raises(UsageError, match="has no objective, so it has no Pareto front"):
        leaderboard_rows(filled, ["none"], pareto=True)
