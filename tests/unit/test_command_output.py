"""Real command trials against the worker's output reader: malformed protocol lines and undecodable
bytes are warnings, never a dead reader (which left the child blocked on a full pipe, the trial hung);
what a finished trial leaves running in its process group ends with it; printed artifact paths and
checkpoint records cannot make the worker read or record files outside the trial's own places."""

from __future__ import annotations

import hashlib
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from hypersweep.trial._payload import TrialPayload

# output after the bad line: 80 KB, more than a pipe holds (64 KiB) if nobody reads it, but 40k
# characters, fewer than the log's tail keeps (64k), so the warning is still in the tail
FILLER = "for _ in range(40): print('\\u00e9' * 1000, flush=True)"


def _command(tmp_path: Path, body: str, **kw: object) -> TrialPayload:
    script = tmp_path / "trial.py"
    script.write_text(textwrap.dedent(body))
    return TrialPayload(
        trial_id=7,
        study="out",
        number=3,
        params={"x": 1},
        nested_params={"x": 1},
        seed=0,
        workdir=str(tmp_path),
        objective="loss",
        command=(sys.executable, str(script)),
        capture_env=False,
        monitoring_interval_s=None,
        **kw,  # type: ignore[arg-type]
    )


BAD_LINES = {
    "string step": '{"step": "warmup", "loss": 9.0}',
    "infinite step": '{"step": 1e400, "loss": 9.0}',
    "negative step": '{"step": -1, "loss": 9.0}',
    "huge step": '{"step": 9223372036854775808, "loss": 9.0}',
    "fractional step": '{"step": 1.5, "loss": 9.0}',
    "checkpoint not a list": '{"hypersweep_checkpoint": {"uri": "/etc/hostname"}}',
    "checkpoint bad record": '{"hypersweep_checkpoint": [{"uri": 3}]}',
    "artifact not a string": '{"hypersweep_artifact": 42}',
    "artifact name not a string": '{"hypersweep_artifact": "x.txt", "name": 5}',
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("line", list(BAD_LINES.values()), ids=list(BAD_LINES))
def test_a_malformed_line_is_a_warning_and_the_trial_goes_on(tmp_path: Path, line: str) -> None:
    result = _command(
        tmp_path,
        f"""
        print({line!r}, flush=True)
        {FILLER}
        import json
        for step in range(3):
            print(json.dumps({{"step": step, "loss": 1.0 / (step + 1)}}), flush=True)
        print(json.dumps({{"acc": 0.5}}), flush=True)
        """,
    )(None)
    assert result.state == "complete", result.error
    assert result.metrics == {"loss": pytest.approx(1 / 3), "acc": 0.5}
    assert [(n, s) for n, s, _ in result.points] == [("loss", 0), ("loss", 1), ("loss", 2)]
    assert "hypersweep: warning: stdout line 1:" in (result.log_tail or "")
    assert line in (result.log_tail or "")  # the line itself stays in the log


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_undecodable_bytes_are_a_warning_on_either_pipe(tmp_path: Path, stream: str) -> None:
    result = _command(
        tmp_path,
        f"""
        import json, sys
        sys.{stream}.buffer.write(b"caf\\xe9 \\xff\\xfe\\n")
        sys.{stream}.buffer.flush()
        for _ in range(40): print("\\u00e9" * 1000, file=sys.{stream}, flush=True)
        print(json.dumps({{"step": 0, "loss": 0.25}}), flush=True)
        """,
    )(None)
    assert result.state == "complete", result.error
    assert result.metrics == {"loss": 0.25}
    log = result.log_tail or ""
    assert f"hypersweep: warning: {stream} line 1: not valid UTF-8" in log
    assert "caf\ufffd" in log


@pytest.mark.timeout(60)
def test_a_grandchild_holding_stdout_is_killed_when_the_trial_ends(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    result = _command(
        tmp_path,
        f"""
        import json, subprocess, sys
        # inherits stdout and stderr, and would sleep for ten minutes
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        print(json.dumps({{"loss": 0.5}}), flush=True)
        """,
    )(None)
    assert result.state == "complete", result.error
    assert result.metrics == {"loss": 0.5}
    pid = int(pidfile.read_text())
    try:  # gone, or dead and waiting for init to reap it
        assert psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        pass


def _digest(path: str) -> tuple[int, str]:
    data = Path(path).read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


@pytest.mark.timeout(60)
def test_printed_records_and_paths_outside_the_trial_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    work = tmp_path / "work"
    work.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("host secret\n")
    (work / "link.txt").symlink_to(outside)
    size, sha = _digest(str(outside))
    forged = {"name": "secret.txt", "uri": str(outside), "size": size, "sha256": sha, "kind": "checkpoint"}
    forged_file = {**forged, "kind": "file", "name": "secret.txt"}
    result = _command(
        work,
        f"""
        import json
        print(json.dumps({{"hypersweep_checkpoint": [{forged!r}, {forged_file!r}]}}), flush=True)
        print(json.dumps({{"hypersweep_artifact": {str(outside)!r}}}), flush=True)
        print(json.dumps({{"hypersweep_artifact": "link.txt"}}), flush=True)
        open("model.txt", "w").write("mine\\n")
        print(json.dumps({{"hypersweep_artifact": "model.txt", "name": "model.txt"}}), flush=True)
        print(json.dumps({{"loss": 0.5}}), flush=True)
        """,
        artifact_root=str(root),
    )(None)
    assert result.state == "complete", result.error
    assert [(r.name, r.kind) for r in result.artifact_records] == [("model.txt", "file")]
    assert (root / "out" / "3" / "model.txt").read_text() == "mine\n"
    assert not (root / "out" / "3" / "secret.txt").exists() and not (root / "out" / "3" / "link.txt").exists()
    log = result.log_tail or ""
    assert "artifacts not stored:" in log
    assert "is outside the trial's folder" in log and "link.txt" in log
    assert "not where this trial's blobs are stored" in log
