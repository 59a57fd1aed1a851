"""Where trials run: Ray (default) and inline local, behind one ``Executor`` interface."""

from __future__ import annotations

from hypersweep.executors._base import (
    Event,
    Executor,
    ReportHandler,
    ResourceRequest,
    TaskCrashed,
    TaskDone,
    TaskStarted,
)
from hypersweep.executors._local import LocalExecutor

__all__ = [
    "Event",
    "Executor",
    "LocalExecutor",
    "RayExecutor",
    "ReportHandler",
    "ResourceRequest",
    "TaskCrashed",
    "TaskDone",
    "TaskStarted",
    "make_executor",
    "prestart_executor",
]


def make_executor(
    name: str,
    *,
    address: str | None = None,
    working_dir: str | None = None,
    store_url: str | None = None,
    artifact_root: str | None = None,
) -> Executor:
    """``working_dir`` is shipped to a cluster at ``address``, less the store's files and the artifact
    root (never shipped, see docs/security.md)."""
    if name == "local":
        return LocalExecutor()
    from hypersweep.executors._ray import RayExecutor

    return RayExecutor(
        address=address, working_dir=working_dir, store_url=store_url, artifact_root=artifact_root
    )


def prestart_executor(
    name: str,
    *,
    address: str | None = None,
    working_dir: str | None = None,
    store_url: str | None = None,
    artifact_root: str | None = None,
) -> None:
    """Begin starting the executor ``make_executor`` will be asked for with these arguments, in the
    background, while the caller does other work (Ray: import, then start or join)."""
    if name != "ray":
        return
    from hypersweep.executors._ray_start import init_kwargs, prestart

    prestart(init_kwargs(address, working_dir, None, store_url, artifact_root))


def __getattr__(name: str) -> object:
    if name == "RayExecutor":  # imported lazily: importing ray costs about a second
        from hypersweep.executors._ray import RayExecutor

        return RayExecutor
    raise AttributeError(name)
