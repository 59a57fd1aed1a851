"""`run --detach`: the driver runs on a Ray cluster as a Ray job; the store shows its progress."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
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


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_detached_driver_runs_on_the_cluster_and_stop_reaches_it(tmp_path):
    url = os.environ.get("HYPERSWEEP_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("HYPERSWEEP_TEST_POSTGRES_URL is not set: --detach needs a server store")
    ray_bin = Path(sys.executable).with_name("ray")
    port, dash = _free_port(), _free_port()
    # every port of its own: another Ray on this machine (the test session's) holds the defaults
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
    env = dict(os.environ, RAY_AUTH_MODE="disabled", PATH=f"{ray_bin.parent}{os.pathsep}{os.environ['PATH']}")
    head = subprocess.Popen(
        [
            str(ray_bin),
            "start",
            "--head",
            "--block",
            "--num-cpus",
            "2",
            "--port",
            str(port),
            "--dashboard-host",
            "127.0.0.1",
            "--dashboard-port",
            str(dash),
            "--include-dashboard",
            "true",
            *extra,
        ],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        shutil.copy(ROOT / "sweeps" / "breast_cancer.py", tmp_path)
        shutil.copy(ROOT / "sweeps" / "breast_cancer_random.yaml", tmp_path)
        name = f"detached-{uuid.uuid4().hex[:6]}"
        env["RAY_DASHBOARD_ADDRESS"] = f"http://127.0.0.1:{dash}"
        deadline = time.time() + 300
        while True:  # the dashboard's job API and its agent take a while to come up on a busy machine
            p = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "hypersweep.cli",
                    "run",
                    "breast_cancer_random.yaml",
                    "--detach",
                    "--address",
                    f"127.0.0.1:{port}",
                    "--store",
                    url,
                    "--name",
                    name,
                    "--trials",
                    "40",
                ],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
            if p.returncode == 0 or time.time() > deadline:
                break
            time.sleep(3)
        assert p.returncode == 0, p.stderr[-2000:]
        assert "submitted as Ray job" in p.stderr and "hstest:***@" in p.stderr.replace("\n", "")
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
        stop_sweep(name, store=url)
        deadline = time.time() + 120
        while time.time() < deadline:
            with opened(url) as st:
                study = st.get_study(name)
            if study.status is not StudyStatus.RUNNING:
                break
            time.sleep(1)
        assert study.status in (StudyStatus.INTERRUPTED, StudyStatus.FINISHED)
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
        # `ray start` records its cluster for later ray.init() calls: forget the one we stopped
        current = Path("/tmp/ray/ray_current_cluster")
        if current.exists() and current.read_text().strip().endswith(f":{port}"):
            current.unlink()
