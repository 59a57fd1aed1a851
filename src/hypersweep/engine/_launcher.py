"""The engine's launcher: which trials start next, and how they reach the executor.

Reruns (interrupted trials, failed ones within ``budget.retries`` or with ``--retry-failed``, enqueued
params) go first, then suggestions asked ahead, then fresh ones. It asks ahead while the workers run,
queues trials ahead in the executor where the cluster itself caps concurrency, and chunks very short
trials of a result-blind strategy several to a task. All of it follows the traits the strategy declared
(:class:`~hypersweep.strategies.StrategyTraits`), never its name.
"""

from __future__ import annotations

import collections
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypersweep.executors import Executor, ResourceRequest
from hypersweep.records import NewTrial, TrialRecord, TrialState
from hypersweep.strategies import Strategy, StrategyTraits, Suggestion, params_key, trial_seed

__all__ = ["InFlight", "Launcher", "queue_ahead"]

CHUNK_TARGET_S = 0.02  # short trials share a task until it holds about this much work
CHUNK_MIN_SAMPLES = 8  # results measured before trials are chunked
ASK_AHEAD = 4  # suggestions kept ready while the workers run


def queue_ahead(traits: StrategyTraits, parallel: int, fit: int, *, cluster_queues: bool) -> int:
    """Trials to hand the executor beyond ``parallel`` so a freed slot starts the next one at once.

    Only where the cluster itself caps concurrency at ``parallel`` (``cluster_queues``, and ``parallel``
    at or above what fits). An adaptive strategy queues one round, so its suggestions stay fresh."""
    if not cluster_queues or parallel < fit:
        return 0
    return parallel if traits.adaptive else max(parallel, 8)


@dataclass
class InFlight:
    record: TrialRecord
    suggestion: Suggestion


@dataclass
class _Reruns:
    """Params to run again before anything new: (params, trial_id of the trial they rerun, or None)."""

    queue: collections.deque[tuple[Mapping[str, Any], int | None]] = field(default_factory=collections.deque)
    attempts: dict[str, int] = field(default_factory=dict)  # params key -> failed attempts


class Launcher:
    def __init__(
        self,
        strategy: Strategy,
        executor: Executor,
        *,
        study_seed: int,
        parallel: int,
        queue_ahead: int,
        max_per_task: int,
        retries: int,
        retry_failed: bool,
        function_trials: bool,
        request: ResourceRequest,
        timeout_s: float | None,
        create_trials: Callable[[Sequence[NewTrial]], list[TrialRecord]],
        payload: Callable[[TrialRecord], Callable[[Any], Any]],
    ) -> None:
        self.strategy = strategy
        self.executor = executor
        self.traits = strategy.traits
        self.study_seed = study_seed
        self.parallel = parallel
        self.queue_ahead = queue_ahead
        self.max_per_task = max_per_task
        self.retries = retries
        self.retry_failed = retry_failed
        self._request = request
        self._timeout_s = timeout_s
        self._create_trials = create_trials
        self._payload = payload
        self.inflight: dict[int, InFlight] = {}
        self._ready: collections.deque[Suggestion] = collections.deque()
        self._reruns = _Reruns()
        self.exhausted = False
        # chunking short trials: a result-blind strategy's function trials, queued ahead in the executor
        self.chunkable = max_per_task > 1 and queue_ahead > 0 and function_trials and not self.traits.adaptive
        # recent trial durations, as measured in the worker
        self._durations: collections.deque[float] = collections.deque(maxlen=CHUNK_MIN_SAMPLES * 4)

    # -- reruns ----------------------------------------------------------------------------------------
    @property
    def reruns_pending(self) -> int:
        return len(self._reruns.queue)

    def load(self, trials: Sequence[TrialRecord], enqueue: Sequence[Mapping[str, Any]]) -> None:
        """From the store's trials: the failed attempts per params, and what to rerun first (interrupted
        trials; failed ones within ``retries`` or all with ``retry_failed``; enqueued params not yet run)."""
        attempts = self._reruns.attempts
        rerun_of = {t.retry_of for t in trials if t.retry_of is not None}
        seen = set()
        for t in trials:
            key = params_key(t.params)
            seen.add(key)
            if t.state is TrialState.FAILED:
                attempts[key] = attempts.get(key, 0) + 1
        for t in trials:
            if t.trial_id in rerun_of:
                continue
            if (
                t.state is TrialState.INTERRUPTED
                or t.state is TrialState.FAILED
                and (self.retry_failed or attempts.get(params_key(t.params), 0) <= self.retries)
            ):
                self._reruns.queue.append((t.params, t.trial_id))
        for params in enqueue:
            flat = dict(params)
            if params_key(flat) not in seen:
                self._reruns.queue.append((flat, None))

    def failed(self, record: TrialRecord) -> None:
        """A trial of this run failed: rerun its params while within ``budget.retries``."""
        key = params_key(record.params)
        attempts = self._reruns.attempts
        attempts[key] = attempts.get(key, 0) + 1
        if attempts[key] <= self.retries:
            self._reruns.queue.append((record.params, record.trial_id))

    def measured(self, duration_s: float) -> None:
        """A trial's duration as its worker measured it (for chunking)."""
        if self.chunkable:
            self._durations.append(duration_s)

    # -- launching -------------------------------------------------------------------------------------
    def per_task(self) -> int:
        """Trials per executor task: 1, or more once this run's trials prove much shorter than the
        executor's cost per task (then ``CHUNK_TARGET_S`` worth of them share one)."""
        if not self.chunkable or len(self._durations) < CHUNK_MIN_SAMPLES:
            return 1
        typical = max(statistics.median(self._durations), 1e-4)  # a slow first trial must not decide
        return max(1, min(self.max_per_task, int(CHUNK_TARGET_S / typical)))

    def _next_suggestions(self, n: int) -> list[tuple[Suggestion, int | None]]:
        out: list[tuple[Suggestion, int | None]] = []
        while self._reruns.queue and len(out) < n:
            params, retry_of = self._reruns.queue.popleft()
            out.append((self.strategy.adopt(params), retry_of))
        while self._ready and len(out) < n:
            out.append((self._ready.popleft(), None))
        if len(out) < n and not self.exhausted:
            got = self.strategy.ask(n - len(out))
            if len(got) < n - len(out):
                self.exhausted = True
            out.extend((s, None) for s in got)
        return out

    def launch(self, remaining: float) -> int:
        """Start trials into free slots, at most ``remaining`` (the budget left beyond those finished and
        in flight); returns how many started."""
        ahead = self.queue_ahead
        per_task = self.per_task()
        inflight = self.inflight
        free = (self.parallel + ahead) * per_task - len(inflight)
        # with a queue ahead, top it up in batches (one store transaction for several trials) unless a
        # worker would otherwise wait
        if ahead and len(inflight) >= self.parallel * per_task and free < max(1, ahead * per_task // 2):
            return 0
        n = int(min(free, remaining))
        if n <= 0:
            return 0
        chosen = self._next_suggestions(n)
        if not chosen:
            return 0
        # queued in the executor until a worker says it started (then running); inline: running at once
        state = TrialState.WAITING if self.executor.reports_starts else TrialState.RUNNING
        news = [
            NewTrial(
                params=dict(s.params), seed=trial_seed(self.study_seed, s.params), retry_of=r, state=state
            )
            for s, r in chosen
        ]
        records = self._create_trials(news)
        for (sugg, _), rec in zip(chosen, records, strict=True):
            inflight[rec.trial_id] = InFlight(rec, sugg)
        self.executor.submit_batch(
            [(rec.trial_id, self._payload(rec)) for rec in records],
            self._request,
            self._timeout_s,
            per_task=per_task,
        )
        self._ask_ahead(remaining - len(records))
        return len(records)

    def _ask_ahead(self, remaining: float) -> None:
        """Ask while the workers run, so sampling never idles a worker. A finite strategy is asked only as
        trials start; an adaptive one with one trial at a time asks after each result instead, so it sees
        every result."""
        if self.exhausted or self.traits.finite or (self.traits.adaptive and self.parallel == 1):
            return
        want = min(ASK_AHEAD, int(min(self.parallel, max(remaining, 0))))
        if len(self._ready) < want:
            self._ready.extend(self.strategy.ask(want - len(self._ready)))

    def cancel_queued(self) -> None:
        """On `stop`: trials queued ahead in the executor have not started; they are cancelled (and become
        interrupted, rerun on resume). The executor runs tasks in submission order, so the oldest
        `parallel` trials are the running ones and finish normally."""
        if not self.queue_ahead:
            return
        for key in list(self.inflight)[self.parallel * self.per_task() :]:
            self.executor.cancel(key)

    def cancel_all(self) -> None:
        for key in list(self.inflight):
            self.executor.cancel(key)
