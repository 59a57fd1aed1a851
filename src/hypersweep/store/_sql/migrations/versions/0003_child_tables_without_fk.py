"""Per-row child tables of trials (params, final metrics, metric history) without a declared foreign key.

The store is their only writer and keeps the reference itself: params are inserted with their trial in
one transaction, metrics and history only for trials it has just read (and, on PostgreSQL, locked) in
the same transaction, and ``delete_study`` deletes them explicitly. Declared, the key costs a trigger
call per inserted row on PostgreSQL: 2,300 lookups for 100 trials with a 20-step history, about a
quarter of the write time (docs/benchmarks.md, store).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# table -> (its columns, its primary key, the index it keeps)
_TABLES: dict[str, tuple[list[tuple[str, Any]], list[str], tuple[str, list[str]] | None]] = {
    "trial_params": (
        [
            ("trial_id", sa.Integer()),
            ("name", sa.String(255)),
            ("value_num", sa.Float()),
            ("value_text", sa.Text()),
        ],
        ["trial_id", "name"],
        ("ix_trial_params_name_num", ["name", "value_num"]),
    ),
    "metrics": (
        [("trial_id", sa.Integer()), ("name", sa.String(255)), ("value", sa.Float())],
        ["trial_id", "name"],
        ("ix_metrics_name_value", ["name", "value"]),
    ),
    "metric_history": (
        [("trial_id", sa.Integer()), ("name", sa.String(255)), ("step", sa.Integer()), ("value", sa.Float())],
        ["trial_id", "name", "step"],
        None,
    ),
}


def _table(name: str, with_fk: bool) -> sa.Table:
    """The table as SQLite's batch mode should rebuild it (SQLite cannot drop a constraint in place)."""
    columns, pk, index = _TABLES[name]
    cols = []
    for col, type_ in columns:
        args: list[Any] = []
        if col == "trial_id" and with_fk:
            args.append(sa.ForeignKey("trials.id", ondelete="CASCADE"))
        cols.append(sa.Column(col, type_, *args, primary_key=col in pk, nullable=col not in pk))
    table = sa.Table(name, sa.MetaData(), *cols)
    if index is not None:
        sa.Index(index[0], *(table.c[c] for c in index[1]))
    return table


def upgrade() -> None:
    for name in _TABLES:
        if op.get_bind().dialect.name == "sqlite":
            with op.batch_alter_table(name, copy_from=_table(name, with_fk=False), recreate="always"):
                pass
        else:
            op.drop_constraint(f"{name}_trial_id_fkey", name, type_="foreignkey")


def downgrade() -> None:
    for name in _TABLES:
        if op.get_bind().dialect.name == "sqlite":
            with op.batch_alter_table(name, copy_from=_table(name, with_fk=True), recreate="always"):
                pass
        else:
            op.create_foreign_key(
                f"{name}_trial_id_fkey", name, "trials", ["trial_id"], ["id"], ondelete="CASCADE"
            )
