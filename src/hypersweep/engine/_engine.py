"""The sweep loop: ask a strategy -> submit to an executor -> wait -> record in the store -> tell.

Depends only on the ``Strategy``, ``Executor`` and ``Store`` interfaces. The driver alone writes: it
keeps ``parallel`` trials in flight, records results in grouped commits (at most ~100 ms apart) and
per-step reports at least every second, asks ahead so sampling never idles a worker, and ends as
CONTRACT.md section 4's table says.
"""

from __future__ import annotations

import collections
import enum
import logging
import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import tenacity

from hypersweep.artifacts import accepted_records
from hypersweep.errors import FailureBudgetExceeded, StoreError, StoreUnavailableError, StudyLockedError
from hypersweep.executors import Executor, ResourceRequest, TaskCrashed, TaskDone
from hypersweep.records import (
    EnvironmentRecord,
    MetricPoint,
    NewTrial,
    StudyRecord,
    StudyStatus,
    TrialOutcome,
    TrialRecord,
    TrialState,
)
from hypersweep.spec import nest_params
from hypersweep.store import Store
from hypersweep.strategies import HistoryTrial, Strategy, Suggestion, params_key, trial_seed
from hypersweep.trial import TrialPayload, TrialRunResult

__all__ = ["STORE_RETRY_S", "Engine", "EngineOptions", "Progress", "RunSummary", "StopReason"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

FLUSH_RESULTS_S = 0.1
FLUSH_REPORTS_S = 1.0
HEARTBEAT_S = 5.0
POLL_STOP_S = 1.0
CANCEL_WAIT_S = 5.0
FIRST_FAILS = 3
STORE_RETRY_S = 60.0  # how long the driver retries an unavailable store before it stops
STORE_BACKOFF_S = (0.1, 5.0)  # first and longest wait between tries (exponential, jittered)
CHUNK_TARGET_S = 0.02  # short trials share a task until it holds about this much work
CHUNK_MIN_SAMPLES = 8  # results measured before trials are chunked


# Environments by hash, for the whole driver process: a worker sends its full environment only with its
# first result, and workers (Ray's, or this process for the local executor) outlive one engine.
ENVIRONMENT_CACHE: dict[str, EnvironmentRecord] = {}


class StopReason(str, enum.Enum):
    BUDGET = "budget reached"
    EXHAUSTED = "search space exhausted"
    TARGET = "metric.target reached"
    TIMEOUT = "timeout"
    STOPPED = "stopped by `hypersweep stop`"
    FAILURES = "failure budget exceeded"
    INTERRUPTED = "interrupted (Ctrl-C)"


@dataclass(frozen=True)
class EngineOptions:
    trials: int | None
    parallel: int
    max_failures: int | None = None
    retries: int = 0
    timeout_s: float | None = None
    target: float | None = None
    retry_failed: bool = False
    lease_owner: str = ""
    # trials handed to the executor beyond `parallel`, queued there so a freed slot starts the next trial
    # without a round trip through the driver; only used where the cluster itself caps concurrency
    queue_ahead: int = 0
    artifact_root: str | None = None  # where workers store artifacts and checkpoints
    store_retry_s: float = STORE_RETRY_S
    # very short function trials of a result-blind strategy (grid, random) run up to this many to a task
    # once their measured duration shows that the executor's per-task cost dominates; 1: never
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


@dataclass
class _InFlight:
    record: TrialRecord
    suggestion: Suggestion
    reports: dict[str, int] = field(default_factory=dict)


def _first_line(error: str | None) -> str:
    return (error or "").strip().splitlines()[0] if error else ""


class Engine:
    def __init__(
        self,
        spec: Any,
        study: StudyRecord,
        store: Store,
        strategy: Strategy,
        executor: Executor,
        options: EngineOptions,
        *,
        on_progress: Callable[[Progress], None] | None = None,
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
        r = spec.resources
        self._request = ResourceRequest(
            cpus=float(r.cpus), gpus=float(r.gpus), accelerator_type=r.accelerator_type, custom=dict(r.custom)
        )
        self._sync = getattr(spec.early_stopping, "type", "none") != "none" and self._objective is not None
        self._inflight: dict[int, _InFlight] = {}
        self._ready: collections.deque[Suggestion] = collections.deque()
        self._reruns: collections.deque[tuple[Mapping[str, Any], int | None]] = collections.deque()
        self._outcomes: list[TrialOutcome] = []
        self._reports: list[tuple[int, MetricPoint]] = []
        self._logs: dict[int, str] = {}  # trial_id -> output not yet written (running trials)
        self._envs = ENVIRONMENT_CACHE
        self._attempts: dict[str, int] = {}  # params key -> failed attempts
        self._run_failures: list[str] = []  # this run's results, in order, "" for a success
        self._failure_counts: collections.Counter[str] = collections.Counter()
        self._failed_total = 0
        self._exhausted = False
        # chunking short trials (see EngineOptions.max_per_task): recent trial durations, as measured in
        # the worker
        self._chunkable = (
            options.max_per_task > 1
            and options.queue_ahead > 0
            and spec.trial.function is not None
            and strategy.name in ("grid", "random")
        )
        self._durations: collections.deque[float] = collections.deque(maxlen=CHUNK_MIN_SAMPLES * 4)

    # -- set-up ----------------------------------------------------------------------------------------
    def _load(self) -> Progress:
        trials = self.store.get_trials(self.study.study_id)
        need_history = self._sync
        history = [
            HistoryTrial(
                t, self.store.get_history(t.trial_id) if need_history and t.state.is_finished else ()
            )
            for t in trials
        ]
        self.strategy.load_history(history)
        prog = Progress(study=self.study.name, budget=self.opt.trials)
        rerun_of = {t.retry_of for t in trials if t.retry_of is not None}
        seen = set()
        for t in trials:
            key = params_key(t.params)
            seen.add(key)
            if t.state is TrialState.COMPLETE:
                prog.complete += 1
                self._track_best(prog, t.objective, t.params, t.number)
            elif t.state is TrialState.PRUNED:
                prog.pruned += 1
            elif t.state is TrialState.FAILED:
                self._failed_total += 1
                self._attempts[key] = self._attempts.get(key, 0) + 1
        for t in trials:
            if t.trial_id in rerun_of:
                continue
            if (
                t.state is TrialState.INTERRUPTED
                or t.state is TrialState.FAILED
                and (self.opt.retry_failed or self._attempts.get(params_key(t.params), 0) <= self.opt.retries)
            ):
                self._reruns.append((t.params, t.trial_id))
        for params in getattr(self.spec, "enqueue", ()) or ():
            flat = dict(params)
            if params_key(flat) not in seen:
                self._reruns.append((flat, None))
        prog.failed = self._failed_total
        prog._finished_at_start = prog.finished
        return prog

    def _track_best(
        self, prog: Progress, value: float | None, params: Mapping[str, Any], number: int | None
    ) -> None:
        if value is None or self._direction is None or not math.isfinite(value):
            return
        if prog.best_value is None or self._direction.better(value, prog.best_value):
            prog.best_value, prog.best_params, prog.best_number = value, dict(params), number

    # -- the loop --------------------------------------------------------------------------------------
    def run(self) -> RunSummary:
        prog = self._load()
        self.executor.set_report_handler(self._on_reports, self._sync)
        start = time.monotonic()
        deadline = start + self.opt.timeout_s if self.opt.timeout_s else math.inf
        last_flush = last_reports = last_beat = last_poll = last_progress = start
        reason: StopReason | None = None
        draining = False
        try:
            while True:
                now = time.monotonic()
                prog.elapsed_s = now - start
                if reason is None:
                    reason = self._check_stop(prog, now, deadline)
                if reason in (StopReason.TARGET, StopReason.TIMEOUT, StopReason.FAILURES):
                    break
                if reason is StopReason.STOPPED and not draining:
                    draining = True
                    self._cancel_queued()
                if not draining:
                    self._launch(prog)
                if not self._inflight:
                    if reason is None:
                        reason = self._idle_reason(prog)
                    if reason is not None or draining:
                        break
                for res in self.executor.wait(0.05 if self._outcomes else 0.25):
                    self._handle(res, prog)
                now = time.monotonic()
                if self._outcomes and (now - last_flush >= FLUSH_RESULTS_S or len(self._outcomes) >= 256):
                    self._flush()
                    last_flush = now
                if (self._reports or self._logs) and now - last_reports >= FLUSH_REPORTS_S:
                    self._flush_reports()
                    last_reports = now
                if now - last_beat >= HEARTBEAT_S:
                    last_beat = now
                    self._heartbeat()
                if reason is None and now - last_poll >= POLL_STOP_S:
                    last_poll = now
                    study = self._store_call(
                        "polling for stop", lambda: self.store.get_study_by_id(self.study.study_id)
                    )
                    if study.stop_requested:
                        reason = StopReason.STOPPED
                if self._on_progress is not None and now - last_progress >= 0.2:
                    last_progress = now
                    self._on_progress(prog)
        except KeyboardInterrupt:
            self._cancel_all(prog)
            self._flush()
            raise
        if reason in (StopReason.TARGET, StopReason.TIMEOUT, StopReason.FAILURES):
            self._cancel_all(prog)
        self._flush()
        prog.running = 0
        if self._on_progress is not None:
            self._on_progress(prog)
        return self._summary(prog, reason or StopReason.BUDGET)

    def _remaining(self, prog: Progress) -> float:
        if self.opt.trials is None:
            return math.inf
        return self.opt.trials - prog.finished - len(self._inflight)

    def _idle_reason(self, prog: Progress) -> StopReason | None:
        if self.opt.trials is not None and prog.finished >= self.opt.trials:
            return StopReason.BUDGET
        if self._exhausted and not self._reruns:
            return StopReason.EXHAUSTED
        return None

    def _check_stop(self, prog: Progress, now: float, deadline: float) -> StopReason | None:
        if now >= deadline:
            return StopReason.TIMEOUT
        if self.opt.max_failures is not None and self._failed_total > self.opt.max_failures:
            return StopReason.FAILURES
        first = self._run_failures[:FIRST_FAILS]
        if (
            self.opt.max_failures is None
            and len(first) == FIRST_FAILS
            and all(first)
            and len(set(first)) == 1
        ):
            return StopReason.FAILURES
        if (
            self.opt.target is not None
            and prog.best_value is not None
            and self._direction is not None
            and not self._direction.better(self.opt.target, prog.best_value)
        ):
            return StopReason.TARGET
        return None

    def _next_suggestions(self, n: int) -> list[tuple[Suggestion, int | None]]:
        out: list[tuple[Suggestion, int | None]] = []
        while self._reruns and len(out) < n:
            params, retry_of = self._reruns.popleft()
            out.append((self.strategy.adopt(params), retry_of))
        while self._ready and len(out) < n:
            out.append((self._ready.popleft(), None))
        if len(out) < n and not self._exhausted:
            got = self.strategy.ask(n - len(out))
            if len(got) < n - len(out):
                self._exhausted = True
            out.extend((s, None) for s in got)
        return out

    def _per_task(self) -> int:
        """Trials per executor task: 1, or more once this run's trials prove much shorter than the
        executor's cost per task (then ``CHUNK_TARGET_S`` worth of them share one)."""
        if not self._chunkable or len(self._durations) < CHUNK_MIN_SAMPLES:
            return 1
        typical = max(statistics.median(self._durations), 1e-4)  # a slow first trial must not decide
        return max(1, min(self.opt.max_per_task, int(CHUNK_TARGET_S / typical)))

    def _launch(self, prog: Progress) -> None:
        ahead = self.opt.queue_ahead
        per_task = self._per_task()
        free = (self.opt.parallel + ahead) * per_task - len(self._inflight)
        # with a queue ahead, top it up in batches (one store transaction for several trials) unless a
        # worker would otherwise wait
        if (
            ahead
            and len(self._inflight) >= self.opt.parallel * per_task
            and free < max(1, ahead * per_task // 2)
        ):
            return
        n = int(min(free, self._remaining(prog)))
        if n <= 0:
            return
        chosen = self._next_suggestions(n)
        if not chosen:
            return
        news = [
            NewTrial(params=dict(s.params), seed=trial_seed(self.study.seed, s.params), retry_of=r)
            for s, r in chosen
        ]
        records = self._create_trials(news)
        for (sugg, _), rec in zip(chosen, records, strict=True):
            self._inflight[rec.trial_id] = _InFlight(rec, sugg)
        self.executor.submit_batch(
            [(rec.trial_id, self._payload(rec)) for rec in records],
            self._request,
            self.spec.trial.timeout_s,
            per_task=per_task,
        )
        prog.running = min(len(self._inflight), self.opt.parallel)
        prog.started_this_run += len(records)
        # ask ahead while the workers run, so sampling never idles a worker
        want = int(min(self.opt.parallel, max(self._remaining(prog), 0)))
        # (TPE with one trial at a time asks after each result instead, so it sees every result)
        adaptive_serial = self.strategy.name == "tpe" and self.opt.parallel == 1
        if (
            not self._exhausted
            and len(self._ready) < min(want, 4)
            and self.strategy.name != "grid"
            and not adaptive_serial
        ):
            got = self.strategy.ask(min(want, 4) - len(self._ready))
            self._ready.extend(got)

    def _payload(self, rec: TrialRecord) -> TrialPayload:
        return build_payload(
            self.spec, self.study, rec, sync=self._sync, artifact_root=self.opt.artifact_root
        )

    # -- results ---------------------------------------------------------------------------------------
    def _on_reports(self, key: int, points: list[tuple[str, int, float]], log: str = "") -> bool:
        fl = self._inflight.get(key)
        if fl is None:
            return False
        if log:
            self._logs[key] = self._logs.get(key, "") + log
        prune = False
        for name, step, value in points:
            self._reports.append((key, MetricPoint(name, step, value)))
            if name == self._objective and self._sync and self.strategy.report(fl.suggestion, step, value):
                prune = True
        return prune

    def _handle(self, res: TaskDone | TaskCrashed, prog: Progress) -> None:
        fl = self._inflight.pop(res.key, None)
        if fl is None:
            return
        prog.running = min(len(self._inflight), self.opt.parallel)
        if isinstance(res, TaskDone):
            out = self._outcome(fl, res.value)
            if self._chunkable and out.started_at is not None and out.finished_at is not None:
                self._durations.append((out.finished_at - out.started_at).total_seconds())
        else:
            state = TrialState.INTERRUPTED if res.cancelled else TrialState.FAILED
            out = TrialOutcome(
                trial_id=res.key,
                state=state,
                error=None if res.cancelled else res.reason,
                finished_at=datetime.now(UTC),
            )
        self.strategy.tell(fl.suggestion, out.state, out.objective)
        self._outcomes.append(out)
        if out.state is TrialState.COMPLETE:
            prog.complete += 1
            self._run_failures.append("")
            self._track_best(prog, out.objective, fl.record.params, fl.record.number)
        elif out.state is TrialState.PRUNED:
            prog.pruned += 1
            self._run_failures.append("")
        elif out.state is TrialState.FAILED:
            self._failed_total += 1
            prog.failed = self._failed_total
            first = _first_line(out.error) or "failed"
            self._run_failures.append(first)
            self._failure_counts[first] += 1
            key = params_key(fl.record.params)
            self._attempts[key] = self._attempts.get(key, 0) + 1
            if self._attempts[key] <= self.opt.retries:
                self._reruns.append((fl.record.params, fl.record.trial_id))

    def _outcome(self, fl: _InFlight, r: TrialRunResult) -> TrialOutcome:
        return outcome_from_result(fl.record.trial_id, r, self._envs, self._objective)

    def _cancel_queued(self) -> None:
        """On `stop`: trials queued ahead in the executor have not started; they are cancelled (and become
        interrupted, rerun on resume). The executor runs tasks in submission order, so the oldest
        `parallel` trials are the running ones and finish normally."""
        if not self.opt.queue_ahead:
            return
        for key in list(self._inflight)[self.opt.parallel * self._per_task() :]:
            self.executor.cancel(key)

    def _cancel_all(self, prog: Progress) -> None:
        for key in list(self._inflight):
            self.executor.cancel(key)
        end = time.monotonic() + CANCEL_WAIT_S
        while self._inflight and time.monotonic() < end:
            for res in self.executor.wait(0.2):
                if isinstance(res, TaskCrashed):
                    res = TaskCrashed(res.key, res.reason, cancelled=True)
                self._handle(res, prog)
        now = datetime.now(UTC)
        for key, fl in list(self._inflight.items()):
            self.strategy.tell(fl.suggestion, TrialState.INTERRUPTED, None)
            self._outcomes.append(TrialOutcome(trial_id=key, state=TrialState.INTERRUPTED, finished_at=now))
        self._inflight.clear()
        prog.running = 0

    # -- store writes: retried while the store is unavailable ------------------------------------------
    def _store_call(self, what: str, call: Callable[[], _T], *, check_lease: bool = False) -> _T:
        """``call()``, retried with exponential backoff while it raises ``StoreUnavailableError`` (a
        server restarting, a SQLite lock held past the busy timeout), for at most ``store_retry_s``.

        Every store write the loop makes is idempotent or made so by ``call`` (see ``_create_trials``),
        so a try that committed before its connection dropped is safe to repeat. With ``check_lease``,
        each retry first renews the lease, so a driver whose lease another took over during the outage
        stops (``StudyLockedError``) instead of writing. Past the deadline the in-flight trials are
        cancelled and ``StoreUnavailableError`` ends the run; the study stays resumable.
        """
        tries = 0
        first_failure: list[float] = []

        def attempt() -> _T:
            nonlocal tries
            tries += 1
            if tries > 1 and check_lease:
                self._renew_lease()
            return call()

        def before_sleep(state: tenacity.RetryCallState) -> None:
            if not first_failure:
                first_failure.append(time.monotonic())
                err = state.outcome.exception() if state.outcome is not None else None
                _log.warning(
                    "%s; retrying %s for up to %g s (HYPERSWEEP_STORE_RETRY_S)",
                    err,
                    what,
                    self.opt.store_retry_s,
                )

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(StoreUnavailableError),
            wait=tenacity.wait_exponential_jitter(initial=STORE_BACKOFF_S[0], max=STORE_BACKOFF_S[1]),
            stop=tenacity.stop_before_delay(max(self.opt.store_retry_s, 0.0)),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            result = retrying(attempt)
        except StoreUnavailableError as e:
            for key in list(self._inflight):
                self.executor.cancel(key)  # nothing can record them; resume reruns their params
            raise StoreUnavailableError(
                f"{e}\nstudy {self.study.name!r} stopped: the store stayed unavailable while {what} "
                f"({tries} tries over {self.opt.store_retry_s:g} s, HYPERSWEEP_STORE_RETRY_S); "
                f"resume it with `hypersweep resume {self.study.name}` once the store is back"
            ) from e
        if first_failure:
            _log.warning(
                "store available again after %.1f s; %s done", time.monotonic() - first_failure[0], what
            )
        return result

    def _renew_lease(self) -> None:
        if self.opt.lease_owner and not self.store.renew_lease(self.study.study_id, self.opt.lease_owner):
            raise StudyLockedError(
                f"study {self.study.name!r}: another driver took over the lease; this driver stops"
            )

    def _heartbeat(self) -> None:
        self._store_call("renewing the lease", self._renew_lease)

    def _create_trials(self, news: Sequence[NewTrial]) -> list[TrialRecord]:
        """``create_trials``, safe to retry: a try whose commit reached the database before the connection
        dropped left the batch in the store, so before trying again we look for it and adopt it."""
        sent = False

        def attempt() -> list[TrialRecord]:
            nonlocal sent
            if sent:
                found = self._committed_batch(news)
                if found is not None:
                    return found
            sent = True
            return self.store.create_trials(self.study.study_id, news)

        return self._store_call("creating trials", attempt, check_lease=True)

    def _committed_batch(self, news: Sequence[NewTrial]) -> list[TrialRecord] | None:
        """The trials an earlier, ambiguous ``create_trials(news)`` committed, or None if it did not.

        This driver holds the lease, so it alone creates sweep trials; a running sweep trial that it
        neither has in flight nor holds an unwritten outcome for comes from that try (one transaction:
        all of the batch or none of it)."""
        known = set(self._inflight) | {o.trial_id for o in self._outcomes}
        running = self.store.get_trials(self.study.study_id, states=[TrialState.RUNNING], with_metrics=False)
        orphans = [t for t in running if t.trial_id not in known]
        if not orphans:
            return None
        want = [(params_key(n.params), n.seed, n.retry_of) for n in news]
        if [(params_key(t.params), t.seed, t.retry_of) for t in orphans] != want:
            raise StoreError(
                f"study {self.study.name!r}: the store holds running trials this driver did not start "
                f"(numbers {', '.join(str(t.number) for t in orphans)}); another process writes to the study"
            )
        _log.warning(
            "trials %s were created before the connection dropped; adopting them", [t.number for t in orphans]
        )
        return orphans

    def _flush_reports(self) -> None:
        if self._reports:
            reports = list(self._reports)  # kept in memory until written
            self._store_call(
                "writing step reports", lambda: self.store.add_reports(reports), check_lease=True
            )
            del self._reports[: len(reports)]
        if self._logs:
            logs = dict(self._logs)
            self._store_call("writing trial output", lambda: self.store.append_logs(logs), check_lease=True)
            for key, text in logs.items():
                rest = self._logs.get(key, "")[len(text) :]
                if rest:
                    self._logs[key] = rest
                else:
                    self._logs.pop(key, None)

    def _flush(self) -> None:
        self._flush_reports()
        if self._outcomes:
            outcomes = list(self._outcomes)  # kept in memory until written
            # an outcome written by a try whose connection then dropped is ignored on the next try
            self._store_call(
                "recording results", lambda: self.store.finish_trials(outcomes), check_lease=True
            )
            del self._outcomes[: len(outcomes)]

    # -- the end ---------------------------------------------------------------------------------------
    def _summary(self, prog: Progress, reason: StopReason) -> RunSummary:
        met = self.opt.trials is not None and prog.finished >= self.opt.trials
        if (
            reason in (StopReason.BUDGET, StopReason.TARGET)
            or (reason is StopReason.EXHAUSTED and met)
            or reason is StopReason.STOPPED
            and met
        ):
            status = StudyStatus.FINISHED
        else:
            status = StudyStatus.INTERRUPTED
        failures = [f"{n} x {msg}" for msg, n in self._failure_counts.most_common()]
        summary = RunSummary(self.study.name, reason, status, prog, failures)
        if reason is StopReason.EXHAUSTED and not met and prog.failed:
            summary.notes.append(
                f"{prog.failed} trial(s) failed; rerun their params with "
                f"`hypersweep resume {self.study.name} --retry-failed`"
            )
        if reason is StopReason.FAILURES:
            raise FailureBudgetExceeded(self._failure_message(prog, failures))
        return summary

    def _failure_message(self, prog: Progress, failures: Sequence[str]) -> str:
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
        lines.append(f"see one with `hypersweep leaderboard {self.study.name} --where \"state = 'failed'\"`")
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
    spec: Any, study: StudyRecord, rec: TrialRecord, *, sync: bool, artifact_root: str | None = None
) -> TrialPayload:
    """The payload that runs trial ``rec`` of ``study`` (sweep trials and ``reproduce`` reruns alike)."""
    t = spec.trial
    return TrialPayload(
        trial_id=rec.trial_id,
        study=study.name,
        number=rec.number,
        params=dict(rec.params),
        nested_params=nest_params(spec.parameters, rec.params),
        seed=rec.seed,
        workdir=study.workdir,
        objective=spec.objective.metric if spec.objective is not None else None,
        function=t.function,
        command=tuple(t.command) if t.command else None,
        program=t.program,
        timeout_s=t.timeout_s,
        env=dict(t.env),
        sync_reports=sync,
        wandb_capture=getattr(t, "wandb", "off") == "capture" and t.command is not None,
        artifact_root=artifact_root,
        monitoring_interval_s=monitoring_interval(spec),
    )


def outcome_from_result(
    trial_id: int, r: TrialRunResult, envs: dict[str, EnvironmentRecord], objective_metric: str | None
) -> TrialOutcome:
    """A worker's result as the outcome the store records; ``envs`` caches environments by hash (the
    full record travels only with a worker process's first result)."""
    state = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED}.get(r.state, TrialState.FAILED)
    env = r.environment
    if env is not None:
        envs[env.hash] = env
    elif r.environment_hash is not None:
        env = envs.get(r.environment_hash)
    objective = r.metrics.get(objective_metric) if objective_metric else None
    return TrialOutcome(
        trial_id=trial_id,
        state=state,
        metrics=dict(r.metrics),
        objective=objective if objective is not None and math.isfinite(objective) else None,
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
    )
