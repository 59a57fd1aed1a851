"""Helpers of the stand-in: output to the runner, one-time warnings, number conversion."""

from __future__ import annotations

import json
import math
import sys
import threading
from collections.abc import Mapping
from typing import Any

from .errors import UnsupportedError

__all__ = ["emit", "flatten", "number", "unsupported", "warn", "warn_ignored"]

_LOCK = threading.RLock()
_warned: set[str] = set()

SUPPORTED = (
    "wandb.init, wandb.config, wandb.log, wandb.summary, wandb.run, wandb.finish, wandb.save, "
    "wandb.Artifact, wandb.log_artifact, wandb.log_model"
)


def unsupported(what: str) -> UnsupportedError:
    """The error for a W&B call the capture does not implement."""
    return UnsupportedError(
        f"{what} is not supported: this script runs under hypersweep's offline W&B capture, a stand-in "
        f"`wandb` module that records {SUPPORTED} into the hypersweep store and never contacts W&B. "
        "Remove the call, or run the sweep with the real wandb package "
        "(`hypersweep: {trial: {wandb: off}}` in the sweep file, or `--set trial.wandb=off`)."
    )


def _stderr(text: str) -> None:
    err = sys.stderr or sys.__stderr__
    if err is None:
        return
    try:
        err.write(text + "\n")
        err.flush()
    except (OSError, ValueError):
        pass


def warn(key: str, message: str) -> None:
    """Print ``message`` on stderr the first time ``key`` is seen."""
    with _LOCK:
        if key in _warned:
            return
        _warned.add(key)
    _stderr(f"wandb: WARNING {message}")


def warn_ignored(what: str, why: str = "") -> None:
    """The one warning for an accepted-and-ignored call (``wandb.watch``, ``wandb.Table``, ...)."""
    warn(what, f"{what} is accepted and ignored by hypersweep's offline W&B capture{why}")


def emit(obj: Mapping[str, Any]) -> None:
    """One JSON line on the process's real stdout, where the hypersweep runner reads it."""
    line = json.dumps(dict(obj), default=str)
    out = sys.__stdout__ or sys.stdout
    if out is None:
        return
    with _LOCK:
        out.write(line + "\n")
        out.flush()


def number(value: Any) -> float | str | None:
    """A metric value as the runner reads it: a float, ``"nan"``/``"inf"``/``"-inf"``, or None (not a
    number: media, tables, strings, bools, arrays with more than one element)."""
    if value is None or isinstance(value, bool | str | bytes):
        return None
    if isinstance(value, int | float):
        f = float(value)
    else:
        ndim = getattr(value, "ndim", 0)
        if isinstance(ndim, int) and ndim > 0:
            return None
        if type(value).__name__ == "bool_":  # numpy.bool_
            return None
        try:
            f = float(value)  # numpy / torch / jax scalars
        except (TypeError, ValueError, OverflowError):
            return None
    if math.isfinite(f):
        return f
    return "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts logged to W&B show as ``outer.inner``; so do they here."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out
