"""The leaderboard's query builder: trial selection as composable SQLAlchemy Core expressions.

A leaderboard query is a :class:`TrialQuery`: which studies, which states, extra ``WHERE`` conditions,
one sort key and a limit. Conditions are plain SQLAlchemy boolean expressions over ``trials``, so the
``--where`` compiler (``store/_filter.py`` parses, a later step compiles) only has to map names onto the
building blocks below and combine them with ``and_``/``or_``/``not_``:

* :func:`param_num` / :func:`param_text` -- a trial's param as a number or text (correlated subqueries on
  ``trial_params``, served by its primary key); NULL when the param is absent (inactive).
* :func:`metric_value` -- a trial's final metric (``metrics`` primary key); NULL when absent.
* :func:`trial_column` -- ``state``, ``number``, ``objective``, ``seed``, ``duration_s``, ...

:meth:`TrialQuery.ordered_ids` returns the ids in leaderboard order. Missing sort values come last: the
query first takes the non-NULL values in index order with ``LIMIT``, then, only when that falls short,
the NULL ones by number, so the top-k of a large study reads k rows of the index, not the whole study.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, select
from sqlalchemy.sql.elements import KeyedColumnElement

from hypersweep.records import Direction, TrialKind, TrialState
from hypersweep.store._sql._models import Metric, Trial, TrialParam

__all__ = ["TrialQuery", "metric_value", "param_num", "param_text", "trial_column"]

_TRIAL_COLUMNS = {
    "number": Trial.number,
    "state": Trial.state,
    "objective": Trial.objective,
    "seed": Trial.seed,
    "duration_s": Trial.duration_s,
    "started_at": Trial.started_at,
    "finished_at": Trial.finished_at,
    "worker_host": Trial.worker_host,
    "study_id": Trial.study_id,
}


def trial_column(name: str) -> KeyedColumnElement[object]:
    """A column of ``trials`` by its public name; ``KeyError`` for others."""
    return _TRIAL_COLUMNS[name]  # type: ignore[return-value]


def param_num(name: str) -> ColumnElement[float]:
    """The param ``name`` of the current trial as a number (booleans 0/1), NULL when absent or text."""
    return (
        select(TrialParam.value_num)
        .where(TrialParam.trial_id == Trial.id, TrialParam.name == name)
        .correlate(Trial)
        .scalar_subquery()
    )


def param_text(name: str) -> ColumnElement[str]:
    """The param ``name`` of the current trial as text (strings; JSON for lists), NULL when absent."""
    return (
        select(TrialParam.value_text)
        .where(TrialParam.trial_id == Trial.id, TrialParam.name == name)
        .correlate(Trial)
        .scalar_subquery()
    )


def metric_value(name: str) -> ColumnElement[float]:
    """The final value of metric ``name`` of the current trial, NULL when absent."""
    return (
        select(Metric.value)
        .where(Metric.trial_id == Trial.id, Metric.name == name)
        .correlate(Trial)
        .scalar_subquery()
    )


@dataclass
class TrialQuery:
    """Sweep trials of some studies, filtered and sorted, as ids in leaderboard order."""

    study_ids: Sequence[int]
    states: Sequence[TrialState] | None = (TrialState.COMPLETE,)
    where: list[ColumnElement[bool]] = field(default_factory=list)
    sort_objective: bool = True  # sort by trials.objective; else by ``sort_metric``
    sort_metric: str | None = None
    sort_expr: Any = None  # any sort expression (``--sort params.lr``, ``--sort duration_s``)
    descending: bool = False
    limit: int | None = None

    def _base(self) -> Select[Any]:
        conds: list[ColumnElement[bool]] = [
            Trial.study_id.in_(list(self.study_ids)),
            Trial.kind == TrialKind.SWEEP.value,
        ]
        if self.states is not None:
            conds.append(Trial.state.in_([s.value for s in self.states]))
        conds.extend(self.where)
        return select(Trial.id).where(and_(*conds))

    def _sort_key(self, stmt: Select[Any]) -> tuple[Select[Any], Any]:
        if self.sort_expr is not None:
            return stmt, self.sort_expr
        if self.sort_objective:
            return stmt, Trial.objective
        if self.sort_metric is None:
            return stmt, None
        stmt = stmt.join(
            Metric, and_(Metric.trial_id == Trial.id, Metric.name == self.sort_metric), isouter=True
        )
        return stmt, Metric.value

    def ordered_ids(self, conn: Connection) -> list[int]:
        if not self.study_ids or self.limit == 0:
            return []
        stmt, key = self._sort_key(self._base())
        ties = (Trial.number.asc(), Trial.study_id.asc(), Trial.id.asc())
        if key is None:
            return [int(i) for i in conn.scalars(stmt.order_by(*ties).limit(self.limit))]
        order = key.desc() if self.descending else key.asc()
        valued = stmt.where(key.is_not(None)).order_by(order, *ties).limit(self.limit)
        ids = [int(i) for i in conn.scalars(valued)]
        if self.limit is not None and len(ids) >= self.limit:
            return ids
        rest = stmt.where(key.is_(None)).order_by(*ties)
        if self.limit is not None:
            rest = rest.limit(self.limit - len(ids))
        return ids + [int(i) for i in conn.scalars(rest)]


def resolve_direction(direction: Direction | None, default: Direction | None) -> bool:
    """True for a descending sort."""
    chosen = direction if direction is not None else default
    return chosen is Direction.MAXIMIZE
