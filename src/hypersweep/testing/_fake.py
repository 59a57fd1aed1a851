"""``FakeExecutor``: a scripted executor on a simulated clock, for tests and the ``scale`` benchmark.

In the spirit of httpx's ``MockTransport``: a *handler* function decides each trial's outcome. It gets a
:class:`FakeTrial` (the payload's params, number, seed, the attempt) and returns a :class:`Script`:

* ``Complete(metrics, duration=1.0, reports=())``: the trial reports ``reports`` (``(name, step,
  value)``; a pruner may stop it, then it ends pruned), then finishes with ``metrics``;
* ``Fail(error, duration=1.0)``: the trial raises (recorded failed with ``error``);
* ``Crash(reason, duration=1.0)``: the worker dies under it (the executor's ``TaskCrashed``);
* ``Hang()``: it never ends by itself (only a cancel ends it);
* ``Interrupt(after=0.0)``: Ctrl-C reaches the driver ``after`` seconds into the trial.

Time is simulated: ``wait(timeout)`` jumps the clock to the next finish (or by ``timeout``), so a study
of a million one-second trials takes no real time but the driver's. ``clock`` is that clock: pass it to
the engine (``Engine(..., clock=executor.clock)``). ``workers`` trials run at once; the rest queue in
submission order, as on a real cluster that caps concurrency. As on Ray, a queued trial is started
when a worker frees (a ``TaskStarted`` from ``wait``), and ``trial.timeout`` counts from that start: a
trial still running at its timeout (a ``Hang``, or a longer ``duration``) ends as a crashed task whose
reason says it timed out.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypersweep.executors import (
    Event,
    Executor,
    ReportHandler,
    ResourceRequest,
    TaskCrashed,
    TaskDone,
    TaskStarted,
)
from hypersweep.trial import TrialRunResult

__all__ = [
    "Complete",
    "Crash",
    "Fail",
    "FakeExecutor",
    "FakeTrial",
    "Hang",
    "Interrupt",
    "Script",
    "SimClock",
]

_EPOCH = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Complete:
    metrics: Mapping[str, float]
    duration: float = 1.0
    reports: Sequence[tuple[str, int, float]] = ()


@dataclass(frozen=True)
class Fail:
    error: str = "RuntimeError: scripted failure"
    duration: float = 1.0


@dataclass(frozen=True)
class Crash:
    reason: str = "the worker died (scripted crash)"
    duration: float = 1.0


@dataclass(frozen=True)
class Hang:
    pass


@dataclass(frozen=True)
class Interrupt:
    after: float = 0.0


Script = Complete | Fail | Crash | Hang | Interrupt


@dataclass(frozen=True)
class FakeTrial:
    """What the handler sees of a submitted trial."""

    key: int  # the trial id
    params: Mapping[str, Any]
    number: int | None
    seed: int
    submitted: int  # how many trials were submitted before this one (0, 1, 2, ...)
    payload: Any = field(repr=False, default=None)


class SimClock:
    """A monotonic clock in seconds that moves only when told."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)

    def wall(self) -> datetime:
        return _EPOCH + timedelta(seconds=self.now)


TIMED_OUT = "timed out: trial.timeout elapsed and the task was killed"


@dataclass
class _Task:
    key: int
    script: Script
    timeout_s: float | None = None
    started: float | None = None
    timed_out: bool = False


class FakeExecutor(Executor):
    """Runs scripted trials on a simulated clock; see the module docstring."""

    name = "fake"
    reports_starts = True

    def __init__(
        self,
        handler: Callable[[FakeTrial], Script],
        *,
        workers: int = 1,
        clock: SimClock | None = None,
        record: bool = True,
    ) -> None:
        self.handler = handler
        self.record = record  # keep every FakeTrial in ``submitted`` (off for long simulated studies)
        self.workers = workers
        self.clock = clock or SimClock()
        self._report: ReportHandler | None = None
        self._queue: deque[_Task] = deque()  # submitted, waiting for a worker
        self._running: dict[int, _Task] = {}
        self._ends: list[tuple[float, int, int]] = []  # (finish time, order, key) of running tasks
        self._order = itertools.count()
        self._cancelled: list[int] = []
        self._events: list[Event] = []  # starts, for the next ``wait``
        self._submitted = 0
        self.submitted: list[FakeTrial] = []  # every trial, in submission order (what a test inspects)
        self.cancels: list[int] = []  # keys cancel() was called for
        self.max_running = 0  # the most trials that ran at once

    # -- Executor --------------------------------------------------------------------------------------
    def check_resources(self, request: ResourceRequest) -> int:
        return self.workers

    def set_report_handler(self, handler: ReportHandler, sync: bool) -> None:
        self._report = handler

    def submit(
        self,
        key: int,
        payload: Callable[[Any], Any],
        request: ResourceRequest,
        timeout_s: float | None = None,
    ) -> None:
        trial = FakeTrial(
            key=key,
            params=dict(getattr(payload, "params", {}) or {}),
            number=getattr(payload, "number", None),
            seed=getattr(payload, "seed", 0),
            submitted=self._submitted,
            payload=payload,
        )
        self._submitted += 1
        if self.record:
            self.submitted.append(trial)
        self._queue.append(_Task(key, self.handler(trial), timeout_s))
        self._start_queued()

    def wait(self, timeout: float) -> list[Event]:
        if self._cancelled:
            done: list[Event] = [TaskCrashed(k, "cancelled", cancelled=True) for k in self._cancelled]
            self._cancelled = []
            return done
        if self._events:
            events, self._events = self._events, []
            return events
        self._drop_stale()
        if not self._ends or self._ends[0][0] > self.clock.now + timeout:
            self.clock.advance(timeout)
            return []
        t = self._ends[0][0]
        self.clock.advance(t - self.clock.now)
        out: list[Event] = []
        while self._ends and self._ends[0][0] <= t:
            _, _, key = heapq.heappop(self._ends)
            task = self._running.pop(key, None)
            if task is None:
                continue
            out.append(self._finish(task))
        self._start_queued()
        return out

    def cancel(self, key: int) -> None:
        self.cancels.append(key)
        if self._running.pop(key, None) is not None:
            self._cancelled.append(key)
            self._start_queued()
            return
        for task in self._queue:
            if task.key == key:
                self._queue.remove(task)
                self._cancelled.append(key)
                return

    # -- inside ----------------------------------------------------------------------------------------
    def _start_queued(self) -> None:
        while self._queue and len(self._running) < self.workers:
            task = self._queue.popleft()
            task.started = self.clock.now
            self._running[task.key] = task
            self._events.append(TaskStarted(task.key, self.clock.wall()))
            script = task.script
            length = math.inf
            if not isinstance(script, Hang):
                length = script.after if isinstance(script, Interrupt) else script.duration
            if task.timeout_s and task.timeout_s < length:  # counted from the start, not the submission
                length, task.timed_out = task.timeout_s, True
            if math.isfinite(length):
                heapq.heappush(self._ends, (self.clock.now + length, next(self._order), task.key))
        self.max_running = max(self.max_running, len(self._running))

    def _drop_stale(self) -> None:
        while self._ends and self._ends[0][2] not in self._running:
            heapq.heappop(self._ends)

    def _finish(self, task: _Task) -> TaskDone | TaskCrashed:
        script = task.script
        if task.timed_out:
            return TaskCrashed(task.key, TIMED_OUT)
        if isinstance(script, Interrupt):
            self._running[task.key] = task  # still running when Ctrl-C arrives
            raise KeyboardInterrupt
        if isinstance(script, Crash):
            return TaskCrashed(task.key, script.reason)
        started = _EPOCH + timedelta(seconds=task.started or 0.0)
        finished = self.clock.wall()
        if isinstance(script, Fail):
            return TaskDone(
                task.key,
                TrialRunResult(state="failed", error=script.error, started_at=started, finished_at=finished),
            )
        assert isinstance(script, Complete)
        points = []
        state = "complete"
        for name, step, value in script.reports:
            points.append((name, step, value))
            if self._report is not None and self._report(task.key, [(name, step, value)], ""):
                state = "pruned"
                break
        return TaskDone(
            task.key,
            TrialRunResult(
                state=state,
                metrics=dict(script.metrics) if state == "complete" else {},
                started_at=started,
                finished_at=finished,
                pushed=bool(points),
            ),
        )
