"""Inline executor: trials run inside the driver process, one at a time, for debugging."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from hypersweep.executors._base import Executor, ReportHandler, ResourceRequest, TaskCrashed, TaskDone

__all__ = ["LocalExecutor"]


class _LocalChannel:
    def __init__(self, handler: ReportHandler | None) -> None:
        self.handler = handler

    def push(self, key: int, points: list[tuple[str, int, float]], log: str = "") -> bool:
        return bool(self.handler(key, points, log)) if self.handler is not None else False

    def placement(self) -> dict[str, Any]:
        return {"node_id": f"local:{socket.gethostname()}", "gpu_ids": ()}


class LocalExecutor(Executor):
    """Runs each payload synchronously in ``submit``; crashes are the driver's crashes and per-trial
    timeouts are not enforced (CONTRACT section 3)."""

    name = "local"

    def __init__(self) -> None:
        self._done: list[TaskDone | TaskCrashed] = []
        self._channel = _LocalChannel(None)

    def check_resources(self, request: ResourceRequest) -> int:
        return 1

    def set_report_handler(self, handler: ReportHandler, sync: bool) -> None:
        self._channel.handler = handler

    def submit(
        self,
        key: int,
        payload: Callable[[Any], Any],
        request: ResourceRequest,
        timeout_s: float | None = None,
    ) -> None:
        self._done.append(TaskDone(key, payload(self._channel)))

    def wait(self, timeout: float) -> list[TaskDone | TaskCrashed]:
        done, self._done = self._done, []
        return done

    def cancel(self, key: int) -> None:
        return None
