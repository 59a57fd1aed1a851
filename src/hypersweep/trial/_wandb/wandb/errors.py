"""``wandb.errors`` of hypersweep's offline W&B stand-in."""

from __future__ import annotations

__all__ = ["CommError", "ConfigError", "Error", "UnsupportedError", "UsageError"]


class Error(Exception):
    """Base class of the stand-in's errors (``wandb.Error``, as in W&B)."""


class UsageError(Error):
    """A call the stand-in refuses, as W&B would (for example ``wandb.log`` before ``wandb.init``)."""


class ConfigError(Error):
    """A change of a config value without ``allow_val_change=True`` (W&B raises the same)."""


class CommError(Error):
    """Kept for scripts that catch it; the stand-in never communicates, so never raises it."""


class UnsupportedError(Error, AttributeError):
    """A part of the W&B API that hypersweep's offline capture does not implement."""
