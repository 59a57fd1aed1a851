"""The HTML report: a real (inline) sweep with pruning, the file's sections, and a headless-browser check
that every plot renders with data and no JavaScript error (skipped without Chromium)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from hypersweep.errors import SweepNotFoundError, UsageError
from hypersweep.orchestrate import run_sweep
from hypersweep.query import leaderboard_rows
from hypersweep.records import Direction, MetricPoint, NewStudy, TrialRecord, TrialState
from hypersweep.store import opened

plotly = pytest.importorskip("plotly")

from hypersweep.query import write_report  # noqa: E402
from hypersweep.strategies import HistoryTrial  # noqa: E402
from hypersweep.strategies._viz import FIGURE_TITLES, study_figures  # noqa: E402

NAME = "report-demo"

TRIAL = """
import math

import hypersweep


def train(params):
    base = {"sgd": 0.6, "adam": 0.3, "rmsprop": 0.45}[params["optimizer"]]
    if params["optimizer"] == "sgd":
        base -= 0.1 * params["momentum"]
    loss = 0.0
    for step in range(6):
        loss = base + abs(math.log10(params["lr"]) + 2.5) * 0.2 + 0.05 * params["layers"] + 1.0 / (step + 1)
        hypersweep.report(step, loss=loss)
    return {"loss": loss, "accuracy": 1.0 - loss / 3.0}
"""

SWEEP = f"""
name: {NAME}
description: "toy <b>sweep</b> & friends"
objective: {{metric: loss, goal: minimize}}
strategy: tpe
seed: 3
budget: {{trials: 15}}
trial: {{function: "report_toy:train"}}
early_stopping: {{type: median, startup_trials: 4, warmup_steps: 1}}
parameters:
  lr: {{type: float, low: 1.0e-5, high: 1.0, log: true}}
  optimizer: {{type: categorical, values: [sgd, adam, rmsprop]}}
  momentum: {{type: float, low: 0.0, high: 0.99, when: {{optimizer: sgd}}}}
  layers: {{type: int, low: 1, high: 4}}
  epochs: {{value: 6}}
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A store holding one finished 15-trial sweep (some trials pruned) and its report."""
    folder = tmp_path_factory.mktemp("report")
    (folder / "report_toy.py").write_text(TRIAL)
    (folder / "sweep.yaml").write_text(textwrap.dedent(SWEEP))
    url = f"sqlite:///{folder / 'hs.db'}"
    result = run_sweep(folder / "sweep.yaml", store=url, executor="local")
    with opened(url) as st:
        counts = st.study_counts(result.study.study_id)
    assert counts[TrialState.COMPLETE] >= 2 and counts[TrialState.PRUNED] >= 1, counts
    out = write_report(NAME, folder / "report.html", store=url)
    return url, out, counts


def test_report_has_every_section(swept):
    url, out, counts = swept
    text = out.read_text(encoding="utf-8")
    for anchor in ("summary", "leaderboard", "plots", "environment", "spec"):
        assert f'id="{anchor}"' in text
    assert re.findall(r'data-key="([a-z_]+)"', text) == list(FIGURE_TITLES)  # all five, in order
    assert text.count("Plotly.newPlot(") == len(FIGURE_TITLES)
    # self-contained: plotly.js once, inline; no external script, stylesheet or CDN outside of it
    assert len(re.findall(r"plotly\.js v\d", text)) == 1
    rest = re.sub(r'<script charset="utf-8">.*?</script>', "", text, count=1, flags=re.S)
    assert "plotly.js v" not in rest and len(rest) < len(text) // 2
    assert (
        not re.search(r"<script[^>]*\bsrc=", rest)
        and "<link" not in rest
        and not re.search("https?://", rest)
    )
    # summary
    assert "toy &lt;b&gt;sweep&lt;/b&gt; &amp; friends" in text and "<b>sweep</b>" not in text
    assert ">tpe<" in text and ">loss (minimize)<" in text and f">{counts[TrialState.PRUNED]}<" in text
    # leaderboard: the complete trials, best first, with the categorical values shown as values
    with opened(url) as st:
        rows = leaderboard_rows(st, [NAME], top=20)
        best = st.get_trial(st.get_study(NAME).study_id, rows[0]["number"])
        env = st.get_environment(best.environment_id)
    board = text[text.index('id="leaderboard"') : text.index('id="plots"')]
    assert board.count("<tr") == len(rows) + 1 == counts[TrialState.COMPLETE] + 1
    assert '<tr class="best">' in board and f"{rows[0]['objective']:.6g}" in board
    assert any(f">{v}<" in board for v in ("sgd", "adam", "rmsprop"))
    # environment of the best trial
    envs = text[text.index('id="environment"') : text.index('id="spec"')]
    assert env.python_version in envs and html.escape(env.os) in envs and "scikit-learn" in envs


def test_figures_show_categorical_values_and_learning_curves(swept):
    url, _, counts = swept
    with opened(url) as st:
        study = st.get_study(NAME)
        hist = [HistoryTrial(t, tuple(st.get_history(t.trial_id))) for t in st.get_trials(study.study_id)]
    figs = study_figures(None, hist, "loss", Direction.MINIMIZE)
    assert list(figs) == list(FIGURE_TITLES)
    curves = [t for t in figs["intermediate_values"].data if len(t.x)]
    assert len(curves) == counts[TrialState.COMPLETE] + counts[TrialState.PRUNED]
    xs = {v for t in figs["slice"].data for v in t.x}
    assert {"'sgd'", "'adam'", "'rmsprop'"} & xs  # values (Optuna shows their repr), not indices
    names = [t.name for t in figs["optimization_history"].data]
    assert "Best Value" in names


def _history(rows):
    return [
        HistoryTrial(
            TrialRecord(trial_id=n + 1, study_id=1, number=n, state=s, params=p, seed=0, objective=v),
            tuple(MetricPoint("loss", i, 1.0 / (i + 1)) for i in range(k)),
        )
        for n, (s, p, v, k) in enumerate(rows)
    ]


def test_degenerate_studies_omit_figures_with_a_note():
    notes: dict[str, str] = {}
    one = _history([(TrialState.COMPLETE, {"x": 1.0}, 0.5, 0)])
    figs = study_figures(None, one, "loss", Direction.MINIMIZE, notes=notes)
    assert "param_importances" not in figs and "intermediate_values" not in figs
    assert "optimization_history" in figs and notes["param_importances"] and notes["intermediate_values"]
    notes.clear()
    flat = _history([(TrialState.COMPLETE, {"x": float(i)}, 1.0, 2) for i in range(4)])  # zero variance
    figs = study_figures(None, flat, "loss", Direction.MINIMIZE, notes=notes)
    assert "param_importances" not in figs and "param_importances" in notes
    assert "intermediate_values" in figs
    assert study_figures(None, one, None, None) == {}


def test_no_complete_trial_is_a_usage_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    with opened(url, create=True) as st:
        st.create_study(
            NewStudy(
                name="empty",
                spec_text="",
                spec_hash="x",
                spec_format="native",
                strategy="random",
                objective_metric="loss",
                direction=Direction.MINIMIZE,
                budget_trials=3,
                seed=0,
                workdir=str(tmp_path),
            )
        )
    with pytest.raises(UsageError, match="no complete trial"):
        write_report("empty", tmp_path / "r.html", store=url)
    with pytest.raises(SweepNotFoundError):
        write_report("missing", tmp_path / "r.html", store=url)
    assert not (tmp_path / "r.html").exists()


def test_cli_report(swept, tmp_path):
    from click.testing import CliRunner

    from hypersweep.cli import cli

    url, _, _ = swept
    res = CliRunner().invoke(cli, ["report", NAME, "--store", url, "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r.html").read_text(encoding="utf-8").count("Plotly.newPlot(") == len(FIGURE_TITLES)


def test_cli_report_prints_only_its_own_line(swept, tmp_path):
    """The real command's output is the one line it writes: no Optuna log line ("A new study created in
    memory ...") from the study the figures are built on."""
    import os
    import sys

    url, _, _ = swept
    out = tmp_path / "r.html"
    proc = subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", "report", NAME, "--store", url, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        env=dict(os.environ, RAY_AUTH_MODE="disabled"),
    )
    assert proc.returncode == 0, proc.stderr
    assert (proc.stdout + proc.stderr).strip() == f"wrote {out}"


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def test_report_renders_in_headless_chromium(swept, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("needs Chromium (/usr/bin/chromium or `chromium` on PATH; apt-get install chromium)")
    _, out, _ = swept
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--dump-dom",
        out.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Uncaught" not in proc.stderr, proc.stderr[-3000:]
    m = re.search(r'<pre id="hs-check"[^>]*>(.*?)</pre>', proc.stdout, re.S)
    assert m and m.group(1).strip(), "the report's self-check did not run:\n" + proc.stdout[-2000:]
    check = json.loads(html.unescape(m.group(1)))
    assert check["errors"] == []
    assert list(check["figures"]) == list(FIGURE_TITLES)
    for key, got in check["figures"].items():
        assert got["svg"] >= 1 and got["traces"] >= 1 and got["marks"] >= 1 and got["values"] >= 1, (key, got)
