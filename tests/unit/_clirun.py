"""``run(*args)``: the ``hypersweep`` command in this process, through click's ``CliRunner``."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from hypersweep.cli import main


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run(*args, cwd=None):
    """``hypersweep ARGS`` in this process: ``main`` maps errors to exit codes exactly as the console script."""
    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with runner.isolation() as streams:
            try:
                main(list(args))
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            out, err = streams[0].getvalue().decode(), streams[1].getvalue().decode()
    finally:
        os.chdir(old)
    return Result(code, out, err)
