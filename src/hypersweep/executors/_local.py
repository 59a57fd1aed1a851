"""Inline executor: trials run inside the driver process, one at a time, for debugging."""

from __future__ import annotations

import socket
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hypersweep.executors._base import Event, Executor, ReportHandler, ResourceRequest, TaskCrashed, TaskDone

__all__ = ["LocalExecutor"]

_TRACEBACK_TAIL = 4000


class _LocalChannel:
    def __init__(self, handler: ReportHandler | None) -> None:
        self.handler = handler

    def push(self, key: int, points: list[tuple[str, int, float]], log: str = "") -> bool:
        return bool(self.handler(key, points, log)) if self.handler is not None else False

    def placement(self) -> dict[str, Any]:
        return {"node_id": f"local:{socket.gethostname()}", "gpu_ids": ()}

    def started(self, key: int, at: datetime) -> None:
        """Nothing to say: a trial runs inside ``submit``, recorded running from its creation."""


def _base_exception_text(e: BaseException) -> str:
    """The error of a trial that raised a ``BaseException`` that is not an ``Exception``."""
    text = "".join(traceback.format_exception(e))
    if len(text) > _TRACEBACK_TAIL:
        text = "...\n" + text[-_TRACEBACK_TAIL:]
    what = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    return (
        f"the trial raised {what}, a BaseException that is not an Exception "
        f"(raise an Exception subclass to fail a trial)\n{text}"
    )


class LocalExecutor(Executor):
    """Runs each payload synchronously in ``submit``; crashes are the driver's crashes and per-trial
    timeouts are not enforced (docs/semantics.md section 3).

    A trial is done when ``submit`` returns, so nothing is ever left running: a Ctrl-C during a trial
    makes it a cancelled task (interrupted) and the ``KeyboardInterrupt`` goes on to the driver; a
    ``cancel`` of a trial without a result (its Ctrl-C, or a trial of a batch that never started) is
    answered at the next ``wait``, without waiting. Any other ``BaseException`` from the trial (the
    payload itself turns ``Exception`` and ``SystemExit`` into results) fails that trial, with the
    exception in its error, and the sweep goes on.
    """

    name = "local"

    def __init__(self) -> None:
        self._done: list[Event] = []
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
        try:
            value = payload(self._channel)
        except KeyboardInterrupt:
            self._done.append(TaskCrashed(key, "interrupted by Ctrl-C", cancelled=True))
            raise
        except BaseException as e:  # noqa: BLE001 - a trial's BaseException fails that trial, not the driver
            self._done.append(TaskCrashed(key, _base_exception_text(e)))
            return
        self._done.append(TaskDone(key, value))

    def wait(self, timeout: float) -> list[Event]:
        done, self._done = self._done, []
        return done

    def cancel(self, key: int) -> None:
        if not any(r.key == key for r in self._done):
            self._done.append(TaskCrashed(key, "cancelled", cancelled=True))
