"""Optuna's own plotly figures for a study of the store (used by the HTML report).

The store's history is replayed into a throw-away in-memory Optuna study built for display, not for
sampling: categorical parameters are shown by their values (``CategoricalDistribution`` over
``str(value)``), quantile parameters as a ``FloatDistribution`` over the values they took, numeric
ranges are widened to whatever was recorded (a warm-started or edited study), constants are left out.
Trials keep their hypersweep numbers: gaps (failed, interrupted, running trials) are filled with
failed Optuna trials, which no plot shows. Every figure comes from ``optuna.visualization``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState as OptunaState

from hypersweep.records import Direction, TrialState
from hypersweep.strategies._base import HistoryTrial
from hypersweep.strategies._optuna import quiet_optuna

__all__ = ["FIGURE_TITLES", "PARETO_TITLES", "figure_titles", "study_figures"]

# Figure keys in display order, with their titles.
FIGURE_TITLES: dict[str, str] = {
    "optimization_history": "Optimization history",
    "intermediate_values": "Learning curves (intermediate values)",
    "param_importances": "Parameter importances",
    "parallel_coordinate": "Parallel coordinates",
    "slice": "Slice plot",
    "contour": "Contour plot",
}


# The figures of a study with several objectives, drawn after the optimization history (of the first).
PARETO_TITLES: dict[str, str] = {
    "pareto_front": "Pareto front",
    "hypervolume_history": "Hypervolume history",
}


def figure_titles(several: bool = False) -> dict[str, str]:
    """The figure keys and titles in display order; ``several``: a study with several objectives."""
    if not several:
        return dict(FIGURE_TITLES)
    first, *rest = FIGURE_TITLES.items()
    return dict([first, *PARETO_TITLES.items(), *rest])


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _numeric_dist(kind: str, spec_param: Any, values: list[Any]) -> BaseDistribution | None:
    """Float/int distribution covering the spec's range (when there is one) and every recorded value."""
    nums = [v for v in values if _is_number(v)]
    if len(nums) != len(values) or not nums:
        return None
    low, high = min(nums), max(nums)
    log = False
    if (
        kind in ("float", "int")
        and _is_number(getattr(spec_param, "low", None))
        and _is_number(getattr(spec_param, "high", None))
    ):
        low, high = min(low, spec_param.low), max(high, spec_param.high)
        log = bool(spec_param.log)
    if kind == "int" and all(float(v).is_integer() for v in nums):
        low, high = int(low), int(high)
        return IntDistribution(low, high, log=log and low >= 1)
    return FloatDistribution(float(low), float(high), log=log and low > 0)


def _distributions(spec: Any, trials: Sequence[HistoryTrial]) -> dict[str, BaseDistribution]:
    """One display distribution per parameter that the recorded trials set (constants excluded)."""
    declared = {p.name: p for p in (getattr(spec, "parameters", None) or ())}
    seen: dict[str, list[Any]] = {}
    for h in trials:
        for name, value in h.record.params.items():
            seen.setdefault(name, []).append(value)
    order = [n for n in declared if n in seen] + sorted(n for n in seen if n not in declared)
    dists: dict[str, BaseDistribution] = {}
    for name in order:
        p = declared.get(name)
        kind = p.kind if p is not None else None
        if kind == "constant":
            continue
        dist = None if kind == "categorical" else _numeric_dist(kind or "float", p, seen[name])
        if dist is None:  # categorical, or values that are not all numbers
            declared_values = [str(v) for v in p.values] if p is not None and kind == "categorical" else []
            choices = list(dict.fromkeys([*declared_values, *(str(v) for v in seen[name])]))
            dist = CategoricalDistribution(choices)
        dists[name] = dist
    return dists


def _display_value(dist: BaseDistribution, value: Any) -> Any:
    if isinstance(dist, CategoricalDistribution):
        return str(value)
    if isinstance(dist, IntDistribution):
        return int(value)
    return float(value)


def _intermediate(h: HistoryTrial, objective: str) -> dict[int, float]:
    return {p.step: p.value for p in h.history if p.name == objective and math.isfinite(p.value)}


def _build_study(
    spec: Any, history: Sequence[HistoryTrial], objective: str, direction: Direction | None
) -> tuple[optuna.Study, int]:
    """The display study, and the number of its first trial: Optuna numbers from 0, so trial ``i`` of
    the study is hypersweep's trial ``offset + i`` (the most recent trials of a large study are drawn
    without thousands of placeholder trials before them)."""
    numbered = sorted((h for h in history if h.record.number is not None), key=lambda h: h.record.number or 0)
    shown = [h for h in numbered if h.record.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    dists = _distributions(spec, shown)
    with quiet_optuna():
        study = optuna.create_study(
            direction=(direction or Direction.MINIMIZE).value,
            sampler=optuna.samplers.RandomSampler(seed=0),  # never samples; create_study wants one
        )
    offset = next_number = (numbered[0].record.number or 0) if numbered else 0
    for h in numbered:
        rec, number = h.record, h.record.number or 0
        while next_number < number:  # keep hypersweep's numbers on the x axes
            study.add_trial(optuna.trial.create_trial(state=OptunaState.FAIL))
            next_number += 1
        if number < next_number:
            continue  # duplicate number: cannot happen in a consistent store
        next_number += 1
        value = rec.objective
        complete = rec.state is TrialState.COMPLETE and value is not None and math.isfinite(value)
        if not complete and rec.state is not TrialState.PRUNED:
            study.add_trial(optuna.trial.create_trial(state=OptunaState.FAIL))
            continue
        params = {n: _display_value(d, rec.params[n]) for n, d in dists.items() if n in rec.params}
        study.add_trial(
            optuna.trial.create_trial(
                state=OptunaState.COMPLETE if complete else OptunaState.PRUNED,
                value=value if complete else None,
                params=params,
                distributions={n: dists[n] for n in params},
                intermediate_values=_intermediate(h, objective),
                user_attrs={"hypersweep_number": rec.number},
            )
        )
    return study, offset


def _shifted(fig: Any, offset: int) -> Any:
    """``fig`` with its x values (Optuna's trial numbers) moved to hypersweep's numbers."""
    if offset:
        for trace in fig.data:
            if trace.x is not None:
                trace.x = tuple(x + offset if isinstance(x, int | float) else x for x in trace.x)
    return fig


def _build_mo_study(
    spec: Any, history: Sequence[HistoryTrial], objectives: Sequence[tuple[str, Direction]]
) -> optuna.Study:
    """A multi-objective display study: the complete trials with every value, numbered as in the store."""
    numbered = sorted((h for h in history if h.record.number is not None), key=lambda h: h.record.number or 0)
    n = len(objectives)

    def values_of(h: HistoryTrial) -> list[float] | None:
        vals = h.record.values
        if h.record.state is not TrialState.COMPLETE or len(vals) != n:
            return None
        if not all(v is not None and math.isfinite(v) for v in vals):
            return None
        return [float(v) for v in vals if v is not None]

    shown = [h for h in numbered if values_of(h) is not None]
    dists = _distributions(spec, shown)
    with quiet_optuna():
        study = optuna.create_study(
            directions=[d.value for _, d in objectives], sampler=optuna.samplers.RandomSampler(seed=0)
        )
    for h in shown:
        rec = h.record
        params = {k: _display_value(d, rec.params[k]) for k, d in dists.items() if k in rec.params}
        study.add_trial(
            optuna.trial.create_trial(
                state=OptunaState.COMPLETE,
                values=values_of(h),
                params=params,
                distributions={k: dists[k] for k in params},
                user_attrs={"hypersweep_number": rec.number},
            )
        )
    return study


def _reference_point(study: optuna.Study) -> list[float]:
    """A point worse than every trial in each objective (10% of the range beyond the worst value)."""
    trials = study.get_trials(deepcopy=False, states=(OptunaState.COMPLETE,))
    ref = []
    for i, d in enumerate(study.directions):
        vals = [t.values[i] for t in trials]
        span = (max(vals) - min(vals)) or max(abs(max(vals)), 1.0)
        if d == optuna.study.StudyDirection.MINIMIZE:
            ref.append(max(vals) + 0.1 * span)
        else:
            ref.append(min(vals) - 0.1 * span)
    return ref


def _pareto_figures(
    spec: Any,
    history: Sequence[HistoryTrial],
    objectives: Sequence[tuple[str, Direction]],
    add: Callable[[str, Callable[[], Any]], None],
    notes: dict[str, str],
) -> None:
    from optuna import visualization as vis

    study = _build_mo_study(spec, history, objectives)
    names = [m for m, _ in objectives]
    if not study.get_trials(deepcopy=False, states=(OptunaState.COMPLETE,)):
        notes["pareto_front"] = "no complete trial has every objective value yet"
        return
    if len(objectives) <= 3:
        add("pareto_front", lambda: vis.plot_pareto_front(study, target_names=names))
    else:
        notes["pareto_front"] = f"Optuna draws the front of 2 or 3 objectives, and the study has {len(names)}"
    ref = _reference_point(study)
    add("hypervolume_history", lambda: vis.plot_hypervolume_history(study, reference_point=ref))


def _varies(study: optuna.Study) -> bool:
    complete = study.get_trials(deepcopy=False, states=(OptunaState.COMPLETE,))
    names = {n for t in complete for n in t.params}
    return any(len({repr(t.params.get(n)) for t in complete}) > 1 for n in names)


def study_figures(
    spec: Any,
    history: Sequence[HistoryTrial],
    objective: str | None,
    direction: Direction | None,
    *,
    notes: dict[str, str] | None = None,
    objectives: Sequence[tuple[str, Direction]] = (),
) -> dict[str, Any]:
    """Optuna's plotly figures for the study's trials, keyed as in :data:`FIGURE_TITLES` (in that order).

    ``history`` holds the study's trials with their per-step reports (those of the ``objective`` metric
    become intermediate values). A figure that cannot be drawn is left out, and when ``notes`` is given
    it receives the reason under the figure's key. Plotly must be installed.

    With several ``objectives`` ((metric, direction) in order; ``objective`` is the first) the figures
    add Optuna's Pareto front and hypervolume history (its reference point: 10% of each objective's range
    beyond its worst value); the others show the first objective.
    """
    from optuna import visualization as vis

    notes = notes if notes is not None else {}
    if objective is None:
        notes["optimization_history"] = "the study has no objective metric, so there is nothing to plot"
        return {}
    study, offset = _build_study(spec, history, objective, direction)
    complete = study.get_trials(deepcopy=False, states=(OptunaState.COMPLETE,))
    if not complete:
        notes["optimization_history"] = "no complete trial has a finite objective value yet"
        return {}
    has_params = any(t.params for t in complete)
    figures: dict[str, Any] = {}

    def add(key: str, make: Callable[[], Any]) -> None:
        # Optuna warns (as warnings and as log lines) about e.g. trials missing a conditional param or a
        # param with one value in the contour plot: the figures say what they show, the output stays clean
        with warnings.catch_warnings(), quiet_optuna(level="error"):
            warnings.simplefilter("ignore")
            try:
                figures[key] = make()
            except (ValueError, RuntimeError, ZeroDivisionError) as e:  # degenerate studies
                notes[key] = f"Optuna could not draw it: {e}"

    add(
        "optimization_history",
        lambda: _shifted(vis.plot_optimization_history(study, target_name=objective), offset),
    )
    if len(objectives) > 1:
        _pareto_figures(spec, history, objectives, add, notes)
    if any(t.intermediate_values for t in study.get_trials(deepcopy=False)):
        add("intermediate_values", lambda: vis.plot_intermediate_values(study))
    else:
        notes["intermediate_values"] = f"no trial reported {objective!r} per step"
    if len(complete) < 2 or not _varies(study):
        notes["param_importances"] = "needs at least 2 complete trials and a parameter that varies"
    else:
        # fANOVA with fewer, shallower trees than its defaults (64, depth 64): its cost grows fast with the
        # number of trials (72 s for 2,000 with the defaults here, 4 s like this); on a 500-trial, 4-param
        # check the importances agreed to 0.001
        evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=16, max_depth=8, seed=0)
        add(
            "param_importances",
            lambda: vis.plot_param_importances(study, evaluator=evaluator, target_name=objective),
        )
    if has_params:
        add("parallel_coordinate", lambda: vis.plot_parallel_coordinate(study, target_name=objective))
        add("slice", lambda: vis.plot_slice(study, target_name=objective))
        if len({n for t in complete for n in t.params}) >= 2:
            add("contour", lambda: vis.plot_contour(study, target_name=objective))
        else:
            notes["contour"] = "needs at least two searched parameters"
    else:
        notes["parallel_coordinate"] = notes["slice"] = "the study has no searched parameters"
        notes["contour"] = notes["slice"]
    return {k: figures[k] for k in figure_titles(len(objectives) > 1) if k in figures}
