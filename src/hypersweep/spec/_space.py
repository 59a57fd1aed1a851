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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Param", "ParamKind", "flatten", "is_active", "nest"]

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

    def from_quantile(self, u: float) -> Any:
        if self.ppf is None:
            raise TypeError(f"parameter {self.name!r} is not a quantile parameter")
        return self.ppf(u)


def is_active(param: Param, params: Mapping[str, Any]) -> bool:
    """True when every ``when`` condition of ``param`` holds in the (flat) ``params`` chosen so far."""
    for other, allowed in param.when:
        if other not in params or params[other] not in allowed:
            return False
    return True


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
