"""Commands that start, continue or stop a sweep, and check a sweep file."""

from __future__ import annotations

import shlex

import click
from rich.table import Table

from hypersweep import orchestrate
from hypersweep.cli._app import cli
from hypersweep.cli._options import executor_options, format_option, store_option
from hypersweep.cli._render import emit_json, err, fmt_value, out, run_with_progress
from hypersweep.spec import MAX_SEED, MAX_TRIALS, json_schema, load_spec
from hypersweep.store import opened

__all__ = ["resume", "run", "schema", "stop", "validate"]


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@store_option
@click.option("--name", help="Study name (default: the file's `name`, else its stem).")
@click.option(
    "--trials", type=click.IntRange(0, MAX_TRIALS), help="Finished trials wanted (sets budget.trials)."
)
@click.option("--parallel", type=click.IntRange(1, MAX_TRIALS), help="Trials in flight at most.")
@click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    help="Study seed, 0 to 2**63-1 (default: the file's, else drawn and recorded).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a spec key for this run, value parsed as YAML (repeatable).",
)
@executor_options
@click.option(
    "--artifact-root", help="Where artifacts and checkpoints go: a folder or an fsspec URL (s3://...)."
)
@click.option(
    "--detach",
    is_flag=True,
    help="Run the driver on the cluster (--address) as a Ray job; needs a server store.",
)
@click.option("--dry-run", is_flag=True, help="Print what would run; record nothing.")
@click.option("--quiet", is_flag=True, help="No live display; a line every 30 s (for CI logs).")
@click.option(
    "--ui", "with_ui", is_flag=True, help="Serve the live dashboard beside the sweep and print its link."
)
def run(
    spec: str,
    store: str | None,
    name: str | None,
    trials: int | None,
    parallel: int | None,
    seed: int | None,
    overrides: tuple[str, ...],
    executor: str,
    address: str | None,
    artifact_root: str | None,
    detach: bool,
    dry_run: bool,
    quiet: bool,
    with_ui: bool,
) -> None:
    """Run the sweep in SPEC (or resume its study), ending with a leaderboard."""
    if with_ui and (detach or dry_run):
        raise click.UsageError(
            "--ui serves the dashboard beside a sweep run here: not with --detach or --dry-run"
        )
    if detach:
        if not address:
            raise click.UsageError("--detach needs --address: the Ray cluster that runs the driver")
        job = orchestrate.detach_sweep(
            spec,
            address=address,
            store=store,
            name=name,
            trials=trials,
            parallel=parallel,
            seed=seed,
            overrides=overrides,
        )
        err.print(f"driver of {job['study']!r} submitted as Ray job {job['job_id']} (store {job['store']})")
        err.print(
            f"follow it with: hypersweep studies / hypersweep leaderboard {shlex.quote(job['study'])}; "
            f"stop it with: hypersweep stop {shlex.quote(job['study'])}"
        )
        return
    if dry_run:
        plan = orchestrate.dry_run(spec, overrides=overrides, trials=trials, seed=seed)
        out.print(
            f"[bold]{plan['name']}[/]: {plan['strategy']}, budget {plan['budget'] or 'unlimited'}; "
            f"first {len(plan['points'])} of {plan['total_points']} points (nothing recorded)"
        )
        for i, point in enumerate(plan["points"]):
            out.print(f"  {i:>4}  " + ", ".join(f"{k}={fmt_value(v)}" for k, v in point.items()))
            if plan.get("argv"):
                out.print("        argv: " + shlex.join(plan["argv"][i]), markup=False)
        return
    if with_ui:
        from hypersweep.cli._ui import serve_beside

        with opened(store, create=True):  # the dashboard reads the store this run creates
            pass
        err.print(f"dashboard: {serve_beside(store)}", markup=False, soft_wrap=True)
    run_with_progress(
        quiet,
        lambda view: orchestrate.run_sweep(
            spec,
            store=store,
            name=name,
            trials=trials,
            parallel=parallel,
            seed=seed,
            overrides=overrides,
            executor=executor,
            address=address,
            on_progress=view,
            artifact_root=artifact_root,
            start_early=True,  # Ray starts in the background while the store is opened (see _ray_start)
        ),
    )


@cli.command()
@click.argument("name")
@store_option
@click.option("--trials", type=click.IntRange(0, MAX_TRIALS), help="New total of finished trials.")
@click.option("--retry-failed", is_flag=True, help="Rerun every failed trial's params once more.")
@click.option("--parallel", type=click.IntRange(1, MAX_TRIALS), help="Trials in flight at most.")
@executor_options
@click.option("--artifact-root", help="Where artifacts and checkpoints go (default: as when the study ran).")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a spec key for this run (e.g. budget.patience=50); keys that change what trials "
    "compute are refused.",
)
@click.option("--quiet", is_flag=True, help="No live display.")
def resume(
    name: str,
    store: str | None,
    trials: int | None,
    retry_failed: bool,
    parallel: int | None,
    executor: str,
    address: str | None,
    artifact_root: str | None,
    overrides: tuple[str, ...],
    quiet: bool,
) -> None:
    """Continue study NAME until its budget is met; nothing is lost or counted twice."""
    run_with_progress(
        quiet,
        lambda view: orchestrate.resume_sweep(
            name,
            store=store,
            trials=trials,
            retry_failed=retry_failed,
            parallel=parallel,
            executor=executor,
            address=address,
            on_progress=view,
            artifact_root=artifact_root,
            overrides=overrides,
        ),
    )


@cli.command()
@click.argument("name")
@store_option
def stop(name: str, store: str | None) -> None:
    """Ask NAME's driver to stop: running trials finish, then it exits (resumable)."""
    err.print(orchestrate.stop_sweep(name, store=store).message)


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@format_option("text", "json", default="text")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec key.")
def validate(spec: str, fmt: str, overrides: tuple[str, ...]) -> None:
    """Check SPEC and print the normalised sweep: strategy, objective, parameters, grid size."""
    s = load_spec(spec, overrides)
    summary = s.summary()
    if fmt == "json":
        emit_json(summary)
        return
    obj = summary.get("objective")
    out.print(f"[bold]{summary['name']}[/] ({summary['format']} format) is valid")
    strat = summary["strategy"]
    chosen = strat["name"] + (f" {strat['options']}" if strat["options"] else "")
    if strat.get("requested"):
        chosen += f" ({strat['requested']}: {strat['reason'] or 'W&B bayes'})"
    out.print(f"  strategy:  {chosen}")
    several = summary.get("objectives") or []
    if len(several) > 1:
        goals = ", ".join(f"{o['direction']} {o['metric']}" for o in several)
        out.print(f"  objectives: {goals} (a Pareto front)")
    else:
        out.print(f"  objective: {obj['direction']} {obj['metric']}" if obj else "  objective: (none)")
    if summary.get("constraints"):
        out.print(f"  constraints: {'; '.join(summary['constraints'])}", markup=False)
    if (summary.get("budget") or {}).get("patience"):
        out.print(f"  patience:  {summary['budget']['patience']} finished trials without a better best")
    if summary.get("grid_size") is not None:
        out.print(f"  grid size: {summary['grid_size']}")
    table = Table(title="parameters")
    for c in ("name", "distribution", "arguments", "when"):
        table.add_column(c)
    for p in summary.get("parameters", []):
        args = p.get("args") or {}
        table.add_row(
            p.get("name", ""),
            p.get("distribution", ""),
            ", ".join(f"{k}={fmt_value(v)}" for k, v in args.items()),
            ", ".join(f"{k} in {v}" for k, v in (p.get("when") or {}).items()),
        )
    out.print(table)
    for w in summary.get("warnings", []):
        err.print(f"[yellow]warning:[/] {w}")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the native sweep format (for editor validation)."""
    emit_json(json_schema())
