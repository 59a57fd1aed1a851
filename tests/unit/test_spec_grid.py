"""grid_points / grid_size on Param tuples directly."""

from __future__ import annotations

import pytest

from hypersweep.spec import Param, active_only, grid_points, grid_size, nest_params


def cat(name, *values, when=()):
    return Param(name, "categorical", "categorical", values=values, when=when)


def test_product_order_first_slowest():
    params = [cat("a", 1, 2), cat("b", "x", "y")]
    assert grid_points(params) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    assert grid_size(params) == 4


def test_float_and_int_steps():
    f = Param("f", "float", "float", low=0.0, high=1.0, step=0.3)
    i = Param("i", "int", "int", low=1, high=3)
    assert [p["f"] for p in grid_points([f])] == [0.0, 0.3, 0.6, 0.9]
    assert [p["i"] for p in grid_points([i])] == [1, 2, 3]
    assert grid_points([Param("g", "float", "float", low=0.0, high=1.0, step=0.5)]) == [{"g": 0.0}, {"g": 0.5}, {"g": 1.0}]  # fmt: skip


def test_not_griddable():
    f = Param("f", "float", "float", low=0.0, high=1.0)
    assert grid_size([cat("a", 1), f]) is None
    with pytest.raises(ValueError, match="'f'"):
        grid_points([f])


def test_conditional_removes_duplicates_and_inactive():
    params = [
        cat("opt", "sgd", "adam"),
        cat("momentum", 0.0, 0.9, when=(("opt", ("sgd",)),)),
        cat("seed", 1, 2),
    ]
    points = grid_points(params)
    assert points == [
        {"opt": "sgd", "momentum": 0.0, "seed": 1},
        {"opt": "sgd", "momentum": 0.0, "seed": 2},
        {"opt": "sgd", "momentum": 0.9, "seed": 1},
        {"opt": "sgd", "momentum": 0.9, "seed": 2},
        {"opt": "adam", "seed": 1},
        {"opt": "adam", "seed": 2},
    ]
    assert grid_size(params) == 6
    assert active_only(params, {"opt": "adam", "momentum": 0.9, "seed": 1}) == {"opt": "adam", "seed": 1}


def test_duplicate_values_collapse():
    assert grid_points([cat("a", 1, 1, [1], [1])]) == [{"a": 1}, {"a": [1]}]


def test_nest_params_uses_paths():
    space = [Param("a.b", "categorical", "categorical", values=(1,), path=("a.b",)), cat("c.d", 2)]
    assert nest_params(space, {"a.b": 1, "c.d": 2}) == {"a.b": 1, "c": {"d": 2}}
