"""Which store a command means, and opening it for the length of a ``with`` block."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from hypersweep.store._base import Store

if TYPE_CHECKING:
    from hypersweep.store._sql._store import SQLStore

__all__ = ["DEFAULT_STORE", "open_store", "opened", "resolve_store_url", "upgrade_store"]

DEFAULT_STORE = "sqlite:///hypersweep.db"


def resolve_store_url(store: str | None) -> str:
    """``--store``, else ``HYPERSWEEP_STORE``, else ``sqlite:///hypersweep.db`` in the current folder."""
    return store or os.environ.get("HYPERSWEEP_STORE") or DEFAULT_STORE


@contextmanager
def opened(store: str | Store | None = None, *, create: bool = False) -> Iterator[Store]:
    """The tracking store named by ``store`` (a URL, else ``$HYPERSWEEP_STORE``, else the default), open
    for the block and closed after it; an already open :class:`Store` is passed through, left open.
    Readers never create one."""
    if isinstance(store, Store):
        yield store
        return
    st = open_store(resolve_store_url(store), create=create)
    try:
        yield st
    finally:
        st.close()


def open_store(url: str, *, create: bool = False, busy_timeout_s: float | None = None) -> SQLStore:
    """Open the store at ``url`` (``sqlite:///path.db``, ``postgresql+psycopg://user:pass@host/db``;
    ``postgresql://`` is read as psycopg 3).

    ``create=True`` (the driver, before any work) creates a brand-new database at the current schema
    head, safely when several processes race to do it. ``create=False`` (readers) never creates
    anything: a missing SQLite file is ``StoreUnavailableError`` naming the path. A database at an older
    schema revision raises ``SchemaVersionError`` naming ``hypersweep db upgrade --store URL``.

    ``busy_timeout_s`` (also ``?busy_timeout=SECONDS`` in the URL; default 30) is how long a SQLite
    writer waits for another's lock before ``StoreUnavailableError``.
    """
    from hypersweep.store._sql._store import SQLStore

    return SQLStore.open(url, create=create, busy_timeout_s=busy_timeout_s)


def upgrade_store(url: str) -> tuple[str | None, str]:
    """Upgrade the store's schema to this release's head (creating it in an empty database).

    Returns (revision before, revision after); ``before`` is None for a database that had no schema.
    Behind ``hypersweep db upgrade``.
    """
    from hypersweep.store._sql._store import SQLStore

    return SQLStore.upgrade(url)
