"""The search space as the rest of hypersweep sees it: a flat tuple of :class:`Param`.

Native parameters and every W&B distribution normalise to five kinds:

* ``float``: ``low``..``high`` (inclusive), optional ``log``, optional ``step`` (points ``low + k*step``);
* ``int``: ``low``..``high`` inclusive, optional ``log``, optional ``step``;
* ``categorical``: ``values`` (any YAML values, lists included), optional ``probabilities``;
* ``constant``: ``value``;
* ``quantile``: a distribution Optuna cannot express (W&B normal, log_normal, beta, their q-forms,
  q_uniform and friends, categorical_w_probabilities). Strategies search ``u`` in (0, 1) and map it with
  :meth:`Param.from_quantile`, which applies the inverse CDF, W&B's rounding and clamping.

Nested W&B parameters have dotted names (``optimizer.lr``); :func:`nest` rebuilds the nested dict that
a trial receives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Param", "ParamKind", "active_only", "flatten", "is_active", "nest", "nest_params"]

ParamKind = Literal["float", "int", "categorical", "constant", "quantile"]


@dataclass(frozen=True)
class Param:
    name: str
    kind: ParamKind
    distribution: str  # the name the user wrote: "float", "int", "q_uniform", "normal", ...
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    values: tuple[Any, ...] = ()
    probabilities: tuple[float, ...] | None = None
    value: Any = None
    # when: parameter name -> allowed values; active when every named parameter has one of its values
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    # for kind == "quantile": u in (0, 1) -> value (inverse CDF, rounding, clamping)
    ppf: Callable[[float], Any] | None = field(default=None, compare=False, repr=False)
    # the normalised distribution arguments, for display (`validate`) and resume comparison
    args: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # where a W&B parameter sits in the nested config; empty means ``name.split(".")``. Differs only for a
    # W&B name that itself contains a dot (``optimizer.lr: {...}`` at the top level, as Hydra users write)
    path: tuple[str, ...] = ()

    @property
    def key_path(self) -> tuple[str, ...]:
        return self.path or tuple(self.name.split("."))

    def from_quantile(self, u: float) -> Any:
        if self.ppf is None:
            raise TypeError(f"parameter {self.name!r} is not a quantile parameter")
        return self.ppf(u)


def is_active(param: Param, params: Mapping[str, Any]) -> bool:
    """True when every ``when`` condition of ``param`` holds in the (flat) ``params`` chosen so far."""
    return all(other in params and params[other] in allowed for other, allowed in param.when)


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"optimizer.lr": 1}`` -> ``{"optimizer": {"lr": 1}}``."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def flatten(nested: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Inverse of :func:`nest` for dicts of dicts."""
    out: dict[str, Any] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def nest_params(space: Sequence[Param], flat: Mapping[str, Any]) -> dict[str, Any]:
    """Like :func:`nest`, but places each parameter by its :attr:`Param.key_path` (exact W&B nesting)."""
    paths = {p.name: p.key_path for p in space}
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = paths.get(key) or tuple(key.split("."))
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def active_only(space: Sequence[Param], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without the parameters whose ``when`` conditions fail (evaluated in space order)."""
    out: dict[str, Any] = {}
    for p in space:
        if p.name in values and is_active(p, out):
            out[p.name] = values[p.name]
    return out
