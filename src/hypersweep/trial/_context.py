"""The trial-side API: ``report``, ``trial_seed``, ``current_trial``, ``log_artifact``.

Inside a function trial these talk to the runner through a context variable. Inside a command trial
(a separate process) they print JSON lines on stdout, which the command runner reads. Outside any
sweep they warn once and do nothing, so the same script runs by hand.
"""

from __future__ import annotations

import contextvars
import json
import math
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypersweep.errors import Pruned

__all__ = ["TrialContext", "TrialInfo", "current_trial", "log_artifact", "report", "trial_seed"]

# push(points, log text) -> True when the trial should stop (pruned)
PushFn = Callable[[list[tuple[str, int, float]], str], bool | None]
_UNSENT_LOG_CHARS = 64_000  # output kept for a driver that does not listen yet (the tail)


@dataclass(frozen=True)
class TrialInfo:
    """What a running trial knows about itself."""

    study: str
    number: int | None
    params: Mapping[str, Any]
    seed: int


@dataclass
class TrialContext:
    info: TrialInfo
    push: PushFn | None  # None: nothing listens between flushes (reports go back with the result)
    sync: bool  # True when a pruner may stop the trial: every report is sent at once
    flush_every_s: float = 1.0
    pending: list[tuple[str, int, float]] = field(default_factory=list)
    last: dict[str, float] = field(default_factory=dict)
    last_flush: float = field(default_factory=time.monotonic)
    artifacts: list[tuple[str, str]] = field(default_factory=list)
    pruned: bool = False
    artifact_root: str | None = None  # where artifacts and checkpoints go (fsspec URL or folder)
    trial_key: str = ""  # the trial's folder under the root: its number, or rerun-<id>
    uploaded: list[Any] = field(default_factory=list)  # ArtifactRecords already uploaded (checkpoints)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    log_pending: list[str] = field(default_factory=list)
    pushed: bool = False  # something went to the driver before the result (it must drain first)

    def add(self, step: int, metrics: Mapping[str, Any]) -> None:
        with self.lock:
            for name, value in metrics.items():
                v = _number(name, value)
                self.pending.append((name, step, v))
                self.last[name] = v
        now = time.monotonic()
        if self.push is not None and (self.sync or now - self.last_flush >= self.flush_every_s):
            self.flush()
        if self.pruned:
            raise Pruned(f"trial pruned at step {step}")

    def add_points(self, points: list[tuple[str, int, float]]) -> None:
        """Points from another thread (the system monitor); they do not become final metrics."""
        with self.lock:
            self.pending.extend(points)
        if self.push is not None and time.monotonic() - self.last_flush >= self.flush_every_s:
            self.flush()

    def add_log(self, text: str) -> None:
        """Output of the trial: streamed to the driver with the reports (``hypersweep logs --follow``)."""
        if self.push is None:
            return
        with self.lock:
            self.log_pending.append(text)
        if time.monotonic() - self.last_flush >= self.flush_every_s:
            self.flush()

    def flush(self) -> None:
        self.last_flush = time.monotonic()
        with self.lock:
            if self.push is None or not (self.pending or self.log_pending):
                return
            points, self.pending = self.pending, []
            log, self.log_pending = "".join(self.log_pending), []
        answer = self.push(points, log)
        if answer is None:  # nobody listens yet: keep them for the next flush or the result
            with self.lock:
                self.pending[:0] = points
                if log:
                    self.log_pending[:] = [(log + "".join(self.log_pending))[-_UNSENT_LOG_CHARS:]]
            return
        self.pushed = True
        if answer:
            self.pruned = True

    def take_pending(self) -> list[tuple[str, int, float]]:
        with self.lock:
            points, self.pending = self.pending, []
        return points


_CURRENT: contextvars.ContextVar[TrialContext | None] = contextvars.ContextVar(
    "hypersweep_trial", default=None
)
_warned: set[str] = set()


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)  # numpy scalars, torch scalars via __float__
        except (TypeError, ValueError):
            raise TypeError(f"metric {name!r} must be a number, got {type(value).__name__}") from None
    return float(value)


def _step(step: Any) -> int | None:
    """``step`` as an int when it is an integer (or an integral float) in [0, 2**63), else None."""
    if isinstance(step, bool):
        return None
    if isinstance(step, float):
        if not step.is_integer():
            return None
        step = int(step)
    if not isinstance(step, int):
        try:
            step = int(step.__index__())
        except (AttributeError, TypeError):
            return None
    return step if 0 <= step < 2**63 else None


def _warn_once(what: str) -> None:
    if what not in _warned:
        _warned.add(what)
        warnings.warn(f"hypersweep.{what}() called outside a sweep: ignored", stacklevel=3)


def _in_command_trial() -> bool:
    return "HYPERSWEEP_TRIAL_NUMBER" in os.environ and _CURRENT.get() is None


def set_context(ctx: TrialContext | None) -> contextvars.Token:
    return _CURRENT.set(ctx)


def reset_context(token: contextvars.Token) -> None:
    _CURRENT.reset(token)


def report(step: int, **metrics: float) -> None:
    """Record intermediate metrics at ``step``; raises :class:`hypersweep.Pruned` when the pruner
    decides the trial should stop. The last reported value of each metric is its final value unless
    the trial returns another."""
    checked = _step(step)
    if checked is None:
        warnings.warn(
            f"hypersweep.report(): step {step!r} is not an integer in [0, 2**63): this report is ignored",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    ctx = _CURRENT.get()
    if ctx is not None:
        ctx.add(checked, metrics)
        return
    if _in_command_trial():
        line = {"step": checked}
        for k, v in metrics.items():
            f = _number(k, v)
            line[k] = f if math.isfinite(f) else str(f)  # type: ignore[assignment]
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        return
    _warn_once("report")


def trial_seed() -> int | None:
    """The trial's seed (derived from the study seed and the params), or None outside a sweep."""
    ctx = _CURRENT.get()
    if ctx is not None:
        return ctx.info.seed
    if "HYPERSWEEP_SEED" in os.environ:
        return int(os.environ["HYPERSWEEP_SEED"])
    _warn_once("trial_seed")
    return None


def current_trial() -> TrialInfo | None:
    """Number, study, params and seed of the running trial, or None outside a sweep."""
    ctx = _CURRENT.get()
    if ctx is not None:
        return ctx.info
    if _in_command_trial():
        return TrialInfo(
            study=os.environ.get("HYPERSWEEP_STUDY", ""),
            number=int(os.environ["HYPERSWEEP_TRIAL_NUMBER"]),
            params=json.loads(os.environ.get("HYPERSWEEP_PARAMS", "{}")),
            seed=int(os.environ.get("HYPERSWEEP_SEED", "0")),
        )
    _warn_once("current_trial")
    return None


def log_artifact(path: str | os.PathLike[str], name: str | None = None) -> None:
    """Record a file produced by the trial (stored with the trial once artifact storage is enabled)."""
    ctx = _CURRENT.get()
    p = os.fspath(path)
    if ctx is not None:
        ctx.artifacts.append((name or os.path.basename(p), os.path.abspath(p)))
        return
    if _in_command_trial():
        sys.stdout.write(json.dumps({"hypersweep_artifact": os.path.abspath(p), "name": name}) + "\n")
        sys.stdout.flush()
        return
    _warn_once("log_artifact")
