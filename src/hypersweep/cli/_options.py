"""Options shared by many commands, declared once (as sqlite-utils declares ``output_options``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["STORE_HELP", "executor_options", "format_option", "store_option"]

_F = TypeVar("_F", bound=Callable[..., Any])

STORE_HELP = "Store URL (default: $HYPERSWEEP_STORE, else sqlite:///hypersweep.db)."

store_option = click.option("--store", help=STORE_HELP)


def format_option(*choices: str, default: str) -> Callable[[_F], _F]:
    """``--format`` as the ``fmt`` argument, one of ``choices``."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True
    )


def executor_options(fn: _F) -> _F:
    """``--executor`` and ``--address``: where trials run."""
    fn = click.option("--address", help="Ray cluster address (default: start a local Ray).")(fn)
    return click.option("--executor", type=click.Choice(["ray", "local"]), default="ray", show_default=True)(
        fn
    )
