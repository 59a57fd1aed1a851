"""GP, CMA-ES, QMC and NSGA-II: Optuna's samplers through ask/tell, rebuilt from the store's history.

How each one resumes (docs/sweep-file.md, "Strategies"):

* ``gp``: the Gaussian process is refitted to every finished trial; running trials are taken into
  account by Optuna's q-batch acquisition, so parallel suggestions spread out.
* ``cmaes``: Optuna keeps CMA-ES's distribution in sampler bookkeeping that the store does not hold, so
  a resumed study starts a new CMA-ES run centred on its best complete trial so far (``x0``).
* ``qmc``: scrambled Sobol seeded with the study seed; a resumed study goes on from the sequence
  position after the trials it already has, so it never repeats the first run's points.
* ``nsga2``: each complete trial's generation is rebuilt from the history (population-sized blocks in
  trial order), so a resumed study goes on with its next generation.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import optuna

from hypersweep.errors import UsageError
from hypersweep.records import TrialState
from hypersweep.spec import GP_INSTALL, gp_available
from hypersweep.strategies._optuna import OptunaMirror, SamplingStrategy

__all__ = ["CmaEsStrategy", "GPStrategy", "NSGA2Strategy", "QMCStrategy"]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Optuna warns that QMC and GP's options are experimental and that CMA-ES's ``x0``/``sigma0`` are
    deprecated (kept until Optuna 6, which hypersweep does not take yet): not the user's concern."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


class GPStrategy(SamplingStrategy):
    """Gaussian-process Bayesian optimisation (Optuna's ``GPSampler``: Matern 5/2 kernel, log EI)."""

    name = "gp"
    _OPTIONS = ("n_startup_trials", "deterministic_objective")

    def __init__(self, spec: Any, study_seed: int) -> None:
        if not gp_available():
            raise UsageError(f"strategy gp needs torch, which is not installed: {GP_INSTALL}")
        super().__init__(spec, study_seed)

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        with _quiet():
            return optuna.samplers.GPSampler(seed=seed, **self._options(self._OPTIONS))


class CmaEsStrategy(SamplingStrategy):
    """CMA-ES (Optuna's ``CmaEsSampler``, the ``cmaes`` package): numeric parameters; categorical ones
    are sampled at random."""

    name = "cmaes"
    _OPTIONS = ("n_startup_trials", "sigma0", "popsize", "use_separable_cma", "with_margin", "lr_adapt")

    def _best_params(self) -> dict[str, Any] | None:
        best = None
        sign = -1.0 if self._direction is not None and self._direction.value == "maximize" else 1.0
        for h in self._history:
            rec = h.record
            v = rec.objective
            if rec.state is not TrialState.COMPLETE or v is None or not math.isfinite(v):
                continue
            if best is None or sign * v < sign * best[0]:
                best = (v, rec.params)
        return None if best is None else dict(best[1])

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        opts = self._options(self._OPTIONS)
        best = self._best_params()
        if best is not None:
            # a resumed study: a new CMA-ES run centred on the best trial so far (see the module doc)
            numeric = [p for p in self._spec.parameters if p.kind in ("float", "int") and not p.when]
            x0 = {p.name: best[p.name] for p in numeric if p.name in best}
            if len(x0) == len(numeric) and x0:
                opts["x0"] = x0
        with _quiet():
            return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False, **opts)


class QMCStrategy(SamplingStrategy):
    """Quasi-random search: a scrambled Sobol sequence seeded with the study seed."""

    name = "qmc"

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        # the study seed, not the history-dependent one: a resumed study continues the same sequence
        s = self._seed & 0x7FFFFFFF
        with _quiet():
            return optuna.samplers.QMCSampler(
                qmc_type="sobol",
                scramble=True,
                seed=s,
                independent_sampler=optuna.samplers.RandomSampler(seed=seed),
                warn_asynchronous_seeding=False,
                warn_independent_sampling=False,
            )

    def _after_history(self, mirror: OptunaMirror) -> None:
        # Every trial of the study (whatever its state) but its first, drawn at random while the space
        # was unknown, took the next point of the sequence; the sampler keeps its position in the
        # study's system attributes, which the in-memory study lacks.
        used = len(self._history) - 1
        if used <= 0:
            return
        study = mirror.study
        sampler = study.sampler
        assert isinstance(sampler, optuna.samplers.QMCSampler)
        space = sampler.infer_relative_search_space(study, None)  # type: ignore[arg-type]
        if not space:
            return
        before = set(study._storage.get_study_system_attrs(study._study_id))
        sampler._find_sample_id(study, space)  # creates the position key (Optuna's own hash of the space)
        for key in set(study._storage.get_study_system_attrs(study._study_id)) - before:
            if key.startswith("qmc:"):
                study._storage.set_study_system_attr(study._study_id, key, used - 1)


class NSGA2Strategy(SamplingStrategy):
    """NSGA-II (Optuna's ``NSGAIISampler``): a genetic algorithm, for one or several objectives."""

    name = "nsga2"
    _OPTIONS = ("population_size", "mutation_prob", "crossover_prob", "swapping_prob")

    def _population(self) -> int:
        return int(self._options(self._OPTIONS).get("population_size", 50))

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        with _quiet():
            return optuna.samplers.NSGAIISampler(seed=seed, **self._options(self._OPTIONS))

    def _history_attrs(self) -> Callable[[int], dict[str, Any]] | None:
        key = optuna.samplers.NSGAIISampler._get_generation_key()
        size = self._population()
        return lambda i: {key: i // size}
