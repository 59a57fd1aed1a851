"""Batch writes: many rows per statement, one round trip per table and batch.

SQLite: ``executemany`` of one prepared INSERT over tuples (the driver loops in C, no per-row
parameter handling in SQLAlchemy); the store batches only tables of plain columns there.

PostgreSQL: rows of plain columns (params, metrics, history, artifacts) go in with ``COPY ... FROM
STDIN``, formatted by psycopg's C implementation: a 2,000-row history batch costs the server about half
of an ``INSERT ... ON CONFLICT``. ``COPY`` cannot upsert, so where stored keys may repeat (a step
reported twice: the last report wins) it runs under a savepoint, and a batch that does repeat a key
rolls back to it and upserts instead. Other batches (trials, with JSON columns; the finished trials'
``UPDATE``) are one ``json_to_recordset(:rows)`` statement with the whole batch as one JSON parameter:
psycopg 3's ``executemany`` sends a statement per row, and array parameters (``unnest``) are dumped
element by element in Python, while ``json.dumps`` is C.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Float, Integer, String, Text, bindparam, cast, column, func, select, text
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DBAPIError, IntegrityError

__all__ = ["NEXT_TRIAL_IDS", "bulk_insert", "dialect_insert", "json_rows"]

# PostgreSQL: ids for a batch of trials drawn up front, so the batch is one JSON insert
NEXT_TRIAL_IDS = text("SELECT nextval(pg_get_serial_sequence('trials', 'id')) FROM generate_series(1, :n)")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a bulk row")


def json_rows(rows: list[dict[str, Any]], types: Mapping[str, Any]) -> Any:
    """PostgreSQL: ``json_to_recordset(:rows) AS hs_rows(col type, ...)``, a batch as one parameter."""
    payload = cast(bindparam("hs_rows", json.dumps(rows, default=_json_default), type_=Text), pg_dialect.JSON)
    return (
        func.json_to_recordset(payload)
        .table_valued(*(column(c, t) for c, t in types.items()))
        .render_derived(name="hs_rows", with_types=True)
    )


def dialect_insert(is_pg: bool, table: Any) -> Any:
    """An INSERT with the dialect's ``ON CONFLICT`` clauses."""
    return (pg_dialect.insert if is_pg else sqlite_dialect.insert)(table)


def bulk_insert(
    conn: Connection,
    is_pg: bool,
    table: Any,
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict_keys: Sequence[str] = (),
) -> None:
    """Insert ``rows`` (tuples of the ``names`` columns) in one statement; with ``conflict_keys``, a row
    whose keys are stored already (or repeat in the batch: the last wins) replaces the other columns.
    On SQLite the columns must be plain (numbers and text: every table the store batches there)."""
    if not rows:
        return
    if not is_pg:  # the driver's executemany over tuples: no per-row work in Python
        conn.exec_driver_sql(_insert_sql(conn, table, names, conflict_keys), list(rows))
        return
    if _plain(table, names):
        if not conflict_keys:
            _copy(conn, table, names, rows)
            return
        try:
            with conn.begin_nested():  # new keys, the common case: COPY them in
                _copy(conn, table, names, rows)
            return
        except IntegrityError:  # some are stored or repeated: the savepoint is gone, upsert the batch
            pass
    dicts = [dict(zip(names, r, strict=True)) for r in rows]
    if conflict_keys:  # one statement may not touch a row twice
        at = [names.index(k) for k in conflict_keys]
        dicts = list({tuple(r[i] for i in at): d for r, d in zip(rows, dicts, strict=True)}.values())
    src = json_rows(dicts, {c: table.c[c].type for c in names})
    stmt = pg_dialect.insert(table).from_select(names, select(*(src.c[c] for c in names)))
    if conflict_keys:
        cols = [c for c in names if c not in conflict_keys]
        stmt = stmt.on_conflict_do_update(
            index_elements=list(conflict_keys), set_={c: stmt.excluded[c] for c in cols}
        )
    conn.execute(stmt)


def _plain(table: Any, names: Sequence[str]) -> bool:
    """Columns COPY writes as they are: numbers and text (not JSON or timestamps, which SQLAlchemy
    converts)."""
    return all(isinstance(table.c[n].type, Integer | Float | String) for n in names)


def _insert_sql(conn: Connection, table: Any, names: Sequence[str], conflict_keys: Sequence[str]) -> str:
    """SQLite: ``INSERT INTO t (names) VALUES (?, ...)`` [``ON CONFLICT (keys) DO UPDATE SET ...``], built
    from the table's own column names (never from data)."""
    q = conn.dialect.identifier_preparer.quote
    sql = f"INSERT INTO {q(table.name)} ({', '.join(map(q, names))}) VALUES ({', '.join('?' * len(names))})"
    if conflict_keys:
        sets = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in names if c not in conflict_keys)
        sql += f" ON CONFLICT ({', '.join(map(q, conflict_keys))}) DO UPDATE SET {sets}"
    return sql


def _copy(conn: Connection, table: Any, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """``COPY table (names) FROM STDIN`` in the connection's transaction; psycopg errors become the
    SQLAlchemy errors that every other statement raises (and a lost connection is invalidated)."""
    import psycopg
    from psycopg import sql

    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    query = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    try:
        with raw.cursor() as cur, cur.copy(query) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as e:
        err: Any = e  # a DB-API error of the connection's driver
        lost = conn.dialect.is_disconnect(err, conn.connection, None)
        if lost:
            conn.invalidate(e)
        raise DBAPIError.instance(
            f"COPY {table.name}", None, e, psycopg.Error, connection_invalidated=lost
        ) from e
