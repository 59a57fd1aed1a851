"""Optuna's figures of a study (history, learning curves, importance, parallel coordinates, slice,
contour) as plotly JSON, for the dashboard and the report alike."""

from __future__ import annotations

import json
from typing import Any

from hypersweep.errors import SpecError
from hypersweep.query._rows import latest_trials, objectives_of
from hypersweep.records import StudyRecord
from hypersweep.spec import SweepSpec, parse_spec
from hypersweep.store import Store
from hypersweep.strategies import HistoryTrial

__all__ = ["study_plots"]

# Optuna draws every point (and fANOVA grows fast): the most recent trials only, said so on the page
MAX_PLOT_TRIALS = 1_000


def _spec_of(study: StudyRecord) -> SweepSpec | None:
    try:
        return parse_spec(study.spec_text, file=study.spec_path, workdir=study.workdir, check_files=False)
    except SpecError:
        return None


def study_plots(st: Store, name: str, *, max_trials: int = MAX_PLOT_TRIALS) -> dict[str, Any]:
    """``{"figures": {key: plotly figure as JSON}, "titles": {key: title}, "notes": {key: why not}}``."""
    from hypersweep.strategies._viz import figure_titles, study_figures

    study = st.get_study(name)
    total = sum(st.study_counts(study.study_id).values())
    # the most recent max_trials (one indexed read), their histories in one more, not one per trial
    shown = latest_trials(st, study.study_id, None, max_trials)
    points = st.get_histories([t.trial_id for t in shown if t.state.is_finished])
    history = [HistoryTrial(t, tuple(points.get(t.trial_id, ()))) for t in shown]
    notes: dict[str, str] = {}
    figures = study_figures(
        _spec_of(study),
        history,
        study.objective_metric,
        study.direction,
        notes=notes,
        objectives=objectives_of(study),
    )
    if len(shown) < total:
        notes["_all"] = f"drawn from the most recent {len(shown):,} of {total:,} trials"
    return {
        "figures": {k: json.loads(fig.to_json()) for k, fig in figures.items()},
        "titles": figure_titles(len(study.directions) > 1),
        "notes": notes,
    }
