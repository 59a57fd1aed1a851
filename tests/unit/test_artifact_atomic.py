"""Artifact writes are atomic (issue 18): a write that fails halfway (a full disk, here a file-size
limit in a subprocess, or a reader that raises) leaves no partial file at the artifact's final name,
nor a temporary file beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hypersweep import artifacts as art

LIMITED = textwrap.dedent(r"""
    import json, os, resource, signal, sys
    from hypersweep import artifacts as art

    what, root, src, dest = sys.argv[1:5]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    try:
        if what == "upload":
            art.upload(root, "s", "t0", [("big.bin", src)])
        elif what == "checkpoint":
            art.save_checkpoint(root, "s", {"x": 1}, "t0", src)
        else:
            rec = json.loads(src)
            art.fetch(rec["uri"], dest, sha256=rec["sha256"], size=rec["size"])
    except OSError as e:
        print(json.dumps({"error": e.errno}))
    else:
        print(json.dumps({"error": None}))
""")


def _limited(tmp_path: Path, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(
        [sys.executable, "-c", LIMITED, *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def big(tmp_path):
    p = tmp_path / "src" / "big.bin"
    p.parent.mkdir()
    p.write_bytes(os.urandom(64 * 1024))
    return p


def test_upload_cut_off_by_a_full_disk_leaves_no_file(tmp_path, big):
    root = tmp_path / "root"
    out = _limited(tmp_path, "upload", str(root), str(big), "")
    assert out["error"] is not None  # the write did fail
    assert _files(root) == []  # neither big.bin nor a temporary file


def test_checkpoint_cut_off_by_a_full_disk_leaves_nothing_restorable(tmp_path, big):
    root = tmp_path / "root"
    out = _limited(tmp_path, "checkpoint", str(root), str(big.parent), "")
    assert out["error"] is not None
    assert _files(root) == []
    assert art.latest_checkpoint(str(root), "s", {"x": 1}) is None


def test_download_cut_off_by_a_full_disk_leaves_no_file(tmp_path, big):
    root = tmp_path / "root"
    [rec] = art.upload(str(root), "s", "t0", [("big.bin", big)])
    dest = tmp_path / "dest"
    dest.mkdir()
    recj = json.dumps({"uri": rec.uri, "sha256": rec.sha256, "size": rec.size})
    out = _limited(tmp_path, "fetch", str(root), recj, str(dest / "big.bin"))
    assert out["error"] is not None
    assert _files(dest) == []  # neither big.bin nor big.bin.part


class _Breaks:
    """A source that gives some bytes, then fails (a network stream cut, a disk read error)."""

    def __init__(self) -> None:
        self.calls = 0

    def read(self, n: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 2:
            raise OSError("read failed")
        return b"x" * 1000


def test_a_write_whose_source_fails_halfway_leaves_no_file(tmp_path):
    from hypersweep.artifacts._blobs import _fs, _put

    fs, base = _fs(str(tmp_path / "root"), None)
    with pytest.raises(OSError, match="read failed"):
        _put(fs, _Breaks(), f"{base}/s/t0/a.bin")  # type: ignore[arg-type]
    assert _files(tmp_path / "root") == []


def test_a_good_write_replaces_the_old_file_whole(tmp_path, big):
    root = tmp_path / "root"
    art.upload(str(root), "s", "t0", [("big.bin", big)])
    big.write_bytes(b"new")
    [rec] = art.upload(str(root), "s", "t0", [("big.bin", big)])
    assert _files(root) == ["s/t0/big.bin"] and rec.size == 3
    assert (root / "s" / "t0" / "big.bin").read_bytes() == b"new"
