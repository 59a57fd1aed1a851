"""The tracking store: the ``Store`` interface, ``open_store``, ``upgrade_store`` and ``mask_url``.

``import hypersweep.store`` stays cheap: SQLAlchemy and Alembic are imported (from ``store/_sql``, their
only home) when a store is opened.
"""

from __future__ import annotations

from hypersweep.store._base import LeaseHolder, Store, StoreReader, TrialWriter
from hypersweep.store._filter import parse_filter
from hypersweep.store._open import DEFAULT_STORE, open_store, opened, resolve_store_url, upgrade_store
from hypersweep.store._url import mask_url

__all__ = [
    "DEFAULT_STORE",
    "LeaseHolder",
    "Store",
    "StoreReader",
    "TrialWriter",
    "mask_url",
    "open_store",
    "opened",
    "parse_filter",
    "resolve_store_url",
    "upgrade_store",
]
