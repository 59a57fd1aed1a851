"""Grid expansion: every valid combination, in a stable order, exactly as W&B expands it.

The first parameter varies slowest (``itertools.product`` over the file's parameter order). A parameter
whose ``when`` conditions fail is absent from the point, and the duplicates this creates are dropped
(the first occurrence keeps its place).

Sizes are computed arithmetically (:func:`grid_size` never builds a range it does not need), and
:func:`grid_points` refuses grids above :data:`MAX_GRID_POINTS` (see docs/sweep-file.md, "Limits").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from hypersweep.spec._quantile import grid_values_q_uniform
from hypersweep.spec._space import Param, is_active

__all__ = [
    "MAX_GRID_POINTS",
    "grid_points",
    "grid_size",
    "grid_values",
    "not_griddable_reason",
    "value_count",
]

MAX_GRID_POINTS = 1_000_000  # a grid is expanded in memory: a point is a dict, about 0.5 KB


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


def _raw_count(p: Param) -> int:
    """How many values :func:`grid_values` lists for ``p``, by arithmetic (duplicates included)."""
    if p.kind == "categorical":
        return len(p.values)
    if p.kind == "constant":
        return 1
    if p.kind == "int":
        return (int(p.high) - int(p.low)) // int(p.step or 1) + 1  # type: ignore[arg-type]
    if p.kind == "float":
        low, high, fstep = float(p.low), float(p.high), float(p.step)  # type: ignore[arg-type]
        return math.floor((high - low) / fstep + 1e-9) + 1
    a = p.args
    return max(0, math.ceil((a["max"] - a["min"]) / a["q"]))


def value_count(p: Param) -> int:
    """The number of distinct values ``p`` takes in a grid, without building a long range.

    Raises ValueError when ``p`` is not griddable.
    """
    reason = not_griddable_reason(p)
    if reason is not None:
        raise ValueError(f"parameter {p.name!r}: {reason}")
    n = _raw_count(p)
    if n > MAX_GRID_POINTS or p.kind in ("int", "constant"):
        return n  # int ranges hold no duplicates; past the limit the exact figure does not matter
    return len({_freeze(v) for v in grid_values(p)})


def grid_values(p: Param) -> list[Any]:
    """The values ``p`` takes in a grid (raises ValueError when it has none, or more than the limit)."""
    reason = not_griddable_reason(p)
    if reason is not None:
        raise ValueError(f"parameter {p.name!r}: {reason}")
    if _raw_count(p) > MAX_GRID_POINTS:
        raise ValueError(f"parameter {p.name!r} has more than {MAX_GRID_POINTS:,} grid values")
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


def grid_size(params: Sequence[Param], cap: int | None = None) -> int | None:
    """The number of grid points, or None when some parameter is not griddable.

    Computed arithmetically. With ``cap``, counting stops once the count is known to exceed it: the result
    is then some number above ``cap`` (a grid with ``when`` conditions is counted branch by branch, and
    every branch holds at least one point, so this takes at most ``cap`` steps).
    """
    if any(not_griddable_reason(p) is not None for p in params):
        return None
    counts = [value_count(p) for p in params]
    if not any(p.when for p in params):
        return math.prod(counts)
    # branch only on the parameters a later `when` names; the others multiply
    named = {other for p in params for other, _ in p.when}
    total = 0
    point: dict[str, Any] = {}

    def walk(i: int, factor: int) -> bool:  # False: stop, the cap is exceeded
        nonlocal total
        if i == len(params):
            total += factor
            return cap is None or total <= cap
        p = params[i]
        if not is_active(p, point):
            return walk(i + 1, factor)
        if p.name not in named:
            return walk(i + 1, factor * counts[i])
        seen: set[Any] = set()
        for v in grid_values(p):
            if _freeze(v) in seen:
                continue
            seen.add(_freeze(v))
            point[p.name] = v
            if not walk(i + 1, factor):
                return False
        del point[p.name]
        return True

    walk(0, 1)
    return total


def grid_points(params: Sequence[Param]) -> list[dict[str, Any]]:
    """Every valid point of the grid, flat dotted names, first parameter slowest.

    Raises ValueError naming the parameter when one is not griddable, or when the grid has more than
    :data:`MAX_GRID_POINTS` points.
    """
    size = grid_size(params, cap=MAX_GRID_POINTS)
    if size is not None and size > MAX_GRID_POINTS:
        raise ValueError(f"the grid has more than {MAX_GRID_POINTS:,} points")
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
