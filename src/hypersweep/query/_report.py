"""``write_report``: one self-contained HTML file about a study (``hypersweep report NAME --out FILE``).

The file opens without network: plotly.js is embedded once, inline, and every figure is Optuna's own
(built by :mod:`hypersweep.strategies._viz` from the store's history). Besides the figures it holds the
study's summary, the top-20 leaderboard, the environment of the best trial and the sweep file. Every
string that comes from users or the store is escaped with :func:`html.escape`.

A small inline script writes, once the page has loaded, what each figure rendered (SVG roots, traces,
data points) and any JavaScript error into the hidden ``<pre id="hs-check">``; the integration test
reads it back from a headless browser.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from hypersweep.errors import SpecError, UsageError
from hypersweep.query._rows import leaderboard_rows, objectives_of, pareto_size
from hypersweep.records import EnvironmentRecord, StudyRecord, TrialRecord, TrialState, is_system_metric
from hypersweep.spec import SweepSpec, parse_spec
from hypersweep.store import StoreReader, opened
from hypersweep.strategies import HistoryTrial

__all__ = ["write_report"]

TOP = 20

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
main{max-width:1280px;margin:0 auto;padding:24px}
header h1{margin:0 0 4px;font-size:26px}
header p{margin:0;color:#52606d}
nav{margin:12px 0 0}nav a{margin-right:14px;color:#2463eb;text-decoration:none}
section.card{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:16px 20px;margin:18px 0}
h2{margin:0 0 12px;font-size:19px}h3{margin:16px 0 8px;font-size:16px}
table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f0f4f8;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.kv td.num{text-align:left}
table.kv th{background:none;position:static;color:#52606d;font-weight:600;white-space:nowrap}
.scroll{overflow-x:auto;max-height:720px}
.note{color:#7b8794;font-style:italic}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:8px 28px}
pre.spec{background:#f0f4f8;padding:12px;border-radius:6px;overflow-x:auto}
tr.best td{background:#e8f5e9}
"""

# Installed before plotly.js so that errors while it loads or renders are recorded too.
_ERRORS_JS = """
window.__hsErrors = [];
window.addEventListener('error', function (e) {
  window.__hsErrors.push(String(e.message || e.type) + (e.filename ? ' @' + e.filename + ':' + e.lineno : ''));
});
window.addEventListener('unhandledrejection', function (e) { window.__hsErrors.push('unhandled: ' + e.reason); });
(function () {
  var orig = console.error;
  console.error = function () {
    window.__hsErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return orig.apply(console, arguments);
  };
})();
"""

_CHECK_JS = """
function hsCheck() {
  var out = {figures: {}, errors: window.__hsErrors || []};
  document.querySelectorAll('.hs-figure').forEach(function (sec) {
    var gd = sec.querySelector('.js-plotly-plot');
    var data = (gd && gd.data) || [];
    var values = 0;
    data.forEach(function (t) {
      ['x', 'y', 'dimensions'].forEach(function (k) { if (t[k] && t[k].length) values += t[k].length; });
    });
    out.figures[sec.dataset.key] = {
      svg: gd ? gd.querySelectorAll('.main-svg').length : 0,
      traces: gd ? gd.querySelectorAll('g.trace').length : 0,
      marks: gd ? gd.querySelectorAll('path.point, path.js-line, g.trace path').length : 0,
      values: values
    };
  });
  document.getElementById('hs-check').textContent = JSON.stringify(out);
}
window.addEventListener('load', function () { hsCheck(); setTimeout(hsCheck, 300); });
"""


# -- formatting ----------------------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    """Plain text for a table cell (not yet escaped)."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.6g}" if math.isfinite(v) else str(v)
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, default=str)


def _cell(v: Any, tag: str = "td") -> str:
    num = isinstance(v, int | float) and not isinstance(v, bool)
    cls = ' class="num"' if num and tag == "td" else ""
    return f"<{tag}{cls}>{escape(_fmt(v))}</{tag}>"


def _kv_table(rows: Iterable[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th>{_cell(v)}</tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _card(anchor: str, title: str, body: str) -> str:
    return f'<section class="card" id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'


def _glob_literal(name: str) -> str:
    """``name`` as a glob that matches only itself (``leaderboard_rows`` treats ``*?[`` as a pattern)."""
    return re.sub(r"([*?\[])", r"[\1]", name)


# -- sections ------------------------------------------------------------------------------------------
def _summary(st: StoreReader, study: StudyRecord, counts: Mapping[TrialState, int]) -> str:
    objective = (
        f"{study.objective_metric} ({study.direction.value if study.direction else 'minimize'})"
        if study.objective_metric
        else None
    )
    several = objectives_of(study) if len(study.directions) > 1 else []
    if several:
        objective = ", ".join(f"{m} ({d.value})" for m, d in several)
    git = study.git_commit
    if git and study.git_dirty:
        git += " (uncommitted changes)"
    left: list[tuple[str, Any]] = [
        ("study", study.name),
        ("description", study.description),
        ("strategy", study.strategy),
        ("objectives" if several else "objective", objective),
        *([("Pareto front (trials)", pareto_size(st, study))] if several else []),
        ("budget (trials)", study.budget_trials),
        ("status", study.status.value),
        ("seed", study.seed),
        ("git commit", git),
    ]
    right: list[tuple[str, Any]] = [
        (f"{s.value} trials", counts.get(s, 0)) for s in TrialState if s is not TrialState.WAITING
    ]
    right += [
        ("created", study.created_at),
        ("updated", study.updated_at),
        ("launched by", "@".join(x for x in (study.launched_by, study.launched_host) if x) or None),
        ("sweep file", study.spec_path),
        ("store", st.url_masked),
    ]
    return f'<div class="grid">{_kv_table(left)}{_kv_table(right)}</div>'


def _leaderboard(rows: Sequence[Mapping[str, Any]], objective: str | None) -> str:
    if not rows:
        return '<p class="note">No complete trial yet.</p>'
    several = any("values" in r for r in rows)  # several objectives: the Pareto rank and every value
    goals = list(dict.fromkeys(k for r in rows for k in r.get("values", {}))) if several else [objective]
    params = list(dict.fromkeys(k for r in rows for k in r["params"]))
    metrics = list(
        dict.fromkeys(k for r in rows for k in r["metrics"] if k not in goals and not is_system_metric(k))
    )[:8]
    first = ["Pareto rank"] if several else ["rank"]
    names = [g or "objective" for g in goals]
    head = [*first, "trial", *names, *params, *metrics, "duration (s)", "seed"]
    out = ['<div class="scroll"><table><thead><tr>', *(_cell(h, "th") for h in head), "</tr></thead><tbody>"]
    for rank, r in enumerate(rows, 1):
        shown_rank = r.get("pareto_rank") if several else rank
        values = [r.get("values", {}).get(g) for g in goals] if several else [r["objective"]]
        cells = [
            shown_rank,
            r["number"],
            *values,
            *(r["params"].get(p) for p in params),
            *(r["metrics"].get(m) for m in metrics),
            r["duration_s"],
            r["seed"],
        ]
        best = shown_rank == 1
        tr = '<tr class="best">' if best else "<tr>"
        out.append(tr + "".join(map(_cell, cells)) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _environment(trial: TrialRecord | None, env: EnvironmentRecord | None) -> str:
    if trial is None:
        return '<p class="note">No complete trial yet.</p>'
    where = [
        ("trial", trial.number),
        ("host", trial.worker_host),
        ("Ray node", trial.ray_node_id),
        ("GPU ids", ", ".join(trial.gpu_ids) or None),
    ]
    if env is None:
        return _kv_table(where) + '<p class="note">The trial recorded no environment.</p>'
    gpus = ", ".join(
        f"{g.get('name', '?')}" + (f" ({g['memory_mb']} MB)" if g.get("memory_mb") else "") for g in env.gpus
    )
    system = [
        ("python", f"{env.python_implementation} {env.python_version}"),
        ("OS", env.os),
        ("kernel", env.kernel),
        ("CPU", f"{env.cpu_model} × {env.cpu_count}"),
        ("GPUs", gpus or "none"),
        ("GPU driver", env.gpu_driver),
        ("CUDA", env.cuda_version),
    ]
    pkgs = (
        _kv_table(sorted(env.ml_packages.items())) if env.ml_packages else '<p class="note">none recorded</p>'
    )
    return (
        f'<div class="grid"><div><h3>Where it ran</h3>{_kv_table(where)}<h3>System</h3>{_kv_table(system)}'
        f"</div><div><h3>ML packages</h3>{pkgs}</div></div>"
    )


def _figures(figures: Mapping[str, Any], notes: Mapping[str, str], several: bool = False) -> str:
    from hypersweep.strategies._viz import figure_titles

    parts = []
    for key, title in figure_titles(several).items():
        fig = figures.get(key)
        if fig is None:
            if key in notes:
                parts.append(f'<h3>{escape(title)}</h3><p class="note">Not shown: {escape(notes[key])}.</p>')
            continue
        height = 460
        if key == "param_importances":  # one bar per parameter
            height = 140 + 40 * sum(len(t.y or ()) for t in fig.data)
        fig.update_layout(template="plotly_white", height=min(height, 460), title_text="", margin={"t": 40})
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"hs-fig-{key}",
            config={"displaylogo": False, "responsive": True},
        )
        parts.append(f'<div class="hs-figure" data-key="{escape(key)}"><h3>{escape(title)}</h3>{div}</div>')
    return "".join(parts)


def _spec_of(study: StudyRecord) -> SweepSpec | None:
    try:
        return parse_spec(study.spec_text, file=study.spec_path, workdir=study.workdir, check_files=False)
    except SpecError:
        return None  # an old or hand-edited sweep file: figures fall back to the recorded values


# -- the page ------------------------------------------------------------------------------------------
def write_report(name: str, out: str | os.PathLike[str], *, store: str | None = None) -> Path:
    """Write the HTML report of study ``name`` to ``out`` and return its path.

    Reads the store only (``store`` as for every command: ``--store``, ``HYPERSWEEP_STORE``, or
    ``sqlite:///hypersweep.db``). Raises ``SweepNotFoundError`` for an unknown study and ``UsageError``
    when it has no complete trial yet.
    """
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as e:
        raise UsageError("the HTML report needs plotly: pip install plotly") from e

    from hypersweep.strategies._viz import study_figures

    with opened(store) as st:
        study = st.get_study(name)
        counts = st.study_counts(study.study_id)
        if not counts.get(TrialState.COMPLETE):
            raise UsageError(
                f"study {name!r} has no complete trial yet; run or resume it first (hypersweep resume {shlex.quote(name)})"
            )
        trials = st.get_trials(study.study_id)
        points = st.get_histories([t.trial_id for t in trials if t.state.is_finished])
        history = [HistoryTrial(t, tuple(points.get(t.trial_id, ()))) for t in trials]
        rows = leaderboard_rows(st, [_glob_literal(name)], top=TOP)
        best = st.get_trial(study.study_id, rows[0]["number"]) if rows else None
        env = st.get_environment(best.environment_id) if best and best.environment_id is not None else None
        summary = _summary(st, study, counts)

    notes: dict[str, str] = {}
    figures = study_figures(
        _spec_of(study),
        history,
        study.objective_metric,
        study.direction,
        notes=notes,
        objectives=objectives_of(study),
    )
    title = f"hypersweep report: {study.name}"
    subtitle = f"generated {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
    sections = [
        _card("summary", "Summary", summary),
        _card("leaderboard", f"Leaderboard (top {TOP})", _leaderboard(rows, study.objective_metric)),
        _card("plots", "Plots", _figures(figures, notes, several=len(study.directions) > 1)),
        _card("environment", "Environment of the best trial", _environment(best, env)),
        _card("spec", "Sweep file", f'<pre class="spec">{escape(study.spec_text)}</pre>'),
    ]
    nav = "".join(
        f'<a href="#{a}">{t}</a>'
        for a, t in (
            ("summary", "Summary"),
            ("leaderboard", "Leaderboard"),
            ("plots", "Plots"),
            ("environment", "Environment"),
            ("spec", "Sweep file"),
        )
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style>"
        f"<script>{_ERRORS_JS}</script>"
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
        f'<script charset="utf-8">{get_plotlyjs()}</script>'
        f"</head><body><main><header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p><nav>{nav}</nav>"
        f"</header>{''.join(sections)}"
        f'<pre id="hs-check" hidden></pre><script>{_CHECK_JS}</script></main></body></html>\n'
    )
    path = Path(out)
    if path.is_dir() or not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder, or its folder does not exist")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path
