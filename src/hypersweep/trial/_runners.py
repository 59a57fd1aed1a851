"""Function and command trial runners (inside the worker)."""

from __future__ import annotations

import collections
import functools
import importlib
import io
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from typing import Any

from hypersweep.errors import Pruned
from hypersweep.spec import args_json, build_argv
from hypersweep.trial._context import TrialContext, TrialInfo, reset_context, set_context
from hypersweep.trial._monitor import SystemMonitor
from hypersweep.trial._result import Channel, TrialRunResult, TrialSpec, error_text, worker_env

__all__ = ["run_command", "run_function"]

LOG_TAIL_BYTES = 64 * 1024
KILL_GRACE_S = 10.0
_functions: dict[tuple[str, str], Any] = {}


def _resolve(function: str, workdir: str) -> Any:
    key = (function, workdir)
    fn = _functions.get(key)
    if fn is None:
        module_name, _, attr = function.partition(":")
        if workdir not in sys.path:
            sys.path.insert(0, workdir)
        module = importlib.import_module(module_name)
        fn = module
        for part in attr.split("."):
            fn = getattr(fn, part)
        _functions[key] = fn
    return fn


def _context(payload: TrialSpec, channel: Channel | None) -> TrialContext:
    info = TrialInfo(
        study=payload.study, number=payload.number, params=payload.nested_params, seed=payload.seed
    )
    push = functools.partial(channel.push, payload.trial_id) if channel is not None else None
    key = str(payload.number) if payload.number is not None else f"rerun-{payload.trial_id}"
    return TrialContext(
        info=info, push=push, sync=payload.sync_reports, artifact_root=payload.artifact_root, trial_key=key
    )


def _finish(ctx: TrialContext, state: str, error: str | None = None) -> TrialRunResult:

    points = ctx.take_pending()
    return TrialRunResult(
        state=state,
        metrics=dict(ctx.last),
        points=points,
        error=error,
        artifacts=list(ctx.artifacts),
        pushed=ctx.pushed,
    )


def _returned_metrics(value: Any, objective: str | None) -> dict[str, float]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            try:
                out[str(k)] = float(v)
            except (TypeError, ValueError):
                raise TypeError(f"the trial function returned {k!r}={v!r}; metrics must be numbers") from None
        return out
    try:
        return {objective or "value": float(value)}
    except (TypeError, ValueError):
        raise TypeError(
            f"the trial function returned a {type(value).__name__}; return a dict of metrics or a number"
        ) from None


def _gpu_indices(channel: Channel | None) -> list[int]:
    ids: list[str] = []
    if channel is not None:
        ids = list(channel.placement().get("gpu_ids", ()))
    elif os.environ.get("CUDA_VISIBLE_DEVICES"):
        ids = os.environ["CUDA_VISIBLE_DEVICES"].split(",")
    return [int(i) for i in ids if str(i).strip().isdigit()]


def _monitor(
    payload: TrialSpec, ctx: TrialContext, channel: Channel | None, root: Any
) -> SystemMonitor | None:
    if not payload.monitoring_interval_s:
        return None
    return SystemMonitor(root, payload.monitoring_interval_s, _gpu_indices(channel), ctx.add_points).start()


class _Tee(io.TextIOBase):
    """Writes to the original stream and keeps the tail for the trial's log."""

    def __init__(self, stream: Any, tail: _Tail, ctx: TrialContext) -> None:
        self._stream = stream
        self._tail = tail
        self._ctx = ctx

    def write(self, text: str) -> int:
        self._tail.add(text)
        self._ctx.add_log(text)
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")


def run_function(payload: TrialSpec, channel: Channel | None) -> TrialRunResult:

    fn = _resolve(payload.function or "", payload.workdir)
    ctx = _context(payload, channel)
    token = set_context(ctx)
    cwd = os.getcwd()
    log = _Tail()
    out, err = sys.stdout, sys.stderr
    monitor = _monitor(payload, ctx, channel, os.getpid())
    state, error, returned = "complete", None, {}
    try:
        os.chdir(payload.workdir)
        sys.stdout, sys.stderr = _Tee(out, log, ctx), _Tee(err, log, ctx)
        value = fn(dict(payload.nested_params))
        returned = _returned_metrics(value, payload.objective)
    except Pruned:
        state = "pruned"
    except Exception as e:  # noqa: BLE001 - the trial's own exception is recorded, the sweep goes on
        state, error = "failed", error_text(e)
    except SystemExit as e:  # the trial's sys.exit() ends the trial, as an exit code ends a command trial
        if e.code not in (None, 0):
            state, error = "failed", f"the trial function called sys.exit({e.code!r})"
    finally:
        sys.stdout, sys.stderr = out, err
        os.chdir(cwd)
        reset_context(token)
    summary = monitor.stop() if monitor is not None else {}
    result = _finish(ctx, state, error)
    result.metrics.update(returned)
    result.metrics.update(summary)
    result.log_tail = log.text() or None
    if payload.artifact_root:
        _store_artifacts(payload, ctx, result, [])
    return result


def _store_artifacts(
    payload: TrialSpec, ctx: TrialContext, result: TrialRunResult, extra: list[tuple[str, str]]
) -> None:
    """Upload the trial's files to the artifact root (from the worker: no shared disk with the driver
    needed for fsspec roots) and hand their records back with the result, whatever the trial's state."""
    from hypersweep import artifacts as _artifacts

    problems: list[str] = []
    records = _artifacts.upload(
        payload.artifact_root or "",
        payload.study,
        ctx.trial_key,
        extra + list(ctx.artifacts),
        problems=problems,
    )
    result.artifact_records = list(ctx.uploaded) + records
    if problems:
        note = "artifacts not stored:\n" + "\n".join(f"  {p}" for p in problems) + "\n"
        result.log_tail = (result.log_tail or "") + note


class _Tail:
    """Keeps the last ``LOG_TAIL_BYTES`` characters of a stream."""

    def __init__(self) -> None:
        self._chunks: collections.deque[str] = collections.deque()
        self._size = 0
        self.lock = threading.Lock()

    def add(self, text: str) -> None:
        with self.lock:
            self._chunks.append(text)
            self._size += len(text)
            while self._size > LOG_TAIL_BYTES and len(self._chunks) > 1:
                self._size -= len(self._chunks.popleft())

    def text(self) -> str:
        with self.lock:
            return "".join(self._chunks)[-LOG_TAIL_BYTES:]


def _parse_line(line: str) -> dict[str, Any] | None:
    s = line.strip()
    if not (s.startswith("{") and s.endswith("}")):
        return None
    try:
        obj = json.loads(s)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _kill_group(proc: subprocess.Popen[str], grace_s: float) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def run_command(payload: TrialSpec, channel: Channel | None) -> TrialRunResult:

    ctx = _context(payload, channel)
    with tempfile.TemporaryDirectory(prefix="hypersweep-trial-") as tmp:
        args_file = os.path.join(tmp, "args.json")
        with open(args_file, "w") as f:
            f.write(args_json(payload.nested_params))  # what W&B's agent writes: ${args_json}
        env = dict(os.environ)
        env.update(worker_env(payload, artifact_dir=os.path.join(tmp, "artifacts")))
        os.makedirs(env["HYPERSWEEP_ARTIFACT_DIR"], exist_ok=True)
        if payload.wandb_capture:  # `import wandb` finds hypersweep's offline stand-in first
            from hypersweep.trial._wandb import SHIM_PATH

            env["PYTHONPATH"] = os.pathsep.join(p for p in (SHIM_PATH, env.get("PYTHONPATH")) if p)
            env["WANDB_MODE"] = "offline"
            env["WANDB_SILENT"] = "true"
        ckdir = os.path.join(tmp, "checkpoint")
        os.makedirs(ckdir)
        env["HYPERSWEEP_CHECKPOINT_DIR"] = ckdir
        env["HYPERSWEEP_TRIAL_KEY"] = ctx.trial_key
        if payload.artifact_root:
            from hypersweep import artifacts as _artifacts

            env["HYPERSWEEP_ARTIFACT_ROOT"] = payload.artifact_root
            _artifacts.restore_into(payload.artifact_root, payload.study, payload.nested_params, ckdir)
        argv = build_argv(
            payload.command or (),
            payload.params,
            config=payload.nested_params,
            program=payload.program,
            interpreter=sys.executable,
            args_json_file=args_file,
            environ=env,
        )
        log = _Tail()
        stop = threading.Event()
        pruned = threading.Event()
        final: dict[str, float] = {}

        try:
            proc = subprocess.Popen(  # argv list, never a shell
                argv,
                cwd=payload.workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
                start_new_session=True,
            )
        except OSError as e:
            return _finish(ctx, "failed", f"could not start {argv[0]!r}: {e}")

        def read_stdout() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                log.add(line)
                ctx.add_log(line)
                obj = _parse_line(line)
                if obj is None:
                    continue
                if "hypersweep_checkpoint" in obj:
                    from hypersweep.artifacts import record_from_json

                    ctx.uploaded.extend(record_from_json(r) for r in obj["hypersweep_checkpoint"])
                    continue
                if "hypersweep_artifact" in obj:
                    ctx.artifacts.append(
                        (
                            obj.get("name") or os.path.basename(obj["hypersweep_artifact"]),
                            obj["hypersweep_artifact"],
                        )
                    )
                    continue
                if pruned.is_set():
                    continue
                step = obj.pop("step", None)
                metrics = {}
                for k, v in obj.items():
                    if (
                        isinstance(v, int | float)
                        and not isinstance(v, bool)
                        or isinstance(v, str)
                        and v in ("nan", "inf", "-inf", "NaN")
                    ):
                        metrics[k] = float(v)
                if not metrics:
                    continue
                if step is None:
                    final.update(metrics)
                    ctx.last.update(metrics)
                    continue
                try:
                    ctx.add(int(step), metrics)
                except Pruned:
                    pruned.set()
                    stop.set()

        def read_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                log.add(line)
                ctx.add_log(line)

        monitor = _monitor(payload, ctx, channel, proc.pid)
        readers = [
            threading.Thread(target=read_stdout, daemon=True),
            threading.Thread(target=read_stderr, daemon=True),
        ]
        for t in readers:
            t.start()
        deadline = time.monotonic() + payload.timeout_s if payload.timeout_s else math.inf
        timed_out = False
        try:
            while proc.poll() is None:
                if stop.wait(0.05):
                    _kill_group(proc, KILL_GRACE_S)
                    break
                if time.monotonic() > deadline:
                    timed_out = True
                    _kill_group(proc, 1.0)
                    break
        except BaseException:  # cancelled (KeyboardInterrupt from Ray) or the worker is going down
            _kill_group(proc, 1.0)
            raise
        rc = proc.wait()
        summary = monitor.stop() if monitor is not None else {}
        for t in readers:
            t.join(timeout=5)
        tail = log.text()
        if pruned.is_set():
            result = _finish(ctx, "pruned")
        elif timed_out:
            result = _finish(
                ctx, "failed", f"timed out after {payload.timeout_s:g}s; the process group was killed"
            )
        elif rc != 0:
            how = f"killed by signal {-rc}" if rc < 0 else f"exited with code {rc}"
            last = "\n".join(tail.strip().splitlines()[-20:])
            result = _finish(ctx, "failed", f"command {how}\n{last}")
        else:
            result = _finish(ctx, "complete")
        result.log_tail = tail
        result.metrics.update(summary)
        if payload.artifact_root:
            from hypersweep import artifacts as _artifacts

            ctx.uploaded.extend(
                _artifacts.save_checkpoint_dir(
                    payload.artifact_root, payload.study, payload.nested_params, ctx.trial_key, ckdir
                )
            )
            _store_artifacts(payload, ctx, result, _artifacts.collect_dir(env["HYPERSWEEP_ARTIFACT_DIR"]))
        return result
