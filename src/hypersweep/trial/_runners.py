"""Function and command trial runners (inside the worker)."""

from __future__ import annotations

import collections
import functools
import importlib
import io
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

import psutil

from hypersweep.errors import Pruned
from hypersweep.spec import args_json, build_argv
from hypersweep.trial._context import TrialContext, TrialInfo, reset_context, set_context
from hypersweep.trial._monitor import SystemMonitor
from hypersweep.trial._protocol import (
    ArtifactLine,
    CheckpointLine,
    Message,
    ProtocolWarning,
    decode,
    parse_line,
)
from hypersweep.trial._result import Channel, TrialRunResult, TrialSpec, error_text, worker_env

__all__ = ["run_command", "run_function"]

LOG_TAIL_BYTES = 64 * 1024
KILL_GRACE_S = 10.0
END_GRACE_S = 1.0  # SIGTERM to SIGKILL for what is left in a finished trial's process group
READER_GRACE_S = 5.0  # how long the result waits for output pipes held open outside the group
MAX_LINE_BYTES = 1 << 20  # a longer line is read (and logged) in pieces
_functions: dict[tuple[str, str], Any] = {}


def _forget_if_elsewhere(module_name: str, workdir: str) -> None:
    """A module of that name imported from another sweep's folder (the same worker or process ran a
    study from there before) is forgotten, so this sweep's own file is imported: ``train:fit`` of one
    folder never runs another folder's ``train.py``."""
    top = module_name.partition(".")[0]
    loaded = sys.modules.get(top)
    origin = getattr(loaded, "__file__", None) if loaded is not None else None
    if origin is None:
        return
    if os.path.commonpath([os.path.realpath(origin), os.path.realpath(workdir)]) == os.path.realpath(workdir):
        return
    if not (os.path.isfile(os.path.join(workdir, top + ".py")) or os.path.isdir(os.path.join(workdir, top))):
        return  # this folder has no such module: the loaded one (an installed package) is the one to use
    for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
        del sys.modules[name]


def _resolve(function: str, workdir: str) -> Any:
    key = (function, workdir)
    fn = _functions.get(key)
    if fn is None:
        module_name, _, attr = function.partition(":")
        if not sys.path or sys.path[0] != workdir:  # this sweep's folder first, as a fresh process has it
            if workdir in sys.path:
                sys.path.remove(workdir)
            sys.path.insert(0, workdir)
        _forget_if_elsewhere(module_name, workdir)
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
    return TrialContext(
        info=info,
        push=push,
        sync=payload.sync_reports,
        artifact_root=payload.artifact_root,
        trial_key=payload.trial_key,
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
    saved_env = {k: os.environ.get(k) for k in payload.env}
    try:
        os.chdir(payload.workdir)
        os.environ.update(payload.env)  # trial.env, for the duration of the call (a worker runs one trial)
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
        _restore_env(saved_env)
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


def _restore_env(saved: Mapping[str, str | None]) -> None:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _inside(path: str, folders: tuple[str, ...]) -> str | None:
    """``path``'s real path when it lies inside one of ``folders`` (symlinks resolved), else None."""
    real = os.path.realpath(path)
    for f in folders:
        base = os.path.realpath(f).rstrip(os.sep) + os.sep
        if real.startswith(base):
            return real
    return None


def _printed_files(
    files: list[tuple[str, str]], inside: tuple[str, ...], problems: list[str]
) -> list[tuple[str, str]]:
    """The files a command trial printed (``hypersweep_artifact`` lines) that may be uploaded: those
    inside the trial's working folder or its own temporary folder, folders expanded file by file;
    each other one is refused with a line in ``problems``. Output is text anyone can forge, so it
    never makes the worker read a file elsewhere on the machine."""
    from hypersweep import artifacts as _artifacts

    out: list[tuple[str, str]] = []
    for name, path in files:
        real = _inside(path, inside)
        if real is None:
            problems.append(
                f"artifact {name!r} ({path}) is outside the trial's folder and $HYPERSWEEP_ARTIFACT_DIR: not stored"
            )
        elif os.path.isdir(real):
            for rel, fp in _artifacts.collect_dir(real):
                if _inside(fp, inside) is None:
                    problems.append(
                        f"artifact {name}/{rel} ({fp}) links outside the trial's folder: not stored"
                    )
                else:
                    out.append((f"{name}/{rel}", fp))
        else:
            out.append((name, real))
    return out


def _store_artifacts(
    payload: TrialSpec,
    ctx: TrialContext,
    result: TrialRunResult,
    extra: list[tuple[str, str]],
    inside: tuple[str, ...] | None = None,
) -> None:
    """Upload the trial's files to the artifact root (from the worker: no shared disk with the driver
    needed for fsspec roots) and hand their records back with the result, whatever the trial's state.

    ``inside``: the folders a command trial's printed files must lie in (see :func:`_printed_files`).
    Checkpoint records the trial handed over are kept only when they name its own blobs under the
    root (``hypersweep.artifacts.accepted_records``)."""
    from hypersweep import artifacts as _artifacts

    problems: list[str] = []
    uploaded = _artifacts.accepted_records(ctx.uploaded, _scope(payload), problems)
    logged = list(ctx.artifacts) if inside is None else _printed_files(list(ctx.artifacts), inside, problems)
    records = _artifacts.upload(
        payload.artifact_root or "",
        payload.study,
        ctx.trial_key,
        extra + logged,
        problems=problems,
    )
    result.artifact_records = list(uploaded) + records
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


def _scope(payload: TrialSpec) -> Any:
    from hypersweep import artifacts as _artifacts

    return _artifacts.trial_scope(payload.artifact_root, payload.study, payload.trial_key, payload.params)


class _OutputReader:
    """Reads a command trial's stdout and stderr (one thread each) to their end, whatever they hold.

    Every line goes to the trial's log; stdout lines are parsed by the protocol (``trial._protocol``), and
    a malformed one adds a warning line to the log instead of stopping the reader, so the child never
    blocks on a full pipe."""

    def __init__(self, ctx: TrialContext, log: _Tail, stop: threading.Event, workdir: str) -> None:
        self.ctx = ctx
        self.ctx_workdir = workdir  # the child's cwd: relative printed paths are taken from there
        self.log = log
        self.stop = stop
        self.pruned = False

    def _out(self, text: str) -> None:
        self.log.add(text)
        self.ctx.add_log(text)

    def _warn(self, stream: str, number: int, message: str) -> None:
        self._out(f"hypersweep: warning: {stream} line {number}: {message}\n")

    def read(self, pipe: IO[bytes] | None, stream: str) -> None:
        if pipe is None:
            return
        with pipe:  # closed at its end: a pipe left to the garbage collector is a ResourceWarning
            self._read(pipe, stream)

    def _read(self, pipe: IO[bytes], stream: str) -> None:
        undecodable = False
        for number, raw in enumerate(iter(functools.partial(pipe.readline, MAX_LINE_BYTES), b""), 1):
            text, ok = decode(raw)
            try:
                self._out(text)
                if not ok and not undecodable:
                    undecodable = True  # once per stream: a program may well print other encodings
                    self._warn(stream, number, "not valid UTF-8 (shown with replacement characters)")
                if stream == "stdout":
                    self._handle(parse_line(text), number)
            except Exception as e:  # noqa: BLE001 - the reader must reach the end of the pipe
                self.log.add(f"hypersweep: warning: {stream} line {number}: {type(e).__name__}: {e}\n")

    def _handle(self, msg: Message | None, number: int) -> None:
        if msg is None:
            return
        if isinstance(msg, ProtocolWarning):
            self._warn("stdout", number, msg.message + "; see docs/sweep-file.md, command trials")
        elif isinstance(msg, CheckpointLine):
            self.ctx.uploaded.extend(msg.records)
        elif isinstance(msg, ArtifactLine):
            path = os.path.join(self.ctx_workdir, msg.path)
            self.ctx.artifacts.append((msg.name or os.path.basename(path.rstrip(os.sep)), path))
        elif self.pruned:
            return
        elif msg.step is None:
            self.ctx.last.update(msg.metrics)
        else:
            try:
                self.ctx.add(msg.step, msg.metrics)
            except Pruned:
                self.pruned = True
                self.stop.set()


def _running_in_group(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies left for init to reap do not)."""
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) == pgid and p.status() != psutil.STATUS_ZOMBIE:
                return True
        except (OSError, psutil.Error):
            continue
    return False


def _end_group(pgid: int) -> None:
    """End what is left of a finished trial's process group: SIGTERM, then SIGKILL after
    ``END_GRACE_S`` for what is still there. Processes that left the group (``setsid``) are not
    touched; see docs/sweep-file.md."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    until = time.monotonic() + END_GRACE_S
    while time.monotonic() < until:
        if not _running_in_group(pgid):
            return
        time.sleep(0.02)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_group(proc: subprocess.Popen[bytes], grace_s: float) -> None:
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
        reader = _OutputReader(ctx, log, stop, payload.workdir)

        try:
            proc = subprocess.Popen(  # argv list, never a shell
                argv,
                cwd=payload.workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # the trial's own process group, killed when the trial ends
            )
        except OSError as e:
            return _finish(ctx, "failed", f"could not start {argv[0]!r}: {e}")

        monitor = _monitor(payload, ctx, channel, proc.pid)
        readers = [
            threading.Thread(target=reader.read, args=(proc.stdout, "stdout"), daemon=True),
            threading.Thread(target=reader.read, args=(proc.stderr, "stderr"), daemon=True),
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
        _end_group(proc.pid)  # what the trial left running (a grandchild holding its stdout) ends with it
        summary = monitor.stop() if monitor is not None else {}
        until = time.monotonic() + READER_GRACE_S  # only a process that left the group (setsid) waits here
        for t in readers:
            t.join(timeout=max(until - time.monotonic(), 0.0))
        tail = log.text()
        if reader.pruned:
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
            files = _artifacts.collect_dir(env["HYPERSWEEP_ARTIFACT_DIR"])
            _store_artifacts(payload, ctx, result, files, inside=(payload.workdir, tmp))
        return result
