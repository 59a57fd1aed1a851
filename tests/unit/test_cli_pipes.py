"""Into a pipe or a file, a message stays one line: nothing wraps it at 80 columns mid-sentence (on a
terminal, rich wraps at the terminal's width)."""

from __future__ import annotations

import os
import subprocess
import sys

NAME = "a-study-name-long-enough-to-push-the-message-past-any-terminal-width-" * 3


def _cli(*args: str, cwd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=dict(os.environ, RAY_AUTH_MODE="disabled", COLUMNS="80"),
    )


def test_a_long_error_is_one_line_in_a_pipe(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "none.db"
    proc = _cli("leaderboard", NAME, "--store", f"sqlite:///{missing}", cwd=str(tmp_path))
    assert proc.returncode == 3
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and str(missing) in lines[0] and len(lines[0]) > 80


def test_a_long_usage_error_is_one_line_in_a_pipe(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = _cli("leaderboard", "x", "--format", NAME, cwd=str(tmp_path))
    assert proc.returncode == 2
    assert any(NAME in line for line in proc.stderr.splitlines()), proc.stderr


def test_a_long_message_on_stdout_is_one_line_in_a_pipe(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "m.py").write_text("def f(params):\n    return 0.0\n")
    (tmp_path / "s.yaml").write_text(
        f"name: {NAME[:190]}\nobjective: {{metric: loss, goal: minimize}}\nstrategy: random\n"
        "budget: {trials: 2}\ntrial: {function: 'm:f'}\nparameters:\n  x: {type: float, low: 0, high: 1}\n"
    )
    proc = _cli("validate", str(tmp_path / "s.yaml"), cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert f"{NAME[:190]} (native format) is valid" in proc.stdout.splitlines()
