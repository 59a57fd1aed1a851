"""The ``hypersweep`` command group; each command module adds its commands to it."""

from __future__ import annotations

import click

__all__ = ["cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="hypersweep")
def cli() -> None:
    """hypersweep: hyperparameter sweeps from YAML on Ray, tracked in a shared SQL store.

    Start with `hypersweep validate SPEC.yaml`, then `hypersweep run SPEC.yaml`.
    """
