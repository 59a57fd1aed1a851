"""Compile a parsed ``--where`` filter (``store/_filter.py``) into a bound SQLAlchemy condition.

Every literal becomes a bound parameter; names map onto the query builder's columns and correlated
subqueries (``_queries.py``). Nothing from the user's text is ever pasted into SQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select
from sqlalchemy.sql.elements import Grouping

from hypersweep.errors import QueryError
from hypersweep.records import TrialState
from hypersweep.store._filter import And, Compare, Expr, Field, Not, Or
from hypersweep.store._sql._models import Study, Trial, TrialParam
from hypersweep.store._sql._queries import metric_value, param_num, param_text, trial_column

__all__ = ["compile_filter", "sort_key"]

_TEXT_COLUMNS = {"state", "kind", "study", "worker_host"}
_TIME_COLUMNS = {"started_at", "finished_at"}


def _column(field: Field) -> ColumnElement[Any]:
    if field.key == "study":
        return select(Study.name).where(Study.id == Trial.study_id).correlate(Trial).scalar_subquery()
    if field.key == "kind":
        return Trial.kind  # type: ignore[return-value]
    try:
        return trial_column(field.key)
    except KeyError:
        raise QueryError(f"cannot filter on {field.key!r}") from None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "num"
    if isinstance(value, str):
        return "text"
    return "null"


def _operand(field: Field, sample: Any) -> tuple[ColumnElement[Any], Any]:
    """The SQL expression for ``field`` and a converter for literals compared with it."""
    kind = _kind(sample)
    if field.kind == "params":
        if kind == "text":
            return param_text(field.key), str
        if kind == "bool":
            return param_num(field.key), lambda v: 1.0 if v else 0.0
        return param_num(field.key), float
    if field.kind == "metrics":
        if kind != "num":
            raise QueryError(f"{field} is a number; compare it with a number, not {sample!r}")
        return metric_value(field.key), float
    col = _column(field)
    if field.key in _TEXT_COLUMNS:
        if kind != "text":
            raise QueryError(f"{field.key} is text; compare it with a quoted string, e.g. {field.key} = 'x'")
        if field.key == "state":
            valid = [s.value for s in TrialState]

            def state(v: Any) -> str:
                if v not in valid:
                    raise QueryError(f"unknown state {v!r}: use one of {', '.join(valid)}")
                return str(v)

            return col, state
        return col, str
    if field.key in _TIME_COLUMNS:
        if kind != "text":
            raise QueryError(f"{field.key} is a time; compare it with an ISO date such as '2026-01-31'")

        def when(v: Any) -> datetime:
            try:
                return datetime.fromisoformat(str(v))
            except ValueError:
                raise QueryError(f"{v!r} is not an ISO date or time (e.g. '2026-01-31T12:00')") from None

        return col, when
    if kind not in ("num", "null"):
        raise QueryError(f"{field.key} is a number; compare it with a number, not {sample!r}")
    return col, float


def _present(field: Field) -> ColumnElement[bool]:
    if field.kind == "params":
        return exists(
            select(TrialParam.trial_id).where(TrialParam.trial_id == Trial.id, TrialParam.name == field.key)
        )
    if field.kind == "metrics":
        return metric_value(field.key).is_not(None)
    return _column(field).is_not(None)


def like_to_glob(pattern: str) -> str:
    """A ``like`` pattern (``%``, ``_``, ``\\`` escapes) as the SQLite ``GLOB`` pattern that matches the
    same strings, case-sensitively: ``%`` -> ``*``, ``_`` -> ``?``, and ``*``, ``?``, ``[`` taken
    literally."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            i += 1
            ch = pattern[i]
            out.append(f"[{ch}]" if ch in "*?[" else ch)
        elif ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        else:
            out.append(f"[{ch}]" if ch in "*?[" else ch)
        i += 1
    return "".join(out)


def _compare(c: Compare, sqlite: bool) -> ColumnElement[bool]:
    if c.op == "is_null":
        return not_(_present(c.field))
    if c.op == "is_not_null":
        return _present(c.field)
    if c.op in ("in", "not_in"):
        values = tuple(c.value) if isinstance(c.value, tuple) else (c.value,)
        expr, conv = _operand(c.field, values[0])
        cond = expr.in_([conv(v) for v in values])
        return not_(cond) if c.op == "not_in" else cond
    expr, conv = _operand(c.field, c.value)
    v = conv(c.value)
    if c.op == "like":  # case-sensitive on both backends (PostgreSQL's LIKE; SQLite's GLOB)
        if sqlite:
            return expr.op("GLOB", is_comparison=True)(like_to_glob(str(v)))
        return expr.like(v, escape="\\")
    ops = {"=": expr == v, "!=": expr != v, "<": expr < v, "<=": expr <= v, ">": expr > v, ">=": expr >= v}
    return ops[c.op]


def compile_filter(expr: Expr, *, sqlite: bool = False) -> ColumnElement[bool]:
    """A SQLAlchemy boolean over ``trials`` for a parsed filter; ``QueryError`` for type mismatches.

    Long ``and``/``or`` chains become balanced trees of parenthesised halves: SQLite refuses an
    expression deeper than 1,000 nodes, which a flat chain of 1,000 terms is."""
    if isinstance(expr, Compare):
        return _compare(expr, sqlite)
    if isinstance(expr, And | Or):
        return _balanced(
            and_ if isinstance(expr, And) else or_, [compile_filter(e, sqlite=sqlite) for e in expr.items]
        )
    if isinstance(expr, Not):
        return not_(compile_filter(expr.item, sqlite=sqlite))
    raise TypeError(f"not a filter node: {expr!r}")


_CHAIN = 8  # terms joined flat; longer chains are split in halves


def _balanced(join: Any, items: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    if len(items) <= _CHAIN:
        return join(*items)  # type: ignore[no-any-return]
    mid = len(items) // 2
    left, right = Grouping(_balanced(join, items[:mid])), Grouping(_balanced(join, items[mid:]))
    # a binary operator, not and_()/or_(), which would flatten the halves back into one chain
    return left.bool_op("AND" if join is and_ else "OR")(right)


def sort_key(name: str) -> ColumnElement[Any]:
    """Sort expression for ``--sort``: ``metrics.X`` (or a bare metric name), ``params.X`` or a column."""
    if name.startswith("params."):
        return param_num(name.removeprefix("params."))
    if name.startswith("metrics."):
        return metric_value(name.removeprefix("metrics."))
    try:
        return trial_column(name)
    except KeyError:
        return metric_value(name)
