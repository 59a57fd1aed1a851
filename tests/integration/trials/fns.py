"""Trial functions used by the integration tests."""

from __future__ import annotations

import ctypes
import json
import math
import os
import time

import hypersweep


def quadratic(params: dict) -> dict:
    x = params["x"]
    return {"loss": (x - 3.0) ** 2, "seed": float(hypersweep.trial_seed())}


def grid_fn(params: dict) -> dict:
    time.sleep(0.05)
    return {"score": float(params["a"]) * 10 + float(params["b"])}


def raises(params: dict) -> dict:
    if params["x"] > 0.5:
        raise ValueError("x too large for this model")
    return {"loss": params["x"]}


def always_raises(params: dict) -> dict:
    raise RuntimeError("broken trial function")


def segfault(params: dict) -> dict:
    if params["x"] > 0.5:
        ctypes.string_at(0)  # segmentation fault
    return {"loss": params["x"]}


def exits(params: dict) -> dict:
    if params["x"] > 0.5:
        os._exit(3)
    return {"loss": params["x"]}


def no_objective(params: dict) -> dict:
    return {"other": 1.0}


def nan_objective(params: dict) -> dict:
    return {"loss": math.nan}


def curve(params: dict) -> dict:
    """A learning curve: 'good' trials improve, 'bad' ones stay flat and high; median pruning stops them."""
    quality = params["quality"]
    value = 1.0
    for step in range(20):
        value = 1.0 / (1 + step * quality)
        hypersweep.report(step, loss=value)
        time.sleep(0.03)
    return {"loss": value}


def sleeper(params: dict) -> dict:
    time.sleep(params.get("sleep", 0.5))
    return {"loss": params["x"]}


def gpu_probe(params: dict) -> dict:
    time.sleep(2.5)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    info = hypersweep.current_trial()
    return {"loss": float(info.number), "n_visible": float(len([v for v in visible.split(",") if v]))}


def env_reader(params: dict) -> dict:
    return {"loss": float(os.environ.get("HS_TEST_OFFSET", "0")) + params["x"]}


def flaky(params: dict) -> dict:
    """Fails while a file named fail.flag is in the working directory (the sweep's folder)."""
    if os.path.exists("fail.flag"):
        raise RuntimeError("flag file present")
    return {"loss": params["x"]}


def fails_once(params: dict) -> dict:
    """Fails the first time each params are seen, then succeeds (a marker file per params)."""
    marker = f"seen-{params['x']}"
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("transient failure")
    return {"loss": params["x"]}


def slow_identity(params: dict) -> dict:
    time.sleep(params.get("sleep", 0.2))
    return {"loss": float(params["x"]), "x_seen": float(params["x"])}


def pid_then_sleep(params: dict) -> dict:
    """Appends its worker's pid to pids-<x>.txt in the sweep folder, then sleeps (a test kills it)."""
    with open(f"pids-{params['x']}.txt", "a") as f:
        f.write(f"{os.getpid()}\n")
    time.sleep(params.get("sleep", 1.0))
    return {"loss": float(params["x"]), "x_seen": float(params["x"])}


def node_marker(params: dict) -> dict:
    """Leaves ran-<x>-<node id> in the sweep folder for each attempt, then sleeps (a test removes nodes)."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    open(f"ran-{params['x']}-{node}", "w").close()
    time.sleep(params.get("sleep", 1.0))
    return {"loss": float(params["x"]), "x_seen": float(params["x"])}


def reads_data(params: dict) -> dict:
    """Reads data.txt (declared in trial.data) and an environment variable."""
    with open("data.txt") as f:
        base = float(f.read().strip() or 0)
    return {"loss": base + params["x"] + float(os.environ.get("HS_TEST_OFFSET", "0"))}


def chatty(params: dict) -> dict:
    """Prints a line every 0.3 s for a few seconds."""
    for i in range(int(params.get("lines", 10))):
        print(f"line {i}", flush=True)
        time.sleep(0.3)
    return {"loss": 0.0}


def two_artifacts(params: dict) -> dict:
    import tempfile

    out = tempfile.mkdtemp()  # trials run at once in one working folder: files of their own
    with open(os.path.join(out, "model.txt"), "w") as f:
        f.write(f"model for x={params['x']}\n")
    with open(os.path.join(out, "metrics.json"), "w") as f:
        f.write(json.dumps({"x": params["x"]}) + "\n")
    hypersweep.log_artifact(os.path.join(out, "model.txt"))
    hypersweep.log_artifact(os.path.join(out, "metrics.json"), name="eval/metrics.json")
    return {"loss": params["x"]}


def resumable(params: dict) -> dict:
    """Saves a checkpoint, then (first time) sleeps until killed; a rerun restores it and finishes."""
    restored = hypersweep.restore_checkpoint()
    if restored is not None:
        with open(restored) as f:
            epoch = int(f.read())
        return {"loss": params["x"], "resumed_from_epoch": float(epoch)}
    with open("state.txt", "w") as f:
        f.write("7")
    hypersweep.checkpoint("state.txt")
    time.sleep(120)
    return {"loss": params["x"], "resumed_from_epoch": -1.0}


def task_marker(params: dict) -> dict:
    """A very short trial that says which Ray task ran it (chunking test); x == 70 kills its worker."""
    import ray

    if params["x"] == 70:
        os._exit(3)
    task = ray.get_runtime_context().get_task_id() or "0"
    return {"loss": float(params["x"]), "task": float(int(task[:12], 16))}


def early_reports(params: dict) -> dict:
    """Reports before the driver's hub exists (it starts once a trial runs for a second), then after."""
    for step in range(3):
        hypersweep.report(step, loss=1.0 / (step + 1))
    time.sleep(2.5)
    for step in range(3, 5):
        hypersweep.report(step, loss=1.0 / (step + 1))
    return {"loss": 0.2}


def calls_sys_exit(params: dict) -> dict:
    """Notes each run in runs.log, reports, then x == 1 calls sys.exit(0) and x == 2 sys.exit(5)."""
    import sys

    with open("runs.log", "a") as f:
        f.write(f"{params['x']}\n")
    hypersweep.report(0, loss=float(params["x"]))
    if params["x"] == 1:
        sys.exit(0)
    if params["x"] == 2:
        sys.exit(5)
    return {"loss": float(params["x"])}


class Halt(BaseException):
    """A BaseException that is not an Exception (some libraries raise such to unwind everything)."""


def halts_on_one(params: dict) -> dict:
    if params["x"] == 1:
        raise Halt("unwinding everything")
    return {"loss": float(params["x"])}


def trial_env_reader(params: dict) -> dict:
    """Reads the variables of the sweep's trial.env."""
    return {
        "loss": float(os.environ["HS_TRIAL_TOKEN"]) + params["x"],
        "threads": float(os.environ["OMP_NUM_THREADS"]),
    }


def two_goals(params: dict) -> dict:
    """Two objectives at odds: `acc` grows with x, `size` too (a bigger model is better and costs more)."""
    time.sleep(params.get("sleep", 0.0))
    x, y = float(params["x"]), float(params.get("y", 0.0))
    out = {"acc": x - 0.2 * y, "size": x * x + y, "x_seen": x}
    if params.get("drop") == "size":
        del out["size"]
    elif params.get("drop") == "nan":
        out["size"] = math.nan
    return out


def bowl(params: dict) -> dict:
    """A smooth bowl with its minimum at (0.3, 0.6), and `mem` (x * 100) for a constraint."""
    time.sleep(params.get("sleep", 0.0))
    x, y = float(params["x"]), float(params["y"])
    return {"loss": (x - 0.3) ** 2 + (y - 0.6) ** 2, "mem": 100.0 * x, "size": x + y}
