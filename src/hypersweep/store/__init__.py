"""The tracking store: the ``Store`` interface, ``open_store``, ``upgrade_store`` and ``mask_url``.

``import hypersweep.store`` stays cheap: SQLAlchemy and Alembic are imported (from ``store/_sql``, their
only home) when a store is opened.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hypersweep.store._base import Store
from hypersweep.store._filter import parse_filter

if TYPE_CHECKING:
    from hypersweep.store._sql._store import SQLStore

__all__ = ["Store", "mask_url", "open_store", "parse_filter", "upgrade_store"]

_QUERY_SECRET = re.compile(r"(?i)([?&](?:password|sslpassword)=)[^&#]*")


def mask_url(url: str) -> str:
    """``url`` with its password (in the authority or a ``password=`` query item) replaced by ``***``.

    Works on any URL-shaped string without SQLAlchemy, so it is safe to call on user input before parsing.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return _QUERY_SECRET.sub(r"\1***", url)
    head, qsep, query = rest.partition("?")
    at = head.rfind("@")
    if at >= 0:
        userinfo, hostpart = head[:at], head[at + 1 :]
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            head = f"{user}:***@{hostpart}"
    masked = f"{scheme}://{head}{qsep}{query}"
    return _QUERY_SECRET.sub(r"\1***", masked)


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
