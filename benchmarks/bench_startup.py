"""Start-up: from exec'ing the command to the first trial's body, and from the last trial to the exit.

Each run is a fresh process (``python -m hypersweep.cli run ...``, a Ray Tune script, an Optuna script)
started with ``subprocess.Popen``; the time of the exec is taken just before it. The trial writes
``time.time()`` when its body starts and when it ends (the trial's own clock, not a store's timestamps),
so "first trial" is body start minus exec, and "exit" is the process's end minus the last trial body's end
(its result still has to reach the driver and be recorded: this bounds "exit after the last trial is
recorded" from above). Two trials of a trivial function, one at a time, 1 CPU each:

- hypersweep on a warm cluster: a Ray head of the benchmark's own (``ray start --head`` on free ports,
  2 CPUs), the sweep run with ``--address`` (its folder shipped as the working directory), SQLite store;
- hypersweep with a fresh local Ray (no ``--address``: the driver starts a private Ray of 2 CPUs);
- Ray Tune ``Tuner.fit()``, on the same warm head (``ray.init(address=...)``) and with a fresh local Ray;
- Optuna ``study.optimize`` in memory (no cluster: the trial runs in the driver);
- Ray alone, the floor under hypersweep's figures: a script that joins the warm head with its folder as
  the ``working_dir`` (what hypersweep ships) or starts a local Ray, then runs the trials as plain tasks;
  and one that joins the warm head with no ``working_dir``: the difference is what shipping the folder costs
  (Ray starts the job's workers through its runtime-env set-up).

Each figure is the median of several runs (``--quick``: 3, else 7), systems interleaved run by run so a
busy machine's load hits them alike. Targets: first trial <= 2.5 s warm, <= 6 s fresh; exit <= 0.5 s.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RUNS = 7
QUICK_RUNS = 3
TARGET_WARM_S = 2.5
TARGET_FRESH_S = 6.0
TARGET_EXIT_S = 0.5
TRIALS = 2

HS_WARM = "hypersweep, warm cluster (--address)"
HS_FRESH = "hypersweep, fresh local Ray"
TUNE_WARM = "Ray Tune, warm cluster"
TUNE_FRESH = "Ray Tune, fresh local Ray"
OPTUNA = "Optuna, in memory (no Ray)"
RAY_WARM = "Ray alone, warm cluster: join with the sweep folder as working_dir, one task"
RAY_WARM_BARE = "Ray alone, warm cluster: join with no working_dir, one task"
RAY_FRESH = "Ray alone, fresh local Ray: ray.init(), one task"
SYSTEMS = (HS_WARM, HS_FRESH, TUNE_WARM, TUNE_FRESH, OPTUNA, RAY_WARM, RAY_WARM_BARE, RAY_FRESH)

_MARK = """
import time as _t


def _mark(kind):
    with open({marks!r}, "a") as f:
        f.write(f"{{kind}} {{_t.time():.6f}}\\n")
"""

_FNS = (
    _MARK
    + """

def f(params):
    _mark("start")
    loss = (params["x"] - 3) ** 2
    _mark("end")
    return {{"loss": loss}}
"""
)

_SWEEP = """name: startup
objective: {metric: loss, goal: minimize}
strategy: random
seed: 1
budget: {trials: TRIALS, parallel: 1}
trial: {function: "fns:f"}
parameters:
  x: {type: float, low: 0, high: 6}
""".replace("TRIALS", str(TRIALS))

_TUNE = (
    _MARK
    + """
import sys

import ray
from ray import tune

if len(sys.argv) > 1:
    ray.init(address=sys.argv[1], logging_level="WARNING")
else:
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")


def trainable(config):
    _mark("start")
    loss = (config["x"] - 3) ** 2
    _mark("end")
    return {{"loss": loss}}


tuner = tune.Tuner(
    tune.with_resources(trainable, {{"cpu": 1}}),
    param_space={{"x": tune.uniform(0, 6)}},
    tune_config=tune.TuneConfig(num_samples={trials}, max_concurrent_trials=1, metric="loss", mode="min"),
    run_config=tune.RunConfig(storage_path={storage!r}, verbose=0),
)
tuner.fit()
"""
)

# What Ray itself takes for the same start: join (shipping the folder, as hypersweep does on a cluster) or
# start a local Ray, then run one task of 1 CPU that marks its start: the floor under hypersweep's figure.
_RAY = (
    _MARK
    + """
import os
import sys

import ray

if len(sys.argv) > 2:  # "bare": what shipping the folder costs is the difference from the row above
    ray.init(address=sys.argv[1], logging_level="WARNING")
elif len(sys.argv) > 1:
    ray.init(address=sys.argv[1], runtime_env={{"working_dir": os.getcwd()}}, logging_level="WARNING")
else:
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")


@ray.remote(num_cpus=1)
def trial(x):
    _mark("start")
    loss = (x - 3) ** 2
    _mark("end")
    return loss


for i in range({trials}):
    ray.get(trial.remote(float(i)))
"""
)

_OPTUNA = (
    _MARK
    + """
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial):
    x = trial.suggest_float("x", 0, 6)
    _mark("start")
    loss = (x - 3) ** 2
    _mark("end")
    return loss


optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1)).optimize(objective, n_trials={trials})
"""
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _own_head() -> Iterator[tuple[str, dict[str, str]]]:
    """A Ray head of this benchmark's own on free ports (others may run Ray on this machine); stopped by
    its process group, never with ``ray stop``."""
    ray_bin = str(Path(sys.executable).with_name("ray"))
    port = _free_port()
    flags = (
        "dashboard-agent-listen-port",
        "dashboard-agent-grpc-port",
        "metrics-export-port",
        "runtime-env-agent-port",
        "node-manager-port",
        "object-manager-port",
        "ray-client-server-port",
    )
    temp = Path(f"/tmp/hsb-{uuid.uuid4().hex[:6]}")
    env = dict(os.environ, RAY_AUTH_MODE="disabled")
    env.pop("RAY_ADDRESS", None)
    argv = [ray_bin, "start", "--head", "--block", "--num-cpus", "2", "--port", str(port)]
    argv += ["--include-dashboard", "false", "--temp-dir", str(temp)]
    argv += [f"--{flag}={_free_port()}" for flag in flags]
    temp.mkdir()
    log = temp / "head.log"
    proc = subprocess.Popen(
        argv, env=env, start_new_session=True, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    try:
        deadline = time.time() + 300
        while b"Ray runtime started" not in log.read_bytes():
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the benchmark's Ray head did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", env
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        current = Path("/tmp/ray/ray_current_cluster")
        if current.exists() and current.read_text().strip().endswith(f":{port}"):
            current.unlink()
        shutil.rmtree(temp, ignore_errors=True)


def _measure(argv: list[str], cwd: Path, env: dict[str, str], marks: Path) -> dict[str, float]:
    marks.unlink(missing_ok=True)
    t0 = time.time()
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    t_exit = time.time()
    if p.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed ({p.returncode}): {p.stderr[-2000:]}")
    rows = [ln.split() for ln in marks.read_text().splitlines()]
    starts = sorted(float(t) for k, t in rows if k == "start")
    ends = sorted(float(t) for k, t in rows if k == "end")
    if len(starts) != TRIALS:
        raise RuntimeError(f"{argv[:4]}: {len(starts)} trials ran, expected {TRIALS}")
    return {"first_trial_s": starts[0] - t0, "exit_s": t_exit - ends[-1], "total_s": t_exit - t0}


def _setups(base: Path, address: str, env: dict[str, str]) -> dict[str, Callable[[], dict[str, float]]]:
    py = sys.executable
    out: dict[str, Callable[[], dict[str, float]]] = {}
    src = os.environ.get("HYPERSWEEP_BENCH_SRC") or str(Path(__file__).resolve().parents[1] / "src")
    hs_env = dict(env, PYTHONPATH=os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p))
    local_env = dict(hs_env)
    local_env.pop("RAY_ADDRESS", None)
    for label, extra in ((HS_WARM, ["--address", address]), (HS_FRESH, [])):
        d = base / label.split(",")[1].strip().split()[0]
        d.mkdir()
        marks = d / "marks.txt"
        (d / "fns.py").write_text(_FNS.format(marks=str(marks)))
        (d / "s.yaml").write_text(_SWEEP)

        def hs(d: Path = d, marks: Path = marks, extra: list[str] = extra) -> dict[str, float]:
            for f in d.glob("hypersweep.db*"):
                f.unlink()
            shutil.rmtree(d / "artifacts", ignore_errors=True)
            argv = [py, "-m", "hypersweep.cli", "run", "s.yaml", "--quiet", *extra]
            return _measure(argv, d, local_env, marks)

        out[label] = hs
    for label, args in ((TUNE_WARM, [address]), (TUNE_FRESH, [])):
        d = base / ("tune-" + ("warm" if args else "fresh"))
        d.mkdir()
        marks = d / "marks.txt"
        (d / "t.py").write_text(_TUNE.format(marks=str(marks), trials=TRIALS, storage=str(d / "results")))

        def tune(d: Path = d, marks: Path = marks, args: list[str] = args) -> dict[str, float]:
            shutil.rmtree(d / "results", ignore_errors=True)
            return _measure([py, str(d / "t.py"), *args], d, local_env, marks)

        out[label] = tune
    for label, folder, args in (
        (RAY_WARM, "ray-warm", [address]),
        (RAY_WARM_BARE, "ray-bare", [address, "bare"]),
        (RAY_FRESH, "ray-fresh", []),
    ):
        d = base / folder
        d.mkdir()
        marks = d / "marks.txt"
        (d / "r.py").write_text(_RAY.format(marks=str(marks), trials=TRIALS))

        def bare(d: Path = d, marks: Path = marks, args: list[str] = args) -> dict[str, float]:
            return _measure([py, str(d / "r.py"), *args], d, local_env, marks)

        out[label] = bare
    d = base / "optuna"
    d.mkdir()
    marks = d / "marks.txt"
    (d / "o.py").write_text(_OPTUNA.format(marks=str(marks), trials=TRIALS))
    out[OPTUNA] = lambda: _measure([py, str(d / "o.py")], d, local_env, marks)
    return out


def run(quick: bool = False) -> dict[str, Any]:
    try:
        import ray.tune  # noqa: F401 - the bench extra
    except ImportError:
        tune_ok = False
    else:
        tune_ok = True
    runs = QUICK_RUNS if quick else RUNS
    samples: dict[str, list[dict[str, float]]] = {s: [] for s in SYSTEMS}
    errors: dict[str, str] = {}
    only = [s for s in os.environ.get("HYPERSWEEP_BENCH_STARTUP_ONLY", "").split(",") if s]
    for label in SYSTEMS:
        if only and not any(o in label for o in only):
            errors[label] = "not selected (HYPERSWEEP_BENCH_STARTUP_ONLY)"
    with tempfile.TemporaryDirectory(prefix="hs-startup-") as tmp, contextlib.ExitStack() as stack:
        address, env = "", dict(os.environ, RAY_AUTH_MODE="disabled")
        if any(w not in errors for w in (HS_WARM, TUNE_WARM, RAY_WARM, RAY_WARM_BARE)):
            try:
                address, env = stack.enter_context(_own_head())
            except RuntimeError as e:  # the warm-cluster rows need it; the others still run
                for w in (HS_WARM, TUNE_WARM, RAY_WARM, RAY_WARM_BARE):
                    errors[w] = str(e)[-300:]
        setups = _setups(Path(tmp), address, env)
        for label in SYSTEMS:  # a warm-up of each: page cache, compiled bytecode
            if label in errors:
                continue
            if label.startswith("Ray Tune") and not tune_ok:
                errors[label] = "ray[tune] is not installed (pip install 'hypersweep[bench]')"
                continue
            try:
                setups[label]()
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                errors[label] = str(e)[-500:]
        for _ in range(runs):
            for label in SYSTEMS:
                if label not in errors:
                    try:
                        samples[label].append(setups[label]())
                    except (RuntimeError, subprocess.TimeoutExpired) as e:
                        errors[label] = f"a measured run failed: {str(e)[-400:]}"
    rows = []
    for label in SYSTEMS:
        s = samples[label]
        if not s:
            rows.append({"system": label, "skipped": errors.get(label, "no runs")})
            continue
        rows.append(
            {
                "system": label,
                "runs": len(s),
                "first_trial_s": statistics.median(x["first_trial_s"] for x in s),
                "first_trial_min_s": min(x["first_trial_s"] for x in s),
                "exit_s": statistics.median(x["exit_s"] for x in s),
                "total_s": statistics.median(x["total_s"] for x in s),
            }
        )
    return {
        "rows": rows,
        "trials": TRIALS,
        "targets": {"warm_s": TARGET_WARM_S, "fresh_s": TARGET_FRESH_S, "exit_s": TARGET_EXIT_S},
        "load_average": os.getloadavg(),
    }


def render(results: dict[str, Any]) -> str:
    t = results["targets"]
    target = {HS_WARM: t["warm_s"], HS_FRESH: t["fresh_s"]}
    lines = [
        "## Start-up: exec to the first trial, last trial to exit",
        "",
        f"{results['trials']} trivial trials, one at a time. *First trial*: the trial body's own `time.time()`",
        "at its start minus the time the command was exec'd; *exit*: the process's end minus the last trial",
        "body's end (result delivered and recorded, then shut down). Medians of runs interleaved across",
        f"systems; targets: first trial <= {t['warm_s']} s on a warm cluster, <= {t['fresh_s']} s with a fresh",
        f"local Ray, exit <= {t['exit_s']} s. Load average during the run: "
        + ", ".join(f"{x:.1f}" for x in results.get("load_average", ())),
        "",
        "| system | runs | first trial (median) | first trial (best) | exit after last trial | total |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results["rows"]:
        if "skipped" in r:
            lines.append(f"| {r['system']} | skipped: {r['skipped']} | | | | |")
            continue
        goal = target.get(r["system"])
        mark = "" if goal is None else (" ✓" if r["first_trial_s"] <= goal else " ✗")
        lines.append(
            f"| {r['system']} | {r['runs']} | {r['first_trial_s']:.2f} s{mark} | {r['first_trial_min_s']:.2f} s "
            f"| {r['exit_s']:.2f} s | {r['total_s']:.2f} s |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
