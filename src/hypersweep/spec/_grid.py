"""Grid expansion: every valid combination, in a stable order, exactly as W&B expands it.

The first parameter varies slowest (``itertools.product`` over the file's parameter order). A parameter
whose ``when`` conditions fail is absent from the point, and the duplicates this creates are dropped
(the first occurrence keeps its place).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from hypersweep.spec._quantile import grid_values_q_uniform
from hypersweep.spec._space import Param, is_active

__all__ = ["grid_points", "grid_size", "grid_values", "not_griddable_reason"]

_ABSENT = object()


def not_griddable_reason(p: Param) -> str | None:
    """Why ``p`` cannot be part of a grid, or None."""
    if p.kind in ("categorical", "constant"):
        return None
    if p.kind == "int" and p.distribution in ("int", "int_uniform"):
        return "an int with log: true has no grid (drop log, or give values)" if p.log else None
    if p.kind == "float" and p.distribution == "float":
        return (
            None if p.step is not None else "a float without `step` is continuous (add step, or use values)"
        )
    if p.distribution == "q_uniform":
        return None
    return f"{p.distribution} is a disallowed type with grid search (grid needs categorical, constant, int_uniform or q_uniform)"  # fmt: skip


def grid_values(p: Param) -> list[Any]:
    """The values ``p`` takes in a grid (raises ValueError when it has none)."""
    reason = not_griddable_reason(p)
    if reason is not None:
        raise ValueError(f"parameter {p.name!r}: {reason}")
    if p.kind == "categorical":
        return list(p.values)
    if p.kind == "constant":
        return [p.value]
    if p.kind == "int":
        istep = int(p.step or 1)
        return list(range(int(p.low), int(p.high) + 1, istep))  # type: ignore[arg-type]
    if p.kind == "float":
        low, high, fstep = float(p.low), float(p.high), float(p.step)  # type: ignore[arg-type]
        n = math.floor((high - low) / fstep + 1e-9)
        return [float(f"{low + k * fstep:.12g}") for k in range(n + 1)]
    a = p.args
    return grid_values_q_uniform(a["min"], a["max"], a["q"])


def grid_size(params: Sequence[Param]) -> int | None:
    """The number of grid points, or None when some parameter is not griddable."""
    if any(not_griddable_reason(p) is not None for p in params):
        return None
    if not any(p.when for p in params):
        return math.prod(len(grid_values(p)) for p in params)
    return len(grid_points(params))


def grid_points(params: Sequence[Param]) -> list[dict[str, Any]]:
    """Every valid point of the grid, flat dotted names, first parameter slowest.

    Raises ValueError naming the parameter when one is not griddable.
    """
    values = [grid_values(p) for p in params]
    out: list[dict[str, Any]] = []
    seen: set[Any] = set()
    point: dict[str, Any] = {}
    n = len(params)

    def walk(i: int) -> None:
        if i == n:
            key = tuple((k, _freeze(v)) for k, v in point.items())
            if key not in seen:
                seen.add(key)
                out.append(dict(point))
            return
        p = params[i]
        # conditions only name parameters above (the spec checks it), so activity is known here
        if not is_active(p, point):
            walk(i + 1)
            return
        for v in values[i]:
            point[p.name] = v
            walk(i + 1)
        del point[p.name]

    walk(0)
    return out


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ("list", tuple(_freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), _freeze(v)) for k, v in value.items())))
    return (type(value).__name__, value)
