"""Ray executor: each trial is a Ray task with its resource request; results come with ``ray.wait``.

Crash policy (docs/resume.md, "Faults the driver survives"): a task gets ``max_retries=1`` for system failures (its worker died,
its node was lost) and no retry for exceptions (trials catch their own exceptions anyway). Reports
from running trials go to a small hub actor that the driver drains; pruning decisions go back the
same way and the trial sees them at its next report.

A worker says when it starts a trial (``TaskStarted``, through the hub): until then the trial is
``waiting`` in Ray's queue, and ``trial.timeout`` counts from that start. A start said before the hub
exists is delivered by a thread of the task once it does (the driver starts the hub once a trial has
been running a second, never in the run's first 3 s, and at once when trials have a timeout or a pruner
listens); a trial that ends first carries its start in its result.

Very short trials can share a task (``submit_batch(per_task=k)``: a chunk runs k payloads one after
another and returns their k results), which saves Ray's per-task scheduling and serialization for all
but one of them. A chunk that crashes or times out is not blamed on all its trials: each of its trials
is submitted again as a task of its own, where the crash policy above applies to it alone.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ray
import ray.exceptions
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from hypersweep.errors import ExecutorError, InsufficientResourcesError
from hypersweep.executors._base import (
    Event,
    Executor,
    ReportHandler,
    ResourceRequest,
    TaskCrashed,
    TaskDone,
    TaskStarted,
)
from hypersweep.executors._ray_start import init_kwargs, shutdown, start, take

__all__ = ["RayExecutor"]

_DRAIN_EVERY_S = 0.2
_HUB_AFTER_S = 1.0  # without a pruner, the hub starts once a trial has been running this long ...
# ... and never in the run's first seconds, while the job's first workers start: the hub's own worker
# process would compete with them for the CPU (on 2 cores it delayed the first trial by a second or more)
_HUB_NOT_BEFORE_S = 3.0
_HUB_LOOKUP_EVERY_S = 1.0
_FORCE_CANCEL_AFTER_S = 5.0
_log = logging.getLogger(__name__)


@ray.remote(num_cpus=0)
class _Hub:
    """Collects intermediate reports from workers; holds prune decisions for them."""

    def __init__(self) -> None:
        self.points: list[tuple[int, list[tuple[str, int, float]], str]] = []
        self.starts: list[tuple[int, float]] = []
        self.pruned: set[int] = set()

    def push(self, key: int, points: list[tuple[str, int, float]], log: str = "") -> bool:
        self.points.append((key, points, log))
        return key in self.pruned

    def started(self, key: int, at: float) -> None:
        self.starts.append((key, at))

    def drain(self) -> tuple[list[tuple[int, list[tuple[str, int, float]], str]], list[tuple[int, float]]]:
        out, self.points = self.points, []
        starts, self.starts = self.starts, []
        return out, starts

    def prune(self, key: int) -> None:
        self.pruned.add(key)


class _RayChannel:
    """The trial's way to the driver's hub, found by name. The driver starts the hub only when someone
    may listen (a pruner, or a trial running for over ``_HUB_AFTER_S``): a sweep of short trials never
    pays for an actor's worker process. Until the hub exists, ``push`` answers None and the trial keeps
    its reports (they come back with its result)."""

    def __init__(self, hub_name: str | None) -> None:
        self.hub_name = hub_name
        self._hub: Any = None
        self._next_lookup = 0.0
        self._unsent: dict[int, float] = {}  # starts said before the hub existed
        self._ended = threading.Event()
        self._sender: threading.Thread | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"hub_name": self.hub_name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["hub_name"])  # type: ignore[misc]

    def _find_hub(self) -> Any:
        if self._hub is None and self.hub_name and time.monotonic() >= self._next_lookup:
            try:
                self._hub = ray.get_actor(self.hub_name)
            except ValueError:  # not started (yet)
                self._next_lookup = time.monotonic() + _HUB_LOOKUP_EVERY_S
        return self._hub

    def push(self, key: int, points: list[tuple[str, int, float]], log: str = "") -> bool | None:
        hub = self._find_hub()
        if hub is None:
            return None
        return bool(ray.get(hub.push.remote(key, points, log)))

    def placement(self) -> dict[str, Any]:
        ctx = ray.get_runtime_context()
        return {"node_id": ctx.get_node_id(), "gpu_ids": tuple(str(g) for g in ray.get_gpu_ids())}

    def started(self, key: int, at: datetime) -> None:
        if not self.hub_name:
            return
        with self._lock:  # the sender thread hands over to the hub under the same lock
            hub = self._find_hub()
            if hub is None:
                self._unsent[key] = at.timestamp()
                if self._sender is None:
                    self._sender = threading.Thread(
                        target=self._send_later, name="hypersweep-start", daemon=True
                    )
                    self._sender.start()
                return
        hub.started.remote(key, at.timestamp())  # not awaited: the trial goes on at once

    def _send_later(self) -> None:
        """Deliver the starts said before the hub existed, once it does; stop when the task ends (its
        results carry the starts)."""
        while not self._ended.wait(_HUB_LOOKUP_EVERY_S / 2):
            try:
                hub = ray.get_actor(self.hub_name)  # type: ignore[arg-type]
            except ValueError:  # not started yet
                continue
            except Exception:  # noqa: BLE001 - the worker is going down; the result has the starts
                return
            with self._lock:
                self._hub = hub  # later starts go to it directly
                unsent, self._unsent = self._unsent, {}
            for key, at in unsent.items():
                hub.started.remote(key, at)
            return

    def end(self) -> None:
        """The task ran its payloads: nothing more to deliver."""
        self._ended.set()


@ray.remote(max_retries=1, retry_exceptions=False)
def _run_trial(payload: Callable[[Any], Any], channel: _RayChannel) -> Any:
    try:
        return payload(channel)
    finally:
        channel.end()


@ray.remote(max_retries=1, retry_exceptions=False)
def _run_chunk(payloads: list[Callable[[Any], Any]], channel: _RayChannel) -> list[Any]:
    try:
        return [payload(channel) for payload in payloads]
    finally:
        channel.end()


@dataclass
class _Task:
    keys: tuple[int, ...]
    ref: Any
    deadline: float  # monotonic; math.inf until a worker says it started (and without a timeout)
    cancelled_at: float | None = None
    reason: str | None = None
    submitted: float = field(default_factory=time.monotonic)
    # a chunk keeps what it needs to resubmit its trials one by one if it fails as a whole
    payloads: tuple[Callable[[Any], Any], ...] = ()
    request: ResourceRequest | None = None
    timeout_s: float | None = None

    @property
    def key(self) -> int:
        return self.keys[0]

    def done(self, value: Any) -> list[TaskDone]:
        """Results of a finished task: a chunk's list, one per trial."""
        if self.payloads:
            return [TaskDone(k, v) for k, v in zip(self.keys, value, strict=True)]
        return [TaskDone(self.key, value)]


def _describe_missing(request: ResourceRequest, nodes: list[dict[str, float]]) -> str | None:
    """None when some node satisfies the request, else what is missing."""
    needs: list[tuple[str, float, str]] = [("CPU", request.cpus, f"cpus: {request.cpus:g}")]
    if request.gpus:
        needs.append(("GPU", request.gpus, f"gpus: {request.gpus:g}"))
    if request.accelerator_type:
        needs.append(
            (
                f"accelerator_type:{request.accelerator_type}",
                0.001,
                f"accelerator_type: {request.accelerator_type}",
            )
        )
    for name, amount in request.custom.items():
        needs.append((name, float(amount), f"custom resource {name}: {amount:g}"))
    for res in nodes:
        if all(res.get(k, 0.0) >= v - 1e-9 for k, v, _ in needs):
            return None
    for key, amount, label in needs:
        if not any(res.get(key, 0.0) >= amount - 1e-9 for res in nodes):
            best = max((res.get(key, 0.0) for res in nodes), default=0.0)
            if key.startswith("accelerator_type:"):
                have = sorted(
                    {k.split(":", 1)[1] for r in nodes for k in r if k.startswith("accelerator_type:")}
                )
                return f"no node has {label} (accelerator types in the cluster: {', '.join(have) or 'none'})"
            return f"no node offers {label} (the largest node has {best:g})"
    return "no single node offers all of " + ", ".join(label for _, _, label in needs)


class RayExecutor(Executor):
    """Trials as Ray tasks on a local Ray (started when none runs) or a cluster (``address``)."""

    name = "ray"
    reports_starts = True

    def __init__(
        self,
        address: str | None = None,
        working_dir: str | None = None,
        num_cpus: int | None = None,
        *,
        store_url: str | None = None,
        artifact_root: str | None = None,
    ) -> None:
        kwargs = init_kwargs(address, working_dir, num_cpus, store_url, artifact_root)
        try:
            taken = take(kwargs)  # a Ray started early for this run (see _ray_start.py)
            self._started = bool(taken)
            if taken is None and not ray.is_initialized():
                start(kwargs)
                self._started = True
        except Exception as e:  # Ray raises a bare Exception when its node does not come up in time
            where = address or "a local Ray"
            raise ExecutorError(f"could not start or join Ray at {where}: {e}") from e
        self._tasks: dict[Any, _Task] = {}
        self._by_key: dict[int, _Task] = {}
        self._hub: Any = None
        self._hub_name = f"hypersweep-hub-{uuid.uuid4().hex[:12]}"
        self._handler: ReportHandler | None = None
        self._channel = _RayChannel(None)
        self._remote_cache: dict[tuple[Any, ...], Any] = {}
        self._last_drain = 0.0
        self._opened = time.monotonic()
        self._drain_ref: Any = None  # a drain asked of the hub, not yet taken
        self._events: list[Event] = []  # starts drained from the hub, for the next ``wait``

    # -- resources ------------------------------------------------------------------------------------
    def check_resources(self, request: ResourceRequest) -> int:
        nodes = [dict(n.get("Resources", {})) for n in ray.nodes() if n.get("Alive")]
        missing = _describe_missing(request, nodes)
        if missing is not None:
            raise InsufficientResourcesError(
                f"no node of the Ray cluster can run a trial: {missing}. "
                "Lower the request in `resources:` (or --set resources.KEY=VALUE) or add a node that has it."
            )
        fit = 0
        for res in nodes:
            per = [res.get("CPU", 0.0) / request.cpus if request.cpus else math.inf]
            if request.gpus:
                per.append(res.get("GPU", 0.0) / request.gpus)
            for k, v in request.custom.items():
                per.append(res.get(k, 0.0) / float(v) if v else math.inf)
            if request.accelerator_type and res.get(f"accelerator_type:{request.accelerator_type}", 0) <= 0:
                continue
            n = min(per)
            fit += int(n + 1e-9) if math.isfinite(n) else 1024
        return max(fit, 1)

    # -- reports --------------------------------------------------------------------------------------
    def set_report_handler(self, handler: ReportHandler, sync: bool) -> None:
        self._handler = handler
        self._channel = _RayChannel(self._hub_name)
        if sync:  # a pruner listens from the first report
            self._start_hub()

    def _start_hub(self) -> None:
        if self._hub is not None:
            return
        # pinned to the driver's node: a worker node lost mid-sweep must not take the hub with it
        here = ray.get_runtime_context().get_node_id()
        self._hub = _Hub.options(  # type: ignore[attr-defined]
            name=self._hub_name,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=here, soft=False),
        ).remote()

    def _maybe_start_hub(self, now: float) -> None:
        if (
            self._hub is None
            and self._handler is not None
            and self._tasks
            and now - next(iter(self._tasks.values())).submitted >= _HUB_AFTER_S  # the oldest
            and now - self._opened >= _HUB_NOT_BEFORE_S
        ):
            self._start_hub()
        if self._hub is None and any(t.timeout_s for t in self._tasks.values()):
            self._start_hub()  # a timeout counts from the start a worker says: someone must hear it

    def _drain(self, keys: set[int] | None = None, block: bool = True) -> None:
        """Hand the hub's reports to the handler. Without ``block``, only a drain already answered is
        taken (and the next one asked for): the loop never waits on the hub, e.g. while its process
        starts. With it, everything pushed so far is taken (results that pushed come after their
        reports)."""
        if self._hub is None or self._handler is None:
            return
        self._last_drain = time.monotonic()
        earlier, self._drain_ref = self._drain_ref, None
        if not block:
            pending = earlier if earlier is not None else self._hub.drain.remote()
            ready, _ = ray.wait([pending], timeout=0)
            self._drain_ref = self._hub.drain.remote() if ready else pending
            batches = [ray.get(pending)] if ready else []
        else:  # a drain asked earlier, then one for what was pushed since
            batches = [ray.get(earlier)] if earlier is not None else []
            batches.append(ray.get(self._hub.drain.remote()))
        for batch, starts in batches:
            self._on_starts(starts)
            for key, points, log in batch:
                if (key in self._by_key or (keys is not None and key in keys)) and self._handler(
                    key, points, log
                ):
                    self._hub.prune.remote(key)

    def _on_starts(self, starts: list[tuple[int, float]]) -> None:
        """Workers started these trials: their timeouts count from now on (from the worker's clock,
        mapped onto this process's monotonic one)."""
        now, wall = time.monotonic(), time.time()
        for key, at in starts:
            task = self._by_key.get(key)
            if task is None:  # it ended already; its result says when it started
                continue
            if task.timeout_s and task.cancelled_at is None:
                task.deadline = now - max(wall - at, 0.0) + task.timeout_s  # a chunk: its current trial
            self._events.append(TaskStarted(key, datetime.fromtimestamp(at, UTC)))

    # -- tasks ----------------------------------------------------------------------------------------
    def _remote(self, request: ResourceRequest, chunk: bool = False) -> Any:
        cache_key = (
            chunk,
            request.cpus,
            request.gpus,
            request.accelerator_type,
            tuple(sorted(request.custom.items())),
        )
        fn = self._remote_cache.get(cache_key)
        if fn is None:
            opts: dict[str, Any] = {"num_cpus": request.cpus, "num_gpus": request.gpus}
            if request.accelerator_type:
                opts["accelerator_type"] = request.accelerator_type
            if request.custom:
                opts["resources"] = dict(request.custom)
            fn = (_run_chunk if chunk else _run_trial).options(**opts)
            self._remote_cache[cache_key] = fn
        return fn

    def submit(
        self,
        key: int,
        payload: Callable[[Any], Any],
        request: ResourceRequest,
        timeout_s: float | None = None,
    ) -> None:
        ref = self._remote(request).remote(payload, self._channel)
        self._add(_Task(keys=(key,), ref=ref, deadline=math.inf, timeout_s=timeout_s))

    def submit_batch(
        self,
        items: Sequence[tuple[int, Callable[[Any], Any]]],
        request: ResourceRequest,
        timeout_s: float | None = None,
        per_task: int = 1,
    ) -> None:
        per_task = max(1, per_task)
        for i in range(0, len(items), per_task):
            chunk = items[i : i + per_task]
            if len(chunk) == 1:
                self.submit(chunk[0][0], chunk[0][1], request, timeout_s)
                continue
            payloads = tuple(p for _, p in chunk)
            ref = self._remote(request, chunk=True).remote(list(payloads), self._channel)
            self._add(
                _Task(
                    keys=tuple(k for k, _ in chunk),
                    ref=ref,
                    deadline=math.inf,
                    payloads=payloads,
                    request=request,
                    timeout_s=timeout_s,
                )
            )

    def _add(self, task: _Task) -> None:
        self._tasks[task.ref] = task
        for key in task.keys:
            self._by_key[key] = task

    def wait(self, timeout: float) -> list[Event]:
        now = time.monotonic()
        if now - self._last_drain >= _DRAIN_EVERY_S:
            self._maybe_start_hub(now)
            self._drain(block=False)
        self._enforce_deadlines(now)
        if self._events:  # starts first, without waiting: the driver records them
            events, self._events = self._events, []
            return events
        if not self._tasks:
            time.sleep(min(timeout, 0.05))
            return []
        refs = list(self._tasks)
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if not ready:
            return []
        if len(refs) > 1:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        tasks = [self._tasks.pop(ref) for ref in ready]
        for task in tasks:
            for key in task.keys:
                self._by_key.pop(key, None)
        try:
            values: list[Any] | None = ray.get(ready)  # one call for all; a failure falls back per task
        except ray.exceptions.RayError:
            values = None
        out: list[Event] = []
        for i, task in enumerate(tasks):
            out.extend(self._collect(task) if values is None else task.done(values[i]))
        if self._hub is not None and any(getattr(getattr(r, "value", None), "pushed", False) for r in out):
            self._drain(keys={k for t in tasks for k in t.keys})  # reports pushed before returning
        return out

    def _collect(self, task: _Task) -> Sequence[TaskDone | TaskCrashed]:
        try:
            value = ray.get(task.ref)
        except ray.exceptions.RayError as e:
            if task.payloads and not (task.cancelled_at is not None and task.reason is None):
                # a chunk crashed or timed out: give each of its trials a task of its own
                assert task.request is not None
                for key, payload in zip(task.keys, task.payloads, strict=True):
                    self.submit(key, payload, task.request, task.timeout_s)
                return []
            return [TaskCrashed(key, *self._crash_reason(task, e)) for key in task.keys]
        return task.done(value)

    @staticmethod
    def _crash_reason(task: _Task, e: ray.exceptions.RayError) -> tuple[str, bool]:
        if isinstance(e, ray.exceptions.TaskCancelledError):
            return task.reason or "cancelled", task.reason is None
        if isinstance(e, ray.exceptions.WorkerCrashedError):
            return (
                task.reason
                or (
                    "the worker process died while running the trial (segfault, os._exit or out of memory), "
                    "also on its one retry"
                ),
                False,
            )
        if isinstance(e, ray.exceptions.NodeDiedError):
            return "the node running the trial was lost, also on its one retry", False
        if task.reason is not None:
            return task.reason, False
        return f"{type(e).__name__}: {e}", False

    def _enforce_deadlines(self, now: float) -> None:
        for task in list(self._tasks.values()):
            if task.cancelled_at is None and now > task.deadline:
                task.reason = "timed out: trial.timeout elapsed and the task was killed"
                task.cancelled_at = now
                ray.cancel(task.ref, force=True)
            elif task.cancelled_at is not None and now - task.cancelled_at > _FORCE_CANCEL_AFTER_S:
                ray.cancel(task.ref, force=True)

    def cancel(self, key: int) -> None:
        task = self._by_key.get(key)
        if task is None or task.cancelled_at is not None:
            return
        task.cancelled_at = time.monotonic()
        try:
            ray.cancel(task.ref, force=False)
        except (ValueError, TypeError):  # already finished
            pass

    def close(self) -> None:
        if self._hub is not None:
            try:
                ray.kill(self._hub)
            except ValueError:
                pass
            self._hub = None
        if self._started and os.environ.get("HYPERSWEEP_KEEP_RAY") != "1":
            shutdown(fast=not self._tasks)  # with trials still running, Ray's graceful shutdown
