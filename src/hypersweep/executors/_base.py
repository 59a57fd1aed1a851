"""The ``Executor`` interface: where trials run.

An executor runs opaque payloads (``payload(channel) -> result``) with a resource request and hands
back results as they finish, in any order. A trial that raises, crashes or is killed is data (a
:class:`TaskCrashed` outcome), not an exception; only an executor that cannot work at all raises
``ExecutorError``.

An executor whose tasks may wait in a queue before a worker takes them (``reports_starts``) also hands
back a :class:`TaskStarted` when a worker starts one, with the worker's clock: the driver records the
trial ``waiting`` until then, and ``trial.timeout`` counts from that start, not from submission.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Event", "Executor", "ReportHandler", "ResourceRequest", "TaskCrashed", "TaskDone", "TaskStarted"]

# (key, points, log text) -> True when the trial should be pruned
ReportHandler = Callable[[int, list[tuple[str, int, float]], str], bool]


@dataclass(frozen=True)
class ResourceRequest:
    cpus: float = 1.0
    gpus: float = 0.0
    accelerator_type: str | None = None
    custom: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskDone:
    key: int
    value: Any  # what the payload returned


@dataclass(frozen=True)
class TaskCrashed:
    key: int
    reason: str  # the worker died, the node was lost, the task was cancelled or timed out
    cancelled: bool = False


@dataclass(frozen=True)
class TaskStarted:
    key: int
    at: datetime  # when the worker started the trial, on the worker's clock (UTC)


Event = TaskDone | TaskCrashed | TaskStarted


class Executor(abc.ABC):
    name: str
    reports_starts: bool = False  # True: ``wait`` also gives a TaskStarted when a queued task starts

    @abc.abstractmethod
    def check_resources(self, request: ResourceRequest) -> int:
        """How many trials with this request fit at once on the cluster (at least 1); raises
        ``InsufficientResourcesError`` naming what is missing when no node can ever run one."""

    @abc.abstractmethod
    def set_report_handler(self, handler: ReportHandler, sync: bool) -> None:
        """Where intermediate reports go; ``sync``: a pruner listens, so every report is sent at once."""

    @abc.abstractmethod
    def submit(
        self,
        key: int,
        payload: Callable[[Any], Any],
        request: ResourceRequest,
        timeout_s: float | None = None,
    ) -> None: ...

    def submit_batch(
        self,
        items: Sequence[tuple[int, Callable[[Any], Any]]],
        request: ResourceRequest,
        timeout_s: float | None = None,
        per_task: int = 1,
    ) -> None:
        """Submit several trials. An executor may run up to ``per_task`` of them one after another in one
        task (very short trials: one scheduling round trip for several); results still come back one per
        key. The default submits each on its own."""
        for key, payload in items:
            self.submit(key, payload, request, timeout_s)

    @abc.abstractmethod
    def wait(self, timeout: float) -> list[Event]:
        """Results of tasks that finished, as they come (possibly none before ``timeout``); with
        ``reports_starts``, also the starts of queued tasks (a start comes before its task's result)."""

    @abc.abstractmethod
    def cancel(self, key: int) -> None:
        """Stop a running task; it comes back from ``wait`` as cancelled."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release what the executor started."""
