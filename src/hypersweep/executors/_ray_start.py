"""Joining or starting Ray, early and in the background, so the first trial starts sooner.

Importing Ray, starting a local Ray (its GCS and raylet processes) or joining a cluster, shipping the
working directory and starting a worker process for it take seconds, most of them spent waiting on other
processes. ``prestart`` begins all of that in a thread while the driver opens the store, records the study
and builds its strategy; ``RayExecutor`` then takes the Ray it started (``take``) instead of starting one.
Ray itself starts the job's first workers (with its working directory) as the driver joins, so nothing
else is started beside them: a warm-up task, or the report hub, started in those seconds got a worker
process of its own that competed with them for the CPU and delayed the first trial.

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

__all__ = ["init_kwargs", "prestart", "shutdown", "start", "take"]

_lock = threading.Lock()
# The interpreter's switch interval while the early ``ray.init`` runs beside the driver's imports. Joining
# a cluster is many short RPCs, and after each the starting thread waits for the GIL while the main thread
# imports (CPU-bound) for up to the default 5 ms: joining took 0.5 to 1.8 s instead of 0.1 s.
_START_SWITCH_INTERVAL_S = 0.0002


class _Early:
    """One early start: its ``ray.init`` arguments, its thread, and how it went."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs
        self.thread = threading.Thread(target=self._run, name="hypersweep-ray-start", daemon=True)
        self.done = threading.Event()  # the start ended, started or failed
        self.error: BaseException | None = None
        self.started = False

    def _run(self) -> None:
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, _START_SWITCH_INTERVAL_S))
        try:
            _init(self.kwargs)
        except BaseException as e:  # noqa: BLE001 - handed to the executor, which raises it in the driver
            self.error = e
            self.done.set()
            return
        finally:
            sys.setswitchinterval(interval)
        self.started = True
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


def prestart(kwargs: dict[str, Any]) -> None:
    """Begin ``ray.init(**kwargs)`` in a daemon thread unless Ray runs already or is being started."""
    with _lock:
        if _early:
            return
        ray = sys.modules.get("ray")  # not imported: certainly not started (and importing it takes a while)
        if ray is not None and ray.is_initialized():
            return
        # Ray is imported here, before the thread starts, not in it: the import is CPU-bound Python
        # (0.8 s), and beside the driver's own imports it shared the GIL with them and took twice as long,
        # while the start, the job's workers and so the first trial waited on it. ``ray.init`` itself is
        # mostly waiting, and runs beside them well.
        import ray  # noqa: F401

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


def shutdown(*, fast: bool) -> None:
    """``ray.shutdown()``. With ``fast`` (no task runs any more), the processes of a Ray this driver
    started for itself are killed at once: Ray's own shutdown ends them one after another, each given a
    second to exit on SIGTERM, and the GCS and the raylet do not exit within it (1.3 s of a 1.6 s shutdown
    measured here; 0.4 s in all this way). They hold nothing of the sweep's: the store has every result,
    and the raylet's workers end with it. A driver that only joined a cluster has no such processes."""
    import ray

    node = _private_node() if fast else None
    if node is not None:
        kill = node.kill_all_processes

        def kill_at_once(*args: Any, **kwargs: Any) -> Any:
            kwargs["allow_graceful"] = False
            return kill(*args, **kwargs)

        node.kill_all_processes = kill_at_once  # this instance only: it is dropped by the shutdown
    ray.shutdown()


def _private_node() -> Any:
    """The node of a Ray this process started (Ray's private ``_global_node``), or None: another Ray
    release may name it otherwise, and then the shutdown is Ray's own."""
    try:
        from ray._private import worker
    except ImportError:
        return None
    node = getattr(worker, "_global_node", None)
    if node is None or not callable(getattr(node, "kill_all_processes", None)):
        return None
    return node if getattr(node, "all_processes", None) else None
