"""The local executor never leaves a trial without an answer: a Ctrl-C inside a trial is a cancelled
task, a cancel is answered at the next ``wait`` without waiting, and a ``BaseException`` from a trial fails
that trial instead of escaping into the driver."""

from __future__ import annotations

from typing import Any

import pytest

from hypersweep.executors import LocalExecutor, ResourceRequest, TaskCrashed, TaskDone

REQ = ResourceRequest()


class Halt(BaseException):
    """What some libraries raise to unwind everything (not an Exception)."""


def _ctrl_c(channel: Any) -> Any:
    raise KeyboardInterrupt


def test_ctrl_c_in_a_trial_is_a_cancelled_task_answered_at_once() -> None:
    ex = LocalExecutor()
    with pytest.raises(KeyboardInterrupt):  # it still reaches the driver, which stops the sweep
        ex.submit_batch([(1, _ctrl_c), (2, lambda ch: "never run")], REQ)
    for key in (1, 2):  # the driver cancels what it has in flight
        ex.cancel(key)
    done = ex.wait(0)
    assert [(r.key, type(r), getattr(r, "cancelled", None)) for r in done] == [
        (1, TaskCrashed, True),
        (2, TaskCrashed, True),
    ]
    assert ex.wait(0) == []


def test_cancel_leaves_a_finished_trial_alone() -> None:
    ex = LocalExecutor()
    ex.submit(1, lambda ch: 42, REQ)
    ex.cancel(1)
    assert ex.wait(0) == [TaskDone(1, 42)]


def test_a_base_exception_fails_that_trial_only() -> None:
    def halts(channel: Any) -> Any:
        raise Halt("stop everything")

    ex = LocalExecutor()
    ex.submit(1, halts, REQ)  # does not raise
    ex.submit(2, lambda ch: 7, REQ)
    crashed, done = ex.wait(0)
    assert isinstance(crashed, TaskCrashed) and not crashed.cancelled and crashed.key == 1
    assert crashed.reason.startswith("the trial raised Halt: stop everything, a BaseException")
    assert "raise Halt" in crashed.reason  # with its traceback, as a failed trial's error has
    assert done == TaskDone(2, 7)
