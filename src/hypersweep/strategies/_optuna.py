"""Random and TPE strategies on Optuna's samplers (ask/tell), and the pruners for every strategy.

Each strategy keeps an in-memory Optuna study that mirrors the store's history; it is rebuilt from
the store on start and resume, never pickled. Parameters map to Optuna distributions:

* float / int      -> ``FloatDistribution`` / ``IntDistribution`` (log, step);
* categorical      -> ``CategoricalDistribution`` over the value *indices* (values may be lists);
* quantile         -> ``FloatDistribution(0, 1)``: the spec's inverse CDF maps it to the value;
* constant         -> not searched.

Conditional parameters use Optuna's define-by-run space: a parameter is suggested only when its
``when`` conditions hold for the values chosen before it.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
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
from hypersweep.spec import Constraint, Param, is_active, violations
from hypersweep.strategies._base import HistoryTrial, Strategy, Suggestion

__all__ = ["OptunaMirror", "RandomStrategy", "SamplingStrategy", "TPEStrategy", "make_pruner", "quiet_optuna"]

# Constraint violations reach Optuna's samplers as each trial's constraints (``Trial.set_constraint``,
# one per spec constraint, named by its text; <= 0: holds): TPE, GP and NSGA-II read them from the
# trials to search towards feasibility. A rebuilt (resumed) trial carries them as the system attrs
# ``set_constraint`` writes.
CONSTRAINT_ATTR = "constraints:{}"  # optuna.study._constrained_optimization's per-constraint key


optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

_QUANTILE_EPS = 1e-9


@contextlib.contextmanager
def quiet_optuna(level: str = "warning") -> Iterator[None]:
    """Optuna's INFO lines ("A new study created in memory ...") off while the block runs (with
    ``level="error"``, its warnings too): the studies made here are internal mirrors, and their log
    lines would land in the commands' output."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR if level == "error" else optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def make_pruner(early_stopping: Any) -> optuna.pruners.BasePruner:
    """Optuna pruner for the spec's ``early_stopping`` block (type none|median|asha|hyperband)."""
    kind = getattr(early_stopping, "type", "none") if early_stopping is not None else "none"
    opts: Mapping[str, Any] = getattr(early_stopping, "options", {}) or {}
    if kind == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=int(opts.get("startup_trials", 5)),
            n_warmup_steps=int(opts.get("warmup_steps", 0)),
        )
    if kind == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=opts.get("min_resource", "auto"),
            reduction_factor=int(opts.get("reduction_factor", 4)),
        )
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=int(opts.get("min_resource", 1)),
            max_resource=opts.get("max_resource", "auto"),
            reduction_factor=int(opts.get("reduction_factor", 3)),
        )
    return optuna.pruners.NopPruner()


def _distribution(param: Param) -> BaseDistribution | None:
    if param.kind == "float":
        return FloatDistribution(float(param.low), float(param.high), log=param.log, step=param.step)  # type: ignore[arg-type]
    if param.kind == "int":
        return IntDistribution(int(param.low), int(param.high), log=param.log, step=int(param.step or 1))  # type: ignore[arg-type]
    if param.kind == "categorical":
        return CategoricalDistribution(tuple(range(len(param.values))))
    if param.kind == "quantile":
        return FloatDistribution(_QUANTILE_EPS, 1.0 - _QUANTILE_EPS)
    return None  # constant


def _index_of(values: Sequence[Any], value: Any) -> int | None:
    for i, v in enumerate(values):
        if v == value and type(v) is type(value):
            return i
    for i, v in enumerate(values):
        if v == value:
            return i
    return None


def _quantile_of(param: Param, value: Any) -> float | None:
    """Best ``u`` with ``ppf(u) == value`` (used only when rebuilding history)."""
    grid = [(k + 0.5) / 512 for k in range(512)]
    best, best_err = None, math.inf
    for u in grid:
        got = param.from_quantile(u)
        if got == value:
            return u
        try:
            err = abs(float(got) - float(value))
        except (TypeError, ValueError):
            continue
        if err < best_err:
            best, best_err = u, err
    return best


class OptunaMirror:
    """An in-memory Optuna study mirroring the store: sampling (optional) and pruning."""

    def __init__(
        self,
        params: Sequence[Param],
        direction: Direction | None,
        sampler: optuna.samplers.BaseSampler | None,
        pruner: optuna.pruners.BasePruner,
        prune_resource_is_reports: bool = False,
        directions: Sequence[Direction] = (),
        constraints: Sequence[Constraint] = (),
    ) -> None:
        self.params = tuple(params)
        self._constraint_names = tuple(c.text for c in constraints)
        self._dists = {p.name: _distribution(p) for p in self.params}
        self._has_objective = direction is not None or bool(directions)
        # several objectives: a multi-objective Optuna study told every value (pruning is refused by the spec)
        self._n_values = len(directions) if len(directions) > 1 else 1
        self._directions: Any = [d.value for d in directions]
        self._direction: Any = (direction or Direction.MINIMIZE).value  # "minimize" or "maximize"
        self._sampler = sampler or optuna.samplers.RandomSampler(seed=0)
        self._pruner = pruner
        # Random sampling without a pruner reads no history (the sampler's RNG is its only state): the
        # in-memory study then starts afresh every ROTATE_AFTER results, with the same sampler, so its
        # memory stays bounded however long the study runs, and the suggestions are the same.
        self.history_free = type(self._sampler) is optuna.samplers.RandomSampler and isinstance(
            pruner, optuna.pruners.NopPruner
        )
        self._told = 0
        self.study = self._new_study()
        self._report_counts: dict[int, int] = {}
        self._count_reports = prune_resource_is_reports

    ROTATE_AFTER = 4096

    def _new_study(self) -> optuna.Study:
        with quiet_optuna():
            if self._n_values > 1:
                return optuna.create_study(
                    directions=self._directions, sampler=self._sampler, pruner=self._pruner
                )
            return optuna.create_study(direction=self._direction, sampler=self._sampler, pruner=self._pruner)

    # -- params <-> optuna internal representation ------------------------------------------------------
    def _internal(self, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
        internal: dict[str, Any] = {}
        dists: dict[str, BaseDistribution] = {}
        for p in self.params:
            dist = self._dists[p.name]
            if dist is None or p.name not in params:
                continue
            value = params[p.name]
            if p.kind == "categorical":
                idx = _index_of(p.values, value)
                if idx is None:
                    continue
                value = idx
            elif p.kind == "quantile":
                value = _quantile_of(p, value)
                if value is None:
                    continue
            elif p.kind == "int":
                value = int(value)
            else:
                value = float(value)
            if not dist._contains(dist.to_internal_repr(value)):
                continue  # outside today's space (warm start from a wider study)
            internal[p.name] = value
            dists[p.name] = dist
        return internal, dists

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        chosen: dict[str, Any] = {}
        for p in self.params:
            if not is_active(p, chosen):
                continue
            if p.kind == "constant":
                chosen[p.name] = p.value
                continue
            dist = self._dists[p.name]
            assert dist is not None  # only constants have no distribution
            raw = trial._suggest(p.name, dist)  # the public suggest_* helpers do the same after checks
            if p.kind == "categorical":
                chosen[p.name] = p.values[int(raw)]
            elif p.kind == "quantile":
                chosen[p.name] = p.from_quantile(float(raw))
            elif p.kind == "int":
                chosen[p.name] = int(raw)
            else:
                chosen[p.name] = float(raw)
        return chosen

    def fixed_trial(self) -> optuna.Trial:
        """A trial with no sampled params (grid points): used only for pruning."""
        return self.study.ask()

    # -- history --------------------------------------------------------------------------------------
    def add_history(
        self,
        trials: Sequence[HistoryTrial],
        objective_metric: str | None,
        system_attrs: Callable[[int], dict[str, Any]] | None = None,
        constraints: Sequence[Constraint] = (),
    ) -> int:
        """Add the finished trials to the in-memory study; ``system_attrs(i)`` gives the sampler's
        bookkeeping of the i-th complete trial added (NSGA-II's generation), rebuilt, never stored;
        ``constraints`` rebuild each trial's violations from its final metrics."""
        added = 0
        completed = 0
        if self.history_free:
            return 0  # nothing would read it
        for h in trials:
            rec = h.record
            if rec.state not in (TrialState.COMPLETE, TrialState.PRUNED):
                continue
            inter: dict[int, float] = {}
            if objective_metric is not None:
                points = sorted((p for p in h.history if p.name == objective_metric), key=lambda p: p.step)
                for i, p in enumerate(points):
                    step = i + 1 if self._count_reports else p.step
                    if math.isfinite(p.value):
                        inter[step] = p.value
            values = self._values(rec.values if self._n_values > 1 else (rec.objective,))
            if rec.state is TrialState.COMPLETE and values is None:
                continue
            internal, dists = self._internal(rec.params)
            attrs: dict[str, Any] = {}
            if rec.state is TrialState.COMPLETE:
                if system_attrs is not None:
                    attrs = system_attrs(completed)
                completed += 1
            if constraints:  # what set_constraint stored when the trial was told, from its final metrics
                amounts = violations(constraints, rec.metrics)
                attrs = {
                    **attrs,
                    **{
                        CONSTRAINT_ATTR.format(c.text): float(v)
                        for c, v in zip(constraints, amounts, strict=True)
                    },
                }
            frozen = optuna.trial.create_trial(
                state=OptunaState.COMPLETE if rec.state is TrialState.COMPLETE else OptunaState.PRUNED,
                values=values if rec.state is TrialState.COMPLETE else None,
                params=internal,
                distributions=dists,
                intermediate_values=inter,
                system_attrs=attrs,
            )
            self.study.add_trial(frozen)
            added += 1
        return added

    # -- outcomes -------------------------------------------------------------------------------------
    def report(self, trial: optuna.Trial, step: int, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self._count_reports:
            step = self._report_counts.get(trial.number, 0) + 1
            self._report_counts[trial.number] = step
        if step in trial.storage.get_trial(trial._trial_id).intermediate_values:
            return False
        trial.report(value, step)
        return trial.should_prune()

    def _values(self, values: Sequence[float | None]) -> list[float] | None:
        """What Optuna is told for a complete trial: every objective value (0.0 without an objective), or
        None when one is missing or not finite (the trial then counts as failed)."""
        if not self._has_objective:
            return [0.0]
        if len(values) != self._n_values:
            return None
        out = []
        for v in values:
            if v is None or not math.isfinite(v):
                return None
            out.append(float(v))
        return out

    def tell(
        self,
        trial: optuna.Trial,
        state: TrialState,
        value: float | Sequence[float | None] | None,
        constraints: Sequence[float] | None = None,
    ) -> None:
        """``value``: the objective, or the objective values in order for a study with several;
        ``constraints``: their violations, set as the trial's constraints before it is told."""
        self._report_counts.pop(trial.number, None)
        if constraints is not None and state in (TrialState.COMPLETE, TrialState.PRUNED):
            for name, v in zip(self._constraint_names, constraints, strict=True):
                trial.set_constraint(name, float(v))
        study = trial.study  # the study that asked it (an earlier one, after a rotation)
        if state is TrialState.COMPLETE:
            values = self._values(value if isinstance(value, Sequence) else (value,))
            if values is not None:
                study.tell(trial, values if self._n_values > 1 else values[0])
            else:
                study.tell(trial, state=OptunaState.FAIL)
        elif state is TrialState.PRUNED:
            study.tell(trial, state=OptunaState.PRUNED)
        else:
            study.tell(trial, state=OptunaState.FAIL)
        if self.history_free:
            self._told += 1
            if self._told >= self.ROTATE_AFTER:  # trials still in flight keep the old study alive
                self._told = 0
                self.study = self._new_study()


class SamplingStrategy(Strategy):
    """Random and TPE: Optuna samples through ask/tell."""

    def __init__(self, spec: Any, study_seed: int) -> None:
        self._spec = spec
        self._seed = study_seed
        self._objective = spec.objective.metric if spec.objective is not None else None
        self._direction = spec.objective.direction if spec.objective is not None else None
        self._directions = tuple(o.direction for o in getattr(spec, "objectives", ()) or ())
        self._mirror: OptunaMirror | None = None
        self._history: Sequence[HistoryTrial] = ()
        self._warm: list[HistoryTrial] = []

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        raise NotImplementedError

    def _history_attrs(self) -> Callable[[int], dict[str, Any]] | None:
        """The sampler's per-trial bookkeeping to rebuild from the history (None: nothing)."""
        return None

    def _after_history(self, mirror: OptunaMirror) -> None:
        """Rebuild study-level sampler state once the history is in (QMC's position in its sequence)."""

    def _options(self, allowed: Sequence[str]) -> dict[str, Any]:
        return {k: v for k, v in (self._spec.strategy.options or {}).items() if k in allowed}

    def _build(self) -> OptunaMirror:
        # The sampler's seed depends on the study seed and how much history there is, so a resumed
        # random search does not replay the first run's suggestions, while the same history gives the
        # same suggestions.
        n = sum(1 for h in self._history if h.record.state.is_finished)
        seed = (self._seed * 1_000_003 + n) & 0x7FFFFFFF
        es = self._spec.early_stopping
        mirror = OptunaMirror(
            self._spec.parameters,
            self._direction,
            self._make_sampler(seed),
            make_pruner(es),
            prune_resource_is_reports=(getattr(es, "options", {}) or {}).get("resource") == "reports",
            directions=self._directions,
            constraints=self._spec.constraints,
        )
        attrs = self._history_attrs()
        cons = self._spec.constraints
        mirror.add_history(self._warm, self._objective, attrs, cons)
        mirror.add_history(self._history, self._objective, attrs, cons)
        self._after_history(mirror)
        return mirror

    def load_history(self, trials: Sequence[HistoryTrial]) -> None:
        self._history = list(trials)
        self._mirror = None

    def warm_start(self, trials: Sequence[HistoryTrial]) -> int:
        self._warm = [h for h in trials if h.record.state is TrialState.COMPLETE]
        self._mirror = None
        return len(self._warm)

    @property
    def mirror(self) -> OptunaMirror:
        if self._mirror is None:
            self._mirror = self._build()
        return self._mirror

    def ask(self, n: int) -> list[Suggestion]:
        out = []
        for _ in range(n):
            trial = self.mirror.study.ask()
            out.append(Suggestion(params=self.mirror.suggest(trial), token=trial))
        return out

    def adopt(self, params: Mapping[str, Any]) -> Suggestion:
        internal, _ = self.mirror._internal(params)
        if internal:
            self.mirror.study.enqueue_trial(internal, skip_if_exists=False)
        trial = self.mirror.study.ask()
        self.mirror.suggest(trial)  # consumes the enqueued values; the given params are what runs
        return Suggestion(params=dict(params), token=trial)

    def tell(self, suggestion: Suggestion, state: TrialState, value: float | None) -> None:
        if suggestion.token is not None:
            self.mirror.tell(suggestion.token, state, value)

    def tell_values(
        self,
        suggestion: Suggestion,
        state: TrialState,
        values: Sequence[float | None],
        constraints: Sequence[float] | None = None,
    ) -> None:
        if suggestion.token is not None:
            self.mirror.tell(suggestion.token, state, tuple(values), constraints)

    def report(self, suggestion: Suggestion, step: int, value: float) -> bool:
        if suggestion.token is None:
            return False
        return self.mirror.report(suggestion.token, step, value)


class RandomStrategy(SamplingStrategy):
    name = "random"

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        return optuna.samplers.RandomSampler(seed=seed)


class TPEStrategy(SamplingStrategy):
    name = "tpe"
    _OPTIONS = (
        "n_startup_trials",
        "n_ei_candidates",
        "multivariate",
        "constant_liar",
        "group",
        "consider_endpoints",
        "prior_weight",
    )

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        opts = self._options(self._OPTIONS)
        if any(p.when for p in self._spec.parameters):
            opts.setdefault("group", True)  # define-by-run spaces need grouped multivariate TPE
        opts.setdefault("multivariate", True)
        opts.setdefault("constant_liar", True)
        if opts.get("group"):
            opts["multivariate"] = True
        return optuna.samplers.TPESampler(seed=seed, **opts)
