"""Commands that read the store: studies, leaderboards, one trial, logs, exports, the report."""

from __future__ import annotations

import time

import click
from rich.table import Table

from hypersweep.cli._app import cli
from hypersweep.cli._options import format_option, store_option
from hypersweep.cli._render import emit_json, emit_rows, err, fmt_value, out, sparkline
from hypersweep.query import export_study, leaderboard_rows, show_trial, study_rows, trial_log, write_report
from hypersweep.store import opened

__all__ = ["export", "leaderboard", "logs", "report", "show", "studies"]


@cli.command()
@store_option
@format_option("table", "json", "csv", default="table")
@click.argument("pattern", required=False)
def studies(store: str | None, fmt: str, pattern: str | None) -> None:
    """List studies: strategy, status, progress against the budget, best objective."""
    with opened(store) as st:
        rows = study_rows(st, pattern)
    if fmt == "table":
        for r in rows:
            r["done"] = (
                f"{r['trials_complete'] + r['trials_pruned']}/{r['budget'] if r['budget'] is not None else '-'}"
            )
        cols = [
            "name",
            "strategy",
            "status",
            "end_reason",
            "done",
            "trials_pruned",
            "trials_failed",
            "trials_running",
            "best_objective",
            *(["pareto_size"] if any(r.get("pareto_size") is not None for r in rows) else []),
            "updated_at",
        ]
        emit_rows(
            [{k.removeprefix("trials_"): v for k, v in r.items()} for r in rows],
            fmt,
            [c.removeprefix("trials_") for c in cols],
        )
        return
    emit_rows(rows, fmt)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@store_option
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--include-pruned", is_flag=True, help="Rank pruned trials too (by their last value).")
@click.option(
    "--where", help="Filter, e.g. \"params.lr < 0.01 and (metrics.acc >= 0.9 or state = 'pruned')\"."
)
@click.option("--sort", help="Sort key: a metric (metrics.X), a param (params.X), duration_s, number...")
@click.option(
    "--order", type=click.Choice(["asc", "desc"]), help="Sort order (default: the objective's goal)."
)
@click.option(
    "--pareto", is_flag=True, help="Keep the Pareto front only (rank 1; one objective: the best trials)."
)
@format_option("table", "json", "csv", "markdown", default="table")
def leaderboard(
    names: tuple[str, ...],
    store: str | None,
    top: int,
    include_pruned: bool,
    where: str | None,
    sort: str | None,
    order: str | None,
    pareto: bool,
    fmt: str,
) -> None:
    """Best trials of one or more studies (NAME may be a glob such as 'digits-*').

    A study with several objectives is ranked by Pareto front (pareto_rank 1 = non-dominated), then by
    its first objective."""
    with opened(store) as st:
        rows = leaderboard_rows(
            st,
            list(names),
            top=top,
            include_pruned=include_pruned,
            where=where,
            sort=sort,
            order=order,
            pareto=pareto,
        )
    multi = len(names) > 1 or any(c in n for n in names for c in "*?[")
    ranked = any("pareto_rank" in r for r in rows)
    several = any("values" in r for r in rows)
    cols = (
        (["study"] if multi else [])
        + ["number", "state"]
        + (["pareto_rank"] if ranked else [])
        + (["feasible"] if any("feasible" in r for r in rows) else [])
        + (["values"] if several else ["objective"])
        + ["params", "metrics", "duration_s"]
    )
    emit_rows(rows, fmt, cols)


@cli.command()
@click.argument("name")
@click.argument("number", type=int)
@store_option
@format_option("table", "json", default="table")
def show(name: str, number: int, store: str | None, fmt: str) -> None:
    """Everything recorded about trial NUMBER of study NAME."""
    with opened(store) as st:
        row = show_trial(st, name, number)
    if fmt == "json":
        emit_json(row)
        return
    out.print(
        f"[bold]{row['study']}[/] trial {row['number']}: {row['state']}, objective {fmt_value(row['objective'])}, "
        f"seed {row['seed']}"
    )
    out.print(
        f"  started {row['started_at']}  duration {fmt_value(row['duration_s'])} s  host {row['worker_host']}"
        f"  node {row['ray_node_id'] or '-'}  gpus {','.join(row['gpu_ids']) or '-'}"
    )
    if row["retry_of"] is not None:
        out.print(f"  reruns the params of trial {row['retry_of']}")
    if row["retried_by"]:
        out.print(f"  its params ran again as trial(s) {', '.join(map(str, row['retried_by']))}")
    table = Table(title="params and final metrics")
    table.add_column("name")
    table.add_column("value")
    table.add_column("history")
    for k, v in row["params"].items():
        table.add_row(f"params.{k}", fmt_value(v), "")
    for k, v in row["metrics"].items():
        series = [p["value"] for p in row["history"].get(k, [])]
        table.add_row(
            f"metrics.{k}", fmt_value(v), f"{sparkline(series)} ({len(series)} steps)" if series else ""
        )
    for k, pts in row["system_metrics"].items():
        series = [p["value"] for p in pts]
        table.add_row(k, fmt_value(series[-1]) if series else "-", sparkline(series))
    out.print(table)
    env = row["environment"]
    if env:
        pk = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
        out.print(
            f"  environment: {env['python']}; {env['os']}; {env['cpu']} x{env['cpu_count']}; "
            f"GPUs {[g.get('name') for g in env['gpus']] or 'none'}; CUDA {env['cuda'] or '-'}"
        )
        out.print(f"  packages: {pk}")
    for a in row["artifacts"]:
        out.print(f"  artifact {a['name']}: {a['uri']} ({a['size']} bytes, sha256 {a['sha256'][:12]}...)")
    if row["error"]:
        out.print("[red]error:[/]")
        out.print(row["error"], markup=False, highlight=False)
    if row["log_tail"] and row["state"] == "failed":
        out.print("[bold]log tail:[/]")
        out.print("\n".join(row["log_tail"].splitlines()[-30:]), markup=False, highlight=False)


@cli.command()
@click.argument("name")
@click.argument("number", type=int)
@store_option
@click.option("--follow", "-f", is_flag=True, help="Keep printing while the trial runs.")
def logs(name: str, number: int, store: str | None, follow: bool) -> None:
    """Print the stdout and stderr kept for trial NUMBER of NAME (the tail, size-capped)."""
    shown = 0
    while True:
        with opened(store) as st:
            text, state = trial_log(st, name, number)
        if len(text) > shown:
            click.echo(text[shown:], nl=False)
            shown = len(text)
        if not follow or state.is_terminal:
            break
        time.sleep(1.0)
    if not shown and not follow:
        err.print(f"trial {number} of {name!r} has no log yet (state {state.value})")


@cli.command()
@click.argument("name")
@store_option
@format_option("csv", "parquet", "json", default="csv")
@click.option("--out", type=click.Path(dir_okay=False), help="Output file (default: NAME.FORMAT).")
def export(name: str, store: str | None, fmt: str, out: str | None) -> None:
    """Write every trial of NAME with params, metrics and an environment summary."""
    with opened(store) as st:
        path = export_study(st, name, out or f"{name}.{fmt}", fmt)
    err.print(f"wrote {path}")


@cli.command()
@click.argument("name")
@store_option
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The HTML file to write.")
def report(name: str, store: str | None, out: str) -> None:
    """Write a self-contained HTML report of study NAME (plots, leaderboard, environment)."""
    path = write_report(name, out, store=store)
    err.print(f"wrote {path}")
