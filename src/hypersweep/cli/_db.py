"""``hypersweep db``: manage the tracking store."""

from __future__ import annotations

from hypersweep.cli._app import cli
from hypersweep.cli._options import store_option
from hypersweep.cli._render import err
from hypersweep.store import mask_url, resolve_store_url, upgrade_store

__all__ = ["db", "db_upgrade"]


@cli.group()
def db() -> None:
    """Manage the tracking store."""


@db.command("upgrade")
@store_option
def db_upgrade(store: str | None) -> None:
    """Migrate the store's schema to this release (creates a new store at the latest revision)."""
    url = resolve_store_url(store)
    upgrade_store(url)
    err.print(f"store {mask_url(url)} is at the latest schema revision")
