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
@format_option("table", "json", default="table")
def best(name: str, store: str | None, download: str | None, fmt: str) -> None:
    """The best trial of NAME, its params, metrics and artifacts: from a sweep to a deployable model."""
    with opened(store) as st:
        row = best_trial(st, name, download=download)
    if fmt == "json":
        emit_json(row)
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
