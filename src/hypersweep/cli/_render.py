"""One renderer for every command: rows as table/json/csv/markdown, values, and the live progress view."""

from __future__ import annotations

import csv
import io
import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from hypersweep.engine import Progress
from hypersweep.orchestrate import RunResult

__all__ = [
    "ProgressView",
    "emit_json",
    "emit_rows",
    "err",
    "fmt_duration",
    "fmt_value",
    "out",
    "print_result",
    "run_with_progress",
    "sparkline",
]

# on a terminal, messages wrap at its width; into a pipe or a file, one message stays one line
err = Console(stderr=True, highlight=False, soft_wrap=not sys.stderr.isatty())
out = Console(highlight=False, width=None if sys.stdout.isatty() else 160, soft_wrap=not sys.stdout.isatty())


def fmt_value(v: Any) -> str:
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
    return fmt_value(v)


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _columns(flat: list[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    """The given columns, with "params", "values" and "metrics" expanded to every params.X / values.X /
    metrics.X present (a metric shown as an objective value is not repeated)."""
    if not columns:
        cols: list[str] = []
        for r in flat:
            cols.extend(k for k in r if k not in cols)
        return cols
    cols = []
    for c in columns:
        if c in ("params", "metrics", "values"):
            for r in flat:
                cols.extend(
                    k
                    for k in r
                    if k.startswith(c + ".")
                    and k not in cols
                    and not (c == "metrics" and "values." + k.removeprefix("metrics.") in r)
                )
        else:
            cols.append(c)
    return cols


def emit_rows(
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
            click.echo("| " + " | ".join(fmt_value(r.get(k)) for k in cols) + " |")
        return
    table = Table(title=title, show_lines=False)
    for c in cols:
        table.add_column(
            c.removeprefix("params.").removeprefix("metrics.").removeprefix("values."), overflow="fold"
        )
    for r in flat:
        table.add_row(*(_cell(r.get(k)) for k in cols))
    out.print(table)


def _flat_row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if k in ("params", "metrics", "values") and isinstance(v, dict):
            for kk, vv in v.items():
                out[f"{k}.{kk}"] = vv
        elif isinstance(v, dict):
            out[k] = ",".join(f"{a}={b}" for a, b in v.items())
        else:
            out[k] = v
    return out


class ProgressView:
    """Live progress: trials done/failed/running, best so far, elapsed and ETA."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.live: Live | None = None
        self._last_line = 0.0

    def render(self, p: Progress) -> Table:
        t = Table.grid(padding=(0, 2))
        budget = f"/{p.budget}" if p.budget else ""
        t.add_row(
            f"[bold]{p.study}[/]",
            f"done {p.finished}{budget} (pruned {p.pruned})",
            f"[red]failed {p.failed}[/]",
            f"running {p.running}",
            f"elapsed {fmt_duration(p.elapsed_s)}",
            f"ETA {fmt_duration(p.eta_s)}",
        )
        if p.best_value is not None:
            params = ", ".join(f"{k}={fmt_value(v)}" for k, v in (p.best_params or {}).items())
            t.add_row("best", f"{p.best_value:.6g} (trial {p.best_number})", params)
        return t

    def __call__(self, p: Progress) -> None:
        if self.quiet:
            now = time.monotonic()
            if now - self._last_line > 30:
                self._last_line = now
                err.print(
                    f"{p.study}: {p.finished}/{p.budget or '-'} done, {p.failed} failed, "
                    f"{p.running} running, best {fmt_value(p.best_value)}"
                )
            return
        if self.live is None:
            self.live = Live(self.render(p), console=err, refresh_per_second=5, transient=False)
            self.live.start()
        else:
            self.live.update(self.render(p))

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            err.print()


def print_result(res: RunResult, quiet: bool) -> None:
    s = res.summary
    p = s.progress
    err.print(
        f"[bold]{res.study.name}[/]: {s.reason.value}; status {s.status.value}; "
        f"{p.complete} complete, {p.pruned} pruned, {p.failed} failed (store {res.store_url})"
    )
    for note in s.notes:
        err.print(f"note: {note}")
    if s.status.value == "interrupted" and s.reason.name in ("TIMEOUT", "STOPPED"):
        err.print(f"resume with: hypersweep resume {shlex.quote(res.study.name)}")
    if res.top:
        feasible = ["feasible"] if any("feasible" in r for r in res.top) else []
        emit_rows(
            res.top,
            "table",
            ["number", "pareto_rank", *feasible, "values", "params", "duration_s"]
            if any("values" in r for r in res.top)
            else ["number", *feasible, "objective", "params", "duration_s"],
            title=f"top {len(res.top)} of {res.study.name}",
        )
        err.print(f"more: hypersweep leaderboard {shlex.quote(res.study.name)} --top 50")


def run_with_progress(quiet: bool, fn: Callable[[Callable[[Progress], None]], RunResult]) -> None:
    view = ProgressView(quiet)
    try:
        res = fn(view)
    finally:
        view.close()
    print_result(res, quiet)


def emit_json(value: Any) -> None:
    """``value`` as indented JSON on stdout (dates and other objects as their ``str``)."""
    click.echo(json.dumps(value, indent=2, default=str))


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 40) -> str:
    """A one-line chart of a series (resampled to ``width`` points)."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [values[int(i * step)] for i in range(width)]
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0
    return "".join(_BARS[min(len(_BARS) - 1, int((v - lo) / span * (len(_BARS) - 1) + 0.5))] for v in values)
