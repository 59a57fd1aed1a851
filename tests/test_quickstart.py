"""docs/quickstart.md's commands run as written.

Every fenced ```bash block that follows a `<!-- test -->` comment is run, in order, with `bash -e` in a
copy of sweeps/ (the folder the quickstart works in), with `HYPERSWEEP_STORE` pointing at a temporary
SQLite file and the installed `hypersweep` first on PATH. The blocks carry their own small budgets
(`--trials`). Ray gets a private temporary folder, so a Ray cluster already running on this machine
(`ray start --head`) is not joined.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "docs" / "quickstart.md"
MARK = "<!-- test -->"
_BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.S | re.M)


def _tested_blocks(text: str) -> list[str]:
    """The ```bash blocks right after a `<!-- test -->` line (blank lines between are allowed)."""
    blocks = []
    for m in _BLOCK.finditer(text):
        before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
        if before == MARK:
            blocks.append(m.group(1))
    return blocks


def test_blocks_are_found():
    blocks = _tested_blocks(QUICKSTART.read_text())
    assert len(blocks) >= 4
    text = "\n".join(blocks)
    for command in ("hypersweep run", "hypersweep leaderboard", "hypersweep resume", "hypersweep report"):
        assert command in text, command
    assert "reproduce" in text


def test__tested_blocks_parser():
    text = "x\n<!-- test -->\n```bash\necho a\n```\n\n```bash\necho b\n```\n<!-- test -->\n\n```bash\necho c\n```\n"
    assert _tested_blocks(text) == ["echo a\n", "echo c\n"]


def test_quickstart_commands_run(tmp_path):
    work = tmp_path / "sweeps"
    shutil.copytree(ROOT / "sweeps", work, ignore=shutil.ignore_patterns("*.db", "__pycache__", "artifacts"))
    ray_tmp = tempfile.mkdtemp(prefix="hsq", dir="/tmp")  # short: Ray's socket paths have a length limit
    env = {
        **os.environ,
        "HYPERSWEEP_STORE": f"sqlite:///{tmp_path / 'quickstart.db'}",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "RAY_TMPDIR": ray_tmp,
        "RAY_AUTH_MODE": "disabled",
        "COLUMNS": "120",
    }
    env.pop("RAY_ADDRESS", None)
    try:
        for i, block in enumerate(_tested_blocks(QUICKSTART.read_text())):
            proc = subprocess.run(
                ["bash", "-e", "-c", block],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=240,
            )
            assert proc.returncode == 0, (
                f"quickstart block {i} failed with exit {proc.returncode}:\n{block}\n"
                f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
            )
        assert (work / "wine-tpe.html").stat().st_size > 0
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
