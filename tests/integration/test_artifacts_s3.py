"""The ``s3://`` artifact root against a local S3 server (moto's server mode) on loopback.

Needs ``moto[server]`` and ``s3fs`` (the ``s3`` and ``test`` extras); skipped without them. The
server runs as its own process on 127.0.0.1; nothing leaves the machine.

Two ways of pointing fsspec at the server are covered: explicit ``storage_options`` (what a caller
can pass), and fsspec's environment configuration (``FSSPEC_S3_ENDPOINT_URL`` plus the standard
``AWS_*`` variables), which is how a worker or the CLI is configured without code: a root URL
``s3://bucket/prefix`` then works as it is. fsspec reads ``FSSPEC_*`` when it is first imported, so
that part runs in a fresh interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

pytest.importorskip(
    "s3fs", exc_type=ImportError, reason="the s3:// root needs s3fs (pip install 'hypersweep[s3]')"
)
pytest.importorskip(
    "moto.server",
    exc_type=ImportError,
    reason="the local S3 server needs moto[server] (pip install 'moto[server]')",
)
pytest.importorskip(
    "flask", exc_type=ImportError, reason="moto's server mode needs flask (pip install 'moto[server]')"
)

from hypersweep import artifacts as art  # noqa: E402
from hypersweep.errors import HypersweepError  # noqa: E402
from hypersweep.query import download_artifacts, list_artifacts  # noqa: E402
from hypersweep.records import Direction, NewStudy, NewTrial, TrialOutcome, TrialState  # noqa: E402
from hypersweep.store import open_store  # noqa: E402

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    env = {**os.environ, **AWS_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto server did not start on 127.0.0.1:{port}")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """A fresh bucket; returns (root URL, storage options, an s3fs filesystem for poking at it)."""
    import s3fs

    for k, v in AWS_ENV.items():
        monkeypatch.setenv(k, v)
    opts = {"endpoint_url": s3_endpoint, "key": "test", "secret": "test"}
    fs = s3fs.S3FileSystem(**opts)
    bucket = f"hs-{uuid.uuid4().hex[:10]}"
    fs.mkdir(bucket)
    return f"s3://{bucket}/team/sweeps", opts, fs


def _files(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "model").mkdir(parents=True)
    (src / "metrics.json").write_text('{"acc": 0.93}')
    (src / "model" / "weights.bin").write_bytes(os.urandom(6 * (1 << 20) + 5))  # multipart-sized
    (src / "model" / "vocab.txt").write_text("a\nb\n")
    return src


def test_upload_list_download_verify_on_s3(s3, tmp_path):
    root, opts, fs = s3
    src = _files(tmp_path)
    recs = art.upload(
        root,
        "digits",
        "3",
        [("metrics.json", src / "metrics.json"), ("model", src / "model")],
        storage_options=opts,
    )
    bucket = root.split("/")[2]
    assert [r.uri for r in recs] == [
        f"s3://{bucket}/team/sweeps/digits/3/metrics.json",
        f"s3://{bucket}/team/sweeps/digits/3/model/vocab.txt",
        f"s3://{bucket}/team/sweeps/digits/3/model/weights.bin",
    ]
    for r in recs:
        stored = fs.cat_file(r.uri)
        assert len(stored) == r.size and hashlib.sha256(stored).hexdigest() == r.sha256
        local = src / r.name
        assert hashlib.sha256(local.read_bytes()).hexdigest() == r.sha256

    st = open_store(f"sqlite:///{tmp_path / 'hs.db'}", create=True)
    try:
        study = st.create_study(
            NewStudy(
                name="digits",
                spec_text="name: digits\n",
                spec_hash="0" * 64,
                spec_format="native",
                strategy="grid",
                objective_metric="acc",
                direction=Direction.MAXIMIZE,
                budget_trials=1,
                seed=1,
                workdir=str(tmp_path),
            )
        )
        (t,) = st.create_trials(study.study_id, [NewTrial(params={"lr": 0.1}, seed=1)])
        st.finish_trials(
            [
                TrialOutcome(
                    trial_id=t.trial_id,
                    state=TrialState.COMPLETE,
                    metrics={"acc": 0.93},
                    artifacts=tuple(recs),
                )
            ]
        )
        assert list_artifacts(st, "digits", t.number) == recs
        # uploaded as trial key "3", recorded on trial 0: the layout does not place them, the root does
        paths = download_artifacts(
            st, "digits", t.number, tmp_path / "dl", storage_options=opts, artifact_root=root
        )
        assert {p.relative_to(tmp_path / "dl").as_posix() for p in paths} == {r.name for r in recs}
        assert (tmp_path / "dl" / "model" / "weights.bin").read_bytes() == (
            src / "model" / "weights.bin"
        ).read_bytes()

        # corrupt the stored object behind the store's back: detected, not left in the folder
        fs.pipe_file(recs[2].uri, b"x" * recs[2].size)
        with pytest.raises(HypersweepError, match=r"model/weights.bin: sha256 mismatch"):
            download_artifacts(
                st, "digits", t.number, tmp_path / "dl2", storage_options=opts, artifact_root=root
            )
        assert not (tmp_path / "dl2" / "model" / "weights.bin").exists()
        assert (tmp_path / "dl2" / "metrics.json").exists()
    finally:
        st.close()


def test_checkpoints_on_s3(s3, tmp_path):
    root, opts, fs = s3
    params = {"opt": {"lr": 0.01}, "depth": 4}
    assert art.restore(root, "digits", params, storage_options=opts) is None
    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / "state.pt").write_bytes(b"epoch-1")
    r1 = art.save_checkpoint(root, "digits", params, "0", ck, storage_options=opts)
    assert r1[0].uri.endswith(f"/digits/checkpoints/{art.params_hash(params)}/000001-0/state.pt")
    assert art.save_checkpoint(root, "digits", params, "0", ck, storage_options=opts) == []  # unchanged
    (ck / "state.pt").write_bytes(b"epoch-2")
    art.save_checkpoint(root, "digits", params, "0", ck, storage_options=opts)
    got = art.restore(root, "digits", {"opt.lr": 0.01, "depth": 4}, tmp_path / "r", storage_options=opts)
    assert (got / "state.pt").read_bytes() == b"epoch-2"

    fs.pipe_file(root + f"/digits/checkpoints/{art.params_hash(params)}/000002-0/state.pt", b"garbage")
    with pytest.warns(UserWarning, match="sha256 mismatch"):
        got = art.restore(root, "digits", params, tmp_path / "r2", storage_options=opts)
    assert (got / "state.pt").read_bytes() == b"epoch-1"


def test_s3_root_configured_by_environment_only(s3, s3_endpoint, tmp_path):
    """A worker or the CLI: no storage options in code; fsspec takes the endpoint from the environment."""
    root, _, fs = s3
    (tmp_path / "a.txt").write_text("hello")
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "w.bin").write_bytes(b"w1")
    script = textwrap.dedent(
        f"""
        import json, sys
        from hypersweep import artifacts as art
        recs = art.upload({root!r}, "envstudy", "0", [("a.txt", {str(tmp_path / "a.txt")!r})])
        ck = art.save_checkpoint({root!r}, "envstudy", {{"lr": 1}}, "0", {str(tmp_path / "ck")!r})
        back = art.restore({root!r}, "envstudy", {{"lr": 1}}, {str(tmp_path / "restored")!r})
        got = art.fetch(recs[0].uri, {str(tmp_path / "dl" / "a.txt")!r}, sha256=recs[0].sha256)
        print(json.dumps({{"uri": recs[0].uri, "ck": ck[0].uri if ck else None, "back": str(back), "got": got.read_text()}}))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FSSPEC_", "AWS_"))}
    env.update(AWS_ENV)
    env["FSSPEC_S3_ENDPOINT_URL"] = s3_endpoint
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["uri"].startswith(root + "/envstudy/0/") and res["got"] == "hello"
    assert fs.cat_file(res["uri"]) == b"hello"
    assert (Path(res["back"]) / "w.bin").read_bytes() == b"w1"

    # botocore's own AWS_ENDPOINT_URL works as well
    env.pop("FSSPEC_S3_ENDPOINT_URL")
    env["AWS_ENDPOINT_URL"] = s3_endpoint
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["got"] == "hello" and res["ck"] is None  # it saw the first run's checkpoint: not stored again
