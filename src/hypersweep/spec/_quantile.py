"""Inverse CDFs of the W&B distributions Optuna cannot express, with W&B's rounding.

A strategy searches ``u`` in (0, 1); :class:`QuantilePPF` maps it to a value exactly as W&B would sample
it (inverse CDF, then rounding to a multiple of ``q`` counted from 0), except that a bounded distribution
always stays inside ``[min, max]`` (the nearest multiple of ``q`` inside). Instances are plain picklable
objects (they travel to Ray workers inside a ``Param``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

__all__ = ["QuantilePPF", "grid_values_q_uniform", "has_multiple_inside"]

_EPS = 1e-12


def _clean(x: float) -> float:
    """Drop float noise from ``k * q`` (0.30000000000000004 -> 0.3)."""
    return float(f"{x:.12g}") if math.isfinite(x) else x


def has_multiple_inside(low: float, high: float, q: float) -> bool:
    return math.ceil(low / q - 1e-9) <= math.floor(high / q + 1e-9)


def grid_values_q_uniform(low: float, high: float, q: float) -> list[Any]:
    """W&B's grid for ``q_uniform``: ``np.arange(min, max, q)`` (max excluded), ints when all are ints."""
    n = max(0, math.ceil((high - low) / q))
    if all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high, q)):
        return [int(low + k * q) for k in range(n)]
    return [_clean(low + k * q) for k in range(n)]


class QuantilePPF:
    """``u`` in (0, 1) -> a value of a W&B distribution (see the module docstring)."""

    def __init__(
        self,
        distribution: str,
        args: Mapping[str, Any],
        *,
        low: float | None = None,
        high: float | None = None,
        values: Sequence[Any] = (),
        probabilities: Sequence[float] = (),
    ) -> None:
        self.distribution = distribution
        self.args = dict(args)
        self.low = low  # value bounds for bounded distributions (legacy exponents already applied)
        self.high = high
        self.values = tuple(values)
        self.cumulative: tuple[float, ...] = ()
        if probabilities:
            acc, cum = 0.0, []
            for p in probabilities:
                acc += float(p)
                cum.append(acc)
            self.cumulative = tuple(c / acc for c in cum) if acc > 0 else ()
        q = args.get("q")
        self.q: float | int | None = q
        self.integer = isinstance(q, int) and not isinstance(q, bool)

    def __repr__(self) -> str:
        return f"QuantilePPF({self.distribution!r}, {self.args!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuantilePPF) and (self.distribution, self.args) == (
            other.distribution,
            other.args,
        )

    def __hash__(self) -> int:
        return hash(self.distribution)

    def raw(self, u: float) -> float:
        d, a = self.distribution, self.args
        if d in ("q_uniform",):
            return float(a["min"]) + u * (float(a["max"]) - float(a["min"]))
        if d == "q_log_uniform":  # legacy: min/max are natural-log exponents
            return math.exp(float(a["min"]) + u * (float(a["max"]) - float(a["min"])))
        if d == "q_log_uniform_values":
            lo, hi = math.log(float(a["min"])), math.log(float(a["max"]))
            return math.exp(lo + u * (hi - lo))
        if d in ("normal", "q_normal", "log_normal", "q_log_normal"):
            mu, sigma = float(a["mu"]), float(a["sigma"])
            x = mu if sigma <= 0 else NormalDist(mu, sigma).inv_cdf(u)
            return math.exp(x) if "log" in d else x
        if d in ("beta", "q_beta"):
            from scipy.special import betaincinv  # lazy: scipy is slow to import

            return float(betaincinv(float(a["a"]), float(a["b"]), u))
        raise ValueError(f"no inverse CDF for distribution {d!r}")  # pragma: no cover

    def __call__(self, u: float) -> Any:
        u = min(max(float(u), _EPS), 1.0 - _EPS)
        if self.distribution == "categorical_w_probabilities":
            for i, c in enumerate(self.cumulative):
                if u < c:
                    return self.values[i]
            return self.values[-1]
        x = self.raw(u)
        q = self.q
        if not q:
            return x
        k = round(x / q)
        if self.low is not None and self.high is not None:
            lo_k = math.ceil(self.low / q - 1e-9)
            hi_k = math.floor(self.high / q + 1e-9)
            if lo_k > hi_k:  # no multiple of q inside [min, max] (the spec warns): stay inside
                return min(max(x, self.low), self.high)
            k = min(max(k, lo_k), hi_k)
        return int(k * q) if self.integer else _clean(k * q)
