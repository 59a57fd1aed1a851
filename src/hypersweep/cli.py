"""The ``hypersweep`` command: a thin shell over :mod:`hypersweep.api`.

Each command parses its arguments, makes one API call and renders the result. Errors from the
``HypersweepError`` tree become one clear message and the exit code of their branch; no traceback
for a user mistake.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from hypersweep import api
from hypersweep.errors import HypersweepError

__all__ = ["main"]

_err = Console(stderr=True, highlight=False)
_out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

STORE_HELP = "Store URL (default: $HYPERSWEEP_STORE, else sqlite:///hypersweep.db)."


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _cell(v: Any) -> str:
    """Compact table cell: 4 significant digits, timestamps to the second."""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] == "T":
        return v[:19].replace("T", " ")
    return _fmt(v)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _columns(flat: list[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    """The given columns, with "params" and "metrics" expanded to every params.X / metrics.X present."""
    if not columns:
        cols: list[str] = []
        for r in flat:
            cols.extend(k for k in r if k not in cols)
        return cols
    cols = []
    for c in columns:
        if c in ("params", "metrics"):
            for r in flat:
                cols.extend(k for k in r if k.startswith(c + ".") and k not in cols)
        else:
            cols.append(c)
    return cols


def _emit_rows(
    rows: list[dict[str, Any]], fmt: str, columns: Sequence[str] = (), title: str | None = None
) -> None:
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    flat = [_flat_row(r) for r in rows]
    if fmt == "csv":
        cols = _columns(flat, ())
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in flat:
            w.writerow({k: "" if r.get(k) is None else r.get(k) for k in cols})
        click.echo(buf.getvalue(), nl=False)
        return
    cols = _columns(flat, columns)
    if fmt == "markdown":
        click.echo("| " + " | ".join(cols) + " |")
        click.echo("|" + "---|" * len(cols))
        for r in flat:
            click.echo("| " + " | ".join(_fmt(r.get(k)) for k in cols) + " |")
        return
    table = Table(title=title, show_lines=False)
    for c in cols:
        table.add_column(c.removeprefix("params.").removeprefix("metrics."), overflow="fold")
    for r in flat:
        table.add_row(*(_cell(r.get(k)) for k in cols))
    _out.print(table)


def _flat_row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if k in ("params", "metrics") and isinstance(v, dict):
            for kk, vv in v.items():
                out[f"{k}.{kk}"] = vv
        elif isinstance(v, dict):
            out[k] = ",".join(f"{a}={b}" for a, b in v.items())
        else:
            out[k] = v
    return out


class _ProgressView:
    """Live progress: trials done/failed/running, best so far, elapsed and ETA."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.live: Live | None = None
        self._last_line = 0.0

    def render(self, p: api.Progress) -> Table:
        t = Table.grid(padding=(0, 2))
        budget = f"/{p.budget}" if p.budget else ""
        t.add_row(
            f"[bold]{p.study}[/]",
            f"done {p.finished}{budget} (pruned {p.pruned})",
            f"[red]failed {p.failed}[/]",
            f"running {p.running}",
            f"elapsed {_duration(p.elapsed_s)}",
            f"ETA {_duration(p.eta_s)}",
        )
        if p.best_value is not None:
            params = ", ".join(f"{k}={_fmt(v)}" for k, v in (p.best_params or {}).items())
            t.add_row("best", f"{p.best_value:.6g} (trial {p.best_number})", params)
        return t

    def __call__(self, p: api.Progress) -> None:
        if self.quiet:
            now = time.monotonic()
            if now - self._last_line > 30:
                self._last_line = now
                _err.print(
                    f"{p.study}: {p.finished}/{p.budget or '-'} done, {p.failed} failed, "
                    f"{p.running} running, best {_fmt(p.best_value)}"
                )
            return
        if self.live is None:
            self.live = Live(self.render(p), console=_err, refresh_per_second=5, transient=False)
            self.live.start()
        else:
            self.live.update(self.render(p))

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            _err.print()


def _print_result(res: api.RunResult, quiet: bool) -> None:
    s = res.summary
    p = s.progress
    _err.print(
        f"[bold]{res.study.name}[/]: {s.reason.value}; status {s.status.value}; "
        f"{p.complete} complete, {p.pruned} pruned, {p.failed} failed (store {res.store_url})"
    )
    for note in s.notes:
        _err.print(f"note: {note}")
    if s.status.value == "interrupted" and s.reason.name in ("TIMEOUT", "STOPPED"):
        _err.print(f"resume with: hypersweep resume {res.study.name}")
    if res.top:
        _emit_rows(
            res.top,
            "table",
            ["number", "objective", "params", "duration_s"],
            title=f"top {len(res.top)} of {res.study.name}",
        )
        _err.print(f"more: hypersweep leaderboard {res.study.name} --top 50")


def _run_with_progress(quiet: bool, fn: Callable[[Callable[[api.Progress], None]], api.RunResult]) -> None:
    view = _ProgressView(quiet)
    try:
        res = fn(view)
    finally:
        view.close()
    _print_result(res, quiet)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="hypersweep")
def cli() -> None:
    """hypersweep: hyperparameter sweeps from YAML on Ray, tracked in a shared SQL store.

    Start with `hypersweep validate SPEC.yaml`, then `hypersweep run SPEC.yaml`.
    """


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--store", help=STORE_HELP)
@click.option("--name", help="Study name (default: the file's `name`, else its stem).")
@click.option("--trials", type=click.IntRange(min=0), help="Finished trials wanted (sets budget.trials).")
@click.option("--parallel", type=click.IntRange(min=1), help="Trials in flight at most.")
@click.option("--seed", type=int, help="Study seed (default: the file's, else drawn and recorded).")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a spec key for this run, value parsed as YAML (repeatable).",
)
@click.option("--executor", type=click.Choice(["ray", "local"]), default="ray", show_default=True)
@click.option("--address", help="Ray cluster address (default: start a local Ray).")
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
) -> None:
    """Run the sweep in SPEC (or resume its study), ending with a leaderboard."""
    if detach:
        if not address:
            raise click.UsageError("--detach needs --address: the Ray cluster that runs the driver")
        job = api.detach_sweep(
            spec,
            address=address,
            store=store,
            name=name,
            trials=trials,
            parallel=parallel,
            seed=seed,
            overrides=overrides,
        )
        _err.print(f"driver of {job['study']!r} submitted as Ray job {job['job_id']} (store {job['store']})")
        _err.print(
            f"follow it with: hypersweep studies / hypersweep leaderboard {job['study']}; "
            f"stop it with: hypersweep stop {job['study']}"
        )
        return
    if dry_run:
        plan = api.dry_run(spec, overrides=overrides, trials=trials, seed=seed)
        _out.print(
            f"[bold]{plan['name']}[/]: {plan['strategy']}, budget {plan['budget'] or 'unlimited'}; "
            f"first {len(plan['points'])} of {plan['total_points']} points (nothing recorded)"
        )
        for i, point in enumerate(plan["points"]):
            _out.print(f"  {i:>4}  " + ", ".join(f"{k}={_fmt(v)}" for k, v in point.items()))
        return
    _run_with_progress(
        quiet,
        lambda view: api.run_sweep(
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
        ),
    )


@cli.command()
@click.argument("name")
@click.option("--store", help=STORE_HELP)
@click.option("--trials", type=click.IntRange(min=0), help="New total of finished trials.")
@click.option("--retry-failed", is_flag=True, help="Rerun every failed trial's params once more.")
@click.option("--parallel", type=click.IntRange(min=1), help="Trials in flight at most.")
@click.option("--executor", type=click.Choice(["ray", "local"]), default="ray", show_default=True)
@click.option("--address", help="Ray cluster address (default: start a local Ray).")
@click.option("--artifact-root", help="Where artifacts and checkpoints go (default: as when the study ran).")
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
    quiet: bool,
) -> None:
    """Continue study NAME until its budget is met; nothing is lost or counted twice."""
    _run_with_progress(
        quiet,
        lambda view: api.resume_sweep(
            name,
            store=store,
            trials=trials,
            retry_failed=retry_failed,
            parallel=parallel,
            executor=executor,
            address=address,
            on_progress=view,
            artifact_root=artifact_root,
        ),
    )


@cli.command()
@click.argument("name")
@click.option("--store", help=STORE_HELP)
def stop(name: str, store: str | None) -> None:
    """Ask NAME's driver to stop: running trials finish, then it exits (resumable)."""
    api.stop_sweep(name, store=store)
    _err.print(f"asked the driver of {name!r} to stop; running trials finish first")


@cli.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec key.")
def validate(spec: str, fmt: str, overrides: tuple[str, ...]) -> None:
    """Check SPEC and print the normalised sweep: strategy, objective, parameters, grid size."""
    from hypersweep.spec import load_spec

    s = load_spec(spec, overrides)
    summary = s.summary()
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    obj = summary.get("objective")
    _out.print(f"[bold]{summary['name']}[/] ({summary['format']} format) is valid")
    _out.print(f"  strategy:  {summary['strategy']}")
    _out.print(f"  objective: {obj['direction']} {obj['metric']}" if obj else "  objective: (none)")
    if summary.get("grid_size") is not None:
        _out.print(f"  grid size: {summary['grid_size']}")
    table = Table(title="parameters")
    for c in ("name", "distribution", "arguments", "when"):
        table.add_column(c)
    for p in summary.get("parameters", []):
        args = p.get("args") or {}
        table.add_row(
            p.get("name", ""),
            p.get("distribution", ""),
            ", ".join(f"{k}={_fmt(v)}" for k, v in args.items()),
            ", ".join(f"{k} in {v}" for k, v in (p.get("when") or {}).items()),
        )
    _out.print(table)
    for w in summary.get("warnings", []):
        _err.print(f"[yellow]warning:[/] {w}")


@cli.command()
@click.option("--store", help=STORE_HELP)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
@click.argument("pattern", required=False)
def studies(store: str | None, fmt: str, pattern: str | None) -> None:
    """List studies: strategy, status, progress against the budget, best objective."""
    with api.open(store) as st:
        rows = api.study_rows(st, pattern)
    if fmt == "table":
        for r in rows:
            r["done"] = (
                f"{r['trials_complete'] + r['trials_pruned']}/{r['budget'] if r['budget'] is not None else '-'}"
            )
        cols = [
            "name",
            "strategy",
            "status",
            "done",
            "trials_pruned",
            "trials_failed",
            "trials_running",
            "best_objective",
            "updated_at",
        ]
        _emit_rows(
            [{k.removeprefix("trials_"): v for k, v in r.items()} for r in rows],
            fmt,
            [c.removeprefix("trials_") for c in cols],
        )
        return
    _emit_rows(rows, fmt)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--store", help=STORE_HELP)
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
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "markdown"]),
    default="table",
    show_default=True,
)
def leaderboard(
    names: tuple[str, ...],
    store: str | None,
    top: int,
    include_pruned: bool,
    where: str | None,
    sort: str | None,
    order: str | None,
    fmt: str,
) -> None:
    """Best trials of one or more studies (NAME may be a glob such as 'digits-*')."""
    with api.open(store) as st:
        rows = api.leaderboard_rows(
            st, list(names), top=top, include_pruned=include_pruned, where=where, sort=sort, order=order
        )
    multi = len(names) > 1 or any(c in n for n in names for c in "*?[")
    cols = (["study"] if multi else []) + ["number", "state", "objective", "params", "metrics", "duration_s"]
    _emit_rows(rows, fmt, cols)


@cli.command()
@click.argument("name")
@click.argument("number", type=int)
@click.option("--store", help=STORE_HELP)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def show(name: str, number: int, store: str | None, fmt: str) -> None:
    """Everything recorded about trial NUMBER of study NAME."""
    from hypersweep._inspect import show_trial, sparkline

    with api.open(store) as st:
        row = show_trial(st, name, number)
    if fmt == "json":
        click.echo(json.dumps(row, indent=2, default=str))
        return
    _out.print(
        f"[bold]{row['study']}[/] trial {row['number']}: {row['state']}, objective {_fmt(row['objective'])}, "
        f"seed {row['seed']}"
    )
    _out.print(
        f"  started {row['started_at']}  duration {_fmt(row['duration_s'])} s  host {row['worker_host']}"
        f"  node {row['ray_node_id'] or '-'}  gpus {','.join(row['gpu_ids']) or '-'}"
    )
    if row["retry_of"] is not None:
        _out.print(f"  reruns the params of trial {row['retry_of']}")
    if row["retried_by"]:
        _out.print(f"  its params ran again as trial(s) {', '.join(map(str, row['retried_by']))}")
    table = Table(title="params and final metrics")
    table.add_column("name")
    table.add_column("value")
    table.add_column("history")
    for k, v in row["params"].items():
        table.add_row(f"params.{k}", _fmt(v), "")
    for k, v in row["metrics"].items():
        series = [p["value"] for p in row["history"].get(k, [])]
        table.add_row(f"metrics.{k}", _fmt(v), f"{sparkline(series)} ({len(series)} steps)" if series else "")
    for k, pts in row["system_metrics"].items():
        series = [p["value"] for p in pts]
        table.add_row(k, _fmt(series[-1]) if series else "-", sparkline(series))
    _out.print(table)
    env = row["environment"]
    if env:
        pk = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
        _out.print(
            f"  environment: {env['python']}; {env['os']}; {env['cpu']} x{env['cpu_count']}; "
            f"GPUs {[g.get('name') for g in env['gpus']] or 'none'}; CUDA {env['cuda'] or '-'}"
        )
        _out.print(f"  packages: {pk}")
    for a in row["artifacts"]:
        _out.print(f"  artifact {a['name']}: {a['uri']} ({a['size']} bytes, sha256 {a['sha256'][:12]}...)")
    if row["error"]:
        _out.print("[red]error:[/]")
        _out.print(row["error"], markup=False, highlight=False)
    if row["log_tail"] and row["state"] == "failed":
        _out.print("[bold]log tail:[/]")
        _out.print("\n".join(row["log_tail"].splitlines()[-30:]), markup=False, highlight=False)


@cli.command()
@click.argument("name")
@click.option("--store", help=STORE_HELP)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet", "json"]), default="csv", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False), help="Output file (default: NAME.FORMAT).")
def export(name: str, store: str | None, fmt: str, out: str | None) -> None:
    """Write every trial of NAME with params, metrics and an environment summary."""
    from hypersweep._inspect import export_study

    with api.open(store) as st:
        path = export_study(st, name, out or f"{name}.{fmt}", fmt)
    _err.print(f"wrote {path}")


@cli.command()
@click.argument("name")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.option("--store", help=STORE_HELP)
def tag(name: str, pairs: tuple[str, ...], store: str | None) -> None:
    """Set tags on study NAME (KEY= with no value removes a tag)."""
    from hypersweep._manage import tag_study

    tags: dict[str, str | None] = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key:
            raise click.UsageError(f"tags are KEY=VALUE, got {p!r}")
        tags[key] = value or None  # KEY= removes the tag
    with api.open(store) as st:
        study = tag_study(st, name, tags)
    _err.print(f"{study.name}: " + ", ".join(f"{k}={v}" for k, v in study.tags.items()))


@cli.command()
@click.argument("name")
@click.argument("text")
@click.option("--store", help=STORE_HELP)
def note(name: str, text: str, store: str | None) -> None:
    """Attach a note to study NAME (replaces the previous one)."""
    from hypersweep._manage import note_study

    with api.open(store) as st:
        note_study(st, name, text)


@cli.command()
@click.argument("old")
@click.argument("new")
@click.option("--store", help=STORE_HELP)
def rename(old: str, new: str, store: str | None) -> None:
    """Rename a study (refused while a driver runs it)."""
    from hypersweep._manage import rename_study

    with api.open(store) as st:
        rename_study(st, old, new)
    _err.print(f"renamed {old!r} to {new!r}")


@cli.command()
@click.argument("name")
@click.option("--store", help=STORE_HELP)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, store: str | None, yes: bool) -> None:
    """Delete a study and all its trials (refused while a driver runs it)."""
    from hypersweep._manage import delete_study

    with api.open(store) as st:
        st.get_study(name)
        if not yes and not click.confirm(f"delete study {name!r} and all its trials?", default=False):
            raise click.exceptions.Abort()
        n = delete_study(st, name)
    _err.print(f"deleted {name!r} ({n} trials)")


@cli.command()
@click.argument("name")
@click.option("--store", help=STORE_HELP)
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The HTML file to write.")
def report(name: str, store: str | None, out: str) -> None:
    """Write a self-contained HTML report of study NAME (plots, leaderboard, environment)."""
    from hypersweep._report import write_report

    path = write_report(name, out, store=store)
    _err.print(f"wrote {path}")


@cli.command()
@click.argument("name")
@click.argument("number", type=int)
@click.option("--store", help=STORE_HELP)
@click.option(
    "--tolerance",
    type=float,
    default=1e-6,
    show_default=True,
    help="Allowed absolute or relative difference of each metric.",
)
@click.option("--executor", type=click.Choice(["ray", "local"]), default="ray", show_default=True)
@click.option("--address", help="Ray cluster address (default: start a local Ray).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def reproduce(
    name: str, number: int, store: str | None, tolerance: float, executor: str, address: str | None, fmt: str
) -> None:
    """Rerun trial NUMBER of NAME from scratch and show what differs (exit 6 when it does not reproduce)."""
    from dataclasses import asdict

    from hypersweep._reproduce import reproduce as run_reproduce

    res = run_reproduce(name, number, store=store, tolerance=tolerance, executor=executor, address=address)
    if fmt == "json":
        data = asdict(res)
        data["reproduced"] = res.reproduced
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        table = Table(title=f"{name} trial {number}: original vs rerun (tolerance {tolerance:g})")
        for c in ("metric", "original", "rerun", "abs diff", "rel diff", "within"):
            table.add_column(c)
        for m in res.metrics:
            table.add_row(
                m.name,
                _fmt(m.original),
                _fmt(m.rerun),
                _fmt(m.abs_diff),
                _fmt(m.rel_diff),
                "[green]yes[/]" if m.within else "[red]NO[/]",
            )
        for m in res.system_metrics:
            table.add_row(
                m.name, _fmt(m.original), _fmt(m.rerun), _fmt(m.abs_diff), _fmt(m.rel_diff), "(not compared)"
            )
        _out.print(table)
        for metric, step in res.history_divergence.items():
            _out.print(f"history of {metric} first diverges at step {step}")
        if res.environment:
            env = Table(title="what changed since the original ran")
            for c in ("what", "original", "now"):
                env.add_column(c)
            for what, was, now in res.environment:
                env.add_row(what, _fmt(was), _fmt(now))
            _out.print(env)
        else:
            _out.print("environment, code, data and sweep file: unchanged")
        for w in res.warnings:
            _err.print(f"[yellow]warning:[/] {w}")
        if res.rerun_state.value != "complete":
            _err.print(f"the rerun {res.rerun_state.value}: {res.rerun_error or ''}", markup=False)
        _out.print("[green]reproduced[/]" if res.reproduced else "[red]did not reproduce[/]")
    if not res.reproduced:
        sys.exit(6)


@cli.command()
@click.argument("name")
@click.argument("number", type=int)
@click.option("--store", help=STORE_HELP)
@click.option("--follow", "-f", is_flag=True, help="Keep printing while the trial runs.")
def logs(name: str, number: int, store: str | None, follow: bool) -> None:
    """Print the stdout and stderr kept for trial NUMBER of NAME (the tail, size-capped)."""
    shown = 0
    while True:
        with api.open(store) as st:
            study = st.get_study(name)
            t = st.get_trial(study.study_id, number)
        text = t.log_tail or ""
        if len(text) > shown:
            click.echo(text[shown:], nl=False)
            shown = len(text)
        if not follow or t.state.is_terminal:
            break
        time.sleep(1.0)
    if not shown and not follow:
        _err.print(f"trial {number} of {name!r} has no log yet (state {t.state.value})")


@cli.command()
@click.argument("name")
@click.argument("number", type=int)
@click.option("--store", help=STORE_HELP)
@click.option(
    "--download", type=click.Path(file_okay=False), help="Fetch them into this folder (sha256 verified)."
)
@click.option("--checkpoints", is_flag=True, help="Include checkpoints.")
def artifacts(name: str, number: int, store: str | None, download: str | None, checkpoints: bool) -> None:
    """List (and fetch) the artifacts of trial NUMBER of NAME."""
    from hypersweep._artifacts_api import download_artifacts, list_artifacts

    with api.open(store) as st:
        records = list_artifacts(st, name, number)
        table = Table(title=f"artifacts of {name} trial {number}")
        for c in ("name", "kind", "size", "sha256", "uri"):
            table.add_column(c, overflow="fold")
        for a in records:
            if a.kind == "file" or checkpoints:
                table.add_row(a.name, a.kind, str(a.size), a.sha256[:16], a.uri)
        _out.print(table)
        if download:
            kinds = None if checkpoints else ("file",)
            paths = download_artifacts(st, name, number, download, kinds=kinds)
            _err.print(f"downloaded {len(paths)} file(s) to {download}, sha256 verified")


@cli.command()
@click.argument("name")
@click.option("--store", help=STORE_HELP)
@click.option("--download", type=click.Path(file_okay=False), help="Fetch its artifacts into this folder.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def best(name: str, store: str | None, download: str | None, fmt: str) -> None:
    """The best trial of NAME, its params, metrics and artifacts: from a sweep to a deployable model."""
    from hypersweep._artifacts_api import best_trial

    with api.open(store) as st:
        row = best_trial(st, name, download=download)
    if fmt == "json":
        click.echo(json.dumps(row, indent=2, default=str))
        return
    _out.print(f"[bold]{name}[/]: best trial {row['number']}, objective {_fmt(row['objective'])}")
    for k, v in row["params"].items():
        _out.print(f"  params.{k} = {_fmt(v)}")
    for k, v in row["metrics"].items():
        _out.print(f"  metrics.{k} = {_fmt(v)}")
    for a in row.get("artifacts", []):
        a = a if isinstance(a, dict) else a.__dict__
        _out.print(f"  artifact {a['name']} ({a['size']} bytes) {a['uri']}")
    if download:
        _err.print(f"downloaded {len(row.get('downloaded', []))} file(s) to {download}, sha256 verified")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of the native sweep format (for editor validation)."""
    from hypersweep.spec import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@cli.group()
def db() -> None:
    """Manage the tracking store."""


@db.command("upgrade")
@click.option("--store", help=STORE_HELP)
def db_upgrade(store: str | None) -> None:
    """Migrate the store's schema to this release (creates a new store at the latest revision)."""
    from hypersweep.store import mask_url, upgrade_store

    url = api.resolve_store_url(store)
    upgrade_store(url)
    _err.print(f"store {mask_url(url)} is at the latest schema revision")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: map the error tree to exit codes, never a traceback for a user mistake."""
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        _err.print("aborted")
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(2 if isinstance(e, click.UsageError) else e.exit_code)
    except HypersweepError as e:
        _err.print(f"error: {e}", markup=False)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        _err.print("interrupted: running trials were marked interrupted; the study is resumable")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(0)


if __name__ == "__main__":
    main()
