"""``wandb.plot`` of hypersweep's offline W&B stand-in: every chart is accepted and ignored."""

from __future__ import annotations

from typing import Any

from ._util import warn_ignored

__all__: list[str] = []


class _Chart:
    """What ``wandb.plot.*`` returns here: logged, it is ignored (charts are not metrics)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(f"module 'wandb.plot' has no attribute {name!r}")

    def chart(*args: Any, **kwargs: Any) -> _Chart:
        warn_ignored(f"wandb.plot.{name}", " (charts are not recorded)")
        return _Chart(name)

    chart.__name__ = name
    return chart
