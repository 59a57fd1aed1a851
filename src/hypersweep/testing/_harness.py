"""Drive the real engine and a real store with a :class:`FakeExecutor`: ``start_study``, ``run_study``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

from hypersweep.engine import Engine, EngineOptions, EnvironmentCache, Progress, RunSummary
from hypersweep.errors import StoreUnavailableError
from hypersweep.records import NewStudy, StudyRecord, StudyStatus
from hypersweep.spec import SweepSpec, parse_spec
from hypersweep.store import Store
from hypersweep.strategies import make_strategy, strategy_entry
from hypersweep.testing._fake import FakeExecutor, FakeTrial, Script

__all__ = ["run_study", "start_study"]


def _spec(spec: SweepSpec | str, workdir: str | None) -> SweepSpec:
    if isinstance(spec, SweepSpec):
        return spec
    return parse_spec(spec, workdir=workdir or os.getcwd(), check_files=False)


def start_study(
    store: Store, spec: SweepSpec | str, *, name: str | None = None, seed: int = 0
) -> StudyRecord:
    """Create the study of ``spec`` (a ``SweepSpec`` or sweep-file text) in ``store``, or load it."""
    spec = _spec(spec, None)
    name = name or spec.name
    existing = {s.name: s for s in store.list_studies(name)}
    if name in existing:
        return existing[name]
    budget = spec.budget.trials
    entry = strategy_entry(spec.strategy.name)
    if budget is None and entry.traits.finite and entry.size is not None:
        budget = entry.size(spec)
    return store.create_study(
        NewStudy(
            name=name,
            spec_text=spec.text,
            spec_hash=spec.spec_hash,
            spec_format=spec.format,
            strategy=spec.strategy.name,
            objective_metric=spec.objective.metric if spec.objective else None,
            direction=spec.objective.direction if spec.objective else None,
            directions=tuple(o.direction for o in spec.objectives),
            budget_trials=budget,
            seed=spec.seed if spec.seed is not None else seed,
            workdir=spec.workdir,
        )
    )


def run_study(
    store: Store,
    spec: SweepSpec | str,
    executor: FakeExecutor | Callable[[FakeTrial], Script],
    *,
    name: str | None = None,
    trials: int | None = None,
    parallel: int | None = None,
    retry_failed: bool = False,
    store_retry_s: float = 60.0,
    queue_ahead: int = 0,
    max_per_task: int = 1,
    on_progress: Callable[[Progress], None] | None = None,
    lease_ttl_s: float = 30.0,
    **options: Any,
) -> RunSummary:
    """One run of the study of ``spec`` as ``run``/``resume`` drives it (lease taken, trials a dead
    driver left running interrupted, the lease released with the final status), with trials that
    ``executor`` (a :class:`FakeExecutor`, or the handler of one with ``parallel`` workers) scripts.

    ``trials``/``parallel`` default to the spec's budget; ``options`` go to ``EngineOptions``;
    ``lease_ttl_s``: a lease whose heartbeat is older than this is taken over (a dead driver's)."""
    spec = _spec(spec, None)
    ex = (
        executor
        if isinstance(executor, FakeExecutor)
        else FakeExecutor(executor, workers=parallel or spec.budget.parallel or 1)
    )
    study = start_study(store, spec, name=name)
    owner = uuid.uuid4().hex
    store.acquire_lease(study.study_id, owner, "fake-host", os.getpid(), ttl_s=lease_ttl_s)
    status = StudyStatus.INTERRUPTED
    ended = False
    try:
        store.mark_interrupted(study.study_id)
        strategy = make_strategy(spec, study.seed)
        opts = EngineOptions(
            trials=trials if trials is not None else study.budget_trials,
            parallel=parallel or spec.budget.parallel or ex.workers,
            max_failures=spec.budget.max_failures,
            retries=spec.budget.retries,
            timeout_s=spec.budget.timeout_s,
            target=spec.objective.target if spec.objective is not None else None,
            patience=spec.budget.patience,
            retry_failed=retry_failed,
            lease_owner=owner,
            store_retry_s=store_retry_s,
            queue_ahead=queue_ahead,
            max_per_task=max_per_task,
            **options,
        )
        engine = Engine(
            spec,
            study,
            store,
            strategy,
            ex,
            opts,
            on_progress=on_progress,
            environments=EnvironmentCache(),
            clock=ex.clock,
        )
        summary = engine.run()
        status = summary.status
        ended = True
        return summary
    finally:
        try:
            store.release_lease(study.study_id, owner, status)
        except StoreUnavailableError:
            if ended:  # a run that failed because the store went down keeps its own error
                raise
