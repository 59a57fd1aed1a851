"""The dashboard on a study with several objectives: its page renders, the plots JSON carries the Pareto
front and hypervolume history for the study page's card, leaderboard rows carry pareto_rank."""

from __future__ import annotations

import textwrap

import pytest
from starlette.testclient import TestClient

from hypersweep.store import open_store
from hypersweep.testing import Complete, run_study
from hypersweep.ui import create_app

pytest.importorskip("plotly")

SPEC = textwrap.dedent("""
    name: ui-mo
    objectives: [{metric: acc, goal: maximize}, {metric: size, goal: minimize}]
    strategy: random
    seed: 2
    budget: {trials: 8}
    trial: {function: "m:f"}
    parameters:
      x: {type: float, low: 0, high: 1}
      y: {type: float, low: 0, high: 1}
""")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('uimo') / 'hs.db'}"
    st = open_store(url, create=True)
    run_study(
        st, SPEC, lambda t: Complete({"acc": t.params["x"], "size": t.params["x"] ** 2 + t.params["y"]})
    )
    st.close()
    with TestClient(create_app(url)) as c:
        yield c


def test_the_study_page_keeps_a_pareto_card(client):
    r = client.get("/studies/ui-mo")
    assert r.status_code == 200 and 'id="chart-pareto"' in r.text and 'id="chart-hypervolume"' in r.text
    assert (
        "Pareto rank" in r.text
        and 'data-field="pareto_rank"' in r.text
        and 'data-field="pareto_size"' in r.text
    )


def test_plots_carry_the_front_and_the_hypervolume_history(client):
    p = client.get("/api/studies/ui-mo/plots").json()
    assert list(p["titles"])[:3] == ["optimization_history", "pareto_front", "hypervolume_history"]
    assert p["figures"]["pareto_front"]["data"] and p["figures"]["hypervolume_history"]["data"]


def test_leaderboard_and_study_json_carry_ranks_and_the_front_size(client):
    rows = client.get("/api/studies/ui-mo/leaderboard").json()
    rows = rows["rows"] if isinstance(rows, dict) else rows
    assert rows and all(r["pareto_rank"] >= 1 for r in rows) and rows[0]["pareto_rank"] == 1
    study = client.get("/api/studies/ui-mo").json()
    assert study["pareto_size"] == sum(r["pareto_rank"] == 1 for r in rows)
