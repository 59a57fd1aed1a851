"""Where trials run: Ray (default) and inline local, behind one ``Executor`` interface."""

from __future__ import annotations

from hypersweep.executors._base import Executor, ReportHandler, ResourceRequest, TaskCrashed, TaskDone
from hypersweep.executors._local import LocalExecutor

__all__ = [
    "Executor",
    "LocalExecutor",
    "RayExecutor",
    "ReportHandler",
    "ResourceRequest",
    "TaskCrashed",
    "TaskDone",
    "make_executor",
]


def make_executor(name: str, *, address: str | None = None, working_dir: str | None = None) -> Executor:
    if name == "local":
        return LocalExecutor()
    from hypersweep.executors._ray import RayExecutor

    return RayExecutor(address=address, working_dir=working_dir)


def __getattr__(name: str) -> object:
    if name == "RayExecutor":  # imported lazily: importing ray costs about a second
        from hypersweep.executors._ray import RayExecutor

        return RayExecutor
    raise AttributeError(name)
