"""`run --detach` and `run --address` against a Ray head of this test's own: the driver runs on the cluster
as a Ray job (no password travels with it), and the sweep folder is shipped without the store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hypersweep.orchestrate import stop_sweep
from hypersweep.records import StudyStatus
from hypersweep.store import opened

ROOT = Path(__file__).parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Head:
    port: int
    dash: int
    temp_dir: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def head(tmp_path_factory) -> Iterator[Head]:
    """A head with the dashboard, whose job API ``--detach`` submits to."""
    yield from _head(tmp_path_factory, dashboard=True)


@pytest.fixture(scope="module")
def plain_head(tmp_path_factory) -> Iterator[Head]:
    """A head without the dashboard (quicker to start): enough for ``--address``."""
    yield from _head(tmp_path_factory, dashboard=False)


def _head(tmp_path_factory, dashboard: bool) -> Iterator[Head]:
    """A Ray head with every port of its own (another Ray on this machine, the test session's, holds the
    defaults) and its own temp dir, so what it unpacked and logged can be read. The head's environment
    has a PostgreSQL passfile: the cluster side's own means of knowing the store password."""
    ray_bin = Path(sys.executable).with_name("ray")
    port, dash = _free_port(), _free_port()
    extra = [
        f"--{flag}={_free_port()}"
        for flag in (
            "dashboard-agent-listen-port",
            "dashboard-agent-grpc-port",
            "metrics-export-port",
            "runtime-env-agent-port",
            "node-manager-port",
            "object-manager-port",
            "ray-client-server-port",
        )
    ]
    temp_dir = Path(f"/tmp/hs-{uuid.uuid4().hex[:6]}")  # short: Ray's socket paths have a length limit
    env = dict(os.environ, RAY_AUTH_MODE="disabled", PATH=f"{ray_bin.parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("HYPERSWEEP_STORE", None)
    url = os.environ.get("HYPERSWEEP_TEST_POSTGRES_URL")
    if url:
        from sqlalchemy.engine import make_url

        u = make_url(url)
        passfile = tmp_path_factory.mktemp("pg") / "pgpass"
        passfile.write_text(
            f"{u.host or 'localhost'}:{u.port or 5432}:{u.database}:{u.username}:{u.password}\n"
        )
        passfile.chmod(0o600)
        env["PGPASSFILE"] = str(passfile)
    log = tmp_path_factory.mktemp("head") / "head.log"
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [
                str(ray_bin),
                "start",
                "--head",
                "--block",
                "--num-cpus",
                "2",
                "--port",
                str(port),
                "--temp-dir",
                str(temp_dir),
                *(["--dashboard-host", "127.0.0.1", "--dashboard-port", str(dash)] if dashboard else []),
                "--include-dashboard",
                "true" if dashboard else "false",
                *extra,
            ],
            env=env,
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.time() + 300
        while b"Ray runtime started" not in log.read_bytes():  # slow on a busy machine
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the test's Ray head did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield Head(port, dash, temp_dir, env)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the head's group: its raylet, GCS and workers
            proc.wait(timeout=60)
        except ProcessLookupError:  # it ended by itself; nothing of its group is left
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        # `ray start` records its cluster for later ray.init() calls: forget the one we stopped
        current = Path("/tmp/ray/ray_current_cluster")
        if current.exists() and current.read_text().strip().endswith(f":{port}"):
            current.unlink()
        shutil.rmtree(temp_dir, ignore_errors=True)


def _cli(head: Head, cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hypersweep.cli", *args],
        env=head.env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.timeout(600)
def test_run_with_address_ships_the_sweep_folder_without_the_store(plain_head, tmp_path):
    head = plain_head
    (tmp_path / "fns.py").write_text("def f(params):\n    return {'loss': params['x'] ** 2}\n")
    (tmp_path / "s.yaml").write_text(
        "name: ship\nobjective: {metric: loss, goal: minimize}\nstrategy: random\nseed: 1\n"
        "budget: {trials: 2, parallel: 1}\ntrial: {function: 'fns:f'}\n"
        "parameters:\n  x: {type: float, low: 0, high: 1}\n"
    )
    (tmp_path / ".hypersweepignore").write_text("hypersweep.db\n!hypersweep.db\n!/artifacts/\n")
    p = _cli(head, tmp_path, "run", "s.yaml", "--address", f"127.0.0.1:{head.port}", "--quiet")
    assert p.returncode == 0, p.stderr[-3000:]
    assert (tmp_path / "hypersweep.db").is_file()
    packages = [
        d for d in head.temp_dir.glob("session_*/runtime_resources/working_dir_files/*") if d.is_dir()
    ]
    shipped = [d for d in packages if (d / "fns.py").is_file() and (d / "s.yaml").is_file()]
    assert shipped, f"no unpacked working dir with the sweep's files among {packages}"
    for d in shipped:
        names = {p.name for p in d.rglob("*")}
        assert not {n for n in names if n.startswith("hypersweep.db")}, names
        assert "artifacts" not in names, names


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_detached_driver_runs_on_the_cluster_and_stop_reaches_it(head, tmp_path):
    url = os.environ.get("HYPERSWEEP_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HYPERSWEEP_TEST_POSTGRES_URL is not set: --detach needs a server store")
    from sqlalchemy.engine import URL, make_url

    u = make_url(url)
    password = u.password
    # the passfile has it (URL.set(password=None) keeps the password: None means "unchanged")
    bare = URL.create(
        u.drivername, username=u.username, host=u.host, port=u.port, database=u.database, query=u.query
    ).render_as_string(hide_password=False)
    assert f":{password}@" not in bare, bare
    env = head.env
    shutil.copy(ROOT / "sweeps" / "breast_cancer.py", tmp_path)
    shutil.copy(ROOT / "sweeps" / "breast_cancer_random.yaml", tmp_path)
    name = f"detached-{uuid.uuid4().hex[:6]}"
    env["RAY_DASHBOARD_ADDRESS"] = f"http://127.0.0.1:{head.dash}"
    args = ["run", "breast_cancer_random.yaml", "--detach", "--address", f"127.0.0.1:{head.port}"]
    args += ["--name", name, "--trials", "40"]
    # a password in the URL is refused before anything is submitted
    refused = _cli(head, tmp_path, *args, "--store", url, timeout=120)
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "passfile" in refused.stderr and f":{password}@" not in refused.stderr
    deadline = time.time() + 300
    while True:  # the dashboard's job API and its agent take a while to come up on a busy machine
        p = _cli(head, tmp_path, *args, "--store", bare, timeout=120)
        if p.returncode == 0 or time.time() > deadline:
            break
        time.sleep(3)
    assert p.returncode == 0, p.stderr[-2000:]
    shown = p.stderr.replace("\n", "")
    assert "submitted as Ray job" in p.stderr and f"{make_url(url).username}@" in shown
    # the laptop could sleep now: follow it through the store
    deadline = time.time() + 180
    done = 0
    while time.time() < deadline and done < 2:
        time.sleep(1)
        try:
            with opened(url) as st:
                counts = st.study_counts(st.get_study(name).study_id)
            done = sum(v for k, v in counts.items() if k.is_finished)
        except Exception:  # noqa: BLE001 - not created yet
            continue
    assert done >= 2, "the detached driver recorded no trials"
    # what Ray shows of the job: its API, `ray job list`, the runtime env agent's log
    with urllib.request.urlopen(f"http://127.0.0.1:{head.dash}/api/jobs/", timeout=30) as r:
        jobs = r.read().decode()
    assert name in jobs
    listed = subprocess.run(
        [
            str(Path(sys.executable).with_name("ray")),
            "job",
            "list",
            "--address",
            f"http://127.0.0.1:{head.dash}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    logs = "".join(
        f.read_text(errors="replace") for f in head.temp_dir.glob("session_*/logs/runtime_env*.log")
    )
    for text in (jobs, listed, logs):
        assert f":{password}@" not in text and "HYPERSWEEP_STORE" not in text and "PGPASSWORD" not in text
    assert all("env_vars" not in (j.get("runtime_env") or {}) for j in json.loads(jobs))
    stop_sweep(name, store=url)
    deadline = time.time() + 120
    while time.time() < deadline:
        with opened(url) as st:
            study = st.get_study(name)
        if study.status is not StudyStatus.RUNNING:
            break
        time.sleep(1)
    assert study.status in (StudyStatus.INTERRUPTED, StudyStatus.FINISHED)
