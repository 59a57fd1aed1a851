"""Faults survived, each with a real fault (issue 5, item 7): a PostgreSQL server restarted or down under a
running driver, a commit whose reply never arrives, a SQLite file locked by another writer, stores that
refuse writes, a Ray worker killed mid-trial and a Ray node removed mid-sweep.

The driver killed with SIGKILL, the lease and ``stop`` are in ``test_resume.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from hypersweep.orchestrate import run_sweep
from hypersweep.records import StudyStatus, TrialState
from hypersweep.store import opened

ENV = dict(os.environ, RAY_AUTH_MODE="disabled")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_ENV = "HYPERSWEEP_TEST_POSTGRES_URL"

RANDOM = """
    name: {name}
    objective: {{metric: loss, goal: minimize}}
    strategy: random
    seed: 7
    budget: {{trials: {n}, parallel: {parallel}}}
    trial: {{function: "fns:slow_identity"}}
    parameters:
      x: {{type: float, low: 0, high: 1}}
      sleep: {{value: {sleep}}}
"""


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hypersweep.cli", *args]


def _counts(url: str, name: str) -> dict[TrialState, int]:
    try:
        with opened(url) as st:
            return st.study_counts(st.get_study(name).study_id)
    except Exception:  # the store or the study may not exist yet, or the server is down
        return {}


def _wait_finished(
    url: str, name: str, n: int, proc: subprocess.Popen | None = None, timeout: float = 60
) -> None:
    end = time.time() + timeout
    while time.time() < end:
        c = _counts(url, name)
        if c.get(TrialState.COMPLETE, 0) + c.get(TrialState.PRUNED, 0) >= n:
            return
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the driver exited early ({proc.returncode}): {err[-2000:]}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {n} finished trials of {name}")


def _check_exactly_once(url: str, name: str, budget: int) -> list:
    """``budget`` finished trials, numbers unique and gap-free, nothing left running, every interrupted
    trial run again, and each finished trial holding what its worker reported."""
    with opened(url) as st:
        study = st.get_study(name)
        trials = st.get_trials(study.study_id)
    finished = [t for t in trials if t.state.is_finished]
    assert len(finished) == budget, [(t.number, t.state.value) for t in trials]
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert not [t for t in trials if t.state is TrialState.RUNNING]
    assert all(t.metrics["x_seen"] == t.params["x"] for t in finished)
    rerun_of = {t.retry_of for t in trials if t.retry_of is not None}
    assert all(t.trial_id in rerun_of for t in trials if t.state is TrialState.INTERRUPTED)
    assert len({json.dumps(t.params, sort_keys=True) for t in finished}) == budget  # nothing run twice
    return trials


def _run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        _cli(*args), env=env or ENV, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


# -- a throwaway PostgreSQL server -------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    """A PostgreSQL server of its own (``initdb`` as the ``postgres`` OS user into a temp folder, its own
    port and socket folder), so a test may stop and restart it; never the shared server."""

    def __init__(self) -> None:
        pw = pwd.getpwnam("postgres")
        self.root = Path(tempfile.mkdtemp(prefix="hs-pg-"))
        os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._pg("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def _pg(self, tool: str, *args: object) -> None:
        cmd = shlex.join([str(PG_BIN / tool), *map(str, args)])
        proc = subprocess.run(["su", "postgres", "-c", cmd], capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed: {proc.stdout}{proc.stderr}{log}")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg("pg_ctl", "-D", self.data, "-o", opts, "-l", self.log, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def throwaway_pg():
    if os.geteuid() != 0 or not (PG_BIN / "initdb").exists() or shutil.which("su") is None:
        pytest.skip(f"a throwaway PostgreSQL server needs root and the server binaries in {PG_BIN}")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("a throwaway PostgreSQL server needs the `postgres` OS user")
    server = ThrowawayPostgres()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.mark.slow
def test_postgres_restarted_mid_sweep_the_driver_retries_and_finishes(throwaway_pg, make_sweep, tmp_path):
    pg, name = throwaway_pg, "restart"
    path = make_sweep(RANDOM.format(name=name, n=30, parallel=2, sleep=0.15))
    proc = _run_cli("run", str(path), "--store", pg.url, "--executor", "local", "--quiet", cwd=tmp_path)
    try:
        _wait_finished(pg.url, name, 5, proc)
        pg.stop("fast")
        time.sleep(3)
        assert proc.poll() is None  # the driver waits for the store instead of failing
        pg.start()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    assert "retrying" in err  # it did meet the outage
    trials = _check_exactly_once(pg.url, name, 30)
    assert len(trials) == 30 and all(t.state is TrialState.COMPLETE for t in trials)
    with opened(pg.url) as st:
        assert st.get_study(name).status is StudyStatus.FINISHED


@pytest.mark.slow
def test_postgres_down_past_the_deadline_stops_with_exit_3_and_resumes(throwaway_pg, make_sweep, tmp_path):
    pg, name = throwaway_pg, "outage"
    path = make_sweep(RANDOM.format(name=name, n=20, parallel=2, sleep=0.15))
    env = dict(ENV, HYPERSWEEP_STORE_RETRY_S="3")
    proc = _run_cli(
        "run", str(path), "--store", pg.url, "--executor", "local", "--quiet", env=env, cwd=tmp_path
    )
    try:
        _wait_finished(pg.url, name, 3, proc)
        pg.stop("immediate")
        try:
            out, err = proc.communicate(timeout=120)
        finally:
            pg.start()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, err[-3000:]
    assert "unavailable" in err and "Traceback" not in err
    # the dead driver's lease is taken over at once on this host; its running trials run again
    res = subprocess.run(
        _cli("resume", name, "--store", pg.url, "--executor", "local", "--quiet"),
        env=ENV,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    _check_exactly_once(pg.url, name, 20)
    with opened(pg.url) as st:
        assert st.get_study(name).status is StudyStatus.FINISHED


class CommitDropper:
    """A TCP proxy in front of a PostgreSQL server. While armed, the first transaction that inserts into
    ``trials`` has its COMMIT forwarded, and the client's connection is cut before the server's reply
    reaches it: the rows are committed, the driver sees a lost connection (an ambiguous commit)."""

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.armed = threading.Event()
        self.armed.set()
        self.dropped = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            cut = threading.Event()
            threading.Thread(target=self._pump_up, args=(client, server, cut), daemon=True).start()
            threading.Thread(target=self._pump_down, args=(server, client, cut), daemon=True).start()

    def _pump_up(self, client: socket.socket, server: socket.socket, cut: threading.Event) -> None:
        inserting = False
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                if self.armed.is_set() and b"INSERT INTO trials " in data:
                    inserting = True
                if inserting and b"COMMIT" in data:
                    with self._lock:
                        fire = self.armed.is_set()
                        self.armed.clear()
                    if fire:
                        cut.set()  # the server's reply is not relayed
                        server.sendall(data)
                        time.sleep(0.5)  # the server commits; its reply never reaches the client
                        self.dropped += 1
                        break
                server.sendall(data)
        for s in (client, server):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _pump_down(self, server: socket.socket, client: socket.socket, cut: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while (data := server.recv(65536)) and not cut.is_set():
                client.sendall(data)
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()


def test_create_trials_whose_commit_reply_is_lost_is_not_applied_twice(throwaway_pg, make_sweep, tmp_path):
    proxy = CommitDropper(throwaway_pg.port)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/postgres"
    name = "ambiguous"
    path = make_sweep(RANDOM.format(name=name, n=6, parallel=2, sleep=0.05))
    try:
        res = subprocess.run(
            _cli("run", str(path), "--store", url, "--executor", "local", "--quiet"),
            env=ENV,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        proxy.close()
    assert proxy.dropped == 1
    assert res.returncode == 0, res.stderr[-3000:]
    assert "adopting" in res.stderr
    trials = _check_exactly_once(throwaway_pg.url, name, 6)
    assert len(trials) == 6  # the batch committed before the drop was adopted, not created again


# -- SQLite --------------------------------------------------------------------------------------------------
LOCKER = textwrap.dedent("""
    import pathlib, sqlite3, sys, time
    con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    con.execute("BEGIN EXCLUSIVE")
    pathlib.Path(sys.argv[2]).write_text(str(time.time()))
    time.sleep(float(sys.argv[3]))
    con.execute("COMMIT")
    con.close()
""")


@pytest.mark.parametrize("busy", ["", "?busy_timeout=0.5"], ids=["busy-timeout-waits", "engine-retries"])
def test_sqlite_locked_by_another_writer_for_seconds_writes_wait(make_sweep, tmp_path, busy):
    """Another process holds ``BEGIN EXCLUSIVE`` for 3 s: the driver's writes wait on the busy timeout
    (default 30 s) or, with a busy timeout shorter than the lock, are retried by the engine."""
    db = tmp_path / "hs.db"
    url = f"sqlite:///{db}{busy}"
    name = "locked"
    path = make_sweep(RANDOM.format(name=name, n=24, parallel=1, sleep=0.1))
    proc = _run_cli("run", str(path), "--store", url, "--executor", "local", "--quiet", cwd=tmp_path)
    try:
        _wait_finished(url, name, 3, proc)
        flag = tmp_path / "locked.flag"
        locker = subprocess.run(
            [sys.executable, "-c", LOCKER, str(db), str(flag), "3"],
            timeout=60,
            capture_output=True,
            text=True,
        )
        assert locker.returncode == 0, locker.stderr
        locked_at = float(flag.read_text())
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-3000:]
    if busy:
        assert "retrying" in err  # the busy timeout ran out and the engine retried
    trials = _check_exactly_once(url, name, 24)
    assert all(t.state is TrialState.COMPLETE for t in trials) and len(trials) == 24
    # the lock did hold the driver up: no trial started during it, the next ones after it
    starts = sorted(t.started_at.timestamp() for t in trials)
    assert any(a < locked_at and b >= locked_at + 2.5 for a, b in zip(starts, starts[1:], strict=False))


def test_read_only_sqlite_store_is_refused_before_any_trial(make_sweep, tmp_path):
    db = tmp_path / "hs.db"
    with opened(f"sqlite:///{db}", create=True):
        pass
    path = make_sweep(RANDOM.format(name="ro", n=3, parallel=1, sleep=0))
    url = f"sqlite:///file:{db}?mode=ro&uri=true"
    res = subprocess.run(
        _cli("run", str(path), "--store", url, "--executor", "local"),
        env=ENV,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 3, res.stderr
    assert "refuses writes" in res.stderr and "Traceback" not in res.stderr
    with opened(f"sqlite:///{db}") as st:
        assert st.list_studies() == []


@pytest.mark.postgres
def test_postgres_role_without_insert_is_refused_before_any_trial(make_sweep, tmp_path):
    admin = os.environ.get(PG_ENV)
    if not admin:
        pytest.skip(f"{PG_ENV} is not set: no PostgreSQL server to test against")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(admin)
    if base.drivername in ("postgresql", "postgres"):
        base = base.set(drivername="postgresql+psycopg")
    suffix = uuid.uuid4().hex[:8]
    dbname, role, password = f"hs_faults_{suffix}", f"hs_ro_{suffix}", uuid.uuid4().hex
    owner_url = base.set(database=dbname).render_as_string(hide_password=False)
    ro_url = base.set(database=dbname, username=role, password=password).render_as_string(hide_password=False)
    admin_engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    try:
        with opened(owner_url, create=True):
            pass  # the schema, made by its owner
        owner_engine = create_engine(make_url(owner_url), isolation_level="AUTOCOMMIT")
        with owner_engine.connect() as conn:
            conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"))
            conn.execute(text(f'GRANT CONNECT ON DATABASE "{dbname}" TO "{role}"'))
            conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
            conn.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"'))
        owner_engine.dispose()
        path = make_sweep(RANDOM.format(name="ro", n=3, parallel=1, sleep=0))
        res = subprocess.run(
            _cli("run", str(path), "--store", ro_url, "--executor", "local"),
            env=ENV,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode == 3, res.stderr
        assert "refuses writes" in res.stderr and "Traceback" not in res.stderr
        assert password not in res.stderr
        with opened(owner_url) as st:
            assert st.list_studies() == []
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin_engine.dispose()


# -- Ray -------------------------------------------------------------------------------------------------------
def _pids(folder: Path, x: int) -> list[int]:
    f = folder / f"pids-{x}.txt"
    return [int(p) for p in f.read_text().split()] if f.exists() else []


def _kill_attempt(folder: Path, x: int, attempt: int, timeout: float = 60) -> None:
    """SIGKILL the worker process running the ``attempt``-th (1-based) try of trial x."""
    end = time.time() + timeout
    while time.time() < end:
        pids = _pids(folder, x)
        if len(pids) >= attempt:
            os.kill(pids[attempt - 1], signal.SIGKILL)
            return
        time.sleep(0.05)
    raise AssertionError(f"trial x={x} never started its try {attempt}")


@pytest.mark.usefixtures("ray_session")
def test_worker_killed_mid_trial_is_retried_once_then_failed(make_sweep, tmp_path, store_url):
    path = make_sweep("""
        name: killed
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {parallel: 2}
        trial: {function: "fns:pid_then_sleep"}
        parameters:
          x: {type: categorical, values: [0, 1, 2, 3]}
          sleep: {value: 1.5}
    """)
    result: dict = {}

    def drive() -> None:
        try:
            result["res"] = run_sweep(path, store=store_url, executor="ray")
        except BaseException as e:  # surfaced by the assertion below
            result["error"] = e

    driver = threading.Thread(target=drive)
    driver.start()
    try:
        _kill_attempt(tmp_path, 1, 1)  # killed once: Ray's one retry completes it
        _kill_attempt(tmp_path, 2, 1)  # killed twice: failed with a reason
        _kill_attempt(tmp_path, 2, 2)
    finally:
        driver.join(timeout=120)
    assert "error" not in result, result.get("error")
    assert result["res"].summary.reason.name == "EXHAUSTED"
    with opened(store_url) as st:
        trials = {t.params["x"]: t for t in st.get_trials(st.get_study("killed").study_id)}
    assert len(trials) == 4 and sorted(t.number for t in trials.values()) == [0, 1, 2, 3]
    assert len(_pids(tmp_path, 1)) == 2 and trials[1].state is TrialState.COMPLETE
    assert trials[1].metrics["x_seen"] == 1
    assert len(_pids(tmp_path, 2)) == 2 and trials[2].state is TrialState.FAILED
    assert "worker process died" in (trials[2].error or "")
    assert trials[0].state is TrialState.COMPLETE and trials[3].state is TrialState.COMPLETE


CLUSTER = textwrap.dedent(r"""
    import json, os, sys, threading, time
    os.environ["RAY_AUTH_MODE"] = "disabled"
    import ray
    from ray.cluster_utils import Cluster
    from hypersweep.orchestrate import run_sweep
    from hypersweep.store import opened

    folder, url = sys.argv[1], sys.argv[2]
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    doomed = cluster.add_node(num_cpus=2)
    ray.init(address=cluster.address)
    cluster.wait_for_nodes()
    removed = {}

    def remove_when_busy():
        end = time.time() + 60
        while time.time() < end:
            mine = [f for f in os.listdir(folder) if f.startswith("ran-") and f.endswith(doomed.node_id)]
            if mine:
                removed["xs"] = sorted(int(f.split("-")[1]) for f in mine)
                cluster.remove_node(doomed)
                return
            time.sleep(0.05)

    remover = threading.Thread(target=remove_when_busy)
    remover.start()
    res = run_sweep(os.path.join(folder, "sweep.yaml"), store=url)
    remover.join()
    with opened(url) as st:
        trials = st.get_trials(st.get_study("nodes").study_id)
    print("RESULT " + json.dumps({
        "status": res.status.value,
        "doomed": doomed.node_id,
        "removed_xs": removed.get("xs"),
        "trials": [{"number": t.number, "state": t.state.value, "x": t.params["x"], "node": t.ray_node_id,
                    "x_seen": t.metrics.get("x_seen")} for t in trials],
    }))
    ray.shutdown()
    cluster.shutdown()
""")


@pytest.mark.slow
def test_node_removed_mid_sweep_its_trials_rerun_on_another_node(make_sweep, tmp_path):
    make_sweep("""
        name: nodes
        objective: {metric: loss, goal: minimize}
        strategy: grid
        budget: {parallel: 4}
        trial: {function: "fns:node_marker"}
        parameters:
          x: {type: int, low: 0, high: 5, step: 1}
          sleep: {value: 2.0}
    """)
    url = f"sqlite:///{tmp_path / 'hs.db'}"
    proc = subprocess.run(
        [sys.executable, "-c", CLUSTER, str(tmp_path), url],
        capture_output=True,
        text=True,
        timeout=240,
        env=ENV,
        cwd=tmp_path,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(line[len("RESULT ") :])
    assert out["removed_xs"], "no trial ran on the node before it was removed"
    trials = out["trials"]
    assert out["status"] == "finished"
    assert sorted(t["number"] for t in trials) == list(range(6))
    assert all(t["state"] == "complete" and t["x_seen"] == t["x"] for t in trials)
    by_x = {t["x"]: t for t in trials}
    for x in out["removed_xs"]:  # retried, and finished on a node that survived
        assert by_x[x]["node"] != out["doomed"]
        assert len(list(tmp_path.glob(f"ran-{x}-*"))) == 2
