"""Pareto ranks of a study's trials: a small non-dominated sort (no Optuna: it lives in strategies, and its
own sort is private API).

A trial's rank is 1 on the non-dominated front, 2 on the front once rank 1 is removed, and so on. Equal
value vectors never dominate each other, so they share a rank. With one objective the ranks are the
dense ranks of the values (rank 1 = the best value, ties included), so ``--pareto`` keeps the best
trial(s) of any study.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypersweep.records import Direction, TrialRecord, TrialState

__all__ = ["losses", "pareto_ranks", "trial_ranks"]


def losses(values: Sequence[float | None], directions: Sequence[Direction]) -> tuple[float, ...] | None:
    """The values as losses (lower is better), or None when one is missing or not finite."""
    if len(values) != len(directions) or not directions:
        return None
    out = []
    for v, d in zip(values, directions, strict=True):
        if v is None or v != v or v in (float("inf"), float("-inf")):
            return None
        out.append(-float(v) if d is Direction.MAXIMIZE else float(v))
    return tuple(out)


def _dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def pareto_ranks(points: Sequence[Sequence[float]]) -> list[int]:
    """The 1-based non-domination rank of each loss vector (lower is better in every coordinate)."""
    n = len(points)
    if n == 0:
        return []
    dims = len(points[0])
    if dims == 1:
        distinct = sorted({p[0] for p in points})
        dense = {v: i + 1 for i, v in enumerate(distinct)}
        return [dense[p[0]] for p in points]
    if dims == 2:
        return _ranks_2d(points)
    return _ranks_peeling(points)


def _ranks_2d(points: Sequence[Sequence[float]]) -> list[int]:
    """Two objectives: sweep the points in (f1, f2) order; a point joins the first front with no point
    dominating it. Each front keeps its lowest f2 and the lowest f1 that reached it."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    fronts: list[tuple[float, float]] = []  # (min f2, f1 of the first point reaching it)
    ranks = [0] * len(points)
    for i in order:
        f1, f2 = points[i][0], points[i][1]
        k = 0
        while k < len(fronts):
            m2, m1 = fronts[k]
            if not (m2 < f2 or (m2 == f2 and m1 < f1)):
                break  # no point of front k dominates this one
            k += 1
        if k == len(fronts):
            fronts.append((f2, f1))
        elif f2 < fronts[k][0]:
            fronts[k] = (f2, f1)
        ranks[i] = k + 1
    return ranks


def _ranks_peeling(points: Sequence[Sequence[float]]) -> list[int]:
    """Three or more objectives: peel fronts off (quadratic per front; studies are small enough)."""
    remaining = list(range(len(points)))
    ranks = [0] * len(points)
    rank = 0
    while remaining:
        rank += 1
        front = [
            i for i in remaining if not any(_dominates(points[j], points[i]) for j in remaining if j != i)
        ]
        for i in front:
            ranks[i] = rank
        taken = set(front)
        remaining = [i for i in remaining if i not in taken]
    return ranks


def trial_ranks(trials: Sequence[TrialRecord], directions: Sequence[Direction]) -> dict[int, int]:
    """``trial_id`` -> Pareto rank over the complete trials with every value; feasible trials (and those
    of unconstrained studies, ``feasible`` None) are ranked among themselves first, infeasible ones after
    them (the hook constraints use)."""
    groups: dict[bool, list[tuple[int, tuple[float, ...]]]] = {True: [], False: []}
    for t in trials:
        if t.state is not TrialState.COMPLETE:
            continue
        loss = losses(t.values or (t.objective,), directions)
        if loss is not None:
            groups[t.feasible is not False].append((t.trial_id, loss))
    out: dict[int, int] = {}
    offset = 0
    for feasible in (True, False):
        items = groups[feasible]
        ranks = pareto_ranks([loss for _, loss in items])
        for (tid, _), r in zip(items, ranks, strict=True):
            out[tid] = r + offset
        offset += max(ranks, default=0)
    return out
