"""Joining or starting Ray, early and in the background, so the first trial starts sooner.

Importing Ray, starting a local Ray (its GCS and raylet processes) or joining a cluster, shipping the
working directory and starting a worker process for it take seconds, most of them spent waiting on other
processes. ``prestart`` begins all of that in a thread while the driver opens the store, records the study
and builds its strategy; ``RayExecutor`` then takes the Ray it started (``take``) instead of starting one.
A worker is warmed with a task that needs no CPU (it captures the worker's environment, which the first
result sends), so the first trial finds a worker with the job's working directory already unpacked.

The starting thread never ends (it is a daemon, so it does not hold the process): a local Ray's GCS and
raylet are started with ``PR_SET_PDEATHSIG``, which fires when the *thread* that forked them exits, not
the process; a thread that returned after ``ray.init`` took its Ray down with it ("Failed to connect to
GCS within 60 seconds").
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
from typing import Any

__all__ = ["init_kwargs", "prestart", "start", "take"]

_lock = threading.Lock()


class _Early:
    """One early start: its ``ray.init`` arguments, its thread, and how it went."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs
        self.thread = threading.Thread(target=self._run, name="hypersweep-ray-start", daemon=True)
        self.done = threading.Event()  # the start ended, started or failed
        self.error: BaseException | None = None
        self.started = False
        self.warm: Any = None  # the warm-up task's ref (kept so Ray does not drop it)

    def _run(self) -> None:
        try:
            _init(self.kwargs)
        except BaseException as e:  # noqa: BLE001 - handed to the executor, which raises it in the driver
            self.error = e
            self.done.set()
            return
        self.started = True
        try:
            import ray

            self.warm = ray.remote(num_cpus=0, max_retries=0)(_warm).remote()
        except Exception:  # noqa: BLE001 - a warm worker is an optimisation only
            pass
        self.done.set()
        threading.Event().wait()  # stay: Ray's processes die with the thread that started them


_early: list[_Early] = []  # at most one, not yet taken


def init_kwargs(
    address: str | None,
    working_dir: str | None,
    num_cpus: int | None,
    store_url: str | None,
    artifact_root: str | None,
) -> dict[str, Any]:
    """The arguments of ``ray.init`` for an executor (without ``runtime_env``'s content, which is
    computed when Ray is started: it walks the working directory)."""
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "logging_level": logging.WARNING,
        "configure_logging": True,
    }
    if address:
        kwargs["address"] = address
        if working_dir:
            kwargs["runtime_env"] = (working_dir, store_url, artifact_root)
    elif not os.environ.get("RAY_ADDRESS"):
        # a Ray of our own, private to this driver, never a cluster some `ray start` left behind
        kwargs["address"] = "local"
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        if num_cpus is not None:
            kwargs["num_cpus"] = num_cpus
    return kwargs


def _init(kwargs: dict[str, Any]) -> None:
    import ray

    from hypersweep.executors._shipping import working_dir_env

    real = dict(kwargs)
    if "runtime_env" in real:
        real["runtime_env"] = working_dir_env(*real["runtime_env"])
    ray.init(**real)


def _warm() -> None:
    from hypersweep.provenance import capture_environment

    capture_environment()


def prestart(kwargs: dict[str, Any]) -> None:
    """Begin ``ray.init(**kwargs)`` in a daemon thread unless Ray runs already or is being started."""
    with _lock:
        if _early:
            return
        ray = sys.modules.get("ray")  # not imported: certainly not started (and importing it takes a while)
        if ray is not None and ray.is_initialized():
            return
        _main_thread_sigterm()
        early = _Early(kwargs)
        _early.append(early)
        atexit.register(_at_exit)
        early.thread.start()


class _NoSigtermNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "SIGTERM handler is not set" not in record.getMessage()


def _main_thread_sigterm() -> None:
    """What ``ray.init`` does in the main thread, done here since it runs in another: SIGTERM ends the
    driver through ``sys.exit`` (so exit handlers, Ray's shutdown among them, run). Ray's notice that it
    could not do so itself is dropped."""
    logging.getLogger("ray._private.worker").addFilter(_NoSigtermNotice())
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) in (
        signal.SIG_DFL,
        None,
    ):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(signum))


def _at_exit() -> None:
    """A run that failed before its executor took the early Ray (a resume conflict, a bad store) still
    leaves no Ray processes behind: wait for the start, then shut it down."""
    with _lock:
        early = _early.pop() if _early else None
    if early is None:
        return
    early.done.wait(timeout=120)
    if early.started:
        import ray

        ray.shutdown()


def take(kwargs: dict[str, Any]) -> bool | None:
    """Wait for an early start and take it: True when it started Ray for these ``kwargs`` (the executor
    then owns it), None when there was none or it was for other arguments (the executor starts Ray
    itself). Its error is raised."""
    with _lock:
        early = _early.pop() if _early else None
    if early is None:
        return None
    early.done.wait()
    if early.error is not None:
        raise early.error
    if early.kwargs != kwargs:  # started for another cluster or working directory: start again
        logging.getLogger(__name__).debug("Ray was started early with other arguments; restarting it")
        if early.started:
            import ray

            ray.shutdown()
        return None
    return early.started


def start(kwargs: dict[str, Any]) -> None:
    """``ray.init`` now, in this thread."""
    _init(kwargs)
