"""Reads that must not grow with the study: resuming a pruned study and writing its report read the
history of all its trials in one query, not one transaction per trial (counted with SQLAlchemy's event
listeners on every real engine)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from hypersweep.orchestrate import resume_sweep, run_sweep
from hypersweep.records import TrialState
from hypersweep.store import opened

TRIAL = """
import hypersweep


def curve(params):
    value = 1.0
    for step in range(4):
        value = params["x"] + 1.0 / (step + 1)
        hypersweep.report(step, loss=value)
    return {"loss": value}
"""

SWEEP = """
name: costs
objective: {metric: loss, goal: minimize}
strategy: random
seed: 3
budget: {trials: 8, parallel: 1}
early_stopping: {type: median, warmup_steps: 1}
trial: {function: "curve_fn:curve"}
parameters:
  x: {type: float, low: 0, high: 1}
"""


@contextmanager
def _transactions() -> Iterator[list[int]]:
    """Counts the transactions begun on any SQLAlchemy engine while the block runs."""
    seen: list[int] = []

    def on_begin(_conn: object) -> None:
        seen.append(1)

    event.listen(Engine, "begin", on_begin)
    try:
        yield seen
    finally:
        event.remove(Engine, "begin", on_begin)


@pytest.fixture
def study(tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "curve_fn.py").write_text(textwrap.dedent(TRIAL))
    path = tmp_path / "sweep.yaml"
    path.write_text(textwrap.dedent(SWEEP))
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    run_sweep(path, store=url, executor="local")
    return url


def _finished(url: str) -> int:
    with opened(url) as st:
        counts = st.study_counts(st.get_study("costs").study_id)
    return counts[TrialState.COMPLETE] + counts[TrialState.PRUNED]


def test_resume_of_a_pruned_study_reads_history_in_one_query(study: str) -> None:
    """A resume whose budget is already met costs as many transactions for 8 finished trials as for 32
    (before the fix: one more per finished trial)."""

    def resume_cost(trials: int) -> int:
        assert _finished(study) == trials
        with _transactions() as seen:
            resume_sweep("costs", store=study, trials=trials, executor="local")
        assert _finished(study) == trials  # nothing ran
        return len(seen)

    small = resume_cost(8)
    resume_sweep("costs", store=study, trials=32, executor="local")
    with opened(study) as st:
        trials = st.get_trials(st.get_study("costs").study_id)
    assert any(t.state is TrialState.PRUNED for t in trials)  # the history is what the pruner needs
    assert resume_cost(32) == small


def test_report_reads_history_in_one_query(study: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("plotly")
    from hypersweep.query import write_report

    def report_cost() -> int:
        with _transactions() as seen:
            write_report("costs", tmp_path / "report.html", store=study)
        return len(seen)

    small = report_cost()
    resume_sweep("costs", store=study, trials=24, executor="local")
    assert report_cost() == small


def test_learning_curves_and_timeline_read_only_the_latest_trials(study: str) -> None:
    """The study page's curves and timeline read the ``max_trials`` highest-numbered trials (and their
    histories in one query), not the whole study: the same cost for 8 trials as for 32."""
    from hypersweep.query import _views

    def curves_cost() -> tuple[int, dict]:
        with opened(study) as st, _transactions() as seen:
            out = _views.learning_curves(st, "costs", max_trials=3)
        return len(seen), out

    small, out = curves_cost()
    assert out["total"] == 8 and out["shown"] == 3
    assert [c["number"] for c in out["curves"]] == [5, 6, 7]
    assert all(c["step"] and c["step"] == sorted(c["step"]) for c in out["curves"])
    resume_sweep("costs", store=study, trials=32, executor="local")
    cost, out = curves_cost()
    assert cost == small
    with opened(study) as st:
        numbers = sorted(t.number for t in st.get_trials(st.get_study("costs").study_id))
        line = _views.timeline(st, "costs", max_trials=4)
    assert out["total"] == len(numbers) and [c["number"] for c in out["curves"]] == numbers[-3:]
    assert line["total"] == len(numbers) and [b["number"] for b in line["bars"]] == numbers[-4:]
    assert all(b["start"] <= b["end"] for b in line["bars"])


def test_the_dashboard_plots_read_histories_in_one_query(study: str) -> None:
    pytest.importorskip("plotly")
    from hypersweep.query import study_plots

    def plots_cost() -> tuple[int, dict]:
        with opened(study) as st, _transactions() as seen:
            out = study_plots(st, "costs", max_trials=5)
        return len(seen), out

    small, out = plots_cost()
    assert out["figures"] and "most recent 5 of 8" in out["notes"]["_all"]
    resume_sweep("costs", store=study, trials=32, executor="local")
    cost, out = plots_cost()
    assert cost == small and "of 32" in out["notes"]["_all"]
    # the x axis keeps the store's trial numbers (27..31), without placeholders for the 27 before them
    xs = [x for trace in out["figures"]["optimization_history"]["data"] for x in trace.get("x") or ()]
    assert min(xs) >= 27 and max(xs) == 31
