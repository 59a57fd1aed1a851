"""Commands over a trial's artifacts: list, download, the best trial."""

from __future__ import annotations

import click
from rich.table import Table

from hypersweep.cli._app import cli
from hypersweep.cli._options import format_option, store_option
from hypersweep.cli._render import emit_json, err, fmt_value, out
from hypersweep.query import best_trial, download_artifacts, list_artifacts
from hypersweep.store import opened

__all__ = ["artifacts", "best"]


@cli.command()
@click.argument("name")
@click.argument("number", type=int)
@store_option
@click.option(
    "--download", type=click.Path(file_okay=False), help="Fetch them into this folder (sha256 verified)."
)
@click.option("--checkpoints", is_flag=True, help="Include checkpoints.")
def artifacts(name: str, number: int, store: str | None, download: str | None, checkpoints: bool) -> None:
    """List (and fetch) the artifacts of trial NUMBER of NAME."""
    with opened(store) as st:
        records = list_artifacts(st, name, number)
        table = Table(title=f"artifacts of {name} trial {number}")
        for c in ("name", "kind", "size", "sha256", "uri"):
            table.add_column(c, overflow="fold")
        for a in records:
            if a.kind == "file" or checkpoints:
                table.add_row(a.name, a.kind, str(a.size), a.sha256[:16], a.uri)
        out.print(table)
        if download:
            kinds = None if checkpoints else ("file",)
            paths = download_artifacts(st, name, number, download, kinds=kinds)
            err.print(f"downloaded {len(paths)} file(s) to {download}, sha256 verified")


@cli.command()
@click.argument("name")
@store_option
@click.option("--download", type=click.Path(file_okay=False), help="Fetch its artifacts into this folder.")
@click.option(
    "--number",
    type=int,
    help="The trial of the Pareto front to show or download (a study with several objectives).",
)
@format_option("table", "json", default="table")
def best(name: str, store: str | None, download: str | None, number: int | None, fmt: str) -> None:
    """The best trial of NAME, its params, metrics and artifacts: from a sweep to a deployable model.

    A study with several objectives has a Pareto front instead: all of it is listed, and --download
    needs --number N, the trial of the front to fetch."""
    with opened(store) as st:
        row = best_trial(st, name, download=download, number=number)
    if fmt == "json":
        emit_json(row)
        return
    if "pareto_front" in row:
        goals = ", ".join(f"{o['metric']} ({o['goal']})" for o in row["objectives"])
        out.print(
            f"[bold]{row['study']}[/]: Pareto front of {len(row['pareto_front'])} trial(s) over {goals}"
        )
        for r in row["pareto_front"]:
            values = ", ".join(f"{k} {fmt_value(v)}" for k, v in r.get("values", {}).items())
            params = ", ".join(f"{k}={fmt_value(v)}" for k, v in r["params"].items())
            out.print(f"  trial {r['number']}: {values}  ({params})")
        out.print("pick one with --number N (and --download DIR to fetch its artifacts)")
        return
    out.print(f"[bold]{name}[/]: best trial {row['number']}, objective {fmt_value(row['objective'])}")
    for k, v in row["params"].items():
        out.print(f"  params.{k} = {fmt_value(v)}")
    for k, v in row["metrics"].items():
        out.print(f"  metrics.{k} = {fmt_value(v)}")
    for a in row.get("artifacts", []):
        a = a if isinstance(a, dict) else a.__dict__
        out.print(f"  artifact {a['name']} ({a['size']} bytes) {a['uri']}")
    if download:
        err.print(f"downloaded {len(row.get('downloaded', []))} file(s) to {download}, sha256 verified")
