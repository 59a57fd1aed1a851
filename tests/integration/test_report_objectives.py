"""The report and the dashboard's plots of a study with several objectives: Optuna's Pareto front and
hypervolume history, and the leaderboard by Pareto rank."""

from __future__ import annotations

import re

import pytest

from hypersweep.orchestrate import run_sweep
from hypersweep.store import opened

pytest.importorskip("plotly")

from hypersweep.query import study_plots, write_report  # noqa: E402
from hypersweep.strategies._viz import FIGURE_TITLES, figure_titles  # noqa: E402


def test_report_and_plots_show_the_pareto_front_and_hypervolume(make_sweep, store_url, tmp_path):
    path = make_sweep("""
        name: mo-report
        objectives: [{metric: acc, goal: maximize}, {metric: size, goal: minimize}]
        strategy: random
        seed: 4
        budget: {trials: 10, parallel: 2}
        trial: {function: "fns:two_goals"}
        parameters:
          x: {type: float, low: 0, high: 1}
          y: {type: float, low: 0, high: 1}
    """)
    run_sweep(path, store=store_url, executor="local")
    out = write_report("mo-report", tmp_path / "r.html", store=store_url)
    text = out.read_text(encoding="utf-8")
    keys = re.findall(r'data-key="([a-z_]+)"', text)
    assert keys[:3] == ["optimization_history", "pareto_front", "hypervolume_history"]
    assert keys == [k for k in figure_titles(True) if k != "intermediate_values"]  # no per-step reports
    board = text[text.index('id="leaderboard"') : text.index('id="plots"')]
    assert "Pareto rank" in board and ">acc<" in board and ">size<" in board
    with opened(store_url) as st:
        plots = study_plots(st, "mo-report")
    assert list(plots["titles"]) == list(figure_titles(True))
    front = plots["figures"]["pareto_front"]
    assert sum(len(t.get("x", ())) for t in front["data"]) == 10  # every complete trial is drawn
    assert plots["figures"]["hypervolume_history"]["data"]
    assert list(figure_titles(False)) == list(FIGURE_TITLES)  # one objective: as before
