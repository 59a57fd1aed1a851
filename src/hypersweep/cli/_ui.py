"""``hypersweep ui``: serve the live dashboard over a store (Starlette is imported only here)."""

from __future__ import annotations

import click

from hypersweep.cli._app import cli
from hypersweep.cli._options import store_option
from hypersweep.cli._render import err
from hypersweep.errors import UsageError

__all__ = ["serve_beside", "ui"]

UI_MISSING = "the dashboard needs its extra: pip install 'hypersweep[ui]'"


def _ui_module():  # type: ignore[no-untyped-def]
    try:
        import hypersweep.ui as ui_module
    except ImportError as e:
        raise UsageError(f"{UI_MISSING} ({e})") from e
    return ui_module


@cli.command()
@store_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (not loopback: needs a token).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8321,
    show_default=True,
    help="Port (a free one if busy).",
)
@click.option(
    "--token", help="Token every request must carry (default: none on loopback, generated elsewhere)."
)
@click.option("--read-only", is_flag=True, help="Offer no actions (stop, tag, note).")
def ui(store: str | None, host: str, port: int, token: str | None, read_only: bool) -> None:
    """Serve the live dashboard of the store's studies in a browser (Ctrl-C stops it)."""
    served = _ui_module().prepare(store, host=host, port=port, token=token, read_only=read_only)
    for line in served.notes:
        err.print(f"note: {line}", markup=False)
    err.print(f"hypersweep dashboard: {served.url}", markup=False, soft_wrap=True)
    _ui_module().serve_foreground(served)


def serve_beside(store: str | None, port: int = 8321) -> str:
    """Start the dashboard in this process's background (``run --ui``); returns its URL."""
    mod = _ui_module()
    served = mod.prepare(store, port=port)
    mod.serve_background(served)
    for line in served.notes:
        err.print(f"note: {line}", markup=False)
    return served.url
