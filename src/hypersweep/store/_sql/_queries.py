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
from dataclasses import dataclass, field, replace
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
    feasible_first: bool = False  # a constrained study: trials that meet every constraint rank first

    def _conditions(self) -> list[ColumnElement[bool]]:
        ids = list(self.study_ids)
        conds: list[ColumnElement[bool]] = [
            Trial.study_id == ids[0] if len(ids) == 1 else Trial.study_id.in_(ids),
            Trial.kind == TrialKind.SWEEP.value,
        ]
        if self.states is not None:
            states = [s.value for s in self.states]
            conds.append(Trial.state == states[0] if len(states) == 1 else Trial.state.in_(states))
        conds.extend(self.where)
        return conds

    def _base(self) -> Select[Any]:
        return select(Trial.id).where(and_(*self._conditions()))

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
        if self.feasible_first:  # two index ranges: the feasible (or unmarked) trials, then the others
            plain = replace(self, feasible_first=False)
            first = replace(plain, where=[*self.where, Trial.feasible.is_not(False)]).ordered_ids(conn)
            if self.limit is not None and len(first) >= self.limit:
                return first
            rest = replace(
                plain,
                where=[*self.where, Trial.feasible.is_(False)],
                limit=None if self.limit is None else self.limit - len(first),
            )
            return first + rest.ordered_ids(conn)
        if len(self.study_ids) > 1 and self.limit is not None:
            return self._merged_ids(conn)
        return [row[0] for row in self._ordered_rows(conn, list(self.study_ids))]

    def _ordered_rows(self, conn: Connection, study_ids: list[int]) -> list[tuple[int, Any, int | None, int]]:
        """(id, sort value, number, study_id) in leaderboard order, at most ``limit`` rows."""
        single = replace(self, study_ids=study_ids)
        stmt, key = single._sort_key(single._base())
        ties = (Trial.number.asc(), Trial.study_id.asc(), Trial.id.asc())
        cols = (Trial.id, key if key is not None else Trial.id, Trial.number, Trial.study_id)
        stmt = stmt.with_only_columns(*cols)
        if key is None:
            return [tuple(r) for r in conn.execute(stmt.order_by(*ties).limit(self.limit))]  # type: ignore[misc]
        order = key.desc() if self.descending else key.asc()
        rows = [
            tuple(r)
            for r in conn.execute(stmt.where(key.is_not(None)).order_by(order, *ties).limit(self.limit))
        ]
        if self.limit is not None and len(rows) >= self.limit:
            return rows  # type: ignore[return-value]
        rest = stmt.where(key.is_(None)).order_by(*ties)
        if self.limit is not None:
            rest = rest.limit(self.limit - len(rows))
        return rows + [(r[0], None, r[2], r[3]) for r in conn.execute(rest)]  # type: ignore[return-value]

    def _merged_ids(self, conn: Connection) -> list[int]:
        """Several studies: the top ``limit`` of each (an index range per study, where one query over all
        of them would sort every matching row), merged."""
        rows = [r for sid in self.study_ids for r in self._ordered_rows(conn, [sid])]

        def ties(r: tuple[int, Any, int | None, int]) -> tuple[int, int, int]:
            return (r[2] if r[2] is not None else -1, r[3], r[0])

        valued = [r for r in rows if r[1] is not None and self._sorted_by_value]
        missing = [r for r in rows if r[1] is None or not self._sorted_by_value]
        valued.sort(key=ties)
        valued.sort(key=lambda r: r[1], reverse=self.descending)  # stable: ties keep their order
        missing.sort(key=ties)
        return [r[0] for r in (valued + missing)[: self.limit]]

    @property
    def _sorted_by_value(self) -> bool:
        return self.sort_expr is not None or self.sort_objective or self.sort_metric is not None


def resolve_direction(direction: Direction | None, default: Direction | None) -> bool:
    """True for a descending sort."""
    chosen = direction if direction is not None else default
    return chosen is Direction.MAXIMIZE
