"""The CLI shell: help for every command, validate's output, exit codes, no tracebacks for user mistakes.

Commands run in-process through click's ``CliRunner`` (with the real error mapping of ``main``); a few
cases run ``python -m hypersweep.cli`` as a subprocess to prove the exit codes a shell sees.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _clirun import run

from hypersweep.cli import cli

SWEEPS = Path(__file__).parents[2] / "sweeps"


def run_subprocess(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help(command):
    p = run(command, "--help")
    assert p.returncode == 0 and "Usage:" in p.stdout
    assert (cli.commands[command].help or "").strip()


def test_validate_prints_the_normalised_spec():
    p = run("validate", str(SWEEPS / "wine_tpe.yaml"))
    assert p.returncode == 0, p.stderr
    assert "wine-tpe" in p.stdout and "tpe" in p.stdout and "maximize val_accuracy" in p.stdout
    assert "n_estimators" in p.stdout and "model in" in p.stdout
    p = run("validate", str(SWEEPS / "digits_grid.yaml"), "--format", "json")
    data = json.loads(p.stdout)
    assert data["grid_size"] == 12 and data["strategy"]["name"] == "grid"


def test_validate_a_wandb_config_prints_its_space():
    p = run("validate", str(SWEEPS / "diabetes_wandb.yaml"))
    assert p.returncode == 0, p.stderr
    assert "wandb" in p.stdout and "q_uniform" in p.stdout and "log_uniform_values" in p.stdout


def test_three_mistakes_are_all_reported_with_lines(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "objective: {metric: acc, goal: maximize}\n"
        "strategy: tpe\n"
        "trial: {function: 'nowhere:train'}\n"
        "parameters:\n"
        "  lr: {type: float, low: 1.0, high: 0.1}\n"
        "  kind: {type: categorcal, values: [a, b]}\n"
        "budgett: {trials: 3}\n"
    )
    p = run("validate", str(bad))
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    for line, words in ((3, "nowhere"), (5, "low"), (6, "categorical"), (7, "budget")):
        assert f"bad.yaml:{line}" in p.stderr, p.stderr
        assert words in p.stderr


@pytest.mark.parametrize(
    "args, code, words",
    [
        (("validate", "missing.yaml"), 2, "missing.yaml"),
        (("leaderboard", "x", "--store", "sqlite:///nope/none.db"), 3, "none.db"),
        (("studies", "--store", "postgresql+psycopg://u:secret@127.0.0.1:1/db"), 3, "***"),
        (("run", "--bogus"), 2, "No such option"),
    ],
)
def test_exit_codes_and_messages(tmp_path, args, code, words):
    p = run(*args, cwd=tmp_path)
    assert p.returncode == code, p.stderr
    assert words in p.stderr
    assert "Traceback" not in p.stderr and "secret" not in p.stderr + p.stdout


@pytest.mark.parametrize(
    "args, code, words",
    [
        (("validate", "missing.yaml"), 2, "missing.yaml"),
        (("studies", "--store", "postgresql+psycopg://u:secret@127.0.0.1:1/db"), 3, "***"),
        (("run", "--bogus"), 2, "No such option"),
    ],
)
def test_exit_codes_seen_by_a_shell(tmp_path, args, code, words):
    p = run_subprocess(*args, cwd=tmp_path)
    assert p.returncode == code, p.stderr
    assert words in p.stderr
    assert "Traceback" not in p.stderr and "secret" not in p.stderr + p.stdout


def test_readers_never_create_a_store(tmp_path):
    p = run("studies", cwd=tmp_path)
    assert p.returncode == 3 and "hypersweep.db" in p.stderr
    assert not (tmp_path / "hypersweep.db").exists()


def test_schema_is_json():
    p = run("schema")
    schema = json.loads(p.stdout)
    assert "properties" in schema and "parameters" in schema["properties"]


def test_dry_run_records_nothing(tmp_path):
    p = run("run", str(SWEEPS / "digits_grid.yaml"), "--dry-run", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "12" in p.stdout and "kernel=rbf" in p.stdout
    assert not (tmp_path / "hypersweep.db").exists()
