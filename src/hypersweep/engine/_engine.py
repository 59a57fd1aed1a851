"""The sweep loop: ask a strategy -> submit to an executor -> wait -> record in the store -> tell.

Depends only on the ``Strategy``, ``Executor`` and store-role interfaces. The driver alone writes: it
keeps ``parallel`` trials in flight and ends as docs/semantics.md section 4's table says. The seams:

* ``_policy``: when the run ends (pure functions);
* ``_launcher``: which trials start next and how (reruns, ask-ahead, queueing, chunking), by the
  strategy's traits;
* ``_writer``: what goes to the store (buffered outcomes and reports, retries, the lease's heartbeat);
* ``_environments``: the environments this run's workers reported.
"""

from __future__ import annotations

import math
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from hypersweep.artifacts import accepted_records
from hypersweep.engine._environments import EnvironmentCache
from hypersweep.engine._launcher import InFlight, Launcher
from hypersweep.engine._policy import FIRST_FAILS, IMMEDIATE, StopReason, check_stop, end_status, idle_reason
from hypersweep.engine._writer import STORE_RETRY_S, Writer
from hypersweep.errors import FailureBudgetExceeded
from hypersweep.executors import Event, Executor, ResourceRequest, TaskCrashed, TaskDone, TaskStarted
from hypersweep.records import (
    Direction,
    MetricPoint,
    StudyRecord,
    StudyStatus,
    TrialOutcome,
    TrialRecord,
    TrialState,
    clean_float,
)
from hypersweep.spec import Constraint, feasible, trial_config, violations
from hypersweep.store import LeaseHolder, TrialWriter
from hypersweep.strategies import HistoryTrial, Strategy
from hypersweep.trial import TrialPayload, TrialRunResult

__all__ = ["STORE_RETRY_S", "Engine", "EngineOptions", "Progress", "RunSummary", "StopReason"]

POLL_STOP_S = 1.0
CANCEL_WAIT_S = 5.0
PROGRESS_S = 0.2


class EngineStore(TrialWriter, LeaseHolder, Protocol):
    """The store roles the engine uses."""


@dataclass(frozen=True)
class EngineOptions:
    trials: int | None
    parallel: int
    max_failures: int | None = None
    retries: int = 0
    timeout_s: float | None = None
    target: float | None = None
    patience: int | None = None  # budget.patience: finished trials without a better best that end the run
    retry_failed: bool = False
    lease_owner: str = ""
    # trials handed to the executor beyond `parallel`, queued there so a freed slot starts the next trial
    # without a round trip through the driver; only used where the cluster itself caps concurrency
    queue_ahead: int = 0
    artifact_root: str | None = None  # where workers store artifacts and checkpoints
    store_retry_s: float = STORE_RETRY_S
    # very short function trials of a result-blind strategy run up to this many to a task once their
    # measured duration shows that the executor's per-task cost dominates; 1: never
    max_per_task: int = 16


@dataclass
class Progress:
    """A snapshot for progress displays."""

    study: str
    budget: int | None
    complete: int = 0
    pruned: int = 0
    failed: int = 0
    running: int = 0
    started_this_run: int = 0
    best_value: float | None = None
    best_params: Mapping[str, Any] | None = None
    best_number: int | None = None
    elapsed_s: float = 0.0

    @property
    def finished(self) -> int:
        return self.complete + self.pruned

    @property
    def eta_s(self) -> float | None:
        done_now = self.finished - self._finished_at_start
        if not self.budget or done_now <= 0 or self.elapsed_s <= 0:
            return None
        return max(self.budget - self.finished, 0) * self.elapsed_s / done_now

    _finished_at_start: int = 0


@dataclass
class RunSummary:
    study: str
    reason: StopReason
    status: StudyStatus
    progress: Progress
    failures: list[str] = field(default_factory=list)  # distinct failure reasons, most common first
    notes: list[str] = field(default_factory=list)


def _first_line(error: str | None) -> str:
    return (error or "").strip().splitlines()[0] if error else ""


class Engine:
    def __init__(
        self,
        spec: Any,
        study: StudyRecord,
        store: EngineStore,
        strategy: Strategy,
        executor: Executor,
        options: EngineOptions,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        environments: EnvironmentCache | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self.study = study
        self.store = store
        self.strategy = strategy
        self.executor = executor
        self.opt = options
        self._on_progress = on_progress
        self._objective = spec.objective.metric if spec.objective is not None else None
        self._direction = spec.objective.direction if spec.objective is not None else None
        self._objectives = tuple(o.metric for o in getattr(spec, "objectives", ()) or ())
        # several objectives: the non-dominated front so far, each point signed so that lower is better
        self._signs = tuple(-1.0 if o.direction is Direction.MAXIMIZE else 1.0 for o in spec.objectives)
        self._front: list[tuple[float, ...]] = []
        self._constraints = tuple(getattr(spec, "constraints", ()) or ())
        r = spec.resources
        request = ResourceRequest(
            cpus=float(r.cpus), gpus=float(r.gpus), accelerator_type=r.accelerator_type, custom=dict(r.custom)
        )
        self._sync = getattr(spec.early_stopping, "type", "none") != "none" and self._objective is not None
        self.environments = environments if environments is not None else EnvironmentCache()
        self._clock = clock  # seconds, monotonic (``hypersweep.testing`` passes a simulated one)
        self.writer = Writer(
            store,
            study,
            lease_owner=options.lease_owner,
            retry_s=options.store_retry_s,
            known=lambda: self.launcher.inflight.keys(),
            on_give_up=lambda: self.launcher.cancel_all(),  # nothing can record them; resume reruns them
            now=clock(),
        )
        self.launcher = Launcher(
            strategy,
            executor,
            study_seed=study.seed,
            parallel=options.parallel,
            queue_ahead=options.queue_ahead,
            max_per_task=options.max_per_task,
            retries=options.retries,
            retry_failed=options.retry_failed,
            function_trials=spec.trial.function is not None,
            request=request,
            timeout_s=spec.trial.timeout_s,
            create_trials=self.writer.create_trials,
            payload=self._payload,
        )
        self._inflight = self.launcher.inflight
        self._first_results: list[str] = []  # this run's first results, "" for a success (bounded)
        self._failure_counts: dict[str, int] = {}
        self._failed_total = 0
        self._since_best = 0  # finished trials since the best last improved, over the study's life

    # -- set-up ----------------------------------------------------------------------------------------
    def _load(self) -> Progress:
        trials = self.store.get_trials(self.study.study_id)
        finished = [t.trial_id for t in trials if t.state.is_finished] if self._sync else []
        points = self.store.get_histories(finished) if finished else {}
        history = [HistoryTrial(t, points.get(t.trial_id, ())) for t in trials]
        self.strategy.load_history(history)
        prog = Progress(study=self.study.name, budget=self.opt.trials)
        for t in trials:  # in number order: the patience count of a resumed study goes on from there
            if t.state is TrialState.COMPLETE:
                prog.complete += 1
                self._count_patience(
                    self._improves(prog, t.values, t.objective, t.params, t.number, t.feasible)
                )
            elif t.state is TrialState.PRUNED:
                prog.pruned += 1
                self._count_patience(False)
            elif t.state is TrialState.FAILED:
                self._failed_total += 1
        self.launcher.load(trials, list(getattr(self.spec, "enqueue", ()) or ()))
        prog.failed = self._failed_total
        prog._finished_at_start = prog.finished
        return prog

    def _track_best(
        self, prog: Progress, value: float | None, params: Mapping[str, Any], number: int | None
    ) -> bool:
        """Take a complete trial's objective; True when it is a better best."""
        if value is None or self._direction is None or not math.isfinite(value):
            return False
        if prog.best_value is None or self._direction.better(value, prog.best_value):
            prog.best_value, prog.best_params, prog.best_number = value, dict(params), number
            return True
        return False

    def _improves(
        self,
        prog: Progress,
        values: Sequence[float | None],
        objective: float | None,
        params: Mapping[str, Any],
        number: int | None,
        is_feasible: bool | None = None,
    ) -> bool:
        """Take a complete trial; True when it improves the study: a better best, or with several
        objectives a point that changes the Pareto front (not dominated by it, not already on it). An
        infeasible trial (it breaks a constraint) is never the best (nor ends a run on target)."""
        if is_feasible is False:
            return False
        better = self._track_best(prog, objective, params, number)
        if len(self._signs) <= 1:
            return better
        if len(values) != len(self._signs) or any(v is None or not math.isfinite(v) for v in values):
            return False
        point = tuple(s * float(v) for s, v in zip(self._signs, values, strict=True))  # type: ignore[arg-type]
        if any(_dominates_or_equals(q, point) for q in self._front):
            return False
        self._front = [q for q in self._front if not _dominates_or_equals(point, q)] + [point]
        return True

    def _count_patience(self, improved: bool) -> None:
        self._since_best = 0 if improved else self._since_best + 1

    @property
    def since_best(self) -> int:
        """Finished trials since the best last improved (``budget.patience`` counts these)."""
        return self._since_best

    # -- the loop --------------------------------------------------------------------------------------
    def run(self) -> RunSummary:
        prog = self._load()
        self.executor.set_report_handler(self._on_reports, self._sync)
        clock = self._clock
        start = clock()
        deadline = start + self.opt.timeout_s if self.opt.timeout_s else math.inf
        last_poll = last_progress = start
        reason: StopReason | None = None
        draining = False
        writer, launcher = self.writer, self.launcher
        try:
            while True:
                now = clock()
                prog.elapsed_s = now - start
                if reason is None:
                    reason = self._check_stop(prog, now, deadline)
                if reason in IMMEDIATE:
                    break
                if reason is StopReason.STOPPED and not draining:
                    draining = True
                    launcher.cancel_queued()
                if not draining:
                    started = launcher.launch(self._remaining(prog))
                    if started:
                        prog.running = min(len(self._inflight), self.opt.parallel)
                        prog.started_this_run += started
                if not self._inflight:
                    if reason is None:
                        reason = idle_reason(
                            prog.finished, self.opt.trials, launcher.exhausted, launcher.reruns_pending
                        )
                    if reason is not None or draining:
                        break
                for res in self.executor.wait(0.05 if writer.outcomes else 0.25):
                    self._handle(res, prog)
                now = clock()
                writer.tick(now)
                if reason is None and now - last_poll >= POLL_STOP_S:
                    last_poll = now
                    if writer.stop_requested():
                        reason = StopReason.STOPPED
                if self._on_progress is not None and now - last_progress >= PROGRESS_S:
                    last_progress = now
                    self._on_progress(prog)
        except KeyboardInterrupt:
            self._cancel_all(prog)
            writer.flush()
            raise
        if reason in IMMEDIATE:
            self._cancel_all(prog)
        writer.flush()
        prog.running = 0
        if self._on_progress is not None:
            self._on_progress(prog)
        return self._summary(prog, reason or StopReason.BUDGET)

    def _remaining(self, prog: Progress) -> float:
        if self.opt.trials is None:
            return math.inf
        return self.opt.trials - prog.finished - len(self._inflight)

    def _check_stop(self, prog: Progress, now: float, deadline: float) -> StopReason | None:
        return check_stop(
            now=now,
            deadline=deadline,
            failed_total=self._failed_total,
            max_failures=self.opt.max_failures,
            first_results=self._first_results,
            best=prog.best_value,
            target=self.opt.target,
            direction=self._direction,
            since_best=self._since_best,
            patience=self.opt.patience,
        )

    def _payload(self, rec: TrialRecord) -> TrialPayload:
        return build_payload(
            self.spec,
            self.study,
            rec,
            sync=self._sync,
            artifact_root=self.opt.artifact_root,
            environment_token=self.environments.token,
        )

    # -- results ---------------------------------------------------------------------------------------
    def _on_reports(self, key: int, points: list[tuple[str, int, float]], log: str = "") -> bool:
        fl = self._inflight.get(key)
        if fl is None:
            return False
        if log:
            self.writer.add_log(key, log)
        prune = False
        for name, step, value in points:
            self.writer.add_report(key, MetricPoint(name, step, value))
            if name == self._objective and self._sync and self.strategy.report(fl.suggestion, step, value):
                prune = True
        return prune

    def _handle(self, res: Event, prog: Progress) -> None:
        if isinstance(res, TaskStarted):
            if res.key in self._inflight:
                self.writer.add_start(res.key, res.at)
            return
        fl = self._inflight.pop(res.key, None)
        if fl is None:
            return
        prog.running = min(len(self._inflight), self.opt.parallel)
        if isinstance(res, TaskDone):
            out = self._outcome(fl, res.value)
            if out.started_at is not None and out.finished_at is not None:
                self.launcher.measured((out.finished_at - out.started_at).total_seconds())
        else:
            state = TrialState.INTERRUPTED if res.cancelled else TrialState.FAILED
            out = TrialOutcome(
                trial_id=res.key,
                state=state,
                error=None if res.cancelled else res.reason,
                finished_at=datetime.now(UTC),
            )
        amounts = (
            violations(self._constraints, out.metrics)
            if self._constraints and out.state.is_finished
            else None
        )
        self.strategy.tell_values(fl.suggestion, out.state, out.values or (out.objective,), amounts)
        self.writer.add_outcome(out)
        if out.state is TrialState.COMPLETE:
            prog.complete += 1
            self._result("")
            self._count_patience(
                self._improves(
                    prog, out.values, out.objective, fl.record.params, fl.record.number, out.feasible
                )
            )
        elif out.state is TrialState.PRUNED:
            prog.pruned += 1
            self._result("")
            self._count_patience(False)
        elif out.state is TrialState.FAILED:
            self._failed_total += 1
            prog.failed = self._failed_total
            first = _first_line(out.error) or "failed"
            self._result(first)
            self._failure_counts[first] = self._failure_counts.get(first, 0) + 1
            self.launcher.failed(fl.record)

    def _result(self, first_line: str) -> None:
        if len(self._first_results) < FIRST_FAILS:
            self._first_results.append(first_line)

    def _outcome(self, fl: InFlight, r: TrialRunResult) -> TrialOutcome:
        return outcome_from_result(
            fl.record.trial_id,
            r,
            self.environments,
            self._objective,
            objective_metrics=self._objectives,
            constraints=self._constraints,
        )

    def _cancel_all(self, prog: Progress) -> None:
        self.launcher.cancel_all()
        end = self._clock() + CANCEL_WAIT_S
        while self._inflight and self._clock() < end:
            for res in self.executor.wait(0.2):
                if isinstance(res, TaskCrashed):
                    res = TaskCrashed(res.key, res.reason, cancelled=True)
                self._handle(res, prog)
        now = datetime.now(UTC)
        for key, fl in list(self._inflight.items()):
            self.strategy.tell(fl.suggestion, TrialState.INTERRUPTED, None)
            self.writer.add_outcome(TrialOutcome(trial_id=key, state=TrialState.INTERRUPTED, finished_at=now))
        self._inflight.clear()
        prog.running = 0

    # -- the end ---------------------------------------------------------------------------------------
    def _summary(self, prog: Progress, reason: StopReason) -> RunSummary:
        met = self.opt.trials is not None and prog.finished >= self.opt.trials
        status = end_status(reason, prog.finished, self.opt.trials)
        counts = sorted(self._failure_counts.items(), key=lambda kv: -kv[1])  # stable: first seen first
        failures = [f"{n} x {msg}" for msg, n in counts]
        summary = RunSummary(self.study.name, reason, status, prog, failures)
        if reason is StopReason.EXHAUSTED and not met and prog.failed:
            summary.notes.append(
                f"{prog.failed} trial(s) failed; rerun their params with "
                f"`hypersweep resume {shlex.quote(self.study.name)} --retry-failed`"
            )
        if reason is StopReason.PATIENCE:
            name = shlex.quote(self.study.name)
            summary.notes.append(
                f"no better best in the last {self._since_best} finished trials "
                f"(budget.patience={self.opt.patience}, counted over the study's life); to go on, raise it: "
                f"`hypersweep resume {name} --trials N --set budget.patience={self._since_best * 2}`"
            )
        if reason is StopReason.FAILURES:
            raise FailureBudgetExceeded(self._failure_message(failures))
        return summary

    def _failure_message(self, failures: Sequence[str]) -> str:
        if self.opt.max_failures is not None and self._failed_total > self.opt.max_failures:
            head = (
                f"study {self.study.name!r} stopped: {self._failed_total} failed trials exceed "
                f"budget.max_failures={self.opt.max_failures}"
            )
        else:
            head = (
                f"study {self.study.name!r} stopped: the first {FIRST_FAILS} trials all failed with the "
                "same error; fix the trial and resume"
            )
        lines = [head, "failures:"] + [f"  {f}" for f in failures[:5]]
        lines.append(
            f"see one with `hypersweep leaderboard {shlex.quote(self.study.name)} --where \"state = 'failed'\"`"
        )
        return "\n".join(lines)


def monitoring_interval(spec: Any) -> float | None:
    """Seconds between system-metric samples: ``monitoring: {interval: 1s}``, ``false`` (off), default 2."""
    m = getattr(spec, "monitoring", None)
    if m is False:
        return None
    if isinstance(m, Mapping):
        if m.get("enabled", True) is False:
            return None
        interval = m.get("interval")
        return float(interval) if interval else 2.0
    return 2.0


def build_payload(
    spec: Any,
    study: StudyRecord,
    rec: TrialRecord,
    *,
    sync: bool,
    artifact_root: str | None = None,
    environment_token: str = "",
) -> TrialPayload:
    """The payload that runs trial ``rec`` of ``study`` (sweep trials and ``reproduce`` reruns alike)."""
    t = spec.trial
    return TrialPayload(
        trial_id=rec.trial_id,
        study=study.name,
        number=rec.number,
        params=dict(rec.params),
        nested_params=trial_config(spec.parameters, rec.params, wandb=spec.format == "wandb"),
        seed=rec.seed,
        workdir=study.workdir,
        objective=spec.objective.metric if spec.objective is not None else None,
        objectives=tuple(o.metric for o in getattr(spec, "objectives", ()) or ()),
        function=t.function,
        command=tuple(t.command) if t.command else None,
        program=t.program,
        timeout_s=t.timeout_s,
        env=dict(t.env),
        sync_reports=sync,
        wandb_capture=getattr(t, "wandb", "off") == "capture" and t.command is not None,
        artifact_root=artifact_root,
        environment_token=environment_token,
        monitoring_interval_s=monitoring_interval(spec),
    )


def outcome_from_result(
    trial_id: int,
    r: TrialRunResult,
    envs: EnvironmentCache,
    objective_metric: str | None,
    *,
    objective_metrics: Sequence[str] = (),
    constraints: Sequence[Constraint] = (),
) -> TrialOutcome:
    """A worker's result as the outcome the store records; ``envs`` holds the run's environments by hash
    (the full record travels only with a worker process's first result of the run). ``objective_metrics``
    names every objective of a study with several (``values`` follow their order); with
    ``constraints``, a complete or pruned trial records whether its final metrics meet them all."""
    state = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED}.get(r.state, TrialState.FAILED)
    env = r.environment
    if env is not None:
        envs.add(env)
    elif r.environment_hash is not None:
        env = envs.get(r.environment_hash)
    objective = r.metrics.get(objective_metric) if objective_metric else None
    values: tuple[float | None, ...] = ()
    if len(objective_metrics) > 1:
        values = tuple(clean_float(r.metrics.get(m)) for m in objective_metrics)
    return TrialOutcome(
        trial_id=trial_id,
        state=state,
        metrics=dict(r.metrics),
        objective=objective if objective is not None and math.isfinite(objective) else None,
        values=values,
        history=tuple(MetricPoint(n, s, v) for n, s, v in r.points),
        started_at=r.started_at,
        finished_at=r.finished_at,
        environment=env,
        worker_host=r.host,
        ray_node_id=r.node_id,
        gpu_ids=tuple(r.gpu_ids),
        error=r.error,
        log_tail=r.log_tail,
        artifacts=accepted_records(r.artifact_records, r.artifact_scope),  # only the trial's own blobs
        feasible=feasible(constraints, r.metrics) if state.is_finished else None,
    )


def _dominates_or_equals(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` is at least as good as ``b`` in every objective (lower is better)."""
    return all(x <= y for x, y in zip(a, b, strict=True))
