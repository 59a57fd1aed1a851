"""``hypersweep reproduce``: rerun a trial and show what differs."""

from __future__ import annotations

import sys
from dataclasses import asdict

import click
from rich.table import Table

from hypersweep.cli._app import cli
from hypersweep.cli._options import executor_options, format_option, store_option
from hypersweep.cli._render import emit_json, err, fmt_value, out
from hypersweep.orchestrate import reproduce as run_reproduce

__all__ = ["reproduce"]


@cli.command()
@click.argument("name")
@click.argument("number", type=int)
@store_option
@click.option(
    "--tolerance",
    type=float,
    default=1e-6,
    show_default=True,
    help="Allowed absolute or relative difference of each metric.",
)
@executor_options
@format_option("table", "json", default="table")
def reproduce(
    name: str, number: int, store: str | None, tolerance: float, executor: str, address: str | None, fmt: str
) -> None:
    """Rerun trial NUMBER of NAME from scratch and show what differs (exit 6 when it does not reproduce)."""
    res = run_reproduce(name, number, store=store, tolerance=tolerance, executor=executor, address=address)
    if fmt == "json":
        data = asdict(res)
        data["reproduced"] = res.reproduced
        emit_json(data)
    else:
        table = Table(title=f"{name} trial {number}: original vs rerun (tolerance {tolerance:g})")
        for c in ("metric", "original", "rerun", "abs diff", "rel diff", "within"):
            table.add_column(c)
        for m in res.metrics:
            table.add_row(
                m.name,
                fmt_value(m.original),
                fmt_value(m.rerun),
                fmt_value(m.abs_diff),
                fmt_value(m.rel_diff),
                "[green]yes[/]" if m.within else "[red]NO[/]",
            )
        for m in res.system_metrics:
            table.add_row(
                m.name,
                fmt_value(m.original),
                fmt_value(m.rerun),
                fmt_value(m.abs_diff),
                fmt_value(m.rel_diff),
                "(not compared)",
            )
        out.print(table)
        for metric, step in res.history_divergence.items():
            out.print(f"history of {metric} first diverges at step {step}")
        if res.environment:
            env = Table(title="what changed since the original ran")
            for c in ("what", "original", "now"):
                env.add_column(c)
            for what, was, now in res.environment:
                env.add_row(what, fmt_value(was), fmt_value(now))
            out.print(env)
        else:
            out.print("environment, code, data and sweep file: unchanged")
        for w in res.warnings:
            err.print(f"[yellow]warning:[/] {w}")
        if res.rerun_state.value != "complete":
            err.print(f"the rerun {res.rerun_state.value}: {res.rerun_error or ''}", markup=False)
        out.print("[green]reproduced[/]" if res.reproduced else "[red]did not reproduce[/]")
    if not res.reproduced:
        sys.exit(6)
